"""The kernel contract: every kernel the layers and optimizers call, written down once.

Each function here checks its arguments (errors name the argument, the expected and the actual
value; a TypeError or ValueError, whatever the argument), decides the compute dtype, and hands
the work to the backend in use
(`fastscratch.backend.current()`): `fastscratch.reference` (pure NumPy, obviously right) or
`fastscratch._native` (Cython -> C). Both backends implement every name in `KERNELS` with the
signature documented on the function here, and may assume what this module guarantees:

* array arguments are ``numpy.ndarray`` of one floating dtype, float32 or float64 (the compute
  dtype); any memory layout (a backend copies if it needs contiguity; it never writes an input
  unless the contract says "in place");
* shapes, sizes, stride >= 1, pad >= 0 and label ranges have been checked; a backward's
  arguments from its forward (x, W, cache, arg_max, mask, out, labels, one_hot, xc, xn, std)
  are checked as the forward checks its input, except two ranges each backend checks itself,
  refusing them alike: arg_max's window positions (a pass over arg_max) and the labels of
  softmax_loss_forward when they come as int64 of the right shape. The SoftmaxWithLoss layer,
  whose prepare_targets checked x and t, calls prepared_softmax_loss_forward and _backward,
  which check nothing again (on the book's gradient checks the checks cost 10-25% of a call);
* hyperparameters (lr, eps, ratio, ...) are Python floats: an np.float64 would turn a float32
  kernel's NumPy arithmetic float64 on the reference alone;
* results are new arrays of the compute dtype unless stated; ``arg_max`` is int64.

Edge cases, decided here once so that both backends give one answer (docs/compat.md):

* A window's stride may be any integer >= 1. A stride larger than the padded input gives one
  window per axis; the backend is handed the smallest stride that gives the same windows
  (`_window_backend`), so a huge stride (2**40, 2**70) computes on both backends.
* A window op (im2col, col2im, conv, pooling) on an empty input (N*C*H*W == 0) runs on the
  reference, whatever its sizes: there is nothing to compute natively, and NumPy handles any
  size. A non-empty input must have C, H + 2*pad and W + 2*pad < 2**31, and a convolution
  FN, C*FH*FW and out_h*out_w < 2**31 (the native kernels' sizes): a ValueError otherwise, on
  both backends, naming the argument.
* Filters and windows are at least 1x1: W with FH == 0 or FW == 0 is a ValueError (the book
  fails at a reshape).
* softmax of a 0-d array (one score) is 1 as a 0-d array, as the book's NumPy computes it;
  softmax along an empty last axis (no classes) is a ValueError.

Compute dtype: NumPy's promotion of the floating inputs (all-float32 stays float32, any float64
makes float64); integer or bool inputs compute in float64, float16 in float32, in either byte
order (a byte-swapped input is converted once to the native order). Complex, object, string and
extended-precision inputs are refused with a TypeError.

One kernel takes two dtypes: ``affine_forward_widened(x, W, b)``, a float32 x (N, D) against a
float64 W (D, M) and b (M,), giving float64 (N, M) as NumPy's promotion does. affine_forward
routes the book's float32 MNIST against its float64 nets there, so that x is widened inside the
kernel rather than by a float64 copy of the whole of x first.
"""

import numpy as np

from . import backend as _backend
from . import reference as _reference

# Calls this small go to the reference's NumPy whatever the backend: a native call's fixed cost
# (the binding's checks, buffer views, releasing the GIL) is larger than such work, and the book's
# scripts make many such calls (gradient checks on batches of 3). Both backends meet the same
# contract, so only the speed changes. Only where NumPy measured faster (docs/performance.md);
# sigmoid's forward, softmax, its loss's forward and batch norm are faster natively at every
# size. Each kernel picks its backend inline (`_reference if work <= TINY_X else
# _backend.current()`): at these sizes even one more function call shows.
TINY_PRODUCT_FORWARD = 1 << 17  # affine forward: multiply-adds
TINY_PRODUCT_BACKWARD = 1 << 15  # affine backward (its three products pay natively sooner)
TINY_RELU_FORWARD = 512  # elements
TINY_RELU_BACKWARD = 1024  # elements (a masked assignment in place)
TINY_SOFTMAX_LOSS_BACKWARD = 1024  # scores
TINY_SIGMOID_BACKWARD = 1024  # elements
TINY_DROPOUT = 4096  # elements, forward and backward (one comparison, one product)


# ---------------------------------------------------------------------------------------------
# dtype and argument checks shared by every kernel

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_F32, _F64 = _FLOATS
_BOOL = np.dtype(np.bool_)
# The inline tests' `type(x) is _ndarray`: one global lookup, where np.ndarray costs two (~20 ns
# each per test, on calls of ~1 us)
_ndarray = np.ndarray
_I64 = np.dtype(np.int64)


def _native_order(dt):
    """dt in the machine's byte order (a byte-swapped float64 is float64)."""
    return dt if dt.isnative else dt.newbyteorder("=")


def _same_float_arrays(*arrays):
    """True when every argument is an ndarray of one float32 or float64 dtype: the case every
    layer call of a float net is, which then needs no conversion (one test instead of three).
    NumPy's builtin dtypes are singletons, so `is` compares them."""
    first = arrays[0]
    if type(first) is not _ndarray or (first.dtype is not _F64 and first.dtype is not _F32):
        return False
    for a in arrays:
        if type(a) is not _ndarray or a.dtype is not first.dtype:
            return False
    return True


def _as_float64_if_mixed(*arrays):
    """The arrays as float64 when they are float32 and float64 ndarrays mixed, as NumPy promotes
    them (the book's float32 MNIST against its float64 weights); None otherwise. The second
    fast case of the per-call kernels, after "one float dtype"."""
    for a in arrays:
        if type(a) is not _ndarray or (a.dtype is not _F64 and a.dtype is not _F32):
            return None
    return [a if a.dtype is _F64 else a.astype(_F64) for a in arrays]


def compute_dtype(*arrays):
    """The dtype a kernel computes in for these inputs (see the module docstring)."""
    # The common case first, cheaply: it runs on every kernel call, and on the book's tiny
    # batches the full promotion below cost as much as the kernel.
    if _same_float_arrays(*arrays):
        return arrays[0].dtype
    dtypes = []
    for a in arrays:
        dt = a.dtype if hasattr(a, "dtype") else np.asarray(a).dtype
        if dt.kind in "biuf":
            # byte-swapped numbers (a file written on a big-endian machine) compute as NumPy
            # does: as_compute converts them once to the native order
            dt = _native_order(dt)
        if dt.kind in "biu":
            dt = np.dtype(np.float64)
        elif dt == np.float16:
            dt = np.dtype(np.float32)
        elif dt not in _FLOATS:
            raise TypeError(
                f"fastscratch computes in float32 or float64; an input has dtype {dt}, "
                "which it refuses (complex, object, string and extended precision "
                "are not supported)"
            )
        dtypes.append(dt)
    return np.result_type(*dtypes)


def as_compute(a, name, dtype):
    """`a` as an ndarray of `dtype` (a copy only when the dtype differs)."""
    if not isinstance(a, np.ndarray):
        a = _as_array(a, name)
    return a if a.dtype == dtype else a.astype(dtype)


