"""Benchmark the kernels, training steps and inference: reference vs native vs PyTorch.

Times each case (conv, pooling, affine and softmax-with-loss kernels forward and forward+backward
at the book's shapes; a SimpleConvNet, DeepConvNet, TwoLayerNet and MultiLayerNet training step
with Adam at batch 100; their predict at batch 1 and 1000) on every contender in one process,
interleaved, as medians after a warm-up; prints a Markdown table with ratios, GFLOP/s beside the
machine's GEMM rate, and the peak memory of a training step measured in fresh processes. PyTorch
is compared when it imports. `--busy N` runs N CPU-spinning processes beside the whole run, to
measure under load on purpose.
"""

import re
import sys

from . import UsageError, check_output


def add_arguments(parser):
    parser.add_argument(
        "--quick",
        action="store_true",
        help="seconds-long smoke run: a subset, tiny repeat counts (CI)",
    )
    parser.add_argument("--output", metavar="FILE", help="also write the Markdown to FILE")
    parser.add_argument(
        "--repeats",
        metavar="N",
        help="timed rounds per case, the median is shown (default 5; quick 3; with --busy 15)",
    )
    parser.add_argument(
        "--threads",
        metavar="LIST",
        help="thread counts, e.g. 1,all or 1,2,4 (default 1,all; quick all)",
    )
    parser.add_argument(
        "--dtype",
        metavar="LIST",
        help="float32, float64 or both, comma-separated (default both; quick float32)",
    )
    parser.add_argument(
        "--only", metavar="REGEX", help="run only the cases whose name matches REGEX (re.search)"
    )
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument(
        "--busy",
        metavar="N",
        help="run N CPU-spinning processes beside the whole benchmark, to "
        "measure on a loaded machine; samples then fill 400 ms, not 50 "
        "(default 0)",
    )


# ---------------------------------------------------------------------------------------------
# options


# Rounds under --busy: with N spinners on N cores the scheduler gives a one-thread step a core
# of its own or half of one, switching between calls, so a sample is one of two values ~2x
# apart (float32 DeepConvNet: 40 or 80 ms) and a median of 5 flips between them: 2-thread over
# 1-thread read 1.90x in the same rounds with both on one thread, 1.03-1.11x over 15 rounds.
BUSY_REPEATS = 15

# Seconds a sample lasts under --busy. The scheduler moves a step between a core of its own and
# half of one from call to call, so 15 medians of 50 ms samples (one or two calls) still flipped
# between the two values: float32 DeepConvNet's 2-thread over 1-thread, both running on one
# thread, read 0.69x-1.54x over six runs. A 0.4 s sample averages some 5-10 placements: 0.88x-1.05x
# over six runs alternating with those (docs/performance.md, "Measuring beside spinners").
BUSY_MIN_SAMPLE = 0.4


def default_repeats(quick, busy):
    if busy:
        return BUSY_REPEATS
    return 3 if quick else 5


def default_min_sample(quick, busy):
    """Seconds of calls in one timed sample (a quick run keeps its seconds-long smoke test)."""
    if quick:
        return 0.005
    return BUSY_MIN_SAMPLE if busy else 0.05


def parse_count(option, value, default, minimum):
    """The integer `value` of `option` (`default` when not given), at least `minimum` (0 or 1)."""
    if value is None:
        return default
    try:
        n = int(value)
    except ValueError:
        n = minimum - 1
    if n < minimum:
        what = "a positive integer" if minimum == 1 else "a non-negative integer"
        raise UsageError(f"{option} must be {what}, got {value!r}")
    return n


def parse_threads(value, default, cores):
    """'1,all' -> [1, cores] (sorted, duplicates dropped)."""
    value = default if value is None else value
    counts = set()
    for item in value.split(","):
        item = item.strip().lower()
        if item == "all":
            counts.add(cores)
            continue
        try:
            n = int(item)
        except ValueError:
            n = 0
        if n < 1:
            raise UsageError(
                f"--threads must be a comma-separated list of positive integers or "
                f"'all', got {value!r}"
            )
        from ..threads import MAX_THREADS

        if n > MAX_THREADS:
            raise UsageError(f"--threads must be at most {MAX_THREADS}, got {n}")
        counts.add(n)
    return sorted(counts)


def parse_dtypes(value, default):
    value = default if value is None else value
    dtypes = []
    for item in value.split(","):
        item = item.strip().lower()
        if item not in ("float32", "float64"):
            raise UsageError(
                f"--dtype must be float32, float64 or both (comma-separated), got {value!r}"
            )
        if item not in dtypes:
            dtypes.append(item)
    return dtypes


def parse_only(value):
    if value is None:
        return None
    try:
        return re.compile(value)
    except re.error as exc:
        raise UsageError(f"--only must be a regular expression, got {value!r} ({exc})") from None


def torch_or_reason(no_torch):
    """(torch module or None, why not)."""
    if no_torch:
        return None, "--no-torch"
    try:
        import torch
    except ImportError:
        return None, "torch does not import here"
    return torch, ""


# ---------------------------------------------------------------------------------------------
# the run


def _progress(text):
    print(f"bench: {text}", file=sys.stderr, flush=True)


