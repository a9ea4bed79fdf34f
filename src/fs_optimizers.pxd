# Cython's view of csrc/optimizers.h.
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
