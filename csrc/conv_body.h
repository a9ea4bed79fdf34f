/* Convolution for one element type; included twice by conv.c through fs_instantiate.h.
 * Per image n:  out_n (FN, OHW) = b + W (FN, CK) x col_n (CK, OHW)          (CK = C*FH*FW)
 *               dW^T += col_n x dout_n^T, db += row sums of dout_n,
 *                 (dW^T, CK x FN: OpenBLAS ran this shape 20-35% faster than dout_n x col_n^T
 *                 for DeepConvNet's layers, docs/performance.md; transposed once at the end)
 *               dcol = W^T x dout_n,     dx_n = col2im(dcol).
 * Stride 1 with 16 or more channels skips im2col: see "shifted products" below; 5x5 stride 1
 * with fewer channels takes neither: the forward correlates x with W and dW correlates dout
 * with x directly ("the forward by correlation", "dW by correlation"; dx keeps im2col).
 * 3x3 stride 1 with enough channels and filters takes Winograd F(2x2,3x3) instead: forward,
 * dW and db ("dW by Winograd"), and dx when C >= FN or pad >= 1 (rules in conv.c); the
 * three take F(4x4,3x3) in float32 where it pays (wino_path in conv.c).
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

/* db[f] += the sum of each image's dout row f, in double, the same on every path. In 8 lanes
 * (i mod 8), then the lanes in order: one running sum was a chain of dependent additions, 9% of
 * a 28x28 layer's backward (0.8 ms of 9.3 at one thread). A fixed order: the same bits on any
 * load. */
FS_HOT static void FS_FN(conv_db_sums)(const real *dout_n, fs_index filters, fs_index ohw,
                                       double *db)
{
    for (fs_index f = 0; f < filters; ++f) {
        const real *row = dout_n + f * ohw;
        double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0}, sum = 0;
        fs_index i = 0;
        for (; i + 8 <= ohw; i += 8)
            for (int l = 0; l < 8; ++l) lane[l] += row[i + l];
        for (int l = 0; l < 8; ++l) sum += lane[l];
        for (; i < ohw; ++i) sum += row[i];
        db[f] += sum;
    }
}

/* dw_t (CK x FN) += col_n x dout_n^T, db += row sums of dout_n, dx_n = col2im(W^T x dout_n);
 * dw_t NULL: dW and db not wanted here (by Winograd), dx_n NULL: dx not wanted here. */
static void FS_FN(conv_backward_image)(const real *dout_n, const real *x_n,
                                       const fs_patch_geometry *g, const real *w, fs_index filters,
                                       real *col, real *dcol, real *dx_n, real *dw_t, double *db)
{
    const fs_index ohw = g->out_h * g->out_w;
    const fs_index ck = g->channels * g->kernel_h * g->kernel_w;
    if (dw_t) {
        FS_FN(fs_im2col_cols)(x_n, g, col);
        FS_FN(fs_gemm)(CblasNoTrans, CblasTrans, (int)ck, (int)filters, (int)ohw, 1, col, (int)ohw,
                       dout_n, (int)ohw, 1, dw_t, (int)filters);
        FS_FN(conv_db_sums)(dout_n, filters, ohw, db);
    }
    if (dx_n) {
        FS_FN(fs_gemm)(CblasTrans, CblasNoTrans, (int)ck, (int)ohw, (int)filters, 1, w, (int)ck,
                       dout_n, (int)ohw, 0, dcol, (int)ohw);
        FS_FN(fs_col2im_cols)(dcol, g, dx_n);
    }
}

/* ---- dW by correlation: stride 1, 5x5 filters, few channels (conv.c's conv_correlation).
 * There im2col's dW product per image, (CK x OHW) x (OHW x FN), is too thin for the BLAS
 * (CK = 25, FN = 30 in SimpleConvNet's first layer: ~30 GFLOP/s in float64, im2col and db
 * included, against 52 for a square product).
 * Instead, per image, filter f and channel c,
 *   dW[f][c][ky][kx] = sum over oy, ox of dout[f][oy][ox] * xp[c][oy + ky][ox + kx],
 * with ox in runs of FS_CORR_LANES: for each row r of xp, its 5 runs shifted by kx = 0..4 and the
 * runs of dout's rows r - ky, ky = 0..4, make 25 vector multiply-adds into 25 vector sums held
 * in registers (of AVX-512's 32): 10 loads for 25 multiply-adds. The lanes are summed once per
 * (f, c). Where r - ky is not a row of dout (the first and last 4 rows of xp) a row of zeros
 * stands in, and dout's rows are padded with zero columns up to a whole vector (dp) and the
 * image with zero columns to match (xp), so the extra products are 0 times an entry of xp. x
 * must be finite for that (0 x inf = NaN where the reference has no product; such input takes
 * im2col); every product the reference makes is made once, the sums in another order. */
typedef real FS_FN(corr_lanes) __attribute__((vector_size(FS_CORR_LANES * sizeof(real))));
typedef FS_BITS FS_FN(corr_bits) __attribute__((vector_size(FS_CORR_LANES * sizeof(real))));

/* sums[ky*5 + kx] = the correlation of dp (oh rows of owr) with xp_c over every row and run;
 * zeros: owr zeros. */
FS_HOT static void FS_FN(dw_correlation_sums)(const real *restrict dp, const real *restrict xp_c,
                                              const real *restrict zeros, const fs_corr_geometry *d,
                                              real *restrict sums)
{
    typedef FS_FN(corr_lanes) lanes;
    enum { K = FS_CORR_SIDE };
    const fs_index oh = d->oh, owr = d->owr, hp = d->hp, xw = d->xw;
    lanes acc[K][K];
#pragma GCC unroll 5
    for (int ky = 0; ky < K; ++ky)
#pragma GCC unroll 5
        for (int kx = 0; kx < K; ++kx) acc[ky][kx] = (lanes){0};
    for (fs_index ox = 0; ox < owr; ox += FS_CORR_LANES)
        for (fs_index r = 0; r < hp; ++r) {
            lanes xv[K];
#pragma GCC unroll 5
            for (int kx = 0; kx < K; ++kx) memcpy(&xv[kx], xp_c + r * xw + ox + kx, sizeof(lanes));
#pragma GCC unroll 5
            for (int ky = 0; ky < K; ++ky) {
                const fs_index oy = r - ky;
                const real *row = oy >= 0 && oy < oh ? dp + oy * owr : zeros;
                lanes dv;
                memcpy(&dv, row + ox, sizeof dv);
#pragma GCC unroll 5
                for (int kx = 0; kx < K; ++kx) acc[ky][kx] += dv * xv[kx];
            }
        }
#pragma GCC unroll 5
    for (int ky = 0; ky < K; ++ky)
#pragma GCC unroll 5
        for (int kx = 0; kx < K; ++kx) {
            real sum = 0;
            for (int l = 0; l < FS_CORR_LANES; ++l) sum += acc[ky][kx][l];
            sums[ky * K + kx] = sum;
        }
}

/* The image as the correlations read it: x_n itself in place, else copied into xp with its
 * padding and zero columns up to xw. */
static const real *FS_FN(corr_padded_image)(const real *x_n, const fs_corr_geometry *d, real *xp)
{
    if (d->in_place) return x_n;
    const fs_index plane = d->hp * d->xw;
    memset(xp, 0, (size_t)d->xp_size * sizeof(real));
    for (fs_index c = 0; c < d->C; ++c)
        for (fs_index y = 0; y < d->H; ++y)
            memcpy(xp + c * plane + (y + d->pad) * d->xw + d->pad, x_n + (c * d->H + y) * d->W,
                   (size_t)d->W * sizeof(real));
    return xp;
}

/* Entries of scratch dw_correlation_image needs. */
static fs_index FS_FN(dw_correlation_scratch)(const fs_corr_geometry *d)
{ return d->owr + d->dp_size + d->xp_size; }

/* dw_t (CK x FN, as im2col's) += this image's dW, db += its row sums of dout. */
static void FS_FN(dw_correlation_image)(const real *dout_n, const real *x_n,
                                        const fs_corr_geometry *d, fs_index filters, real *scratch,
                                        real *dw_t, double *db)
{
    real *zeros = scratch, *dp = scratch + d->owr;
    const fs_index taps = FS_CORR_SIDE * FS_CORR_SIDE, plane = d->hp * d->xw;
    const real *xp = FS_FN(corr_padded_image)(x_n, d, dp + d->dp_size);
    memset(zeros, 0, (size_t)d->owr * sizeof(real));
    for (fs_index f = 0; f < filters; ++f) {
        const real *dout_f = dout_n + f * d->oh * d->ow;
        if (!d->in_place)
            for (fs_index oy = 0; oy < d->oh; ++oy) {
                real *row = dp + oy * d->owr;
                memcpy(row, dout_f + oy * d->ow, (size_t)d->ow * sizeof(real));
                for (fs_index ox = d->ow; ox < d->owr; ++ox) row[ox] = 0;
            }
        for (fs_index c = 0; c < d->C; ++c) {
            real sums[FS_CORR_SIDE * FS_CORR_SIDE];
            FS_FN(dw_correlation_sums)(d->in_place ? dout_f : dp, xp + c * plane, zeros, d, sums);
            for (fs_index t = 0; t < taps; ++t) dw_t[(c * taps + t) * filters + f] += sums[t];
        }
    }
    FS_FN(conv_db_sums)(dout_n, filters, d->oh * d->ow, db);
}

/* ---- The forward by correlation, same shapes (conv.c's corr_forward): im2col's product per
 * image is (FN x 25) x (25 x OHW), K = 25: OpenBLAS ran it at 55% of its rate (float64), and
 * im2col's copy and the bias written before the product add their passes over memory. Here
 *   out[f][oy][ox] = b[f] + sum over c, ky, kx of W[f][c][ky][kx] * xp[c][oy + ky][ox + kx]
 * for a block of fb filters and one run of FS_CORR_LANES outputs of a row at a time, down the
 * image: row r of xp (its 5 runs shifted by kx) adds to output rows r - 4 .. r, each held as a
 * vector sum per filter in one of 5 slots (slot = oy mod 5), 5 x fb vectors in registers (20
 * for fb = 4) plus the 5 runs; row r - 4 is then complete: stored whole (when it is a row of
 * out; where out_w is not whole runs, into a scratch copy with rows of whole runs, copied into
 * out at the end) and its slot restarts from the bias for row r + 1. The
 * sums of "rows" above and below out take products of real entries of x but are never stored,
 * so, unlike dW, any x is fine. The rows go by in runs of 5 so that every slot is a constant. */

/* The sizes a run of the forward needs, as plain values (read through the geometry's pointer
 * they were reloaded after every store). */
typedef struct {
    fs_index C, plane, xw, oh, out_w, filter; /* filter: W's entries per filter, C * 25 */
} FS_FN(corr_sizes);

/* Row r of xp, r = p (mod 5), into the slots of filters f0 .. f0 + fb - 1 at run ox; out_n's
 * rows are out_w apart, a whole number of runs (every store a whole vector). */
