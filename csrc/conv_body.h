/* Convolution for one element type; included twice by conv.c through fs_instantiate.h.
 * Per image n:  out_n (FN, OHW) = b + W (FN, CK) x col_n (CK, OHW)          (CK = C*FH*FW)
 *               dW^T += col_n x dout_n^T, db += row sums of dout_n,
 *                 (dW^T, CK x FN: OpenBLAS ran this shape 20-35% faster than dout_n x col_n^T
 *                 for DeepConvNet's layers, docs/performance.md; transposed once at the end)
 *               dcol = W^T x dout_n,     dx_n = col2im(dcol).
 * Stride 1 with 16 or more channels skips im2col: see "shifted products" below.
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

/* ---- Stride 1: no im2col ("shifted products").
 * Pad the image once into xp (C, Hp*Wp), Hp = H + 2*pad, Wp = W + 2*pad. Computing each output
 * row over the full padded width Wp (the last FW-1 columns of each row are thrown away), the
 * patch entry (c, ky, kx) of every output position is xp[c] read from offset ky*Wp + kx on: a
 * (C, OH*Wp) matrix with rows Hp*Wp apart that BLAS reads in place. So, per image,
 *   acc (FN, OH*Wp)  = sum over (ky, kx) of  Wk[ky,kx] (FN x C) x xp shifted by ky*Wp + kx,
 *   dWk[ky,kx] (FN x C) += dp x (xp shifted)^T,  dxp shifted += Wk[ky,kx]^T x dp,
 * with dp = dout spread to the padded width, zeros in the thrown-away columns (so they add
 * nothing). The shifted rows of the last channel run FW-1 entries past xp: it has that tail.
 * Costs FW-1 wasted columns per output row, saves writing and re-reading C*FH*FW*OHW patches. */

/* Below 16 channels the per-tap products (K = C) run slower than one im2col product
 * (measured, docs/performance.md: C = 1 2-3.7x slower, C = 8 even, C = 16 1.3x faster). */
#ifndef FS_CONV_SHIFT_MIN_CHANNELS
#define FS_CONV_SHIFT_MIN_CHANNELS 16
#endif
static int FS_FN(conv_shifted)(const fs_patch_geometry *g)
{
    /* The padded plane is a leading dimension and OH*Wp a matrix size for the BLAS, whose
     * sizes are 32-bit: planes too big for that take the im2col path (checked by the binding). */
    const fs_index Wp = g->width + 2 * g->pad, plane = (g->height + 2 * g->pad) * Wp;
    return g->stride == 1 && g->channels >= FS_CONV_SHIFT_MIN_CHANNELS && plane <= INT_MAX &&
           g->out_h * Wp <= INT_MAX;
}

typedef struct {
    fs_index C, H, W, pad, Hp, Wp, plane, xp_size, oh, ow, n, kh, kw, taps;
} FS_FN(shift_geometry);

static FS_FN(shift_geometry) FS_FN(shift_geometry_of)(const fs_patch_geometry *g)
{
    FS_FN(shift_geometry) s;
    s.C = g->channels, s.H = g->height, s.W = g->width, s.pad = g->pad;
    s.Hp = s.H + 2 * s.pad, s.Wp = s.W + 2 * s.pad, s.plane = s.Hp * s.Wp;
    s.xp_size = s.C * s.plane + g->kernel_w;
    s.oh = g->out_h, s.ow = g->out_w, s.n = s.oh * s.Wp;
    s.kh = g->kernel_h, s.kw = g->kernel_w, s.taps = s.kh * s.kw;
    return s;
}

/* Wk[tap] (FN x C) = w[:, :, ky, kx], tap = ky*FW + kx. */
static void FS_FN(shift_weights)(const real *w, const FS_FN(shift_geometry) *s, fs_index filters,
                                 real *wk)
{
    for (fs_index f = 0; f < filters; ++f)
        for (fs_index c = 0; c < s->C; ++c)
            for (fs_index t = 0; t < s->taps; ++t)
                wk[(t * filters + f) * s->C + c] = w[(f * s->C + c) * s->taps + t];
}

static void FS_FN(shift_pad_image)(const real *x_n, const FS_FN(shift_geometry) *s, real *xp)
{
    memset(xp, 0, (size_t)s->xp_size * sizeof(real));
    for (fs_index c = 0; c < s->C; ++c)
        for (fs_index y = 0; y < s->H; ++y)
            memcpy(xp + c * s->plane + (y + s->pad) * s->Wp + s->pad, x_n + (c * s->H + y) * s->W,
                   (size_t)s->W * sizeof(real));
}

