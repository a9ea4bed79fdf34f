/* Instantiates one kernel body for float and for double, so no kernel exists in two hand-kept
 * copies. Usage, in a .c file:   #define FS_BODY "relu_body.h"   #include "fs_instantiate.h"
 * The body writes `real` for the element type and FS_FN(name) for each function it defines,
 * and uses FS_SQRT / FS_EXP / FS_LOG / FS_GEMM / FS_GEMV (the BLAS) for the type's maths
 * functions, and FS_BITS for the unsigned integer of the same size (bit masks on the values). */
#ifndef FS_BODY
#error "define FS_BODY before including fs_instantiate.h"
#endif

#include <math.h>
#include <stdint.h>
#include <cblas.h>
#include "fs_common.h"
#include "thread_policy.h"

#define real float
#define FS_BITS uint32_t
#define FS_SUFFIX f32
#define FS_SQRT sqrtf
#define FS_EXP expf
#define FS_FABS fabsf
#define FS_LOG logf
#define FS_GEMM scipy_cblas_sgemm
#define FS_GEMV scipy_cblas_sgemv
#include FS_BODY
#undef real
#undef FS_BITS
#undef FS_SUFFIX
#undef FS_SQRT
#undef FS_EXP
#undef FS_FABS
#undef FS_LOG
#undef FS_GEMM
#undef FS_GEMV

#define real double
#define FS_BITS uint64_t
#define FS_SUFFIX f64
#define FS_SQRT sqrt
#define FS_EXP exp
#define FS_FABS fabs
#define FS_LOG log
#define FS_GEMM scipy_cblas_dgemm
#define FS_GEMV scipy_cblas_dgemv
#include FS_BODY
#undef real
#undef FS_BITS
#undef FS_SUFFIX
#undef FS_SQRT
#undef FS_EXP
#undef FS_FABS
#undef FS_LOG
#undef FS_GEMM
#undef FS_GEMV

#undef FS_BODY
