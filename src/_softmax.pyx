# Bindings for softmax and the softmax cross-entropy loss (the contract's softmax* kernels).
from libc.stdint cimport int64_t
from fs_kernels cimport fs_index
from fs_softmax cimport *
from fs_checks cimport checked_array, need_ndim, need_shape, is_f32, c_data, c_order
import numpy as np


cdef object _labels(object labels, fs_index rows, fs_index classes):
    """labels checked as int64 (rows,) in [0, classes), returned C-contiguous."""
    checked_array(labels, "labels", np.int64)
    if labels.shape != (rows,):
        raise ValueError(f"labels must have shape ({rows},) (one per row), got {labels.shape}")
    labels = c_order(labels)
    cdef fs_index bad = -1
    if rows:
        bad = fs_first_bad_label(<const int64_t *>c_data(labels, False), rows, classes)
    if bad >= 0:
        raise ValueError(f"labels must be in [0, {classes}), got {labels[bad]} at {bad}")
    return labels


def softmax(x):
    """Softmax along the last axis (any ndim >= 1), the row maximum subtracted first."""
    x = c_order(checked_array(x, "x"))
    if x.ndim < 1:
        raise ValueError(f"x must have at least 1 dimension, got shape {x.shape}")
    cdef fs_index cols = x.shape[x.ndim - 1]
    if cols == 0:
        raise ValueError(f"x must have at least one entry along its last axis, got shape {x.shape}")
    y = np.empty(x.shape, x.dtype)
    cdef fs_index rows = x.size // cols
    if rows == 0:
        return y
    cdef void *px = c_data(x, False)
    cdef void *py = c_data(y, True)
    if is_f32(x):
        with nogil:
            fs_softmax_f32(<const float *>px, rows, cols, <float *>py)
    else:
        with nogil:
            fs_softmax_f64(<const double *>px, rows, cols, <double *>py)
    return y


def softmax_loss_forward(x, labels):
    """x (N, K), labels int64 (N,) -> (loss, y): y = softmax(x), loss = -sum(log(y[n, t_n] +
    1e-7)) / N as a NumPy scalar of x's dtype (NaN for N == 0)."""
    x = c_order(checked_array(x, "x"))
    need_ndim(x, "x", 2)
    cdef fs_index rows = x.shape[0], cols = x.shape[1]
    if cols == 0:
        raise ValueError(f"x must have at least one class, got shape {x.shape}")
    labels = _labels(labels, rows, cols)
    y = np.empty(x.shape, x.dtype)
    cdef void *px = c_data(x, False)
    cdef void *py = c_data(y, True)
    cdef const int64_t *pl = <const int64_t *>c_data(labels, False)
    cdef double loss
    if is_f32(x):
        with nogil:
            loss = fs_softmax_loss_forward_f32(<const float *>px, pl, rows, cols, <float *>py)
    else:
        with nogil:
            loss = fs_softmax_loss_forward_f64(<const double *>px, pl, rows, cols, <double *>py)
    return x.dtype.type(loss), y


def softmax_loss_backward(y, labels, one_hot):
    """-> dx = (y - one_hot) / N, or, when one_hot is None, y with 1 taken off at each label, / N.
    A one_hot of another float dtype promotes (dx then has the promoted dtype)."""
    y = c_order(checked_array(y, "y"))
    need_ndim(y, "y", 2)
    cdef fs_index rows = y.shape[0], cols = y.shape[1]
    cdef void *pt
    if one_hot is not None:
        one_hot = c_order(checked_array(one_hot, "one_hot"))
        if one_hot.dtype != y.dtype:
            dt = np.result_type(y, one_hot)
            y, one_hot = y.astype(dt, copy=False), one_hot.astype(dt, copy=False)
        checked_array(one_hot, "one_hot", y.dtype, "y")
        need_shape(one_hot, "one_hot", y.shape, "y")
    else:
        labels = _labels(labels, rows, cols)
    dx = np.empty(y.shape, y.dtype)
    if dx.size == 0:
        return dx
    cdef void *py = c_data(y, False)
    cdef void *pd = c_data(dx, True)
    cdef const int64_t *pl
    if one_hot is not None:
        pt = c_data(one_hot, False)
        if is_f32(y):
            with nogil:
                fs_softmax_loss_backward_onehot_f32(<const float *>py, <const float *>pt, rows,
                                                    cols, <float *>pd)
        else:
            with nogil:
                fs_softmax_loss_backward_onehot_f64(<const double *>py, <const double *>pt, rows,
                                                    cols, <double *>pd)
    else:
        pl = <const int64_t *>c_data(labels, False)
        if is_f32(y):
            with nogil:
                fs_softmax_loss_backward_f32(<const float *>py, pl, rows, cols, <float *>pd)
        else:
            with nogil:
                fs_softmax_loss_backward_f64(<const double *>py, pl, rows, cols, <double *>pd)
    return dx
