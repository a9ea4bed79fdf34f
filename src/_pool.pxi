# Bindings for max pooling (fastscratch.kernels.pool_forward / pool_backward).
from fs_kernels cimport fs_index, fs_patch_geometry
from fs_pool cimport fs_pool_forward, fs_pool_backward
from fs_checks cimport (checked_array, contiguous, is_float32, need_ndim, need_shape,
                        patch_geometry)
import numpy as np


cdef fs_patch_geometry _window(fs_index planes, fs_index channels, fs_index height,
                               fs_index width, fs_index pool_h, fs_index pool_w, fs_index stride,
                               fs_index pad) except *:
    """The pooling geometry; every window must hold a real pixel (padding never wins), which
    matters only when there are planes to pool."""
    if pool_h < 1 or pool_w < 1:
        raise ValueError(f"the pooling window must be at least 1x1, got {pool_h}x{pool_w}")
    if pad < 0:
        raise ValueError(f"pad must be >= 0, got {pad}")
    if pad >= pool_h or pad >= pool_w:
        raise ValueError(f"pad must be smaller than the pooling window {pool_h}x{pool_w} "
                         f"(a window of padding alone has no maximum), got {pad}")
    if pool_h > 2147483647 // pool_w:  # pool_h * pool_w could overflow 64 bits (2**40 x 2**40)
        raise ValueError(f"the pooling window {pool_h}x{pool_w} has more than 2^31 positions")
    if planes > 0 and (height < 1 or width < 1):
        raise ValueError(f"the input must have H, W >= 1 to pool, got {height}x{width}")
    return patch_geometry(channels, height, width, pool_h, pool_w, stride, pad)


def pool_forward(x, fs_index pool_h, fs_index pool_w, fs_index stride=1, fs_index pad=0):
    """Max pooling x (N, C, H, W) -> (out (N, C, out_h, out_w), arg_max int64
    (N*out_h*out_w*C,) in (n, oy, ox, c) order, holding ky*pool_w + kx of the first maximum)."""
    cdef fs_patch_geometry g
    x = contiguous(checked_array(x, "x"))
    need_ndim(x, "x", 4)
    g = _window(x.shape[0] * x.shape[1], x.shape[1], x.shape[2], x.shape[3], pool_h, pool_w,
                stride, pad)
    out = np.empty((x.shape[0], g.channels, g.out_h, g.out_w), dtype=x.dtype)
    arg_max = np.empty(out.size, dtype=np.int64)
    if out.size == 0:
        return out, arg_max
    if is_float32(x):
        rc = fs_pool_forward[float](x, &g, out, arg_max)
    else:
        rc = fs_pool_forward[double](x, &g, out, arg_max)
    if rc != 0:
        raise MemoryError("pool_forward could not allocate its row buffers")
    return out, arg_max


def pool_backward(dout, arg_max, x_shape, fs_index pool_h, fs_index pool_w, fs_index stride=1,
                  fs_index pad=0):
    """dout (N, C, out_h, out_w) routed to each window's arg_max position -> dx (x_shape);
    overlapping windows accumulate. A bad arg_max raises ValueError and writes nothing."""
    cdef fs_patch_geometry g
    dout = contiguous(checked_array(dout, "dout"))
    try:
        x_shape = tuple(int(s) for s in x_shape)
    except TypeError:
        raise TypeError(f"x_shape must be a tuple (N, C, H, W), got {x_shape!r}") from None
    if len(x_shape) != 4 or min(x_shape) < 0:
        raise ValueError(f"x_shape must be (N, C, H, W) of sizes >= 0, got {x_shape}")
    if max(x_shape) > 2147483647:  # else N*C overflows, or Cython's conversion names nothing
        raise ValueError(f"x_shape's sizes must be < 2**31, got {x_shape}")
    g = _window(x_shape[0] * x_shape[1], x_shape[1], x_shape[2], x_shape[3], pool_h, pool_w,
                stride, pad)
    need_shape(dout, "dout", (x_shape[0], x_shape[1], g.out_h, g.out_w))
    checked_array(arg_max, "arg_max", np.int64)
    need_ndim(arg_max, "arg_max", 1)
    need_shape(arg_max, "arg_max", (dout.size,))
    arg_max = contiguous(arg_max)
    dx = np.empty(x_shape, dtype=dout.dtype)
    if dx.size == 0 or dout.size == 0:
        dx[...] = 0
        return dx
    if is_float32(dout):
        bad = fs_pool_backward[float](dout, arg_max, &g, dx)
    else:
        bad = fs_pool_backward[double](dout, arg_max, &g, dx)
    if bad == -2:
        raise MemoryError("pool_backward could not allocate its row buffers")
    if bad >= 0:
        raise ValueError(f"arg_max must hold window positions in [0, {pool_h * pool_w}), "
                         f"got {arg_max[bad]} at index {bad}")
    return dx
