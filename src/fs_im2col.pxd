# Cython's view of the book-layout im2col / col2im of csrc/im2col.h (the patch geometry is in
# fs_kernels.pxd), and each float/double pair as one fused function: called with the GIL (the
# arrays become typed memoryviews then), it runs the C without.
from cython cimport floating
from fs_kernels cimport fs_index, fs_patch_geometry

cdef extern from "im2col.h" nogil:
    void fs_im2col_rows_f32(const float *x, fs_index batch, const fs_patch_geometry *g, float *col)
    void fs_im2col_rows_f64(const double *x, fs_index batch, const fs_patch_geometry *g, double *col)
    void fs_col2im_rows_f32(const float *col, fs_index batch, const fs_patch_geometry *g, float *img)
    void fs_col2im_rows_f64(const double *col, fs_index batch, const fs_patch_geometry *g, double *img)


cdef inline void fs_im2col_rows(const floating[:, :, :, ::1] x, const fs_patch_geometry *g,
                                floating[:, ::1] col) noexcept:
    with nogil:
        if floating is float:
            fs_im2col_rows_f32(&x[0, 0, 0, 0], x.shape[0], g, &col[0, 0])
        else:
            fs_im2col_rows_f64(&x[0, 0, 0, 0], x.shape[0], g, &col[0, 0])


cdef inline void fs_col2im_rows(const floating[:, ::1] col, const fs_patch_geometry *g,
                                floating[:, :, :, ::1] img) noexcept:
    with nogil:
        if floating is float:
            fs_col2im_rows_f32(&col[0, 0], img.shape[0], g, &img[0, 0, 0, 0])
        else:
            fs_col2im_rows_f64(&col[0, 0], img.shape[0], g, &img[0, 0, 0, 0])
