# Cython's view of csrc/dropout.h.
from libc.stdint cimport uint8_t
from fs_kernels cimport fs_index

cdef extern from "dropout.h" nogil:
    void fs_dropout_forward_train_f32(const float *x, const double *rand, double ratio,
                                      fs_index n, float *out, uint8_t *mask)
    void fs_dropout_forward_train_f64(const double *x, const double *rand, double ratio,
                                      fs_index n, double *out, uint8_t *mask)
    void fs_dropout_backward_f32(const float *dout, const uint8_t *mask, fs_index n, float *dx)
    void fs_dropout_backward_f64(const double *dout, const uint8_t *mask, fs_index n, double *dx)
