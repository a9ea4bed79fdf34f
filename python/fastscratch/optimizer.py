"""The book's optimizers (common/optimizer.py), drop-in: `update(params, grads)` changes every
array of `params` in place (the layers holding them see the step), with the book's formulas in the
book's order (Nesterov as the JP edition now does it), through `fastscratch.kernels`.

State (`v`, `h`, `m`) is created with zeros_like on the first call. A call that fails leaves the
params and the state exactly as they were: every key is checked before anything is written.
"""
import math

import numpy as np

from . import kernels

__all__ = ["SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"]
# `np` too: a star import of the book's module gives it, and book scripts may rely on that.
__all__ += ["np"]


def _checked(params, grads, states=()):
    """[(key, param, grad as param's dtype)] after checking every key; raises before any change."""
    if not hasattr(params, "items"):
        raise TypeError(f"params must be a dict of arrays, got {type(params).__name__}")
    if not hasattr(grads, "__getitem__"):
        raise TypeError(f"grads must be a dict of arrays, got {type(grads).__name__}")
    checked = []
    for key, param in params.items():
        try:
            grad = grads[key]
        except KeyError:
            raise KeyError(f"grads has no entry for params[{key!r}]") from None
        held = {name: state[key] for name, state in states if state is not None and key in state}
        checked.append((key, param, kernels.check_update(param, grad, held, key)))
    return checked


def _state(state, checked):
    """`state` with a zeros_like entry for every checked key that has none yet."""
    state = {} if state is None else state
    for key, param, _ in checked:
        if key not in state:
            state[key] = np.zeros_like(param)
    return state


class SGD:
    """param -= lr * grad."""

    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for _, param, grad in _checked(params, grads):
            kernels.sgd_update(param, grad, self.lr)


class Momentum:
    """v = momentum*v - lr*grad; param += v."""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = None

    def update(self, params, grads):
        checked = _checked(params, grads, (("v", self.v),))
        self.v = _state(self.v, checked)
        for key, param, grad in checked:
            kernels.momentum_update(param, grad, self.v[key], self.lr, self.momentum)


class Nesterov:
    """Nesterov's accelerated gradient in the JP order (param first, then v):
    param += m*m*v; param -= (1+m)*lr*grad; v *= m; v -= lr*grad."""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = None

    def update(self, params, grads):
        checked = _checked(params, grads, (("v", self.v),))
        self.v = _state(self.v, checked)
        for key, param, grad in checked:
            kernels.nesterov_update(param, grad, self.v[key], self.lr, self.momentum)


class AdaGrad:
    """h += grad*grad; param -= lr*grad / (sqrt(h) + 1e-7)."""

    def __init__(self, lr=0.01):
        self.lr = lr
        self.h = None

    def update(self, params, grads):
        checked = _checked(params, grads, (("h", self.h),))
        self.h = _state(self.h, checked)
        for key, param, grad in checked:
            kernels.adagrad_update(param, grad, self.h[key], self.lr)


class RMSprop:
    """h = decay_rate*h + (1-decay_rate)*grad*grad; param -= lr*grad / (sqrt(h) + 1e-7)."""

    def __init__(self, lr=0.01, decay_rate=0.99):
        self.lr = lr
        self.decay_rate = decay_rate
        self.h = None

    def update(self, params, grads):
        checked = _checked(params, grads, (("h", self.h),))
        self.h = _state(self.h, checked)
        for key, param, grad in checked:
            kernels.rmsprop_update(param, grad, self.h[key], self.lr, self.decay_rate)


class Adam:
    """Adam with the bias correction folded into the step size, as the book does:
    lr_t = lr*sqrt(1-beta2**iter)/(1-beta1**iter); m += (1-beta1)*(grad-m);
    v += (1-beta2)*(grad**2-v); param -= lr_t*m / (sqrt(v) + 1e-7)."""

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.iter = 0
        self.m = None
        self.v = None

    def update(self, params, grads):
        checked = _checked(params, grads, (("m", self.m), ("v", self.v)))
        self.m = _state(self.m, checked)
        self.v = _state(self.v, checked)
        self.iter += 1
        lr_t = self.lr * math.sqrt(1.0 - self.beta2 ** self.iter) / (1.0 - self.beta1 ** self.iter)
        for key, param, grad in checked:
            kernels.adam_update(param, grad, self.m[key], self.v[key], lr_t, self.beta1,
                                self.beta2)
