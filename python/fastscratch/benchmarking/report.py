"""The benchmark's Markdown: a header saying on what machine and how it was measured, one table
per (threads, dtype) with medians, ratios and GFLOP/s beside the GEMM rate, and a memory table.
A contender that could not run a case shows "n/a" with a numbered note giving the reason."""

import datetime
import os
import platform

import numpy as np

from .timing import SETTLE_SECONDS, Failed

NAMES = {"reference": "reference", "native": "native", "torch": "PyTorch"}


class Notes:
    """Numbered footnotes; the same reason gets the same number."""

    def __init__(self):
        self.reasons = []

    def cite(self, reason):
        if reason not in self.reasons:
            self.reasons.append(reason)
        return f"n/a ({self.reasons.index(reason) + 1})"

    def lines(self):
        if not self.reasons:
            return []
        return ["", "Notes:", ""] + [f"({i}) {r}" for i, r in enumerate(self.reasons, 1)]


def load_average():
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except (AttributeError, OSError):
        return "unknown"


def spinning_processes(count):
    return f"{count} spinning process" + ("" if count == 1 else "es")


def finish(lines, free_at_end):
    """Fill in what is known only at the end of the run (the load average, the free cores)."""
    return [
        line.replace("{load_at_end}", load_average()).replace("{free_at_end}", free_at_end)
        for line in lines
    ]


def free_cores():
    """The cores fastscratch's thread policy sees free now (other threads' load subtracted)."""
    import fastscratch.threads

    return str(fastscratch.threads.free_cores())


def policy_now():
    """(free cores, other threads' load in cores or None) as the thread policy sees them now."""
    from fastscratch import _native

    return _native.free_cores(), _native.foreign_load()


# A busy run's multi-threaded tables also time native at one thread in the same rounds.
ONE_THREAD = "native at 1 thread"


def one_thread_lines(threads, rows):
    """Below a busy run's multi-threaded table: native at the table's threads over native at one
    thread, both timed in the same rounds (beside the same load), for each case."""
    pairs = [
        (case.name, result.get("native"), result.get(ONE_THREAD))
        for case, result in rows
        if ONE_THREAD in result
    ]
    if not pairs:
        return []
    cells = []
    for name, native, one in pairs:
        if isinstance(native, float) and isinstance(one, float) and one > 0:
            cells.append(
                f"{name} {format_time(native)} vs {format_time(one)} ({native / one:.2f}x)"
            )
        else:
            cells.append(
                f"{name} (not timed: {getattr(one, 'reason', getattr(native, 'reason', ''))})"
            )
    return [
        "",
        f"Native at {threads} threads against native at 1 thread, timed in the same rounds beside "
        "the same load (at most 1.5x is the busy target): " + "; ".join(cells) + ".",
    ]


def policy_lines(threads, policy):
    """Below a multi-threaded table: the cases after which the thread policy saw fewer free
    cores than the threads asked for (their native figures ran, at least in part, on fewer)."""
    import fastscratch

    if threads == 1 or not fastscratch.get_adaptive_threads():
        return []
    short = [(name, free, load) for name, (free, load) in policy if free < threads]
    if not short:
        return ["", f"The thread policy saw {threads} free cores after every case of this table."]
    cases = "; ".join(
        f"{name} ({free}{'' if load is None else f', load {load:.2f}'})"
        for name, free, load in short
    )
    return [
        "",
        f"The thread policy saw fewer than {threads} free cores (free cores, other threads' load "
        f"in cores) after {len(short)} of {len(policy)} cases: {cases}.",
    ]


def adaptive_threads_text():
    import fastscratch

    if not fastscratch.get_adaptive_threads():
        return "adaptive threads off (every kernel with enough work uses all the threads)"
    return (
        "adaptive threads on (kernels take only the cores other threads leave free; free "
        f"cores seen at the start: {free_cores()}, after the timed tables: {{free_at_end}})"
    )


