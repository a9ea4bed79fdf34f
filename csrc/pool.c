/* Max pooling kernels for float and double (bodies in pool_body.h). */
#include <stdlib.h>
#include <string.h>
#include "pool.h"

#define FS_BODY "pool_body.h"
#include "fs_instantiate.h"
