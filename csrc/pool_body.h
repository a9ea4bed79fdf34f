/* Max pooling for one element type; included twice by pool.c through fs_instantiate.h. */

/* The window rows [lo, hi) of output row o that fall on real pixels of an axis of `size`. */
static inline void FS_FN(pool_window)(fs_index o, fs_index size, fs_index window, fs_index stride,
                                      fs_index pad, fs_index *lo, fs_index *hi)
{
    const fs_index start = o * stride - pad;
    *lo = start < 0 ? -start : 0;
    *hi = start + window > size ? size - start : window;
}

/* One plane, one output row at a time: for each window offset (ky, kx) in window order, every
 * output column of the row updates its running maximum, so the inner loop runs over ox and
 * vectorises (a per-window scalar loop took 18 ns a window: docs/performance.md). `best` and
 * `best_k` are scratch of out_w entries; best_k < 0 marks "no real pixel seen yet". The update
 * keeps the first maximum (strict >) and lets the first NaN in and nothing after it, as
 * np.argmax does. */
FS_HOT static void FS_FN(pool_forward_plane)(const real *plane, const fs_patch_geometry *g,
                                             fs_index out_stride, real *out, int64_t *arg_max,
                                             real *best, int32_t *best_k)
{
    const fs_index W = g->width, pw = g->kernel_w, out_w = g->out_w, stride = g->stride;
    for (fs_index oy = 0; oy < g->out_h; ++oy) {
        fs_index ky_lo, ky_hi;
        FS_FN(pool_window)(oy, g->height, g->kernel_h, stride, g->pad, &ky_lo, &ky_hi);
        const fs_index iy0 = oy * stride - g->pad;
        for (fs_index ox = 0; ox < out_w; ++ox) {
            best[ox] = 0;
            best_k[ox] = -1;
        }
        for (fs_index ky = ky_lo; ky < ky_hi; ++ky) {
            const real *row = plane + (iy0 + ky) * W;
            for (fs_index kx = 0; kx < pw; ++kx) {
                fs_index ox_lo, ox_hi;
                fs_valid_outputs(W, kx, stride, g->pad, out_w, &ox_lo, &ox_hi);
                const int32_t k = (int32_t)(ky * pw + kx);
                const real *src = row + kx - g->pad;
                for (fs_index ox = ox_lo; ox < ox_hi; ++ox) {
                    const real v = src[ox * stride], b = best[ox];
                    const int take = (best_k[ox] < 0) | (v > b) | ((v != v) & (b == b));
                    best[ox] = take ? v : b;
                    best_k[ox] = take ? k : best_k[ox];
                }
            }
        }
        for (fs_index ox = 0; ox < out_w; ++ox) {
            out[oy * out_w + ox] = best[ox];
            arg_max[(oy * out_w + ox) * out_stride] = best_k[ox];
        }
    }
}

/* b where `take`, else a, by bit masks (no branch: the maxima's positions are random). */
static inline real FS_FN(either)(real a, real b, int take)
{
    FS_BITS x, y;
    memcpy(&x, &a, sizeof x);
    memcpy(&y, &b, sizeof y);
    const FS_BITS m = (FS_BITS)0 - (FS_BITS)(take != 0);
    x = (x & ~m) | (y & m);
    memcpy(&a, &x, sizeof a);
    return a;
}

/* The book's window (2x2, stride 2, no padding) on a plane of even width, in two passes instead
 * of pool_forward_plane's four short ones per output row (whose fixed cost, ~0.13 us a row, was
 * most of the time on SimpleConvNet's rows of 12 outputs). Pass 1 takes the larger of each
 * vertical pair (rows 2 oy and 2 oy + 1) along whole rows; pass 2 the larger of each horizontal
 * pair of those, over the whole plane in one loop (pairs never straddle rows when the width is
 * even), writing out and the positions contiguously. Column by column, then across, with ties
 * and NaNs decided by position: the first maximum in window order (0,0), (0,1), (1,0), (1,1),
 * and the first NaN and nothing after it, as np.argmax. (Pairs across first, then down, had the
 * short rows in its second pass: 2.3x slower at batch 1, docs/performance.md.) `v` and `vk` are
 * scratch of out_h * width entries; the windows' positions go to k (out_h * out_w). */
