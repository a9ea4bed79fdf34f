# Bindings for ReLU and sigmoid (the contract's relu_* and sigmoid_* kernels): check what the
# C trusts, allocate the results, call C on the arrays' flat memory (see fs_flat.pxd).
from fs_activations cimport (fs_relu_forward, fs_relu_backward, fs_sigmoid_forward,
                             fs_sigmoid_backward)
from fs_checks cimport checked_array, checked_like, is_float32, need_shape, need_writeable
from fs_flat cimport flat, write_back
import numpy as np


def relu_forward(x):
    """-> (out, mask): mask = x <= 0 (bool), out = a new x with the masked entries 0 (NaN stays)."""
    checked_array(x, "x")
    out = np.empty(x.shape, x.dtype)
    mask = np.empty(x.shape, np.bool_)
    if is_float32(x):
        fs_relu_forward[float](flat(x), out.ravel(), mask.ravel())
    else:
        fs_relu_forward[double](flat(x), out.ravel(), mask.ravel())
    return out, mask


def relu_backward(dout, mask):
    """dout[mask] = 0 in place; returns dout itself. A non-contiguous dout is updated through a
    contiguous copy written back."""
    checked_array(dout, "dout")
    need_writeable(dout, "dout", "relu_backward zeroes it in place")
    checked_array(mask, "mask", np.bool_)
    need_shape(mask, "mask", dout.shape)
    work = flat(dout)
    if is_float32(dout):
        fs_relu_backward[float](work, mask.ravel())
    else:
        fs_relu_backward[double](work, mask.ravel())
    write_back(work, dout)
    return dout


def sigmoid_forward(x):
    """-> 1 / (1 + exp(-x)), computed without overflow for large |x|."""
    checked_array(x, "x")
    out = np.empty(x.shape, x.dtype)
    if is_float32(x):
        fs_sigmoid_forward[float](flat(x), out.ravel())
    else:
        fs_sigmoid_forward[double](flat(x), out.ravel())
    return out


def sigmoid_backward(dout, out):
    """-> dout * (1 - out) * out."""
    checked_array(dout, "dout")
    checked_like(out, "out", dout, "dout")
    dx = np.empty(dout.shape, dout.dtype)
    if is_float32(dout):
        fs_sigmoid_backward[float](flat(dout), flat(out), dx.ravel())
    else:
        fs_sigmoid_backward[double](flat(dout), flat(out), dx.ravel())
    return dx
