"""Check the native kernels against the pure-NumPy reference on this machine.

Runs every kernel on random shapes, strides, pads, both dtypes and awkward memory layouts on
both backends (the last tenth of the cases at sizes that take the multi-threaded paths) and
prints, per kernel and dtype, the worst relative error and a verdict. Exit status 1 if any
kernel fails.
"""

import sys

import numpy as np

from . import UsageError


def add_arguments(parser):
    parser.add_argument(
        "--cases", type=int, default=40, help="random cases per kernel and dtype (default 40)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the random cases")
    parser.add_argument("--kernel", action="append", help="check only this kernel (repeatable)")


def run(args):
    from ..equivalence import CASES, TOLERANCE, sweep

    if args.cases < 1:
        raise UsageError(f"--cases must be >= 1, got {args.cases}")
    if args.seed < 0:  # NumPy's generators take seeds >= 0 (a traceback otherwise)
        raise UsageError(f"--seed must be >= 0, got {args.seed}")
    for name in args.kernel or ():
        if name not in CASES:
            raise UsageError(f"unknown kernel {name!r}; choose from {', '.join(CASES)}")
    print("| kernel | dtype | cases | worst relative error | bound | verdict |")
    print("|---|---|---|---|---|---|")
    failed = 0
    for name, dtype, cases, worst, passed, failure in sweep(args.cases, args.seed, args.kernel):
        bound = TOLERANCE[np.dtype(dtype)]
        verdict = "ok" if passed else f"FAIL {failure}".strip()
        print(f"| {name} | {dtype} | {cases} | {worst:.2e} | {bound:.0e} | {verdict} |")
        sys.stdout.flush()
        failed += not passed
    print(f"\n{'all kernels agree' if not failed else f'{failed} kernel(s) FAILED'}")
    return 1 if failed else 0
