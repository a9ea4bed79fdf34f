"""Numerical gradients by central differences (common/gradient.py): each entry of x is moved by
+-h in place, f is called (the book's nets ignore f's argument and read their live params), and
the entry is put back. Integer arrays are refused: x + h would be truncated (issue #51 of the
book's repository, github.com/oreilly-japan/deep-learning-from-scratch). float16 arrays are
refused too: x + h rounds back to x (float16's spacing is ~1e-3 near 1, h is 1e-4), so every
entry's gradient would be 0. Computing in float32 instead is not possible: x is perturbed in
place because f (the book's nets) reads the live array, not its argument."""

import numpy as np

__all__ = ["numerical_gradient", "numerical_gradient_2d"]
# `np` too: a star import of the book's module gives it, and book scripts may rely on that.
__all__ += ["np"]

H = 1e-4


def _check(x):
    if not isinstance(x, np.ndarray):
        raise TypeError(
            f"x must be a NumPy array (it is perturbed in place), got {type(x).__name__}"
        )
    if x.dtype.kind != "f":
        raise TypeError(
            f"x must be a floating array: x + h = x + {H} would be truncated in an "
            f"array of dtype {x.dtype} and the gradient would be wrong; "
            "convert it first, e.g. x.astype(np.float64)"
        )
    if x.dtype.itemsize < 4:
        raise TypeError(
            f"x must be float32 or float64: x + h = x + {H} rounds back to x in an array of "
            f"dtype {x.dtype} and every gradient would be 0; "
            "convert it first, e.g. x.astype(np.float32)"
        )
    if not x.flags.writeable:
        raise ValueError("x must be writeable: numerical_gradient perturbs it in place")


def _central_difference(f, x, idx):
    tmp_val = x[idx]
    try:
        x[idx] = tmp_val + H
        fxh1 = f(x)
        x[idx] = tmp_val - H
        fxh2 = f(x)
    finally:
        x[idx] = tmp_val
    try:
        slope = (fxh1 - fxh2) / (2 * H)
    except TypeError:  # None, a string, a list: the subtraction's message names no argument
        slope = None
    if slope is None or (type(slope) is np.ndarray and slope.ndim):
        raise TypeError(
            f"f must return a real number (the loss at x), got {type(fxh1).__name__}"
            + (f" of shape {fxh1.shape}" if isinstance(fxh1, np.ndarray) else "")
        )
    return slope


def _numerical_gradient_1d(f, x):
    """Gradient of f at a 1-D x."""
    _check(x)
    grad = np.zeros_like(x)
    for idx in range(x.size):
        grad[idx] = _central_difference(f, x, idx)
    return grad


def numerical_gradient_2d(f, X):
    """Row by row for 2-D X (each row a separate point); 1-D X is one point."""
    _check(X)
    if X.ndim == 1:
        return _numerical_gradient_1d(f, X)
    grad = np.zeros_like(X)
    for idx, x in enumerate(X):
        grad[idx] = _numerical_gradient_1d(f, x)
    return grad


def numerical_gradient(f, x):
    """Gradient of f at x of any shape (views and non-contiguous arrays included); same shape
    and dtype as x."""
    _check(x)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        grad[idx] = _central_difference(f, x, idx)
    return grad
