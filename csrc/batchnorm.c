/* Batch normalisation kernels for float and double (bodies in batchnorm_body.h).
 * No FMA contraction: every product and sum rounds where NumPy's does. */
#pragma GCC optimize("fp-contract=off")
#include "batchnorm.h"
#define FS_BODY "batchnorm_body.h"
#include "fs_instantiate.h"
