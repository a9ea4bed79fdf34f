# Bindings for the convolution kernels (fastscratch.kernels.conv_forward / conv_backward).
from fs_kernels cimport fs_index, fs_patch_geometry
from fs_conv cimport (FS_CONV_AUTO, FS_CONV_IMAGES_PARALLEL, FS_CONV_BLAS_PARALLEL,
                      fs_conv_forward, fs_conv_relu_forward, fs_conv_backward, fs_conv_path, FS_CONV_WINOGRAD_AUTO,
                      FS_CONV_WINOGRAD_OFF, FS_CONV_WINOGRAD_ALWAYS, FS_CONV_PATH_IM2COL,
                      FS_CONV_PATH_SHIFTED, FS_CONV_PATH_WINOGRAD, FS_CONV_PATH_WINOGRAD4,
                      FS_CONV_PATH_CORRELATION,
                      fs_conv_set_winograd, fs_conv_get_winograd, fs_conv_set_winograd_tile,
                      fs_conv_get_winograd_tile)
from fs_checks cimport (checked_array, contiguous, is_float32, need_input_and_weights, need_ndim,
                        need_shape, patch_geometry, blas_size)
import numpy as np

_STRATEGIES = {"auto": FS_CONV_AUTO, "images": FS_CONV_IMAGES_PARALLEL,
               "blas": FS_CONV_BLAS_PARALLEL}

_WINOGRAD_MODES = {"auto": FS_CONV_WINOGRAD_AUTO, "off": FS_CONV_WINOGRAD_OFF,
                   "always": FS_CONV_WINOGRAD_ALWAYS}
_PATHS = {FS_CONV_PATH_IM2COL: "im2col", FS_CONV_PATH_SHIFTED: "shifted",
          FS_CONV_PATH_WINOGRAD: "winograd", FS_CONV_PATH_WINOGRAD4: "winograd4",
          FS_CONV_PATH_CORRELATION: "correlation"}


cdef int _strategy(str threading) except -1:
    if threading not in _STRATEGIES:
        raise ValueError(f"threading must be one of {sorted(_STRATEGIES)}, got {threading!r}")
    return _STRATEGIES[threading]


cdef tuple _checked_conv(x, W, fs_index stride, fs_index pad, fs_patch_geometry *g):
    """x and W contiguous, checked against each other; fills the patch geometry."""
    need_input_and_weights(x, W, 4)
    x, W = contiguous(x), contiguous(W)
    if x.shape[1] != W.shape[1]:
        raise ValueError(f"x must have {W.shape[1]} channels to match W {W.shape}, "
                         f"got {x.shape[1]} (x shape {x.shape})")
    g[0] = patch_geometry(x.shape[1], x.shape[2], x.shape[3], W.shape[2], W.shape[3], stride, pad)
    blas_size(W.shape[0], "the number of filters")
    blas_size(g.channels * g.kernel_h * g.kernel_w, "C*FH*FW")
    blas_size(g.out_h * g.out_w, "out_h*out_w")
    return x, W


cdef object _checked_bias(b, x, W):
    """b contiguous, one entry per filter of W, of x's dtype."""
    b = contiguous(checked_array(b, "b"))
    need_ndim(b, "b", 1)
    checked_array(b, "b", x.dtype, "x")
    need_shape(b, "b", (W.shape[0],))
    return b


def conv_forward(x, W, b, fs_index stride=1, fs_index pad=0, *, str threading="auto"):
    """x (N, C, H, W), W (FN, C, FH, FW), b (FN,) -> (out (N, FN, out_h, out_w), cache=None).
    The patch matrices live in per-thread scratch only; backward rebuilds them, so the cache is
    empty. `threading` ('auto', 'images', 'blas') is for benchmarks: how cores are used."""
    cdef fs_patch_geometry g
    x, W = _checked_conv(x, W, stride, pad, &g)
    b = _checked_bias(b, x, W)
    cdef int strategy = _strategy(threading)
    out = np.empty((x.shape[0], W.shape[0], g.out_h, g.out_w), dtype=x.dtype)
    if out.size == 0 or g.channels == 0:
        out[...] = b.reshape(1, -1, 1, 1)
        return out, None
    if is_float32(x):
        rc = fs_conv_forward[float](x, &g, W, b, out, strategy)
    else:
        rc = fs_conv_forward[double](x, &g, W, b, out, strategy)
    if rc != 0:
        raise MemoryError("conv_forward could not allocate its patch buffers")
    return out, None


