"""Ranks start from different parameters; after broadcast_params the layers hold root's values
(in place), and after several optimizer steps on rank-different data, with the gradients
averaged, every rank's parameters are bit-identical. Float64 and float32 nets."""

import numpy as np

import fastscratch.distributed as dist
from fastscratch.multi_layer_net import MultiLayerNet
from fastscratch.optimizer import Adam, Momentum

dist.init()
assert dist.size() == 2, dist.size()

for dtype, optimizer in ((np.float64, Adam(lr=0.01)), (np.float32, Momentum(lr=0.05))):
    np.random.seed(100 + dist.rank())  # different on each rank on purpose
    net = MultiLayerNet(12, [10, 10], 3, weight_decay_lambda=0.01, dtype=dtype)
    digests = dist.init().allgather(dist.params_digest(net.params))
    assert digests[0] != digests[1], "the ranks should start apart for this test"
    w1 = net.params["W1"]
    dist.broadcast_params(net.params)
    assert net.params["W1"] is w1 and net.layers["Affine1"].W is w1, "must update in place"
    dist.check_in_sync(net.params, "parameters after broadcast_params")
    for _ in range(5):
        x = np.random.randn(8, 12).astype(dtype)  # rank-different data
        t = np.random.randint(0, 3, size=8)
        grads = net.gradient(x, t)
        dist.allreduce_gradients(grads)
        optimizer.update(net.params, grads)
    digests = dist.init().allgather(dist.params_digest(net.params))
    assert digests[0] == digests[1], digests
    if dist.is_root():
        print(f"OK {np.dtype(dtype).name}")

# Drift is caught: one rank nudges one weight by one ulp; every rank must raise.
if dist.rank() == 1:
    net.params["W2"].flat[0] = np.nextafter(net.params["W2"].flat[0], np.inf)
try:
    dist.check_in_sync(net.params)
except RuntimeError as exc:
    assert "differ between ranks" in str(exc), exc
else:
    raise AssertionError("check_in_sync missed a one-ulp drift")
if dist.is_root():
    print("OK drift detected")
