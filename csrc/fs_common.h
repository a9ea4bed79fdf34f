/* Shared definitions for every fastscratch kernel: the index type, the hot-loop attribute,
 * and the macros that let one kernel body serve float and double. No Python here. */
#ifndef FS_COMMON_H
#define FS_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* Every offset is 64-bit: tensors past 2^31 elements must not overflow (Caffe's int does). */
typedef int64_t fs_index;

/* Hot loops get AVX-512 and AVX2+FMA clones chosen at load time; the default clone keeps the
 * library running on any x86-64 CPU. Elsewhere (or under sanitizers) it is a no-op. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define FS_HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define FS_HOT
#endif

/* Run an OpenMP loop in parallel only when it has enough work to pay for the threads. */
#define FS_PARALLEL_THRESHOLD ((fs_index)1 << 15)

#define FS_CAT_(a, b) a##_##b
#define FS_CAT(a, b) FS_CAT_(a, b)
/* Inside a body included by fs_instantiate.h: FS_FN(fs_relu_forward) -> fs_relu_forward_f32. */
#define FS_FN(name) FS_CAT(name, FS_SUFFIX)

#endif
