# Bindings for batch normalisation on (N, D) input (the contract's batchnorm_* kernels).
from fs_kernels cimport fs_index
from fs_batchnorm cimport *
from fs_checks cimport checked_array, need_ndim, need_shape, is_f32, c_data, c_order
import numpy as np


cdef object _input(object x, str name):
    x = c_order(checked_array(x, name))
    need_ndim(x, name, 2)
    if x.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one sample to compute batch statistics, "
                         "got 0")
    return x


cdef object _per_column(object a, str name, object x, str x_name):
    """`a` checked to hold one value of x's dtype per column of the 2-D `x`; returned 1-D,
    C-contiguous."""
    checked_array(a, name, x.dtype, x_name)
    if a.size != x.shape[1]:
        raise ValueError(f"{name} must have {x.shape[1]} elements (one per column of {x_name}), "
                         f"got shape {a.shape}")
    return c_order(a.reshape(-1))


cdef object _like(object a, str name, object ref, str ref_name):
    checked_array(a, name, ref.dtype, ref_name)
    need_shape(a, name, ref.shape, ref_name)
    return c_order(a)


def batchnorm_forward_train(x, gamma, beta, double eps):
    """-> (out, mu, var, xc, xn, std), the book's training-mode forward (see csrc/batchnorm.h)."""
    x = _input(x, "x")
    gamma = _per_column(gamma, "gamma", x, "x")
    beta = _per_column(beta, "beta", x, "x")
    cdef fs_index N = x.shape[0], D = x.shape[1]
    out, xc, xn = np.empty((N, D), x.dtype), np.empty((N, D), x.dtype), np.empty((N, D), x.dtype)
    mu, var, std = np.empty(D, x.dtype), np.empty(D, x.dtype), np.empty(D, x.dtype)
    if D == 0:
        return out, mu, var, xc, xn, std
    cdef void *px = c_data(x, False)
    cdef void *pg = c_data(gamma, False)
    cdef void *pb = c_data(beta, False)
    cdef void *po = c_data(out, True)
    cdef void *pmu = c_data(mu, True)
    cdef void *pvar = c_data(var, True)
    cdef void *pxc = c_data(xc, True)
    cdef void *pxn = c_data(xn, True)
    cdef void *pstd = c_data(std, True)
    if is_f32(x):
        with nogil:
            fs_batchnorm_forward_train_f32(<const float *>px, N, D, <const float *>pg,
                                           <const float *>pb, eps, <float *>po, <float *>pmu,
                                           <float *>pvar, <float *>pxc, <float *>pxn,
                                           <float *>pstd)
    else:
        with nogil:
            fs_batchnorm_forward_train_f64(<const double *>px, N, D, <const double *>pg,
                                           <const double *>pb, eps, <double *>po, <double *>pmu,
                                           <double *>pvar, <double *>pxc, <double *>pxn,
                                           <double *>pstd)
    return out, mu, var, xc, xn, std


def batchnorm_forward_test(x, gamma, beta, running_mean, running_var, double eps):
    """-> gamma * (x - running_mean) / sqrt(running_var + eps) + beta."""
    x = c_order(checked_array(x, "x"))
    need_ndim(x, "x", 2)
    gamma = _per_column(gamma, "gamma", x, "x")
    beta = _per_column(beta, "beta", x, "x")
    running_mean = _per_column(running_mean, "running_mean", x, "x")
    running_var = _per_column(running_var, "running_var", x, "x")
    cdef fs_index N = x.shape[0], D = x.shape[1]
    out = np.empty((N, D), x.dtype)
    if out.size == 0:
        return out
    cdef void *px = c_data(x, False)
    cdef void *pg = c_data(gamma, False)
    cdef void *pb = c_data(beta, False)
    cdef void *pm = c_data(running_mean, False)
    cdef void *pv = c_data(running_var, False)
    cdef void *po = c_data(out, True)
    if is_f32(x):
        with nogil:
            fs_batchnorm_forward_test_f32(<const float *>px, N, D, <const float *>pg,
                                          <const float *>pb, <const float *>pm,
                                          <const float *>pv, eps, <float *>po)
    else:
        with nogil:
            fs_batchnorm_forward_test_f64(<const double *>px, N, D, <const double *>pg,
                                          <const double *>pb, <const double *>pm,
                                          <const double *>pv, eps, <double *>po)
    return out


def batchnorm_backward(dout, gamma, xc, xn, std):
    """-> (dx, dgamma, dbeta) through the book's staged graph (kernels.batchnorm_backward)."""
    dout = _input(dout, "dout")
    xc = _like(xc, "xc", dout, "dout")
    xn = _like(xn, "xn", dout, "dout")
    gamma = _per_column(gamma, "gamma", dout, "dout")
    std = _per_column(std, "std", dout, "dout")
    cdef fs_index N = dout.shape[0], D = dout.shape[1]
    dx = np.empty((N, D), dout.dtype)
    dgamma, dbeta = np.empty(D, dout.dtype), np.empty(D, dout.dtype)
    if D == 0:
        return dx, dgamma, dbeta
    cdef void *pd = c_data(dout, False)
    cdef void *pg = c_data(gamma, False)
    cdef void *pxc = c_data(xc, False)
    cdef void *pxn = c_data(xn, False)
    cdef void *ps = c_data(std, False)
    cdef void *pdx = c_data(dx, True)
    cdef void *pdg = c_data(dgamma, True)
    cdef void *pdb = c_data(dbeta, True)
    if is_f32(dout):
        with nogil:
            fs_batchnorm_backward_f32(<const float *>pd, N, D, <const float *>pg,
                                      <const float *>pxc, <const float *>pxn, <const float *>ps,
                                      <float *>pdx, <float *>pdg, <float *>pdb)
    else:
        with nogil:
            fs_batchnorm_backward_f64(<const double *>pd, N, D, <const double *>pg,
                                      <const double *>pxc, <const double *>pxn,
                                      <const double *>ps, <double *>pdx, <double *>pdg,
                                      <double *>pdb)
    return dx, dgamma, dbeta
