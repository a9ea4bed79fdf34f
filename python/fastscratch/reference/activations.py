"""ReLU and sigmoid, forward and backward."""

import numpy as np


def relu_forward(x):
    mask = x <= 0
    out = x.copy()
    out[mask] = 0
    return out, mask


def relu_backward(dout, mask):
    dout[mask] = 0  # in place, as the book's Relu does
    return dout


def sigmoid_forward(x):
    with np.errstate(over="ignore"):  # exp(-x) overflows to inf for x << 0: the result is 0
        return 1 / (1 + np.exp(-x))


def sigmoid_backward(dout, out):
    return dout * (1.0 - out) * out
