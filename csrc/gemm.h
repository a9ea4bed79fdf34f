/* Every matrix product of the native core: row-major C = alpha op(A) op(B) + beta C through
 * OpenBLAS, run on the thread policy's team (thread_policy.h).
 *
 * One pool: OpenBLAS itself always runs on one thread, and a product big enough to share is
 * split here into blocks of C's rows that OpenMP threads multiply side by side. So OpenBLAS's
 * own worker threads never start: no second pool whose spinning or sleeping workers compete
 * with OpenMP's for the same cores, and one place (the policy) decides every thread.
 * A block of rows of C needs the same rows of op(A) and all of op(B); each element of C is the
 * same dot product in the same order whatever the split (checked by the tests), and the split
 * depends only on the sizes and the configured thread count, never on the load.
 * Inside a parallel region (a conv's images) the product runs on the calling thread. */
#ifndef FS_GEMM_H
#define FS_GEMM_H
#include <cblas.h>
#include "fs_common.h"

/* Work on each block of C done by the thread that computes the block, right before and right
 * after its product, while the block is in that thread's cache: rows [r0, r1), columns [c0, c1)
 * of C. `before` may fill the block (a bias for beta = 1 to add onto), `after` finish it (a
 * ReLU). Either may be NULL. Blocks are the split's parts, or all of C when it is not split. */
typedef struct {
    void (*before)(const void *context, fs_index r0, fs_index r1, fs_index c0, fs_index c1);
    void (*after)(const void *context, fs_index r0, fs_index r1, fs_index c0, fs_index c1);
    const void *context;
} fs_gemm_blocks;

void fs_gemm_f32(enum CBLAS_TRANSPOSE trans_a, enum CBLAS_TRANSPOSE trans_b, fs_index m, fs_index n,
                 fs_index k, float alpha, const float *a, fs_index lda, const float *b,
                 fs_index ldb, float beta, float *c, fs_index ldc);
void fs_gemm_f64(enum CBLAS_TRANSPOSE trans_a, enum CBLAS_TRANSPOSE trans_b, fs_index m, fs_index n,
                 fs_index k, double alpha, const double *a, fs_index lda, const double *b,
                 fs_index ldb, double beta, double *c, fs_index ldc);
/* The same products, with `blocks` (NULL: none) run on each block of C. */
void fs_gemm_blockwise_f32(enum CBLAS_TRANSPOSE trans_a, enum CBLAS_TRANSPOSE trans_b, fs_index m,
                           fs_index n, fs_index k, float alpha, const float *a, fs_index lda,
                           const float *b, fs_index ldb, float beta, float *c, fs_index ldc,
                           const fs_gemm_blocks *blocks);
void fs_gemm_blockwise_f64(enum CBLAS_TRANSPOSE trans_a, enum CBLAS_TRANSPOSE trans_b, fs_index m,
                           fs_index n, fs_index k, double alpha, const double *a, fs_index lda,
                           const double *b, fs_index ldb, double beta, double *c, fs_index ldc,
                           const fs_gemm_blocks *blocks);

/* Pin OpenBLAS to one thread (its pool stays unused); called once when the library loads, and
 * again by every product whose caller finds someone changed it (threadpoolctl can). */
void fs_blas_single_threaded(void);

#endif
