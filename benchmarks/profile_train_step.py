"""Per-layer forward / backward medians of one batch-100 train step (Adam) of SimpleConvNet or
DeepConvNet on the native backend, plus the whole step's median and minimum, in ms.

    python benchmarks/profile_train_step.py [float32|float64] [simple|deep] [--threads N]

On a shared machine compare runs by ratios taken in the same session, and repeat them.
"""

import argparse
import time

import numpy as np

import fastscratch
from fastscratch.deep_convnet import DeepConvNet
from fastscratch.optimizer import Adam
from fastscratch.simple_convnet import SimpleConvNet


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dtype", nargs="?", default="float32", choices=["float32", "float64"])
    parser.add_argument("net", nargs="?", default="simple", choices=["simple", "deep"])
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    if args.threads:
        fastscratch.set_num_threads(args.threads)
    dt = np.dtype(args.dtype)
    np.random.seed(0)
    net = SimpleConvNet(dtype=dt) if args.net == "simple" else DeepConvNet(dtype=dt)
    x = np.random.rand(100, 1, 28, 28).astype(dt)
    t = np.random.randint(0, 10, 100)
    opt = Adam()
    layers = list(net.layers.values()) if hasattr(net.layers, "values") else list(net.layers)

    def step():
        opt.update(net.params, net.gradient(x, t))

    for _ in range(3):
        step()
    steps = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        step()
        steps.append(time.perf_counter() - start)
    print(
        f"{args.net} {dt.name} step median {np.median(steps) * 1e3:.2f} ms  "
        f"min {min(steps) * 1e3:.2f}"
    )

    times = {}
    for _ in range(10):
        out = x
        for i, layer in enumerate(layers):
            name = f"{i:2d} {type(layer).__name__}"
            train = type(layer).__name__ in ("Dropout", "BatchNormalization")
            start = time.perf_counter()
            out = layer.forward(out, True) if train else layer.forward(out)
            times.setdefault((name, "f"), []).append(time.perf_counter() - start)
        start = time.perf_counter()
        net.last_layer.forward(out, t)
        dout = net.last_layer.backward(1)
        times.setdefault(("   loss", "fb"), []).append(time.perf_counter() - start)
        for i, layer in reversed(list(enumerate(layers))):
            start = time.perf_counter()
            dout = layer.backward(dout)
            times.setdefault((f"{i:2d} {type(layer).__name__}", "b"), []).append(
                time.perf_counter() - start
            )
    grads = net.gradient(x, t)
    updates = []
    for _ in range(10):
        start = time.perf_counter()
        opt.update(net.params, grads)
        updates.append(time.perf_counter() - start)
    total = 0.0
    for (name, phase), values in times.items():
        total += np.median(values)
        print(f"  {name:<28}{phase:<3}{np.median(values) * 1e3:7.3f} ms")
    print(f"  adam update {np.median(updates) * 1e3:.3f} ms; layers sum {total * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
