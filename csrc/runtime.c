/* Thread control and BLAS identity for the native core. */
#include <cblas.h>
#include <omp.h>
#include "gemm.h"
#include "runtime.h"
#include "thread_policy.h"

/* Runs when the library loads: OpenBLAS stays on one thread for good, the OpenMP pool does all
 * the threading (gemm.h says why). */
__attribute__((constructor)) static void pin_blas_to_one_thread(void)
{ fs_blas_single_threaded(); }

void fs_set_num_threads(int n)
{
    if (n < 1) n = 1;
    fs_set_thread_count(n); /* for every thread of the process */
    omp_set_num_threads(n); /* the calling thread's OpenMP count, which also limits (below) */
    fs_blas_single_threaded();
}

int fs_get_omp_threads(void)
{ return omp_get_max_threads(); }
int fs_get_blas_threads(void)
{ return scipy_openblas_get_num_threads(); }
const char *fs_blas_config(void)
{ return scipy_openblas_get_config(); }
const char *fs_blas_corename(void)
{ return scipy_openblas_get_corename(); }
int fs_omp_version(void)
{ return _OPENMP; }

/* The clone targets FS_HOT was compiled with, as written ("arch=x86-64-v4","default"), or "". */
#define FS_STRINGIFY(...) #__VA_ARGS__
#define FS_EXPAND_STRINGIFY(...) FS_STRINGIFY(__VA_ARGS__)
const char *fs_hot_targets(void)
{
#ifdef FS_HOT_TARGETS
    return FS_EXPAND_STRINGIFY(FS_HOT_TARGETS);
#else
    return "";
#endif
}

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
