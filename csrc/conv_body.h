/* Convolution for one element type; included twice by conv.c through fs_instantiate.h.
 * Per image n:  out_n (FN, OHW) = b + W (FN, CK) x col_n (CK, OHW)          (CK = C*FH*FW)
 *               dW^T += col_n x dout_n^T, db += row sums of dout_n,
 *                 (dW^T, CK x FN: OpenBLAS ran this shape 20-35% faster than dout_n x col_n^T
 *                 for DeepConvNet's layers, docs/performance.md; transposed once at the end)
 *               dcol = W^T x dout_n,     dx_n = col2im(dcol).
 * Stride 1 with 16 or more channels skips im2col: see "shifted products" below.
 * Two ways to use two or more cores, chosen per call (measured: docs/performance.md):
 *   images parallel - the batch cut into parts of consecutive images, spread over OpenMP
 *                     threads, each part with a one-thread GEMM and (backward) its own dW / db,
 *                     summed in part order at the end;
 *   BLAS parallel   - one image at a time, each product split over the threads (gemm.h). */

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
    FS_FN(fs_gemm)(CblasNoTrans, CblasNoTrans, (int)filters, (int)ohw, (int)ck, 1, w, (int)ck, col,
                   (int)ohw, 1, out_n, (int)ohw);
}

