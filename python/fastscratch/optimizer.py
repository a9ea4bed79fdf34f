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


def _is_number(value):
    """A Python or NumPy real number (not an array): the book's optimizers take these too
    (ch06/optimizer_compare_naive.py updates params = {'x': -7.0, 'y': 2.0})."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _as_0d(number):
    """The number as a 0-d array the kernels update in place: its own float type, or float64
    (Python's float) for ints and Python floats, whose arithmetic the book's update then is."""
    dtype = np.float32 if isinstance(number, (np.float32, np.float16)) else np.float64
    return np.array(number, dtype=dtype)


def _real(value, name):
    """A hyperparameter as a Python float, or a TypeError naming it."""
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {value!r}") from None


class _Optimizer:
    """The update() the book writes six times, written once (like DeZero's Optimizer): check
    every key and the hyperparameters before anything changes, give each state dict named in
    `_state_names` a zeros_like entry for every key it lacks (the dicts stay None until the first
    update, as in the book), then run the kernel `_kernel` on each key. A subclass names its
    kernel and state and writes `_hyper()`, the step's hyperparameters in the kernel's order."""

    _kernel = None
    _state_names = ()

    def update(self, params, grads):
        if not hasattr(params, "items"):
            raise TypeError(f"params must be a dict of arrays, got {type(params).__name__}")
        if not hasattr(grads, "keys"):  # an array has __getitem__ too: it raised IndexError
            raise TypeError(f"grads must be a dict of arrays, got {type(grads).__name__}")
        states = {name: getattr(self, name) for name in self._state_names}
        steps, numbers = [], {}
        for key, param in params.items():
            try:
                grad = grads[key]
            except KeyError:
                raise KeyError(f"grads has no entry for params[{key!r}]") from None
            if _is_number(param):
                numbers[key] = param
                param = _as_0d(param)
            held = {
                name: state[key]
                for name, state in states.items()
                if state is not None and key in state
            }
            steps.append((key, param, kernels.check_update(param, grad, held, key)))
        hyper = self._hyper()
        for name in self._state_names:
            if getattr(self, name) is None:
                setattr(self, name, {})
            state = getattr(self, name)
            for key, param, _ in steps:
                if key not in state:
                    state[key] = np.zeros_like(param)
        self._advance()
        for key, param, grad in steps:
            kernels._checked_update(
                self._kernel,
                param,
                grad,
                [getattr(self, name)[key] for name in self._state_names],
                hyper,
            )
        # A number cannot change in place: rebind it, as the book's `params[key] -= ...` does.
        for key, param, _ in steps:
            if key in numbers:
                params[key] = float(param) if type(numbers[key]) in (int, float) else param[()]

    def _hyper(self):
        raise NotImplementedError

    def _advance(self):
        """Called once per update, after every check passed, before the first key is updated."""


class SGD(_Optimizer):
    """param -= lr * grad."""

    _kernel = "sgd_update"

    def __init__(self, lr=0.01):
        self.lr = lr

    def _hyper(self):
        return (_real(self.lr, "lr"),)


class _WithMomentum(_Optimizer):
    """Momentum and Nesterov: the same arguments and state, each its own class as in the book."""

    _state_names = ("v",)

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = None

    def _hyper(self):
        return _real(self.lr, "lr"), _real(self.momentum, "momentum")


class Momentum(_WithMomentum):
    """v = momentum*v - lr*grad; param += v."""

    _kernel = "momentum_update"


class Nesterov(_WithMomentum):
    """Nesterov's accelerated gradient in the JP order (param first, then v):
    param += m*m*v; param -= (1+m)*lr*grad; v *= m; v -= lr*grad."""

    _kernel = "nesterov_update"


class AdaGrad(_Optimizer):
    """h += grad*grad; param -= lr*grad / (sqrt(h) + 1e-7)."""

    _kernel = "adagrad_update"
    _state_names = ("h",)

    def __init__(self, lr=0.01):
        self.lr = lr
        self.h = None

    def _hyper(self):
        return (_real(self.lr, "lr"),)


class RMSprop(_Optimizer):
    """h = decay_rate*h + (1-decay_rate)*grad*grad; param -= lr*grad / (sqrt(h) + 1e-7)."""

    _kernel = "rmsprop_update"
    _state_names = ("h",)

    def __init__(self, lr=0.01, decay_rate=0.99):
        self.lr = lr
        self.decay_rate = decay_rate
        self.h = None

    def _hyper(self):
        return _real(self.lr, "lr"), _real(self.decay_rate, "decay_rate")


class Adam(_Optimizer):
    """Adam with the bias correction folded into the step size, as the book does:
    lr_t = lr*sqrt(1-beta2**iter)/(1-beta1**iter); m += (1-beta1)*(grad-m);
    v += (1-beta2)*(grad**2-v); param -= lr_t*m / (sqrt(v) + 1e-7)."""

    _kernel = "adam_update"
    _state_names = ("m", "v")

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.iter = 0
        self.m = None
        self.v = None

    def _hyper(self):
        # The step this update takes is iter + 1: `iter` itself advances only once every check
        # has passed, so that a failed update leaves it as it was.
        beta1, beta2 = _real(self.beta1, "beta1"), _real(self.beta2, "beta2")
        step = self.iter + 1
        try:
            lr_t = self.lr * math.sqrt(1.0 - self.beta2**step) / (1.0 - self.beta1**step)
        except (TypeError, ValueError, ZeroDivisionError) as exc:
            raise ValueError(
                f"Adam's step size lr*sqrt(1-beta2**{step})/(1-beta1**{step}) "
                f"cannot be computed from lr={self.lr!r}, beta1={self.beta1!r}, "
                f"beta2={self.beta2!r}: {exc}"
            ) from None
        return _real(lr_t, "lr"), beta1, beta2

    def _advance(self):
        self.iter += 1
