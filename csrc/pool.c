/* Max pooling kernels for float and double (bodies in pool_body.h). */
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "pool.h"

/* The book's window, 2x2 at stride 2 without padding, on a plane of even width: the windows
 * tile the plane in pairs of neighbours, which the forward's and the backward's own kernels
 * (pool_body.h) take in long passes. */
static int pool_book_window(const fs_patch_geometry *g)
{
    return g->kernel_h == 2 && g->kernel_w == 2 && g->stride == 2 && g->pad == 0 &&
           g->width % 2 == 0;
}

/* At most this many window positions of one image (C x OH x OW, int32) are gathered before
 * they are written into arg_max's rows (pool_body.h, pool_positions_of_image): 4 MB. */
#define FS_POOL_IMAGE_POSITIONS ((fs_index)1 << 20)

#define FS_BODY "pool_body.h"
#include "fs_instantiate.h"
