# Cython's view of csrc/softmax.h.
from libc.stdint cimport int64_t
from fs_kernels cimport fs_index

cdef extern from "softmax.h" nogil:
    fs_index fs_first_bad_label(const int64_t *labels, fs_index n, int64_t classes)
    void fs_softmax_f32(const float *x, fs_index rows, fs_index cols, float *y)
    void fs_softmax_f64(const double *x, fs_index rows, fs_index cols, double *y)
    float fs_softmax_loss_forward_f32(const float *x, const int64_t *labels, fs_index rows,
                                      fs_index cols, float *y)
    double fs_softmax_loss_forward_f64(const double *x, const int64_t *labels, fs_index rows,
                                       fs_index cols, double *y)
    void fs_softmax_loss_backward_f32(const float *y, const int64_t *labels, fs_index rows,
                                      fs_index cols, float *dx)
    void fs_softmax_loss_backward_f64(const double *y, const int64_t *labels, fs_index rows,
                                      fs_index cols, double *dx)
    void fs_softmax_loss_backward_onehot_f32(const float *y, const float *t, fs_index rows,
                                             fs_index cols, float *dx)
    void fs_softmax_loss_backward_onehot_f64(const double *y, const double *t, fs_index rows,
                                             fs_index cols, double *dx)
