/* ReLU and sigmoid for one element type; included twice by activations.c. */

FS_HOT void FS_FN(fs_relu_forward)(const real *x, fs_index n, real *out, uint8_t *mask)
{
#pragma omp parallel for schedule(static) num_threads(fs_threads_for((double)n, FS_GRAIN_STREAM))
    for (fs_index i = 0; i < n; ++i) {
        const int off = x[i] <= 0;
        mask[i] = (uint8_t)off;
        out[i] = off ? (real)0 : x[i];
    }
}

FS_HOT void FS_FN(fs_relu_backward)(real *dout, const uint8_t *mask, fs_index n)
{
#pragma omp parallel for schedule(static) num_threads(fs_threads_for((double)n, FS_GRAIN_STREAM))
    for (fs_index i = 0; i < n; ++i) dout[i] = mask[i] ? (real)0 : dout[i];
}

/* exp of a non-positive number never overflows: for x >= 0 use 1/(1+exp(-x)) (the book's
 * formula), for x < 0 the equal exp(x)/(1+exp(x)); NaN stays NaN. Written as one exp(-|x|), one
 * division and a select between two computed values, so that GCC vectorises it (a select of
 * two different divisions it did not). */
FS_HOT void FS_FN(fs_sigmoid_forward)(const real *x, fs_index n, real *out)
{
#pragma omp parallel for schedule(static) num_threads(fs_threads_for((double)n, FS_GRAIN_STREAM))
    for (fs_index i = 0; i < n; ++i) {
        const real v = x[i];
        const real e = FS_EXP(-FS_FABS(v));
        const real numerator = v < 0 ? e : (real)1;
        out[i] = numerator / (1 + e);
    }
}

FS_HOT void FS_FN(fs_sigmoid_backward)(const real *dout, const real *out, fs_index n, real *dx)
{
#pragma omp parallel for schedule(static) num_threads(fs_threads_for((double)n, FS_GRAIN_STREAM))
    for (fs_index i = 0; i < n; ++i) dx[i] = dout[i] * (1 - out[i]) * out[i];
}
