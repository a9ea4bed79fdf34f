"""Optimizer steps, in place on param and state, with the book's formulas in the book's order
(Nesterov in the JP order). In-place NumPy operators write through non-contiguous views too."""

import numpy as np


def sgd_update(param, grad, lr):
    param -= lr * grad


def momentum_update(param, grad, v, lr, momentum):
    v *= momentum
    v -= lr * grad
    param += v


def nesterov_update(param, grad, v, lr, momentum):
    param += momentum * momentum * v
    param -= (1 + momentum) * lr * grad
    v *= momentum
    v -= lr * grad


def adagrad_update(param, grad, h, lr):
    h += grad * grad
    param -= lr * grad / (np.sqrt(h) + 1e-7)


def rmsprop_update(param, grad, h, lr, decay_rate):
    h *= decay_rate
    h += (1 - decay_rate) * grad * grad
    param -= lr * grad / (np.sqrt(h) + 1e-7)


def adam_update(param, grad, m, v, lr_t, beta1, beta2):
    m += (1 - beta1) * (grad - m)
    v += (1 - beta2) * (grad**2 - v)
    param -= lr_t * m / (np.sqrt(v) + 1e-7)
