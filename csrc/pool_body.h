/* Max pooling for one element type; included twice by pool.c through fs_instantiate.h. */

/* The window rows [lo, hi) of output row o that fall on real pixels of an axis of `size`. */
static inline void FS_FN(pool_window)(fs_index o, fs_index size, fs_index window, fs_index stride,
                                      fs_index pad, fs_index *lo, fs_index *hi)
{
    const fs_index start = o * stride - pad;
    *lo = start < 0 ? -start : 0;
    *hi = start + window > size ? size - start : window;
}

FS_HOT static void FS_FN(pool_forward_plane)(const real *plane, const fs_patch_geometry *g,
                                             fs_index out_stride, real *out, int64_t *arg_max)
{
    const fs_index W = g->width, ph = g->kernel_h, pw = g->kernel_w;
    for (fs_index oy = 0; oy < g->out_h; ++oy) {
        fs_index ky_lo, ky_hi;
        FS_FN(pool_window)(oy, g->height, ph, g->stride, g->pad, &ky_lo, &ky_hi);
        const fs_index iy0 = oy * g->stride - g->pad;
        for (fs_index ox = 0; ox < g->out_w; ++ox) {
            fs_index kx_lo, kx_hi;
            FS_FN(pool_window)(ox, W, pw, g->stride, g->pad, &kx_lo, &kx_hi);
            const fs_index ix0 = ox * g->stride - g->pad;
            /* Window order (ky, kx); strict > keeps the first maximum, and the first NaN stays. */
            real best = plane[(iy0 + ky_lo) * W + ix0 + kx_lo];
            int64_t best_k = ky_lo * pw + kx_lo;
            for (fs_index ky = ky_lo; ky < ky_hi; ++ky) {
                const real *row = plane + (iy0 + ky) * W + ix0;
                for (fs_index kx = kx_lo; kx < kx_hi; ++kx) {
                    const real v = row[kx];
                    if (v > best || (v != v && best == best)) {
                        best = v;
                        best_k = ky * pw + kx;
                    }
                }
            }
            out[oy * g->out_w + ox] = best;
            arg_max[(oy * g->out_w + ox) * out_stride] = best_k;
        }
    }
}

void FS_FN(fs_pool_forward)(const real *x, fs_index batch, const fs_patch_geometry *g, real *out,
                            int64_t *arg_max)
{
    const fs_index C = g->channels, plane = g->height * g->width, out_plane = g->out_h * g->out_w;
    const fs_index work = batch * C * out_plane * g->kernel_h * g->kernel_w;
    #pragma omp parallel for schedule(static) if (work > FS_PARALLEL_THRESHOLD)
    for (fs_index p = 0; p < batch * C; ++p) {
        const fs_index n = p / C, c = p % C;
        FS_FN(pool_forward_plane)(x + p * plane, g, C, out + p * out_plane,
                                  arg_max + n * out_plane * C + c);
    }
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

fs_index FS_FN(fs_pool_backward)(const real *dout, const int64_t *arg_max, fs_index batch,
                                 const fs_patch_geometry *g, real *dx)
{
    const fs_index C = g->channels, plane = g->height * g->width, out_plane = g->out_h * g->out_w;
    fs_index bad = -1;
    #pragma omp parallel for schedule(static) if (batch * C * out_plane > FS_PARALLEL_THRESHOLD)
    for (fs_index p = 0; p < batch * C; ++p) {
        const fs_index n = p / C, c = p % C;
        const fs_index offset = n * out_plane * C + c;
        const fs_index bad_here = FS_FN(pool_backward_plane)(dout + p * out_plane,
                                                             arg_max + offset, g, C,
                                                             dx + p * plane);
        if (bad_here >= 0) {
            #pragma omp atomic write
            bad = offset + bad_here;
        }
    }
    return bad;
}
