# Elementwise kernels (activations, dropout, optimizer steps) see an array of any shape as its
# flat memory: a.ravel() is a 1-D view of `a` when `a` is C-contiguous, else a C-ordered copy.


cdef inline void write_back(object flat, object a):
    """For a kernel that works in place: `flat` (a.ravel()) into `a` when ravel had to copy,
    that is, when `a` is not C-contiguous."""
    if flat.base is None:
        a[...] = flat.reshape(a.shape)
