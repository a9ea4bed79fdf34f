"""Thread control for the native core.

The native core has one thread pool, OpenMP's: OpenBLAS runs on one thread inside it, and a
product big enough to share is split by rows over the pool (csrc/gemm.h). `set_num_threads(n)`
sets the most threads any kernel uses. How many a kernel really uses is decided per call
(csrc/thread_policy.h): by its work (a grain size: work of microseconds stays on one thread) and,
with the adaptive policy on (the default), by the cores that other processes leave free, measured
over the last fraction of a second. On a machine whose cores are busy a kernel then runs on one
thread instead of waiting, region after region, for a thread the scheduler has set aside.

Results never depend on the load: how work is split (and so the order of every sum) depends only
on the sizes and `n`; the load decides only how many threads run the parts.
"""
import os

from . import _native

_ADAPTIVE_ENV = "FASTSCRATCH_ADAPTIVE_THREADS"


def set_num_threads(n):
    """Run the native kernels on at most `n` threads."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    _native.set_num_threads(n)


def get_num_threads():
    """The most threads a native kernel uses (the OpenMP pool's size)."""
    return _native.get_omp_threads()


def set_adaptive_threads(on):
    """Turn the load-adaptive policy on (default) or off. Off, every kernel with enough work uses
    all `get_num_threads()` threads however busy the machine is, as a plain OpenMP program does
    (for benchmarks that pin the thread count)."""
    if not isinstance(on, bool):
        raise TypeError(f"on must be True or False, got {on!r}")
    _native.set_adaptive_threads(on)


def get_adaptive_threads():
    """Whether kernels leave the cores that other processes are using alone."""
    return _native.get_adaptive_threads()


def free_cores():
    """The cores of this process's CPU set that other processes leave free now (as measured by
    the adaptive policy over the last fraction of a second); all of them when it is off."""
    return _native.free_cores()


def _usable_cores():
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _threads_from_environment():
    value = os.environ.get("FASTSCRATCH_NUM_THREADS")
    if value is None or value.strip() == "":
        return _usable_cores()
    try:
        n = int(value)
        if n < 1:
            raise ValueError
    except ValueError:
        raise ValueError(f"FASTSCRATCH_NUM_THREADS must be a positive integer, got {value!r}") from None
    return n


def _adaptive_from_environment():
    value = os.environ.get(_ADAPTIVE_ENV, "").strip().lower()
    if value in ("", "1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{_ADAPTIVE_ENV} must be 1 or 0 (on or off), got {value!r}")


# Default: every core this process may run on, unless FASTSCRATCH_NUM_THREADS says otherwise;
# adaptive unless FASTSCRATCH_ADAPTIVE_THREADS=0.
set_num_threads(_threads_from_environment())
set_adaptive_threads(_adaptive_from_environment())
