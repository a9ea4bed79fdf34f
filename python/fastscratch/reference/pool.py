"""Max pooling through im2col. Padding is -inf and is also masked out of the arg-max search, so a
window's maximum is always a real input element (the first one, as np.argmax picks it)."""

import numpy as np

from .patches import col2im, im2col


def _windows(x, pool_h, pool_w, stride, pad):
    """(N*out_h*out_w*C, pool_h*pool_w) windows in (n, oy, ox, c) order."""
    N, C = x.shape[:2]
    col = im2col(x, pool_h, pool_w, stride, pad)
    return col.reshape(-1, pool_h * pool_w)


def pool_forward(x, pool_h, pool_w, stride, pad):
    N, C, H, W = x.shape
    out_h = (H + 2 * pad - pool_h) // stride + 1
    out_w = (W + 2 * pad - pool_w) // stride + 1
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=-np.inf)
    col = _windows(padded, pool_h, pool_w, stride, 0)
    real = _windows(
        np.pad(np.ones(x.shape, dtype=bool), ((0, 0), (0, 0), (pad, pad), (pad, pad))),
        pool_h,
        pool_w,
        stride,
        0,
    )
    out = col.max(axis=1)  # NaN propagates, as np.max does
    hit = real & ((col == out[:, None]) | (np.isnan(col) & np.isnan(out)[:, None]))
    arg_max = hit.argmax(axis=1).astype(np.int64)
    out = out.reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)
    return np.ascontiguousarray(out), arg_max


def pool_backward(dout, arg_max, x_shape, pool_h, pool_w, stride, pad):
    N, C, H, W = x_shape
    pool_size = pool_h * pool_w
    outside = (arg_max < 0) | (arg_max >= pool_size)
    if outside.any():  # as the native kernel: refused, nothing written (-1 would pick the last)
        bad = int(np.flatnonzero(outside)[0])
        raise ValueError(
            f"arg_max must hold window positions in [0, {pool_size}), got {arg_max[bad]} "
            f"at index {bad}"
        )
    flat = dout.transpose(0, 2, 3, 1).reshape(-1)
    dmax = np.zeros((flat.size, pool_size), dtype=dout.dtype)
    dmax[np.arange(flat.size), arg_max.reshape(-1)] = flat
    out_h, out_w = dout.shape[2:]
    dcol = dmax.reshape(N * out_h * out_w, C * pool_size)  # sizes, not -1: C may be 0
    return col2im(dcol, x_shape, pool_h, pool_w, stride, pad)
