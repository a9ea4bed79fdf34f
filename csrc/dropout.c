/* Dropout kernels for float and double (bodies in dropout_body.h). */
#include "dropout.h"
#define FS_BODY "dropout_body.h"
#include "fs_instantiate.h"