static void FS_FN(shift_forward_image)(const real *x_n, const FS_FN(shift_geometry) *s,
                                       const real *wk, const real *b, fs_index filters, real *xp,
                                       real *acc, real *out_n)
{
    FS_FN(shift_pad_image)(x_n, s, xp);
    for (fs_index ky = 0; ky < s->kh; ++ky)
        for (fs_index kx = 0; kx < s->kw; ++kx) {
            const fs_index t = ky * s->kw + kx;
            FS_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)filters, (int)s->n, (int)s->C,
                    1, wk + t * filters * s->C, (int)s->C, xp + ky * s->Wp + kx, (int)s->plane,
                    t ? 1 : 0, acc, (int)s->n);
        }
    for (fs_index f = 0; f < filters; ++f)
        for (fs_index oy = 0; oy < s->oh; ++oy) {
            real *restrict d = out_n + (f * s->oh + oy) * s->ow;
            const real *restrict a = acc + f * s->n + oy * s->Wp;
            const real bias = b[f];
            for (fs_index ox = 0; ox < s->ow; ++ox) d[ox] = a[ox] + bias;
        }
}

static void FS_FN(shift_backward_image)(const real *dout_n, const real *x_n,
                                        const FS_FN(shift_geometry) *s, const real *wk,
                                        fs_index filters, real *xp, real *dp, real *dxp,
                                        real *dx_n, real *dwk, double *db)
{
    FS_FN(shift_pad_image)(x_n, s, xp);
    for (fs_index f = 0; f < filters; ++f) {
        double sum = 0;
        for (fs_index oy = 0; oy < s->oh; ++oy) {
            real *restrict d = dp + f * s->n + oy * s->Wp;
            const real *restrict src = dout_n + (f * s->oh + oy) * s->ow;
            for (fs_index ox = 0; ox < s->ow; ++ox) {
                d[ox] = src[ox];
                sum += src[ox];
            }
            for (fs_index ox = s->ow; ox < s->Wp; ++ox) d[ox] = 0;
        }
        db[f] += sum;
    }
    if (dx_n) memset(dxp, 0, (size_t)s->xp_size * sizeof(real));
    for (fs_index ky = 0; ky < s->kh; ++ky)
        for (fs_index kx = 0; kx < s->kw; ++kx) {
            const fs_index t = ky * s->kw + kx, off = ky * s->Wp + kx;
            FS_GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, (int)filters, (int)s->C, (int)s->n,
                    1, dp, (int)s->n, xp + off, (int)s->plane, 1, dwk + t * filters * s->C,
                    (int)s->C);
            if (dx_n)
                FS_GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, (int)s->C, (int)s->n,
                        (int)filters, 1, wk + t * filters * s->C, (int)s->C, dp, (int)s->n, 1,
                        dxp + off, (int)s->plane);
        }
    if (dx_n)
        for (fs_index c = 0; c < s->C; ++c)
            for (fs_index y = 0; y < s->H; ++y)
                memcpy(dx_n + (c * s->H + y) * s->W,
                       dxp + c * s->plane + (y + s->pad) * s->Wp + s->pad,
                       (size_t)s->W * sizeof(real));
}

static int FS_FN(conv_forward_shifted)(const real *x, fs_index batch, const fs_patch_geometry *g,
                                       const real *w, const real *b, fs_index filters, real *out,
                                       int strategy)
{
    const FS_FN(shift_geometry) s = FS_FN(shift_geometry_of)(g);
    const fs_index image = s.C * s.H * s.W, ohw = s.oh * s.ow;
    const int threads = FS_FN(conv_image_threads)(batch, g, filters, strategy);
    const fs_index per_thread = s.xp_size + filters * s.n; /* xp, then acc */
    real *wk = malloc((size_t)(filters * s.C * s.taps + 1) * sizeof(real));
    real *scratch = malloc((size_t)(threads * per_thread) * sizeof(real));
    if (!wk || !scratch) {
        free(wk);
        free(scratch);
        return -1;
    }
    FS_FN(shift_weights)(w, &s, filters, wk);
    if (threads == 1) {
        for (fs_index n = 0; n < batch; ++n)
            FS_FN(shift_forward_image)(x + n * image, &s, wk, b, filters, scratch,
                                       scratch + s.xp_size, out + n * filters * ohw);
    } else {
        const int blas_threads = FS_FN(blas_serial_begin)();
        #pragma omp parallel num_threads(threads)
        {
            real *xp = scratch + omp_get_thread_num() * per_thread;
            #pragma omp for schedule(static)
            for (fs_index n = 0; n < batch; ++n)
                FS_FN(shift_forward_image)(x + n * image, &s, wk, b, filters, xp, xp + s.xp_size,
                                           out + n * filters * ohw);
        }
        scipy_openblas_set_num_threads(blas_threads);
    }
    free(wk);
    free(scratch);
    return 0;
}

