"""Thread control for the native core: one call sets both of its pools, OpenMP (kernel loops)
and OpenBLAS (matrix products). threadpoolctl sees and limits the same pools."""
import os

from . import _native


def set_num_threads(n):
    """Run the native kernels on `n` threads (OpenMP and OpenBLAS alike)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    _native.set_num_threads(n)


def get_num_threads():
    """The thread count of the native core (its OpenMP pool; OpenBLAS is set alike)."""
    return _native.get_omp_threads()


def _threads_from_environment():
    value = os.environ.get("FASTSCRATCH_NUM_THREADS")
    if value is None or value.strip() == "":
        return os.cpu_count() or 1
    try:
        n = int(value)
        if n < 1:
            raise ValueError
    except ValueError:
        raise ValueError(f"FASTSCRATCH_NUM_THREADS must be a positive integer, got {value!r}") from None
    return n


# Default: every core, unless FASTSCRATCH_NUM_THREADS says otherwise.
set_num_threads(_threads_from_environment())
