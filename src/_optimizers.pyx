# Bindings for the fused optimizer steps (the contract's *_update kernels): one pass in C
# updates param and its state arrays in place, on their flat memory (see fs_flat.pxd). Arrays
# that are not C-contiguous are updated through contiguous copies, written back only after the
# C has run, so an error never leaves a parameter half-updated. The checks stay few and cheap:
# small parameters (a conv filter of a few hundred values) spend more time here than in the C.
from fs_optimizers cimport (fs_sgd_update, fs_momentum_update, fs_nesterov_update,
                            fs_adagrad_update, fs_rmsprop_update, fs_adam_update)
from fs_checks cimport checked_array, checked_like, is_float32, need_writeable
from fs_flat cimport write_back
import numpy as np

_IN_PLACE = "the optimizer updates it in place"


cdef object _param(object param):
    checked_array(param, "param")
    need_writeable(param, "param", _IN_PLACE)
    return param.ravel()


cdef object _grad(object grad, object param):
    return checked_like(grad, "grad", param, "param").ravel()


cdef object _state(object a, str name, object param):
    checked_like(a, name, param, "param")
    need_writeable(a, name, _IN_PLACE)
    return a.ravel()


def sgd_update(param, grad, double lr):
    """param -= lr * grad, in place."""
    p = _param(param)
    g = _grad(grad, param)
    if is_float32(param):
        fs_sgd_update[float](p, g, lr)
    else:
        fs_sgd_update[double](p, g, lr)
    write_back(p, param)


def momentum_update(param, grad, v, double lr, double momentum):
    """v = momentum*v - lr*grad; param += v, in place."""
    p = _param(param)
    g = _grad(grad, param)
    vs = _state(v, "v", param)
    if is_float32(param):
        fs_momentum_update[float](p, g, vs, lr, momentum)
    else:
        fs_momentum_update[double](p, g, vs, lr, momentum)
    write_back(p, param)
    write_back(vs, v)


def nesterov_update(param, grad, v, double lr, double momentum):
    """The book's (JP) order: param += m*m*v; param -= (1+m)*lr*grad; v *= m; v -= lr*grad."""
    p = _param(param)
    g = _grad(grad, param)
    vs = _state(v, "v", param)
    if is_float32(param):
        fs_nesterov_update[float](p, g, vs, lr, momentum)
    else:
        fs_nesterov_update[double](p, g, vs, lr, momentum)
    write_back(p, param)
    write_back(vs, v)


def adagrad_update(param, grad, h, double lr):
    """h += grad*grad; param -= lr*grad / (sqrt(h) + 1e-7), in place."""
    p = _param(param)
    g = _grad(grad, param)
    hs = _state(h, "h", param)
    if is_float32(param):
        fs_adagrad_update[float](p, g, hs, lr)
    else:
        fs_adagrad_update[double](p, g, hs, lr)
    write_back(p, param)
    write_back(hs, h)


def rmsprop_update(param, grad, h, double lr, double decay_rate):
    """h = decay*h + (1-decay)*grad*grad; param -= lr*grad / (sqrt(h) + 1e-7), in place."""
    p = _param(param)
    g = _grad(grad, param)
    hs = _state(h, "h", param)
    if is_float32(param):
        fs_rmsprop_update[float](p, g, hs, lr, decay_rate)
    else:
        fs_rmsprop_update[double](p, g, hs, lr, decay_rate)
    write_back(p, param)
    write_back(hs, h)


def adam_update(param, grad, m, v, double lr_t, double beta1, double beta2):
    """m += (1-b1)*(grad-m); v += (1-b2)*(grad*grad-v); param -= lr_t*m / (sqrt(v) + 1e-7)."""
    p = _param(param)
    g = _grad(grad, param)
    ms = _state(m, "m", param)
    vs = _state(v, "v", param)
    if is_float32(param):
        fs_adam_update[float](p, g, ms, vs, lr_t, beta1, beta2)
    else:
        fs_adam_update[double](p, g, ms, vs, lr_t, beta1, beta2)
    write_back(p, param)
    write_back(ms, m)
    write_back(vs, v)