FS_HOT static void FS_FN(pool_forward_plane_2x2)(const real *restrict plane,
                                                 const fs_patch_geometry *g, real *restrict out,
                                                 int32_t *restrict k, real *restrict v,
                                                 int32_t *restrict vk)
{
    const fs_index W = g->width, out_plane = g->out_h * g->out_w;
    for (fs_index oy = 0; oy < g->out_h; ++oy) {
        const real *restrict r0 = plane + 2 * oy * W, *restrict r1 = r0 + W;
        real *restrict v_row = v + oy * W;
        int32_t *restrict k_row = vk + oy * W;
#pragma omp simd
        for (fs_index x = 0; x < W; ++x) {
            const real a = r0[x], c = r1[x];
            const int take = (c > a) | ((c != c) & (a == a));
            v_row[x] = FS_FN(either)(a, c, take);
            k_row[x] = take;
        }
    }
#pragma omp simd
    for (fs_index i = 0; i < out_plane; ++i) {
        const real w0 = v[2 * i], w1 = v[2 * i + 1];
        const int32_t k0 = 2 * vk[2 * i], k1 = 1 + 2 * vk[2 * i + 1];
        const int earlier = k1 < k0;
        const int take = (w1 > w0) | ((w1 == w0) & earlier) | ((w1 != w1) & ((w0 == w0) | earlier));
        out[i] = FS_FN(either)(w0, w1, take);
        k[i] = take ? k1 : k0;
    }
}

/* The windows' positions of an image's C planes (k, C x out_plane) into its rows of arg_max
 * (out_plane x C, the book's layout), 8 rows at a time: written a plane at a time, every C-th
 * entry, they took 23% of a batch-100 forward (SimpleConvNet's pooling, float64), and a row at
 * a time 5-20% more than in blocks (docs/performance.md). */
static void FS_FN(pool_positions_of_image)(const int32_t *restrict k, fs_index C,
                                           fs_index out_plane, int64_t *restrict arg_max)
{
    /* a plane's 8 positions of a block are one 32-byte load; the block's 8 rows stay in L1 */
    fs_index i0 = 0;
    for (; i0 + 8 <= out_plane; i0 += 8)
        for (fs_index c = 0; c < C; ++c)
            for (fs_index i = i0; i < i0 + 8; ++i) arg_max[i * C + c] = k[c * out_plane + i];
    for (fs_index i = i0; i < out_plane; ++i)
        for (fs_index c = 0; c < C; ++c) arg_max[i * C + c] = k[c * out_plane + i];
}

int FS_FN(fs_pool_forward)(const real *x, fs_index batch, const fs_patch_geometry *g, real *out,
                           int64_t *arg_max)
{
    int failed = 0;
    const fs_index C = g->channels, plane = g->height * g->width, out_plane = g->out_h * g->out_w;
    const fs_index work = batch * C * out_plane * g->kernel_h * g->kernel_w;
    /* pool_forward_plane_2x2's case: its scratch is a plane's vertical maxima and their
     * positions, then the windows' positions of a plane, or of a whole image when the images
     * are shared out (pool_positions_of_image); the other's a row */
    const int book_window = pool_book_window(g);
    const fs_index scratch = book_window ? g->out_h * g->width : g->out_w;
#pragma omp parallel num_threads(fs_threads_for((double)work, FS_GRAIN_COPY))
    {
        const int by_image = pool_by_image(g, batch);
        const fs_index positions = by_image ? C * out_plane : book_window ? out_plane : 0;
        real *best = malloc((size_t)(scratch + 1) * sizeof(real));
        int32_t *best_k = malloc((size_t)(scratch + positions + 1) * sizeof(int32_t));
        int32_t *k = best_k ? best_k + scratch : NULL;
        if (!best || !best_k) {
#pragma omp atomic write
            failed = 1;
        }
        if (by_image) {
#pragma omp for schedule(static)
            for (fs_index n = 0; n < batch; ++n) {
                if (!best || !best_k) continue;
                for (fs_index c = 0; c < C; ++c)
                    FS_FN(pool_forward_plane_2x2)(x + (n * C + c) * plane, g,
                                                  out + (n * C + c) * out_plane, k + c * out_plane,
                                                  best, best_k);
                FS_FN(pool_positions_of_image)(k, C, out_plane, arg_max + n * out_plane * C);
            }
        } else {
#pragma omp for schedule(static)
            for (fs_index p = 0; p < batch * C; ++p) {
                const fs_index n = p / C, c = p % C;
                int64_t *positions_of_plane = arg_max + n * out_plane * C + c;
                if (!best || !best_k) continue;
                if (book_window) {
                    FS_FN(pool_forward_plane_2x2)(x + p * plane, g, out + p * out_plane, k, best,
                                                  best_k);
                    for (fs_index i = 0; i < out_plane; ++i) positions_of_plane[i * C] = k[i];
                } else {
                    FS_FN(pool_forward_plane)(x + p * plane, g, C, out + p * out_plane,
                                              positions_of_plane, best, best_k);
                }
            }
        }
        free(best);
        free(best_k);
    }
    return failed ? -1 : 0;
}

