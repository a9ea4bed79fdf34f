"""Convolution as the book computes it: im2col, one matrix product, col2im for the input gradient.
The cache handed from forward to backward is the patch matrix `col`."""

import numpy as np

from .patches import col2im, im2col


def conv_forward(x, W, b, stride, pad):
    N = x.shape[0]
    FN, C, FH, FW = W.shape  # reshape by sizes, not -1: FN may be 0
    out_h = (x.shape[2] + 2 * pad - FH) // stride + 1
    out_w = (x.shape[3] + 2 * pad - FW) // stride + 1
    col = im2col(x, FH, FW, stride, pad)
    out = col @ W.reshape(FN, C * FH * FW).T + b
    out = out.reshape(N, out_h, out_w, FN).transpose(0, 3, 1, 2)
    return np.ascontiguousarray(out), col


def conv_backward(dout, x, W, cache, stride, pad, need_dx=True):
    """need_dx=False: dx is None (a net's first layer: nobody reads its input's gradient)."""
    FN, C, FH, FW = W.shape
    col = cache if cache is not None else im2col(x, FH, FW, stride, pad)
    dout = dout.transpose(0, 2, 3, 1).reshape(col.shape[0], FN)
    db = dout.sum(axis=0)
    dW = (col.T @ dout).T.reshape(FN, C, FH, FW)
    if not need_dx:
        return None, np.ascontiguousarray(dW), db
    dcol = dout @ W.reshape(FN, C * FH * FW)
    dx = col2im(dcol, x.shape, FH, FW, stride, pad)
    return dx, np.ascontiguousarray(dW), db
