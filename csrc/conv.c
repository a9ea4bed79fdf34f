/* Convolution kernels for float and double (bodies in conv_body.h). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include "conv.h"
#include "activations.h"
#include "gemm.h"
#include "thread_policy.h"

/* What does not depend on the element type; the bodies (conv_body.h) use it. */

/* How many runs of consecutive images the batch is cut into ("parts", thread_policy.h): each
 * part has its own partial dW and db, summed in part order at the end, so the result depends on
 * the configured threads but never on how many run now. 1 means one image at a time, each
 * product split over the threads instead (the "BLAS parallel" way: few images, big products). */
/* A convolution's multiply-adds, twice: the work its thread decisions go by. */
static double conv_flops(fs_index batch, const fs_patch_geometry *g, fs_index filters)
{
    return 2.0 * (double)(batch * filters) * (double)(g->channels * g->kernel_h * g->kernel_w) *
           (double)(g->out_h * g->out_w);
}

/* Threads for `parts` parts of a convolution (fs_team_for, which asks its work in grains). */
static int conv_team(int parts, fs_index batch, const fs_patch_geometry *g, fs_index filters)
{ return fs_team_for(parts, conv_flops(batch, g, filters) / FS_GRAIN_GEMM_FLOPS); }

static int conv_parts(fs_index batch, const fs_patch_geometry *g, fs_index filters, int strategy)
{
    const int max = fs_max_threads();
    if (strategy == FS_CONV_BLAS_PARALLEL || max < 2 || batch < 2) return 1;
    if (strategy == FS_CONV_AUTO) {
        if (batch < max) return 1;
        return fs_parts_for(conv_flops(batch, g, filters), FS_GRAIN_GEMM_FLOPS);
    }
    return batch < max ? (int)batch : max;
}

/* Stride 1 with enough channels takes the shifted-products path (conv_body.h describes it). */
/* Below 16 channels the per-tap products (K = C) run slower than one im2col product
 * (measured: docs/performance.md, "Shifted products"). */
#ifndef FS_CONV_SHIFT_MIN_CHANNELS
#define FS_CONV_SHIFT_MIN_CHANNELS 16
#endif
static int conv_shifted(const fs_patch_geometry *g)
{
    /* The padded plane is a leading dimension and OH*Wp a matrix size for the BLAS, whose
     * sizes are 32-bit: planes too big for that take the im2col path (checked by the binding). */
    const fs_index Wp = g->width + 2 * g->pad, plane = (g->height + 2 * g->pad) * Wp;
    return g->stride == 1 && g->channels >= FS_CONV_SHIFT_MIN_CHANNELS && plane <= INT_MAX &&
           g->out_h * Wp <= INT_MAX;
}

/* ---- Correlation, the forward and dW (conv_body.h describes both): stride 1, 5x5 filters,
 * fewer channels than the shifted path takes (FS_CONV_SHIFT_MIN_CHANNELS), outputs at least a
 * vector wide. Against im2col's dW at batch 100, one thread: 1.3-1.5x faster from 2 to 12 channels
 * in both dtypes, 1.3x for one channel in float64, level in float32; 3x3 filters (9 sums, 6 loads
 * for 9 multiply-adds) ran 0.8-0.94x of im2col's, so they keep it (docs/performance.md, "dW by
 * correlation"). The vector sums are FS_CORR_LANES lanes: a zmm of doubles, a ymm of
 * floats (Zen 4 runs both at the same lanes per cycle; 24 outputs a row are 3 of them). */
#define FS_CORR_LANES 8
#define FS_CORR_SIDE 5
static int conv_correlation(const fs_patch_geometry *g)
{
    return g->stride == 1 && g->kernel_h == FS_CORR_SIDE && g->kernel_w == FS_CORR_SIDE &&
           g->channels < FS_CONV_SHIFT_MIN_CHANNELS && g->out_w >= FS_CORR_LANES;
}

/* The forward by correlation (conv_body.h) takes the same shapes. It runs an image on one
 * thread, so not where im2col's product of one image would be split over the threads (one image
 * at a time, 2 grains or more of work each). */
static int corr_forward(fs_index batch, const fs_patch_geometry *g, fs_index filters, int strategy)
{
    return conv_correlation(g) &&
           (conv_parts(batch, g, filters, strategy) > 1 || fs_max_threads() < 2 ||
            conv_flops(1, g, filters) < 2 * FS_GRAIN_GEMM_FLOPS);
}

/* owr: out_w rounded up to whole vectors; xp (C, hp, xw): the image with
 * its padding and zero columns up to owr + 4; dp (oh, owr): one filter's dout rows with
 * zero columns up to owr. in_place: pad 0 and out_w whole vectors, so x and dout serve as xp
 * and dp as they are (no copies; the runs of a row stay inside it). */
