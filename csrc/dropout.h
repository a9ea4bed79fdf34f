/* The book's dropout (no rescaling at training time) on C-contiguous arrays of n elements.
 * `rand` holds the caller's uniform draws (np.random.rand, float64), so a seed reproduces the
 * book's masks. The mask is one byte per element (NumPy's bool).
 *   forward_train: mask = rand > ratio; out = x * mask (so NaN * 0 stays NaN, as in NumPy)
 *   backward:      dx = dout * mask */
#ifndef FS_DROPOUT_H
#define FS_DROPOUT_H
#include <stdint.h>
#include "fs_common.h"

void fs_dropout_forward_train_f32(const float *x, const double *rand, double ratio, fs_index n,
                                  float *out, uint8_t *mask);
void fs_dropout_forward_train_f64(const double *x, const double *rand, double ratio, fs_index n,
                                  double *out, uint8_t *mask);
void fs_dropout_backward_f32(const float *dout, const uint8_t *mask, fs_index n, float *dx);
void fs_dropout_backward_f64(const double *dout, const uint8_t *mask, fs_index n, double *dx);

#endif
