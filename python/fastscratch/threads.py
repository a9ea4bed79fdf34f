"""Thread control for the native core.

The native core has one thread pool, OpenMP's: OpenBLAS runs on one thread inside it, and a
product big enough to share is split by rows over the pool (csrc/gemm.h). `set_num_threads(n)`
sets the most threads any kernel uses. How many a kernel really uses is decided per call
(csrc/thread_policy.h): by its work (a grain size: work of microseconds stays on one thread) and,
with the adaptive policy on (the default), by the cores that other threads leave free, measured
over the last fraction of a second: other processes' threads, and this process's threads that run
no kernel of ours (NumPy's OpenBLAS pool spinning after a product, a worker thread). On a machine
whose cores are busy a kernel then runs on one thread instead of waiting, region after region,
for a thread the scheduler has set aside.

Results never depend on the load: how work is split (and so the order of every sum) depends only
on the sizes and `n`; the load decides only how many threads run the parts.

The starting count comes from FASTSCRATCH_NUM_THREADS, else OMP_NUM_THREADS, else
OPENBLAS_NUM_THREADS (as NumPy and PyTorch users expect those to limit a library's threads), else
the cores this process may run on; it holds for kernels called from any thread of the process,
under the calling thread's OpenMP limit if that is lower (threadpoolctl's `threadpool_limits`).
A process forked after `import fastscratch` (multiprocessing on Linux, DataLoader-style workers)
runs its kernels on one thread: OpenMP's pool does not survive a fork, and a second thread there
would wait forever.
"""

import operator
import os

from . import _native
from ._environment import EnvironmentVariableError

_ADAPTIVE_ENV = "FASTSCRATCH_ADAPTIVE_THREADS"
# More threads than this is a typo, not a machine: libgomp crashes (100000) or aborts (2**31-1)
# trying to start them.
MAX_THREADS = 1024
_source = "cores"


def _thread_count(n, name):
    """`n` as an int in 1..MAX_THREADS (NumPy integers too), or a ValueError naming `name`."""
    if isinstance(n, bool):
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    try:
        value = operator.index(n)
    except TypeError:
        raise ValueError(f"{name} must be a positive integer, got {n!r}") from None
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    if value > MAX_THREADS:
        raise ValueError(
            f"{name} must be at most {MAX_THREADS} (this process may run on "
            f"{_usable_cores()} cores), got {value}"
        )
    return value


def set_num_threads(n):
    """Run the native kernels on at most `n` threads (1 to MAX_THREADS)."""
    global _source
    _native.set_num_threads(_thread_count(n, "n"))
    _source = "set_num_threads()"


def get_num_threads():
    """The most threads a native kernel uses: the pool's size (1 in a forked child)."""
    return _native.max_threads()


def thread_count_source():
    """Where the thread count came from: set_num_threads(), an environment variable, or the
    cores this process may run on; and whether this is a forked child."""
    where = _source
    if _native.in_forked_child():
        where += "; one thread in this forked child"
    return where


def set_adaptive_threads(on):
    """Turn the load-adaptive policy on (default) or off. Off, every kernel with enough work uses
    all `get_num_threads()` threads however busy the machine is, as a plain OpenMP program does
    (for benchmarks that pin the thread count)."""
    if not isinstance(on, bool):
        raise TypeError(f"on must be True or False, got {on!r}")
    _native.set_adaptive_threads(on)


def get_adaptive_threads():
    """Whether kernels leave the cores that other threads are using alone."""
    return _native.get_adaptive_threads()


def free_cores():
    """The cores of this process's CPU set that other threads leave free now (as measured by
    the adaptive policy over the last fraction of a second); all of them when it is off."""
    return _native.free_cores()


def _usable_cores():
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _threads_from_environment():
    """(thread count, the variable it came from) at import."""
    value = os.environ.get("FASTSCRATCH_NUM_THREADS", "").strip()
    if value:
        try:
            n = int(value)
        except ValueError:
            n = 0
        if n < 1 or n > MAX_THREADS:
            raise EnvironmentVariableError(
                f"FASTSCRATCH_NUM_THREADS must be an integer from 1 to {MAX_THREADS}, got {value!r}"
            )
        return n, "FASTSCRATCH_NUM_THREADS"
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        # Other libraries' variables: read as they read them (OMP_NUM_THREADS may list one count
        # per nesting level, "4,2"); a value they would ignore is ignored here too.
        first = os.environ.get(name, "").split(",")[0].strip()
        if first.isdigit() and 1 <= int(first) <= MAX_THREADS:
            return int(first), name
    return _usable_cores(), "cores"


def _adaptive_from_environment():
    value = os.environ.get(_ADAPTIVE_ENV, "").strip().lower()
    if value in ("", "1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise EnvironmentVariableError(f"{_ADAPTIVE_ENV} must be 1 or 0 (on or off), got {value!r}")


# Default: every core this process may run on, unless the environment says otherwise; adaptive
# unless FASTSCRATCH_ADAPTIVE_THREADS=0. Read (and a bad value refused) at import; given to the
# native core when it loads (fastscratch._native loads at its first kernel or thread setting).
_count, _source = _threads_from_environment()
_startup_settings = (min(_count, MAX_THREADS), _adaptive_from_environment())
del _count


def apply_startup_settings(core):
    """Give the freshly loaded extension `core` the settings read from the environment."""
    count, adaptive = _startup_settings
    core.set_num_threads(count)
    core.set_adaptive_threads(adaptive)
