/* Affine (fully connected) layer through GEMM: out (N, M) = x (N, D) W (D, M) + b.
 * Each matrix comes as a pointer, a transposition flag and a leading dimension, so that
 * row-major, column-major (e.g. a Fortran-ordered W) and row-strided views are all used in place:
 *   element (i, j) of a matrix is p[i*ld + j] when trans == 0 and p[j*ld + i] when trans == 1.
 * Results (out, dx, dw, db) are C-contiguous and overwritten. All sizes >= 1 and < 2^31.
 * A forward given a relu_mask (N x M bytes; NULL: none) also puts out through the ReLU, as
 * fs_relu_forward would (out <= 0 becomes +0 with its mask byte 1, NaN stays with 0), each
 * block of rows right after its product: one pass less over out, the same bits. */
#ifndef FS_AFFINE_H
#define FS_AFFINE_H
#include "fs_common.h"

typedef struct {
    int trans;     /* 0: row-major, 1: column-major */
    fs_index ld;   /* distance between consecutive rows (trans 0) or columns (trans 1) */
} fs_matrix_layout;

void fs_affine_forward_f32(const float *x, fs_matrix_layout lx, const float *w, fs_matrix_layout lw,
                           const float *b, fs_index n, fs_index d, fs_index m, float *out,
                           uint8_t *relu_mask);
void fs_affine_forward_f64(const double *x, fs_matrix_layout lx, const double *w,
                           fs_matrix_layout lw, const double *b, fs_index n, fs_index d, fs_index m,
                           double *out, uint8_t *relu_mask);

void fs_affine_backward_f32(const float *dout, fs_matrix_layout ldout, const float *x,
                            fs_matrix_layout lx, const float *w, fs_matrix_layout lw, fs_index n,
                            fs_index d, fs_index m, float *dx, float *dw, float *db);
void fs_affine_backward_f64(const double *dout, fs_matrix_layout ldout, const double *x,
                            fs_matrix_layout lx, const double *w, fs_matrix_layout lw, fs_index n,
                            fs_index d, fs_index m, double *dx, double *dw, double *db);

/* out (N, M) float64 = x (N, D) float32 W (D, M) float64 + b, as NumPy computes a float32 array
 * against float64 weights (the book's float32 MNIST, its float64 nets): x widened to float64.
 * Widened a block of rows at a time into a buffer that stays in cache, each block multiplied as
 * soon as it is widened, instead of a float64 copy of the whole of x first (on the book's
 * 10,000-image accuracy inputs: 63 MB written and read back, fresh pages each call). The blocks
 * depend only on D, so the bits do not depend on the threads or the load. x's rows are ldx
 * floats apart, each row contiguous. Returns 0, or -2 when a buffer could not be allocated
 * (out then unspecified). */
int fs_affine_forward_widened(const float *x, fs_index ldx, const double *w, fs_matrix_layout lw,
                              const double *b, fs_index n, fs_index d, fs_index m, double *out,
                              uint8_t *relu_mask);

#endif