def _as_array(value, name):
    """value (not an ndarray) as one, of the dtype NumPy reads in it; None, strings, objects,
    complex numbers and ragged lists are refused, naming the argument."""
    try:
        a = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be an array, got {type(value).__name__}") from exc
    if a.dtype.kind not in "biuf" or a.dtype.itemsize > 8:
        raise TypeError(
            f"{name} must be an array of real numbers, got {type(value).__name__} "
            f"of dtype {a.dtype}"
        )
    return a


def check_ndim(a, name, ndim, what):
    if a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D {what}, got shape {a.shape}")


def check_shape(a, name, shape):
    if tuple(a.shape) != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {tuple(a.shape)}")


def check_int(value, name, minimum):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            value = int(value)
        else:
            raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_float(value, name):
    """value as a Python float: a real number (int, float, NumPy scalar or 0-d array), so that
    it never changes a result's dtype (an np.float64 would make a float32 kernel's NumPy
    arithmetic float64 on the reference alone)."""
    if type(value) is float:
        return value
    if not isinstance(value, (str, bytes)):
        try:
            return float(value)
        except (TypeError, ValueError):
            pass
    raise TypeError(f"{name} must be a real number, got {value!r}")


def check_sizes(value, name, axes="NCHW", minimum=0):
    """value as a tuple of integer sizes >= minimum, one per letter of `axes` (an input's
    (N, C, H, W), a net's input_dim (C, H, W))."""
    expected = f"({', '.join(axes)}) of sizes >= {minimum}"
    try:
        sizes = tuple(value)
    except TypeError:
        raise TypeError(f"{name} must be a tuple {expected}, got {value!r}") from None
    if len(sizes) != len(axes):
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    try:
        return tuple(check_int(size, name, minimum) for size in sizes)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be {expected}, got {value!r}") from None


def window_output_size(size, window, stride, pad, axis, what="filter"):
    """(size + 2*pad - window) // stride + 1, after checking that the window fits."""
    if size + 2 * pad < window:
        raise ValueError(
            f"the {what} ({axis} = {window}) must fit the padded input "
            f"({axis}: {size} + 2*pad {pad} = {size + 2 * pad})"
        )
    return (size + 2 * pad - window) // stride + 1


def check_window(height, width, stride, pad, names=("filter_h", "filter_w")):
    """(height, width, stride, pad) of a sliding window as ints, each checked: sizes and stride
    >= 1, pad >= 0. `names` are the window's two argument names, for the messages."""
    return (
        check_int(height, names[0], 1),
        check_int(width, names[1], 1),
        check_int(stride, "stride", 1),
        check_int(pad, "pad", 0),
    )


# The native kernels' geometry (src/fs_checks.pxd) and the BLAS's matrix sizes are below 2**31.
SIZE_LIMIT = 1 << 31
# A padded side below this keeps every size a window kernel computes from it (a plane, out_h *
# out_w) below SIZE_LIMIT: the fast paths' one test for all of them.
_FAST_SIDE = 1 << 15


def _window_backend(shape, name, window_h, window_w, stride, pad):
    """(backend, stride) for a window (window_h, window_w) sliding with `stride` and `pad` over an
    input of `shape` (N, C, H, W) that the caller has checked it fits; `name` is the argument
    that holds the input. The stride handed on is the smallest giving the same windows: a stride
    beyond the padded input only means one window per axis, and the backends need not each cope
    with a huge one (the native's is 64-bit, the reference's col2im pads by stride - 1). An empty
    input goes to the reference; a non-empty one must fit the native kernels' sizes."""
    N, C, H, W = shape
    stride = min(stride, max(H + 2 * pad - window_h, W + 2 * pad - window_w) + 1)
    if N * C * H * W == 0:
        return _reference, stride
    for size, what in ((C, "C"), (H + 2 * pad, "H + 2*pad"), (W + 2 * pad, "W + 2*pad")):
        if size >= SIZE_LIMIT:
            raise ValueError(
                f"{name} must have {what} < 2**31 (the kernels' sizes), got {size} "
                f"({name} shape {tuple(shape)}, pad {pad})"
            )
    return _backend.current(), stride


def _arrays(*pairs):
    """as_array of each (value, name); plain ndarrays pass as they are."""
    return [value if type(value) is _ndarray else as_array(value, name) for value, name in pairs]


def as_array(value, name):
    """`value`, an argument named `name`, as a plain ndarray: array-likes converted (None,
    strings, objects and ragged lists refused by name), subclasses as _plain makes them."""
    if isinstance(value, np.ndarray):
        return value if type(value) is _ndarray else _plain(value, name)
    if value is None:
        raise TypeError(f"{name} must be an array, got None")
    return _as_array(value, name)


def _plain(a, name):
    """The ndarray subclass `a` (np.matrix, np.memmap, ...) as a plain ndarray view of its data:
    the reference's NumPy would multiply np.matrix operands as matrices and keep them 2-D, and
    the native bindings would take a matrix's ravel() for a row. A masked array is refused:
    the native kernels would ignore its mask where NumPy's operations honour it."""
    if isinstance(a, np.ma.MaskedArray):
        raise TypeError(
            f"{name} is a masked array, whose mask the kernels cannot honour; pass "
            f"{name}.filled(value) or {name}.data"
        )
    return np.asarray(a)


# ---------------------------------------------------------------------------------------------
# patch transforms


def im2col(x, filter_h, filter_w, stride=1, pad=0):
    """(N, C, H, W) -> col (N*out_h*out_w, C*filter_h*filter_w) in the book's layout:
    row (n*out_h + oy)*out_w + ox, column (c*filter_h + fy)*filter_w + fx; zeros for padding."""
    (x,) = _arrays((x, "x"))
    check_ndim(x, "x", 4, "input (N, C, H, W)")
    filter_h, filter_w, stride, pad = check_window(filter_h, filter_w, stride, pad)
    window_output_size(x.shape[2], filter_h, stride, pad, "filter_h")
    window_output_size(x.shape[3], filter_w, stride, pad, "filter_w")
    backend, stride = _window_backend(x.shape, "x", filter_h, filter_w, stride, pad)
    x = as_compute(x, "x", compute_dtype(x))
    return backend.im2col(x, filter_h, filter_w, stride, pad)


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    """The accumulating adjoint of im2col: each pixel of the (N, C, H, W) result is the sum of
    every col entry that im2col copied from it (not an inverse)."""
    (col,) = _arrays((col, "col"))
    check_ndim(col, "col", 2, "patch matrix")
    input_shape = check_sizes(input_shape, "input_shape")
    filter_h, filter_w, stride, pad = check_window(filter_h, filter_w, stride, pad)
    N, C, H, W = input_shape
    out_h = window_output_size(H, filter_h, stride, pad, "filter_h")
    out_w = window_output_size(W, filter_w, stride, pad, "filter_w")
    check_shape(col, "col", (N * out_h * out_w, C * filter_h * filter_w))
    backend, stride = _window_backend(input_shape, "input_shape", filter_h, filter_w, stride, pad)
    col = as_compute(col, "col", compute_dtype(col))
    return backend.col2im(col, input_shape, filter_h, filter_w, stride, pad)


# ---------------------------------------------------------------------------------------------
# convolution


