/* Convolution kernels for float and double (bodies in conv_body.h). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include "conv.h"
#include "gemm.h"

#define FS_BODY "conv_body.h"
#include "fs_instantiate.h"
