/* Shared definitions for every fastscratch kernel: the index type, the hot-loop attribute,
 * and the macros that let one kernel body serve float and double. No Python here. */
#ifndef FS_COMMON_H
#define FS_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* Every offset is 64-bit: tensors past 2^31 elements must not overflow (Caffe's int does). */
typedef int64_t fs_index;

/* Hot loops get a clone per instruction set the build lists (CMakeLists.txt's FS_SIMD_CLONES,
 * passed in as FS_HOT_TARGETS), chosen at load time; the default clone keeps the library
 * running on any x86-64 CPU. Without that list (other compilers, sanitizers) it is a no-op. */
#ifdef FS_HOT_TARGETS
#define FS_HOT __attribute__((target_clones(FS_HOT_TARGETS)))
#else
#define FS_HOT
#endif

/* Inlined into its caller whatever the optimiser thinks (into each of the caller's FS_HOT
 * clones): for loop bodies that a caller calls with a constant trip count. */
#define FS_ALWAYS_INLINE __attribute__((always_inline))

/* Grain sizes: the least work worth a thread of its own (thread_policy.h splits work into
 * parts of at least this much). Below them a second thread costs more to wake than it saves:
 * tens of microseconds on these machines, a time slice on a busy one (docs/performance.md).
 *   GEMM         - floating-point operations (2 per multiply-add) of one matrix product;
 *   COPY         - elements moved by im2col / col2im and pooling windows;
 *   STREAM       - elements of a map (activations, dropout, optimizer updates);
 *   BATCHNORM    - elements of a batch norm (a few passes over each);
 *   SOFTMAX      - scores of softmax and its loss (exp and log per element: more per element). */
/* GEMM: 1 MFLOP, so that a 100 x 100 x 100 product (2.0e6, MultiLayerNet's hidden layers at
 * batch 100) makes two grains; at 2^20 it missed them by 5% and ran on one thread (float64 41 ->
 * 24 us split in two, the MultiLayerNet step at two threads 1.61-1.66 -> 1.41-1.44 ms). */
#define FS_GRAIN_GEMM_FLOPS 1e6
#define FS_GRAIN_COPY ((double)(1 << 14))
#define FS_GRAIN_STREAM ((double)(1 << 17))
#define FS_GRAIN_SOFTMAX ((double)(1 << 15))
#define FS_GRAIN_BATCHNORM ((double)(1 << 16))
/* A product is split by rows of C only when each block gets at least this many rows. */
#define FS_GEMM_MIN_ROWS 8
/* A product of fewer rows than 2 * FS_GEMM_MIN_ROWS is split by C's columns instead (gemm.h),
 * when each part gets at least this many. */
#define FS_GEMM_MIN_COLS 32

#define FS_CAT_(a, b) a##_##b
#define FS_CAT(a, b) FS_CAT_(a, b)
/* Inside a body included by fs_instantiate.h: FS_FN(fs_relu_forward) -> fs_relu_forward_f32. */
#define FS_FN(name) FS_CAT(name, FS_SUFFIX)

#endif