def _plain_conv(x, W, stride, pad):
    """Whether a convolution's x, W, stride and pad are the layers' case: ndarrays of one float
    dtype, the right shapes, plain int stride and pad with a window that fits, sizes far from
    the kernels' limits (tested inline: on a batch of one the full checks cost a tenth of the
    convolution)."""
    return (
        type(x) is _ndarray
        and type(W) is _ndarray
        and ((dt := x.dtype) is _F64 or dt is _F32)
        and W.dtype is dt
        and len(xs := x.shape) == 4
        and len(ws := W.shape) == 4
        and xs[1] == ws[1]
        and type(stride) is int
        and type(pad) is int
        and 1 <= stride
        and 0 <= pad
        and ws[2] >= 1
        and ws[3] >= 1
        and (hp := xs[2] + 2 * pad) >= ws[2]
        and (wp := xs[3] + 2 * pad) >= ws[3]
        and hp < _FAST_SIDE
        and wp < _FAST_SIDE
        and stride <= max(hp - ws[2], wp - ws[3]) + 1
        and ws[0] * ws[1] * ws[2] * ws[3] < SIZE_LIMIT
        and x.size > 0
    )


def conv_forward(x, W, b, stride, pad):
    """x (N, C, H, W), W (FN, C, FH, FW), b (FN,) -> (out (N, FN, out_h, out_w), cache).
    `cache` is what the backend keeps for conv_backward: None (native) or x's patch matrix
    im2col(x, FH, FW, stride, pad) (reference); not for callers to read."""
    # The layers' case first (_plain_conv): on a batch of one the checks below cost a tenth of
    # the convolution.
    if (
        _plain_conv(x, W, stride, pad)
        and type(b) is _ndarray
        and b.dtype is x.dtype
        and b.shape == W.shape[:1]
    ):
        return _backend.current().conv_forward(x, W, b, stride, pad)
    x, W, b = _arrays((x, "x"), (W, "W"), (b, "b"))
    backend, stride, pad, _ = _conv_geometry(x, W, stride, pad)
    if b.size != W.shape[0]:
        raise ValueError(f"b must have {W.shape[0]} elements (one per filter), got shape {b.shape}")
    dt = compute_dtype(x, W, b)
    return backend.conv_forward(
        as_compute(x, "x", dt),
        as_compute(W, "W", dt),
        as_compute(b, "b", dt).reshape(-1),
        stride,
        pad,
    )


def _conv_geometry(x, W, stride, pad):
    """(backend, stride, pad, (out_h, out_w)) for a convolution of the ndarray x (N, C, H, W) by
    the ndarray W (FN, C, FH, FW), after checking that they fit each other, stride and pad, and
    the kernels' sizes; the stride handed on is _window_backend's (the same windows)."""
    check_ndim(x, "x", 4, "input (N, C, H, W)")
    check_ndim(W, "W", 4, "filter (FN, C, FH, FW)")
    if x.shape[1] != W.shape[1]:
        raise ValueError(
            f"x must have {W.shape[1]} channels to match W {W.shape}, "
            f"got {x.shape[1]} (x shape {x.shape})"
        )
    if W.shape[2] < 1 or W.shape[3] < 1:
        # The book fails at a reshape; the reference alone would slide an empty window past
        # the input's edge and return the bias.
        raise ValueError(f"W must have filters of at least 1x1 (FH, FW >= 1), got shape {W.shape}")
    stride = check_int(stride, "stride", 1)
    pad = check_int(pad, "pad", 0)
    out_h = window_output_size(x.shape[2], W.shape[2], stride, pad, "FH")
    out_w = window_output_size(x.shape[3], W.shape[3], stride, pad, "FW")
    backend, stride = _window_backend(x.shape, "x", W.shape[2], W.shape[3], stride, pad)
    if x.size:  # an empty x runs on the reference, whatever the sizes
        FN, C, FH, FW = W.shape
        for size, what in ((FN, "FN"), (C * FH * FW, "C*FH*FW")):
            if size >= SIZE_LIMIT:
                raise ValueError(
                    f"W must have {what} < 2**31 (the kernels' sizes), got {size} "
                    f"(W shape {W.shape})"
                )
        if out_h * out_w >= SIZE_LIMIT:
            raise ValueError(
                f"the output must have out_h*out_w < 2**31 per image (the kernels' sizes), got "
                f"{out_h}*{out_w} (x shape {x.shape}, W shape {W.shape}, pad {pad})"
            )
    return backend, stride, pad, (out_h, out_w)


def conv_relu_forward(x, W, b, stride, pad):
    """conv_forward, then relu_forward of its output: -> (out, cache, mask), the same bits and
    the same checks as the two calls. The native backend does both in one pass over the output
    where its correlation path runs (5x5, stride 1, few channels: SimpleConvNet's first layer);
    otherwise, and on the reference backend, it is the two calls."""
    fused = getattr(_backend.current(), "conv_relu_forward", None)
    if (
        fused is not None
        and _plain_conv(x, W, stride, pad)
        and type(b) is _ndarray
        and b.dtype is x.dtype
        and b.shape == W.shape[:1]
    ):
        return fused(x, W, b, stride, pad)
    out, cache = conv_forward(x, W, b, stride, pad)
    out, mask = relu_forward(out)
    return out, cache, mask


def conv_backward(dout, x, W, cache, stride, pad, need_dx=True):
    """Gradients of conv_forward: dout (N, FN, out_h, out_w) -> (dx, dW, db), with the
    x, W, cache, stride and pad of that forward call. They are computed in the promotion of
    dout, x and W (dout carries the forward's dtype, bias included, back from the layers above).
    need_dx=False: dx is None, its products skipped (a net's first layer)."""
    if _plain_conv(x, W, stride, pad) and type(dout) is _ndarray and dout.dtype is x.dtype:
        # The layers' case, tested inline as conv_forward's.
        (N, C, H, Wd), (FN, _, FH, FW) = x.shape, W.shape
        out_h = (H + 2 * pad - FH) // stride + 1
        out_w = (Wd + 2 * pad - FW) // stride + 1
        if dout.shape == (N, FN, out_h, out_w) and (
            cache is None
            or (
                type(cache) is _ndarray
                and cache.dtype is x.dtype
                and cache.shape == (N * out_h * out_w, C * FH * FW)
            )
        ):
            return _backend.current().conv_backward(dout, x, W, cache, stride, pad, need_dx=need_dx)
    dout, x, W = _arrays((dout, "dout"), (x, "x"), (W, "W"))
    # Anything else: x, W, stride and pad checked as conv_forward checks them.
    backend, stride, pad, (out_h, out_w) = _conv_geometry(x, W, stride, pad)
    N, C = x.shape[:2]
    FN, _, FH, FW = W.shape
    check_shape(dout, "dout", (N, FN, out_h, out_w))
    col_shape = (N * out_h * out_w, C * FH * FW)
    if cache is not None and not (
        type(cache) is _ndarray and cache.shape == col_shape and cache.dtype in _FLOATS
    ):
        found = (
            f"{cache.dtype} {cache.shape}"
            if isinstance(cache, np.ndarray)
            else type(cache).__name__
        )
        raise ValueError(
            f"cache must be what conv_forward returned for this x and W: None or x's patch "
            f"matrix, float32 or float64 of shape {col_shape}, got {found}"
        )
    dt = compute_dtype(dout, x, W)
    return backend.conv_backward(
        as_compute(dout, "dout", dt),
        as_compute(x, "x", dt),
        as_compute(W, "W", dt),
        cache,
        stride,
        pad,
        need_dx=need_dx,
    )


# ---------------------------------------------------------------------------------------------
# max pooling