static inline FS_ALWAYS_INLINE void FS_FN(corr_forward_row)(
    const real *restrict xp, const real *restrict w, const FS_FN(corr_lanes) *bias,
    const FS_FN(corr_sizes) z, fs_index f0, fs_index ox, fs_index r, const int p, const int fb,
    FS_FN(corr_lanes) slots[FS_CORR_SIDE][4], real *restrict out_n, const int relu,
    uint8_t *restrict mask_n)
{
    typedef FS_FN(corr_lanes) lanes;
    enum { K = FS_CORR_SIDE };
    for (fs_index c = 0; c < z.C; ++c) {
        lanes xs[K];
#pragma GCC unroll 5
        for (int kx = 0; kx < K; ++kx)
            memcpy(&xs[kx], xp + c * z.plane + r * z.xw + ox + kx, sizeof(lanes));
        const real *w_c = w + f0 * z.filter + c * K * K;
#pragma GCC unroll 5
        for (int ky = 0; ky < K; ++ky)
#pragma GCC unroll 5
            for (int kx = 0; kx < K; ++kx)
#pragma GCC unroll 4
                for (int f = 0; f < fb; ++f)
                    slots[(p - ky + K) % K][f] += w_c[f * z.filter + ky * K + kx] * xs[kx];
    }
    const int done = (p + 1) % K; /* output row r - 4 */
    if (r >= K - 1)
#pragma GCC unroll 4
        for (int f = 0; f < fb; ++f) {
            const fs_index at = ((f0 + f) * z.oh + r - (K - 1)) * z.out_w + ox;
            lanes v = slots[done][f];
            /* relu: the ReLU's out and mask, as fs_relu_forward (x <= 0 gives +0, NaN stays) */
            if (relu) {
                const FS_FN(corr_bits) off = (FS_FN(corr_bits))(v <= 0);
                v = (lanes)((FS_FN(corr_bits))v & ~off);
#pragma GCC unroll 8
                for (int l = 0; l < FS_CORR_LANES; ++l) mask_n[at + l] = (uint8_t)(off[l] & 1);
            }
            memcpy(out_n + at, &v, sizeof(lanes));
        }
#pragma GCC unroll 4
    for (int f = 0; f < fb; ++f) slots[done][f] = bias[f];
}

/* Filters f0 .. f0 + fb - 1 of one image, every run; fb constant (4, 1) where inlined. */
static inline FS_ALWAYS_INLINE void FS_FN(corr_forward_filters)(
    const real *restrict xp, const real *restrict w, const real *restrict b, fs_index hp,
    fs_index runs, const FS_FN(corr_sizes) z, fs_index f0, const int fb, real *restrict out_n,
    const int relu, uint8_t *restrict mask_n)
{
    typedef FS_FN(corr_lanes) lanes;
    enum { K = FS_CORR_SIDE };
    lanes bias[4], slots[K][4];
#pragma GCC unroll 4
    for (int f = 0; f < fb; ++f) bias[f] = (lanes){0} + b[f0 + f];
    for (fs_index ox = 0; ox < runs * FS_CORR_LANES; ox += FS_CORR_LANES) {
#pragma GCC unroll 5
        for (int s = 0; s < K; ++s)
#pragma GCC unroll 4
            for (int f = 0; f < fb; ++f) slots[s][f] = bias[f];
        fs_index r = 0;
        for (; r + K <= hp; r += K) {
            FS_FN(corr_forward_row)(xp, w, bias, z, f0, ox, r, 0, fb, slots, out_n, relu, mask_n);
            FS_FN(corr_forward_row)(xp, w, bias, z, f0, ox, r + 1, 1, fb, slots, out_n, relu,
                                    mask_n);
            FS_FN(corr_forward_row)(xp, w, bias, z, f0, ox, r + 2, 2, fb, slots, out_n, relu,
                                    mask_n);
            FS_FN(corr_forward_row)(xp, w, bias, z, f0, ox, r + 3, 3, fb, slots, out_n, relu,
                                    mask_n);
            FS_FN(corr_forward_row)(xp, w, bias, z, f0, ox, r + 4, 4, fb, slots, out_n, relu,
                                    mask_n);
        }
        if (r < hp)
            FS_FN(corr_forward_row)(xp, w, bias, z, f0, ox, r, 0, fb, slots, out_n, relu, mask_n);
        if (r + 1 < hp)
            FS_FN(corr_forward_row)(xp, w, bias, z, f0, ox, r + 1, 1, fb, slots, out_n, relu,
                                    mask_n);
        if (r + 2 < hp)
            FS_FN(corr_forward_row)(xp, w, bias, z, f0, ox, r + 2, 2, fb, slots, out_n, relu,
                                    mask_n);
        if (r + 3 < hp)
            FS_FN(corr_forward_row)(xp, w, bias, z, f0, ox, r + 3, 3, fb, slots, out_n, relu,
                                    mask_n);
    }
}

FS_HOT static void FS_FN(corr_forward_block)(const real *restrict xp, const real *restrict w,
                                             const real *restrict b, const fs_corr_geometry *d,
                                             fs_index f0, fs_index fb, real *restrict out_n,
                                             uint8_t *restrict mask_n)
{
    const FS_FN(corr_sizes) z = {d->C,  d->hp * d->xw, d->xw,
                                 d->oh, d->owr,        d->C * FS_CORR_SIDE * FS_CORR_SIDE};
    const fs_index runs = d->owr / FS_CORR_LANES;
    if (fb == 4 && mask_n)
        FS_FN(corr_forward_filters)(xp, w, b, d->hp, runs, z, f0, 4, out_n, 1, mask_n);
    else if (fb == 4)
        FS_FN(corr_forward_filters)(xp, w, b, d->hp, runs, z, f0, 4, out_n, 0, NULL);
    else if (mask_n)
        FS_FN(corr_forward_filters)(xp, w, b, d->hp, runs, z, f0, 1, out_n, 1, mask_n);
    else
        FS_FN(corr_forward_filters)(xp, w, b, d->hp, runs, z, f0, 1, out_n, 0, NULL);
}

/* Entries of scratch corr_forward_image needs: the padded image and the output with rows of
 * whole runs, and room for the mask's (none in place). */
static fs_index FS_FN(corr_forward_scratch)(const fs_corr_geometry *d, fs_index filters)
{
    const fs_index rows = filters * d->oh * d->owr;
    return d->in_place ? 0 : d->xp_size + rows + (rows + sizeof(real) - 1) / sizeof(real);
}

