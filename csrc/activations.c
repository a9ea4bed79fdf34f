/* ReLU and sigmoid kernels for float and double (bodies in activations_body.h).
 * No FMA contraction: dout*(1-out)*out rounds after each product, as NumPy does. */
#pragma GCC optimize("fp-contract=off")
#include "activations.h"
#include "fs_vmath.h"
#define FS_BODY "activations_body.h"
#include "fs_instantiate.h"
