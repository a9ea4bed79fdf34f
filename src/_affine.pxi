# Bindings for the affine kernels (fastscratch.kernels.affine_forward / affine_backward).
# Matrices are handed to the GEMM in the layout they already have (row-major, column-major, or a
# row-strided view): the transposition flag and leading dimension absorb it, so a Fortran-ordered
# W costs no copy. Only other layouts (negative or non-unit inner strides) are copied.
from libc.stdint cimport uint8_t
from fs_kernels cimport fs_index
from fs_affine cimport (fs_matrix_layout, fs_affine_forward, fs_affine_backward,
                        fs_affine_forward_widened)
from fs_checks cimport (checked_array, contiguous, is_float32, need_input_and_weights,
                        need_ndim, need_shape, blas_size)
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


cdef tuple _checked_affine(x, W):
    need_input_and_weights(x, W, 2)
    return _checked_affine_sizes(x, W)


cdef tuple _checked_affine_sizes(x, W):
    if x.shape[1] != W.shape[0]:
        raise ValueError(f"x must have {W.shape[0]} features per sample to match W {W.shape}, "
                         f"got {x.shape[1]}")
    for size, what in ((x.shape[0], "N"), (x.shape[1], "D"), (W.shape[1], "M")):
        blas_size(size, what)
    return x, W


def affine_forward(x, W, b):
    """x (N, D) @ W (D, M) + b (M,) -> (N, M), C-contiguous, x's dtype."""
    return _affine_forward(x, W, b, False)


def affine_relu_forward(x, W, b):
    """affine_forward, then relu_forward of its output: -> (out, mask), the same bits as the two
    calls, each block of rows put through the ReLU by the thread that computed it."""
    return _affine_forward(x, W, b, True)


cdef object _affine_forward(x, W, b, bint relu):
    cdef fs_matrix_layout lx, lw
    cdef uint8_t[:, ::1] mask_view
    cdef uint8_t *mask_at = NULL
    x, W = _checked_affine(x, W)
    b = contiguous(checked_array(b, "b"))
    checked_array(b, "b", x.dtype, "x")
    need_shape(b, "b", (W.shape[1],))
    out = np.empty((x.shape[0], W.shape[1]), dtype=x.dtype)
    if x.size == 0 or W.size == 0:
        out[...] = b
        return relu_forward(out) if relu else out
    if relu:
        mask = np.empty(out.shape, dtype=np.bool_)
        mask_view = mask.view(np.uint8)
        mask_at = &mask_view[0, 0]
    x = _gemm_operand(x, &lx)
    W = _gemm_operand(W, &lw)
    if is_float32(x):
        fs_affine_forward[float](x, lx, W, lw, b, out, mask_at)
    else:
        fs_affine_forward[double](x, lx, W, lw, b, out, mask_at)
    return (out, mask) if relu else out


def affine_forward_widened(x, W, b):
    """x (N, D) float32 @ W (D, M) float64 + b (M,) float64 -> (N, M) float64, as NumPy
    promotes: x widened to float64 a block of rows at a time (csrc/affine.h)."""
    return _affine_forward_widened(x, W, b, False)


def affine_relu_forward_widened(x, W, b):
    """affine_forward_widened, then relu_forward of its output: -> (out, mask), the same bits
    as the two calls."""
    return _affine_forward_widened(x, W, b, True)


cdef object _affine_forward_widened(x, W, b, bint relu):
    cdef fs_matrix_layout lw
    cdef const float[:, :] xv
    cdef const double[:, :] wv
    cdef const double[::1] bv
    cdef double[:, ::1] outv
    cdef uint8_t[:, ::1] mask_view
    cdef uint8_t *mask_at = NULL
    cdef fs_index ldx
    cdef int status
    checked_array(x, "x", np.float32)
    checked_array(W, "W", np.float64)
    need_ndim(x, "x", 2)
    need_ndim(W, "W", 2)
    x, W = _checked_affine_sizes(x, W)
    b = contiguous(checked_array(b, "b", np.float64))
    need_shape(b, "b", (W.shape[1],))
    out = np.empty((x.shape[0], W.shape[1]), dtype=np.float64)
    if x.size == 0 or W.size == 0:
        out[...] = b
        return relu_forward(out) if relu else out
    if relu:
        mask = np.empty(out.shape, dtype=np.bool_)
        mask_view = mask.view(np.uint8)
        mask_at = &mask_view[0, 0]
    # Rows read in place when each is contiguous; any other layout is copied once.
    if not (x.flags.aligned and x.strides[1] == 4 and x.strides[0] > 0
            and x.strides[0] % 4 == 0 and x.strides[0] // 4 >= x.shape[1]):
        x = np.ascontiguousarray(x)
    ldx = x.strides[0] // 4 if x.shape[0] > 1 else x.shape[1]
    W = _gemm_operand(W, &lw)
    xv, wv, bv, outv = x, W, b, out
    with nogil:
        status = fs_affine_forward_widened(&xv[0, 0], ldx, &wv[0, 0], lw, &bv[0], xv.shape[0],
                                           xv.shape[1], wv.shape[1], &outv[0, 0], mask_at)
    if status == -2:
        raise MemoryError("affine_forward_widened could not allocate its row buffers")
    return (out, mask) if relu else out


def affine_backward(dout, x, W, bint need_dx=True):
    """Gradients of affine_forward: dout (N, M) -> (dx (N, D), dW (D, M), db (M,)); dx is None
    when not `need_dx` (its product skipped)."""
    cdef fs_matrix_layout ldout, lx, lw
    x, W = _checked_affine(x, W)
    checked_array(dout, "dout")
    checked_array(dout, "dout", x.dtype, "x")
    need_shape(dout, "dout", (x.shape[0], W.shape[1]))
    dx = np.empty(x.shape, dtype=x.dtype) if need_dx else None
    dW = np.empty(W.shape, dtype=x.dtype)
    db = np.empty(W.shape[1], dtype=x.dtype)
    if x.size == 0 or W.size == 0:
        if need_dx:
            dx[...] = 0
        dW[...] = 0
        db[...] = dout.sum(axis=0)
        return dx, dW, db
    dout = _gemm_operand(dout, &ldout)
    x = _gemm_operand(x, &lx)
    W = _gemm_operand(W, &lw)
    if is_float32(x):
        fs_affine_backward[float](dout, ldout, x, lx, W, lw, dx, dW, db)
    else:
        fs_affine_backward[double](dout, ldout, x, lx, W, lw, dx, dW, db)
    return dx, dW, db
