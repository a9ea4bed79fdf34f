# Cython's view of csrc/batchnorm.h, and each float/double pair of it as one fused function:
# called with the GIL (the arrays become typed memoryviews then), it runs the C without. The
# 1-D arrays hold one value per column of the (N, D) ones.
from cython cimport floating
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


cdef inline void fs_batchnorm_forward_train(
        const floating[:, ::1] x, const floating[::1] gamma, const floating[::1] beta,
        double eps, floating[:, ::1] out, floating[::1] mu, floating[::1] var,
        floating[:, ::1] xc, floating[:, ::1] xn, floating[::1] std) noexcept:
    with nogil:
        if floating is float:
            fs_batchnorm_forward_train_f32(&x[0, 0], x.shape[0], x.shape[1], &gamma[0], &beta[0],
                                           eps, &out[0, 0], &mu[0], &var[0], &xc[0, 0],
                                           &xn[0, 0], &std[0])
        else:
            fs_batchnorm_forward_train_f64(&x[0, 0], x.shape[0], x.shape[1], &gamma[0], &beta[0],
                                           eps, &out[0, 0], &mu[0], &var[0], &xc[0, 0],
                                           &xn[0, 0], &std[0])


cdef inline void fs_batchnorm_forward_test(
        const floating[:, ::1] x, const floating[::1] gamma, const floating[::1] beta,
        const floating[::1] running_mean, const floating[::1] running_var, double eps,
        floating[:, ::1] out) noexcept:
    with nogil:
        if floating is float:
            fs_batchnorm_forward_test_f32(&x[0, 0], x.shape[0], x.shape[1], &gamma[0], &beta[0],
                                          &running_mean[0], &running_var[0], eps, &out[0, 0])
        else:
            fs_batchnorm_forward_test_f64(&x[0, 0], x.shape[0], x.shape[1], &gamma[0], &beta[0],
                                          &running_mean[0], &running_var[0], eps, &out[0, 0])


cdef inline void fs_batchnorm_backward(
        const floating[:, ::1] dout, const floating[::1] gamma, const floating[:, ::1] xc,
        const floating[:, ::1] xn, const floating[::1] std, floating[:, ::1] dx,
        floating[::1] dgamma, floating[::1] dbeta) noexcept:
    with nogil:
        if floating is float:
            fs_batchnorm_backward_f32(&dout[0, 0], dout.shape[0], dout.shape[1], &gamma[0],
                                      &xc[0, 0], &xn[0, 0], &std[0], &dx[0, 0], &dgamma[0],
                                      &dbeta[0])
        else:
            fs_batchnorm_backward_f64(&dout[0, 0], dout.shape[0], dout.shape[1], &gamma[0],
                                      &xc[0, 0], &xn[0, 0], &std[0], &dx[0, 0], &dgamma[0],
                                      &dbeta[0])