def pool_forward(x, pool_h, pool_w, stride, pad):
    """Max pooling of x (N, C, H, W) -> (out (N, C, out_h, out_w), arg_max).
    arg_max: int64, 1-D, length N*out_h*out_w*C in (n, oy, ox, c) order, holding the position
    ky*pool_w + kx of the first maximum in each window; padding never wins (pad < window)."""
    # The layers' case tested inline, as conv_forward's.
    if (
        type(x) is _ndarray
        and ((dt := x.dtype) is _F64 or dt is _F32)
        and len(xs := x.shape) == 4
        and x.size  # non-empty: H, W >= 1 too
        and _plain_pool_window(xs[2], xs[3], pool_h, pool_w, stride, pad)
    ):
        return _backend.current().pool_forward(x, pool_h, pool_w, stride, pad)
    (x,) = _arrays((x, "x"))
    check_ndim(x, "x", 4, "input (N, C, H, W)")
    backend, pool_h, pool_w, stride, pad, _ = _pool_geometry(
        x.shape, "x", pool_h, pool_w, stride, pad
    )
    x = as_compute(x, "x", compute_dtype(x))
    return backend.pool_forward(x, pool_h, pool_w, stride, pad)


def _plain_pool_window(H, W, pool_h, pool_w, stride, pad):
    """Whether a pooling window over an H x W input (H, W >= 1) is the layers' case: plain int
    sizes, stride and pad that fit, the padded input far from the kernels' limits."""
    return (
        type(pool_h) is int
        and type(pool_w) is int
        and type(stride) is int
        and type(pad) is int
        and 1 <= stride
        and 0 <= pad < pool_h
        and pad < pool_w
        and (hp := H + 2 * pad) >= pool_h
        and (wp := W + 2 * pad) >= pool_w
        and hp < _FAST_SIDE
        and wp < _FAST_SIDE
        and stride <= max(hp - pool_h, wp - pool_w) + 1
    )


def _pool_geometry(shape, name, pool_h, pool_w, stride, pad):
    """(backend, pool_h, pool_w, stride, pad, (out_h, out_w)) for max pooling an input of
    `shape` (N, C, H, W), held by the argument `name`, after checking the window against it;
    the stride handed on is _window_backend's (the same windows)."""
    pool_h, pool_w, stride, pad = check_window(pool_h, pool_w, stride, pad, ("pool_h", "pool_w"))
    if pad >= pool_h or pad >= pool_w:
        raise ValueError(
            f"pad must be smaller than the pooling window {pool_h}x{pool_w} "
            f"(a window of padding alone has no maximum), got {pad}"
        )
    out_h = window_output_size(shape[2], pool_h, stride, pad, "pool_h", "pooling window")
    out_w = window_output_size(shape[3], pool_w, stride, pad, "pool_w", "pooling window")
    if shape[0] * shape[1] > 0 and min(shape[2:]) == 0:
        # Checked here because such an input is empty and would go to the reference, which
        # would let padding win every window.
        raise ValueError(
            f"{name} must have H, W >= 1 to pool (a window of padding alone has no maximum), "
            f"got shape {tuple(shape)}"
        )
    backend, stride = _window_backend(shape, name, pool_h, pool_w, stride, pad)
    return backend, pool_h, pool_w, stride, pad, (out_h, out_w)


