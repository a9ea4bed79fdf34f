# The native core's Python module, fastscratch._native._core: every binding in one extension.
# One module, not one per kernel family: Cython's per-module code (the typed-memoryview support
# above all) is compiled once instead of ten times, which roughly halves a source build, and
# importing fastscratch loads one shared object instead of ten. Each kernel family keeps its
# own file of bindings, included here; a new family is one more line (CONTRIBUTING.md).
include "_runtime.pxi"
include "_im2col.pxi"
include "_conv.pxi"
include "_pool.pxi"
include "_affine.pxi"
include "_activations.pxi"
include "_softmax.pxi"
include "_batchnorm.pxi"
include "_dropout.pxi"
include "_optimizers.pxi"