typedef struct {
    fs_index C, H, W, pad, hp, xw, oh, ow, owr, xp_size, dp_size;
    int in_place;
} fs_corr_geometry;

static fs_corr_geometry corr_geometry_of(const fs_patch_geometry *g)
{
    fs_corr_geometry d;
    d.C = g->channels, d.H = g->height, d.W = g->width, d.pad = g->pad;
    d.oh = g->out_h, d.ow = g->out_w;
    d.owr = (d.ow + FS_CORR_LANES - 1) / FS_CORR_LANES * FS_CORR_LANES;
    d.in_place = d.pad == 0 && d.owr == d.ow;
    d.hp = d.H + 2 * d.pad, d.xw = d.in_place ? d.W : d.owr + FS_CORR_SIDE - 1;
    d.xp_size = d.in_place ? 0 : d.C * d.hp * d.xw, d.dp_size = d.in_place ? 0 : d.oh * d.owr;
    return d;
}

typedef struct {
    fs_index C, H, W, pad, Hp, Wp, plane, xp_size, oh, ow, n, kh, kw, taps;
} fs_shift_geometry;

static fs_shift_geometry shift_geometry_of(const fs_patch_geometry *g)
{
    fs_shift_geometry s;
    s.C = g->channels, s.H = g->height, s.W = g->width, s.pad = g->pad;
    s.Hp = s.H + 2 * s.pad, s.Wp = s.W + 2 * s.pad, s.plane = s.Hp * s.Wp;
    s.xp_size = s.C * s.plane + g->kernel_w;
    s.oh = g->out_h, s.ow = g->out_w, s.n = s.oh * s.Wp;
    s.kh = g->kernel_h, s.kw = g->kernel_w, s.taps = s.kh * s.kw;
    return s;
}

/* ---- Winograd F(2x2,3x3) and F(4x4,3x3) for 3x3 stride-1 convs (conv_body.h describes them). */
static int conv_winograd_mode = FS_CONV_WINOGRAD_AUTO;
static int conv_winograd_tile_size = 0; /* 0: the rule (wino_path), else 2 or 4 */

void fs_conv_set_winograd(int mode)
{ conv_winograd_mode = mode; }
int fs_conv_get_winograd(void)
{ return conv_winograd_mode; }
void fs_conv_set_winograd_tile(int m)
{ conv_winograd_tile_size = m == 2 || m == 4 ? m : 0; }
int fs_conv_get_winograd_tile(void)
{ return conv_winograd_tile_size; }

/* Tiles per block: the transformed input and products of a block, 16 * (C + FN) * tiles
 * entries, stay in L2 for DeepConvNet's widths (1 MB per core here). */
#ifndef FS_WINO_BLOCK_TILES
#define FS_WINO_BLOCK_TILES 256
#endif

/* Tiles per block of F(4x4,3x3): its transformed data has 36 entries a tile against 16, so
 * fewer tiles for about the same bytes (64, 128 and 256 measured within the noise of each
 * other on DeepConvNet's layers, batch 100, one thread). */
#ifndef FS_WINO4_BLOCK_TILES
#define FS_WINO4_BLOCK_TILES 128
#endif

/* Entries between consecutive matrices of the transformed data (conv_body.h, scratch). */
#define FS_WINO_SKEW 16

/* m: the output tile's side (F(m x m, 3x3)), a = m + 2 the input tile's, kk = a * a the
 * transformed entries per tile (the products of a block). */
typedef struct {
    fs_index C, H, W, pad, oh, ow, th, tw, rows, block, m, a, kk;
} fs_wino_geometry;

/* Tiles per block of dW's products (M[k] += D[k] x V[k]^T, K = the block's tiles): see
 * conv_body.h, "dW by Winograd". */
#ifndef FS_WINO_DW_BLOCK_TILES
#define FS_WINO_DW_BLOCK_TILES 256
#endif

/* The geometry of a Winograd call on `path` (FS_CONV_PATH_WINOGRAD or _WINOGRAD4): the tile's
 * side m, and blocks of at most `tiles` tiles for F(2x2,3x3) (FS_WINO_BLOCK_TILES or
 * FS_WINO_DW_BLOCK_TILES), FS_WINO4_BLOCK_TILES for F(4x4,3x3). */
