# The checks every binding makes before it hands memory to C, with messages that name the
# argument, what was expected and what was given. The C trusts the shapes and sizes checked
# here; the typed memoryviews the bindings then take check dtype, contiguity and writability
# once more.
from fs_kernels cimport fs_index, fs_patch_geometry, fs_patch_geometry_init
import numpy as np  # at run time `np` is looked up in the module that cimports these: import it


cdef inline void need_ndarray(object a, str name) except *:
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(a).__name__}")


cdef inline object checked_array(object a, str name, object dtype=None, str dtype_of=None):
    """`a` itself, checked to be an ndarray of `dtype`: float32 or float64 when None; when
    `dtype_of` is given, the dtype of the argument it names (`dtype` is that argument's)."""
    need_ndarray(a, name)
    if dtype is None:
        # float32 or float64 in native byte order; cheaper than comparing with NumPy's types
        if a.dtype.char not in "fd" or not a.dtype.isnative:
            raise TypeError(f"{name} must have dtype float32 or float64, got {a.dtype}")
    elif a.dtype != dtype:
        expected = (f"dtype {np.dtype(dtype)}" if dtype_of is None
                    else f"the dtype of {dtype_of} ({dtype})")
        raise TypeError(f"{name} must have {expected}, got {a.dtype}")
    return a


cdef inline object aligned(object a):
    """`a`, or a C-ordered copy of it when its data or strides are not aligned for its dtype (a
    float64 view at an odd byte offset into a buffer or a bytes object): C that loads a double
    from such an address has undefined behaviour (UBSan: misaligned load), so the kernels only
    ever see aligned memory. In the usual case this reads one flag. (Issue 11 item 6.)"""
    if a.flags.aligned:
        return a
    return np.array(a, order="C")


cdef inline object contiguous(object a):
    """`a` C-contiguous and aligned: itself when it already is, else a copy."""
    return aligned(np.ascontiguousarray(a))


cdef inline bint is_float32(object a):
    """For an array checked_array let through as float32 or float64: whether it is float32
    (the item size is the cheapest attribute that tells them apart)."""
    return a.itemsize == 4


cdef inline void need_ndim(object a, str name, int ndim) except *:
    if a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {a.shape}")


cdef inline void need_shape(object a, str name, tuple shape, str shape_of=None) except *:
    """`a` must have `shape`: that of the argument `shape_of` names, when given."""
    if a.shape != shape:
        expected = f"shape {shape}" if shape_of is None else f"the shape of {shape_of} {shape}"
        raise ValueError(f"{name} must have {expected}, got {a.shape}")


cdef inline object checked_like(object a, str name, object ref, str ref_name):
    """`a` itself, checked to be an ndarray of the dtype and shape of `ref` (named `ref_name`)."""
    checked_array(a, name, ref.dtype, ref_name)
    need_shape(a, name, ref.shape, ref_name)
    return a


cdef inline void need_input_and_weights(object x, object W, int ndim) except *:
    """x and W (conv, affine): float ndarrays of rank `ndim` and one dtype."""
    checked_array(x, "x")
    checked_array(W, "W")
    need_ndim(x, "x", ndim)
    need_ndim(W, "W", ndim)
    checked_array(W, "W", x.dtype, "x")


cdef inline void need_writeable(object a, str name, str why) except *:
    if not a.flags.writeable:
        raise ValueError(f"{name} must be writeable ({why}), got a read-only array")


cdef inline void blas_size(fs_index value, str what) except *:
    """OpenBLAS (LP64) takes 32-bit sizes: refuse a matrix dimension it cannot address."""
    if value > 2147483647:
        raise ValueError(f"{what} is {value}, more than the BLAS's 32-bit sizes allow")


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
    # Bounded so that H + 2*pad and the like cannot overflow 64 bits in C.
    for value, what in ((pad, "pad"), (stride, "stride"), (kernel_h, "filter height"),
                        (kernel_w, "filter width"), (height, "input height"),
                        (width, "input width"), (channels, "channels")):
        if value > 2147483647:
            raise ValueError(f"{what} must be < 2**31, got {value}")
    if fs_patch_geometry_init(&g, channels, height, width, kernel_h, kernel_w, stride, pad) != 0:
        raise ValueError(f"a {kernel_h}x{kernel_w} window must fit the padded input "
                         f"{height + 2 * pad}x{width + 2 * pad} (H={height}, W={width}, pad={pad})")
    return g
