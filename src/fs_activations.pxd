# Cython's view of csrc/activations.h, and each float/double pair of it as one fused function:
# called with the GIL (the arrays become typed memoryviews then), it runs the C without. The
# arrays are flat and of one length.
from cython cimport floating
from libc.stdint cimport uint8_t
from fs_kernels cimport fs_index

cdef extern from "activations.h" nogil:
    void fs_relu_forward_f32(const float *x, fs_index n, float *out, uint8_t *mask)
    void fs_relu_forward_f64(const double *x, fs_index n, double *out, uint8_t *mask)
    void fs_relu_backward_f32(float *dout, const uint8_t *mask, fs_index n)
    void fs_relu_backward_f64(double *dout, const uint8_t *mask, fs_index n)
    void fs_sigmoid_forward_f32(const float *x, fs_index n, float *out)
    void fs_sigmoid_forward_f64(const double *x, fs_index n, double *out)
    void fs_sigmoid_backward_f32(const float *dout, const float *out, fs_index n, float *dx)
    void fs_sigmoid_backward_f64(const double *dout, const double *out, fs_index n, double *dx)


cdef inline void fs_relu_forward(const floating[::1] x, floating[::1] out,
                                 uint8_t[::1] mask) noexcept:
    with nogil:
        if floating is float:
            fs_relu_forward_f32(&x[0], x.shape[0], &out[0], &mask[0])
        else:
            fs_relu_forward_f64(&x[0], x.shape[0], &out[0], &mask[0])


cdef inline void fs_relu_backward(floating[::1] dout, const uint8_t[::1] mask) noexcept:
    with nogil:
        if floating is float:
            fs_relu_backward_f32(&dout[0], &mask[0], dout.shape[0])
        else:
            fs_relu_backward_f64(&dout[0], &mask[0], dout.shape[0])


cdef inline void fs_sigmoid_forward(const floating[::1] x, floating[::1] out) noexcept:
    with nogil:
        if floating is float:
            fs_sigmoid_forward_f32(&x[0], x.shape[0], &out[0])
        else:
            fs_sigmoid_forward_f64(&x[0], x.shape[0], &out[0])


cdef inline void fs_sigmoid_backward(const floating[::1] dout, const floating[::1] out,
                                     floating[::1] dx) noexcept:
    with nogil:
        if floating is float:
            fs_sigmoid_backward_f32(&dout[0], &out[0], dout.shape[0], &dx[0])
        else:
            fs_sigmoid_backward_f64(&dout[0], &out[0], dout.shape[0], &dx[0])
