/* Softmax and softmax cross-entropy kernels for float and double (bodies in softmax_body.h). */
#pragma GCC optimize("fp-contract=off")
#include "softmax.h"
#include "fs_vmath.h"

fs_index fs_first_bad_label(const int64_t *labels, fs_index n, int64_t classes)
{
    for (fs_index i = 0; i < n; ++i)
        if (labels[i] < 0 || labels[i] >= classes) return i;
    return -1;
}

#define FS_BODY "softmax_body.h"
#include "fs_instantiate.h"
