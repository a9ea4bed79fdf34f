# Cython's view of csrc/affine.h.
from fs_kernels cimport fs_index

cdef extern from "affine.h" nogil:
    ctypedef struct fs_matrix_layout:
        int trans
        fs_index ld
    void fs_affine_forward_f32(const float *x, fs_matrix_layout lx, const float *w,
                               fs_matrix_layout lw, const float *b, fs_index n, fs_index d,
                               fs_index m, float *out)
    void fs_affine_forward_f64(const double *x, fs_matrix_layout lx, const double *w,
                               fs_matrix_layout lw, const double *b, fs_index n, fs_index d,
                               fs_index m, double *out)
    void fs_affine_backward_f32(const float *dout, fs_matrix_layout ldout, const float *x,
                                fs_matrix_layout lx, const float *w, fs_matrix_layout lw,
                                fs_index n, fs_index d, fs_index m, float *dx, float *dw,
                                float *db)
    void fs_affine_backward_f64(const double *dout, fs_matrix_layout ldout, const double *x,
                                fs_matrix_layout lx, const double *w, fs_matrix_layout lw,
                                fs_index n, fs_index d, fs_index m, double *dx, double *dw,
                                double *db)
