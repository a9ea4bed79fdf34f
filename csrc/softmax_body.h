/* Softmax and its loss for one element type; included twice by softmax.c. */

/* One row. The maximum propagates NaN (as np.max does), so a NaN row gives NaN everywhere.
 * Max and sum keep 8 running lanes (as NumPy's pairwise sum does) so the loops vectorise and do
 * not wait on one add chain; the sum is kept in double. */
FS_HOT static void FS_FN(softmax_row)(const real *x, fs_index cols, real *y)
{
    real lane_max[8];
    double lane_sum[8];
    fs_index j = 0;
    for (int k = 0; k < 8; ++k) lane_max[k] = x[0];
    for (; j + 8 <= cols; j += 8)
        for (int k = 0; k < 8; ++k) {
            const real v = x[j + k];
            lane_max[k] = (v > lane_max[k] || v != v) ? v : lane_max[k];
        }
    real m = lane_max[0];
    for (int k = 1; k < 8; ++k)
        m = (lane_max[k] > m || lane_max[k] != lane_max[k]) ? lane_max[k] : m;
    for (; j < cols; ++j) m = (x[j] > m || x[j] != x[j]) ? x[j] : m;

    for (j = 0; j < cols; ++j) y[j] = FS_EXP(x[j] - m);  /* vectorised (fs_vmath.h) */
    for (int k = 0; k < 8; ++k) lane_sum[k] = 0;
    for (j = 0; j + 8 <= cols; j += 8)
        for (int k = 0; k < 8; ++k) lane_sum[k] += y[j + k];
    double sum = ((lane_sum[0] + lane_sum[1]) + (lane_sum[2] + lane_sum[3])) +
                 ((lane_sum[4] + lane_sum[5]) + (lane_sum[6] + lane_sum[7]));
    for (; j < cols; ++j) sum += y[j];
    const real s = (real)sum;
    for (j = 0; j < cols; ++j) y[j] = y[j] / s;
}

void FS_FN(fs_softmax)(const real *x, fs_index rows, fs_index cols, real *y)
{
#pragma omp parallel for schedule(static)                                                          \
    num_threads(fs_threads_for((double)(rows * cols), FS_GRAIN_SOFTMAX))
    for (fs_index r = 0; r < rows; ++r) FS_FN(softmax_row)(x + r * cols, cols, y + r * cols);
}

/* The loss sum runs serially in row order after the parallel softmax, so it does not depend on
 * the thread count. rows == 0 gives 0/0 = NaN, as NumPy's mean of nothing does. */
real FS_FN(fs_softmax_loss_forward)(const real *x, const int64_t *labels, fs_index rows,
                                    fs_index cols, real *y)
{
    FS_FN(fs_softmax)(x, rows, cols, y);
    double sum = 0;
    for (fs_index r = 0; r < rows; ++r) sum += FS_LOG(y[r * cols + labels[r]] + (real)1e-7);
    return (real)(-sum) / (real)rows;
}

FS_HOT void FS_FN(fs_softmax_loss_backward)(const real *y, const int64_t *labels, fs_index rows,
                                            fs_index cols, real *dx)
{
    const real n = (real)rows;
#pragma omp parallel for schedule(static)                                                          \
    num_threads(fs_threads_for((double)(rows * cols), FS_GRAIN_SOFTMAX))
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
#pragma omp parallel for schedule(static)                                                          \
    num_threads(fs_threads_for((double)size, FS_GRAIN_SOFTMAX))
    for (fs_index i = 0; i < size; ++i) dx[i] = (y[i] - t[i]) / n;
}
