/* Convolution for one element type; included twice by conv.c through fs_instantiate.h.
 * Per image n:  out_n (FN, OHW) = b + W (FN, CK) x col_n (CK, OHW)          (CK = C*FH*FW)
 *               dW^T += col_n x dout_n^T, db += row sums of dout_n,
 *                 (dW^T, CK x FN: OpenBLAS ran this shape 20-35% faster than dout_n x col_n^T
 *                 for DeepConvNet's layers, docs/performance.md; transposed once at the end)
 *               dcol = W^T x dout_n,     dx_n = col2im(dcol).
 * Two ways to use two or more cores, chosen per call (measured: docs/performance.md):
 *   images parallel - OpenMP over images, each thread its own col buffer, a one-thread GEMM and
 *                     (backward) its own dW / db, summed at the end;
 *   BLAS parallel   - one image at a time, the GEMM itself multi-threaded. */

/* out_n = b broadcast along each filter's row, then += W x col_n. */
static void FS_FN(conv_forward_image)(const real *x_n, const fs_patch_geometry *g, const real *w,
                                      const real *b, fs_index filters, real *col, real *out_n)
{
    const fs_index ohw = g->out_h * g->out_w;
    const fs_index ck = g->channels * g->kernel_h * g->kernel_w;
    for (fs_index f = 0; f < filters; ++f) {
        real *row = out_n + f * ohw;
        const real bias = b[f];
        for (fs_index i = 0; i < ohw; ++i) row[i] = bias;
    }
    FS_FN(fs_im2col_cols)(x_n, g, col);
    FS_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)filters, (int)ohw, (int)ck,
            1, w, (int)ck, col, (int)ohw, 1, out_n, (int)ohw);
}

/* dw_t (CK x FN) += col_n x dout_n^T, db += row sums of dout_n, dx_n = col2im(W^T x dout_n). */
static void FS_FN(conv_backward_image)(const real *dout_n, const real *x_n,
                                       const fs_patch_geometry *g, const real *w, fs_index filters,
                                       real *col, real *dcol, real *dx_n, real *dw_t, double *db)
{
    const fs_index ohw = g->out_h * g->out_w;
    const fs_index ck = g->channels * g->kernel_h * g->kernel_w;
    FS_FN(fs_im2col_cols)(x_n, g, col);
    FS_GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, (int)ck, (int)filters, (int)ohw,
            1, col, (int)ohw, dout_n, (int)ohw, 1, dw_t, (int)filters);
    for (fs_index f = 0; f < filters; ++f) {
        const real *row = dout_n + f * ohw;
        double sum = 0;
        for (fs_index i = 0; i < ohw; ++i) sum += row[i];
        db[f] += sum;
    }
    if (dx_n) {
        FS_GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, (int)ck, (int)ohw, (int)filters,
                1, w, (int)ck, dout_n, (int)ohw, 0, dcol, (int)ohw);
        FS_FN(fs_col2im_cols)(dcol, g, dx_n);
    }
}

/* This OpenBLAS (pthreads build) has no per-thread thread count, so the master thread sets the
 * global one to 1 before the OpenMP region and restores it after: a GEMM inside the region then
 * runs on its calling thread instead of waking BLAS workers that compete for the same cores. */
static int FS_FN(blas_serial_begin)(void)
{
    const int threads = scipy_openblas_get_num_threads();
    scipy_openblas_set_num_threads(1);
    return threads;
}

/* The number of OpenMP threads to spread images over; 1 means "let the BLAS thread instead". */
static int FS_FN(conv_image_threads)(fs_index batch, const fs_patch_geometry *g, fs_index filters,
                                     int strategy)
{
    const int threads = omp_get_max_threads();
    if (strategy == FS_CONV_BLAS_PARALLEL || threads < 2 || batch < 2) return 1;
    if (strategy == FS_CONV_AUTO) {
        const fs_index flops = batch * filters * g->channels * g->kernel_h * g->kernel_w *
                               g->out_h * g->out_w;
        if (flops < 8 * FS_PARALLEL_THRESHOLD || batch < threads) return 1;
    }
    return batch < threads ? (int)batch : threads;
}

