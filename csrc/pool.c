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

/* At most this many window positions of one image (C x OH x OW, int32) are kept at once
 * between arg_max's rows and the planes (pool_body.h: pool_positions_of_image,
 * pool_backward_image_2x2): 4 MB a thread. */
#define FS_POOL_IMAGE_POSITIONS ((fs_index)1 << 20)

/* Whether the forward and the backward of the book's window take whole images, inside their
 * parallel region: where there are as many images as threads to share them and an image's
 * positions fit the scratch; else a plane at a time. */
static int pool_by_image(const fs_patch_geometry *g, fs_index batch)
{
    return pool_book_window(g) && batch >= omp_get_num_threads() &&
           g->channels * g->out_h * g->out_w <= FS_POOL_IMAGE_POSITIONS;
}

#define FS_BODY "pool_body.h"
#include "fs_instantiate.h"
