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

# Bad input names the argument, also on one rank.
for call, kind, words in (
    (lambda: dist.allreduce_gradients([1.0]), TypeError, "grads must be a dict"),
    (lambda: dist.allreduce_gradients({"W": [1.0]}), TypeError, "grads['W'] must be a NumPy"),
    (lambda: dist.broadcast_params({"i": np.arange(3)}), TypeError, "must be a float array"),
    (lambda: dist.shard(-1), ValueError, "n must be an integer >= 0, got -1"),
):
    try:
        call()
    except kind as exc:
        assert words in str(exc), (words, str(exc))
    else:
        raise AssertionError(f"no {kind.__name__} for {words}")
print("OK bad input")

# DistributedTrainer on one rank trains exactly as Trainer, bit for bit (Dropout included).
from fastscratch.multi_layer_net_extend import MultiLayerNetExtend  # noqa: E402
from fastscratch.trainer import Trainer  # noqa: E402

x = np.random.default_rng(0).standard_normal((60, 10))
t = np.arange(60) % 3
ends = []
for cls in (Trainer, dist.DistributedTrainer):
    np.random.seed(5)
    net = MultiLayerNetExtend(10, [8], 3, use_dropout=True)
    cls(net, x, t, x, t, epochs=2, mini_batch_size=10, verbose=False).train()
    ends.append(dist.params_digest(net.params))
assert ends[0] == ends[1], "DistributedTrainer on one rank must train as Trainer"
print("OK trainer on one rank")