/* dw_t (CK x FN) += col_n x dout_n^T, db += row sums of dout_n, dx_n = col2im(W^T x dout_n). */
static void FS_FN(conv_backward_image)(const real *dout_n, const real *x_n,
                                       const fs_patch_geometry *g, const real *w, fs_index filters,
                                       real *col, real *dcol, real *dx_n, real *dw_t, double *db)
{
    const fs_index ohw = g->out_h * g->out_w;
    const fs_index ck = g->channels * g->kernel_h * g->kernel_w;
    FS_FN(fs_im2col_cols)(x_n, g, col);
    FS_FN(fs_gemm)(CblasNoTrans, CblasTrans, (int)ck, (int)filters, (int)ohw, 1, col, (int)ohw,
                   dout_n, (int)ohw, 1, dw_t, (int)filters);
    for (fs_index f = 0; f < filters; ++f) {
        const real *row = dout_n + f * ohw;
        double sum = 0;
        for (fs_index i = 0; i < ohw; ++i) sum += row[i];
        db[f] += sum;
    }
    if (dx_n) {
        FS_FN(fs_gemm)(CblasTrans, CblasNoTrans, (int)ck, (int)ohw, (int)filters, 1, w, (int)ck,
                       dout_n, (int)ohw, 0, dcol, (int)ohw);
        FS_FN(fs_col2im_cols)(dcol, g, dx_n);
    }
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

/* Wk[tap] (FN x C) = w[:, :, ky, kx], tap = ky*FW + kx. */
static void FS_FN(shift_weights)(const real *w, const fs_shift_geometry *s, fs_index filters,
                                 real *wk)
{
    for (fs_index f = 0; f < filters; ++f)
        for (fs_index c = 0; c < s->C; ++c)
            for (fs_index t = 0; t < s->taps; ++t)
                wk[(t * filters + f) * s->C + c] = w[(f * s->C + c) * s->taps + t];
}

static void FS_FN(shift_pad_image)(const real *x_n, const fs_shift_geometry *s, real *xp)
{
    memset(xp, 0, (size_t)s->xp_size * sizeof(real));
    for (fs_index c = 0; c < s->C; ++c)
        for (fs_index y = 0; y < s->H; ++y)
            memcpy(xp + c * s->plane + (y + s->pad) * s->Wp + s->pad, x_n + (c * s->H + y) * s->W,
                   (size_t)s->W * sizeof(real));
}

static void FS_FN(shift_forward_image)(const real *x_n, const fs_shift_geometry *s, const real *wk,
                                       const real *b, fs_index filters, real *xp, real *acc,
                                       real *out_n)
{
    FS_FN(shift_pad_image)(x_n, s, xp);
    for (fs_index ky = 0; ky < s->kh; ++ky)
        for (fs_index kx = 0; kx < s->kw; ++kx) {
            const fs_index t = ky * s->kw + kx;
            FS_FN(fs_gemm)(CblasNoTrans, CblasNoTrans, (int)filters, (int)s->n, (int)s->C, 1,
                           wk + t * filters * s->C, (int)s->C, xp + ky * s->Wp + kx, (int)s->plane,
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
                                        const fs_shift_geometry *s, const real *wk,
                                        fs_index filters, real *xp, real *dp, real *dxp, real *dx_n,
                                        real *dwk, double *db)
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
            FS_FN(fs_gemm)(CblasNoTrans, CblasTrans, (int)filters, (int)s->C, (int)s->n, 1, dp,
                           (int)s->n, xp + off, (int)s->plane, 1, dwk + t * filters * s->C,
                           (int)s->C);
            if (dx_n)
                FS_FN(fs_gemm)(CblasTrans, CblasNoTrans, (int)s->C, (int)s->n, (int)filters, 1,
                               wk + t * filters * s->C, (int)s->C, dp, (int)s->n, 1, dxp + off,
                               (int)s->plane);
        }
    if (dx_n)
        for (fs_index c = 0; c < s->C; ++c)
            for (fs_index y = 0; y < s->H; ++y)
                memcpy(dx_n + (c * s->H + y) * s->W,
                       dxp + c * s->plane + (y + s->pad) * s->Wp + s->pad,
                       (size_t)s->W * sizeof(real));
}

/* Whether every entry of a is finite: a - a is 0 for a finite entry and NaN for inf or NaN, and
 * the comparison and AND reduce without branches, so the loop vectorises. */
static int FS_FN(all_finite)(const real *a, fs_index n)
{
    int finite = 1;
    for (fs_index i = 0; i < n; ++i) finite &= (a[i] - a[i] == 0);
    return finite;
}

/* ---- The driver: one per-image loop for both paths and both directions.
 * A job holds what every image needs; a part is a run of consecutive images done in order by
 * one thread, with that thread's scratch and (backward) the part's own dW and db sums. */
typedef struct {
    const real *x, *w, *b, *dout;
    real *out, *dx;
    const fs_patch_geometry *g;
    fs_index batch, filters, image, ohw, ck;
    int shifted;                 /* stride 1, enough channels: no im2col */
    fs_shift_geometry s;     /* shifted path only */
    const real *wk;              /* shifted path: the weights per tap */
    fs_index scratch_size;       /* per thread */
    fs_index dw_size;            /* per part: dW^T (im2col) or dWk per tap (shifted) */
} FS_FN(conv_job);

static void FS_FN(conv_forward_part)(const FS_FN(conv_job) *j, fs_index n0, fs_index n1,
                                     real *scratch)
{
    for (fs_index n = n0; n < n1; ++n) {
        const real *x_n = j->x + n * j->image;
        real *out_n = j->out + n * j->filters * j->ohw;
        if (j->shifted)
            FS_FN(shift_forward_image)(x_n, &j->s, j->wk, j->b, j->filters, scratch,
                                       scratch + j->s.xp_size, out_n);
        else
            FS_FN(conv_forward_image)(x_n, j->g, j->w, j->b, j->filters, scratch, out_n);
    }
}

static void FS_FN(conv_backward_part)(const FS_FN(conv_job) *j, fs_index n0, fs_index n1,
                                      real *scratch, real *dw_part, double *db_part)
{
    for (fs_index i = 0; i < j->dw_size; ++i) dw_part[i] = 0;
    for (fs_index n = n0; n < n1; ++n) {
        const real *dout_n = j->dout + n * j->filters * j->ohw, *x_n = j->x + n * j->image;
        real *dx_n = j->dx ? j->dx + n * j->image : NULL;
        if (j->shifted) /* scratch: xp, dxp, dp */
            FS_FN(shift_backward_image)(dout_n, x_n, &j->s, j->wk, j->filters, scratch,
                                        scratch + 2 * j->s.xp_size, scratch + j->s.xp_size, dx_n,
                                        dw_part, db_part);
        else /* scratch: col, dcol */
            FS_FN(conv_backward_image)(dout_n, x_n, j->g, j->w, j->filters, scratch,
                                       scratch + j->ohw * j->ck, dx_n, dw_part, db_part);
    }
}

/* Runs the parts: on the calling thread when there is one (its products may then use every
 * thread), else over at most `team` threads, each with its own scratch. The caller sized the
 * scratch for `team` threads: the team is decided once, since the policy's figure can change
 * from one call of fs_team_for to the next. */
static void FS_FN(conv_run)(const FS_FN(conv_job) *j, int parts, int team, real *scratch,
                            real *dw_parts, double *db_parts)
{
    if (parts == 1) {
        if (j->dout)
            FS_FN(conv_backward_part)(j, 0, j->batch, scratch, dw_parts, db_parts);
        else
            FS_FN(conv_forward_part)(j, 0, j->batch, scratch);
        return;
    }
#pragma omp parallel for schedule(static) num_threads(team)
    for (int p = 0; p < parts; ++p) {
        const fs_index n0 = j->batch * p / parts, n1 = j->batch * (p + 1) / parts;
        real *mine = scratch + omp_get_thread_num() * j->scratch_size;
        if (j->dout)
            FS_FN(conv_backward_part)(j, n0, n1, mine, dw_parts + p * j->dw_size,
                                      db_parts + p * j->filters);
        else
            FS_FN(conv_forward_part)(j, n0, n1, mine);
    }
}

static FS_FN(conv_job) FS_FN(conv_job_of)(const real *x, fs_index batch, const fs_patch_geometry *g,
                                          const real *w, const real *b, fs_index filters)
{
    FS_FN(conv_job) j;
    memset(&j, 0, sizeof j);
    j.x = x, j.w = w, j.b = b, j.g = g, j.batch = batch, j.filters = filters;
    j.image = g->channels * g->height * g->width;
    j.ohw = g->out_h * g->out_w;
    j.ck = g->channels * g->kernel_h * g->kernel_w;
    j.shifted = conv_shifted(g);
    if (j.shifted) j.s = shift_geometry_of(g);
    return j;
}

int FS_FN(fs_conv_forward)(const real *x, fs_index batch, const fs_patch_geometry *g, const real *w,
                           const real *b, fs_index filters, real *out, int strategy)
{
    FS_FN(conv_job) j = FS_FN(conv_job_of)(x, batch, g, w, b, filters);
    j.out = out;
    /* Per thread: im2col's col, or the shifted path's padded image and accumulator. */
    j.scratch_size = j.shifted ? j.s.xp_size + filters * j.s.n : j.ck * j.ohw;
    const int parts = conv_parts(batch, g, filters, strategy);
    const int threads = fs_team_for(parts);
    real *wk = j.shifted ? malloc((size_t)(filters * j.ck + 1) * sizeof(real)) : NULL;
    real *scratch = malloc((size_t)(threads * j.scratch_size + 1) * sizeof(real));
    int rc = -1;
    if (scratch && (wk || !j.shifted)) {
        if (j.shifted) FS_FN(shift_weights)(w, &j.s, filters, wk);
        j.wk = wk;
        FS_FN(conv_run)(&j, parts, threads, scratch, NULL, NULL);
        rc = 0;
    }
    free(wk);
    free(scratch);
    return rc;
}

int FS_FN(fs_conv_backward)(const real *dout, const real *x, fs_index batch,
                            const fs_patch_geometry *g, const real *w, fs_index filters, real *dx,
                            real *dw, real *db, int strategy)
{
    FS_FN(conv_job) j = FS_FN(conv_job_of)(x, batch, g, w, NULL, filters);
    j.dout = dout, j.dx = dx;
    /* The shifted products also multiply what im2col never reads: dW's, the thrown-away columns
     * of xp (pixels of the next row) by dp's zeros; dx's, W by those zeros. With an inf or NaN
     * there, 0 * inf = NaN would reach dW or dx where the reference has none, so such input
     * takes the im2col path. The scan reads x (and W) once, little next to the products.
     * Forward needs none: its thrown-away columns are dropped, and the kept ones multiply
     * exactly im2col's entries. */
    if (j.shifted &&
        !(FS_FN(all_finite)(x, batch * j.image) && (!dx || FS_FN(all_finite)(w, filters * j.ck))))
        j.shifted = 0;
    /* Per thread: col and dcol, or xp, dxp and dp. Per part: dW^T (CK x FN) or dWk per tap
     * (taps x FN x C): both FN*CK entries, transposed into dw at the end. */
    j.scratch_size = j.shifted ? 2 * j.s.xp_size + filters * j.s.n : 2 * j.ck * j.ohw;
    j.dw_size = filters * j.ck;
    const int parts = conv_parts(batch, g, filters, strategy);
    const int threads = fs_team_for(parts);
    real *wk = j.shifted ? malloc((size_t)(filters * j.ck + 1) * sizeof(real)) : NULL;
    real *scratch = malloc((size_t)(threads * j.scratch_size + 1) * sizeof(real));
    real *dw_parts = malloc((size_t)(parts * j.dw_size + 1) * sizeof(real));
    double *db_parts = calloc((size_t)(parts * filters + 1), sizeof(double));
    int rc = -1;
    if (scratch && dw_parts && db_parts && (wk || !j.shifted)) {
        if (j.shifted) FS_FN(shift_weights)(w, &j.s, filters, wk);
        j.wk = wk;
        FS_FN(conv_run)(&j, parts, threads, scratch, dw_parts, db_parts);
        /* dw[f][i] = the parts' sums in part order; i = (c, ky, kx). */
        for (fs_index f = 0; f < filters; ++f)
            for (fs_index i = 0; i < j.ck; ++i) {
                /* im2col: dW^T[i][f]; shifted: dWk[tap][f][c] with i = c * taps + tap. */
                const fs_index at = j.shifted
                                        ? ((i % j.s.taps) * filters + f) * j.s.C + i / j.s.taps
                                        : i * filters + f;
                real sum = 0;
                for (int p = 0; p < parts; ++p) sum += dw_parts[p * j.dw_size + at];
                dw[f * j.ck + i] = sum;
            }
        for (fs_index f = 0; f < filters; ++f) {
            double sum = 0;
            for (int p = 0; p < parts; ++p) sum += db_parts[p * filters + f];
            db[f] = (real)sum;
        }
        rc = 0;
    }
    free(wk);
    free(scratch);
    free(dw_parts);
    free(db_parts);
    return rc;
}