int FS_FN(fs_conv_forward)(const real *x, fs_index batch, const fs_patch_geometry *g,
                           const real *w, const real *b, fs_index filters, real *out, int strategy)
{
    const fs_index image = g->channels * g->height * g->width;
    const fs_index ohw = g->out_h * g->out_w;
    const fs_index col_size = g->channels * g->kernel_h * g->kernel_w * ohw;
    const int threads = FS_FN(conv_image_threads)(batch, g, filters, strategy);
    real *cols = malloc((size_t)(threads * col_size) * sizeof(real));
    if (!cols) return -1;
    if (threads == 1) {
        for (fs_index n = 0; n < batch; ++n)
            FS_FN(conv_forward_image)(x + n * image, g, w, b, filters, cols,
                                      out + n * filters * ohw);
    } else {
        const int blas_threads = FS_FN(blas_serial_begin)();
        #pragma omp parallel num_threads(threads)
        {
            real *col = cols + omp_get_thread_num() * col_size;
            #pragma omp for schedule(static)
            for (fs_index n = 0; n < batch; ++n)
                FS_FN(conv_forward_image)(x + n * image, g, w, b, filters, col,
                                          out + n * filters * ohw);
        }
        scipy_openblas_set_num_threads(blas_threads);
    }
    free(cols);
    return 0;
}

int FS_FN(fs_conv_backward)(const real *dout, const real *x, fs_index batch,
                            const fs_patch_geometry *g, const real *w, fs_index filters,
                            real *dx, real *dw, real *db, int strategy)
{
    const fs_index image = g->channels * g->height * g->width;
    const fs_index ohw = g->out_h * g->out_w;
    const fs_index ck = g->channels * g->kernel_h * g->kernel_w;
    const fs_index col_size = ck * ohw;
    const int threads = FS_FN(conv_image_threads)(batch, g, filters, strategy);
    /* Per thread: col and dcol, then its own dW^T (CK x FN) and db (FN, summed in double). */
    const fs_index per_thread = 2 * col_size + filters * ck;
    real *scratch = malloc((size_t)(threads * per_thread) * sizeof(real));
    double *db_sums = calloc((size_t)(threads * filters), sizeof(double));
    if (!scratch || !db_sums) {
        free(scratch);
        free(db_sums);
        return -1;
    }
    if (threads == 1) {
        real *dw_t = scratch + 2 * col_size;
        for (fs_index i = 0; i < filters * ck; ++i) dw_t[i] = 0;
        for (fs_index n = 0; n < batch; ++n)
            FS_FN(conv_backward_image)(dout + n * filters * ohw, x + n * image, g, w, filters,
                                       scratch, scratch + col_size, dx ? dx + n * image : NULL,
                                       dw_t, db_sums);
    } else {
        const int blas_threads = FS_FN(blas_serial_begin)();
        #pragma omp parallel num_threads(threads)
        {
            const int t = omp_get_thread_num();
            real *col = scratch + t * per_thread, *dcol = col + col_size, *dw_t = dcol + col_size;
            for (fs_index i = 0; i < filters * ck; ++i) dw_t[i] = 0;
            #pragma omp for schedule(static)
            for (fs_index n = 0; n < batch; ++n)
                FS_FN(conv_backward_image)(dout + n * filters * ohw, x + n * image, g, w, filters,
                                           col, dcol, dx ? dx + n * image : NULL, dw_t,
                                           db_sums + t * filters);
        }
        scipy_openblas_set_num_threads(blas_threads);
        for (fs_index f = 0; f < filters; ++f)
            for (int t = 1; t < threads; ++t) db_sums[f] += db_sums[t * filters + f];
    }
    /* dW (FN x CK) = the threads' dW^T summed and transposed. */
    for (fs_index f = 0; f < filters; ++f)
        for (fs_index i = 0; i < ck; ++i) {
            real sum = 0;
            for (int t = 0; t < threads; ++t)
                sum += scratch[t * per_thread + 2 * col_size + i * filters + f];
            dw[f * ck + i] = sum;
        }
    for (fs_index f = 0; f < filters; ++f) db[f] = (real)db_sums[f];
    free(scratch);
    free(db_sums);
    return 0;
}
