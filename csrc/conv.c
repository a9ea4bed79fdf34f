/* Convolution kernels for float and double (bodies in conv_body.h). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include "conv.h"
#include "gemm.h"
#include "thread_policy.h"

/* What does not depend on the element type; the bodies (conv_body.h) use it. */

/* How many runs of consecutive images the batch is cut into ("parts", thread_policy.h): each
 * part has its own partial dW and db, summed in part order at the end, so the result depends on
 * the configured threads but never on how many run now. 1 means one image at a time, each
 * product split over the threads instead (the "BLAS parallel" way: few images, big products). */
static int conv_parts(fs_index batch, const fs_patch_geometry *g, fs_index filters, int strategy)
{
    const int max = fs_max_threads();
    if (strategy == FS_CONV_BLAS_PARALLEL || max < 2 || batch < 2) return 1;
    if (strategy == FS_CONV_AUTO) {
        const double flops = 2.0 * (double)(batch * filters) *
                             (double)(g->channels * g->kernel_h * g->kernel_w) *
                             (double)(g->out_h * g->out_w);
        if (batch < max) return 1;
        return fs_parts_for(flops, FS_GRAIN_GEMM_FLOPS);
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

#define FS_BODY "conv_body.h"
#include "fs_instantiate.h"
