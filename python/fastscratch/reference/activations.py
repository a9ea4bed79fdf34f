"""ReLU and sigmoid, forward and backward."""

import numpy as np


def relu_forward(x):
    mask = x <= 0
    out = x.copy()
    np.putmask(out, mask, 0)  # out[mask] = 0 (see relu_backward)
    return out, mask


def relu_backward(dout, mask):
    # dout[mask] = 0, in place, as the book's Relu does; putmask is the same assignment without
    # the boolean indexing's set-up (~150 ns of the ~1 us this takes on a batch of 3)
    np.putmask(dout, mask, 0)
    return dout


def sigmoid_forward(x):
    with np.errstate(over="ignore"):  # exp(-x) overflows to inf for x << 0: the result is 0
        return 1 / (1 + np.exp(-x))


def sigmoid_backward(dout, out):
    # The book's dout * (1.0 - out) * out, the same roundings (a product does not depend on
    # the order of its two factors) with one temporary instead of three
    dx = 1.0 - out
    dx *= dout
    dx *= out
    return dx
