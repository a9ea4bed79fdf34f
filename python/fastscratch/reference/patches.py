"""im2col / col2im in NumPy, in the book's layout: one row per output position (n, oy, ox),
one column per (c, fy, fx). Padding is an explicit zero-padded copy: slow, plainly correct."""

import numpy as np


def _out_size(size, window, stride, pad):
    return (size + 2 * pad - window) // stride + 1


def im2col(x, filter_h, filter_w, stride, pad):
    N, C, H, W = x.shape
    out_h = _out_size(H, filter_h, stride, pad)
    out_w = _out_size(W, filter_w, stride, pad)
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    col = np.empty((N, out_h, out_w, C, filter_h, filter_w), dtype=x.dtype)
    for fy in range(filter_h):
        for fx in range(filter_w):
            window = padded[
                :, :, fy : fy + stride * out_h : stride, fx : fx + stride * out_w : stride
            ]
            col[:, :, :, :, fy, fx] = window[:, :, :out_h, :out_w].transpose(0, 2, 3, 1)
    return col.reshape(N * out_h * out_w, C * filter_h * filter_w)


def col2im(col, input_shape, filter_h, filter_w, stride, pad):
    N, C, H, W = input_shape
    out_h = _out_size(H, filter_h, stride, pad)
    out_w = _out_size(W, filter_w, stride, pad)
    patches = col.reshape(N, out_h, out_w, C, filter_h, filter_w)
    padded = np.zeros((N, C, H + 2 * pad + stride - 1, W + 2 * pad + stride - 1), dtype=col.dtype)
    for fy in range(filter_h):
        for fx in range(filter_w):
            padded[:, :, fy : fy + stride * out_h : stride, fx : fx + stride * out_w : stride] += (
                patches[:, :, :, :, fy, fx].transpose(0, 3, 1, 2)
            )
    return np.ascontiguousarray(padded[:, :, pad : H + pad, pad : W + pad])
