# Cython's view of csrc/pool.h.
from libc.stdint cimport int64_t
from fs_kernels cimport fs_index, fs_patch_geometry

cdef extern from "pool.h" nogil:
    int fs_pool_forward_f32(const float *x, fs_index batch, const fs_patch_geometry *g,
                             float *out, int64_t *arg_max)
    int fs_pool_forward_f64(const double *x, fs_index batch, const fs_patch_geometry *g,
                             double *out, int64_t *arg_max)
    fs_index fs_pool_backward_f32(const float *dout, const int64_t *arg_max, fs_index batch,
                                  const fs_patch_geometry *g, float *dx)
    fs_index fs_pool_backward_f64(const double *dout, const int64_t *arg_max, fs_index batch,
                                  const fs_patch_geometry *g, double *dx)
