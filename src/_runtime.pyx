# Binding for the native runtime: thread pools and the BLAS's own description of itself.
from fs_kernels cimport (fs_set_num_threads, fs_get_omp_threads, fs_get_blas_threads,
                         fs_blas_config, fs_blas_corename, fs_omp_version, fs_cpu_simd_levels)


def set_num_threads(int n):
    """Set the OpenMP and OpenBLAS thread counts of the native core to n (>= 1)."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    fs_set_num_threads(n)


def get_omp_threads():
    return fs_get_omp_threads()


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