static fs_wino_geometry wino_geometry_of(const fs_patch_geometry *g, int path, fs_index tiles)
{
    const fs_index m = path == FS_CONV_PATH_WINOGRAD4 ? 4 : 2;
    if (m == 4) tiles = FS_WINO4_BLOCK_TILES;
    fs_wino_geometry q;
    q.C = g->channels, q.H = g->height, q.W = g->width, q.pad = g->pad;
    q.oh = g->out_h, q.ow = g->out_w;
    q.m = m, q.a = m + 2, q.kk = q.a * q.a;
    q.th = (q.oh + m - 1) / m, q.tw = (q.ow + m - 1) / m;
    /* A block is whole rows of tiles (so the transforms run along a row): as many as fit. */
    q.rows = q.tw >= tiles ? 1 : tiles / q.tw;
    q.block = q.rows * q.tw;
    return q;
}

/* The fewest tiles a run of wino_row_runs may have (measured on DeepConvNet's layers at batch 1,
 * two threads, docs/performance.md "Batch one on two threads": 196 tiles in two runs 68 -> 46 us,
 * 49 in two 57 -> 50, 16 in two 81 -> 90-104). */
#ifndef FS_WINO_MIN_RUN_TILES
#define FS_WINO_MIN_RUN_TILES 20
#endif

/* Fewer images than threads (a batch of one: a prediction's latency), which conv_parts leaves
 * to one thread: into how many runs of tile rows each image's Winograd forward is cut instead,
 * one run per part. Only where no sum runs across tiles (the forward and dx, not dW). Like the
 * parts, the runs depend only on the sizes and the configured threads, never on the load. */
static fs_index wino_row_runs(fs_index batch, const fs_patch_geometry *g, fs_index filters,
                              fs_index m, int strategy)
{
    const int max = fs_max_threads();
    if (strategy == FS_CONV_BLAS_PARALLEL || max < 2 || batch >= max) return 1;
    const fs_index parts = fs_parts_for(conv_flops(batch, g, filters), FS_GRAIN_GEMM_FLOPS);
    /* A run's products have as many rows as it has tiles; each run packs all of the
     * transformed weights for them, so a run of fewer tiles costs more than it saves. */
    const fs_index tile_rows = (g->out_h + m - 1) / m;
    const fs_index tiles = tile_rows * ((g->out_w + m - 1) / m);
    const fs_index by_tiles = tiles / FS_WINO_MIN_RUN_TILES;
    const fs_index runs = (parts + batch - 1) / batch;
    const fs_index most = by_tiles < tile_rows ? by_tiles : tile_rows;
    return runs < most ? runs : most < 1 ? 1 : most;
}

/* Whether the geometry allows the Winograd path at all: 3x3, stride 1, sizes the BLAS takes. */
static int conv_winograd_fits(const fs_patch_geometry *g)
{
    return g->stride == 1 && g->kernel_h == 3 && g->kernel_w == 3 && g->channels > 0 &&
           g->out_h > 0 && g->out_w > 0 && (g->out_w + 1) / 2 <= INT_MAX / 16;
}

/* The rule (FS_CONV_WINOGRAD_AUTO), measured against the shifted products on DeepConvNet's six
 * 3x3 layers (docs/performance.md, "Winograd F(2x2,3x3)"): forward 1.16-1.5x faster (1 and 2
 * threads, float32; float64 1.2-1.7x) with 16-64 channels and 16-64 filters. Below 16 channels
 * the shifted path is not taken either, and nothing was measured. */
#ifndef FS_CONV_WINO_MIN_CHANNELS
#define FS_CONV_WINO_MIN_CHANNELS 16
#endif
#ifndef FS_CONV_WINO_MIN_FILTERS
#define FS_CONV_WINO_MIN_FILTERS 16
#endif
static int conv_winograd(const fs_patch_geometry *g, fs_index filters)
{
    if (conv_winograd_mode == FS_CONV_WINOGRAD_OFF || !conv_winograd_fits(g)) return 0;
    return conv_winograd_mode == FS_CONV_WINOGRAD_ALWAYS ||
           (g->channels >= FS_CONV_WINO_MIN_CHANNELS && filters >= FS_CONV_WINO_MIN_FILTERS);
}

