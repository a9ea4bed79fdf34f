# Cython's view of the C kernels in csrc/: the declarations every binding cimports.
from libc.stdint cimport int64_t

cdef extern from "fs_common.h" nogil:
    ctypedef int64_t fs_index

cdef extern from "runtime.h" nogil:
    void fs_set_num_threads(int n)
    int fs_get_omp_threads()
    int fs_get_blas_threads()
    const char *fs_blas_config()
    const char *fs_blas_corename()
    int fs_omp_version()
    int fs_cpu_simd_levels()
    const char *fs_hot_targets()

cdef extern from "thread_policy.h" nogil:
    int fs_max_threads()
    int fs_in_forked_child()
    void fs_mark_forked_child()
    int fs_parts_for(double work, double grain)
    int fs_team_for(int parts, double grains)
    int fs_free_cores()
    void fs_set_adaptive_threads(int on)
    int fs_get_adaptive_threads()
    double fs_foreign_load()
    int fs_cpu_set_size()

cdef extern from "im2col.h" nogil:
    ctypedef struct fs_patch_geometry:
        fs_index channels, height, width
        fs_index kernel_h, kernel_w
        fs_index stride, pad
        fs_index out_h, out_w
    int fs_patch_geometry_init(fs_patch_geometry *g, fs_index channels, fs_index height,
                               fs_index width, fs_index kernel_h, fs_index kernel_w,
                               fs_index stride, fs_index pad)
