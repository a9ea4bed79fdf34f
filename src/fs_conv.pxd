# Cython's view of csrc/conv.h.
from fs_kernels cimport fs_index, fs_patch_geometry

cdef extern from "conv.h" nogil:
    enum:
        FS_CONV_AUTO
        FS_CONV_IMAGES_PARALLEL
        FS_CONV_BLAS_PARALLEL
    int fs_conv_forward_f32(const float *x, fs_index batch, const fs_patch_geometry *g,
                            const float *w, const float *b, fs_index filters, float *out,
                            int strategy)
    int fs_conv_forward_f64(const double *x, fs_index batch, const fs_patch_geometry *g,
                            const double *w, const double *b, fs_index filters, double *out,
                            int strategy)
    int fs_conv_backward_f32(const float *dout, const float *x, fs_index batch,
                             const fs_patch_geometry *g, const float *w, fs_index filters,
                             float *dx, float *dw, float *db, int strategy)
    int fs_conv_backward_f64(const double *dout, const double *x, fs_index batch,
                             const fs_patch_geometry *g, const double *w, fs_index filters,
                             double *dx, double *dw, double *db, int strategy)
