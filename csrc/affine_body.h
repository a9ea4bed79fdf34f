/* Affine for one element type; included twice by affine.c through fs_instantiate.h.
 * Every product is one GEMM whose transposition flags absorb the layouts: no transposed copies. */

static inline enum CBLAS_TRANSPOSE FS_FN(blas_trans)(int trans, int transpose_again)
{ return (trans ^ transpose_again) ? CblasTrans : CblasNoTrans; }

void FS_FN(fs_affine_forward)(const real *x, fs_matrix_layout lx, const real *w,
                              fs_matrix_layout lw, const real *b, fs_index n, fs_index d,
                              fs_index m, real *out)
{
    /* The bias goes in first, then GEMM adds x W on top (beta = 1): no second pass over out. */
    for (fs_index i = 0; i < n; ++i)
        for (fs_index j = 0; j < m; ++j) out[i * m + j] = b[j];
    FS_FN(fs_gemm)(FS_FN(blas_trans)(lx.trans, 0), FS_FN(blas_trans)(lw.trans, 0), n, m, d, 1, x,
                   lx.ld, w, lw.ld, 1, out, m);
}

void FS_FN(fs_affine_backward)(const real *dout, fs_matrix_layout ldout, const real *x,
                               fs_matrix_layout lx, const real *w, fs_matrix_layout lw, fs_index n,
                               fs_index d, fs_index m, real *dx, real *dw, real *db)
{
    /* dx (N, D) = dout W^T; dx NULL: not wanted (a net's first layer) */
    if (dx)
        FS_FN(fs_gemm)(FS_FN(blas_trans)(ldout.trans, 0), FS_FN(blas_trans)(lw.trans, 1), n, d, m,
                       1, dout, ldout.ld, w, lw.ld, 0, dx, d);
    /* dW (D, M) = x^T dout */
    FS_FN(fs_gemm)(FS_FN(blas_trans)(lx.trans, 1), FS_FN(blas_trans)(ldout.trans, 0), d, m, n, 1, x,
                   lx.ld, dout, ldout.ld, 0, dw, m);
    /* db = column sums of dout, walking memory in its own order */
    if (!ldout.trans) {
        for (fs_index j = 0; j < m; ++j) db[j] = 0;
        for (fs_index i = 0; i < n; ++i) {
            const real *row = dout + i * ldout.ld;
            for (fs_index j = 0; j < m; ++j) db[j] += row[j];
        }
    } else {
        for (fs_index j = 0; j < m; ++j) {
            const real *column = dout + j * ldout.ld;
            real sum = 0;
            for (fs_index i = 0; i < n; ++i) sum += column[i];
            db[j] = sum;
        }
    }
}
