/* Max pooling straight on NCHW planes (no im2col): x (N, C, H, W) -> out (N, C, out_h, out_w).
 * The window geometry reuses fs_patch_geometry (kernel = pooling window). Padding never wins:
 * only real pixels compete, which needs pad < window and H, W >= 1 (every window then holds a
 * real pixel). arg_max (int64, N*out_h*out_w*C entries in the book's (n, oy, ox, c) order)
 * holds ky*pool_w + kx of the first maximum; a NaN counts as the maximum, as in np.argmax. */
#ifndef FS_POOL_H
#define FS_POOL_H
#include "fs_common.h"
#include "im2col.h"

/* Returns 0, or -1 when a row buffer cannot be allocated. The window (pool_h*pool_w) must have
 * fewer than 2^31 positions. */
int fs_pool_forward_f32(const float *x, fs_index batch, const fs_patch_geometry *g, float *out,
                        int64_t *arg_max);
int fs_pool_forward_f64(const double *x, fs_index batch, const fs_patch_geometry *g, double *out,
                        int64_t *arg_max);

/* dx (overwritten) gets each dout entry at its window's arg_max position, summed where windows
 * overlap; a position in the padding contributes nothing. Returns -1 when every arg_max entry was
 * in [0, pool_h*pool_w), else the index of a bad entry (which was skipped, never written); -2
 * when scratch could not be allocated. */
fs_index fs_pool_backward_f32(const float *dout, const int64_t *arg_max, fs_index batch,
                              const fs_patch_geometry *g, float *dx);
fs_index fs_pool_backward_f64(const double *dout, const int64_t *arg_max, fs_index batch,
                              const fs_patch_geometry *g, double *dx);

#endif
