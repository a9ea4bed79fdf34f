"""One process without mpirun: rank 0 of 1, and every collective a no-op."""

import numpy as np

import fastscratch.distributed as dist

comm = dist.init()
assert dist.init() is comm, "init() must be idempotent"
assert (dist.rank(), dist.size(), dist.is_root()) == (0, 1, True)
assert dist.shard(7) == slice(0, 7)

params = {"W": np.arange(6.0).reshape(2, 3), "b": np.ones(3, dtype=np.float32)}
before = {k: v.copy() for k, v in params.items()}
assert dist.broadcast_params(params) is params
grads = {k: v * 0.1 for k, v in params.items()}
expected = {k: v.copy() for k, v in grads.items()}
dist.allreduce_gradients(grads, weight=7)
for k in params:
    assert np.array_equal(params[k], before[k]), k
    assert np.array_equal(grads[k], expected[k]), k
dist.check_in_sync(params)
print("OK single")
