/* The native core's matrix products for float and double (body in gemm_body.h). */
#include "gemm.h"
#include "thread_policy.h"

void fs_blas_single_threaded(void)
{
    if (scipy_openblas_get_num_threads() != 1) scipy_openblas_set_num_threads(1);
}

#define FS_BODY "gemm_body.h"
#include "fs_instantiate.h"
