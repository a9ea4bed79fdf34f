/* Affine for one element type; included twice by affine.c through fs_instantiate.h.
 * Every product is one GEMM whose transposition flags absorb the layouts: no transposed copies. */

static inline enum CBLAS_TRANSPOSE FS_FN(blas_trans)(int trans, int transpose_again)
{ return (trans ^ transpose_again) ? CblasTrans : CblasNoTrans; }

/* A forward's blocks of out (gemm.h's fs_gemm_blocks): each is filled with the bias before its
 * product adds x W onto it (beta = 1), and, when there is a mask, put through the ReLU right
 * after, by the thread that computed it: no pass over out on one thread before the product (the
 * other thread would read its half of a bias just written in another core's cache) and none
 * after it (a separate ReLU reads out back from memory: 6-12% of MultiLayerNet's batch-1000
 * prediction; docs/performance.md, "Affine and ReLU in one pass"). */
struct FS_FN(affine_blocks) {
    const real *b;
    real *out;
    uint8_t *mask; /* NULL: no ReLU */
    fs_index m;
};

static void FS_FN(fill_bias)(const void *context, fs_index r0, fs_index r1, fs_index c0,
                             fs_index c1)
{
    const struct FS_FN(affine_blocks) *blocks = context;
    for (fs_index i = r0; i < r1; ++i) {
        real *row = blocks->out + i * blocks->m;
        for (fs_index j = c0; j < c1; ++j) row[j] = blocks->b[j];
    }
}

/* fs_relu_forward's rule, in place: x <= 0 gives +0 and a set mask; NaN stays, its mask clear. */
FS_HOT static void FS_FN(relu_in_place)(const void *context, fs_index r0, fs_index r1, fs_index c0,
                                        fs_index c1)
{
    const struct FS_FN(affine_blocks) *blocks = context;
    for (fs_index i = r0; i < r1; ++i) {
        real *row = blocks->out + i * blocks->m;
        uint8_t *mask_row = blocks->mask + i * blocks->m;
        for (fs_index j = c0; j < c1; ++j) {
            const int off = row[j] <= 0;
            mask_row[j] = (uint8_t)off;
            row[j] = off ? (real)0 : row[j];
        }
    }
}

void FS_FN(fs_affine_forward)(const real *x, fs_matrix_layout lx, const real *w,
                              fs_matrix_layout lw, const real *b, fs_index n, fs_index d,
                              fs_index m, real *out, uint8_t *relu_mask)
{
    const struct FS_FN(affine_blocks) context = {b, out, relu_mask, m};
    const fs_gemm_blocks blocks = {FS_FN(fill_bias), relu_mask ? FS_FN(relu_in_place) : NULL,
                                   &context};
    FS_FN(fs_gemm_blockwise)(FS_FN(blas_trans)(lx.trans, 0), FS_FN(blas_trans)(lw.trans, 0), n, m,
                             d, 1, x, lx.ld, w, lw.ld, 1, out, m, &blocks);
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
