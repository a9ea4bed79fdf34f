# Cython's view of csrc/dropout.h, and each float/double pair of it as one fused function:
# called with the GIL (the arrays become typed memoryviews then), it runs the C without. The
# arrays are flat and of one length.
from cython cimport floating
from libc.stdint cimport uint8_t
from fs_kernels cimport fs_index

cdef extern from "dropout.h" nogil:
    void fs_dropout_forward_train_f32(const float *x, const double *rand, double ratio,
                                      fs_index n, float *out, uint8_t *mask)
    void fs_dropout_forward_train_f64(const double *x, const double *rand, double ratio,
                                      fs_index n, double *out, uint8_t *mask)
    void fs_dropout_backward_f32(const float *dout, const uint8_t *mask, fs_index n, float *dx)
    void fs_dropout_backward_f64(const double *dout, const uint8_t *mask, fs_index n, double *dx)


cdef inline void fs_dropout_forward_train(const floating[::1] x, const double[::1] rand,
                                          double ratio, floating[::1] out,
                                          uint8_t[::1] mask) noexcept:
    with nogil:
        if floating is float:
            fs_dropout_forward_train_f32(&x[0], &rand[0], ratio, x.shape[0], &out[0], &mask[0])
        else:
            fs_dropout_forward_train_f64(&x[0], &rand[0], ratio, x.shape[0], &out[0], &mask[0])


cdef inline void fs_dropout_backward(const floating[::1] dout, const uint8_t[::1] mask,
                                     floating[::1] dx) noexcept:
    with nogil:
        if floating is float:
            fs_dropout_backward_f32(&dout[0], &mask[0], dout.shape[0], &dx[0])
        else:
            fs_dropout_backward_f64(&dout[0], &mask[0], dout.shape[0], &dx[0])
