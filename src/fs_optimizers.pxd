# Cython's view of csrc/optimizers.h, and each float/double pair of it as one fused function:
# called with the GIL (the arrays become typed memoryviews then), it runs the C without. The
# parameter and its state are updated in place; all arrays are flat and of one length.
from cython cimport floating
from fs_kernels cimport fs_index

cdef extern from "optimizers.h" nogil:
    void fs_sgd_update_f32(float *p, const float *g, fs_index n, double lr)
    void fs_sgd_update_f64(double *p, const double *g, fs_index n, double lr)
    void fs_momentum_update_f32(float *p, const float *g, float *v, fs_index n, double lr,
                                double momentum)
    void fs_momentum_update_f64(double *p, const double *g, double *v, fs_index n, double lr,
                                double momentum)
    void fs_nesterov_update_f32(float *p, const float *g, float *v, fs_index n, double lr,
                                double momentum)
    void fs_nesterov_update_f64(double *p, const double *g, double *v, fs_index n, double lr,
                                double momentum)
    void fs_adagrad_update_f32(float *p, const float *g, float *h, fs_index n, double lr)
    void fs_adagrad_update_f64(double *p, const double *g, double *h, fs_index n, double lr)
    void fs_rmsprop_update_f32(float *p, const float *g, float *h, fs_index n, double lr,
                               double decay_rate)
    void fs_rmsprop_update_f64(double *p, const double *g, double *h, fs_index n, double lr,
                               double decay_rate)
    void fs_adam_update_f32(float *p, const float *g, float *m, float *v, fs_index n,
                            double lr_t, double beta1, double beta2)
    void fs_adam_update_f64(double *p, const double *g, double *m, double *v, fs_index n,
                            double lr_t, double beta1, double beta2)


cdef inline void fs_sgd_update(floating[::1] p, const floating[::1] g, double lr) noexcept:
    with nogil:
        if floating is float:
            fs_sgd_update_f32(&p[0], &g[0], p.shape[0], lr)
        else:
            fs_sgd_update_f64(&p[0], &g[0], p.shape[0], lr)


cdef inline void fs_momentum_update(floating[::1] p, const floating[::1] g, floating[::1] v,
                                    double lr, double momentum) noexcept:
    with nogil:
        if floating is float:
            fs_momentum_update_f32(&p[0], &g[0], &v[0], p.shape[0], lr, momentum)
        else:
            fs_momentum_update_f64(&p[0], &g[0], &v[0], p.shape[0], lr, momentum)


cdef inline void fs_nesterov_update(floating[::1] p, const floating[::1] g, floating[::1] v,
                                    double lr, double momentum) noexcept:
    with nogil:
        if floating is float:
            fs_nesterov_update_f32(&p[0], &g[0], &v[0], p.shape[0], lr, momentum)
        else:
            fs_nesterov_update_f64(&p[0], &g[0], &v[0], p.shape[0], lr, momentum)


cdef inline void fs_adagrad_update(floating[::1] p, const floating[::1] g, floating[::1] h,
                                   double lr) noexcept:
    with nogil:
        if floating is float:
            fs_adagrad_update_f32(&p[0], &g[0], &h[0], p.shape[0], lr)
        else:
            fs_adagrad_update_f64(&p[0], &g[0], &h[0], p.shape[0], lr)


cdef inline void fs_rmsprop_update(floating[::1] p, const floating[::1] g, floating[::1] h,
                                   double lr, double decay_rate) noexcept:
    with nogil:
        if floating is float:
            fs_rmsprop_update_f32(&p[0], &g[0], &h[0], p.shape[0], lr, decay_rate)
        else:
            fs_rmsprop_update_f64(&p[0], &g[0], &h[0], p.shape[0], lr, decay_rate)


cdef inline void fs_adam_update(floating[::1] p, const floating[::1] g, floating[::1] m,
                                floating[::1] v, double lr_t, double beta1,
                                double beta2) noexcept:
    with nogil:
        if floating is float:
            fs_adam_update_f32(&p[0], &g[0], &m[0], &v[0], p.shape[0], lr_t, beta1, beta2)
        else:
            fs_adam_update_f64(&p[0], &g[0], &m[0], &v[0], p.shape[0], lr_t, beta1, beta2)
