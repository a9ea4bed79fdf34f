# Cython's view of csrc/activations.h.
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
