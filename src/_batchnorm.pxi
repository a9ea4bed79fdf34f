# Bindings for batch normalisation on (N, D) input (the contract's batchnorm_* kernels): check
# what the C trusts, allocate the results, call C on C-contiguous arrays.
from fs_batchnorm cimport (fs_batchnorm_forward_train, fs_batchnorm_forward_test,
                           fs_batchnorm_backward)
from fs_checks cimport checked_array, contiguous, checked_like, is_float32, need_ndim
from fs_flat cimport flat
import numpy as np


cdef object _batch(object x, str name):
    """x checked as a float (N, D) array with N >= 1, returned C-contiguous."""
    checked_array(x, name)
    need_ndim(x, name, 2)
    if x.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one sample to compute batch statistics, "
                         "got 0")
    return contiguous(x)


cdef object _per_column(object a, str name, object x, str x_name):
    """`a` checked to hold one value of x's dtype per column of the 2-D `x`; returned 1-D,
    C-contiguous."""
    checked_array(a, name, x.dtype, x_name)
    if a.size != x.shape[1]:
        raise ValueError(f"{name} must have {x.shape[1]} elements (one per column of {x_name}), "
                         f"got shape {a.shape}")
    return flat(a)


def batchnorm_forward_train(x, gamma, beta, double eps):
    """-> (out, mu, var, xc, xn, std), the book's training-mode forward (see csrc/batchnorm.h)."""
    x = _batch(x, "x")
    gamma = _per_column(gamma, "gamma", x, "x")
    beta = _per_column(beta, "beta", x, "x")
    shape, dtype, D = x.shape, x.dtype, x.shape[1]
    out, xc, xn = np.empty(shape, dtype), np.empty(shape, dtype), np.empty(shape, dtype)
    mu, var, std = np.empty(D, dtype), np.empty(D, dtype), np.empty(D, dtype)
    if D == 0:
        return out, mu, var, xc, xn, std
    if is_float32(x):
        fs_batchnorm_forward_train[float](x, gamma, beta, eps, out, mu, var, xc, xn, std)
    else:
        fs_batchnorm_forward_train[double](x, gamma, beta, eps, out, mu, var, xc, xn, std)
    return out, mu, var, xc, xn, std


def batchnorm_forward_test(x, gamma, beta, running_mean, running_var, double eps):
    """-> gamma * (x - running_mean) / sqrt(running_var + eps) + beta."""
    checked_array(x, "x")
    need_ndim(x, "x", 2)
    x = contiguous(x)
    gamma = _per_column(gamma, "gamma", x, "x")
    beta = _per_column(beta, "beta", x, "x")
    running_mean = _per_column(running_mean, "running_mean", x, "x")
    running_var = _per_column(running_var, "running_var", x, "x")
    out = np.empty(x.shape, x.dtype)
    if out.size == 0:
        return out
    if is_float32(x):
        fs_batchnorm_forward_test[float](x, gamma, beta, running_mean, running_var, eps, out)
    else:
        fs_batchnorm_forward_test[double](x, gamma, beta, running_mean, running_var, eps, out)
    return out


def batchnorm_backward(dout, gamma, xc, xn, std):
    """-> (dx, dgamma, dbeta) through the book's staged graph (kernels.batchnorm_backward)."""
    dout = _batch(dout, "dout")
    xc = contiguous(checked_like(xc, "xc", dout, "dout"))
    xn = contiguous(checked_like(xn, "xn", dout, "dout"))
    gamma = _per_column(gamma, "gamma", dout, "dout")
    std = _per_column(std, "std", dout, "dout")
    dtype, D = dout.dtype, dout.shape[1]
    dx, dgamma, dbeta = np.empty(dout.shape, dtype), np.empty(D, dtype), np.empty(D, dtype)
    if D == 0:
        return dx, dgamma, dbeta
    if is_float32(dout):
        fs_batchnorm_backward[float](dout, gamma, xc, xn, std, dx, dgamma, dbeta)
    else:
        fs_batchnorm_backward[double](dout, gamma, xc, xn, std, dx, dgamma, dbeta)
    return dx, dgamma, dbeta
