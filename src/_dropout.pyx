# Bindings for the book's dropout (the contract's dropout_* kernels).
from libc.stdint cimport uint8_t
from fs_kernels cimport fs_index
from fs_dropout cimport *
from fs_checks cimport need_ndarray, checked_array, need_shape, is_f32, c_data, c_order
import numpy as np


def dropout_forward_train(x, rand, double ratio):
    """-> (out, mask): mask = rand > ratio (bool), out = x * mask. `rand` is the caller's
    uniform draws of x's shape (np.random.rand gives float64)."""
    x = c_order(checked_array(x, "x"))
    need_ndarray(rand, "rand")
    if rand.dtype.kind != "f" or rand.dtype.itemsize > 8:
        raise TypeError(f"rand must have a float dtype (np.random.rand gives float64), "
                        f"got {rand.dtype}")
    need_shape(rand, "rand", x.shape, "x")
    if rand.dtype != np.float64:
        # NumPy compares a float32 array with ratio rounded to float32: the same values, exactly
        # represented in double, give the same mask.
        ratio = float(rand.dtype.type(ratio))
        rand = rand.astype(np.float64)
    rand = c_order(rand)
    out = np.empty(x.shape, x.dtype)
    mask = np.empty(x.shape, np.bool_)
    cdef fs_index n = x.size
    if n == 0:
        return out, mask
    cdef void *px = c_data(x, False)
    cdef const double *pr = <const double *>c_data(rand, False)
    cdef void *po = c_data(out, True)
    cdef uint8_t *pm = <uint8_t *>c_data(mask, True)
    if is_f32(x):
        with nogil:
            fs_dropout_forward_train_f32(<const float *>px, pr, ratio, n, <float *>po, pm)
    else:
        with nogil:
            fs_dropout_forward_train_f64(<const double *>px, pr, ratio, n, <double *>po, pm)
    return out, mask


def dropout_backward(dout, mask):
    """-> dout * mask, a new array."""
    dout = c_order(checked_array(dout, "dout"))
    checked_array(mask, "mask", np.bool_)
    need_shape(mask, "mask", dout.shape)
    mask = c_order(mask)
    dx = np.empty(dout.shape, dout.dtype)
    cdef fs_index n = dout.size
    if n == 0:
        return dx
    cdef void *pd = c_data(dout, False)
    cdef const uint8_t *pm = <const uint8_t *>c_data(mask, False)
    cdef void *px = c_data(dx, True)
    if is_f32(dout):
        with nogil:
            fs_dropout_backward_f32(<const float *>pd, pm, n, <float *>px)
    else:
        with nogil:
            fs_dropout_backward_f64(<const double *>pd, pm, n, <double *>px)
    return dx
