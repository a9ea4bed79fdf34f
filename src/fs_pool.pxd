# Cython's view of csrc/pool.h, and each float/double pair of it as one fused function: called
# with the GIL (the arrays become typed memoryviews then), it runs the C without.
from cython cimport floating
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


cdef inline int fs_pool_forward(const floating[:, :, :, ::1] x, const fs_patch_geometry *g,
                                floating[:, :, :, ::1] out, int64_t[::1] arg_max) noexcept:
    cdef int rc
    with nogil:
        if floating is float:
            rc = fs_pool_forward_f32(&x[0, 0, 0, 0], x.shape[0], g, &out[0, 0, 0, 0],
                                     &arg_max[0])
        else:
            rc = fs_pool_forward_f64(&x[0, 0, 0, 0], x.shape[0], g, &out[0, 0, 0, 0],
                                     &arg_max[0])
    return rc


cdef inline fs_index fs_pool_backward(const floating[:, :, :, ::1] dout,
                                      const int64_t[::1] arg_max, const fs_patch_geometry *g,
                                      floating[:, :, :, ::1] dx) noexcept:
    cdef fs_index bad
    with nogil:
        if floating is float:
            bad = fs_pool_backward_f32(&dout[0, 0, 0, 0], &arg_max[0], dx.shape[0], g,
                                       &dx[0, 0, 0, 0])
        else:
            bad = fs_pool_backward_f64(&dout[0, 0, 0, 0], &arg_max[0], dx.shape[0], g,
                                       &dx[0, 0, 0, 0])
    return bad
