/* Optimizer steps for one element type; included twice by optimizers.c. */

FS_HOT void FS_FN(fs_sgd_update)(real *p, const real *g, fs_index n, double lr)
{
    const real a = (real)lr;
#pragma omp parallel for schedule(static) num_threads(fs_threads_for((double)n, FS_GRAIN_STREAM))
    for (fs_index i = 0; i < n; ++i) p[i] -= a * g[i];
}

FS_HOT void FS_FN(fs_momentum_update)(real *p, const real *g, real *v, fs_index n, double lr,
                                      double momentum)
{
    const real a = (real)lr, m = (real)momentum;
#pragma omp parallel for schedule(static) num_threads(fs_threads_for((double)n, FS_GRAIN_STREAM))
    for (fs_index i = 0; i < n; ++i) {
        const real vi = m * v[i] - a * g[i];
        v[i] = vi;
        p[i] += vi;
    }
}

FS_HOT void FS_FN(fs_nesterov_update)(real *p, const real *g, real *v, fs_index n, double lr,
                                      double momentum)
{
    const real a = (real)lr, m = (real)momentum;
    const real mm = (real)(momentum * momentum), step = (real)((1 + momentum) * lr);
#pragma omp parallel for schedule(static) num_threads(fs_threads_for((double)n, FS_GRAIN_STREAM))
    for (fs_index i = 0; i < n; ++i) {
        real pi = p[i] + mm * v[i];
        p[i] = pi - step * g[i];
        v[i] = v[i] * m - a * g[i];
    }
}

FS_HOT void FS_FN(fs_adagrad_update)(real *p, const real *g, real *h, fs_index n, double lr)
{
    const real a = (real)lr, eps = (real)1e-7;
#pragma omp parallel for schedule(static) num_threads(fs_threads_for((double)n, FS_GRAIN_STREAM))
    for (fs_index i = 0; i < n; ++i) {
        const real hi = h[i] + g[i] * g[i];
        h[i] = hi;
        p[i] -= a * g[i] / (FS_SQRT(hi) + eps);
    }
}

FS_HOT void FS_FN(fs_rmsprop_update)(real *p, const real *g, real *h, fs_index n, double lr,
                                     double decay_rate)
{
    const real a = (real)lr, d = (real)decay_rate, rest = (real)(1 - decay_rate);
    const real eps = (real)1e-7;
#pragma omp parallel for schedule(static) num_threads(fs_threads_for((double)n, FS_GRAIN_STREAM))
    for (fs_index i = 0; i < n; ++i) {
        const real hi = h[i] * d + rest * g[i] * g[i];
        h[i] = hi;
        p[i] -= a * g[i] / (FS_SQRT(hi) + eps);
    }
}

FS_HOT void FS_FN(fs_adam_update)(real *p, const real *g, real *m, real *v, fs_index n, double lr_t,
                                  double beta1, double beta2)
{
    const real a = (real)lr_t, b1 = (real)(1 - beta1), b2 = (real)(1 - beta2);
    const real eps = (real)1e-7;
#pragma omp parallel for schedule(static) num_threads(fs_threads_for((double)n, FS_GRAIN_STREAM))
    for (fs_index i = 0; i < n; ++i) {
        const real mi = m[i] + b1 * (g[i] - m[i]);
        const real vi = v[i] + b2 * (g[i] * g[i] - v[i]);
        m[i] = mi;
        v[i] = vi;
        p[i] -= a * mi / (FS_SQRT(vi) + eps);
    }
}
