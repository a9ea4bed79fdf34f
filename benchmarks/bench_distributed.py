"""Data-parallel training step over MPI ranks against threads in one process (issue 10).

    python benchmarks/bench_distributed.py --net simple                # 1 rank, all threads
    mpirun -n 2 python benchmarks/bench_distributed.py --net simple    # 2 ranks, 1 thread each

Each step: every rank computes the gradient of its shard of one global batch, the gradients are
averaged (`allreduce_gradients`: one fused buffer per dtype), every rank applies the same SGD
update. Rank 0 prints the median step time, the median time of the averaging alone, its share
of the step and the bytes each rank sends per step. Run it on a quiet machine: the ranks and the
threads compete for the same cores.
"""

import argparse
import time

import numpy as np

import fastscratch
from fastscratch import distributed as dist
from fastscratch.deep_convnet import DeepConvNet
from fastscratch.optimizer import SGD
from fastscratch.simple_convnet import SimpleConvNet

NETS = {"simple": SimpleConvNet, "deep": DeepConvNet}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--net", choices=sorted(NETS), default="simple")
    parser.add_argument("--batch", type=int, default=100, help="global batch (100)")
    parser.add_argument("--steps", type=int, default=12, help="timed steps (12)")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--threads", type=int, default=None, help="native threads per rank")
    args = parser.parse_args()

    comm = dist.init()
    if args.threads:
        fastscratch.set_num_threads(args.threads)
    dtype = np.dtype(args.dtype)
    np.random.seed(0)
    net = NETS[args.net](dtype=dtype)
    dist.broadcast_params(net.params)
    rng = np.random.default_rng(0)
    x = rng.random((args.batch, 1, 28, 28)).astype(dtype)
    t = rng.integers(0, 10, args.batch)
    lo, hi = dist.shard_bounds(args.batch, dist.rank(), dist.size())
    x_local, t_local = x[lo:hi], t[lo:hi]
    optimizer = SGD(lr=0.01)

    # Warm up for half a second, not a step or two: the thread policy decides its first 0.2 s
    # from an instant count of runnable tasks, and MPI's start-up (its daemon) is still one
    # then; timed steps must see the policy's measured windows.
    warm_until = time.perf_counter() + 0.5
    while time.perf_counter() < warm_until:
        grads = net.gradient(x_local, t_local)
        dist.allreduce_gradients(grads, weight=hi - lo)
    steps, reductions = [], []
    for i in range(args.steps + 2):  # two more warm-up steps
        comm.Barrier()
        started = time.perf_counter()
        grads = net.gradient(x_local, t_local)
        reduce_started = time.perf_counter()
        dist.allreduce_gradients(grads, weight=hi - lo)
        reduced = time.perf_counter()
        optimizer.update(net.params, grads)
        comm.Barrier()
        if i >= 2:
            steps.append(time.perf_counter() - started)
            reductions.append(reduced - reduce_started)
    dist.check_in_sync(net.params)

    if dist.is_root():
        step, reduce = np.median(steps), np.median(reductions)
        sent = sum(g.nbytes for g in grads.values())
        print(
            f"{type(net).__name__} {dtype.name} batch {args.batch}: {dist.size()} rank(s) x "
            f"{fastscratch.get_num_threads()} thread(s): step {step * 1e3:.1f} ms, "
            f"gradient averaging {reduce * 1e3:.2f} ms ({100 * reduce / step:.0f}% of the step), "
            f"{sent / 1e6:.2f} MB of gradients per rank per step"
        )


if __name__ == "__main__":
    main()
