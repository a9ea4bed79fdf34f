# Binding for the native runtime: thread pools and the BLAS's own description of itself.
from fs_kernels cimport (fs_set_num_threads, fs_get_omp_threads, fs_get_blas_threads,
                         fs_blas_config, fs_blas_corename, fs_omp_version, fs_cpu_simd_levels,
                         fs_hot_targets, fs_parts_for, fs_team_for, fs_free_cores, fs_set_adaptive_threads,
                         fs_get_adaptive_threads, fs_foreign_load, fs_cpu_set_size,
                         fs_max_threads, fs_in_forked_child, fs_mark_forked_child)


def set_num_threads(int n):
    """Set the thread count of the native core (its OpenMP pool) to n (>= 1)."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    fs_set_num_threads(n)


def get_omp_threads():
    return fs_get_omp_threads()


def max_threads():
    """The most threads a kernel may use now: the pool's size, or 1 in a forked child."""
    return fs_max_threads()


def in_forked_child():
    return bool(fs_in_forked_child())


def mark_forked_child():
    """Run kernels on one thread from now on: this process was forked before the core loaded."""
    fs_mark_forked_child()


def get_blas_threads():
    return fs_get_blas_threads()


def blas_config():
    return fs_blas_config().decode("ascii", "replace").strip()


def blas_corename():
    return fs_blas_corename().decode("ascii", "replace").strip()


def openmp_version():
    return fs_omp_version()


def cpu_simd_levels():
    """The SIMD clones this CPU can run: a list drawn from 'x86-64-v2', 'x86-64-v3', 'x86-64-v4'."""
    cdef int levels = fs_cpu_simd_levels()
    return [name for bit, name in ((1, "x86-64-v2"), (2, "x86-64-v3"), (4, "x86-64-v4"))
            if levels & bit]


def simd_clones():
    """The instruction-set levels the kernels' hot loops were cloned for, as the C was compiled
    (FS_HOT_TARGETS), e.g. ['x86-64-v4', 'x86-64-v3']; [] when the build has no clones."""
    targets = fs_hot_targets().decode().replace('"', "").split(",")
    return [t.strip()[len("arch="):] for t in targets if t.strip().startswith("arch=")]


def set_adaptive_threads(bint on):
    """Load-adaptive teams on or off (csrc/thread_policy.h)."""
    fs_set_adaptive_threads(on)


def get_adaptive_threads():
    return bool(fs_get_adaptive_threads())


def free_cores():
    """Cores of this process's CPU set that other threads leave free (measured, cached)."""
    return fs_free_cores()


def foreign_load():
    """Other threads' load on our CPU set in cores over the last window; None if unknown."""
    cdef double load = fs_foreign_load()
    return None if load < 0 else load


def cpu_set_size():
    return fs_cpu_set_size()


def plan_threads(double work, double grain):
    """(parts, team) the policy gives `work` units at `grain` per part now: for tests."""
    cdef int parts = fs_parts_for(work, grain)
    return parts, fs_team_for(parts, work / grain)