def pool_backward(dout, arg_max, x_shape, pool_h, pool_w, stride, pad):
    """Routes dout (N, C, out_h, out_w) to the first maximum of each window -> dx (x_shape);
    overlapping windows accumulate. arg_max, x_shape and the window are pool_forward's: checked
    as it checks them, and arg_max's positions by the backend (each refuses one outside the
    window with a ValueError, writing nothing)."""
    if (
        type(dout) is _ndarray
        and ((dt := dout.dtype) is _F64 or dt is _F32)
        and type(arg_max) is _ndarray
        and arg_max.dtype is _I64
        and type(x_shape) is tuple
        and len(x_shape) == 4
        and len(ds := dout.shape) == 4
        and x_shape[:2] == ds[:2]
        and type(H := x_shape[2]) is int
        and type(W := x_shape[3]) is int
        and H > 0
        and W > 0
        and _plain_pool_window(H, W, pool_h, pool_w, stride, pad)
        and ds[2:] == ((H + 2 * pad - pool_h) // stride + 1, (W + 2 * pad - pool_w) // stride + 1)
        and arg_max.shape == (dout.size,)
        and dout.size
    ):
        # The layers' case, tested inline as pool_forward's; N and C as ints from dout's shape.
        shape = (ds[0], ds[1], H, W)
        return _backend.current().pool_backward(dout, arg_max, shape, pool_h, pool_w, stride, pad)
    dout, arg_max = _arrays((dout, "dout"), (arg_max, "arg_max"))
    x_shape = check_sizes(x_shape, "x_shape")
    backend, pool_h, pool_w, stride, pad, out_size = _pool_geometry(
        x_shape, "x_shape", pool_h, pool_w, stride, pad
    )
    check_shape(dout, "dout", x_shape[:2] + out_size)
    if arg_max.dtype.kind not in "iu":
        raise TypeError(f"arg_max must hold integer window positions, got dtype {arg_max.dtype}")
    check_shape(arg_max, "arg_max", (dout.size,))
    dout = as_compute(dout, "dout", compute_dtype(dout))
    arg_max = arg_max.astype(np.int64, copy=False)
    return backend.pool_backward(dout, arg_max, x_shape, pool_h, pool_w, stride, pad)


# ---------------------------------------------------------------------------------------------
# affine


def affine_forward(x, W, b):
    """x (N, D) @ W (D, M) + b (M,) -> (N, M)."""
    # The nets' case (ndarrays of one float dtype, the right shapes) tested inline in one
    # expression: on the book's batches of 3 the whole product costs about as much as a few
    # function calls.
    if not (
        type(x) is _ndarray
        and type(W) is _ndarray
        and type(b) is _ndarray
        and ((dt := x.dtype) is _F64 or dt is _F32)
        and W.dtype is dt
        and b.dtype is dt
        and len(xs := x.shape) == 2
        and len(ws := W.shape) == 2
        and b.shape == ws[1:]
        and xs[1] == ws[0]
    ):
        if _is_widened_affine(x, W, b):
            # float32 input, float64 weights: the book's MNIST against its nets. Widened inside
            # the kernel a block at a time, not by a float64 copy of all of x first.
            xs, ws = x.shape, W.shape
            backend = (
                _reference if xs[0] * xs[1] * ws[1] <= TINY_PRODUCT_FORWARD else _backend.current()
            )
            return backend.affine_forward_widened(x, W, b)
        x, W, b = _affine_forward_args(x, W, b)
        xs, ws = x.shape, W.shape
    work = xs[0] * xs[1] * ws[1]
    backend = _reference if work <= TINY_PRODUCT_FORWARD else _backend.current()
    return backend.affine_forward(x, W, b)


def affine_relu_forward(x, W, b):
    """affine_forward, then relu_forward of its output: -> (out, mask), the same bits and the
    same checks as the two calls. The native backend puts each block of out's rows through the
    ReLU right after the thread that computed it (csrc/affine.h): one pass less over out. Small
    products, other arguments and the reference backend make the two calls."""
    # The size first: the book's gradient checks call this on batches of 3 tens of thousands of
    # times, where the two calls are all there is to do and every test costs.
    if (
        type(x) is _ndarray
        and type(W) is _ndarray
        and len(xs := x.shape) == 2
        and len(ws := W.shape) == 2
        and xs[0] * xs[1] * ws[1] > TINY_PRODUCT_FORWARD
        and type(b) is _ndarray
        and b.shape == ws[1:]
        and xs[1] == ws[0]
        and b.dtype is W.dtype
    ):
        dt = x.dtype
        if W.dtype is dt and (dt is _F64 or dt is _F32):
            fused = getattr(_backend.current(), "affine_relu_forward", None)
        elif dt is _F32 and W.dtype is _F64:
            fused = getattr(_backend.current(), "affine_relu_forward_widened", None)
        else:
            fused = None
        if fused is not None:
            return fused(x, W, b)
    return relu_forward(affine_forward(x, W, b))


def _is_widened_affine(x, W, b):
    """Whether affine_forward's arguments are a 2-D float32 x against a float64 W and b of the
    right shapes (ndarrays all)."""
    return (
        type(x) is _ndarray
        and type(W) is _ndarray
        and type(b) is _ndarray
        and x.dtype is _F32
        and W.dtype is _F64
        and b.dtype is _F64
        and x.ndim == 2
        and W.ndim == 2
        and b.shape == W.shape[1:]
        and x.shape[1] == W.shape[0]
    )


def _affine_forward_args(x, W, b):
    """affine_forward's arguments in any other case, checked (each message naming the argument)
    and converted to one compute dtype; float32 mixed with float64 costs one astype."""
    promoted = _as_float64_if_mixed(x, W, b)
    if promoted is None:
        x, W, b = _arrays((x, "x"), (W, "W"), (b, "b"))
    else:
        x, W, b = promoted
    check_ndim(x, "x", 2, "input (N, D) (the layer flattens N-D input)")
    check_ndim(W, "W", 2, "weight (D, M)")
    if x.shape[1] != W.shape[0]:
        raise ValueError(
            f"x must have {W.shape[0]} features per sample to match W {W.shape}, got {x.shape[1]}"
        )
    if b.size != W.shape[1] or b.ndim > 2:
        raise ValueError(f"b must have {W.shape[1]} elements, got shape {b.shape}")
    if promoted is not None:
        return x, W, b.reshape(-1)
    dt = compute_dtype(x, W, b)
    return as_compute(x, "x", dt), as_compute(W, "W", dt), as_compute(b, "b", dt).reshape(-1)


def affine_backward(dout, x, W, need_dx=True):
    """Gradients of affine_forward: dout (N, M) -> (dx (N, D), dW (D, M), db (M,)), with the x
    and W of that forward call. need_dx=False: dx is None, its product skipped (a net's first
    layer)."""
    if not (
        type(dout) is _ndarray
        and type(x) is _ndarray
        and type(W) is _ndarray
        and ((dt := x.dtype) is _F64 or dt is _F32)
        and dout.dtype is dt
        and W.dtype is dt
        and len(xs := x.shape) == 2
        and len(ws := W.shape) == 2
        and xs[1] == ws[0]
        and dout.shape == (xs[0], ws[1])
    ):
        # Anything else: x and W checked as affine_forward checks them, dout against them,
        # then all three promoted together (float32 mixed with float64 cheaply, anything else
        # in full).
        dout, x, W = _arrays((dout, "dout"), (x, "x"), (W, "W"))
        check_ndim(x, "x", 2, "input (N, D) (the layer flattens N-D input)")
        check_ndim(W, "W", 2, "weight (D, M)")
        if x.shape[1] != W.shape[0]:
            raise ValueError(
                f"x must have {W.shape[0]} features per sample to match W {W.shape}, "
                f"got {x.shape[1]}"
            )
        xs, ws = x.shape, W.shape
        check_shape(dout, "dout", (xs[0], ws[1]))
        promoted = _as_float64_if_mixed(dout, x, W)
        if promoted is None:
            dt = compute_dtype(dout, x, W)
            promoted = [as_compute(a, name, dt) for a, name in ((dout, "dout"), (x, "x"), (W, "W"))]
        dout, x, W = promoted
    work = xs[0] * xs[1] * ws[1]
    backend = _reference if work <= TINY_PRODUCT_BACKWARD else _backend.current()
    return backend.affine_backward(dout, x, W, need_dx)


# ---------------------------------------------------------------------------------------------
# activations


def relu_forward(x):
    """-> (out, mask): out is a new array, x with entries <= 0 set to 0; mask = (x <= 0)."""
    # A float ndarray, the nets' case, needs nothing converted: tested inline, as this call can
    # cost less than a microsecond of NumPy (the book's gradient checks on batches of 3).
    if type(x) is not _ndarray or (x.dtype is not _F64 and x.dtype is not _F32):
        (x,) = _arrays((x, "x"))
        x = as_compute(x, "x", compute_dtype(x))
    backend = _reference if x.size <= TINY_RELU_FORWARD else _backend.current()
    return backend.relu_forward(x)


def relu_backward(dout, mask):
    """Sets dout[mask] = 0 in place and returns dout (the book's Relu does exactly this). A dout
    that cannot take that in place (read-only, not a float array) is copied first."""
    # The nets' case (a float array and a bool mask of its shape) is tested inline: this call
    # costs ~1 us of NumPy on the gradient checks' batches of 3, the per-call target being 1.2x
    # of the book's (a test of mask's type would add 2%).
    try:
        plain = (
            type(dout) is _ndarray
            and ((dt := dout.dtype) is _F64 or dt is _F32)
            and dout.shape == mask.shape
            and mask.dtype is _BOOL
        )
    except AttributeError:  # mask is no array: named below
        plain = False
    if plain and dout.size <= TINY_RELU_BACKWARD:
        # The reference's statement, without the call to it; a read-only dout refuses it (a
        # ValueError, nothing written) and takes the general path below, which copies it.
        # Asking dout.flags first cost 50 ns of the ~1.2 us.
        try:
            np.putmask(dout, mask, 0)
            return dout
        except ValueError:
            pass
    if not (plain and dout.flags.writeable):
        mask = _mask(mask)
        dout = _writeable_float(dout, "dout")
        check_shape(dout, "dout", mask.shape)
    if dout.size <= TINY_RELU_BACKWARD:
        np.putmask(dout, mask, 0)
        return dout
    return _backend.current().relu_backward(dout, mask)


def _mask(mask):
    """mask as a bool ndarray (relu_forward's and dropout_forward_train's `mask`): anything else
    is refused, as a float or int "mask" would zero by its own rule, not the forward's."""
    (mask,) = _arrays((mask, "mask"))
    if mask.dtype is not _BOOL:
        raise TypeError(f"mask must be a bool array (the forward's), got dtype {mask.dtype}")
    return mask


def _writeable_float(x, name):
    """x if it is a writeable float ndarray (float32/float64, native byte order), else a copy
    of it in its compute dtype (for an in-place backward that must not write to the caller's
    read-only or integer array)."""
    if type(x) is not _ndarray:
        # refuses None, strings, ragged lists and masked arrays by name; a subclass's view
        (x,) = _arrays((x, name))
    if (x.dtype is _F64 or x.dtype is _F32) and x.flags.writeable:
        return x
    return np.array(x, dtype=compute_dtype(x))


def sigmoid_forward(x):
    """-> 1 / (1 + exp(-x))."""
    if type(x) is not _ndarray or (x.dtype is not _F64 and x.dtype is not _F32):
        (x,) = _arrays((x, "x"))
        x = as_compute(x, "x", compute_dtype(x))
    return _backend.current().sigmoid_forward(x)


def sigmoid_backward(dout, out):
    """-> dout * (1 - out) * out."""
    if (
        type(dout) is _ndarray
        and type(out) is _ndarray  # an np.matrix out would make `dx *= dout` a matrix product
        and ((dt := dout.dtype) is _F64 or dt is _F32)
        and out.dtype is dt
        and dout.shape == out.shape
    ):
        # The nets' case (out is the layer's float forward result), tested inline.
        if out.size <= TINY_SIGMOID_BACKWARD:
            # The reference's statements, without the call to it (~80 ns of the book's ~1.4 us
            # on a batch of 3, the per-call target being 1.2x of it)
            dx = 1.0 - out
            dx *= dout
            dx *= out
            return dx
        return _backend.current().sigmoid_backward(dout, out)
    dout, out = _arrays((dout, "dout"), (out, "out"))
    check_shape(dout, "dout", out.shape)
    dt = compute_dtype(dout, out)
    return _backend.current().sigmoid_backward(
        as_compute(dout, "dout", dt), as_compute(out, "out", dt)
    )


# ---------------------------------------------------------------------------------------------
# softmax and its loss


def softmax(x):
    """Softmax along the last axis, the maximum subtracted first. A 0-d x is one score, whose
    softmax is 1 (a 0-d array); an empty last axis (no classes) is a ValueError."""
    (x,) = _arrays((x, "x"))
    x = as_compute(x, "x", compute_dtype(x))
    if x.ndim == 0:
        # The book's NumPy reduces a 0-d array along axis -1 and gives 1; the backends take
        # rows, so it goes as one row of one class.
        return _backend.current().softmax(x.reshape(1)).reshape(())
    if x.shape[-1] == 0:
        raise ValueError(
            f"x must have at least one entry (class) along its last axis, got shape {x.shape}"
        )
    return _backend.current().softmax(x)


def _labels_or_onehot(t, y_shape):
    """t as int64 labels (N,) in range, or as a one-hot/probability array of y's shape (N, K).
    For one sample (N == 1) any t of K entries is its one-hot row: no other reading exists (the
    book reshapes t to (1, K) for 1-D scores)."""
    N, K = y_shape
    if t.shape == y_shape or (N == 1 and t.size == K and K != 1):
        return t.reshape(y_shape), True
    if t.size != N:
        # Only x's own shape is one-hot: any other array of its size (t.T above all) would be
        # reshaped into other rows and give a wrong loss without a word; the book raises.
        hint = " (transposed? one-hot t is (N, K), one row per sample)" if t.shape == (K, N) else ""
        raise ValueError(
            f"t must hold {N} labels (shape ({N},)) or be one-hot of the scores' shape "
            f"{y_shape}, got shape {t.shape}{hint}"
        )
    if t.dtype.kind not in "iu":
        if t.dtype.kind == "f" and np.all(np.mod(t, 1) == 0):
            pass
        else:
            raise TypeError(f"t must hold integer class labels, got dtype {t.dtype}")
    labels = t.reshape(-1).astype(np.int64, copy=False)
    _check_label_range(labels, K)
    return labels, False


def _check_label_range(labels, K, name="t"):
    """Refuses int64 labels outside [0, K) (a negative one would silently pick a class from
    the end); `name` is the argument that held them."""
    if labels.size <= 32:
        # The gradient checks' few labels: Python's min and max of a list cost ~0.5 us, a
        # NumPy reduction ~1.5 us (the loss itself is ~3 us there)
        values = labels.tolist()
        if not values or (min(values) >= 0 and max(values) < K):
            return
    elif labels.view(np.uint64).max() < K:  # one reduction: seen unsigned, negatives are huge
        return
    bad = labels[(labels < 0) | (labels >= K)][0]
    raise ValueError(f"{name} must hold labels in [0, {K}), got {bad}")


def prepare_targets(x, t):
    """(x, labels, one_hot) ready for softmax_loss_*: x as (N, K) in the compute dtype (1-D x is
    one sample); labels int64 (N,) in [0, K) -- for one-hot t, t.argmax(axis=1), as the book
    does; one_hot is t as (N, K) in the compute dtype, or None when t held labels. One-hot t must
    have x's shape (any shape of K entries for one sample); t.T (K, N) or any other array of
    x's size is a ValueError naming t's shape and the expected one."""
    if type(x) is _ndarray and type(t) is _ndarray:
        # The nets' and the book's functions' cases, tested inline: this runs once per loss of
        # a gradient check, where the loss itself costs a few microseconds.
        if x.ndim == 1 and x.size > 1 and t.shape == x.shape:
            x, t = x.reshape(1, x.size), t.reshape(1, x.size)  # one sample and its one-hot row
        if x.ndim == 2 and x.shape[1] > 1:
            if t.shape == x.shape:
                if t.dtype is x.dtype:
                    one_hot = t if x.dtype is _F64 or x.dtype is _F32 else None
                elif x.dtype is _F64 and t.dtype.kind in "biu":  # ch04's int one-hot rows
                    one_hot = t.astype(_F64)
                elif (promoted := _as_float64_if_mixed(x, t)) is not None:
                    x, one_hot = promoted
                else:
                    one_hot = None
                if one_hot is not None:
                    return x, one_hot.argmax(axis=1).astype(np.int64, copy=False), one_hot
            if (
                t.ndim == 1
                and t.shape[0] == x.shape[0]
                and t.dtype.kind in "iu"
                and ((dt := x.dtype) is _F64 or dt is _F32)
            ):
                labels = t.astype(np.int64, copy=False)
                _check_label_range(labels, x.shape[1])
                return x, labels, None
    x, t = _arrays((x, "x"), (t, "t"))
    if x.ndim == 1:
        x = x.reshape(1, -1)
    check_ndim(x, "x", 2, "scores (N, K)")
    if x.shape[1] == 0:
        raise ValueError(f"x must have at least one class (K >= 1), got shape {x.shape}")
    t, is_one_hot = _labels_or_onehot(t, x.shape)
    if is_one_hot:
        dt = compute_dtype(x, t)
        one_hot = as_compute(t, "t", dt)
        labels = one_hot.argmax(axis=1).astype(np.int64, copy=False)
    else:
        dt = compute_dtype(x)
        one_hot, labels = None, t
    return as_compute(x, "x", dt), labels, one_hot


def softmax_loss_forward(x, labels):
    """x (N, K) scores, labels int64 (N,) in [0, K) (prepare_targets' output) -> (loss, y):
    y = softmax(x) and loss = -sum(log(y[n, labels[n]] + 1e-7)) / N, a NumPy scalar of x's
    dtype. Labels out of range are refused by the backend (ValueError)."""
    if not (
        type(x) is _ndarray
        and ((dt := x.dtype) is _F64 or dt is _F32)
        and len(xs := x.shape) == 2
        and xs[1] > 0
        and type(labels) is _ndarray
        and labels.dtype is _I64
        and labels.shape == xs[:1]
    ):
        x = _scores(x, "x")
        labels = _loss_labels(labels, x.shape)
    return _backend.current().softmax_loss_forward(x, labels)


def prepared_softmax_loss_forward(x, labels):
    """softmax_loss_forward of prepare_targets' x and labels, as they came, nothing checked
    again: the SoftmaxWithLoss layer's forward (the backend still refuses labels out of range)."""
    return _backend.current().softmax_loss_forward(x, labels)


def softmax_loss_backward(y, labels, one_hot):
    """-> dx = (y - one_hot) / N, or for labels (one_hot None) y with 1 taken off at each label,
    / N. (The book's SoftmaxWithLoss ignores dout.) dx has the dtype of y (promoted with
    one_hot). Every argument is checked here (labels' range too); the SoftmaxWithLoss layer,
    whose forward checked them, calls prepared_softmax_loss_backward."""
    y = _scores(y, "y")
    if one_hot is None:
        labels = _loss_labels(labels, y.shape)
    else:
        (one_hot,) = _arrays((one_hot, "one_hot"))
        check_shape(one_hot, "one_hot", y.shape)
        dt = compute_dtype(y, one_hot)
        y, one_hot = as_compute(y, "y", dt), as_compute(one_hot, "one_hot", dt)
    return prepared_softmax_loss_backward(y, labels, one_hot)


def prepared_softmax_loss_backward(y, labels, one_hot):
    """softmax_loss_backward of softmax_loss_forward's y and prepare_targets' labels and one_hot,
    as they came, nothing checked again: the SoftmaxWithLoss layer's backward, which on the
    book's gradient checks costs about a microsecond (a check of the labels' range alone would
    add a quarter)."""
    backend = _reference if y.size <= TINY_SOFTMAX_LOSS_BACKWARD else _backend.current()
    return backend.softmax_loss_backward(y, labels, one_hot)


def _scores(x, name):
    """x as a 2-D array (N, K) of K >= 1 classes in its compute dtype."""
    (x,) = _arrays((x, name))
    check_ndim(x, name, 2, "scores (N, K)")
    if x.shape[1] == 0:
        raise ValueError(f"{name} must have at least one class (K >= 1), got shape {x.shape}")
    return as_compute(x, name, compute_dtype(x))


def _loss_labels(labels, shape):
    """labels as int64 (N,) in [0, K) for scores of `shape` (N, K)."""
    (labels,) = _arrays((labels, "labels"))
    if labels.dtype.kind not in "iu":
        raise TypeError(f"labels must hold integer class labels, got dtype {labels.dtype}")
    check_shape(labels, "labels", shape[:1])
    labels = labels.astype(np.int64, copy=False)
    _check_label_range(labels, shape[1], "labels")
    return labels


# ---------------------------------------------------------------------------------------------
# batch normalisation (per activation, on 2-D (N, D) input; the layer flattens)


def batchnorm_forward_train(x, gamma, beta, eps):
    """-> (out, mu, var, xc, xn, std): mu = x.mean(0), xc = x - mu, var = mean(xc**2, 0),
    std = sqrt(var + eps), xn = xc / std, out = gamma * xn + beta."""
    if (
        _same_float_arrays(x, gamma, beta)
        and x.ndim == 2
        and x.shape[0] > 0
        and gamma.shape == beta.shape == (x.shape[1],)
    ):
        return _backend.current().batchnorm_forward_train(x, gamma, beta, check_float(eps, "eps"))
    x, gamma, beta = _arrays((x, "x"), (gamma, "gamma"), (beta, "beta"))
    check_ndim(x, "x", 2, "input (N, D)")
    for p, name in ((gamma, "gamma"), (beta, "beta")):
        if p.size != x.shape[1]:
            raise ValueError(
                f"{name} must have {x.shape[1]} elements (one per activation), got shape {p.shape}"
            )
    if x.shape[0] == 0:
        raise ValueError("x must hold at least one sample to compute batch statistics, got 0")
    dt = compute_dtype(x, gamma, beta)
    return _backend.current().batchnorm_forward_train(
        as_compute(x, "x", dt),
        as_compute(gamma, "gamma", dt).reshape(-1),
        as_compute(beta, "beta", dt).reshape(-1),
        check_float(eps, "eps"),
    )


def batchnorm_forward_test(x, gamma, beta, running_mean, running_var, eps):
    """-> gamma * (x - running_mean) / sqrt(running_var + eps) + beta."""
    x, gamma, beta, running_mean, running_var = _arrays(
        (x, "x"),
        (gamma, "gamma"),
        (beta, "beta"),
        (running_mean, "running_mean"),
        (running_var, "running_var"),
    )
    check_ndim(x, "x", 2, "input (N, D)")
    for p, name in (
        (gamma, "gamma"),
        (beta, "beta"),
        (running_mean, "running_mean"),
        (running_var, "running_var"),
    ):
        if p.size != x.shape[1]:
            raise ValueError(f"{name} must have {x.shape[1]} elements, got shape {p.shape}")
    dt = compute_dtype(x, gamma, beta, running_mean, running_var)
    return _backend.current().batchnorm_forward_test(
        as_compute(x, "x", dt),
        as_compute(gamma, "gamma", dt).reshape(-1),
        as_compute(beta, "beta", dt).reshape(-1),
        as_compute(running_mean, "running_mean", dt).reshape(-1),
        as_compute(running_var, "running_var", dt).reshape(-1),
        check_float(eps, "eps"),
    )


def batchnorm_backward(dout, gamma, xc, xn, std):
    """-> (dx, dgamma, dbeta) through the staged graph of the book's BatchNormalization:
    dbeta = sum(dout, 0); dgamma = sum(xn*dout, 0); dxn = gamma*dout; dxc = dxn/std;
    dstd = -sum(dxn*xc/std**2, 0); dvar = 0.5*dstd/std; dxc += (2/N)*xc*dvar;
    dmu = sum(dxc, 0); dx = dxc - dmu/N."""
    if (
        _same_float_arrays(dout, gamma, xc, xn, std)
        and len(shape := dout.shape) == 2
        and xc.shape == shape
        and xn.shape == shape
        and gamma.shape == shape[1:]
        and std.shape == shape[1:]
    ):
        return _backend.current().batchnorm_backward(dout, gamma, xc, xn, std)
    # Anything else: gamma, xc, xn and std (batchnorm_forward_train's) checked against dout.
    dout, gamma, xc, xn, std = _arrays(
        (dout, "dout"), (gamma, "gamma"), (xc, "xc"), (xn, "xn"), (std, "std")
    )
    check_ndim(xc, "xc", 2, "centred input (N, D)")
    check_shape(dout, "dout", xc.shape)
    check_shape(xn, "xn", xc.shape)
    for p, name in ((gamma, "gamma"), (std, "std")):
        if p.size != xc.shape[1]:
            raise ValueError(
                f"{name} must have {xc.shape[1]} elements (one per activation), got shape {p.shape}"
            )
    dt = compute_dtype(dout, gamma, xc, xn, std)
    return _backend.current().batchnorm_backward(
        as_compute(dout, "dout", dt),
        as_compute(gamma, "gamma", dt).reshape(-1),
        as_compute(xc, "xc", dt),
        as_compute(xn, "xn", dt),
        as_compute(std, "std", dt),
    )


# ---------------------------------------------------------------------------------------------
# dropout (the book's: no scaling at training time; the layer draws the random numbers from
# np.random so that np.random.seed reproduces the book's runs)


def dropout_forward_train(x, rand, ratio):
    """-> (out, mask): mask = rand > ratio (bool), out = x * mask. rand: the caller's uniform
    draws, floats of x's shape (np.random.rand gives float64)."""
    if type(x) is not _ndarray or (x.dtype is not _F64 and x.dtype is not _F32):
        (x,) = _arrays((x, "x"))
        x = as_compute(x, "x", compute_dtype(x))
    if not (type(rand) is _ndarray and rand.dtype is _F64 and rand.shape == x.shape):
        (rand,) = _arrays((rand, "rand"))
        if rand.dtype.kind != "f" or rand.dtype.itemsize > 8:
            raise TypeError(
                f"rand must have a float dtype (np.random.rand gives float64), got {rand.dtype}"
            )
        check_shape(rand, "rand", x.shape)
    if type(ratio) is not float:
        ratio = check_float(ratio, "ratio")
    backend = _reference if x.size <= TINY_DROPOUT else _backend.current()
    return backend.dropout_forward_train(x, rand, ratio)


def dropout_backward(dout, mask):
    """-> dout * mask (mask: the forward's bool array)."""
    if not (
        type(dout) is _ndarray
        and (dout.dtype is _F64 or dout.dtype is _F32)
        and type(mask) is _ndarray
        and mask.dtype is _BOOL
        and dout.shape == mask.shape
    ):
        mask = _mask(mask)
        (dout,) = _arrays((dout, "dout"))
        check_shape(dout, "dout", mask.shape)
        dout = as_compute(dout, "dout", compute_dtype(dout))
    if dout.size <= TINY_DROPOUT:
        # the reference's statement, without the call to it (as relu_backward)
        return dout * mask.astype(dout.dtype)
    return _backend.current().dropout_backward(dout, mask)


# ---------------------------------------------------------------------------------------------
# optimizer updates: in place on `param` and the state arrays, which are writeable arrays of
# param's shape and dtype; `grad` has been converted to param's dtype and shape. Any of them may
# be non-contiguous: a backend that needs contiguity copies and writes the result back.


def check_update(param, grad, states=None, key=None):
    """grad as an array of param's dtype, after checking one optimizer step's arguments: param a
    writeable float32 or float64 ndarray (it is updated in place), grad real numbers of param's
    shape, each of `states` ({name: array}) a writeable array of param's shape and dtype. With
    `key`, the messages name the arrays as an optimizer holds them: params[key], grads[key],
    v[key]."""
    if key is None:
        param_name, grad_name = "param", "grad"
    else:
        param_name, grad_name = f"params[{key!r}]", f"grads[{key!r}]"
    if not isinstance(param, np.ndarray) or _native_order(param.dtype) not in _FLOATS:
        raise TypeError(
            f"{param_name} must be a float32 or float64 ndarray (it is updated in "
            f"place), got {getattr(param, 'dtype', type(param).__name__)}"
        )
    if not param.flags.writeable:
        raise ValueError(f"{param_name} must be writeable: the optimizer updates it in place")
    if type(param) is not _ndarray:
        _plain(param, param_name)  # refuses a masked array before any key is updated
    if type(grad) is not _ndarray:
        if isinstance(grad, np.ndarray):
            grad = _plain(grad, grad_name)
        else:
            try:
                grad = np.asarray(grad)
            except Exception as exc:  # ragged lists and the like
                raise TypeError(f"{grad_name} must be an array, got {type(grad).__name__}") from exc
    if grad.dtype.kind not in "biuf":
        raise TypeError(f"{grad_name} must hold real numbers, got dtype {grad.dtype}")
    if grad.shape != param.shape:
        raise ValueError(
            f"{grad_name} must have the shape of {param_name} {param.shape}, got {grad.shape}"
        )
    for name, s in (states or {}).items():
        if not (
            isinstance(s, np.ndarray)
            and not isinstance(s, np.ma.MaskedArray)
            and s.shape == param.shape
            and s.dtype == param.dtype
            and s.flags.writeable
        ):
            state_name = name if key is None else f"{name}[{key!r}]"
            found = (
                f"{s.dtype} {s.shape}{'' if s.flags.writeable else ', read-only'}"
                if isinstance(s, np.ndarray)
                else type(s).__name__
            )
            raise ValueError(
                f"{state_name} ({found}) no longer matches {param_name} "
                f"({param.dtype} {param.shape}): optimizer state must be a writeable "
                "array of its param's shape and dtype; reset the optimizer state"
            )
    return grad.astype(param.dtype, copy=False)


def _update(kind, param, grad, states, *hyper):
    _checked_update(kind, param, check_update(param, grad, states), states.values(), hyper)


def _checked_update(kind, param, grad, states, hyper):
    """Run the backend's `kind` update on arguments check_update has already passed (grad as it
    returned it), with float hyperparameters: the optimizers check every key of a step first,
    then run each key's update through here, so that nothing is checked twice."""
    if type(param) is not _ndarray:
        # np.matrix, np.memmap... (check_update refused masked arrays): updated in place
        # through plain views of the same memory; the optimizer's states are zeros_like(param)
        param, *states = (np.asarray(a) for a in (param, *states))
    if not param.dtype.isnative:
        # A byte-swapped param (and its state, of its dtype) is updated in place as NumPy would:
        # computed on native-order copies, which are written back.
        native = _native_order(param.dtype)
        held = [a.astype(native) for a in (param, *states)]
        getattr(_backend.current(), kind)(held[0], grad.astype(native), *held[1:], *hyper)
        for target, result in zip((param, *states), held):
            target[...] = result
        return
    getattr(_backend.current(), kind)(param, grad, *states, *hyper)


def sgd_update(param, grad, lr):
    """param -= lr * grad."""
    _update("sgd_update", param, grad, {}, check_float(lr, "lr"))


def momentum_update(param, grad, v, lr, momentum):
    """v = momentum*v - lr*grad; param += v."""
    _update(
        "momentum_update",
        param,
        grad,
        {"v": v},
        check_float(lr, "lr"),
        check_float(momentum, "momentum"),
    )


def nesterov_update(param, grad, v, lr, momentum):
    """The book's (JP) order: param += m*m*v; param -= (1+m)*lr*grad; v *= m; v -= lr*grad."""
    _update(
        "nesterov_update",
        param,
        grad,
        {"v": v},
        check_float(lr, "lr"),
        check_float(momentum, "momentum"),
    )


def adagrad_update(param, grad, h, lr):
    """h += grad*grad; param -= lr*grad / (sqrt(h) + 1e-7)."""
    _update("adagrad_update", param, grad, {"h": h}, check_float(lr, "lr"))


def rmsprop_update(param, grad, h, lr, decay_rate):
    """h = decay*h + (1-decay)*grad*grad; param -= lr*grad / (sqrt(h) + 1e-7)."""
    _update(
        "rmsprop_update",
        param,
        grad,
        {"h": h},
        check_float(lr, "lr"),
        check_float(decay_rate, "decay_rate"),
    )


def adam_update(param, grad, m, v, lr_t, beta1, beta2):
    """m += (1-b1)*(grad-m); v += (1-b2)*(grad*grad-v); param -= lr_t*m / (sqrt(v) + 1e-7)."""
    _update(
        "adam_update",
        param,
        grad,
        {"m": m, "v": v},
        check_float(lr_t, "lr_t"),
        check_float(beta1, "beta1"),
        check_float(beta2, "beta2"),
    )


# Every kernel a backend implements, by name.
KERNELS = (
    "im2col",
    "col2im",
    "conv_forward",
    "conv_backward",
    "pool_forward",
    "pool_backward",
    "affine_forward",
    "affine_forward_widened",
    "affine_backward",
    "relu_forward",
    "relu_backward",
    "sigmoid_forward",
    "sigmoid_backward",
    "softmax",
    "softmax_loss_forward",
    "softmax_loss_backward",
    "batchnorm_forward_train",
    "batchnorm_forward_test",
    "batchnorm_backward",
    "dropout_forward_train",
    "dropout_backward",
    "sgd_update",
    "momentum_update",
    "nesterov_update",
    "adagrad_update",
    "rmsprop_update",
    "adam_update",
)
