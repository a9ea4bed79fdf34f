/* The split GEMM for one element type; included twice by gemm.c through fs_instantiate.h. */

/* One BLAS call for a product that is not split: C = alpha op(A) op(B) + beta C. A product of
 * one row goes to the BLAS's matrix-vector product, faster than its GEMM on one row (OpenBLAS,
 * one thread, (1 x 4320) x (4320 x 100): float32 26 us against 38, float64 64 against 67;
 * docs/performance.md, "Batch one on two threads"). Split products stay GEMMs: two GEMVs on
 * halves of the columns ran slower than one. */
static void FS_FN(gemm_whole)(enum CBLAS_TRANSPOSE trans_a, enum CBLAS_TRANSPOSE trans_b,
                              fs_index m, fs_index n, fs_index k, real alpha, const real *a,
                              fs_index lda, const real *b, fs_index ldb, real beta, real *c,
                              fs_index ldc, const fs_gemm_blocks *blocks)
{
    if (blocks && blocks->before) blocks->before(blocks->context, 0, m, 0, n);
    if (m == 1) {
        /* The row of op(A): A's first row, or A's first column when it is transposed. */
        const int inc_a = trans_a == CblasNoTrans ? 1 : (int)lda;
        if (trans_b == CblasNoTrans) /* c = B^T a, B (k x n) */
            FS_GEMV(CblasRowMajor, CblasTrans, (int)k, (int)n, alpha, b, (int)ldb, a, inc_a, beta,
                    c, 1);
        else /* c = B a, B (n x k) */
            FS_GEMV(CblasRowMajor, CblasNoTrans, (int)n, (int)k, alpha, b, (int)ldb, a, inc_a, beta,
                    c, 1);
    } else {
        FS_GEMM(CblasRowMajor, trans_a, trans_b, (int)m, (int)n, (int)k, alpha, a, (int)lda, b,
                (int)ldb, beta, c, (int)ldc);
    }
    if (blocks && blocks->after) blocks->after(blocks->context, 0, m, 0, n);
}

/* A product of few rows (a batch of one image: a matrix-vector product in all but name) does
 * few operations per element of op(B), which it reads once: its time is reading op(B) (the 3.5 MB
 * float64 weight of SimpleConvNet's first affine layer: 70 us), not its multiply-adds, so it is
 * split by op(B)'s size and cut along C's columns, each thread reading its own columns of op(B).
 * As for rows, the parts depend only on the sizes and the configured threads. */
static void FS_FN(gemm_by_columns)(enum CBLAS_TRANSPOSE trans_a, enum CBLAS_TRANSPOSE trans_b,
                                   fs_index m, fs_index n, fs_index k, real alpha, const real *a,
                                   fs_index lda, const real *b, fs_index ldb, real beta, real *c,
                                   fs_index ldc, const fs_gemm_blocks *blocks)
{
    int parts = fs_parts_for((double)n * (double)k, FS_GRAIN_STREAM);
    if (parts > n / FS_GEMM_MIN_COLS) parts = (int)(n / FS_GEMM_MIN_COLS);
    if (parts <= 1) {
        FS_FN(gemm_whole)(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, blocks);
        return;
    }
    const int team = fs_team_for(parts, (double)n * (double)k / FS_GRAIN_STREAM);
#pragma omp parallel for schedule(static) num_threads(team)
    for (int p = 0; p < parts; ++p) {
        /* Columns c0.. of C, a multiple of 8 apart (whole vectors) but for the last part. */
        const fs_index c0 = n * p / parts / 8 * 8,
                       c1 = p + 1 == parts ? n : n * (p + 1) / parts / 8 * 8;
        /* Columns c0.. of op(B): columns of B, or rows of B when it is transposed. */
        const real *b_cols = trans_b == CblasNoTrans ? b + c0 : b + c0 * ldb;
        if (blocks && blocks->before) blocks->before(blocks->context, 0, m, c0, c1);
        FS_GEMM(CblasRowMajor, trans_a, trans_b, (int)m, (int)(c1 - c0), (int)k, alpha, a, (int)lda,
                b_cols, (int)ldb, beta, c + c0, (int)ldc);
        if (blocks && blocks->after) blocks->after(blocks->context, 0, m, c0, c1);
    }
}

void FS_FN(fs_gemm_blockwise)(enum CBLAS_TRANSPOSE trans_a, enum CBLAS_TRANSPOSE trans_b,
                              fs_index m, fs_index n, fs_index k, real alpha, const real *a,
                              fs_index lda, const real *b, fs_index ldb, real beta, real *c,
                              fs_index ldc, const fs_gemm_blocks *blocks)
{
    const int parts =
        m >= 2 * FS_GEMM_MIN_ROWS
            ? fs_parts_for(2.0 * (double)m * (double)n * (double)k, FS_GRAIN_GEMM_FLOPS)
            : 1;
    fs_blas_single_threaded();
    if (m < 2 * FS_GEMM_MIN_ROWS && n >= 2 * FS_GEMM_MIN_COLS) {
        FS_FN(gemm_by_columns)(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc,
                               blocks);
        return;
    }
    if (parts == 1) {
        FS_FN(gemm_whole)(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, blocks);
        return;
    }
    /* The parts depend only on the sizes and the configured threads; the load decides only how
     * many threads run them (on a busy machine one thread runs them one after the other). A
     * block of rows is not always the same sums as the whole product (a 64-row half of a
     * 128x100x100 product comes out in other last bits, in both precisions: OpenBLAS takes
     * another path for smaller products; halves of 128x784x100 agree), so running one product
     * instead of the parts would make the bits depend on the load (tests/test_thread_policy.py). */
    const int team =
        fs_team_for(parts, 2.0 * (double)m * (double)n * (double)k / FS_GRAIN_GEMM_FLOPS);
#pragma omp parallel for schedule(static) num_threads(team)
    for (int p = 0; p < parts; ++p) {
        const fs_index r0 = m * p / parts, r1 = m * (p + 1) / parts;
        /* Rows r0.. of op(A): rows of A, or columns of A when it is transposed. */
        const real *a_rows = trans_a == CblasNoTrans ? a + r0 * lda : a + r0;
        if (blocks && blocks->before) blocks->before(blocks->context, r0, r1, 0, n);
        FS_GEMM(CblasRowMajor, trans_a, trans_b, (int)(r1 - r0), (int)n, (int)k, alpha, a_rows,
                (int)lda, b, (int)ldb, beta, c + r0 * ldc, (int)ldc);
        if (blocks && blocks->after) blocks->after(blocks->context, r0, r1, 0, n);
    }
}

void FS_FN(fs_gemm)(enum CBLAS_TRANSPOSE trans_a, enum CBLAS_TRANSPOSE trans_b, fs_index m,
                    fs_index n, fs_index k, real alpha, const real *a, fs_index lda, const real *b,
                    fs_index ldb, real beta, real *c, fs_index ldc)
{ FS_FN(fs_gemm_blockwise)(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, NULL); }