FS_HOT static fs_index FS_FN(pool_backward_plane)(const real *dout, const int64_t *arg_max,
                                                  const fs_patch_geometry *g, fs_index arg_stride,
                                                  real *dx)
{
    const fs_index W = g->width, pw = g->kernel_w, window = g->kernel_h * pw;
    fs_index bad = -1;
    for (fs_index i = 0; i < g->height * W; ++i) dx[i] = 0;
    for (fs_index oy = 0; oy < g->out_h; ++oy) {
        for (fs_index ox = 0; ox < g->out_w; ++ox) {
            const fs_index o = oy * g->out_w + ox;
            const int64_t k = arg_max[o * arg_stride];
            if (k < 0 || k >= window) {
                bad = o * arg_stride;
                continue;
            }
            const fs_index iy = oy * g->stride - g->pad + k / pw;
            const fs_index ix = ox * g->stride - g->pad + k % pw;
            if (iy >= 0 && iy < g->height && ix >= 0 && ix < W) dx[iy * W + ix] += dout[o];
        }
    }
    return bad;
}

/* v + 0 where `keep`, else +0, by a bit mask: a select the compiler kept as branches (one per
 * window position, mispredicted on random maxima: 2.4 ms against 0.9 for the memset and
 * scattered adds on (100,16,28,28)); v * keep would turn a NaN dout into NaN at every position.
 * The + 0: the book's col2im adds dout into zeros, so a -0.0 comes out +0. */
static inline real FS_FN(kept_if)(real v, int keep)
{ return FS_FN(either)((real)0, v, keep) + (real)0; }

/* The window positions of a plane (out_plane of them, arg_stride apart in arg_max) into k as
 * int32; one outside [0, 4) becomes -1 (its window gets zeros) and its index in arg_max is
 * returned (-1: none). */
static inline FS_ALWAYS_INLINE
    fs_index FS_FN(pool_gather_positions)(const int64_t *restrict arg_max, fs_index out_plane,
                                          fs_index arg_stride, int32_t *restrict k)
{
    fs_index bad = -1;
    int out_of_range = 0;
    for (fs_index o = 0; o < out_plane; ++o) {
        const int64_t at = arg_max[o * arg_stride];
        out_of_range |= (at < 0) | (at > 3);
        k[o] = (int32_t)at;
    }
    if (out_of_range)
        for (fs_index o = 0; o < out_plane; ++o)
            if (arg_max[o * arg_stride] < 0 || arg_max[o * arg_stride] > 3) {
                bad = o * arg_stride;
                k[o] = -1;
            }
    return bad;
}

/* The book's window (2x2, stride 2, no padding) on a plane of even width: the windows tile the
 * plane without overlap, so each dx entry is its window's dout or 0, written once, with no
 * zeroing pass first and no read-modify-write (pool_backward_plane's memset and scattered adds).
 * In long passes over the whole plane, as the forward's pool_forward_plane_2x2 (rows of 4-14
 * windows are too short for vector loops): the upper and the lower pair of every window into
 * `pairs` (2 x out_plane x 2), from the windows' positions k (-1: none, zeros), then each pair
 * row copied to its dx row. The rows below the last window (odd height) are zeros. Scratch:
 * `pairs` of 4 * out_plane entries. */
static inline FS_ALWAYS_INLINE void FS_FN(pool_backward_pairs_2x2)(const real *restrict dout,
                                                                   const int32_t *restrict k,
                                                                   const fs_patch_geometry *g,
                                                                   real *restrict dx,
                                                                   real *restrict pairs)
{
    const fs_index W = g->width, out_plane = g->out_h * g->out_w;
    real *restrict upper = pairs, *restrict lower = pairs + 2 * out_plane;
#pragma omp simd
    for (fs_index o = 0; o < out_plane; ++o) {
        const real v = dout[o];
        upper[2 * o] = FS_FN(kept_if)(v, k[o] == 0),
                  upper[2 * o + 1] = FS_FN(kept_if)(v, k[o] == 1);
        lower[2 * o] = FS_FN(kept_if)(v, k[o] == 2),
                  lower[2 * o + 1] = FS_FN(kept_if)(v, k[o] == 3);
    }
    for (fs_index oy = 0; oy < g->out_h; ++oy) {
        memcpy(dx + 2 * oy * W, upper + oy * W, (size_t)W * sizeof(real));
        memcpy(dx + (2 * oy + 1) * W, lower + oy * W, (size_t)W * sizeof(real));
    }
    for (fs_index i = 2 * g->out_h * W; i < g->height * W; ++i) dx[i] = 0;
}

/* One plane: its positions gathered from the strided arg_max (every arg_stride-th entry) into
 * k (out_plane entries of scratch), then pool_backward_pairs_2x2. */
