/* ReLU and sigmoid kernels for float and double (bodies in activations_body.h).
 * No FMA contraction: dout*(1-out)*out rounds after each product, as NumPy does. */
#pragma GCC optimize("fp-contract=off")
#include "activations.h"
#include "fs_vmath.h"
/* Parallel only past this many elements: waking the OpenMP workers costs ~65 us on this
 * machine (OMP_WAIT_POLICY=PASSIVE), more than these loops spend on FS_PARALLEL_THRESHOLD
 * elements (docs/performance-elementwise.md). */
#define FS_STREAM_THRESHOLD ((fs_index)1 << 18)
#define FS_BODY "activations_body.h"
#include "fs_instantiate.h"
