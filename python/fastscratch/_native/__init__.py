"""The native backend: every kernel of `fastscratch.kernels`, bound from the C in csrc/.

Each submodule is one Cython binding (src/*.pyx); this package gathers their kernels under the
names the contract gives them.
"""
from ._runtime import (set_num_threads, get_omp_threads, get_blas_threads, blas_config,
                       blas_corename, openmp_version, cpu_simd_levels, set_adaptive_threads,
                       get_adaptive_threads, free_cores, foreign_load, cpu_set_size,
                       plan_threads, max_threads, in_forked_child)
from ._im2col import im2col, col2im
from ._conv import conv_forward, conv_backward
from ._pool import pool_forward, pool_backward
from ._affine import affine_forward, affine_backward
from ._activations import relu_forward, relu_backward, sigmoid_forward, sigmoid_backward
from ._softmax import softmax, softmax_loss_forward, softmax_loss_backward
from ._batchnorm import batchnorm_forward_train, batchnorm_forward_test, batchnorm_backward
from ._dropout import dropout_forward_train, dropout_backward
from ._optimizers import (sgd_update, momentum_update, nesterov_update, adagrad_update,
                          rmsprop_update, adam_update)
