/* Affine kernels for float and double (bodies in affine_body.h). */
#include "affine.h"
#include <stdlib.h>
#include "gemm.h"
#include "thread_policy.h"

#define FS_BODY "affine_body.h"
#include "fs_instantiate.h"

/* Rows per widened block: about 1 MB of float64 (167 rows of MNIST's 784), from 8 to 512 rows.
 * Each block's GEMM packs all of W again, so blocks much smaller than that lose more to the
 * packing than they save (docs/performance.md, "float32 input against float64 weights"). */
static fs_index widened_block_rows(fs_index d)
{
    fs_index rows = ((fs_index)1 << 17) / d;
    return rows < 8 ? 8 : rows > 512 ? 512 : rows;
}

/* Rows [r0, r0 + rows) of x widened into `wide` (rows x d). */
static void widen_rows(const float *x, fs_index ldx, fs_index r0, fs_index rows, fs_index d,
                       double *wide)
{
    for (fs_index i = 0; i < rows; ++i) {
        const float *src = x + (r0 + i) * ldx;
        double *dst = wide + i * d;
        for (fs_index j = 0; j < d; ++j) dst[j] = (double)src[j];
    }
}

int fs_affine_forward_widened(const float *x, fs_index ldx, const double *w, fs_matrix_layout lw,
                              const double *b, fs_index n, fs_index d, fs_index m, double *out,
                              uint8_t *relu_mask)
{
    /* The float64 forward's blocks: the bias before each product, the ReLU after them. */
    const struct affine_blocks_f64 context = {b, out, relu_mask, m};
    const enum CBLAS_TRANSPOSE trans_w = lw.trans ? CblasTrans : CblasNoTrans;
    const fs_index block = widened_block_rows(d);
    const fs_index blocks = (n + block - 1) / block;
    if (blocks < 2) {
        /* One block: x widened whole and one product, split over the threads as any other
         * (the same bits as a float64 copy of x through fs_affine_forward_f64). */
        double *wide = malloc((size_t)n * (size_t)d * sizeof(double));
        if (!wide) return -2;
        widen_rows(x, ldx, 0, n, d, wide);
        const fs_gemm_blocks blocks = {fill_bias_f64, relu_mask ? relu_in_place_f64 : NULL,
                                       &context};
        fs_gemm_blockwise_f64(CblasNoTrans, trans_w, n, m, d, 1.0, wide, d, w, lw.ld, 1.0, out, m,
                              &blocks);
        free(wide);
        return 0;
    }
    const int team = fs_threads_for(2.0 * (double)n * (double)d * (double)m, FS_GRAIN_GEMM_FLOPS);
    int failed = 0;
    fs_blas_single_threaded();
#pragma omp parallel num_threads(team < blocks ? team : (int)blocks) reduction(| : failed)
    {
        double *wide = malloc((size_t)block * (size_t)d * sizeof(double));
        if (!wide) failed = 1;
#pragma omp for schedule(static)
        for (fs_index k = 0; k < blocks; ++k) {
            if (!wide) continue;
            const fs_index r0 = k * block, rows = n - r0 < block ? n - r0 : block;
            widen_rows(x, ldx, r0, rows, d, wide);
            fill_bias_f64(&context, r0, r0 + rows, 0, m);
            /* Inside the region the product stays on this thread (thread_policy.h). */
            fs_gemm_f64(CblasNoTrans, trans_w, rows, m, d, 1.0, wide, d, w, lw.ld, 1.0,
                        out + r0 * m, m);
            if (relu_mask) relu_in_place_f64(&context, r0, r0 + rows, 0, m);
        }
        free(wide);
    }
    return failed ? -2 : 0;
}
