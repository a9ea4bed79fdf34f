/* Batch normalisation for one element type; included twice by batchnorm.c. */

/* Threads take blocks of this many columns; each block walks all N rows. */
#ifndef FS_BN_BLOCK
#define FS_BN_BLOCK 64
#endif

FS_HOT static void FS_FN(bn_train_block)(const real *x, fs_index N, fs_index D, fs_index c0,
                                         fs_index c1, const real *gamma, const real *beta, real eps,
                                         real *out, real *mu, real *var, real *xc, real *xn,
                                         real *std)
{
    const real n = (real)N;
    for (fs_index c = c0; c < c1; ++c) mu[c] = 0;
    for (fs_index r = 0; r < N; ++r)
        for (fs_index c = c0; c < c1; ++c) mu[c] += x[r * D + c];
    for (fs_index c = c0; c < c1; ++c) {
        mu[c] = mu[c] / n;
        var[c] = 0;
    }
    for (fs_index r = 0; r < N; ++r)
        for (fs_index c = c0; c < c1; ++c) {
            const real d = x[r * D + c] - mu[c];
            xc[r * D + c] = d;
            var[c] += d * d;
        }
    for (fs_index c = c0; c < c1; ++c) {
        var[c] = var[c] / n;
        std[c] = FS_SQRT(var[c] + eps);
    }
    for (fs_index r = 0; r < N; ++r)
        for (fs_index c = c0; c < c1; ++c) {
            const real v = xc[r * D + c] / std[c];
            xn[r * D + c] = v;
            out[r * D + c] = gamma[c] * v + beta[c];
        }
}

void FS_FN(fs_batchnorm_forward_train)(const real *x, fs_index N, fs_index D, const real *gamma,
                                       const real *beta, double eps, real *out, real *mu, real *var,
                                       real *xc, real *xn, real *std)
{
    const fs_index blocks = (D + FS_BN_BLOCK - 1) / FS_BN_BLOCK;
#pragma omp parallel for schedule(static)                                                          \
    num_threads(blocks > 1 ? fs_threads_for((double)(N * D), FS_GRAIN_BATCHNORM) : 1)
    for (fs_index b = 0; b < blocks; ++b) {
        const fs_index c0 = b * FS_BN_BLOCK, c1 = c0 + FS_BN_BLOCK < D ? c0 + FS_BN_BLOCK : D;
        FS_FN(bn_train_block)(x, N, D, c0, c1, gamma, beta, (real)eps, out, mu, var, xc, xn, std);
    }
}

FS_HOT static void FS_FN(bn_test_block)(const real *x, fs_index N, fs_index D, fs_index c0,
                                        fs_index c1, const real *gamma, const real *beta,
                                        const real *running_mean, const real *running_var, real eps,
                                        real *out)
{
    real scale[FS_BN_BLOCK];
    for (fs_index c = c0; c < c1; ++c) scale[c - c0] = FS_SQRT(running_var[c] + eps);
    for (fs_index r = 0; r < N; ++r)
        for (fs_index c = c0; c < c1; ++c)
            out[r * D + c] =
                gamma[c] * ((x[r * D + c] - running_mean[c]) / scale[c - c0]) + beta[c];
}

void FS_FN(fs_batchnorm_forward_test)(const real *x, fs_index N, fs_index D, const real *gamma,
                                      const real *beta, const real *running_mean,
                                      const real *running_var, double eps, real *out)
{
    const fs_index blocks = (D + FS_BN_BLOCK - 1) / FS_BN_BLOCK;
#pragma omp parallel for schedule(static)                                                          \
    num_threads(blocks > 1 ? fs_threads_for((double)(N * D), FS_GRAIN_BATCHNORM) : 1)
    for (fs_index b = 0; b < blocks; ++b) {
        const fs_index c0 = b * FS_BN_BLOCK, c1 = c0 + FS_BN_BLOCK < D ? c0 + FS_BN_BLOCK : D;
        FS_FN(bn_test_block)(x, N, D, c0, c1, gamma, beta, running_mean, running_var, (real)eps,
                             out);
    }
}

FS_HOT static void FS_FN(bn_backward_block)(const real *dout, fs_index N, fs_index D, fs_index c0,
                                            fs_index c1, const real *gamma, const real *xc,
                                            const real *xn, const real *std, real *dx, real *dgamma,
                                            real *dbeta)
{
    real var2[FS_BN_BLOCK], dstd[FS_BN_BLOCK], dvar[FS_BN_BLOCK], dmu[FS_BN_BLOCK];
    const fs_index w = c1 - c0;
    const real two_over_n = (real)(2.0 / (double)N), n = (real)N;
    for (fs_index k = 0; k < w; ++k) {
        dbeta[c0 + k] = 0;
        dgamma[c0 + k] = 0;
        dstd[k] = 0;
        dmu[k] = 0;
        var2[k] = std[c0 + k] * std[c0 + k];
    }
    /* dbeta = sum(dout); dgamma = sum(xn*dout); dstd = -sum((gamma*dout)*xc / (std*std)) */
    for (fs_index r = 0; r < N; ++r)
        for (fs_index k = 0; k < w; ++k) {
            const fs_index c = c0 + k, i = r * D + c;
            dbeta[c] += dout[i];
            dgamma[c] += xn[i] * dout[i];
            dstd[k] += (gamma[c] * dout[i]) * xc[i] / var2[k];
        }
    for (fs_index k = 0; k < w; ++k) dvar[k] = ((real)0.5 * -dstd[k]) / std[c0 + k];
    /* dxc = gamma*dout/std + (2/N)*xc*dvar; dmu = sum(dxc) */
    for (fs_index r = 0; r < N; ++r)
        for (fs_index k = 0; k < w; ++k) {
            const fs_index c = c0 + k, i = r * D + c;
            const real d = (gamma[c] * dout[i]) / std[c] + two_over_n * xc[i] * dvar[k];
            dx[i] = d;
            dmu[k] += d;
        }
    for (fs_index k = 0; k < w; ++k) dmu[k] = dmu[k] / n;
    for (fs_index r = 0; r < N; ++r)
        for (fs_index k = 0; k < w; ++k) dx[r * D + c0 + k] -= dmu[k];
}

void FS_FN(fs_batchnorm_backward)(const real *dout, fs_index N, fs_index D, const real *gamma,
                                  const real *xc, const real *xn, const real *std, real *dx,
                                  real *dgamma, real *dbeta)
{
    const fs_index blocks = (D + FS_BN_BLOCK - 1) / FS_BN_BLOCK;
#pragma omp parallel for schedule(static)                                                          \
    num_threads(blocks > 1 ? fs_threads_for((double)(N * D), FS_GRAIN_BATCHNORM) : 1)
    for (fs_index b = 0; b < blocks; ++b) {
        const fs_index c0 = b * FS_BN_BLOCK, c1 = c0 + FS_BN_BLOCK < D ? c0 + FS_BN_BLOCK : D;
        FS_FN(bn_backward_block)(dout, N, D, c0, c1, gamma, xc, xn, std, dx, dgamma, dbeta);
    }
}