def conv_relu_forward(x, W, b, fs_index stride=1, fs_index pad=0, *, str threading="auto"):
    """conv_forward then relu_forward of its output: -> (out, cache=None, mask), the same bits as
    the two calls (out the ReLU's, mask = conv output <= 0), in one pass over the output where
    the correlation path runs (5x5, stride 1, few channels)."""
    cdef fs_patch_geometry g
    x, W = _checked_conv(x, W, stride, pad, &g)
    b = _checked_bias(b, x, W)
    cdef int strategy = _strategy(threading)
    shape = (x.shape[0], W.shape[0], g.out_h, g.out_w)
    if x.shape[0] * W.shape[0] * g.out_h * g.out_w == 0 or g.channels == 0:
        out, mask = relu_forward(conv_forward(x, W, b, stride, pad, threading=threading)[0])
        return out, None, mask
    out = np.empty(shape, dtype=x.dtype)
    mask = np.empty(shape, dtype=np.bool_)
    if is_float32(x):
        rc = fs_conv_relu_forward[float](x, &g, W, b, out, mask.view(np.uint8), strategy)
    else:
        rc = fs_conv_relu_forward[double](x, &g, W, b, out, mask.view(np.uint8), strategy)
    if rc != 0:
        raise MemoryError("conv_relu_forward could not allocate its patch buffers")
    return out, None, mask


def conv_backward(dout, x, W, cache, fs_index stride=1, fs_index pad=0, *,
                  str threading="auto", bint need_dx=True):
    """Gradients of conv_forward: dout (N, FN, out_h, out_w) -> (dx, dW, db); dx is None when
    not `need_dx` (its products skipped)."""
    cdef fs_patch_geometry g
    x, W = _checked_conv(x, W, stride, pad, &g)
    dout = contiguous(checked_array(dout, "dout"))
    checked_array(dout, "dout", x.dtype, "x")
    need_shape(dout, "dout", (x.shape[0], W.shape[0], g.out_h, g.out_w))
    cdef int strategy = _strategy(threading)
    dx = np.empty(x.shape, dtype=x.dtype) if need_dx else None
    dW = np.empty(W.shape, dtype=x.dtype)
    db = np.empty(W.shape[0], dtype=x.dtype)
    if x.size == 0 or W.size == 0 or dout.size == 0:
        if need_dx:
            dx[...] = 0
        dW[...] = 0
        db[...] = dout.sum(axis=(0, 2, 3))
        return dx, dW, db
    if is_float32(x):
        rc = fs_conv_backward[float](dout, x, &g, W, dx, dW, db, strategy)
    else:
        rc = fs_conv_backward[double](dout, x, &g, W, dx, dW, db, strategy)
    if rc != 0:
        raise MemoryError("conv_backward could not allocate its patch buffers")
    return dx, dW, db


def conv_winograd(mode=None):
    """When 3x3 stride-1 convs take the Winograd path: 'auto' (the rule in csrc/conv.c), 'off',
    or 'always' (whenever the geometry allows: for tests of the path and benchmarks). Returns
    the mode before the call; sets `mode` when given. Process-wide, for tests and benchmarks."""
    cdef int before = fs_conv_get_winograd()
    if mode is not None:
        if mode not in _WINOGRAD_MODES:
            raise ValueError(f"mode must be one of {sorted(_WINOGRAD_MODES)}, got {mode!r}")
        fs_conv_set_winograd(_WINOGRAD_MODES[mode])
    return {v: k for k, v in _WINOGRAD_MODES.items()}[before]


def conv_winograd_tile(size=None):
    """The output tile of the Winograd forward, dx and dW: 'auto' (the rule in csrc/conv.c), 2
    (F(2x2,3x3)) or 4 (F(4x4,3x3)). Returns the setting before the call; sets `size` when given.
    Process-wide, for tests and benchmarks."""
    cdef int before = fs_conv_get_winograd_tile()
    if size is not None:
        if size not in ("auto", 2, 4) or isinstance(size, bool):
            raise ValueError(f"size must be 'auto', 2 or 4, got {size!r}")
        fs_conv_set_winograd_tile(0 if size == "auto" else size)
    return before or "auto"


def conv_path(x, W, fs_index stride=1, fs_index pad=0, dout=None, str grad="dx"):
    """The path conv_forward(x, W, b, stride, pad) takes, or with `dout` the path of
    conv_backward's dx (grad='dx') or of its dW and db (grad='dw'): 'im2col', 'shifted',
    'winograd' (F(2x2,3x3)), 'winograd4' (F(4x4,3x3)) or 'correlation' (5x5 filters
    correlated with x directly, no im2col; dx never), decided by the same C function the
    kernel calls."""
    cdef fs_patch_geometry g
    if grad not in ("dx", "dw"):
        raise ValueError(f"grad must be 'dx' or 'dw', got {grad!r}")
    if grad == "dw" and dout is None:
        raise ValueError("grad='dw' needs dout: the path of dW depends on it")
    x, W = _checked_conv(x, W, stride, pad, &g)
    if x.size == 0 or W.shape[0] == 0 or g.channels == 0:
        return "im2col"
    if dout is not None:
        dout = contiguous(checked_array(dout, "dout"))
        checked_array(dout, "dout", x.dtype, "x")
        need_shape(dout, "dout", (x.shape[0], W.shape[0], g.out_h, g.out_w))
    if is_float32(x):
        return _PATHS[fs_conv_path[float](x, &g, W, dout, grad == "dw")]
    return _PATHS[fs_conv_path[double](x, &g, W, dout, grad == "dw")]
