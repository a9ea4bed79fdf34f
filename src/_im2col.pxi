# Bindings for im2col / col2im in the book's layout (fastscratch.util.im2col / col2im).
from fs_kernels cimport fs_index, fs_patch_geometry
from fs_im2col cimport fs_im2col_rows, fs_col2im_rows
from fs_checks cimport checked_array, contiguous, is_float32, need_ndim, patch_geometry
import numpy as np


def im2col(x, fs_index filter_h, fs_index filter_w, fs_index stride=1, fs_index pad=0):
    """(N, C, H, W) -> (N*out_h*out_w, C*filter_h*filter_w), the book's layout, x's dtype."""
    x = contiguous(checked_array(x, "x"))
    need_ndim(x, "x", 4)
    cdef fs_index N = x.shape[0]
    cdef fs_patch_geometry g = patch_geometry(x.shape[1], x.shape[2], x.shape[3],
                                              filter_h, filter_w, stride, pad)
    # Sizes multiplied as Python ints: a huge pad must give an error, not an overflow.
    col = np.empty((<object>N * g.out_h * g.out_w, <object>g.channels * filter_h * filter_w),
                   dtype=x.dtype)
    if col.size == 0:
        return col
    if is_float32(x):
        fs_im2col_rows[float](x, &g, col)
    else:
        fs_im2col_rows[double](x, &g, col)
    return col


def col2im(col, input_shape, fs_index filter_h, fs_index filter_w, fs_index stride=1,
           fs_index pad=0):
    """The accumulating adjoint of im2col: (N*out_h*out_w, C*FH*FW) -> (N, C, H, W)."""
    col = contiguous(checked_array(col, "col"))
    need_ndim(col, "col", 2)
    if len(input_shape) != 4:
        raise ValueError(f"input_shape must be (N, C, H, W), got {tuple(input_shape)}")
    cdef fs_index N = input_shape[0]
    if N < 0:
        raise ValueError(f"input_shape must be non-negative, got {tuple(input_shape)}")
    cdef fs_patch_geometry g = patch_geometry(input_shape[1], input_shape[2], input_shape[3],
                                              filter_h, filter_w, stride, pad)
    expected = (<object>N * g.out_h * g.out_w, <object>g.channels * filter_h * filter_w)
    if col.shape != expected:
        raise ValueError(f"col must have shape {expected} for input_shape {tuple(input_shape)}, "
                         f"got {col.shape}")
    img = np.empty((N, g.channels, g.height, g.width), dtype=col.dtype)
    if img.size == 0:
        return img
    if col.size == 0:
        img[...] = 0
        return img
    if is_float32(col):
        fs_col2im_rows[float](col, &g, img)
    else:
        fs_col2im_rows[double](col, &g, img)
    return img
