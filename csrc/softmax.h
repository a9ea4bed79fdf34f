/* Softmax over the last axis and the softmax cross-entropy loss, on C-contiguous (rows, cols)
 * arrays. Labels are int64 in [0, cols): the caller has checked them.
 *   softmax:            y = exp(x - max) / sum(exp(x - max)) per row (NaN/inf propagate)
 *   loss_forward:       y = softmax(x); returns -sum(log(y[n, t_n] + 1e-7)) / rows
 *   loss_backward:      dx = (y - onehot(t)) / rows;  _onehot: dx = (y - t) / rows */
#ifndef FS_SOFTMAX_H
#define FS_SOFTMAX_H
#include <stdint.h>
#include "fs_common.h"

/* The index of the first label outside [0, classes), or -1 when all are in range. */
fs_index fs_first_bad_label(const int64_t *labels, fs_index n, int64_t classes);

void fs_softmax_f32(const float *x, fs_index rows, fs_index cols, float *y);
void fs_softmax_f64(const double *x, fs_index rows, fs_index cols, double *y);
float fs_softmax_loss_forward_f32(const float *x, const int64_t *labels, fs_index rows,
                                  fs_index cols, float *y);
double fs_softmax_loss_forward_f64(const double *x, const int64_t *labels, fs_index rows,
                                   fs_index cols, double *y);
void fs_softmax_loss_backward_f32(const float *y, const int64_t *labels, fs_index rows,
                                  fs_index cols, float *dx);
void fs_softmax_loss_backward_f64(const double *y, const int64_t *labels, fs_index rows,
                                  fs_index cols, double *dx);
void fs_softmax_loss_backward_onehot_f32(const float *y, const float *t, fs_index rows,
                                         fs_index cols, float *dx);
void fs_softmax_loss_backward_onehot_f64(const double *y, const double *t, fs_index rows,
                                         fs_index cols, double *dx);

#endif
