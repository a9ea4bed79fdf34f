# Bindings for the book's dropout (the contract's dropout_* kernels): check what the C trusts,
# allocate the results, call C on the arrays' flat memory (see fs_flat.pxd).
from fs_dropout cimport fs_dropout_forward_train, fs_dropout_backward
from fs_checks cimport need_ndarray, checked_array, is_float32, need_shape
from fs_flat cimport flat
import numpy as np


def dropout_forward_train(x, rand, double ratio):
    """-> (out, mask): mask = rand > ratio (bool), out = x * mask. `rand` is the caller's
    uniform draws of x's shape (np.random.rand gives float64)."""
    checked_array(x, "x")
    need_ndarray(rand, "rand")
    if rand.dtype.kind != "f" or rand.dtype.itemsize > 8:
        raise TypeError(f"rand must have a float dtype (np.random.rand gives float64), "
                        f"got {rand.dtype}")
    need_shape(rand, "rand", x.shape, "x")
    if rand.dtype != np.float64:
        # NumPy compares a float32 array with ratio rounded to float32: the same values, exactly
        # represented in double, give the same mask.
        ratio = float(rand.dtype.type(ratio))
        rand = rand.astype(np.float64, order="C")
    out = np.empty(x.shape, x.dtype)
    mask = np.empty(x.shape, np.bool_)
    if is_float32(x):
        fs_dropout_forward_train[float](flat(x), flat(rand), ratio, out.ravel(), mask.ravel())
    else:
        fs_dropout_forward_train[double](flat(x), flat(rand), ratio, out.ravel(),
                                         mask.ravel())
    return out, mask


def dropout_backward(dout, mask):
    """-> dout * mask, a new array."""
    checked_array(dout, "dout")
    checked_array(mask, "mask", np.bool_)
    need_shape(mask, "mask", dout.shape)
    dx = np.empty(dout.shape, dout.dtype)
    if is_float32(dout):
        fs_dropout_backward[float](flat(dout), mask.ravel(), dx.ravel())
    else:
        fs_dropout_backward[double](flat(dout), mask.ravel(), dx.ravel())
    return dx
