# Bindings for the fused optimizer steps (the contract's *_update kernels): one pass in C
# updates param and its state arrays in place. Arrays that are not C-contiguous are updated
# through contiguous copies, written back only after the C has run, so an error never leaves a
# parameter half-updated. The checks stay few and cheap: small parameters (a conv filter of a
# few hundred values) spend more time here than in the C.
from fs_kernels cimport fs_index
from fs_optimizers cimport *
from fs_checks cimport checked_array, need_shape, need_writeable, c_order, c_data
import numpy as np


cdef object _param(object param):
    checked_array(param, "param")
    need_writeable(param, "param", "the optimizer updates it in place")
    return c_order(param)


cdef object _like(object a, str name, object param, bint state):
    """grad or a state array checked against param, returned C-contiguous."""
    checked_array(a, name, param.dtype, "param")
    need_shape(a, name, param.shape, "param")
    if state:
        need_writeable(a, name, "the optimizer updates it in place")
    return c_order(a)


cdef inline void _write_back(object work, object target):
    if work is not target:
        target[...] = work


def sgd_update(param, grad, double lr):
    """param -= lr * grad, in place."""
    p = _param(param)
    g = _like(grad, "grad", param, False)
    cdef fs_index n = p.size
    if n == 0:
        return
    cdef void *pp = c_data(p, True)
    cdef const void *pg = c_data(g, False)
    if p.dtype == np.float32:
        with nogil:
            fs_sgd_update_f32(<float *>pp, <const float *>pg, n, lr)
    else:
        with nogil:
            fs_sgd_update_f64(<double *>pp, <const double *>pg, n, lr)
    _write_back(p, param)


# Momentum, Nesterov, AdaGrad and RMSprop all step a param with one state array and at most two
# hyper-parameters: one binding body serves them through these C signatures.
ctypedef void (*state_step_f32)(float *, const float *, float *, fs_index, double,
                                double) noexcept nogil
ctypedef void (*state_step_f64)(double *, const double *, double *, fs_index, double,
                                double) noexcept nogil


cdef void _adagrad_f32(float *p, const float *g, float *h, fs_index n, double lr,
                       double unused) noexcept nogil:
    fs_adagrad_update_f32(p, g, h, n, lr)


cdef void _adagrad_f64(double *p, const double *g, double *h, fs_index n, double lr,
                       double unused) noexcept nogil:
    fs_adagrad_update_f64(p, g, h, n, lr)


cdef _state_update(object param, object grad, object state, str state_name,
                   state_step_f32 step_f32, state_step_f64 step_f64, double a, double b):
    p = _param(param)
    g = _like(grad, "grad", param, False)
    sw = _like(state, state_name, param, True)
    cdef fs_index n = p.size
    if n == 0:
        return
    cdef void *pp = c_data(p, True)
    cdef const void *pg = c_data(g, False)
    cdef void *ps = c_data(sw, True)
    if p.dtype == np.float32:
        with nogil:
            step_f32(<float *>pp, <const float *>pg, <float *>ps, n, a, b)
    else:
        with nogil:
            step_f64(<double *>pp, <const double *>pg, <double *>ps, n, a, b)
    _write_back(p, param)
    _write_back(sw, state)


def momentum_update(param, grad, v, double lr, double momentum):
    """v = momentum*v - lr*grad; param += v, in place."""
    _state_update(param, grad, v, "v", fs_momentum_update_f32, fs_momentum_update_f64, lr,
                  momentum)


def nesterov_update(param, grad, v, double lr, double momentum):
    """The book's (JP) order: param += m*m*v; param -= (1+m)*lr*grad; v *= m; v -= lr*grad."""
    _state_update(param, grad, v, "v", fs_nesterov_update_f32, fs_nesterov_update_f64, lr,
                  momentum)


def adagrad_update(param, grad, h, double lr):
    """h += grad*grad; param -= lr*grad / (sqrt(h) + 1e-7), in place."""
    _state_update(param, grad, h, "h", _adagrad_f32, _adagrad_f64, lr, 0.0)


def rmsprop_update(param, grad, h, double lr, double decay_rate):
    """h = decay*h + (1-decay)*grad*grad; param -= lr*grad / (sqrt(h) + 1e-7), in place."""
    _state_update(param, grad, h, "h", fs_rmsprop_update_f32, fs_rmsprop_update_f64, lr,
                  decay_rate)


def adam_update(param, grad, m, v, double lr_t, double beta1, double beta2):
    """m += (1-b1)*(grad-m); v += (1-b2)*(grad*grad-v); param -= lr_t*m / (sqrt(v) + 1e-7)."""
    p = _param(param)
    g = _like(grad, "grad", param, False)
    mw = _like(m, "m", param, True)
    vw = _like(v, "v", param, True)
    cdef fs_index n = p.size
    if n == 0:
        return
    cdef void *pp = c_data(p, True)
    cdef const void *pg = c_data(g, False)
    cdef void *pm = c_data(mw, True)
    cdef void *pv = c_data(vw, True)
    if p.dtype == np.float32:
        with nogil:
            fs_adam_update_f32(<float *>pp, <const float *>pg, <float *>pm, <float *>pv, n, lr_t,
                               beta1, beta2)
    else:
        with nogil:
            fs_adam_update_f64(<double *>pp, <const double *>pg, <double *>pm, <double *>pv, n,
                               lr_t, beta1, beta2)
    _write_back(p, param)
    _write_back(mw, m)
    _write_back(vw, v)
