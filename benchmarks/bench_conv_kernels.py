"""Times the native conv / pool / affine kernels against the reference backend on the book's
shapes, and the two ways conv can use the cores ('images': OpenMP over images with one-thread
GEMMs; 'blas': one image at a time, multi-threaded GEMM). Prints medians in ms.

    python benchmarks/bench_conv_kernels.py [--repeats 15] [--dtype float32,float64]
"""

import argparse
import os
import platform
import time

import numpy as np

from fastscratch import _native as nat
from fastscratch import reference as ref

CONVS = {  # name: (x shape, W shape, stride, pad)
    "SimpleConvNet conv1": ((100, 1, 28, 28), (30, 1, 5, 5), 1, 0),
    "DeepConvNet conv2": ((100, 16, 28, 28), (16, 16, 3, 3), 1, 1),
    "DeepConvNet conv5": ((100, 32, 14, 14), (64, 32, 3, 3), 1, 1),
}
POOL = ((100, 30, 24, 24), 2, 2, 2, 0)
AFFINE = ((100, 4320), (4320, 100))


def median_ms(fn, repeats):
    # Idle BLAS workers of the previous case (NumPy's own OpenBLAS included) spin for a while
    # and would steal the cores from this one: let them fall asleep first.
    time.sleep(0.3)
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * float(np.median(times))


def conv_cases(dtype, rng):
    for name, (xs, ws, stride, pad) in CONVS.items():
        x = rng.standard_normal(xs).astype(dtype)
        W = rng.standard_normal(ws).astype(dtype)
        b = rng.standard_normal(ws[0]).astype(dtype)
        out, cache = ref.conv_forward(x, W, b, stride, pad)
        dout = rng.standard_normal(out.shape).astype(dtype)
        yield f"conv {name} {xs}x{ws} pad {pad}", conv_row(x, W, b, dout, stride, pad)


def conv_row(x, W, b, dout, stride, pad):
    """The timed calls of one conv case. A function of its own, so that each case's closures
    hold that case's arrays (closures made in the loop above would all see the last case)."""

    def ref_fb():
        o, c = ref.conv_forward(x, W, b, stride, pad)
        ref.conv_backward(dout, x, W, c, stride, pad)

    row = {
        "reference fwd": lambda: ref.conv_forward(x, W, b, stride, pad),
        "reference fwd+bwd": ref_fb,
    }
    for how in ("auto", "images", "blas"):

        def fwd(how=how):
            return nat.conv_forward(x, W, b, stride, pad, threading=how)

        def fb(how=how):
            o, c = nat.conv_forward(x, W, b, stride, pad, threading=how)
            nat.conv_backward(dout, x, W, c, stride, pad, threading=how)

        row[f"native/{how} fwd"] = fwd
        row[f"native/{how} fwd+bwd"] = fb
    return row


def pool_affine_cases(dtype, rng):
    xs, ph, pw, stride, pad = POOL
    x = rng.standard_normal(xs).astype(dtype)
    out, am = ref.pool_forward(x, ph, pw, stride, pad)
    dout = rng.standard_normal(out.shape).astype(dtype)
    rows = {}
    for label, mod in (("reference", ref), ("native", nat)):
        rows[f"{label} fwd"] = lambda mod=mod, x=x: mod.pool_forward(x, ph, pw, stride, pad)
        rows[f"{label} fwd+bwd"] = lambda mod=mod, x=x, dout=dout: mod.pool_backward(
            dout, mod.pool_forward(x, ph, pw, stride, pad)[1], xs, ph, pw, stride, pad
        )
    yield f"pool {ph}x{pw}/{stride} on {xs}", rows
    x = rng.standard_normal(AFFINE[0]).astype(dtype)
    W = rng.standard_normal(AFFINE[1]).astype(dtype)
    b = rng.standard_normal(AFFINE[1][1]).astype(dtype)
    dout = rng.standard_normal((AFFINE[0][0], AFFINE[1][1])).astype(dtype)
    rows = {}
    for label, mod in (("reference", ref), ("native", nat)):
        rows[f"{label} fwd"] = lambda mod=mod: mod.affine_forward(x, W, b)
        rows[f"{label} fwd+bwd"] = lambda mod=mod: (
            mod.affine_forward(x, W, b),
            mod.affine_backward(dout, x, W),
        )
    yield f"affine {AFFINE[0]}x{AFFINE[1]}", rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--dtype", default="float32,float64")
    args = parser.parse_args()
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"threads {nat.max_threads()}, BLAS threads {nat.get_blas_threads()} "
        f"({nat.blas_corename()}); medians of {args.repeats} in ms"
    )
    rng = np.random.default_rng(0)
    for dtype in args.dtype.split(","):
        print(f"\n## {dtype}")
        for title, rows in list(conv_cases(dtype, rng)) + list(pool_affine_cases(dtype, rng)):
            print(f"\n{title}")
            base = {}
            for label, fn in rows.items():
                ms = median_ms(fn, args.repeats)
                kind = label.split()[-1]
                base.setdefault(kind, ms)
                print(f"  {label:<24} {ms:9.3f}   x{base[kind] / ms:6.1f} vs reference")


if __name__ == "__main__":
    main()
