/* Dropout kernels for float and double (bodies in dropout_body.h). */
#include "dropout.h"
/* Parallel only past this many elements: waking the OpenMP workers costs ~65 us on this
 * machine (OMP_WAIT_POLICY=PASSIVE), more than these loops spend on FS_PARALLEL_THRESHOLD
 * elements (docs/performance-elementwise.md). */
#define FS_STREAM_THRESHOLD ((fs_index)1 << 18)
#define FS_BODY "dropout_body.h"
#include "fs_instantiate.h"
