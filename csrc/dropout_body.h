/* Dropout for one element type; included twice by dropout.c. Multiplying by 0 or 1 (not
 * selecting) keeps NumPy's x * mask results for NaN, inf and -0. */

FS_HOT void FS_FN(fs_dropout_forward_train)(const real *x, const double *rand, double ratio,
                                            fs_index n, real *out, uint8_t *mask)
{
#pragma omp parallel for schedule(static) num_threads(fs_threads_for((double)n, FS_GRAIN_STREAM))
    for (fs_index i = 0; i < n; ++i) {
        const int keep = rand[i] > ratio;
        mask[i] = (uint8_t)keep;
        out[i] = x[i] * (keep ? (real)1 : (real)0);
    }
}

FS_HOT void FS_FN(fs_dropout_backward)(const real *dout, const uint8_t *mask, fs_index n, real *dx)
{
#pragma omp parallel for schedule(static) num_threads(fs_threads_for((double)n, FS_GRAIN_STREAM))
    for (fs_index i = 0; i < n; ++i) dx[i] = dout[i] * (real)(mask[i] != 0);
}
