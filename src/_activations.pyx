# Bindings for ReLU and sigmoid (the contract's relu_* and sigmoid_* kernels): check what the
# C trusts, allocate the results, release the GIL, call C.
from libc.stdint cimport uint8_t
from fs_kernels cimport fs_index
from fs_activations cimport *
from fs_checks cimport (checked_array, need_shape, need_writeable, is_f32, c_data, c_order)
import numpy as np


def relu_forward(x):
    """-> (out, mask): mask = x <= 0 (bool), out = a new x with the masked entries 0 (NaN stays)."""
    x = c_order(checked_array(x, "x"))
    out = np.empty(x.shape, x.dtype)
    mask = np.empty(x.shape, np.bool_)
    cdef fs_index n = x.size
    if n == 0:
        return out, mask
    cdef void *px = c_data(x, False)
    cdef void *po = c_data(out, True)
    cdef uint8_t *pm = <uint8_t *>c_data(mask, True)
    if is_f32(x):
        with nogil:
            fs_relu_forward_f32(<const float *>px, n, <float *>po, pm)
    else:
        with nogil:
            fs_relu_forward_f64(<const double *>px, n, <double *>po, pm)
    return out, mask


def relu_backward(dout, mask):
    """dout[mask] = 0 in place; returns dout itself. A non-contiguous dout is updated through a
    contiguous copy written back."""
    work = c_order(checked_array(dout, "dout"))
    need_writeable(dout, "dout", "relu_backward zeroes it in place")
    checked_array(mask, "mask", np.bool_)
    need_shape(mask, "mask", dout.shape)
    mask = c_order(mask)
    cdef fs_index n = work.size
    if n == 0:
        return dout
    cdef void *pd = c_data(work, True)
    cdef const uint8_t *pm = <const uint8_t *>c_data(mask, False)
    if is_f32(work):
        with nogil:
            fs_relu_backward_f32(<float *>pd, pm, n)
    else:
        with nogil:
            fs_relu_backward_f64(<double *>pd, pm, n)
    if work is not dout:
        dout[...] = work
    return dout


def sigmoid_forward(x):
    """-> 1 / (1 + exp(-x)), computed without overflow for large |x|."""
    x = c_order(checked_array(x, "x"))
    out = np.empty(x.shape, x.dtype)
    cdef fs_index n = x.size
    if n == 0:
        return out
    cdef void *px = c_data(x, False)
    cdef void *po = c_data(out, True)
    if is_f32(x):
        with nogil:
            fs_sigmoid_forward_f32(<const float *>px, n, <float *>po)
    else:
        with nogil:
            fs_sigmoid_forward_f64(<const double *>px, n, <double *>po)
    return out


def sigmoid_backward(dout, out):
    """-> dout * (1 - out) * out."""
    dout = c_order(checked_array(dout, "dout"))
    checked_array(out, "out", dout.dtype, "dout")
    need_shape(out, "out", dout.shape, "dout")
    out = c_order(out)
    dx = np.empty(dout.shape, dout.dtype)
    cdef fs_index n = dout.size
    if n == 0:
        return dx
    cdef void *pd = c_data(dout, False)
    cdef void *po = c_data(out, False)
    cdef void *px = c_data(dx, True)
    if is_f32(dout):
        with nogil:
            fs_sigmoid_backward_f32(<const float *>pd, <const float *>po, n, <float *>px)
    else:
        with nogil:
            fs_sigmoid_backward_f64(<const double *>pd, <const double *>po, n, <double *>px)
    return dx
