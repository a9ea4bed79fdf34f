# Cython's view of csrc/affine.h, and each float/double pair of it as one fused function: called
# with the GIL (the arrays become typed memoryviews then), it runs the C without. The matrices
# may be strided views: their fs_matrix_layout tells the GEMM how to read them.
from cython cimport floating
from libc.stdint cimport uint8_t
from fs_kernels cimport fs_index

cdef extern from "affine.h" nogil:
    ctypedef struct fs_matrix_layout:
        int trans
        fs_index ld
    void fs_affine_forward_f32(const float *x, fs_matrix_layout lx, const float *w,
                               fs_matrix_layout lw, const float *b, fs_index n, fs_index d,
                               fs_index m, float *out, uint8_t *relu_mask)
    void fs_affine_forward_f64(const double *x, fs_matrix_layout lx, const double *w,
                               fs_matrix_layout lw, const double *b, fs_index n, fs_index d,
                               fs_index m, double *out, uint8_t *relu_mask)
    void fs_affine_backward_f32(const float *dout, fs_matrix_layout ldout, const float *x,
                                fs_matrix_layout lx, const float *w, fs_matrix_layout lw,
                                fs_index n, fs_index d, fs_index m, float *dx, float *dw,
                                float *db)
    void fs_affine_backward_f64(const double *dout, fs_matrix_layout ldout, const double *x,
                                fs_matrix_layout lx, const double *w, fs_matrix_layout lw,
                                fs_index n, fs_index d, fs_index m, double *dx, double *dw,
                                double *db)


cdef inline void fs_affine_forward(const floating[:, :] x, fs_matrix_layout lx,
                                   const floating[:, :] w, fs_matrix_layout lw,
                                   const floating[::1] b, floating[:, ::1] out,
                                   uint8_t *relu_mask) noexcept:
    """relu_mask NULL: the affine forward alone; else out through the ReLU too, mask there."""
    with nogil:
        if floating is float:
            fs_affine_forward_f32(&x[0, 0], lx, &w[0, 0], lw, &b[0], x.shape[0], x.shape[1],
                                  w.shape[1], &out[0, 0], relu_mask)
        else:
            fs_affine_forward_f64(&x[0, 0], lx, &w[0, 0], lw, &b[0], x.shape[0], x.shape[1],
                                  w.shape[1], &out[0, 0], relu_mask)


cdef inline void fs_affine_backward(const floating[:, :] dout, fs_matrix_layout ldout,
                                    const floating[:, :] x, fs_matrix_layout lx,
                                    const floating[:, :] w, fs_matrix_layout lw,
                                    floating[:, ::1] dx, floating[:, ::1] dw,
                                    floating[::1] db) noexcept:
    """dx None: dW and db only."""
    cdef floating *dx_at = NULL if dx is None else &dx[0, 0]
    with nogil:
        if floating is float:
            fs_affine_backward_f32(&dout[0, 0], ldout, &x[0, 0], lx, &w[0, 0], lw, x.shape[0],
                                   x.shape[1], w.shape[1], dx_at, &dw[0, 0], &db[0])
        else:
            fs_affine_backward_f64(&dout[0, 0], ldout, &x[0, 0], lx, &w[0, 0], lw, x.shape[0],
                                   x.shape[1], w.shape[1], dx_at, &dw[0, 0], &db[0])


cdef extern from "affine.h" nogil:
    int fs_affine_forward_widened(const float *x, fs_index ldx, const double *w,
                                  fs_matrix_layout lw, const double *b, fs_index n, fs_index d,
                                  fs_index m, double *out, uint8_t *relu_mask)
