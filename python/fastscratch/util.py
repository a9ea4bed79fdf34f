"""The book's helpers (common/util.py): loss-curve smoothing, dataset shuffling, conv output size,
and im2col / col2im (here computed by the kernels, in the book's layout)."""

import numpy as np

from . import kernels

__all__ = ["smooth_curve", "shuffle_dataset", "conv_output_size", "im2col", "col2im"]
# `np` too: a star import of the book's module gives it, and book scripts may rely on that.
__all__ += ["np"]


def smooth_curve(x):
    """x smoothed by an 11-point Kaiser window (beta 2), the ends mirrored; same length as x."""
    x = np.asarray(x)
    if x.ndim != 1 or x.dtype.kind not in "biuf":
        raise ValueError(
            f"x must be a 1-D sequence of numbers (a loss curve), got {x.dtype} {x.shape}"
        )
    window_len = 11
    half = window_len // 2
    mirrored = np.concatenate([x[1:window_len][::-1], x, x[-(window_len - 1) :][::-1]])
    w = np.kaiser(window_len, 2)
    y = np.convolve(w / w.sum(), mirrored, mode="valid")
    return y[half : len(y) - half]


def shuffle_dataset(x, t):
    """x and t reordered by one random permutation of their first axis (np.random's global
    generator, as the book)."""
    x, t = paired_samples(x, t, "x", "t", 0)
    permutation = np.random.permutation(x.shape[0])
    return x[permutation], t[permutation]


def paired_samples(x, t, x_name, t_name, at_least):
    """x and t as arrays of one number of samples (their first axis), at least `at_least`: a
    mismatch would fail at a random step of training, or pair samples with others' labels."""
    x, t = (_as_samples(a, name) for a, name in ((x, x_name), (t, t_name)))
    if x.shape[0] != t.shape[0]:
        raise ValueError(
            f"{x_name} and {t_name} must hold as many samples (first axis), got {x.shape[0]} "
            f"and {t.shape[0]} (shapes {x.shape} and {t.shape})"
        )
    if x.shape[0] < at_least:
        raise ValueError(f"{x_name} must hold at least {at_least} sample, got shape {x.shape}")
    return x, t


def _as_samples(a, name):
    a = kernels.as_array(a, name)
    if a.dtype.kind not in "biuf" or a.ndim == 0:
        raise TypeError(
            f"{name} must be an array of numbers with a sample axis, got {a.dtype} of shape "
            f"{a.shape}"
        )
    return a


def conv_output_size(input_size, filter_size, stride=1, pad=0):
    """(input_size + 2*pad - filter_size) / stride + 1 -- true division, a float, as the book."""
    kernels.check_int(stride, "stride", 1)  # 0 divided by zero
    return (input_size + 2 * pad - filter_size) / stride + 1


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    """(N, C, H, W) -> (N*out_h*out_w, C*filter_h*filter_w): one row per output position, columns
    in (c, fy, fx) order, zeros for the padding. Keeps float32 (the book always gives float64)."""
    return kernels.im2col(input_data, filter_h, filter_w, stride, pad)


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    """The adjoint of im2col: each pixel receives the sum of every col entry copied from it (so
    col2im(im2col(x)) is x times the number of windows covering each pixel, not x)."""
    return kernels.col2im(col, input_shape, filter_h, filter_w, stride, pad)
