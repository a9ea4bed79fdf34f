# Cython's view of csrc/conv.h, and each float/double pair of it as one fused function: called
# with the GIL (the arrays become typed memoryviews then), it runs the C without.
from cython cimport floating
from fs_kernels cimport fs_index, fs_patch_geometry

cdef extern from "conv.h" nogil:
    enum:
        FS_CONV_AUTO
        FS_CONV_IMAGES_PARALLEL
        FS_CONV_BLAS_PARALLEL
    int fs_conv_forward_f32(const float *x, fs_index batch, const fs_patch_geometry *g,
                            const float *w, const float *b, fs_index filters, float *out,
                            int strategy)
    int fs_conv_forward_f64(const double *x, fs_index batch, const fs_patch_geometry *g,
                            const double *w, const double *b, fs_index filters, double *out,
                            int strategy)
    int fs_conv_relu_forward_f32(const float *x, fs_index batch, const fs_patch_geometry *g,
                                 const float *w, const float *b, fs_index filters, float *out,
                                 unsigned char *mask, int strategy)
    int fs_conv_relu_forward_f64(const double *x, fs_index batch, const fs_patch_geometry *g,
                                 const double *w, const double *b, fs_index filters,
                                 double *out, unsigned char *mask, int strategy)
    int fs_conv_backward_f32(const float *dout, const float *x, fs_index batch,
                             const fs_patch_geometry *g, const float *w, fs_index filters,
                             float *dx, float *dw, float *db, int strategy)
    int fs_conv_backward_f64(const double *dout, const double *x, fs_index batch,
                             const fs_patch_geometry *g, const double *w, fs_index filters,
                             double *dx, double *dw, double *db, int strategy)


cdef inline int fs_conv_forward(const floating[:, :, :, ::1] x, const fs_patch_geometry *g,
                                const floating[:, :, :, ::1] w, const floating[::1] b,
                                floating[:, :, :, ::1] out, int strategy) noexcept:
    cdef int rc
    with nogil:
        if floating is float:
            rc = fs_conv_forward_f32(&x[0, 0, 0, 0], x.shape[0], g, &w[0, 0, 0, 0], &b[0],
                                     w.shape[0], &out[0, 0, 0, 0], strategy)
        else:
            rc = fs_conv_forward_f64(&x[0, 0, 0, 0], x.shape[0], g, &w[0, 0, 0, 0], &b[0],
                                     w.shape[0], &out[0, 0, 0, 0], strategy)
    return rc


cdef inline int fs_conv_relu_forward(const floating[:, :, :, ::1] x,
                                     const fs_patch_geometry *g, const floating[:, :, :, ::1] w,
                                     const floating[::1] b, floating[:, :, :, ::1] out,
                                     unsigned char[:, :, :, ::1] mask, int strategy) noexcept:
    cdef int rc
    with nogil:
        if floating is float:
            rc = fs_conv_relu_forward_f32(&x[0, 0, 0, 0], x.shape[0], g, &w[0, 0, 0, 0], &b[0],
                                          w.shape[0], &out[0, 0, 0, 0], &mask[0, 0, 0, 0],
                                          strategy)
        else:
            rc = fs_conv_relu_forward_f64(&x[0, 0, 0, 0], x.shape[0], g, &w[0, 0, 0, 0], &b[0],
                                          w.shape[0], &out[0, 0, 0, 0], &mask[0, 0, 0, 0],
                                          strategy)
    return rc


cdef inline int fs_conv_backward(const floating[:, :, :, ::1] dout,
                                 const floating[:, :, :, ::1] x, const fs_patch_geometry *g,
                                 const floating[:, :, :, ::1] w, floating[:, :, :, ::1] dx,
                                 floating[:, :, :, ::1] dw, floating[::1] db,
                                 int strategy) noexcept:
    """dx None: dW and db only."""
    cdef int rc
    cdef floating *dx_at = NULL if dx is None else &dx[0, 0, 0, 0]
    with nogil:
        if floating is float:
            rc = fs_conv_backward_f32(&dout[0, 0, 0, 0], &x[0, 0, 0, 0], x.shape[0], g,
                                      &w[0, 0, 0, 0], w.shape[0], dx_at,
                                      &dw[0, 0, 0, 0], &db[0], strategy)
        else:
            rc = fs_conv_backward_f64(&dout[0, 0, 0, 0], &x[0, 0, 0, 0], x.shape[0], g,
                                      &w[0, 0, 0, 0], w.shape[0], dx_at,
                                      &dw[0, 0, 0, 0], &db[0], strategy)
    return rc


cdef extern from "conv.h" nogil:
    enum:
        FS_CONV_WINOGRAD_AUTO
        FS_CONV_WINOGRAD_OFF
        FS_CONV_WINOGRAD_ALWAYS
        FS_CONV_PATH_IM2COL
        FS_CONV_PATH_SHIFTED
        FS_CONV_PATH_WINOGRAD
        FS_CONV_PATH_WINOGRAD4
        FS_CONV_PATH_CORRELATION
    void fs_conv_set_winograd(int mode)
    int fs_conv_get_winograd()
    void fs_conv_set_winograd_tile(int m)
    int fs_conv_get_winograd_tile()
    int fs_conv_forward_path_f32(const float *x, fs_index batch, const fs_patch_geometry *g,
                                 const float *w, fs_index filters)
    int fs_conv_forward_path_f64(const double *x, fs_index batch, const fs_patch_geometry *g,
                                 const double *w, fs_index filters)
    int fs_conv_dx_path_f32(const float *dout, const float *x, fs_index batch,
                            const fs_patch_geometry *g, const float *w, fs_index filters)
    int fs_conv_dx_path_f64(const double *dout, const double *x, fs_index batch,
                            const fs_patch_geometry *g, const double *w, fs_index filters)
    int fs_conv_dw_path_f32(const float *dout, const float *x, fs_index batch,
                            const fs_patch_geometry *g, const float *w, fs_index filters)
    int fs_conv_dw_path_f64(const double *dout, const double *x, fs_index batch,
                            const fs_patch_geometry *g, const double *w, fs_index filters)


cdef inline int fs_conv_path(const floating[:, :, :, ::1] x, const fs_patch_geometry *g,
                             const floating[:, :, :, ::1] w, const floating[:, :, :, ::1] dout,
                             bint dw) noexcept:
    """The path the forward (dout None), the backward's dx or its dW (dw) takes."""
    cdef const floating *at_dout = NULL if dout is None else &dout[0, 0, 0, 0]
    if floating is float:
        if at_dout == NULL:
            return fs_conv_forward_path_f32(&x[0, 0, 0, 0], x.shape[0], g, &w[0, 0, 0, 0],
                                            w.shape[0])
        if dw:
            return fs_conv_dw_path_f32(at_dout, &x[0, 0, 0, 0], x.shape[0], g, &w[0, 0, 0, 0],
                                       w.shape[0])
        return fs_conv_dx_path_f32(at_dout, &x[0, 0, 0, 0], x.shape[0], g, &w[0, 0, 0, 0],
                                   w.shape[0])
    else:
        if at_dout == NULL:
            return fs_conv_forward_path_f64(&x[0, 0, 0, 0], x.shape[0], g, &w[0, 0, 0, 0],
                                            w.shape[0])
        if dw:
            return fs_conv_dw_path_f64(at_dout, &x[0, 0, 0, 0], x.shape[0], g, &w[0, 0, 0, 0],
                                       w.shape[0])
        return fs_conv_dx_path_f64(at_dout, &x[0, 0, 0, 0], x.shape[0], g, &w[0, 0, 0, 0],
                                   w.shape[0])
