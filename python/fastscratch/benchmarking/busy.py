"""Deliberate CPU load for `bench --busy N`: N processes that each spin one core for the whole run,
to measure how the contenders hold up on a shared machine (multi-threaded BLAS calls stall when
another process holds one of their cores; this shows by how much) instead of only warning about
it."""

import contextlib
import subprocess
import sys
import time

# -S: no site-packages to scan, so the loop starts at once and spins on nothing but the CPU.
SPIN_COMMAND = [sys.executable, "-S", "-c", "while True: pass"]
START_SECONDS = 0.5  # lets the interpreters reach their loop before the first measurement
# The most spinners per usable core: a load no measurement wants beyond this, and a typo
# (--busy 99999) would start processes until the machine stalls.
MAX_PER_CORE = 8


def most_spinners(cores):
    """The largest --busy N that `cores` usable cores take."""
    return MAX_PER_CORE * max(cores, 1)


def start_spinner():
    return subprocess.Popen(
        SPIN_COMMAND, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


@contextlib.contextmanager
def spinning(count, start_seconds=START_SECONDS):
    """Run `count` CPU-spinning processes for the time of the with-block (yields their pids).
    They are killed and reaped when the block ends, whether it returns, raises or is
    interrupted by Ctrl-C, and also when starting a later one fails."""
    spinners = []
    try:
        for _ in range(count):
            spinners.append(start_spinner())
        if spinners:
            time.sleep(start_seconds)
        yield [spinner.pid for spinner in spinners]
    finally:
        for spinner in spinners:
            spinner.kill()
        for spinner in spinners:
            spinner.wait()  # reaped: no zombie outlives the run
