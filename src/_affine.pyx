# Bindings for the affine kernels (fastscratch.kernels.affine_forward / affine_backward).
# Matrices are handed to the GEMM in the layout they already have (row-major, column-major, or a
# row-strided view): the transposition flag and leading dimension absorb it, so a Fortran-ordered
# W costs no copy. Only other layouts (negative or non-unit inner strides) are copied.
from cython cimport floating
from fs_kernels cimport fs_index
from fs_affine cimport (fs_matrix_layout, fs_affine_forward_f32, fs_affine_forward_f64,
                        fs_affine_backward_f32, fs_affine_backward_f64)
from fs_checks cimport checked_array, need_ndim, need_shape, blas_size
import numpy as np


cdef object _gemm_operand(object a, fs_matrix_layout *layout):
    """`a` (2-D) as the GEMM can read it, copied only when no (trans, ld) describes it."""
    cdef fs_index rows = a.shape[0], cols = a.shape[1], item = a.itemsize
    cdef fs_index s0 = a.strides[0], s1 = a.strides[1]
    if a.flags.aligned:
        if a.flags.c_contiguous:
            layout.trans, layout.ld = 0, max(cols, 1)
            return a
        if a.flags.f_contiguous:
            layout.trans, layout.ld = 1, max(rows, 1)
            return a
        if s1 == item and s0 > 0 and s0 % item == 0 and s0 // item >= cols:
            layout.trans, layout.ld = 0, s0 // item
            blas_size(layout.ld, "a leading dimension")
            return a
        if s0 == item and s1 > 0 and s1 % item == 0 and s1 // item >= rows:
            layout.trans, layout.ld = 1, s1 // item
            blas_size(layout.ld, "a leading dimension")
            return a
    layout.trans, layout.ld = 0, max(cols, 1)
    return np.array(a, order="C")


cdef void _forward(const floating[:, :] x, fs_matrix_layout lx, const floating[:, :] w,
                   fs_matrix_layout lw, const floating[::1] b, floating[:, ::1] out):
    with nogil:
        if floating is float:
            fs_affine_forward_f32(&x[0, 0], lx, &w[0, 0], lw, &b[0], x.shape[0], x.shape[1],
                                  w.shape[1], &out[0, 0])
        else:
            fs_affine_forward_f64(&x[0, 0], lx, &w[0, 0], lw, &b[0], x.shape[0], x.shape[1],
                                  w.shape[1], &out[0, 0])


cdef void _backward(const floating[:, :] dout, fs_matrix_layout ldout, const floating[:, :] x,
                    fs_matrix_layout lx, const floating[:, :] w, fs_matrix_layout lw,
                    floating[:, ::1] dx, floating[:, ::1] dw, floating[::1] db):
    with nogil:
        if floating is float:
            fs_affine_backward_f32(&dout[0, 0], ldout, &x[0, 0], lx, &w[0, 0], lw, x.shape[0],
                                   x.shape[1], w.shape[1], &dx[0, 0], &dw[0, 0], &db[0])
        else:
            fs_affine_backward_f64(&dout[0, 0], ldout, &x[0, 0], lx, &w[0, 0], lw, x.shape[0],
                                   x.shape[1], w.shape[1], &dx[0, 0], &dw[0, 0], &db[0])


cdef tuple _checked(x, W):
    checked_array(x, "x")
    checked_array(W, "W")
    need_ndim(x, "x", 2)
    need_ndim(W, "W", 2)
    checked_array(W, "W", x.dtype, "x")
    if x.shape[1] != W.shape[0]:
        raise ValueError(f"x must have {W.shape[0]} features per sample to match W {W.shape}, "
                         f"got {x.shape[1]}")
    for size, what in ((x.shape[0], "N"), (x.shape[1], "D"), (W.shape[1], "M")):
        blas_size(size, what)
    return x, W


def affine_forward(x, W, b):
    """x (N, D) @ W (D, M) + b (M,) -> (N, M), C-contiguous, x's dtype."""
    cdef fs_matrix_layout lx, lw
    x, W = _checked(x, W)
    b = np.ascontiguousarray(checked_array(b, "b"))
    checked_array(b, "b", x.dtype, "x")
    need_shape(b, "b", (W.shape[1],))
    out = np.empty((x.shape[0], W.shape[1]), dtype=x.dtype)
    if x.size == 0 or W.size == 0:
        out[...] = b
        return out
    x = _gemm_operand(x, &lx)
    W = _gemm_operand(W, &lw)
    if x.dtype == np.float32:
        _forward[float](x, lx, W, lw, b, out)
    else:
        _forward[double](x, lx, W, lw, b, out)
    return out


def affine_backward(dout, x, W):
    """Gradients of affine_forward: dout (N, M) -> (dx (N, D), dW (D, M), db (M,))."""
    cdef fs_matrix_layout ldout, lx, lw
    x, W = _checked(x, W)
    checked_array(dout, "dout")
    checked_array(dout, "dout", x.dtype, "x")
    need_shape(dout, "dout", (x.shape[0], W.shape[1]))
    dx = np.empty(x.shape, dtype=x.dtype)
    dW = np.empty(W.shape, dtype=x.dtype)
    db = np.empty(W.shape[1], dtype=x.dtype)
    if x.size == 0 or W.size == 0:
        dx[...] = 0
        dW[...] = 0
        db[...] = dout.sum(axis=0)
        return dx, dW, db
    dout = _gemm_operand(dout, &ldout)
    x = _gemm_operand(x, &lx)
    W = _gemm_operand(W, &lw)
    if x.dtype == np.float32:
        _backward[float](dout, ldout, x, lx, W, lw, dx, dW, db)
    else:
        _backward[double](dout, ldout, x, lx, W, lw, dx, dW, db)
    return dx, dW, db
