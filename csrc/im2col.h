/* im2col / col2im: the patch transforms behind convolution, in two layouts.
 *   rows layout (the book's util.im2col): col[(n*out_h + oy)*out_w + ox][(c*kh + ky)*kw + kx]
 *   cols layout (Caffe's, one image):     col[(c*kh + ky)*kw + kx][oy*out_w + ox]
 * Inputs are C-contiguous. col2im is the accumulating adjoint of im2col (not its inverse):
 * it overwrites `img` with the sum of every patch entry that came from each pixel. Padding is a
 * bounds test, never a padded copy. */
#ifndef FS_IM2COL_H
#define FS_IM2COL_H
#include "fs_common.h"

typedef struct {
    fs_index channels, height, width;   /* one input image: C, H, W            */
    fs_index kernel_h, kernel_w;        /* FH, FW                               */
    fs_index stride, pad;               /* same stride and pad on both axes     */
    fs_index out_h, out_w;              /* (H + 2*pad - FH) / stride + 1, ...    */
} fs_patch_geometry;

/* Fills out_h / out_w; returns 0, or -1 when the filter does not fit the padded input. */
int fs_patch_geometry_init(fs_patch_geometry *g, fs_index channels, fs_index height, fs_index width,
                           fs_index kernel_h, fs_index kernel_w, fs_index stride, fs_index pad);

/* The output positions o in [lo, hi) whose input coordinate o*stride - pad + k lies in
 * [0, size) (for kernel offset k): the rest of the row reads padding. Used by im2col and by
 * pooling's windows; inline because it runs once per kernel row in the hot loops. */
static inline void fs_valid_outputs(fs_index size, fs_index k, fs_index stride, fs_index pad,
                                    fs_index out_size, fs_index *lo, fs_index *hi)
{
    fs_index first = pad - k > 0 ? (pad - k + stride - 1) / stride : 0;
    fs_index last = size + pad - k - 1 >= 0 ? (size + pad - k - 1) / stride + 1 : 0;
    *lo = first < out_size ? first : out_size;
    *hi = last < out_size ? last : out_size;
    if (*hi < *lo) *hi = *lo;
}

void fs_im2col_rows_f32(const float *x, fs_index batch, const fs_patch_geometry *g, float *col);
void fs_im2col_rows_f64(const double *x, fs_index batch, const fs_patch_geometry *g, double *col);
void fs_col2im_rows_f32(const float *col, fs_index batch, const fs_patch_geometry *g, float *img);
void fs_col2im_rows_f64(const double *col, fs_index batch, const fs_patch_geometry *g, double *img);

void fs_im2col_cols_f32(const float *x_image, const fs_patch_geometry *g, float *col);
void fs_im2col_cols_f64(const double *x_image, const fs_patch_geometry *g, double *col);
void fs_col2im_cols_f32(const float *col, const fs_patch_geometry *g, float *img);
void fs_col2im_cols_f64(const double *col, const fs_patch_geometry *g, double *img);

#endif