def run(args):
    from ..benchmarking import busy, report
    from ..benchmarking import cases as case_defs
    from ..config import usable_cores

    quick = args.quick
    cores = usable_cores()
    busy_count = parse_count("--busy", args.busy, 0, minimum=0)
    if busy_count > busy.most_spinners(cores):
        raise UsageError(
            f"--busy must be at most {busy.most_spinners(cores)} ({busy.MAX_PER_CORE} spinning "
            f"processes per usable core, {cores} here), got {busy_count}"
        )
    settings = {
        "quick": quick,
        "repeats": parse_count(
            "--repeats", args.repeats, default_repeats(quick, busy_count), minimum=1
        ),
        "warmup": 1 if quick else 2,
        "min_sample": default_min_sample(quick, busy_count),
        "threads": parse_threads(args.threads, "all" if quick else "1,all", cores),
        "dtypes": parse_dtypes(args.dtype, "float32" if quick else "float32,float64"),
        "gemm_size": 1024 if quick else 2048,
        "only": args.only,
        "busy": busy_count,
    }
    only = parse_only(args.only)
    output = check_output("--output", args.output)

    cases = [c for c in case_defs.all_cases() if c.quick or not quick]
    memory_nets = ["SimpleConvNet"] if quick else ["SimpleConvNet", "DeepConvNet"]
    memory_names = {
        net: f"peak memory train step {net} batch {case_defs.BATCH}" for net in memory_nets
    }
    if only is not None:
        cases = [c for c in cases if only.search(c.name)]
        memory_nets = [n for n in memory_nets if only.search(memory_names[n])]
        if not cases and not memory_nets:
            names = [c.name for c in case_defs.all_cases()] + list(memory_names.values())
            raise UsageError(
                f"--only {args.only!r} matches no case; the cases are: " + "; ".join(names)
            )

    # The native core loads before PyTorch imports, as it did when `import fastscratch` loaded
    # it: it brings the system's libgomp.so.1, which PyTorch then shares, instead of taking
    # PyTorch's older copy of the same name (docs/design.md), so the tables stay comparable.
    from .. import _native

    _native.load()
    torch, torch_note = torch_or_reason(args.no_torch)
    contenders = list(case_defs.FASTSCRATCH) + (["torch"] if torch else [])
    lines = report.header(settings, torch.__version__ if torch else None, torch_note)
    notes = report.Notes()

    spinners = report.spinning_processes(settings["busy"])
    if settings["busy"]:
        _progress(f"starting {spinners} beside the benchmark (--busy {settings['busy']})")
    with busy.spinning(settings["busy"]):
        measured, free_at_end = _measure(
            settings, cases, memory_nets, memory_names, contenders, torch, notes
        )
        lines += measured
    if settings["busy"]:
        _progress(f"stopped the {spinners}")

    lines = report.finish(lines + notes.lines(), free_at_end)
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if output:
        from ..atomic_file import atomic_write

        with atomic_write(output, "w", encoding="utf-8") as f:
            f.write(text)
        _progress(f"wrote {output}")
    return 0


def _at_one_thread(native, threads):
    """Native's runner at one thread, for a busy run's multi-threaded tables: timed in the same
    rounds as the rest, so beside the same load (the busy target compares the default threads
    with one thread under the same load; a 1-thread table minutes earlier saw other phases of
    the spinners and other contenders' pools)."""
    import fastscratch

    from ..benchmarking import timing

    if isinstance(native, timing.Failed):
        return native

    def run():
        fastscratch.set_num_threads(1)
        try:
            native()
        finally:
            fastscratch.set_num_threads(threads)

    return run


def _measure(settings, cases, memory_nets, memory_names, contenders, torch, notes):
    """The report's sections: one timed table per (threads, dtype), then the peak memory; and
    the free cores after the timed sections (the peak memory's fresh processes would count as
    other processes' load)."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    import fastscratch

    from ..benchmarking import cases as case_defs
    from ..benchmarking import memory, report, timing

    lines = []

    def timer(runners, repeats):
        return timing.interleaved(runners, repeats, settings["warmup"], settings["min_sample"])

    previous_backend = fastscratch.get_backend()
    previous_threads = fastscratch.get_num_threads()
    previous_torch_threads = torch.get_num_threads() if torch else None
    try:
        for threads in settings["threads"]:
            with threadpool_limits(threads):  # NumPy's own BLAS, for the reference backend
                fastscratch.set_num_threads(threads)
                if torch:
                    torch.set_num_threads(threads)
                for dtype in settings["dtypes"]:
                    if not cases:
                        break
                    _progress(f"{threads} thread(s), {dtype}: GEMM rate")
                    gemm = case_defs.gemm_rate(
                        dtype, settings["gemm_size"], settings["repeats"], timer
                    )
                    rows, policy = [], []
                    for i, case in enumerate(cases, 1):
                        _progress(f"{threads} thread(s), {dtype}: [{i}/{len(cases)}] {case.name}")
                        runners = {}
                        for c in contenders:
                            try:
                                runners[c] = case.runner(c, np.dtype(dtype))
                            except Exception as exc:  # a PyTorch error, say
                                runners[c] = timing.Failed(timing.reason(exc))
                        if settings["busy"] and threads > 1:
                            runners[report.ONE_THREAD] = _at_one_thread(runners["native"], threads)
                        rows.append((case, timer(runners, settings["repeats"])))
                        policy.append((case.name, report.policy_now()))
                        del runners
                    lines += report.section(threads, dtype, gemm, rows, contenders, notes)
                    lines += report.policy_lines(threads, policy)
                    lines += report.one_thread_lines(threads, rows)
        free_at_end = report.free_cores()

        if memory_nets:
            threads = max(settings["threads"])
            rows = []
            for net in memory_nets:
                for dtype in settings["dtypes"][:1] if settings["quick"] else settings["dtypes"]:
                    result = {}
                    for c in contenders:
                        _progress(f"peak memory: {net} {dtype} {c} (fresh process)")
                        result[c] = memory.measure(c, net, dtype, threads, case_defs.BATCH)
                    rows.append((memory_names[net], dtype, result))
            lines += report.memory_section(threads, rows, contenders, notes)
    finally:
        fastscratch.set_backend(previous_backend)
        fastscratch.set_num_threads(previous_threads)
        if torch:
            torch.set_num_threads(previous_torch_threads)
    return lines, free_at_end
