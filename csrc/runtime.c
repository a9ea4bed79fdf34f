/* Thread control and BLAS identity for the native core. */
#include <cblas.h>
#include <omp.h>
#include "runtime.h"

void fs_set_num_threads(int n)
{
    if (n < 1) n = 1;
    omp_set_num_threads(n);
    scipy_openblas_set_num_threads(n);
}

int fs_get_omp_threads(void) { return omp_get_max_threads(); }
int fs_get_blas_threads(void) { return scipy_openblas_get_num_threads(); }
const char *fs_blas_config(void) { return scipy_openblas_get_config(); }
const char *fs_blas_corename(void) { return scipy_openblas_get_corename(); }
int fs_omp_version(void) { return _OPENMP; }

int fs_cpu_simd_levels(void)
{
    int levels = 0;
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v2")) levels |= 1;
    if (__builtin_cpu_supports("x86-64-v3")) levels |= 2;
    if (__builtin_cpu_supports("x86-64-v4")) levels |= 4;
#endif
    return levels;
}
