# Cython's view of csrc/batchnorm.h.
from fs_kernels cimport fs_index

cdef extern from "batchnorm.h" nogil:
    void fs_batchnorm_forward_train_f32(const float *x, fs_index N, fs_index D,
                                        const float *gamma, const float *beta, double eps,
                                        float *out, float *mu, float *var, float *xc, float *xn,
                                        float *std)
    void fs_batchnorm_forward_train_f64(const double *x, fs_index N, fs_index D,
                                        const double *gamma, const double *beta, double eps,
                                        double *out, double *mu, double *var, double *xc,
                                        double *xn, double *std)
    void fs_batchnorm_forward_test_f32(const float *x, fs_index N, fs_index D, const float *gamma,
                                       const float *beta, const float *running_mean,
                                       const float *running_var, double eps, float *out)
    void fs_batchnorm_forward_test_f64(const double *x, fs_index N, fs_index D,
                                       const double *gamma, const double *beta,
                                       const double *running_mean, const double *running_var,
                                       double eps, double *out)
    void fs_batchnorm_backward_f32(const float *dout, fs_index N, fs_index D, const float *gamma,
                                   const float *xc, const float *xn, const float *std, float *dx,
                                   float *dgamma, float *dbeta)
    void fs_batchnorm_backward_f64(const double *dout, fs_index N, fs_index D,
                                   const double *gamma, const double *xc, const double *xn,
                                   const double *std, double *dx, double *dgamma, double *dbeta)
