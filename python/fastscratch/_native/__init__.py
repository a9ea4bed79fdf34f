"""The native backend: every kernel of `fastscratch.kernels`, bound from the C in csrc/.

Each submodule is one Cython binding (src/*.pyx); this package gathers their kernels under the
names the contract gives them.
"""
from ._runtime import (set_num_threads, get_omp_threads, get_blas_threads, blas_config,
                       blas_corename, openmp_version, cpu_simd_levels)
from ._im2col import im2col, col2im
from ._conv import conv_forward, conv_backward
from ._pool import pool_forward, pool_backward
from ._affine import affine_forward, affine_backward
