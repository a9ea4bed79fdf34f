"""Interleaved timing: every contender of a case is timed in turn, round after round, so that
machine drift (turbo, a neighbour's job, thermal throttling) hits all of them alike; the result
is the median of the rounds, after a warm-up."""

import statistics
import time

# Before each sample: long enough for the last contender's thread pools to stop spinning (OpenMP
# workers ~1-2 ms after a region; NumPy's OpenBLAS 0.4 ms with the OPENBLAS_THREAD_TIMEOUT that
# fastscratch sets), so that no contender is timed beside another's spinning threads, which the
# thread policy counts as load (docs/performance.md, "Threads of this process that are not ours").
SETTLE_SECONDS = 0.01


class Failed:
    """A contender that could not run a case; `reason` says why (shown as a footnote)."""

    def __init__(self, reason):
        self.reason = reason

    def __repr__(self):
        return f"Failed({self.reason!r})"


def reason(exc):
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def calls_per_sample(once, min_sample):
    """How many calls of `once` seconds make one sample last `min_sample` (1 for slow calls)."""
    if once <= 0 or once >= min_sample:
        return 1
    return max(1, min(1000, int(min_sample / once + 0.999)))


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved(runners, repeats, warmup=1, min_sample=0.02, settle=SETTLE_SECONDS):
    """Median seconds per call of each runner, timed in interleaved rounds.

    `runners` maps a contender's name to a zero-argument callable (or to a `Failed`). A runner
    that raises -- in warm-up or later -- becomes a `Failed` with the reason; the others go on.
    Each round visits the contenders in a rotated order, so no one always runs first, and each
    sample starts after a pause of `settle` seconds (SETTLE_SECONDS)."""
    results = {}
    live = {}
    numbers = {}
    for name, fn in runners.items():
        if isinstance(fn, Failed):
            results[name] = fn
            continue
        try:
            last = 0.0
            for _ in range(max(warmup, 1)):  # the last warm-up call sizes the samples
                last = _timed(fn)
            numbers[name] = calls_per_sample(last, min_sample)
            live[name] = fn
        except Exception as exc:  # a contender that fails must not end the run
            results[name] = Failed(reason(exc))
    samples = {name: [] for name in live}
    order = list(live)
    for round_ in range(repeats):
        shift = round_ % len(order) if order else 0
        for name in order[shift:] + order[:shift]:
            if name not in live:
                continue
            fn, number = live[name], numbers[name]
            try:
                if settle:
                    time.sleep(settle)
                if number > 1:
                    fn()  # untimed: wakes this contender's thread pools
                start = time.perf_counter()
                for _ in range(number):
                    fn()
                samples[name].append((time.perf_counter() - start) / number)
            except Exception as exc:
                results[name] = Failed(reason(exc))
                del live[name]
    for name in live:
        results[name] = statistics.median(samples[name])
    return {name: results[name] for name in runners}
