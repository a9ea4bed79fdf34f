# Cython's view of csrc/softmax.h, and each float/double pair of it as one fused function:
# called with the GIL (the arrays become typed memoryviews then), it runs the C without. Rows
# are the last axis; the labels have been checked to lie in [0, columns).
from cython cimport floating
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


cdef inline void fs_softmax(const floating[::1] x, fs_index cols, floating[::1] y) noexcept:
    """Over rows of `cols` values laid end to end in x."""
    with nogil:
        if floating is float:
            fs_softmax_f32(&x[0], x.shape[0] // cols, cols, &y[0])
        else:
            fs_softmax_f64(&x[0], x.shape[0] // cols, cols, &y[0])


cdef inline double fs_softmax_loss_forward(const floating[:, ::1] x, const int64_t[::1] labels,
                                           floating[:, ::1] y) noexcept:
    cdef double loss
    with nogil:
        if floating is float:
            loss = fs_softmax_loss_forward_f32(&x[0, 0], &labels[0], x.shape[0], x.shape[1],
                                               &y[0, 0])
        else:
            loss = fs_softmax_loss_forward_f64(&x[0, 0], &labels[0], x.shape[0], x.shape[1],
                                               &y[0, 0])
    return loss


cdef inline void fs_softmax_loss_backward(const floating[:, ::1] y, const int64_t[::1] labels,
                                          floating[:, ::1] dx) noexcept:
    with nogil:
        if floating is float:
            fs_softmax_loss_backward_f32(&y[0, 0], &labels[0], y.shape[0], y.shape[1],
                                         &dx[0, 0])
        else:
            fs_softmax_loss_backward_f64(&y[0, 0], &labels[0], y.shape[0], y.shape[1],
                                         &dx[0, 0])


cdef inline void fs_softmax_loss_backward_onehot(const floating[:, ::1] y,
                                                 const floating[:, ::1] t,
                                                 floating[:, ::1] dx) noexcept:
    with nogil:
        if floating is float:
            fs_softmax_loss_backward_onehot_f32(&y[0, 0], &t[0, 0], y.shape[0], y.shape[1],
                                                &dx[0, 0])
        else:
            fs_softmax_loss_backward_onehot_f64(&y[0, 0], &t[0, 0], y.shape[0], y.shape[1],
                                                &dx[0, 0])
