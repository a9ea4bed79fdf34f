/* Batch normalisation per activation on C-contiguous (N, D) input, the book's way:
 *   train:    mu = mean(x, 0); xc = x - mu; var = mean(xc^2, 0); std = sqrt(var + eps);
 *             xn = xc / std; out = gamma * xn + beta
 *   test:     out = gamma * ((x - running_mean) / sqrt(running_var + eps)) + beta
 *   backward: the book's staged graph (kernels.batchnorm_backward).
 * Column sums run over the rows in order, in the element type, as NumPy's axis-0 sums do, and
 * each step rounds where NumPy's does: the results equal NumPy's bit for bit. Columns are
 * split between threads, never rows, so the thread count does not change a result. N >= 1. */
#ifndef FS_BATCHNORM_H
#define FS_BATCHNORM_H
#include "fs_common.h"

void fs_batchnorm_forward_train_f32(const float *x, fs_index N, fs_index D, const float *gamma,
                                    const float *beta, double eps, float *out, float *mu,
                                    float *var, float *xc, float *xn, float *std);
void fs_batchnorm_forward_train_f64(const double *x, fs_index N, fs_index D, const double *gamma,
                                    const double *beta, double eps, double *out, double *mu,
                                    double *var, double *xc, double *xn, double *std);
void fs_batchnorm_forward_test_f32(const float *x, fs_index N, fs_index D, const float *gamma,
                                   const float *beta, const float *running_mean,
                                   const float *running_var, double eps, float *out);
void fs_batchnorm_forward_test_f64(const double *x, fs_index N, fs_index D, const double *gamma,
                                   const double *beta, const double *running_mean,
                                   const double *running_var, double eps, double *out);
void fs_batchnorm_backward_f32(const float *dout, fs_index N, fs_index D, const float *gamma,
                               const float *xc, const float *xn, const float *std, float *dx,
                               float *dgamma, float *dbeta);
void fs_batchnorm_backward_f64(const double *dout, fs_index N, fs_index D, const double *gamma,
                               const double *xc, const double *xn, const double *std, double *dx,
                               double *dgamma, double *dbeta);

#endif