/* The output tile of a Winograd forward, dx or dW (each by its own geometry: dx's is the
 * input's size, dW's the forward's). F(4x4,3x3) makes 36
 * products per 4x4 tile where F(2x2,3x3) makes 16 per 2x2 tile: 36 / 64 of the multiplications
 * where both tile the output exactly (28x28; 7x7, which both pad to 8x8), more where F(4x4,3x3)
 * pads it further (14x14 to 16x16: 0.73). Its transforms cost more per tile, and its transformed
 * weights (36 x C x outs, against 16) are made on every call, which only enough saved products
 * pay back. Measured on DeepConvNet's 3x3 layers (docs/performance.md, "Winograd F(4x4,3x3) for
 * float32"), one thread, float32 forward: 28x28 and 7x7 1.1-1.8x faster at batch 100, 14x14
 * 0.85-1.17x (32 -> 64 filters lost); at batch 1 7x7 0.65-0.77x, 28x28 1.12x; 7x7 ahead from 4
 * images. So F(4x4,3x3) where it makes at most FS_WINO4_MAX_WORK of F(2x2,3x3)'s
 * multiplications and saves at least FS_WINO4_MIN_SAVED of them per channel and filter in the
 * call (28x28 from one image, 1372 saved an image; 7x7 and 8x8 from four, 112).
 * Float32 only. F(2x2,3x3) gives an exact 0 wherever the 3x3 input field of an output is all
 * zeros (its transforms' rows for such an output read only that field), as the direct sum does;
 * F(4x4,3x3) mixes the tile's other inputs in and leaves rounding there (1e-17 in float64). With
 * zero biases, as the book initialises them, MNIST's blank background then lands on either side
 * of ReLU's kink: the first Adam step of the book's DeepConvNet moved its loss by 3e-4 (relative,
 * ch08/train_deepnet.py), where F(2x2,3x3) matches the book to the last digits. Float64 is what
 * the book computes in and is compared against digit by digit; float32 differs from it anyway. */
#ifndef FS_WINO4_MAX_WORK
#define FS_WINO4_MAX_WORK 0.65
#endif
#ifndef FS_WINO4_MIN_SAVED
#define FS_WINO4_MIN_SAVED 400
#endif
/* dW by F(4x4,3x3) accumulates 36 matrices of C x outs per block (against 16) with a quarter of
 * the tiles each, and transforms them back once: at 7x7 it lost up to a batch of 16 (0.88x at
 * 16 images, 64 tiles), at 16x16 up to 4 images; it won from 32 and 8 (1.07-1.35x), and 1.3-1.6x
 * at batch 100. So it asks for more saved multiplications: 7x7 from 23 images, 16x16 from 6. */
#ifndef FS_WINO4_DW_MIN_SAVED
#define FS_WINO4_DW_MIN_SAVED 2500
#endif
static int wino_path(const fs_patch_geometry *g, fs_index batch, int float32, double min_saved)
{
    const double f2 = 16.0 * (double)((g->out_h + 1) / 2) * (double)((g->out_w + 1) / 2);
    const double f4 = 36.0 * (double)((g->out_h + 3) / 4) * (double)((g->out_w + 3) / 4);
    const int four = conv_winograd_tile_size ? conv_winograd_tile_size == 4
                                             : float32 && f4 <= FS_WINO4_MAX_WORK * f2 &&
                                                   (double)batch * (f2 - f4) >= min_saved;
    return four ? FS_CONV_PATH_WINOGRAD4 : FS_CONV_PATH_WINOGRAD;
}

/* dx as a Winograd conv of dout (geometry d: FN channels in, `outs` = C out, d->pad = 2 - the
 * forward's pad) replaces the shifted path's dx products when C >= FN, or when the forward is
 * padded (d->pad <= 1). Measured against the shifted dx with dW by Winograd either way
 * (docs/performance.md, "Winograd dx for C < FN"), C < FN, one thread, batch 100: forward pad
 * 1-2 float32 0.96-1.21x (DeepConvNet's 16->32 14x14 1.13x, 32->64 8x8 1.28x), float64
 * 1.07-1.40x; pad 0 (dout padded by 2 all round) float32 0.77-1.07x, float64 0.85-1.17x. Before
 * dW went by Winograd, the shifted products shared their padded dout between dW and dx and C < FN
 * layers lost 1-10% with Winograd dx. */
static int conv_winograd_dx(const fs_patch_geometry *d, fs_index outs)
{
    return conv_winograd(d, outs) &&
           (conv_winograd_mode == FS_CONV_WINOGRAD_ALWAYS || outs >= d->channels || d->pad <= 1);
}

/* dW by Winograd (conv_body.h) takes the forward's rule: measured against the shifted dW
 * products on DeepConvNet's five 3x3 layers (backward 1.08-1.59x faster, 1 and 2 threads, both
 * dtypes) and on batch 1-32 shapes of 16-256 channels (docs/performance.md, "dW by Winograd
 * F(2x2,3x3)"), it won wherever the forward's thresholds let Winograd in. Below 16 nothing was
 * measured. */
static int conv_winograd_dw(const fs_patch_geometry *g, fs_index filters)
{ return conv_winograd(g, filters); }

#define FS_BODY "conv_body.h"
#include "fs_instantiate.h"
