"""fastscratch calls interleaved with a script's own NumPy products, as a user's script mixes
them: NumPy's OpenBLAS pool busy-waits after each of its multi-threaded products (~0.1 s when
NumPy was imported before fastscratch, ~0.4 ms when after), and fastscratch's 2-thread regions
must not wait on a core that pool spins on (docs/performance.md, "Threads of this process that
are not ours"). Each setting runs in a fresh process (the import order is per process).

Patterns, each a block of about 50 ms of NumPy products and then fastscratch calls:
  burst   - 50 ms of NumPy products, then 50 ms of fastscratch calls (one median per block)
  pause   - as burst, after a 0.3 s pause and 50 ms of fastscratch calls (not timed)
  each    - one NumPy product before every fastscratch call
  none    - fastscratch calls only (the baseline: the policy must cost nothing here)
Prints the median over blocks of each block's median call in ms, at the default threads and
at one thread, NumPy imported first and fastscratch first.

    python benchmarks/bench_numpy_interleaved.py [--call predict|step] [--dtype float32]
        [--blocks 8] [--pattern burst,each,none]
"""

import argparse
import subprocess
import sys

CHILD = r"""
import statistics, sys, time
numpy_first, call_name, dtype, threads, pattern, blocks = sys.argv[1:7]
if numpy_first == "1":
    import numpy as np
    import fastscratch
else:
    import fastscratch
    import numpy as np
from fastscratch.multi_layer_net import MultiLayerNet
from fastscratch.optimizer import Adam

if threads != "default":
    fastscratch.set_num_threads(int(threads))
rng = np.random.default_rng(0)
net = MultiLayerNet(784, [100] * 6, 10, dtype=dtype)
batch = 1000 if call_name == "predict" else 100
x = rng.random((batch, 784)).astype(dtype)
t = rng.integers(0, 10, batch)
optimizer = Adam()
if call_name == "predict":
    call = lambda: net.predict(x)
else:
    call = lambda: optimizer.update(net.params, net.gradient(x, t))
A, B = rng.random((200, 784)), rng.random((784, 100))  # the script's own product, ~0.3 ms


def numpy_for(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        A @ B


def block():
    if pattern == "pause":
        time.sleep(0.3)
        end = time.perf_counter() + 0.05
        while time.perf_counter() < end:
            call()
    if pattern in ("burst", "pause"):
        numpy_for(0.05)
    times, end = [], time.perf_counter() + 0.05
    while time.perf_counter() < end or len(times) < 3:
        if pattern == "each":
            A @ B
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


block()
print(statistics.median(block() for _ in range(int(blocks))) * 1e3)
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--call", choices=["predict", "step"], default="predict")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--blocks", type=int, default=8)
    parser.add_argument("--pattern", default="burst,pause,each,none")
    parser.add_argument("--rounds", type=int, default=2, help="alternations of every setting")
    args = parser.parse_args(argv)
    patterns = args.pattern.split(",")
    settings = [(nf, th) for nf in ("1", "0") for th in ("default", "1")]
    results = {}
    for _ in range(args.rounds):
        for pattern in patterns:
            for numpy_first, threads in settings:
                out = subprocess.run(
                    [
                        sys.executable,
                        "-c",
                        CHILD,
                        numpy_first,
                        args.call,
                        args.dtype,
                        threads,
                        pattern,
                        str(args.blocks),
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                key = (pattern, numpy_first, threads)
                results.setdefault(key, []).append(float(out.stdout))
    print(
        f"MultiLayerNet 784-[100]x6-10 {args.call}, {args.dtype}: median call, ms "
        f"(each round a fresh process)"
    )
    print("| pattern | imported first | default threads | 1 thread |")
    print("|---|---|---|---|")
    for pattern in patterns:
        for numpy_first in ("1", "0"):
            cells = [
                ", ".join(f"{v:.2f}" for v in results[(pattern, numpy_first, th)])
                for th in ("default", "1")
            ]
            first = "NumPy" if numpy_first == "1" else "fastscratch"
            print(f"| {pattern} | {first} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
