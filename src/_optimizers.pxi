# Bindings for the fused optimizer steps (the contract's *_update kernels): one pass in C
# updates param and its state arrays in place, on their flat memory (see fs_flat.pxd). Arrays
# that are not C-contiguous or not aligned are updated through aligned contiguous copies,
# written back only after the C has run, so an error never leaves a parameter half-updated. The
# checks stay few and cheap: small parameters (a conv filter of a few hundred values) spend more
# time here than in the C.
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_STRIDES
from fs_optimizers cimport (fs_sgd_update, fs_momentum_update, fs_nesterov_update,
                            fs_adagrad_update, fs_rmsprop_update, fs_adam_update)
from fs_checks cimport checked_array, checked_like, is_float32, need_writeable
from fs_flat cimport flat, write_back
import numpy as np

_IN_PLACE = "the optimizer updates it in place"


cdef object _param(object param):
    checked_array(param, "param")
    need_writeable(param, "param", _IN_PLACE)
    return param


cdef object _grad(object grad, object param):
    return checked_like(grad, "grad", param, "param")


cdef object _state(object a, str name, object param):
    checked_like(a, name, param, "param")
    need_writeable(a, name, _IN_PLACE)
    return a


cdef int _byte_range(object a, char **lo, char **hi) except -1:
    """The bytes [lo, hi) that `a`'s elements span (lo == hi when it has none)."""
    cdef Py_buffer view
    cdef int i
    PyObject_GetBuffer(a, &view, PyBUF_STRIDES)
    lo[0] = hi[0] = <char *>view.buf
    if view.len > 0:
        for i in range(view.ndim):
            if view.strides[i] < 0:
                lo[0] += (view.shape[i] - 1) * view.strides[i]
            else:
                hi[0] += (view.shape[i] - 1) * view.strides[i]
        hi[0] += view.itemsize
    PyBuffer_Release(&view)
    return 0


cdef bint _overlap(tuple arrays) except -1:
    """Whether two of `arrays` (at most 4) share memory: their byte ranges first, O(1) each;
    only ranges that meet go to NumPy's exact test (views interleaved in one buffer meet without
    sharing), and a test too hard to finish counts as sharing."""
    cdef char *lo[4]
    cdef char *hi[4]
    cdef Py_ssize_t i, k, n = len(arrays)
    for i in range(n):
        _byte_range(arrays[i], &lo[i], &hi[i])
    for i in range(n):
        for k in range(i + 1, n):
            if lo[i] < hi[k] and lo[k] < hi[i] and lo[i] < hi[i] and lo[k] < hi[k]:
                try:
                    if np.shares_memory(arrays[i], arrays[k], max_work=1 << 16):
                        return True
                except np.exceptions.TooHardError:
                    return True
    return False


cdef object _book():
    """The book's statements, whole arrays one after the other (the reference backend): the
    update when grad or a state shares memory with param or another argument (issue 11 item 5).
    The C reads each array element by element once; with shared memory it would read values
    the book's order has already changed (Nesterov reads grad after param's first update, the
    momentum step grad after v's) or not yet changed, so a copy of grad would not do either.
    Overlap is a mistake or a curiosity, never the training loop's case: correctness over
    speed."""
    from fastscratch.reference import optimizers
    return optimizers


def sgd_update(param, grad, double lr):
    """param -= lr * grad, in place."""
    _param(param)
    _grad(grad, param)
    if _overlap((param, grad)):
        _book().sgd_update(param, grad, lr)
        return
    p, g = flat(param), flat(grad)
    if is_float32(param):
        fs_sgd_update[float](p, g, lr)
    else:
        fs_sgd_update[double](p, g, lr)
    write_back(p, param)


def momentum_update(param, grad, v, double lr, double momentum):
    """v = momentum*v - lr*grad; param += v, in place."""
    _param(param)
    _grad(grad, param)
    _state(v, "v", param)
    if _overlap((param, grad, v)):
        _book().momentum_update(param, grad, v, lr, momentum)
        return
    p, g = flat(param), flat(grad)
    vs = flat(v)
    if is_float32(param):
        fs_momentum_update[float](p, g, vs, lr, momentum)
    else:
        fs_momentum_update[double](p, g, vs, lr, momentum)
    write_back(p, param)
    write_back(vs, v)


def nesterov_update(param, grad, v, double lr, double momentum):
    """The book's (JP) order: param += m*m*v; param -= (1+m)*lr*grad; v *= m; v -= lr*grad."""
    _param(param)
    _grad(grad, param)
    _state(v, "v", param)
    if _overlap((param, grad, v)):
        _book().nesterov_update(param, grad, v, lr, momentum)
        return
    p, g = flat(param), flat(grad)
    vs = flat(v)
    if is_float32(param):
        fs_nesterov_update[float](p, g, vs, lr, momentum)
    else:
        fs_nesterov_update[double](p, g, vs, lr, momentum)
    write_back(p, param)
    write_back(vs, v)


def adagrad_update(param, grad, h, double lr):
    """h += grad*grad; param -= lr*grad / (sqrt(h) + 1e-7), in place."""
    _param(param)
    _grad(grad, param)
    _state(h, "h", param)
    if _overlap((param, grad, h)):
        _book().adagrad_update(param, grad, h, lr)
        return
    p, g = flat(param), flat(grad)
    hs = flat(h)
    if is_float32(param):
        fs_adagrad_update[float](p, g, hs, lr)
    else:
        fs_adagrad_update[double](p, g, hs, lr)
    write_back(p, param)
    write_back(hs, h)


def rmsprop_update(param, grad, h, double lr, double decay_rate):
    """h = decay*h + (1-decay)*grad*grad; param -= lr*grad / (sqrt(h) + 1e-7), in place."""
    _param(param)
    _grad(grad, param)
    _state(h, "h", param)
    if _overlap((param, grad, h)):
        _book().rmsprop_update(param, grad, h, lr, decay_rate)
        return
    p, g = flat(param), flat(grad)
    hs = flat(h)
    if is_float32(param):
        fs_rmsprop_update[float](p, g, hs, lr, decay_rate)
    else:
        fs_rmsprop_update[double](p, g, hs, lr, decay_rate)
    write_back(p, param)
    write_back(hs, h)


def adam_update(param, grad, m, v, double lr_t, double beta1, double beta2):
    """m += (1-b1)*(grad-m); v += (1-b2)*(grad*grad-v); param -= lr_t*m / (sqrt(v) + 1e-7)."""
    _param(param)
    _grad(grad, param)
    _state(m, "m", param)
    _state(v, "v", param)
    if _overlap((param, grad, m, v)):
        _book().adam_update(param, grad, m, v, lr_t, beta1, beta2)
        return
    p, g = flat(param), flat(grad)
    ms = flat(m)
    vs = flat(v)
    if is_float32(param):
        fs_adam_update[float](p, g, ms, vs, lr_t, beta1, beta2)
    else:
        fs_adam_update[double](p, g, ms, vs, lr_t, beta1, beta2)
    write_back(p, param)
    write_back(ms, m)
    write_back(vs, v)
