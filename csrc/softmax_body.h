/* Softmax and its loss for one element type; included twice by softmax.c. */

/* One row. The maximum propagates NaN (as np.max does), so a NaN row gives NaN everywhere;
 * the row sum is kept in double (more exact than the float sum it replaces). */
FS_HOT static void FS_FN(softmax_row)(const real *x, fs_index cols, real *y)
{
    real m = x[0];
    for (fs_index j = 1; j < cols; ++j) {
        const real v = x[j];
        m = (v > m || v != v) ? v : m;
    }
    for (fs_index j = 0; j < cols; ++j) y[j] = FS_EXP(x[j] - m);  /* vectorised (fs_vmath.h) */
    double sum = 0;
    for (fs_index j = 0; j < cols; ++j) sum += y[j];
    const real s = (real)sum;
    for (fs_index j = 0; j < cols; ++j) y[j] = y[j] / s;
}

void FS_FN(fs_softmax)(const real *x, fs_index rows, fs_index cols, real *y)
{
    #pragma omp parallel for schedule(static) if (rows * cols > FS_STREAM_THRESHOLD)
    for (fs_index r = 0; r < rows; ++r)
        FS_FN(softmax_row)(x + r * cols, cols, y + r * cols);
}

/* The loss sum runs serially in row order after the parallel softmax, so it does not depend on
 * the thread count. rows == 0 gives 0/0 = NaN, as NumPy's mean of nothing does. */
real FS_FN(fs_softmax_loss_forward)(const real *x, const int64_t *labels, fs_index rows,
                                    fs_index cols, real *y)
{
    FS_FN(fs_softmax)(x, rows, cols, y);
    double sum = 0;
    for (fs_index r = 0; r < rows; ++r)
        sum += FS_LOG(y[r * cols + labels[r]] + (real)1e-7);
    return (real)(-sum) / (real)rows;
}

FS_HOT void FS_FN(fs_softmax_loss_backward)(const real *y, const int64_t *labels, fs_index rows,
                                            fs_index cols, real *dx)
{
    const real n = (real)rows;
    #pragma omp parallel for schedule(static) if (rows * cols > FS_STREAM_THRESHOLD)
    for (fs_index r = 0; r < rows; ++r) {
        const real *yr = y + r * cols;
        real *dr = dx + r * cols;
        for (fs_index j = 0; j < cols; ++j) dr[j] = yr[j] / n;
        dr[labels[r]] = (yr[labels[r]] - 1) / n;
    }
}

FS_HOT void FS_FN(fs_softmax_loss_backward_onehot)(const real *y, const real *t, fs_index rows,
                                                   fs_index cols, real *dx)
{
    const real n = (real)rows;
    const fs_index size = rows * cols;
    #pragma omp parallel for schedule(static) if (size > FS_STREAM_THRESHOLD)
    for (fs_index i = 0; i < size; ++i) dx[i] = (y[i] - t[i]) / n;
}
