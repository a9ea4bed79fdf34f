/* im2col / col2im kernels for float and double (bodies in im2col_body.h). */
#include <string.h>
#include "im2col.h"

int fs_patch_geometry_init(fs_patch_geometry *g, fs_index channels, fs_index height, fs_index width,
                           fs_index kernel_h, fs_index kernel_w, fs_index stride, fs_index pad)
{
    if (channels < 0 || height < 0 || width < 0 || kernel_h < 1 || kernel_w < 1 || stride < 1 ||
        pad < 0 || height + 2 * pad < kernel_h || width + 2 * pad < kernel_w)
        return -1;
    g->channels = channels;
    g->height = height;
    g->width = width;
    g->kernel_h = kernel_h;
    g->kernel_w = kernel_w;
    g->stride = stride;
    g->pad = pad;
    g->out_h = (height + 2 * pad - kernel_h) / stride + 1;
    g->out_w = (width + 2 * pad - kernel_w) / stride + 1;
    return 0;
}

#define FS_BODY "im2col_body.h"
#include "fs_instantiate.h"