def header(settings, torch_version, torch_note):
    """The lines saying what ran where: machine, BLAS, versions, date, threads, mode."""
    from fastscratch.config import config_info

    info = config_info()
    blas, omp = info["blas"], info["openmp"]
    torch_text = (
        f"torch {torch_version}" if torch_version else f"torch: not compared ({torch_note})"
    )
    per_round = (
        "one call"
        if not settings["min_sample"]
        else f"as many calls as fill {settings['min_sample'] * 1000:g} ms (after a "
        f"{SETTLE_SECONDS * 1000:g} ms pause that lets the last contender's thread pools go idle, "
        "and one untimed call when they are several)"
    )
    lines = [
        "# fastscratch benchmark",
        "",
        f"- date: {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
        f"- machine: {info['cpu']}, {platform.system()} {platform.release()}",
        f"- BLAS: {blas['config']} (core in use {blas['core']}); "
        f"OpenMP {omp['version']}; SIMD clones {info['build']['simd']}, "
        f"this CPU runs {info['build']['cpu_runs']}",
        f"- machine load (1-minute load average) at the start: {load_average()}, "
        "at the end: {load_at_end}",
        f"- versions: fastscratch {info['fastscratch']}, Python {info['python']}, "
        f"numpy {np.__version__}, {torch_text}",
        f"- threads: {', '.join(str(n) for n in settings['threads'])} "
        f"(fastscratch.set_num_threads, threadpoolctl for NumPy's BLAS"
        f"{', torch.set_num_threads' if torch_version else ''}); "
        f"{adaptive_threads_text()}; dtypes: {', '.join(settings['dtypes'])}",
        f"- timing: median of {settings['repeats']} interleaved rounds after "
        f"{settings['warmup']} warm-up call(s), in one process; a round times {per_round} "
        "per contender, the contenders in a rotated order",
    ]
    if settings["busy"]:
        lines.append(
            f"- **load: {spinning_processes(settings['busy'])} ran beside the benchmark "
            f"(--busy {settings['busy']})**: Python `while True: pass` loops, one core "
            "each, from before the first measurement to the end (the load average at "
            "the end includes them); these figures are for a loaded machine on purpose"
        )
    if settings.get("only"):
        lines.append(f"- cases: only those matching `{settings['only']}`")
    if settings["quick"]:
        lines.append(
            "- **quick smoke mode**: tiny repeat counts and a subset (no DeepConvNet, no "
            f"batch-1000 predict, GEMM rate on {settings['gemm_size']}², memory of "
            "SimpleConvNet in the first dtype only): it checks that the benchmark runs, "
            "its numbers are not for reading"
        )
    lines += [
        "",
        "How to read: a load well above the benchmark's own threads means other processes shared "
        "the cores and the multi-threaded figures suffered. Times are per call (ms or µs). "
        "**native ÷ reference** is the speed-up of the C kernels over the pure-NumPy reference "
        "backend; **native vs PyTorch** is PyTorch's time "
        "over native's (> 1: native is faster). Ratios compare figures of this run only. GFLOP/s "
        "count 2 per multiply-add of the conv and affine products (backward = 2x forward; "
        "pooling counts comparisons, softmax ~4 operations per score), beside the machine's GEMM "
        "rate through the same OpenBLAS (each section's heading); **% of GEMM** is native's "
        "GFLOP/s over that rate.",
    ]
    return lines


def format_time(seconds):
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def _rate(value):
    if value >= 1e6:
        return f"{value / 1e6:.3g}M"
    if value >= 1e3:
        return f"{value / 1e3:.3g}k"
    return f"{value:.3g}"


def _ratio(slow, fast):
    if isinstance(slow, float) and isinstance(fast, float) and fast > 0:
        return f"{slow / fast:.2f}×"
    return "—"


def _gflops(case, seconds):
    if not isinstance(seconds, float) or seconds <= 0:
        return "—"
    rate = case.flops / seconds / 1e9
    return f"{rate:.3g}" if rate >= 0.01 else f"{rate:.1e}"


def section(threads, dtype, gemm, rows, contenders, notes):
    """One table: every case at `threads` threads in `dtype`.
    `gemm` is (GFLOP/s or None, how); `rows` is [(case, {contender: seconds or Failed})]."""
    gemm_rate, how = gemm
    gemm_text = f"GEMM {gemm_rate:.1f} GFLOP/s by {how}" if gemm_rate else f"GEMM rate n/a: {how}"
    thread_text = "1 thread" if threads == 1 else f"{threads} threads"
    lines = ["", f"## {thread_text}, {dtype} — {gemm_text}", ""]
    head = ["case", "GFLOP"] + [NAMES[c] for c in contenders] + ["native ÷ reference"]
    if "torch" in contenders:
        head.append("native vs PyTorch")
    head += ["GFLOP/s (" + " / ".join(NAMES[c] for c in contenders) + ")", "native % of GEMM"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for case, result in rows:
        cells = [case.name, f"{case.flops / 1e9:.3g}"]
        for c in contenders:
            value = result.get(c)
            if isinstance(value, Failed):
                cells.append(notes.cite(f"{NAMES[c]}: {value.reason}"))
            elif case.images and case.images > 1:
                cells.append(f"{format_time(value)} ({_rate(case.images / value)} img/s)")
            else:
                cells.append(format_time(value))
        cells.append(_ratio(result.get("reference"), result.get("native")))
        if "torch" in contenders:
            cells.append(_ratio(result.get("torch"), result.get("native")))
        cells.append(" / ".join(_gflops(case, result.get(c)) for c in contenders))
        native = result.get("native")
        if gemm_rate and isinstance(native, float) and native > 0:
            percent = 100 * case.flops / native / 1e9 / gemm_rate
            cells.append(f"{percent:.0f}%" if percent >= 1 else "<1%")
        else:
            cells.append("—")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def memory_section(threads, rows, contenders, notes):
    """`rows` is [(name, dtype, {contender: measure() dict or Failed})]."""
    lines = [
        "",
        f"## Peak memory of one training step ({threads} threads, a fresh process each)",
        "",
        "MB the process grew by during one gradient + Adam step above its resident size "
        "just before (net, batch and optimizer built): gradients, layer caches, Adam's "
        "state, temporaries, whoever allocated them (NumPy, C, BLAS, torch). Ratios < 1: "
        "native needs less.",
        "",
    ]
    head = ["case", "dtype"] + [f"{NAMES[c]} MB" for c in contenders] + ["native ÷ reference"]
    if "torch" in contenders:
        head.append("native ÷ PyTorch")
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, dtype, result in rows:
        cells = [name, dtype]
        mb = {}
        for c in contenders:
            value = result.get(c)
            if isinstance(value, Failed):
                cells.append(notes.cite(f"{NAMES[c]}: {value.reason}"))
            else:
                mb[c] = float(value["step_mb"])
                cells.append(f"{mb[c]:.1f}" + ("" if value.get("peak_reset") else " (ru_maxrss)"))
        cells.append(_ratio(mb.get("native"), mb.get("reference")))
        if "torch" in contenders:
            cells.append(_ratio(mb.get("native"), mb.get("torch")))
        lines.append("| " + " | ".join(cells) + " |")
    return lines
