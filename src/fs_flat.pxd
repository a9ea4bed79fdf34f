# Elementwise kernels (activations, dropout, optimizer steps) see an array of any shape as its
# flat memory: a view of `a` when `a` is C-contiguous and aligned, else an aligned C-ordered copy.


cdef inline object flat(object a):
    """`a`'s flat memory for C: a.ravel() (a view when `a` is C-contiguous, else a copy), copied
    once more when misaligned (see fs_checks.aligned: C must not load from a misaligned
    address). A kernel that writes `a` in place writes a copy back with write_back."""
    f = a.ravel()
    if not f.flags.aligned:
        f = f.copy()
    return f


cdef inline void write_back(object flat, object a):
    """For a kernel that works in place: `flat` (from flat(a)) into `a` when it is a copy, that
    is, when `a` is not C-contiguous or not aligned."""
    if flat.base is None:
        a[...] = flat.reshape(a.shape)
