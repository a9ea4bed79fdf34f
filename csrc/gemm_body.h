/* The split GEMM for one element type; included twice by gemm.c through fs_instantiate.h. */

void FS_FN(fs_gemm)(enum CBLAS_TRANSPOSE trans_a, enum CBLAS_TRANSPOSE trans_b, fs_index m,
                    fs_index n, fs_index k, real alpha, const real *a, fs_index lda, const real *b,
                    fs_index ldb, real beta, real *c, fs_index ldc)
{
    const int parts =
        m >= 2 * FS_GEMM_MIN_ROWS
            ? fs_parts_for(2.0 * (double)m * (double)n * (double)k, FS_GRAIN_GEMM_FLOPS)
            : 1;
    fs_blas_single_threaded();
    if (parts == 1) {
        FS_GEMM(CblasRowMajor, trans_a, trans_b, (int)m, (int)n, (int)k, alpha, a, (int)lda, b,
                (int)ldb, beta, c, (int)ldc);
        return;
    }
    /* The parts depend only on the sizes and the configured threads; the load decides only how
     * many threads run them (on a busy machine one thread runs them one after the other). A
     * block of rows is not always the same sums as the whole product (a 64-row half of a
     * 128x100x100 product comes out in other last bits, in both precisions: OpenBLAS takes
     * another path for smaller products; halves of 128x784x100 agree), so running one product
     * instead of the parts would make the bits depend on the load (tests/test_thread_policy.py). */
    const int team = fs_team_for(parts);
#pragma omp parallel for schedule(static) num_threads(team)
    for (int p = 0; p < parts; ++p) {
        const fs_index r0 = m * p / parts, r1 = m * (p + 1) / parts;
        /* Rows r0.. of op(A): rows of A, or columns of A when it is transposed. */
        const real *a_rows = trans_a == CblasNoTrans ? a + r0 * lda : a + r0;
        FS_GEMM(CblasRowMajor, trans_a, trans_b, (int)(r1 - r0), (int)n, (int)k, alpha, a_rows,
                (int)lda, b, (int)ldb, beta, c + r0 * ldc, (int)ldc);
    }
}