static int FS_FN(conv_backward_shifted)(const real *dout, const real *x, fs_index batch,
                                        const fs_patch_geometry *g, const real *w,
                                        fs_index filters, real *dx, real *dw, real *db,
                                        int strategy)
{
    const FS_FN(shift_geometry) s = FS_FN(shift_geometry_of)(g);
    const fs_index image = s.C * s.H * s.W, ohw = s.oh * s.ow, wsize = filters * s.C * s.taps;
    const int threads = FS_FN(conv_image_threads)(batch, g, filters, strategy);
    /* Per thread: xp, dxp, dp, then its own dWk per tap (FN x C) and db (double). */
    const fs_index dp_at = 2 * s.xp_size, dw_at = dp_at + filters * s.n;
    const fs_index per_thread = dw_at + wsize;
    real *wk = malloc((size_t)(wsize + 1) * sizeof(real));
    real *scratch = malloc((size_t)(threads * per_thread) * sizeof(real));
    double *db_sums = calloc((size_t)(threads * filters), sizeof(double));
    if (!wk || !scratch || !db_sums) {
        free(wk);
        free(scratch);
        free(db_sums);
        return -1;
    }
    FS_FN(shift_weights)(w, &s, filters, wk);
    if (threads == 1) {
        real *dwk = scratch + dw_at;
        for (fs_index i = 0; i < wsize; ++i) dwk[i] = 0;
        for (fs_index n = 0; n < batch; ++n)
            FS_FN(shift_backward_image)(dout + n * filters * ohw, x + n * image, &s, wk, filters,
                                        scratch, scratch + dp_at, scratch + s.xp_size,
                                        dx ? dx + n * image : NULL, dwk, db_sums);
    } else {
        const int blas_threads = FS_FN(blas_serial_begin)();
        #pragma omp parallel num_threads(threads)
        {
            const int t = omp_get_thread_num();
            real *xp = scratch + t * per_thread, *dwk = xp + dw_at;
            for (fs_index i = 0; i < wsize; ++i) dwk[i] = 0;
            #pragma omp for schedule(static)
            for (fs_index n = 0; n < batch; ++n)
                FS_FN(shift_backward_image)(dout + n * filters * ohw, x + n * image, &s, wk,
                                            filters, xp, xp + dp_at, xp + s.xp_size,
                                            dx ? dx + n * image : NULL, dwk,
                                            db_sums + t * filters);
        }
        scipy_openblas_set_num_threads(blas_threads);
        for (fs_index f = 0; f < filters; ++f)
            for (int t = 1; t < threads; ++t) db_sums[f] += db_sums[t * filters + f];
    }
    /* dw[f][c][tap] = the threads' dWk[tap][f][c] summed. */
    for (fs_index f = 0; f < filters; ++f)
        for (fs_index c = 0; c < s.C; ++c)
            for (fs_index tap = 0; tap < s.taps; ++tap) {
                real sum = 0;
                for (int t = 0; t < threads; ++t)
                    sum += scratch[t * per_thread + dw_at + (tap * filters + f) * s.C + c];
                dw[(f * s.C + c) * s.taps + tap] = sum;
            }
    for (fs_index f = 0; f < filters; ++f) db[f] = (real)db_sums[f];
    free(wk);
    free(scratch);
    free(db_sums);
    return 0;
}

int FS_FN(fs_conv_forward)(const real *x, fs_index batch, const fs_patch_geometry *g,
                           const real *w, const real *b, fs_index filters, real *out, int strategy)
{
    if (FS_FN(conv_shifted)(g))
        return FS_FN(conv_forward_shifted)(x, batch, g, w, b, filters, out, strategy);
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
    if (FS_FN(conv_shifted)(g))
        return FS_FN(conv_backward_shifted)(dout, x, batch, g, w, filters, dx, dw, db, strategy);
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