/* out_n = the conv of one image; with mask_n, out_n = its ReLU and mask_n the ReLU's mask. */
static void FS_FN(corr_forward_image)(const real *x_n, const fs_corr_geometry *d, const real *w,
                                      const real *b, fs_index filters, real *scratch, real *out_n,
                                      uint8_t *mask_n)
{
    const real *xp = FS_FN(corr_padded_image)(x_n, d, scratch);
    const fs_index rows = filters * d->oh;
    real *to = d->in_place ? out_n : scratch + d->xp_size;
    uint8_t *mask_to = !mask_n || d->in_place ? mask_n : (uint8_t *)(to + rows * d->owr);
    fs_index f0 = 0;
    for (; f0 + 4 <= filters; f0 += 4) FS_FN(corr_forward_block)(xp, w, b, d, f0, 4, to, mask_to);
    for (; f0 < filters; ++f0) FS_FN(corr_forward_block)(xp, w, b, d, f0, 1, to, mask_to);
    if (!d->in_place)
        for (fs_index row = 0; row < rows; ++row) {
            memcpy(out_n + row * d->ow, to + row * d->owr, (size_t)d->ow * sizeof(real));
            if (mask_n) memcpy(mask_n + row * d->ow, mask_to + row * d->owr, (size_t)d->ow);
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

/* Wk[tap] (FN x C) = w[:, :, ky, kx], tap = ky*FW + kx. Written in order, read with stride
 * taps: in w's order the taps' rows are FN*C entries apart, 16 KB at 64 x 64, so 9 streams in
 * one cache set (a batch-1 call of (1,64,7,7)x64 spent ~90 us here). */
static void FS_FN(shift_weights)(const real *w, const fs_shift_geometry *s, fs_index filters,
                                 real *wk)
{
    const fs_index fc = filters * s->C;
    for (fs_index t = 0; t < s->taps; ++t)
        for (fs_index i = 0; i < fc; ++i) wk[t * fc + i] = w[i * s->taps + t];
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
    if (dwk) FS_FN(shift_pad_image)(x_n, s, xp); /* xp enters dW only */
    for (fs_index f = 0; f < filters; ++f)
        for (fs_index oy = 0; oy < s->oh; ++oy) {
            real *restrict d = dp + f * s->n + oy * s->Wp;
            const real *restrict src = dout_n + (f * s->oh + oy) * s->ow;
            for (fs_index ox = 0; ox < s->ow; ++ox) d[ox] = src[ox];
            for (fs_index ox = s->ow; ox < s->Wp; ++ox) d[ox] = 0;
        }
    if (dwk) FS_FN(conv_db_sums)(dout_n, filters, s->oh * s->ow, db);
    if (dx_n) memset(dxp, 0, (size_t)s->xp_size * sizeof(real));
    for (fs_index ky = 0; ky < s->kh; ++ky)
        for (fs_index kx = 0; kx < s->kw; ++kx) {
            const fs_index t = ky * s->kw + kx, off = ky * s->Wp + kx;
            if (dwk)
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
FS_HOT static int FS_FN(all_finite)(const real *a, fs_index n)
{
    int finite = 1;
    for (fs_index i = 0; i < n; ++i) finite &= (a[i] - a[i] == 0);
    return finite;
}

/* ---- Winograd F(2x2,3x3): 3x3 filters, stride 1 (Lavin & Gray 2015).
 * The output is cut into 2x2 tiles; tile (ty, tx) needs the 4x4 input tile d at padded rows
 * 2ty.., columns 2tx.. (zeros outside the image, and past it for the partial tiles of an odd
 * output size, whose extra outputs are dropped). With U = G g G^T (4x4, per filter and channel)
 * and V = B^T d B (4x4, per tile and channel), the tile's output is
 *   Y = A^T [ sum over c of U[f,c] .* V[c] ] A,
 * and the sum over c of each of the 16 entries k is a product V[k] (tiles x C) x U[k] (C x FN):
 * 16 products with K = C over a block of tiles, against 9 per output position for the shifted
 * products, so 2.25x fewer multiplications; the transforms cost additions and traffic instead.
 * A block is whole rows of tiles of the part's consecutive images (tiles stored row by row),
 * sized so its V and products stay in L2. The transforms run along the channels (input) and
 * the filters (output), the image copied in and out with them innermost: along a plane's rows
 * they had 4-14 tiles to a loop (docs/performance.md, "The forward with the channels
 * innermost"). The transforms mix entries (inf - inf = NaN where a
 * direct sum gives inf), so only finite input takes this path. */

/* The transformed filters U[k][i][o] (k = a * row + column of G g G^T, a = m + 2) for input
 * channel i and output channel o of the filters w (outs x ins x 3 x 3): U[k] is ins x outs, the
 * right-hand side of wino_block's products. `flipped`: the filters are w's transposed (w is ins
 * x outs) and rotated 180 degrees, the correlation that gives a convolution's dx from dout. Once
 * per call, but at batch 1 it was most of a 64 x 64 layer's time as scalar code: vectorised
 * along o (strided loads, contiguous stores), one filter's entries at a time (wino_weights_of).
 * F(2x2,3x3)'s 16 of one filter g, its taps in tap's order, into u[k * next]: */
static inline FS_ALWAYS_INLINE void FS_FN(wino2_filter)(const real *g, const fs_index *tap,
                                                        real *restrict u, fs_index next)
{
    const real g00 = g[tap[0]], g01 = g[tap[1]], g02 = g[tap[2]];
    const real g10 = g[tap[3]], g11 = g[tap[4]], g12 = g[tap[5]];
    const real g20 = g[tap[6]], g21 = g[tap[7]], g22 = g[tap[8]];
    const real h = (real)0.5;
    /* t = G g: rows g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2 */
    const real t00 = g00, t01 = g01, t02 = g02;
    const real t10 = h * (g00 + g10 + g20), t11 = h * (g01 + g11 + g21),
               t12 = h * (g02 + g12 + g22);
    const real t20 = h * (g00 - g10 + g20), t21 = h * (g01 - g11 + g21),
               t22 = h * (g02 - g12 + g22);
    const real t30 = g20, t31 = g21, t32 = g22;
    /* U = t G^T: columns t0, (t0 + t1 + t2) / 2, (t0 - t1 + t2) / 2, t2 */
    u[0 * next] = t00, u[1 * next] = h * (t00 + t01 + t02);
    u[2 * next] = h * (t00 - t01 + t02), u[3 * next] = t02;
    u[4 * next] = t10, u[5 * next] = h * (t10 + t11 + t12);
    u[6 * next] = h * (t10 - t11 + t12), u[7 * next] = t12;
    u[8 * next] = t20, u[9 * next] = h * (t20 + t21 + t22);
    u[10 * next] = h * (t20 - t21 + t22), u[11 * next] = t22;
    u[12 * next] = t30, u[13 * next] = h * (t30 + t31 + t32);
    u[14 * next] = h * (t30 - t31 + t32), u[15 * next] = t32;
}

/* The padded rows of tile rows ty0 .. ty1 of one image: xp ((m * (ty1 - ty0) + 2) rows x
 * (m * tw + 2) columns x C channels, the channels innermost), so that the input transforms
 * run along them: a tile's a x a entries are then C contiguous values each, where along the
 * planes a tile row holds only 2-14 tiles (DeepConvNet's widths), read m apart. */
FS_HOT static void FS_FN(wino_pad_rows_hwc)(const real *x_n, const fs_wino_geometry *q,
                                            fs_index ty0, fs_index ty1, real *xp)
{
    const fs_index width = q->m * q->tw + 2, height = q->m * (ty1 - ty0) + 2, C = q->C;
    const fs_index x1 = q->pad + q->W < width ? q->pad + q->W : width;
    const fs_index pixels = x1 > q->pad ? x1 - q->pad : 0, cstride = q->H * q->W;
    /* Only the padding is zeroed: a memset of the whole buffer first wrote the 28x28 layers'
     * pixels twice. */
    for (fs_index r = 0; r < height; ++r) {
        const fs_index y = q->m * ty0 + r - q->pad;
        real *restrict row = xp + r * width * C;
        if (pixels == 0 || y < 0 || y >= q->H) {
            memset(row, 0, (size_t)(width * C) * sizeof(real));
            continue;
        }
        memset(row, 0, (size_t)(q->pad * C) * sizeof(real));
        memset(row + x1 * C, 0, (size_t)((width - x1) * C) * sizeof(real));
        real *restrict dst = row + q->pad * C;
        const real *restrict src = x_n + y * q->W;
        /* one pixel's C channels at a time: contiguous stores, loads a plane apart */
        for (fs_index i = 0; i < pixels; ++i)
#pragma omp simd
            for (fs_index c = 0; c < C; ++c) dst[i * C + c] = src[c * cstride + i];
    }
}

/* F(2x2,3x3)'s V: v[k * kstride + (ty * tw + tx) * C + c] = (B^T d B)[k] of channel c of tile
 * (ty, tx), tile rows ty < rows, from xp as wino_pad_rows_hwc leaves it. Vectorised along the
 * channels: 16 loads of C contiguous entries and 16 stores of C per tile. V[k] is then tiles x C,
 * the right-hand side of dW's products as it stands (row-major NN, OpenBLAS's small-matrix kernels;
 * the forward's products would need it transposed, which OpenBLAS runs through its packing
 * path for K = C < 32: the forward lost 1.5x that way, measured). */
static inline FS_ALWAYS_INLINE void FS_FN(wino_input_tiles_of)(const real *restrict xp,
                                                               fs_index rows, fs_index tw,
                                                               fs_index C, real *restrict v,
                                                               fs_index kstride)
{
    const fs_index width = 2 * tw + 2, rs = width * C;
    for (fs_index ty = 0; ty < rows; ++ty)
        for (fs_index tx = 0; tx < tw; ++tx) {
            const real *restrict r0 = xp + (2 * ty * width + 2 * tx) * C;
            const real *restrict r1 = r0 + rs, *restrict r2 = r1 + rs, *restrict r3 = r2 + rs;
            real *restrict vt = v + (ty * tw + tx) * C;
            const fs_index c1 = C, c2 = 2 * C, c3 = 3 * C;
#pragma omp simd
            for (fs_index c = 0; c < C; ++c) {
                /* e = d B, row by row: columns (d0 - d2, d1 + d2, d2 - d1, d1 - d3) */
                const real e00 = r0[c] - r0[c2 + c], e01 = r0[c1 + c] + r0[c2 + c];
                const real e02 = r0[c2 + c] - r0[c1 + c], e03 = r0[c1 + c] - r0[c3 + c];
                const real e10 = r1[c] - r1[c2 + c], e11 = r1[c1 + c] + r1[c2 + c];
                const real e12 = r1[c2 + c] - r1[c1 + c], e13 = r1[c1 + c] - r1[c3 + c];
                const real e20 = r2[c] - r2[c2 + c], e21 = r2[c1 + c] + r2[c2 + c];
                const real e22 = r2[c2 + c] - r2[c1 + c], e23 = r2[c1 + c] - r2[c3 + c];
                const real e30 = r3[c] - r3[c2 + c], e31 = r3[c1 + c] + r3[c2 + c];
                const real e32 = r3[c2 + c] - r3[c1 + c], e33 = r3[c1 + c] - r3[c3 + c];
                /* V = B^T e: rows (e0 - e2, e1 + e2, e2 - e1, e1 - e3) */
                vt[0 * kstride + c] = e00 - e20, vt[1 * kstride + c] = e01 - e21;
                vt[2 * kstride + c] = e02 - e22, vt[3 * kstride + c] = e03 - e23;
                vt[4 * kstride + c] = e10 + e20, vt[5 * kstride + c] = e11 + e21;
                vt[6 * kstride + c] = e12 + e22, vt[7 * kstride + c] = e13 + e23;
                vt[8 * kstride + c] = e20 - e10, vt[9 * kstride + c] = e21 - e11;
                vt[10 * kstride + c] = e22 - e12, vt[11 * kstride + c] = e23 - e13;
                vt[12 * kstride + c] = e10 - e30, vt[13 * kstride + c] = e11 - e31;
                vt[14 * kstride + c] = e12 - e32, vt[15 * kstride + c] = e13 - e33;
            }
        }
}

FS_HOT static void FS_FN(wino_input_tiles_hwc)(const real *restrict xp, fs_index rows, fs_index tw,
                                               fs_index C, real *restrict v, fs_index kstride)
{
    /* DeepConvNet's widths as constants: the loops along the channels, a few vectors each and
     * once per tile, then have no remainder and no set-up (docs/performance.md). */
    if (C == 16)
        FS_FN(wino_input_tiles_of)(xp, rows, tw, 16, v, kstride);
    else if (C == 32)
        FS_FN(wino_input_tiles_of)(xp, rows, tw, 32, v, kstride);
    else if (C == 64)
        FS_FN(wino_input_tiles_of)(xp, rows, tw, 64, v, kstride);
    else
        FS_FN(wino_input_tiles_of)(xp, rows, tw, C, v, kstride);
}

/* The 2x2 outputs A^T m A + bias of the tiles of tile rows ty0 .. ty1 of one image, from the
 * products m[k * kstride + t * outs + f] (t = (ty - ty0) * tw + tx), into y, the block's output
 * rows with the filters innermost: y[((2 * (ty - ty0) + a) * 2 * tw + 2 * tx + b) * outs + f].
 * Vectorised along the filters, as wino_input_tiles_hwc is along the channels. b: outs biases
 * (zeros for dx: a `b ? b[f] : 0` in the loop kept it scalar, 3x slower). */
static inline FS_ALWAYS_INLINE void FS_FN(wino_output_tiles_of)(const real *restrict m,
                                                                fs_index kstride, fs_index rows,
                                                                fs_index tw, fs_index outs,
                                                                const real *restrict b,
                                                                real *restrict y)
{
    const fs_index rs = 2 * tw * outs; /* one output row of y */
    for (fs_index t = 0; t < rows * tw; ++t) {
        const fs_index ty = t / tw, tx = t % tw;
        const real *restrict mt = m + t * outs;
        real *restrict y0 = y + 2 * ty * rs + 2 * tx * outs, *restrict y1 = y0 + rs;
#pragma omp simd
        for (fs_index f = 0; f < outs; ++f) {
            const real bias = b[f];
            /* s = A^T m: rows (m0 + m1 + m2, m1 - m2 - m3); then columns the same way */
            const real s00 = mt[f] + mt[4 * kstride + f] + mt[8 * kstride + f];
            const real s01 = mt[kstride + f] + mt[5 * kstride + f] + mt[9 * kstride + f];
            const real s02 = mt[2 * kstride + f] + mt[6 * kstride + f] + mt[10 * kstride + f];
            const real s03 = mt[3 * kstride + f] + mt[7 * kstride + f] + mt[11 * kstride + f];
            const real s10 = mt[4 * kstride + f] - mt[8 * kstride + f] - mt[12 * kstride + f];
            const real s11 = mt[5 * kstride + f] - mt[9 * kstride + f] - mt[13 * kstride + f];
            const real s12 = mt[6 * kstride + f] - mt[10 * kstride + f] - mt[14 * kstride + f];
            const real s13 = mt[7 * kstride + f] - mt[11 * kstride + f] - mt[15 * kstride + f];
            y0[f] = s00 + s01 + s02 + bias, y0[outs + f] = s01 - s02 - s03 + bias;
            y1[f] = s10 + s11 + s12 + bias, y1[outs + f] = s11 - s12 - s13 + bias;
        }
    }
}

FS_HOT static void FS_FN(wino_output_tiles_hwc)(const real *restrict m, fs_index kstride,
                                                fs_index rows, fs_index tw, fs_index outs,
                                                const real *restrict b, real *restrict y)
{
    if (outs == 16) /* constant widths, as wino_input_tiles_hwc */
        FS_FN(wino_output_tiles_of)(m, kstride, rows, tw, 16, b, y);
    else if (outs == 32)
        FS_FN(wino_output_tiles_of)(m, kstride, rows, tw, 32, b, y);
    else if (outs == 64)
        FS_FN(wino_output_tiles_of)(m, kstride, rows, tw, 64, b, y);
    else
        FS_FN(wino_output_tiles_of)(m, kstride, rows, tw, outs, b, y);
}

/* ---- F(4x4,3x3) (Lavin & Gray's points 0, +-1, +-2, infinity): 6x6 input tiles four apart,
 * 36 products per block against F(2x2,3x3)'s 16 for a quarter as many tiles, so 36 / 64 of its
 * multiplications; the transforms cost more additions per tile and have larger constants (the
 * float32 error grows to 1-2e-6 of the result's norm, from F(2x2,3x3)'s 1-5e-7, measured against
 * the reference). The 1-D transforms, each applied along rows and then along columns:
 *   B^T d: (4 d0 - 5 d2 + d4, d3 + d4 - 4 (d1 + d2), d4 - d3 + 4 (d1 - d2),
 *           d4 - d2 + 2 (d3 - d1), d4 - d2 - 2 (d3 - d1), 4 d1 - 5 d3 + d5)
 *   G g:   (g0 / 4, -(g0 + g1 + g2) / 6, -(g0 - g1 + g2) / 6, g0 / 24 + g1 / 12 + g2 / 6,
 *           g0 / 24 - g1 / 12 + g2 / 6, g2)
 *   A^T m: (m0 + m1 + m2 + m3 + m4, m1 - m2 + 2 (m3 - m4), m1 + m2 + 4 (m3 + m4),
 *           m1 - m2 + 8 (m3 - m4) + m5) */

/* G applied to (g0, g1, g2) into six named values t0 .. t5 (scalars, so that a loop of them
 * vectorises: through arrays the compiler kept them in memory, 150 ns per filter). */
#define FS_WINO4_G(g0, g1, g2, t0, t1, t2, t3, t4, t5)                                             \
    const real t0 = (real)0.25 * (g0), t5 = (g2);                                                  \
    const real t1 = -(real)(1.0 / 6) * ((g0) + (g2) + (g1));                                       \
    const real t2 = -(real)(1.0 / 6) * ((g0) + (g2) - (g1));                                       \
    const real t3 = (real)(1.0 / 6) * ((real)0.25 * (g0) + (g2) + (real)0.5 * (g1));               \
    const real t4 = (real)(1.0 / 6) * ((real)0.25 * (g0) + (g2) - (real)0.5 * (g1))

/* The 36 entries of F(4x4,3x3)'s U (k = 6 * row + column of G g G^T) of one filter g, its taps
 * in tap's order, into u[k * next]. */
static inline FS_ALWAYS_INLINE void FS_FN(wino4_filter)(const real *g, const fs_index *tap,
                                                        real *restrict u, fs_index next)
{
    /* t = G g, column by column of g: a0..a5, b0..b5, c0..c5 */
    FS_WINO4_G(g[tap[0]], g[tap[3]], g[tap[6]], a0, a1, a2, a3, a4, a5);
    FS_WINO4_G(g[tap[1]], g[tap[4]], g[tap[7]], b0, b1, b2, b3, b4, b5);
    FS_WINO4_G(g[tap[2]], g[tap[5]], g[tap[8]], c0, c1, c2, c3, c4, c5);
    /* U = t G^T: row k of U is G applied to row k of t, (ak, bk, ck) */
#define FS_WINO4_U_ROW(k, a, b, c)                                                                 \
    do {                                                                                           \
        FS_WINO4_G(a, b, c, u0, u1, u2, u3, u4, u5);                                               \
        u[(6 * k) * next] = u0, u[(6 * k + 1) * next] = u1;                                        \
        u[(6 * k + 2) * next] = u2, u[(6 * k + 3) * next] = u3;                                    \
        u[(6 * k + 4) * next] = u4, u[(6 * k + 5) * next] = u5;                                    \
    } while (0)
    FS_WINO4_U_ROW(0, a0, b0, c0);
    FS_WINO4_U_ROW(1, a1, b1, c1);
    FS_WINO4_U_ROW(2, a2, b2, c2);
    FS_WINO4_U_ROW(3, a3, b3, c3);
    FS_WINO4_U_ROW(4, a4, b4, c4);
    FS_WINO4_U_ROW(5, a5, b5, c5);
#undef FS_WINO4_U_ROW
}

/* U[k][i][o] for either tile (described above wino2_filter), inlined with m a constant by
 * wino_weights. */
static inline FS_ALWAYS_INLINE void FS_FN(wino_weights_of)(const real *restrict w, fs_index outs,
                                                           fs_index ins, int flipped, int m,
                                                           real *restrict u)
{
    const fs_index so = flipped ? 9 : ins * 9, si = flipped ? outs * 9 : 9, next = outs * ins;
    /* tap (r, c) of the kernel used, in w: rotated, (2 - r, 2 - c) is 8 - (3r + c) */
    fs_index tap[9];
    for (int t = 0; t < 9; ++t) tap[t] = flipped ? 8 - t : t;
    for (fs_index i = 0; i < ins; ++i) {
        real *restrict ui = u + i * outs;
#pragma omp simd
        for (fs_index o = 0; o < outs; ++o) {
            const real *g = w + o * so + i * si;
            if (m == 4)
                FS_FN(wino4_filter)(g, tap, ui + o, next);
            else
                FS_FN(wino2_filter)(g, tap, ui + o, next);
        }
    }
}

/* The transformed filters of a Winograd call with tiles of side m (2 or 4). */
FS_HOT static void FS_FN(wino_weights)(const real *restrict w, fs_index outs, fs_index ins,
                                       int flipped, int m, real *restrict u)
{
    if (m == 4)
        FS_FN(wino_weights_of)(w, outs, ins, flipped, 4, u);
    else
        FS_FN(wino_weights_of)(w, outs, ins, flipped, 2, u);
}
#undef FS_WINO4_G

/* One tile of F(4x4,3x3)'s V: d, its 6 x 6 corner in the padded rows (rows rs apart, C
 * channels a pixel), into vt (36 matrices kstride apart), in two passes along the channels
 * through `e` (36 x C): B^T along each of the 6 rows, then along each of the 6 columns; one
 * pass of all 36 outputs at once kept too many vectors live. */
static inline FS_ALWAYS_INLINE void FS_FN(wino4_input_tile)(const real *restrict d, fs_index rs,
                                                            fs_index C, real *restrict vt,
                                                            fs_index kstride, real *restrict e)
{
    for (int i = 0; i < 6; ++i) {
        const real *restrict r = d + i * rs;
        real *restrict ei = e + 6 * i * C;
#pragma omp simd
        for (fs_index c = 0; c < C; ++c) {
            const real d0 = r[c], d1 = r[C + c], d2 = r[2 * C + c], d3 = r[3 * C + c];
            const real d4 = r[4 * C + c], d5 = r[5 * C + c];
            const real s12 = d1 + d2, t12 = d1 - d2, p = d4 - d2, q = d3 - d1;
            ei[c] = 4 * d0 - 5 * d2 + d4, ei[C + c] = d3 + d4 - 4 * s12;
            ei[2 * C + c] = d4 - d3 + 4 * t12, ei[3 * C + c] = p + 2 * q;
            ei[4 * C + c] = p - 2 * q, ei[5 * C + c] = 4 * d1 - 5 * d3 + d5;
        }
    }
    for (int j = 0; j < 6; ++j) {
        const real *restrict ej = e + j * C;
        const fs_index s = 6 * C;
#pragma omp simd
        for (fs_index c = 0; c < C; ++c) {
            const real d0 = ej[c], d1 = ej[s + c], d2 = ej[2 * s + c];
            const real d3 = ej[3 * s + c], d4 = ej[4 * s + c], d5 = ej[5 * s + c];
            const real s12 = d1 + d2, t12 = d1 - d2, p = d4 - d2, q = d3 - d1;
            vt[j * kstride + c] = 4 * d0 - 5 * d2 + d4;
            vt[(6 + j) * kstride + c] = d3 + d4 - 4 * s12;
            vt[(12 + j) * kstride + c] = d4 - d3 + 4 * t12;
            vt[(18 + j) * kstride + c] = p + 2 * q;
            vt[(24 + j) * kstride + c] = p - 2 * q;
            vt[(30 + j) * kstride + c] = 4 * d1 - 5 * d3 + d5;
        }
    }
}

/* F(4x4,3x3)'s V, laid out as wino_input_tiles_hwc's (36 matrices of tiles x C), from xp as
 * wino_pad_rows_hwc leaves it (m = 4). */
static inline FS_ALWAYS_INLINE void FS_FN(wino4_input_tiles_of)(const real *restrict xp,
                                                                fs_index rows, fs_index tw,
                                                                fs_index C, real *restrict v,
                                                                fs_index kstride, real *restrict e)
{
    const fs_index width = 4 * tw + 2, rs = width * C;
    for (fs_index ty = 0; ty < rows; ++ty)
        for (fs_index tx = 0; tx < tw; ++tx) {
            FS_FN(wino4_input_tile)(xp + (4 * ty * width + 4 * tx) * C, rs, C,
                                    v + (ty * tw + tx) * C, kstride, e);
        }
}

FS_HOT static void FS_FN(wino4_input_tiles_hwc)(const real *restrict xp, fs_index rows, fs_index tw,
                                                fs_index C, real *restrict v, fs_index kstride,
                                                real *restrict e)
{
    if (C == 16) /* constant widths, as wino_input_tiles_hwc */
        FS_FN(wino4_input_tiles_of)(xp, rows, tw, 16, v, kstride, e);
    else if (C == 32)
        FS_FN(wino4_input_tiles_of)(xp, rows, tw, 32, v, kstride, e);
    else if (C == 64)
        FS_FN(wino4_input_tiles_of)(xp, rows, tw, 64, v, kstride, e);
    else
        FS_FN(wino4_input_tiles_of)(xp, rows, tw, C, v, kstride, e);
}

/* One tile of F(4x4,3x3)'s outputs: mt (36 matrices kstride apart, outs filters each) into
 * y0 (4 rows rs apart, 4 pixels of outs filters each), in two passes along the filters through
 * `s` (4 x 6 x outs): A^T along each of the 6 columns, then along each of the 4 rows so made. */
static inline FS_ALWAYS_INLINE void FS_FN(wino4_output_tile)(const real *restrict mt,
                                                             fs_index kstride, fs_index outs,
                                                             const real *restrict b,
                                                             real *restrict y0, fs_index rs,
                                                             real *restrict s)
{
    for (int j = 0; j < 6; ++j) {
        const real *restrict mj = mt + j * kstride;
        real *restrict sj = s + j * outs;
#pragma omp simd
        for (fs_index f = 0; f < outs; ++f) {
            const real m0 = mj[f], m1 = mj[6 * kstride + f], m2 = mj[12 * kstride + f];
            const real m3 = mj[18 * kstride + f], m4 = mj[24 * kstride + f];
            const real m5 = mj[30 * kstride + f];
            const real a = m1 + m2, d = m1 - m2, p = m3 + m4, q = m3 - m4;
            sj[f] = m0 + a + p, sj[6 * outs + f] = d + 2 * q;
            sj[12 * outs + f] = a + 4 * p, sj[18 * outs + f] = d + 8 * q + m5;
        }
    }
    for (int i = 0; i < 4; ++i) {
        const real *restrict si = s + 6 * i * outs;
        real *restrict yi = y0 + i * rs;
#pragma omp simd
        for (fs_index f = 0; f < outs; ++f) {
            const real m0 = si[f], m1 = si[outs + f], m2 = si[2 * outs + f];
            const real m3 = si[3 * outs + f], m4 = si[4 * outs + f], m5 = si[5 * outs + f];
            const real a = m1 + m2, d = m1 - m2, p = m3 + m4, q = m3 - m4, bias = b[f];
            yi[f] = m0 + a + p + bias, yi[outs + f] = d + 2 * q + bias;
            yi[2 * outs + f] = a + 4 * p + bias, yi[3 * outs + f] = d + 8 * q + m5 + bias;
        }
    }
}

/* F(4x4,3x3)'s 4x4 outputs A^T m A + bias, laid out as wino_output_tiles_hwc's (rows of
 * 4 * tw * outs). */
static inline FS_ALWAYS_INLINE void FS_FN(wino4_output_tiles_of)(const real *restrict m,
                                                                 fs_index kstride, fs_index rows,
                                                                 fs_index tw, fs_index outs,
                                                                 const real *restrict b,
                                                                 real *restrict y, real *restrict s)
{
    const fs_index rs = 4 * tw * outs;
    for (fs_index t = 0; t < rows * tw; ++t) {
        const fs_index ty = t / tw, tx = t % tw;
        FS_FN(wino4_output_tile)(m + t * outs, kstride, outs, b, y + 4 * ty * rs + 4 * tx * outs,
                                 rs, s);
    }
}

FS_HOT static void FS_FN(wino4_output_tiles_hwc)(const real *restrict m, fs_index kstride,
                                                 fs_index rows, fs_index tw, fs_index outs,
                                                 const real *restrict b, real *restrict y,
                                                 real *restrict s)
{
    if (outs == 16) /* constant widths, as wino_input_tiles_hwc */
        FS_FN(wino4_output_tiles_of)(m, kstride, rows, tw, 16, b, y, s);
    else if (outs == 32)
        FS_FN(wino4_output_tiles_of)(m, kstride, rows, tw, 32, b, y, s);
    else if (outs == 64)
        FS_FN(wino4_output_tiles_of)(m, kstride, rows, tw, 64, b, y, s);
    else
        FS_FN(wino4_output_tiles_of)(m, kstride, rows, tw, outs, b, y, s);
}

/* out_n's rows m * ty0 .. (of each of the outs planes) from y as the output transforms leave
 * it; the outputs past the size (partial tiles) are dropped. Per filter, contiguous stores along
 * its plane, loads `outs` apart (the transposition back to NCHW); one run per plane when the width
 * is even (y's rows are then exactly the plane's). */
FS_HOT static void FS_FN(wino_store_planes)(const real *restrict y, const fs_wino_geometry *q,
                                            fs_index ty0, fs_index ty1, fs_index outs,
                                            real *restrict out_n)
{
    enum { RUN = 16 }; /* pixels per run: a RUN x outs block of y stays in L1 across the filters */
    const fs_index plane = q->oh * q->ow, width = q->m * q->tw;
    const fs_index last = q->m * ty1 < q->oh ? q->m * ty1 : q->oh, rows = last - q->m * ty0;
    real *restrict o = out_n + q->m * ty0 * q->ow;
    for (fs_index r = 0; r < (width == q->ow ? 1 : rows); ++r) {
        /* whole tiles across: y's rows are the plane's, one run of rows * ow pixels; else row
         * by row */
        const fs_index n = width == q->ow ? rows * q->ow : q->ow;
        const real *restrict yr = y + r * width * outs;
        real *restrict orow = o + r * q->ow;
        for (fs_index i0 = 0; i0 < n; i0 += RUN) {
            const fs_index i1 = i0 + RUN < n ? i0 + RUN : n;
            for (fs_index f = 0; f < outs; ++f)
#pragma omp simd
                for (fs_index i = i0; i < i1; ++i) orow[f * plane + i] = yr[i * outs + f];
        }
    }
}

/* What every block of a Winograd convolution needs: x (batch, C, H, W) -> out (batch, outs,
 * oh, ow), U from wino_weights, biases (zeros for dx); or, for dW (dout set, u and out unused), x
 * and dout (batch, outs, oh, ow) -> the part's M (see "dW by Winograd"). */
typedef struct {
    const real *x, *u, *b, *dout;
    real *out;
    fs_wino_geometry q;
    fs_index outs;
} FS_FN(wino_job);

/* Scratch per thread: V (kk x C x block), the products M (kk x outs x block), one image's
 * transformed outputs (m * m x block x outs: the output transforms; dW's grad tiles use
 * m * m x block of it), the padded rows of one image (wino_pad_rows_hwc), and F(4x4,3x3)'s
 * per-tile passes (36 x C, 24 x outs). The kk matrices of V and of M are FS_WINO_SKEW entries
 * more than their size apart: the transforms touch all kk per tile, and at a power-of-two size
 * (64 channels x 256 tiles) those lines fall in one cache set (measured: the 7x7 layers ran 2x
 * slower). */
static fs_index FS_FN(wino_scratch_size)(const fs_wino_geometry *q, fs_index outs)
{
    const fs_index rows = q->rows < q->th ? q->rows : q->th;
    const fs_index passes = q->m == 4 ? 36 * q->C + 24 * outs : 0;
    return q->kk * ((q->C + outs) * q->block + 2 * FS_WINO_SKEW) + q->m * q->m * q->block * outs +
           q->C * (q->m * rows + 2) * (q->m * q->tw + 2) + passes;
}

/* Where the scratch's parts start (the sizes of wino_scratch_size): V, M (or dW's D), y, xp,
 * and F(4x4,3x3)'s passes. vk, mk: the skewed distances between the kk matrices of V and M. */
typedef struct {
    real *v, *m, *y, *xp, *e;
} FS_FN(wino_scratch);

static FS_FN(wino_scratch) FS_FN(wino_scratch_of)(const fs_wino_geometry *q, fs_index outs,
                                                  real *scratch, fs_index vk, fs_index mk)
{
    FS_FN(wino_scratch) p;
    const fs_index rows = q->rows < q->th ? q->rows : q->th;
    p.v = scratch, p.m = p.v + q->kk * vk, p.y = p.m + q->kk * mk;
    p.xp = p.y + q->m * q->m * q->block * outs;
    p.e = p.xp + q->C * (q->m * rows + 2) * (q->m * q->tw + 2);
    return p;
}

/* V of a block (forward, dx and dW alike): the tiles of tile rows ty0 .. ty1 of images n0 .. n1
 * of j->x, each image padded into xp and transformed into its run of V's tiles. */
static void FS_FN(wino_input_block)(const FS_FN(wino_job) *j, fs_index n0, fs_index n1,
                                    fs_index ty0, fs_index ty1, const FS_FN(wino_scratch) *p,
                                    fs_index vk)
{
    const fs_wino_geometry *q = &j->q;
    const fs_index per = (ty1 - ty0) * q->tw;
    for (fs_index n = n0; n < n1; ++n) {
        real *v = p->v + (n - n0) * per * q->C;
        FS_FN(wino_pad_rows_hwc)(j->x + n * q->C * q->H * q->W, q, ty0, ty1, p->xp);
        if (q->m == 4)
            FS_FN(wino4_input_tiles_hwc)(p->xp, ty1 - ty0, q->tw, q->C, v, vk, p->e);
        else
            FS_FN(wino_input_tiles_hwc)(p->xp, ty1 - ty0, q->tw, q->C, v, vk);
    }
}

/* Tile rows ty0 .. ty1 of each of the images n0 .. n1: all of them when the block holds whole
 * images, else a run of one image's rows. V[k] is tiles x C (wino_input_tiles_hwc), U[k] is
 * stored C x outs (wino_conv), so M[k] (tiles x outs) = V[k] x U[k] is a row-major NN product
 * (OpenBLAS's small-matrix kernels; the NT form, with K = C < 32, went through its packing). */
static void FS_FN(wino_block)(const FS_FN(wino_job) *j, fs_index n0, fs_index n1, fs_index ty0,
                              fs_index ty1, real *scratch)
{
    const fs_wino_geometry *q = &j->q;
    const fs_index per = (ty1 - ty0) * q->tw, cols = (n1 - n0) * per;
    const fs_index vk = q->C * cols + FS_WINO_SKEW, mk = j->outs * cols + FS_WINO_SKEW;
    const FS_FN(wino_scratch) p = FS_FN(wino_scratch_of)(q, j->outs, scratch, vk, mk);
    FS_FN(wino_input_block)(j, n0, n1, ty0, ty1, &p, vk);
    for (fs_index k = 0; k < q->kk; ++k)
        FS_FN(fs_gemm)(CblasNoTrans, CblasNoTrans, (int)cols, (int)j->outs, (int)q->C, 1,
                       p.v + k * vk, (int)q->C, j->u + k * j->outs * q->C, (int)j->outs, 0,
                       p.m + k * mk, (int)j->outs);
    for (fs_index n = n0; n < n1; ++n) {
        const real *mn = p.m + (n - n0) * per * j->outs;
        if (q->m == 4)
            FS_FN(wino4_output_tiles_hwc)(mn, mk, ty1 - ty0, q->tw, j->outs, j->b, p.y, p.e);
        else
            FS_FN(wino_output_tiles_hwc)(mn, mk, ty1 - ty0, q->tw, j->outs, j->b, p.y);
        FS_FN(wino_store_planes)(p.y, q, ty0, ty1, j->outs, j->out + n * j->outs * q->oh * q->ow);
    }
}

/* ---- dW by Winograd. The forward's adjoint: with D = A dY A^T (4x4) for the 2x2 tile dY of
 * dout (zeros past an odd output size), dU[f,c] = sum over tiles of D[f] .* V[c], that is, per
 * entry k, M[k] (FN x C) += D[k] (FN x tiles) x V[k]^T (tiles x C) over the blocks of a part,
 * and at the end dW[f,c] = G^T M[f,c] G. 16 products of FN x C x tiles against the shifted
 * path's 9 of FN x C x (OH x Wp) per image: 2.25x fewer multiplications (more at small
 * widths, where Wp wastes columns). The blocks and V are the forward's; D takes M's place in
 * the scratch. */

/* d[k * kstride + t] = (A dY A^T)[k] of the tiles t of tile rows ty0 .. ty1 of one filter's
 * dout plane (oh x ow). The even and the odd rows of each row of tiles are first copied into
 * ev and od (rows of 2 * tw, zeros past an odd size: contiguous loops), so the transform runs
 * along all the tiles at once (a row has only 4-14 tiles in DeepConvNet's layers, too few for
 * a vector loop: gathering them tile row by tile row took twice as long). y: 4 x tiles. */
FS_HOT static void FS_FN(wino_grad_tiles)(const real *restrict dout_f, const fs_wino_geometry *q,
                                          fs_index ty0, fs_index ty1, real *restrict y,
                                          real *restrict d, fs_index kstride)
{
    const fs_index width = 2 * q->tw, tiles = (ty1 - ty0) * q->tw;
    real *restrict ev = y, *restrict od = y + 2 * tiles;
    for (fs_index ty = ty0; ty < ty1; ++ty) {
        const real *restrict o0 = dout_f + 2 * ty * q->ow;
        real *restrict e0 = ev + (ty - ty0) * width, *restrict e1 = od + (ty - ty0) * width;
        const int second = 2 * ty + 1 < q->oh; /* else the odd height's last row: zeros */
        for (fs_index x = 0; x < q->ow; ++x) e0[x] = o0[x], e1[x] = second ? o0[q->ow + x] : 0;
        if (q->ow < width) e0[q->ow] = 0, e1[q->ow] = 0;
    }
#pragma omp simd
    for (fs_index t = 0; t < tiles; ++t) {
        const real a = ev[2 * t], b = ev[2 * t + 1], c = od[2 * t], e = od[2 * t + 1];
        /* A dY: rows (p, q) = (a, b), (a + c, b + e), (a - c, b - e), (-c, -e);
         * then each row times A^T: (p, p + q, p - q, -q) */
        const real p1 = a + c, q1 = b + e, p2 = a - c, q2 = b - e;
        d[0 * kstride + t] = a, d[1 * kstride + t] = a + b;
        d[2 * kstride + t] = a - b, d[3 * kstride + t] = -b;
        d[4 * kstride + t] = p1, d[5 * kstride + t] = p1 + q1;
        d[6 * kstride + t] = p1 - q1, d[7 * kstride + t] = -q1;
        d[8 * kstride + t] = p2, d[9 * kstride + t] = p2 + q2;
        d[10 * kstride + t] = p2 - q2, d[11 * kstride + t] = -q2;
        d[12 * kstride + t] = -c, d[13 * kstride + t] = -c - e;
        d[14 * kstride + t] = e - c, d[15 * kstride + t] = e;
    }
}

/* F(4x4,3x3)'s D: d[k * kstride + t] = (A dY A^T)[k] (k = 6 * row + column) of the 4x4 tiles
 * dY of tile rows ty0 .. ty1 of one filter's dout plane, as wino_grad_tiles for F(2x2,3x3): the
 * tile rows' four rows of outputs are first copied into four rows of 4 * tw each (zeros past the
 * size), so the transform runs along all the tiles at once. y: 16 x tiles. A applied to
 * (y0, y1, y2, y3): (y0, y0 + y1 + y2 + y3, y0 - y1 + y2 - y3, y0 + 2 y1 + 4 y2 + 8 y3,
 * y0 - 2 y1 + 4 y2 - 8 y3, y3). */
#define FS_WINO4_A(y0, y1, y2, y3, o0, o1, o2, o3, o4, o5)                                         \
    const real o0 = (y0), o5 = (y3);                                                               \
    const real o1 = ((y0) + (y2)) + ((y1) + (y3)), o2 = ((y0) + (y2)) - ((y1) + (y3));             \
    const real o3 = ((y0) + 4 * (y2)) + (2 * (y1) + 8 * (y3));                                     \
    const real o4 = ((y0) + 4 * (y2)) - (2 * (y1) + 8 * (y3))

FS_HOT static void FS_FN(wino4_grad_tiles)(const real *restrict dout_f, const fs_wino_geometry *q,
                                           fs_index ty0, fs_index ty1, real *restrict y,
                                           real *restrict d, fs_index kstride)
{
    const fs_index width = 4 * q->tw, tiles = (ty1 - ty0) * q->tw;
    for (fs_index ty = ty0; ty < ty1; ++ty)
        for (int r = 0; r < 4; ++r) {
            real *restrict row = y + r * 4 * tiles + (ty - ty0) * width;
            const fs_index oy = 4 * ty + r;
            const real *restrict src = dout_f + oy * q->ow;
            fs_index x = 0;
            if (oy < q->oh)
                for (; x < q->ow; ++x) row[x] = src[x];
            for (; x < width; ++x) row[x] = 0;
        }
    const real *restrict r0 = y, *restrict r1 = y + 4 * tiles, *restrict r2 = y + 8 * tiles;
    const real *restrict r3 = y + 12 * tiles;
#pragma omp simd
    for (fs_index t = 0; t < tiles; ++t) {
        /* A along each row of dY (a: row 0's six, b: row 1's, ...), then along the columns */
        FS_WINO4_A(r0[4 * t], r0[4 * t + 1], r0[4 * t + 2], r0[4 * t + 3], a0, a1, a2, a3, a4, a5);
        FS_WINO4_A(r1[4 * t], r1[4 * t + 1], r1[4 * t + 2], r1[4 * t + 3], b0, b1, b2, b3, b4, b5);
        FS_WINO4_A(r2[4 * t], r2[4 * t + 1], r2[4 * t + 2], r2[4 * t + 3], c0, c1, c2, c3, c4, c5);
        FS_WINO4_A(r3[4 * t], r3[4 * t + 1], r3[4 * t + 2], r3[4 * t + 3], e0, e1, e2, e3, e4, e5);
#define FS_WINO4_D_COLUMN(col, a, b, c, e)                                                         \
    do {                                                                                           \
        FS_WINO4_A(a, b, c, e, u0, u1, u2, u3, u4, u5);                                            \
        d[(col) * kstride + t] = u0, d[(6 + (col)) * kstride + t] = u1;                            \
        d[(12 + (col)) * kstride + t] = u2, d[(18 + (col)) * kstride + t] = u3;                    \
        d[(24 + (col)) * kstride + t] = u4, d[(30 + (col)) * kstride + t] = u5;                    \
    } while (0)
        FS_WINO4_D_COLUMN(0, a0, b0, c0, e0);
        FS_WINO4_D_COLUMN(1, a1, b1, c1, e1);
        FS_WINO4_D_COLUMN(2, a2, b2, c2, e2);
        FS_WINO4_D_COLUMN(3, a3, b3, c3, e3);
        FS_WINO4_D_COLUMN(4, a4, b4, c4, e4);
        FS_WINO4_D_COLUMN(5, a5, b5, c5, e5);
#undef FS_WINO4_D_COLUMN
    }
}
#undef FS_WINO4_A

/* One block of dW: V of x's tiles (as the forward), D of dout's, then m[k] += D[k] x V[k]^T. */
static void FS_FN(wino_dw_block)(const FS_FN(wino_job) *j, fs_index n0, fs_index n1, fs_index ty0,
                                 fs_index ty1, real *scratch, real *m)
{
    const fs_wino_geometry *q = &j->q;
    const fs_index per = (ty1 - ty0) * q->tw, cols = (n1 - n0) * per;
    const fs_index vk = q->C * cols + FS_WINO_SKEW, dk = j->outs * cols + FS_WINO_SKEW;
    const FS_FN(wino_scratch) p = FS_FN(wino_scratch_of)(q, j->outs, scratch, vk, dk);
    FS_FN(wino_input_block)(j, n0, n1, ty0, ty1, &p, vk);
    for (fs_index n = n0; n < n1; ++n)
        for (fs_index f = 0; f < j->outs; ++f) {
            const real *dout_f = j->dout + (n * j->outs + f) * q->oh * q->ow;
            real *d = p.m + f * cols + (n - n0) * per;
            if (q->m == 4)
                FS_FN(wino4_grad_tiles)(dout_f, q, ty0, ty1, p.y, d, dk);
            else
                FS_FN(wino_grad_tiles)(dout_f, q, ty0, ty1, p.y, d, dk);
        }
    /* M[k] (outs x C) += D[k] (outs x tiles) x V[k] (tiles x C) */
    for (fs_index k = 0; k < q->kk; ++k)
        FS_FN(fs_gemm)(CblasNoTrans, CblasNoTrans, (int)j->outs, (int)q->C, (int)cols, 1,
                       p.m + k * dk, (int)cols, p.v + k * vk, (int)q->C, 1, m + k * j->outs * q->C,
                       (int)q->C);
}

/* Images n0 .. n1, block by block: several whole images per block, or (big images) runs of
 * tile rows of one. dW (j->dout set) accumulates into m, the part's M. */
static void FS_FN(wino_part)(const FS_FN(wino_job) *j, fs_index n0, fs_index n1, real *scratch,
                             real *m)
{
    const fs_wino_geometry *q = &j->q;
    const fs_index images = q->rows >= q->th ? q->rows / q->th : 1;
    const fs_index rows = q->rows >= q->th ? q->th : q->rows;
    for (fs_index n = n0; n < n1; n += images) {
        const fs_index n_end = n + images < n1 ? n + images : n1;
        for (fs_index ty = 0; ty < q->th; ty += rows) {
            const fs_index ty_end = ty + rows < q->th ? ty + rows : q->th;
            if (j->dout)
                FS_FN(wino_dw_block)(j, n, n_end, ty, ty_end, scratch, m);
            else
                FS_FN(wino_block)(j, n, n_end, ty, ty_end, scratch);
        }
    }
}

/* Tile rows ty0 .. ty1 of image n (the forward), in blocks of at most q->rows rows. */
static void FS_FN(wino_rows)(const FS_FN(wino_job) *j, fs_index n, fs_index ty0, fs_index ty1,
                             real *scratch)
{
    for (fs_index ty = ty0; ty < ty1; ty += j->q.rows)
        FS_FN(wino_block)(j, n, n + 1, ty, ty + j->q.rows < ty1 ? ty + j->q.rows : ty1, scratch);
}

/* ---- The driver: one per-image loop for both paths and both directions.
 * A job holds what every image needs; a part is a run of consecutive images done in order by
 * one thread, with that thread's scratch and (backward) the part's own dW and db sums. */
typedef struct {
    const real *x, *w, *b, *dout;
    real *out, *dx;
    uint8_t *mask; /* forward by correlation: the ReLU's mask too (out is then the ReLU's) */
    const fs_patch_geometry *g;
    fs_index batch, filters, image, ohw, ck;
    int shifted; /* stride 1, enough channels: no im2col */
    fs_shift_geometry s; /* shifted path only */
    const real *wk; /* shifted path: the weights per tap */
    int correlation; /* the forward by correlation */
    int dw_correlation; /* dW by correlation (backward, im2col path) */
    fs_corr_geometry d; /* correlation, dw_correlation only */
    fs_index scratch_size; /* per thread */
    fs_index dw_size; /* per part: dW^T (im2col) or dWk per tap (shifted) */
} FS_FN(conv_job);

static void FS_FN(conv_forward_part)(const FS_FN(conv_job) *j, fs_index n0, fs_index n1,
                                     real *scratch)
{
    for (fs_index n = n0; n < n1; ++n) {
        const real *x_n = j->x + n * j->image;
        real *out_n = j->out + n * j->filters * j->ohw;
        if (j->correlation)
            FS_FN(corr_forward_image)(x_n, &j->d, j->w, j->b, j->filters, scratch, out_n,
                                      j->mask ? j->mask + n * j->filters * j->ohw : NULL);
        else if (j->shifted)
            FS_FN(shift_forward_image)(x_n, &j->s, j->wk, j->b, j->filters, scratch,
                                       scratch + j->s.xp_size, out_n);
        else
            FS_FN(conv_forward_image)(x_n, j->g, j->w, j->b, j->filters, scratch, out_n);
    }
}

static void FS_FN(conv_backward_part)(const FS_FN(conv_job) *j, fs_index n0, fs_index n1,
                                      real *scratch, real *dw_part, double *db_part)
{
    if (dw_part)
        for (fs_index i = 0; i < j->dw_size; ++i) dw_part[i] = 0;
    for (fs_index n = n0; n < n1; ++n) {
        const real *dout_n = j->dout + n * j->filters * j->ohw, *x_n = j->x + n * j->image;
        real *dx_n = j->dx ? j->dx + n * j->image : NULL;
        if (j->shifted) /* scratch: xp, dxp, dp */
            FS_FN(shift_backward_image)(dout_n, x_n, &j->s, j->wk, j->filters, scratch,
                                        scratch + 2 * j->s.xp_size, scratch + j->s.xp_size, dx_n,
                                        dw_part, db_part);
        else { /* scratch: col, dcol, then dW by correlation's */
            if (j->dw_correlation && dw_part)
                FS_FN(dw_correlation_image)(dout_n, x_n, &j->d, j->filters,
                                            scratch + 2 * j->ohw * j->ck, dw_part, db_part);
            FS_FN(conv_backward_image)(dout_n, x_n, j->g, j->w, j->filters, scratch,
                                       scratch + j->ohw * j->ck, dx_n,
                                       j->dw_correlation ? NULL : dw_part, db_part);
        }
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
            FS_FN(conv_backward_part)(j, n0, n1, mine, dw_parts ? dw_parts + p * j->dw_size : NULL,
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

/* Which Winograd a call of this element type takes (wino_path: F(4x4,3x3) in float32 only). */
static int FS_FN(wino_path_of)(const fs_patch_geometry *g, fs_index batch, double min_saved)
{ return wino_path(g, batch, sizeof(real) == sizeof(float), min_saved); }

/* Runs a Winograd convolution of x with the filters w (flipped: see wino_weights) over the
 * images in parts, as conv_run does (parts over at most fs_team_for threads, each with its own
 * scratch; one part: on this thread, its products on every thread). */
static int FS_FN(wino_conv)(const real *x, fs_index batch, const fs_patch_geometry *g,
                            const real *w, int flipped, const real *b, fs_index outs, real *out,
                            int path, int strategy)
{
    FS_FN(wino_job) j;
    memset(&j, 0, sizeof j);
    j.x = x, j.b = b, j.out = out, j.outs = outs;
    j.q = wino_geometry_of(g, path, FS_WINO_BLOCK_TILES);
    const fs_index m = j.q.m;
    const fs_index size = FS_FN(wino_scratch_size)(&j.q, outs);
    const int parts = conv_parts(batch, g, outs, strategy);
    const fs_index runs = parts == 1 ? wino_row_runs(batch, g, outs, m, strategy) : 1;
    const fs_index tasks = batch * runs;
    const int team = runs > 1 ? conv_team(tasks < fs_max_threads() ? (int)tasks : fs_max_threads(),
                                          batch, g, outs)
                              : conv_team(parts, batch, g, outs);
    const fs_index usize = j.q.kk * outs * j.q.C;
    real *u = malloc((size_t)(usize + outs + 1) * sizeof(real));
    real *scratch = malloc((size_t)(team * size + 1) * sizeof(real));
    int rc = -1;
    if (u && scratch) {
        real *zeros = u + usize;
        if (!b) {
            for (fs_index o = 0; o < outs; ++o) zeros[o] = 0;
            j.b = zeros;
        }
        FS_FN(wino_weights)(w, outs, j.q.C, flipped, (int)m, u);
        j.u = u;
        if (runs > 1) {
#pragma omp parallel for schedule(static) num_threads(team)
            for (fs_index t = 0; t < tasks; ++t) {
                const fs_index n = t / runs, r = t % runs;
                FS_FN(wino_rows)(&j, n, j.q.th * r / runs, j.q.th * (r + 1) / runs,
                                 scratch + omp_get_thread_num() * size);
            }
        } else if (parts == 1) {
            FS_FN(wino_part)(&j, 0, batch, scratch, NULL);
        } else {
#pragma omp parallel for schedule(static) num_threads(team)
            for (int p = 0; p < parts; ++p)
                FS_FN(wino_part)(&j, batch * p / parts, batch * (p + 1) / parts,
                                 scratch + omp_get_thread_num() * size, NULL);
        }
        rc = 0;
    }
    free(u);
    free(scratch);
    return rc;
}

/* dw[f][c] (3 x 3) = G^T m[f,c] G, with m[k][f][c] (k = 4 * row + column) the summed M of
 * "dW by Winograd"; vectorised along c. */
FS_HOT static void FS_FN(wino_dw_weights)(const real *restrict m, fs_index outs, fs_index ins,
                                          real *restrict dw)
{
    const fs_index next = outs * ins;
    const real h = (real)0.5;
    for (fs_index o = 0; o < outs; ++o) {
        const real *restrict mo = m + o * ins;
        real *restrict dwo = dw + o * ins * 9;
#pragma omp simd
        for (fs_index i = 0; i < ins; ++i) {
            real t[3][4], mm[4][4];
            for (int r = 0; r < 4; ++r)
                for (int c = 0; c < 4; ++c) mm[r][c] = mo[(4 * r + c) * next + i];
            /* t = G^T m: rows m0 + (m1 + m2) / 2, (m1 - m2) / 2, (m1 + m2) / 2 + m3 */
            for (int c = 0; c < 4; ++c) {
                const real sum = h * (mm[1][c] + mm[2][c]);
                t[0][c] = mm[0][c] + sum, t[1][c] = h * (mm[1][c] - mm[2][c]);
                t[2][c] = sum + mm[3][c];
            }
            /* dW = t G: the same on the columns */
            for (int r = 0; r < 3; ++r) {
                const real sum = h * (t[r][1] + t[r][2]);
                dwo[i * 9 + 3 * r] = t[r][0] + sum,
                                dwo[i * 9 + 3 * r + 1] = h * (t[r][1] - t[r][2]);
                dwo[i * 9 + 3 * r + 2] = sum + t[r][3];
            }
        }
    }
}

/* F(4x4,3x3)'s dw[f][c] (3 x 3) = G^T m[f,c] G, m[k][f][c] (k = 6 * row + column) the summed
 * M, as wino_dw_weights; vectorised along c. G^T applied to (u0 .. u5):
 * (u0 / 4 - (u1 + u2) / 6 + (u3 + u4) / 24, (u2 - u1) / 6 + (u3 - u4) / 12,
 *  (u3 + u4 - u1 - u2) / 6 + u5). */
#define FS_WINO4_GT(u0, u1, u2, u3, u4, u5, o0, o1, o2)                                            \
    const real o0 =                                                                                \
        (real)0.25 * (u0) - (real)(1.0 / 6) * ((u1) + (u2)) + (real)(1.0 / 24) * ((u3) + (u4));    \
    const real o1 = (real)(1.0 / 6) * ((u2) - (u1)) + (real)(1.0 / 12) * ((u3) - (u4));            \
    const real o2 = (real)(1.0 / 6) * (((u3) + (u4)) - ((u1) + (u2))) + (u5)

FS_HOT static void FS_FN(wino4_dw_weights)(const real *restrict m, fs_index outs, fs_index ins,
                                           real *restrict dw)
{
    const fs_index next = outs * ins;
    for (fs_index o = 0; o < outs; ++o) {
        const real *restrict mo = m + o * ins;
        real *restrict dwo = dw + o * ins * 9;
#pragma omp simd
        for (fs_index i = 0; i < ins; ++i) {
#define FS_WINO4_M(r, c) mo[(6 * (r) + (c)) * next + i]
            /* t = G^T m, column by column of m: t0c, t1c, t2c for column c */
#define FS_WINO4_T_COLUMN(c, t0, t1, t2)                                                           \
    FS_WINO4_GT(FS_WINO4_M(0, c), FS_WINO4_M(1, c), FS_WINO4_M(2, c), FS_WINO4_M(3, c),            \
                FS_WINO4_M(4, c), FS_WINO4_M(5, c), t0, t1, t2)
            FS_WINO4_T_COLUMN(0, p0, q0, s0);
            FS_WINO4_T_COLUMN(1, p1, q1, s1);
            FS_WINO4_T_COLUMN(2, p2, q2, s2);
            FS_WINO4_T_COLUMN(3, p3, q3, s3);
            FS_WINO4_T_COLUMN(4, p4, q4, s4);
            FS_WINO4_T_COLUMN(5, p5, q5, s5);
#undef FS_WINO4_T_COLUMN
#undef FS_WINO4_M
            /* dW = t G: G^T along each of t's three rows (p, q, s) */
            FS_WINO4_GT(p0, p1, p2, p3, p4, p5, w00, w01, w02);
            FS_WINO4_GT(q0, q1, q2, q3, q4, q5, w10, w11, w12);
            FS_WINO4_GT(s0, s1, s2, s3, s4, s5, w20, w21, w22);
            real *restrict wi = dwo + i * 9;
            wi[0] = w00, wi[1] = w01, wi[2] = w02, wi[3] = w10, wi[4] = w11, wi[5] = w12;
            wi[6] = w20, wi[7] = w21, wi[8] = w22;
        }
    }
}
#undef FS_WINO4_GT

/* db = the parts' sums in part order. */
static void FS_FN(conv_db_of_parts)(const double *db_parts, int parts, fs_index filters, real *db)
{
    for (fs_index f = 0; f < filters; ++f) {
        double sum = 0;
        for (int p = 0; p < parts; ++p) sum += db_parts[p * filters + f];
        db[f] = (real)sum;
    }
}

/* Images n0 .. n1 of dW by Winograd: the part's M (m, zeroed first) and db sums. */
static void FS_FN(wino_dw_part)(const FS_FN(wino_job) *j, fs_index n0, fs_index n1, real *scratch,
                                real *m, double *db)
{
    const fs_index ohw = j->q.oh * j->q.ow;
    memset(m, 0, (size_t)(j->q.kk * j->outs * j->q.C) * sizeof(real));
    for (fs_index n = n0; n < n1; ++n)
        FS_FN(conv_db_sums)(j->dout + n * j->outs * ohw, j->outs, ohw, db);
    FS_FN(wino_part)(j, n0, n1, scratch, m);
}

/* dW and db of a 3x3 stride-1 conv by Winograd, the parts as wino_conv's; their M summed in
 * part order (so the bits depend on the configured threads only), then transformed once. */
static int FS_FN(wino_dw)(const real *dout, const real *x, fs_index batch,
                          const fs_patch_geometry *g, fs_index filters, real *dw, real *db,
                          int path, int strategy)
{
    FS_FN(wino_job) j;
    memset(&j, 0, sizeof j);
    j.x = x, j.dout = dout, j.outs = filters;
    j.q = wino_geometry_of(g, path, FS_WINO_DW_BLOCK_TILES);
    const fs_index size = FS_FN(wino_scratch_size)(&j.q, filters);
    const fs_index msize = j.q.kk * filters * j.q.C;
    const int parts = conv_parts(batch, g, filters, strategy);
    const int team = conv_team(parts, batch, g, filters);
    real *scratch = malloc((size_t)(team * size + 1) * sizeof(real));
    real *m = malloc((size_t)(parts * msize + 1) * sizeof(real));
    double *db_parts = calloc((size_t)(parts * filters + 1), sizeof(double));
    int rc = -1;
    if (scratch && m && db_parts) {
        if (parts == 1) {
            FS_FN(wino_dw_part)(&j, 0, batch, scratch, m, db_parts);
        } else {
#pragma omp parallel for schedule(static) num_threads(team)
            for (int p = 0; p < parts; ++p)
                FS_FN(wino_dw_part)(&j, batch * p / parts, batch * (p + 1) / parts,
                                    scratch + omp_get_thread_num() * size, m + p * msize,
                                    db_parts + p * filters);
        }
        for (int p = 1; p < parts; ++p)
            for (fs_index i = 0; i < msize; ++i) m[i] += m[p * msize + i];
        if (j.q.m == 4)
            FS_FN(wino4_dw_weights)(m, filters, j.q.C, dw);
        else
            FS_FN(wino_dw_weights)(m, filters, j.q.C, dw);
        FS_FN(conv_db_of_parts)(db_parts, parts, filters, db);
        rc = 0;
    }
    free(scratch);
    free(m);
    free(db_parts);
    return rc;
}

int FS_FN(fs_conv_forward_path)(const real *x, fs_index batch, const fs_patch_geometry *g,
                                const real *w, fs_index filters)
{
    if (conv_winograd(g, filters) &&
        FS_FN(all_finite)(x, batch * g->channels * g->height * g->width) &&
        FS_FN(all_finite)(w, filters * g->channels * 9))
        return FS_FN(wino_path_of)(g, batch, FS_WINO4_MIN_SAVED);
    if (corr_forward(batch, g, filters, FS_CONV_AUTO)) return FS_CONV_PATH_CORRELATION;
    return conv_shifted(g) ? FS_CONV_PATH_SHIFTED : FS_CONV_PATH_IM2COL;
}

/* The forward; with mask, out becomes the ReLU of the conv and mask the ReLU's mask (x <= 0),
 * in the correlation's stores where it runs, else by fs_relu_forward after the conv. */
static int FS_FN(conv_forward_then)(const real *x, fs_index batch, const fs_patch_geometry *g,
                                    const real *w, const real *b, fs_index filters, real *out,
                                    uint8_t *mask, int strategy)
{
    const int path = FS_FN(fs_conv_forward_path)(x, batch, g, w, filters);
    const fs_index n = batch * filters * g->out_h * g->out_w;
    if (path == FS_CONV_PATH_WINOGRAD || path == FS_CONV_PATH_WINOGRAD4) {
        const int rc = FS_FN(wino_conv)(x, batch, g, w, 0, b, filters, out, path, strategy);
        if (rc == 0 && mask) FS_FN(fs_relu_forward)(out, n, out, mask);
        return rc;
    }
    FS_FN(conv_job) j = FS_FN(conv_job_of)(x, batch, g, w, b, filters);
    j.out = out;
    j.correlation = path == FS_CONV_PATH_CORRELATION && corr_forward(batch, g, filters, strategy);
    j.mask = j.correlation ? mask : NULL;
    if (j.correlation) j.d = corr_geometry_of(g);
    /* Per thread: im2col's col, the shifted path's padded image and accumulator, or the
     * correlation's padded image. */
    j.scratch_size = j.correlation ? FS_FN(corr_forward_scratch)(&j.d, filters)
                     : j.shifted   ? j.s.xp_size + filters * j.s.n
                                   : j.ck * j.ohw;
    const int parts = conv_parts(batch, g, filters, strategy);
    const int threads = conv_team(parts, batch, g, filters);
    real *wk = j.shifted ? malloc((size_t)(filters * j.ck + 1) * sizeof(real)) : NULL;
    real *scratch = malloc((size_t)(threads * j.scratch_size + 1) * sizeof(real));
    int rc = -1;
    if (scratch && (wk || !j.shifted)) {
        if (j.shifted) FS_FN(shift_weights)(w, &j.s, filters, wk);
        j.wk = wk;
        FS_FN(conv_run)(&j, parts, threads, scratch, NULL, NULL);
        if (mask && !j.correlation) FS_FN(fs_relu_forward)(out, n, out, mask);
        rc = 0;
    }
    free(wk);
    free(scratch);
    return rc;
}

int FS_FN(fs_conv_forward)(const real *x, fs_index batch, const fs_patch_geometry *g, const real *w,
                           const real *b, fs_index filters, real *out, int strategy)
{ return FS_FN(conv_forward_then)(x, batch, g, w, b, filters, out, NULL, strategy); }

int FS_FN(fs_conv_relu_forward)(const real *x, fs_index batch, const fs_patch_geometry *g,
                                const real *w, const real *b, fs_index filters, real *out,
                                uint8_t *mask, int strategy)
{ return FS_FN(conv_forward_then)(x, batch, g, w, b, filters, out, mask, strategy); }

/* dx of a 3x3 stride-1 conv with pad <= 2 is itself one: the correlation of dout padded by
 * 2 - pad with the filters transposed (C x FN) and rotated 180 degrees, giving H x W. */
static int FS_FN(dx_geometry)(const fs_patch_geometry *g, fs_index filters, fs_patch_geometry *d)
{
    if (g->stride != 1 || g->kernel_h != 3 || g->kernel_w != 3 || g->pad > 2) return 0;
    *d = *g;
    d->channels = filters, d->height = g->out_h, d->width = g->out_w, d->pad = 2 - g->pad;
    d->out_h = g->height, d->out_w = g->width;
    return 1;
}

/* Whether dx takes Winograd: conv_winograd_dx on dx's own shape (FN channels in, C out), dout
 * and W finite (x does not enter dx). dout_finite: already known, no scan. */
static int FS_FN(dx_winograd)(const real *dout, fs_index batch, const fs_patch_geometry *g,
                              const real *w, fs_index filters, fs_patch_geometry *d,
                              int dout_finite)
{
    return FS_FN(dx_geometry)(g, filters, d) && conv_winograd_dx(d, g->channels) &&
           (dout_finite || FS_FN(all_finite)(dout, batch * filters * g->out_h * g->out_w)) &&
           FS_FN(all_finite)(w, filters * g->channels * 9);
}

int FS_FN(fs_conv_dx_path)(const real *dout, const real *x, fs_index batch,
                           const fs_patch_geometry *g, const real *w, fs_index filters)
{
    fs_patch_geometry d;
    if (FS_FN(dx_winograd)(dout, batch, g, w, filters, &d, 0))
        return FS_FN(wino_path_of)(&d, batch, FS_WINO4_MIN_SAVED);
    /* The shifted path's own test (fs_conv_backward): x and W finite. */
    return conv_shifted(g) && FS_FN(all_finite)(x, batch * g->channels * g->height * g->width) &&
                   FS_FN(all_finite)(w, filters * g->channels * g->kernel_h * g->kernel_w)
               ? FS_CONV_PATH_SHIFTED
               : FS_CONV_PATH_IM2COL;
}

/* Whether dW (and db) take Winograd: the rule on the conv's shape, x and dout finite (W does
 * not enter dW). */
static int FS_FN(dw_winograd)(const real *dout, const real *x, fs_index batch,
                              const fs_patch_geometry *g, fs_index filters)
{
    return conv_winograd_dw(g, filters) &&
           FS_FN(all_finite)(x, batch * g->channels * g->height * g->width) &&
           FS_FN(all_finite)(dout, batch * filters * g->out_h * g->out_w);
}

/* Whether dW (and db) go by correlation: the rule on the conv's shape, x finite. */
static int FS_FN(dw_by_correlation)(const real *x, fs_index batch, const fs_patch_geometry *g,
                                    int x_finite)
{
    return conv_correlation(g) &&
           (x_finite || FS_FN(all_finite)(x, batch * g->channels * g->height * g->width));
}

int FS_FN(fs_conv_dw_path)(const real *dout, const real *x, fs_index batch,
                           const fs_patch_geometry *g, const real *w, fs_index filters)
{
    if (FS_FN(dw_winograd)(dout, x, batch, g, filters))
        return FS_FN(wino_path_of)(g, batch, FS_WINO4_DW_MIN_SAVED);
    if (FS_FN(dw_by_correlation)(x, batch, g, 0)) return FS_CONV_PATH_CORRELATION;
    /* The shifted path's own test (direct_backward), dx wanted: x and W finite. */
    return conv_shifted(g) && FS_FN(all_finite)(x, batch * g->channels * g->height * g->width) &&
                   FS_FN(all_finite)(w, filters * g->channels * g->kernel_h * g->kernel_w)
               ? FS_CONV_PATH_SHIFTED
               : FS_CONV_PATH_IM2COL;
}

/* The backward on the shifted or im2col path, per image in parts: dW and db unless dw is NULL
 * (taken by Winograd), dx unless dx is NULL (not wanted, or taken by Winograd). x_finite:
 * already known, no scan. */
static int FS_FN(direct_backward)(const real *dout, const real *x, fs_index batch,
                                  const fs_patch_geometry *g, const real *w, fs_index filters,
                                  real *dx, real *dw, real *db, int strategy, int x_finite)
{
    FS_FN(conv_job) j = FS_FN(conv_job_of)(x, batch, g, w, NULL, filters);
    j.dout = dout, j.dx = dx;
    /* The shifted products also multiply what im2col never reads: dW's, the thrown-away columns
     * of xp (pixels of the next row) by dp's zeros; dx's, W by those zeros. With an inf or NaN
     * there, 0 * inf = NaN would reach dW or dx where the reference has none, so such input
     * takes the im2col path. The scan reads x (and W) once, little next to the products.
     * Forward needs none: its thrown-away columns are dropped, and the kept ones multiply
     * exactly im2col's entries. */
    if (j.shifted && !((x_finite || FS_FN(all_finite)(x, batch * j.image)) &&
                       (!dx || FS_FN(all_finite)(w, filters * j.ck))))
        j.shifted = 0;
    /* dW by correlation: x finite (see there). Never with the shifted path (C >= 16). */
    j.dw_correlation = dw && !j.shifted && FS_FN(dw_by_correlation)(x, batch, g, x_finite);
    if (j.dw_correlation) j.d = corr_geometry_of(g);
    /* Per thread: col and dcol (and dW by correlation's zeros, dp and xp), or xp, dxp
     * and dp. Per part: dW^T (CK x FN) or dWk per tap (taps x FN x C): both FN*CK entries,
     * transposed into dw at the end. */
    j.scratch_size = j.shifted          ? 2 * j.s.xp_size + filters * j.s.n
                     : j.dw_correlation ? 2 * j.ck * j.ohw + FS_FN(dw_correlation_scratch)(&j.d)
                                        : 2 * j.ck * j.ohw;
    j.dw_size = filters * j.ck;
    const int parts = conv_parts(batch, g, filters, strategy);
    const int threads = conv_team(parts, batch, g, filters);
    /* The weights per tap serve only the shifted dx products (not wanted, or by Winograd). */
    const int taps = j.shifted && dx;
    real *wk = taps ? malloc((size_t)(filters * j.ck + 1) * sizeof(real)) : NULL;
    real *scratch = malloc((size_t)(threads * j.scratch_size + 1) * sizeof(real));
    real *dw_parts = dw ? malloc((size_t)(parts * j.dw_size + 1) * sizeof(real)) : NULL;
    double *db_parts = calloc((size_t)(parts * filters + 1), sizeof(double));
    int rc = -1;
    if (scratch && (dw_parts || !dw) && db_parts && (wk || !taps)) {
        if (taps) FS_FN(shift_weights)(w, &j.s, filters, wk);
        j.wk = wk;
        FS_FN(conv_run)(&j, parts, threads, scratch, dw_parts, db_parts);
        /* dw[f][i] = the parts' sums in part order; i = (c, ky, kx). */
        for (fs_index f = 0; dw && f < filters; ++f)
            for (fs_index i = 0; i < j.ck; ++i) {
                /* im2col: dW^T[i][f]; shifted: dWk[tap][f][c] with i = c * taps + tap. */
                const fs_index at = j.shifted
                                        ? ((i % j.s.taps) * filters + f) * j.s.C + i / j.s.taps
                                        : i * filters + f;
                real sum = 0;
                for (int p = 0; p < parts; ++p) sum += dw_parts[p * j.dw_size + at];
                dw[f * j.ck + i] = sum;
            }
        if (dw) FS_FN(conv_db_of_parts)(db_parts, parts, filters, db);
        rc = 0;
    }
    free(wk);
    free(scratch);
    free(dw_parts);
    free(db_parts);
    return rc;
}

int FS_FN(fs_conv_backward)(const real *dout, const real *x, fs_index batch,
                            const fs_patch_geometry *g, const real *w, fs_index filters, real *dx,
                            real *dw, real *db, int strategy)
{
    /* Up to three passes over dout: dW and db by Winograd, the direct path for what is left,
     * dx by Winograd. */
    fs_patch_geometry d;
    const int wino_w = FS_FN(dw_winograd)(dout, x, batch, g, filters);
    /* dW by Winograd has found x and dout finite. */
    real *wino_dx = dx && FS_FN(dx_winograd)(dout, batch, g, w, filters, &d, wino_w) ? dx : NULL;
    real *direct_dx = wino_dx ? NULL : dx;
    int rc = 0;
    if (wino_w)
        rc = FS_FN(wino_dw)(dout, x, batch, g, filters, dw, db,
                            FS_FN(wino_path_of)(g, batch, FS_WINO4_DW_MIN_SAVED), strategy);
    if (rc == 0 && (!wino_w || direct_dx))
        rc = FS_FN(direct_backward)(dout, x, batch, g, w, filters, direct_dx, wino_w ? NULL : dw,
                                    db, strategy, wino_w);
    if (rc == 0 && wino_dx)
        rc = FS_FN(wino_conv)(dout, batch, &d, w, 1, NULL, g->channels, wino_dx,
                              FS_FN(wino_path_of)(&d, batch, FS_WINO4_MIN_SAVED), strategy);
    return rc;
}
