# Bindings for softmax and the softmax cross-entropy loss (the contract's softmax* kernels):
# check what the C trusts, allocate the results, call C on C-contiguous rows.
from libc.stdint cimport int64_t
from fs_kernels cimport fs_index
from fs_softmax cimport (fs_first_bad_label, fs_softmax, fs_softmax_loss_forward,
                         fs_softmax_loss_backward, fs_softmax_loss_backward_onehot)
from fs_checks cimport checked_array, contiguous, is_float32, need_ndim, need_shape
from fs_flat cimport flat
import numpy as np


cdef const int64_t[::1] _labels(object labels, fs_index rows, fs_index classes) except *:
    """labels checked as int64 (rows,) in [0, classes)."""
    checked_array(labels, "labels", np.int64)
    if labels.shape != (rows,):
        raise ValueError(f"labels must have shape ({rows},) (one per row), got {labels.shape}")
    cdef const int64_t[::1] checked = flat(labels)
    cdef fs_index bad = fs_first_bad_label(&checked[0], rows, classes)
    if bad >= 0:
        raise ValueError(f"labels must be in [0, {classes}), got {labels[bad]} at {bad}")
    return checked


def softmax(x):
    """Softmax along the last axis (any ndim >= 1), the row maximum subtracted first."""
    checked_array(x, "x")
    if x.ndim < 1:
        raise ValueError(f"x must have at least 1 dimension, got shape {x.shape}")
    cdef fs_index cols = x.shape[x.ndim - 1]
    if cols == 0:
        raise ValueError(f"x must have at least one entry along its last axis, got shape {x.shape}")
    y = np.empty(x.shape, x.dtype)
    if is_float32(x):
        fs_softmax[float](flat(x), cols, y.ravel())
    else:
        fs_softmax[double](flat(x), cols, y.ravel())
    return y


def softmax_loss_forward(x, labels):
    """x (N, K), labels int64 (N,) -> (loss, y): y = softmax(x), loss = -sum(log(y[n, t_n] +
    1e-7)) / N as a NumPy scalar of x's dtype (NaN for N == 0)."""
    checked_array(x, "x")
    need_ndim(x, "x", 2)
    if x.shape[1] == 0:
        raise ValueError(f"x must have at least one class, got shape {x.shape}")
    cdef const int64_t[::1] checked = _labels(labels, x.shape[0], x.shape[1])
    y = np.empty(x.shape, x.dtype)
    if is_float32(x):
        loss = fs_softmax_loss_forward[float](contiguous(x), checked, y)
    else:
        loss = fs_softmax_loss_forward[double](contiguous(x), checked, y)
    return x.dtype.type(loss), y


def softmax_loss_backward(y, labels, one_hot):
    """-> dx = (y - one_hot) / N, or, when one_hot is None, y with 1 taken off at each label, / N.
    A one_hot of another float dtype promotes (dx then has the promoted dtype)."""
    cdef const int64_t[::1] checked
    checked_array(y, "y")
    need_ndim(y, "y", 2)
    if one_hot is None:
        checked = _labels(labels, y.shape[0], y.shape[1])
        dx = np.empty(y.shape, y.dtype)
        if is_float32(y):
            fs_softmax_loss_backward[float](contiguous(y), checked, dx)
        else:
            fs_softmax_loss_backward[double](contiguous(y), checked, dx)
        return dx
    checked_array(one_hot, "one_hot")
    if one_hot.dtype != y.dtype:
        dt = np.result_type(y, one_hot)
        y, one_hot = y.astype(dt, copy=False), one_hot.astype(dt, copy=False)
    need_shape(one_hot, "one_hot", y.shape, "y")
    dx = np.empty(y.shape, y.dtype)
    if is_float32(y):
        fs_softmax_loss_backward_onehot[float](contiguous(y), contiguous(one_hot), dx)
    else:
        fs_softmax_loss_backward_onehot[double](contiguous(y), contiguous(one_hot), dx)
    return dx
