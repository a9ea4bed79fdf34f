/* Fused optimizer steps for float and double (bodies in optimizers_body.h).
 * No FMA contraction: each product and sum rounds where NumPy's does. */
#pragma GCC optimize("fp-contract=off")
#include "optimizers.h"
#define FS_BODY "optimizers_body.h"
#include "fs_instantiate.h"
