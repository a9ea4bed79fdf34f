"""Train steps called from two Python threads of one process: the main thread and a persistent
worker thread take turns (never at once), a block of steps each; or the main thread runs one
block and then only the worker; or only one of them ever runs steps. Prints, per thread, the
median over the blocks of each block's median step in ms (docs/performance.md, "Kernels called
from two threads": libgomp's pools and the thread policy's one-pool rule).

    python benchmarks/bench_two_threads.py [--net mlp|simple|deep] [--who both|once|main|worker]
        [--threads 2] [--blocks 6]
"""

import argparse
import queue
import statistics
import threading
import time

import numpy as np

import fastscratch
from fastscratch.optimizer import Adam

STEPS = {"mlp": 60, "simple": 12, "deep": 6}  # steps a block: about 0.1 s each


def make_net(name):
    rng = np.random.default_rng(0)
    t = rng.integers(0, 10, 100)
    if name == "mlp":
        from fastscratch.multi_layer_net import MultiLayerNet

        return MultiLayerNet(784, [100] * 6, 10), rng.random((100, 784)), t
    if name == "simple":
        from fastscratch.simple_convnet import SimpleConvNet

        return SimpleConvNet(), rng.random((100, 1, 28, 28)), t
    from fastscratch.deep_convnet import DeepConvNet

    x = rng.random((100, 1, 28, 28), dtype=np.float32)
    return DeepConvNet(dtype=np.float32), x, t


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--net", choices=sorted(STEPS), default="mlp")
    parser.add_argument("--who", choices=["both", "once", "main", "worker"], default="both")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--blocks", type=int, default=6)
    args = parser.parse_args()

    net, x, t = make_net(args.net)
    optimizer = Adam()
    steps = STEPS[args.net]

    def block(out):
        times = []
        for _ in range(steps):
            start = time.perf_counter()
            optimizer.update(net.params, net.gradient(x, t))
            times.append(time.perf_counter() - start)
        out.append(1e3 * statistics.median(times[2:]))

    jobs, done = queue.Queue(), queue.Queue()

    def worker():
        fastscratch.set_num_threads(args.threads)
        while (out := jobs.get()) is not None:
            block(out)
            done.put(None)

    thread = threading.Thread(target=worker)
    thread.start()
    fastscratch.set_num_threads(args.threads)
    mains, workers = [], []
    try:
        for i in range(args.blocks):
            if args.who in ("both", "main") or (args.who == "once" and i == 0):
                block(mains)
            if args.who in ("both", "worker", "once"):
                jobs.put(workers)
                done.get()
    finally:
        jobs.put(None)
        thread.join()

    def median(values):
        return f"{statistics.median(values):.2f}" if values else "-"

    print(
        f"{args.net} {args.who} threads={args.threads}: main {median(mains)} ms, "
        f"worker {median(workers)} ms"
    )


if __name__ == "__main__":
    main()
