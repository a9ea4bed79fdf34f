"""Batch normalisation per activation on (N, D) input, backward through the book's staged graph.
The reductions are ndarray methods: np.sum and np.mean compute the same, after microseconds of
dispatch on the book's gradient checks' batches."""

import numpy as np


def batchnorm_forward_train(x, gamma, beta, eps):
    mu = x.mean(axis=0)
    xc = x - mu
    var = (xc**2).mean(axis=0)
    std = np.sqrt(var + eps)
    xn = xc / std
    return gamma * xn + beta, mu, var, xc, xn, std


def batchnorm_forward_test(x, gamma, beta, running_mean, running_var, eps):
    xn = (x - running_mean) / np.sqrt(running_var + eps)
    return gamma * xn + beta


def batchnorm_backward(dout, gamma, xc, xn, std):
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (xn * dout).sum(axis=0)
    dxn = gamma * dout
    dxc = dxn / std
    dstd = -((dxn * xc) / (std * std)).sum(axis=0)
    dvar = 0.5 * dstd / std
    dxc += (2.0 / N) * xc * dvar
    dmu = dxc.sum(axis=0)
    dx = dxc - dmu / N
    return dx, dgamma, dbeta