FS_HOT static fs_index FS_FN(pool_backward_plane_2x2)(const real *restrict dout,
                                                      const int64_t *restrict arg_max,
                                                      const fs_patch_geometry *g,
                                                      fs_index arg_stride, real *restrict dx,
                                                      real *restrict pairs, int32_t *restrict k)
{
    const fs_index bad = FS_FN(pool_gather_positions)(arg_max, g->out_h * g->out_w, arg_stride, k);
    FS_FN(pool_backward_pairs_2x2)(dout, k, g, dx, pairs);
    return bad;
}

/* A whole image, its C planes: their positions read from the image's rows of arg_max
 * (out_plane x C) 8 rows at a time into k (C x out_plane, scratch), then each plane by
 * pool_backward_pairs_2x2. Gathered a plane at a time, every C-th entry, float64 at batch 100
 * took 1.4-1.7 ms against 0.85-0.9 (docs/performance.md). */
FS_HOT static fs_index FS_FN(pool_backward_image_2x2)(const real *restrict dout,
                                                      const int64_t *restrict arg_max,
                                                      const fs_patch_geometry *g, real *restrict dx,
                                                      real *restrict pairs, int32_t *restrict k)
{
    const fs_index C = g->channels, out_plane = g->out_h * g->out_w, plane = g->height * g->width;
    int out_of_range = 0;
    /* a plane's 8 positions of a block are one 32-byte store; the block's 8 rows stay in L1 */
    fs_index i0 = 0;
    for (; i0 + 8 <= out_plane; i0 += 8)
        for (fs_index c = 0; c < C; ++c)
            for (fs_index i = i0; i < i0 + 8; ++i) {
                const int64_t at = arg_max[i * C + c];
                out_of_range |= (at < 0) | (at > 3);
                k[c * out_plane + i] = (int32_t)at;
            }
    for (fs_index i = i0; i < out_plane; ++i)
        for (fs_index c = 0; c < C; ++c) {
            const int64_t at = arg_max[i * C + c];
            out_of_range |= (at < 0) | (at > 3);
            k[c * out_plane + i] = (int32_t)at;
        }
    fs_index bad = -1;
    if (out_of_range)
        for (fs_index c = 0; c < C; ++c) {
            const fs_index bad_here =
                FS_FN(pool_gather_positions)(arg_max + c, out_plane, C, k + c * out_plane);
            if (bad_here >= 0) bad = c + bad_here;
        }
    for (fs_index c = 0; c < C; ++c)
        FS_FN(pool_backward_pairs_2x2)(dout + c * out_plane, k + c * out_plane, g, dx + c * plane,
                                       pairs);
    return bad;
}

fs_index FS_FN(fs_pool_backward)(const real *dout, const int64_t *arg_max, fs_index batch,
                                 const fs_patch_geometry *g, real *dx)
{
    const int book_window = pool_book_window(g);
    const fs_index C = g->channels, plane = g->height * g->width, out_plane = g->out_h * g->out_w;
    fs_index bad = -1;
    int failed = 0;
#pragma omp parallel num_threads(fs_threads_for((double)(batch * C * out_plane), FS_GRAIN_COPY))
    {
        const int by_image = pool_by_image(g, batch); /* pool_backward_image_2x2 */
        /* the 2x2 kernels' scratch: a plane's pairs, the positions of a plane or an image */
        const fs_index positions = by_image ? C * out_plane : out_plane;
        real *pairs = book_window ? malloc((size_t)(4 * out_plane + 1) * sizeof(real)) : NULL;
        int32_t *k = book_window ? malloc((size_t)(positions + 1) * sizeof(int32_t)) : NULL;
        if (book_window && (!pairs || !k)) {
#pragma omp atomic write
            failed = 1;
        }
        if (by_image) {
#pragma omp for schedule(static)
            for (fs_index n = 0; n < batch; ++n) {
                if (!pairs || !k) continue;
                const fs_index offset = n * out_plane * C;
                const fs_index bad_here = FS_FN(pool_backward_image_2x2)(
                    dout + n * C * out_plane, arg_max + offset, g, dx + n * C * plane, pairs, k);
                if (bad_here >= 0) {
#pragma omp atomic write
                    bad = offset + bad_here;
                }
            }
        } else {
#pragma omp for schedule(static)
            for (fs_index p = 0; p < batch * C; ++p) {
                const fs_index n = p / C, c = p % C;
                const fs_index offset = n * out_plane * C + c;
                if (book_window && (!pairs || !k)) continue;
                const fs_index bad_here =
                    book_window
                        ? FS_FN(pool_backward_plane_2x2)(dout + p * out_plane, arg_max + offset, g,
                                                         C, dx + p * plane, pairs, k)
                        : FS_FN(pool_backward_plane)(dout + p * out_plane, arg_max + offset, g, C,
                                                     dx + p * plane);
                if (bad_here >= 0) {
#pragma omp atomic write
                    bad = offset + bad_here;
                }
            }
        }
        free(pairs);
        free(k);
    }
    return failed ? -2 : bad;
}
