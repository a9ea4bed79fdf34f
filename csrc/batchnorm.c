/* Batch normalisation kernels for float and double (bodies in batchnorm_body.h).
 * No FMA contraction: every product and sum rounds where NumPy's does. */
#pragma GCC optimize("fp-contract=off")
#include "batchnorm.h"
/* Parallel only past this many elements: waking the OpenMP workers costs ~65 us on this
 * machine (OMP_WAIT_POLICY=PASSIVE), more than these loops spend on FS_PARALLEL_THRESHOLD
 * elements (docs/performance-elementwise.md). */
#define FS_STREAM_THRESHOLD ((fs_index)1 << 17)
#define FS_BODY "batchnorm_body.h"
#include "fs_instantiate.h"
