/* The native core's runtime: its thread count (the OpenMP pool; OpenBLAS runs on one thread
 * inside it, gemm.h) and what the BLAS says about itself, for set_num_threads() and
 * show_config(). How many threads a region really gets is thread_policy.h's business. */
#ifndef FS_RUNTIME_H
#define FS_RUNTIME_H

void fs_set_num_threads(int n);   /* the most threads a kernel uses, for every thread */
int fs_get_omp_threads(void);
int fs_get_blas_threads(void);
const char *fs_blas_config(void);
const char *fs_blas_corename(void);
int fs_omp_version(void);         /* _OPENMP, e.g. 201511 */
/* Bit set of the SIMD levels this CPU runs: 1 = x86-64-v2, 2 = AVX2 (v3), 4 = AVX-512 (v4). */
int fs_cpu_simd_levels(void);
const char *fs_hot_targets(void);

#endif
