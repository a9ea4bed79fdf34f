/* The book's optimizer steps, fused: one pass over n C-contiguous elements updates the
 * parameter and its state in place. Hyperparameters arrive as double and are rounded to the
 * element type where NumPy rounds a Python float (e.g. (1 - beta1) is formed in double first),
 * and each step rounds in the book's order, so a float32 or float64 step equals the NumPy
 * one bit for bit.
 *   sgd:      p -= lr*g
 *   momentum: v = m*v - lr*g; p += v
 *   nesterov: p += (m*m)*v; p -= ((1+m)*lr)*g; v *= m; v -= lr*g       (the JP book's order)
 *   adagrad:  h += g*g; p -= lr*g / (sqrt(h) + 1e-7)
 *   rmsprop:  h *= d; h += (1-d)*g*g; p -= lr*g / (sqrt(h) + 1e-7)
 *   adam:     m += (1-b1)*(g-m); v += (1-b2)*(g*g-v); p -= lr_t*m / (sqrt(v) + 1e-7) */
#ifndef FS_OPTIMIZERS_H
#define FS_OPTIMIZERS_H
#include "fs_common.h"

void fs_sgd_update_f32(float *p, const float *g, fs_index n, double lr);
void fs_sgd_update_f64(double *p, const double *g, fs_index n, double lr);
void fs_momentum_update_f32(float *p, const float *g, float *v, fs_index n, double lr,
                            double momentum);
void fs_momentum_update_f64(double *p, const double *g, double *v, fs_index n, double lr,
                            double momentum);
void fs_nesterov_update_f32(float *p, const float *g, float *v, fs_index n, double lr,
                            double momentum);
void fs_nesterov_update_f64(double *p, const double *g, double *v, fs_index n, double lr,
                            double momentum);
void fs_adagrad_update_f32(float *p, const float *g, float *h, fs_index n, double lr);
void fs_adagrad_update_f64(double *p, const double *g, double *h, fs_index n, double lr);
void fs_rmsprop_update_f32(float *p, const float *g, float *h, fs_index n, double lr,
                           double decay_rate);
void fs_rmsprop_update_f64(double *p, const double *g, double *h, fs_index n, double lr,
                           double decay_rate);
void fs_adam_update_f32(float *p, const float *g, float *m, float *v, fs_index n, double lr_t,
                        double beta1, double beta2);
void fs_adam_update_f64(double *p, const double *g, double *m, double *v, fs_index n, double lr_t,
                        double beta1, double beta2);

#endif
