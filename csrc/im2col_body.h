/* im2col / col2im for one element type; included twice by im2col.c through fs_instantiate.h. */

FS_HOT void FS_FN(fs_im2col_cols)(const real *x, const fs_patch_geometry *g, real *col)
{
    const fs_index H = g->height, W = g->width, out_h = g->out_h, out_w = g->out_w;
    const fs_index stride = g->stride, pad = g->pad;
    for (fs_index c = 0; c < g->channels; ++c) {
        for (fs_index ky = 0; ky < g->kernel_h; ++ky) {
            fs_index oy_lo, oy_hi;
            fs_valid_outputs(H, ky, stride, pad, out_h, &oy_lo, &oy_hi);
            for (fs_index kx = 0; kx < g->kernel_w; ++kx) {
                fs_index ox_lo, ox_hi;
                fs_valid_outputs(W, kx, stride, pad, out_w, &ox_lo, &ox_hi);
                real *dst = col + ((c * g->kernel_h + ky) * g->kernel_w + kx) * out_h * out_w;
                for (fs_index oy = 0; oy < out_h; ++oy) {
                    real *drow = dst + oy * out_w;
                    if (oy < oy_lo || oy >= oy_hi) {
                        for (fs_index ox = 0; ox < out_w; ++ox) drow[ox] = 0;
                        continue;
                    }
                    const real *srow = x + (c * H + oy * stride - pad + ky) * W - pad + kx;
                    for (fs_index ox = 0; ox < ox_lo; ++ox) drow[ox] = 0;
                    if (stride == 1) /* a plain copy: vectorises (a strided gather did not) */
                        memcpy(drow + ox_lo, srow + ox_lo, (size_t)(ox_hi - ox_lo) * sizeof(real));
                    else
                        for (fs_index ox = ox_lo; ox < ox_hi; ++ox) drow[ox] = srow[ox * stride];
                    for (fs_index ox = ox_hi; ox < out_w; ++ox) drow[ox] = 0;
                }
            }
        }
    }
}

FS_HOT void FS_FN(fs_col2im_cols)(const real *col, const fs_patch_geometry *g, real *img)
{
    const fs_index H = g->height, W = g->width, out_h = g->out_h, out_w = g->out_w;
    const fs_index stride = g->stride, pad = g->pad;
    for (fs_index i = 0; i < g->channels * H * W; ++i) img[i] = 0;
    for (fs_index c = 0; c < g->channels; ++c) {
        for (fs_index ky = 0; ky < g->kernel_h; ++ky) {
            fs_index oy_lo, oy_hi;
            fs_valid_outputs(H, ky, stride, pad, out_h, &oy_lo, &oy_hi);
            for (fs_index kx = 0; kx < g->kernel_w; ++kx) {
                fs_index ox_lo, ox_hi;
                fs_valid_outputs(W, kx, stride, pad, out_w, &ox_lo, &ox_hi);
                const real *src = col + ((c * g->kernel_h + ky) * g->kernel_w + kx) * out_h * out_w;
                for (fs_index oy = oy_lo; oy < oy_hi; ++oy) {
                    const real *srow = src + oy * out_w;
                    real *drow = img + (c * H + oy * stride - pad + ky) * W - pad + kx;
                    if (stride == 1) { /* contiguous: vectorises */
                        real *restrict d = drow;
                        const real *restrict sr = srow;
                        for (fs_index ox = ox_lo; ox < ox_hi; ++ox) d[ox] += sr[ox];
                    } else {
                        for (fs_index ox = ox_lo; ox < ox_hi; ++ox) drow[ox * stride] += srow[ox];
                    }
                }
            }
        }
    }
}

/* The book's layout: one row per output position, so a row gathers C*FH*FW values. */
FS_HOT static void FS_FN(im2col_rows_line)(const real *x_image, const fs_patch_geometry *g,
                                           fs_index oy, real *row_start)
{
    const fs_index H = g->height, W = g->width, kh = g->kernel_h, kw = g->kernel_w;
    const fs_index patch = g->channels * kh * kw;
    for (fs_index ox = 0; ox < g->out_w; ++ox) {
        real *row = row_start + ox * patch;
        for (fs_index c = 0; c < g->channels; ++c) {
            for (fs_index ky = 0; ky < kh; ++ky) {
                const fs_index iy = oy * g->stride - g->pad + ky;
                real *dst = row + (c * kh + ky) * kw;
                const int row_inside = iy >= 0 && iy < H;
                for (fs_index kx = 0; kx < kw; ++kx) {
                    const fs_index ix = ox * g->stride - g->pad + kx;
                    dst[kx] =
                        (row_inside && ix >= 0 && ix < W) ? x_image[(c * H + iy) * W + ix] : 0;
                }
            }
        }
    }
}

void FS_FN(fs_im2col_rows)(const real *x, fs_index batch, const fs_patch_geometry *g, real *col)
{
    const fs_index image = g->channels * g->height * g->width;
    const fs_index patch = g->channels * g->kernel_h * g->kernel_w;
    const fs_index lines = batch * g->out_h;
#pragma omp parallel for schedule(static)                                                          \
    num_threads(fs_threads_for((double)(lines * g->out_w * patch), FS_GRAIN_COPY))
    for (fs_index line = 0; line < lines; ++line) {
        const fs_index n = line / g->out_h, oy = line % g->out_h;
        FS_FN(im2col_rows_line)(x + n * image, g, oy, col + line * g->out_w * patch);
    }
}

FS_HOT static void FS_FN(col2im_rows_plane)(const real *col, const fs_patch_geometry *g, fs_index n,
                                            fs_index c, real *plane)
{
    const fs_index H = g->height, W = g->width, kh = g->kernel_h, kw = g->kernel_w;
    const fs_index patch = g->channels * kh * kw;
    for (fs_index i = 0; i < H * W; ++i) plane[i] = 0;
    for (fs_index oy = 0; oy < g->out_h; ++oy) {
        for (fs_index ox = 0; ox < g->out_w; ++ox) {
            const real *src = col + ((n * g->out_h + oy) * g->out_w + ox) * patch + c * kh * kw;
            for (fs_index ky = 0; ky < kh; ++ky) {
                const fs_index iy = oy * g->stride - g->pad + ky;
                if (iy < 0 || iy >= H) continue;
                for (fs_index kx = 0; kx < kw; ++kx) {
                    const fs_index ix = ox * g->stride - g->pad + kx;
                    if (ix >= 0 && ix < W) plane[iy * W + ix] += src[ky * kw + kx];
                }
            }
        }
    }
}

void FS_FN(fs_col2im_rows)(const real *col, fs_index batch, const fs_patch_geometry *g, real *img)
{
    const fs_index planes = batch * g->channels, plane = g->height * g->width;
    const fs_index work = batch * g->out_h * g->out_w * g->channels * g->kernel_h * g->kernel_w;
#pragma omp parallel for schedule(static) num_threads(fs_threads_for((double)work, FS_GRAIN_COPY))
    for (fs_index p = 0; p < planes; ++p)
        FS_FN(col2im_rows_plane)(col, g, p / g->channels, p % g->channels, img + p * plane);
}
