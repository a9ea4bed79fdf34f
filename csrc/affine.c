/* Affine kernels for float and double (bodies in affine_body.h). */
#include "affine.h"
#include "gemm.h"

#define FS_BODY "affine_body.h"
#include "fs_instantiate.h"
