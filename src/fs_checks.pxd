# The checks every binding makes before it hands memory to C: the C code trusts these.
# Messages name the argument, what was expected and what was given.
from fs_kernels cimport fs_index, fs_patch_geometry, fs_patch_geometry_init
import numpy as np


cdef inline object float_array(object a, str name):
    """`a` as a C-contiguous float32/float64 ndarray (copied only when it is not already)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(a).__name__}")
    if a.dtype != np.float32 and a.dtype != np.float64:
        raise TypeError(f"{name} must have dtype float32 or float64, got {a.dtype}")
    return np.ascontiguousarray(a)


cdef inline void same_dtype(object a, str a_name, object b, str b_name) except *:
    if a.dtype != b.dtype:
        raise TypeError(f"{b_name} must have the dtype of {a_name} ({a.dtype}), got {b.dtype}")


cdef inline void need_ndim(object a, str name, int ndim) except *:
    if a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {a.shape}")


cdef inline void need_shape(object a, str name, tuple shape) except *:
    if a.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {a.shape}")


cdef inline fs_patch_geometry patch_geometry(fs_index channels, fs_index height, fs_index width,
                                             fs_index kernel_h, fs_index kernel_w,
                                             fs_index stride, fs_index pad) except *:
    cdef fs_patch_geometry g
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    if pad < 0:
        raise ValueError(f"pad must be >= 0, got {pad}")
    if kernel_h < 1 or kernel_w < 1:
        raise ValueError(f"filter size must be >= 1, got {kernel_h}x{kernel_w}")
    if fs_patch_geometry_init(&g, channels, height, width, kernel_h, kernel_w, stride, pad) != 0:
        raise ValueError(f"a {kernel_h}x{kernel_w} window must fit the padded input "
                         f"{height + 2 * pad}x{width + 2 * pad} (H={height}, W={width}, pad={pad})")
    return g


cdef inline object float_ndarray(object a, str name):
    """`a` checked to be a float32/float64 ndarray, in whatever memory layout it has."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(a).__name__}")
    if a.dtype != np.float32 and a.dtype != np.float64:
        raise TypeError(f"{name} must have dtype float32 or float64, got {a.dtype}")
    return a


cdef inline void blas_size(fs_index value, str what) except *:
    """OpenBLAS (LP64) takes 32-bit sizes: refuse a matrix dimension it cannot address."""
    if value > 2147483647:
        raise ValueError(f"{what} is {value}, more than the BLAS's 32-bit sizes allow")
