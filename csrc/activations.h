/* ReLU and sigmoid, forward and backward, on C-contiguous arrays of n elements.
 * The mask is one byte per element (NumPy's bool: 0 or 1).
 *   relu_forward:     mask = x <= 0; out = mask ? 0 : x  (NaN is not <= 0, so it stays NaN)
 *   relu_backward:    dout[mask] = 0, in place
 *   sigmoid_forward:  1 / (1 + exp(-x)), in a form that never overflows
 *   sigmoid_backward: dx = dout * (1 - out) * out */
#ifndef FS_ACTIVATIONS_H
#define FS_ACTIVATIONS_H
#include <stdint.h>
#include "fs_common.h"

void fs_relu_forward_f32(const float *x, fs_index n, float *out, uint8_t *mask);
void fs_relu_forward_f64(const double *x, fs_index n, double *out, uint8_t *mask);
void fs_relu_backward_f32(float *dout, const uint8_t *mask, fs_index n);
void fs_relu_backward_f64(double *dout, const uint8_t *mask, fs_index n);
void fs_sigmoid_forward_f32(const float *x, fs_index n, float *out);
void fs_sigmoid_forward_f64(const double *x, fs_index n, double *out);
void fs_sigmoid_backward_f32(const float *dout, const float *out, fs_index n, float *dx);
void fs_sigmoid_backward_f64(const double *dout, const double *out, fs_index n, double *dx);

#endif
