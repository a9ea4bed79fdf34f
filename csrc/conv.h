/* Convolution forward and backward through im2col (Caffe's per-image cols layout) and GEMM.
 *   x (N, C, H, W), w (FN, C, FH, FW), b (FN), out / dout (N, FN, out_h, out_w), all C-contiguous.
 * Each image's patch matrix col_n (C*FH*FW, out_h*out_w) is built in a per-thread scratch buffer
 * and used at once, so no batch-sized patch matrix is ever stored (backward rebuilds it).
 * Return 0, or -1 when a scratch buffer cannot be allocated (nothing useful was written). */
#ifndef FS_CONV_H
#define FS_CONV_H
#include "fs_common.h"
#include "im2col.h"

/* How the images are spread over the cores; FS_CONV_AUTO picks by shape (see conv_body.h). */
enum { FS_CONV_AUTO = 0, FS_CONV_IMAGES_PARALLEL = 1, FS_CONV_BLAS_PARALLEL = 2 };

int fs_conv_forward_f32(const float *x, fs_index batch, const fs_patch_geometry *g, const float *w,
                        const float *b, fs_index filters, float *out, int strategy);
int fs_conv_forward_f64(const double *x, fs_index batch, const fs_patch_geometry *g,
                        const double *w, const double *b, fs_index filters, double *out,
                        int strategy);

/* The forward then a ReLU, as fs_conv_forward then fs_relu_forward(out, n, out, mask) would give
 * (the same bits), in one pass where the correlation path runs (conv_body.h). */
int fs_conv_relu_forward_f32(const float *x, fs_index batch, const fs_patch_geometry *g,
                             const float *w, const float *b, fs_index filters, float *out,
                             uint8_t *mask, int strategy);
int fs_conv_relu_forward_f64(const double *x, fs_index batch, const fs_patch_geometry *g,
                             const double *w, const double *b, fs_index filters, double *out,
                             uint8_t *mask, int strategy);

/* dx may be NULL (gradient of the input not wanted); dw and db are overwritten. */
int fs_conv_backward_f32(const float *dout, const float *x, fs_index batch,
                         const fs_patch_geometry *g, const float *w, fs_index filters, float *dx,
                         float *dw, float *db, int strategy);
int fs_conv_backward_f64(const double *dout, const double *x, fs_index batch,
                         const fs_patch_geometry *g, const double *w, fs_index filters, double *dx,
                         double *dw, double *db, int strategy);

/* Winograd (F(2x2,3x3) or F(4x4,3x3)) for 3x3 stride-1 convs (conv_body.h) is taken by the
 * rule in conv.c (AUTO), never (OFF), or whenever the geometry allows it (ALWAYS: for tests of
 * the path on small shapes, and benchmarks). Non-finite input always takes another path.
 * Process-wide: not to be changed while convolutions run on other threads. */
enum { FS_CONV_WINOGRAD_AUTO = 0, FS_CONV_WINOGRAD_OFF = 1, FS_CONV_WINOGRAD_ALWAYS = 2 };
void fs_conv_set_winograd(int mode);
int fs_conv_get_winograd(void);
/* The output tile of the Winograd forward, dx and dW: 0 (the rule in conv.c), 2 (F(2x2,3x3)) or 4
 * (F(4x4,3x3)); anything else means 0. Process-wide, as above. */
void fs_conv_set_winograd_tile(int m);
int fs_conv_get_winograd_tile(void);

/* Which path a call with these arguments takes (the drivers decide through these functions):
 * the forward, the backward's dx, and the backward's dW and db (with dx wanted). WINOGRAD is
 * F(2x2,3x3), WINOGRAD4 F(4x4,3x3). */
enum {
    FS_CONV_PATH_IM2COL = 0,
    FS_CONV_PATH_SHIFTED = 1,
    FS_CONV_PATH_WINOGRAD = 2,
    FS_CONV_PATH_WINOGRAD4 = 3,
    FS_CONV_PATH_CORRELATION = 4 /* forward and dW: 5x5 correlations, no im2col */
};
int fs_conv_forward_path_f32(const float *x, fs_index batch, const fs_patch_geometry *g,
                             const float *w, fs_index filters);
int fs_conv_forward_path_f64(const double *x, fs_index batch, const fs_patch_geometry *g,
                             const double *w, fs_index filters);
int fs_conv_dx_path_f32(const float *dout, const float *x, fs_index batch,
                        const fs_patch_geometry *g, const float *w, fs_index filters);
int fs_conv_dx_path_f64(const double *dout, const double *x, fs_index batch,
                        const fs_patch_geometry *g, const double *w, fs_index filters);
int fs_conv_dw_path_f32(const float *dout, const float *x, fs_index batch,
                        const fs_patch_geometry *g, const float *w, fs_index filters);
int fs_conv_dw_path_f64(const double *dout, const double *x, fs_index batch,
                        const fs_patch_geometry *g, const double *w, fs_index filters);

#endif
