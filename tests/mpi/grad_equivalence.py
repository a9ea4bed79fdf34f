"""The weighted average of the gradients of two shards (6 and 7 samples) equals the gradient of
the whole batch of 13 on one process (float64, relative 1e-12), for MultiLayerNet (with weight
decay) and SimpleConvNet; and the averaged gradient is bit-identical on both ranks."""

import numpy as np

import fastscratch.distributed as dist
from fastscratch.multi_layer_net import MultiLayerNet
from fastscratch.simple_convnet import SimpleConvNet
from fastscratch.testing import assert_close

dist.init()
assert dist.size() == 2, dist.size()

nets = {
    "MultiLayerNet": (
        lambda: MultiLayerNet(20, [16, 16], 5, weight_decay_lambda=0.1),
        (13, 20),
    ),
    "SimpleConvNet": (
        lambda: SimpleConvNet(
            input_dim=(1, 10, 10),
            conv_param={"filter_num": 4, "filter_size": 3, "pad": 0, "stride": 1},
            hidden_size=8,
            output_size=5,
            weight_init_std=0.3,
        ),
        (13, 1, 10, 10),
    ),
}
for name, (make, shape) in nets.items():
    np.random.seed(1)  # the same net and data on both ranks
    net = make()
    x = np.random.randn(*shape)
    t = np.random.randint(0, 5, size=shape[0])
    whole = {k: v.copy() for k, v in net.gradient(x, t).items()}
    part = dist.shard(len(x))
    assert part.stop - part.start == (6, 7)[dist.rank()], part
    grads = {k: v.copy() for k, v in net.gradient(x[part], t[part]).items()}
    dist.allreduce_gradients(grads, weight=part.stop - part.start)
    for k in whole:
        assert grads[k].dtype == np.float64
        assert_close(grads[k], whole[k])
    dist.check_in_sync(grads, f"{name}'s averaged gradients")
    if dist.is_root():
        print(f"OK {name}")

try:
    dist.allreduce_gradients({"W": np.ones(2)}, weight=-1)
except ValueError as exc:
    assert "weight must be finite and >= 0, got -1" in str(exc), exc
else:
    raise AssertionError("a negative weight was accepted")
