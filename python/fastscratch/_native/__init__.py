"""The native backend: every kernel of `fastscratch.kernels`, bound from the C in csrc/.

Each submodule is one Cython binding (src/*.pyx); this package gathers their kernels under the
names the contract gives them.
"""

from ._activations import relu_backward, relu_forward, sigmoid_backward, sigmoid_forward
from ._affine import affine_backward, affine_forward
from ._batchnorm import batchnorm_backward, batchnorm_forward_test, batchnorm_forward_train
from ._conv import conv_backward, conv_forward
from ._dropout import dropout_backward, dropout_forward_train
from ._im2col import col2im, im2col
from ._optimizers import (
    adagrad_update,
    adam_update,
    momentum_update,
    nesterov_update,
    rmsprop_update,
    sgd_update,
)
from ._pool import pool_backward, pool_forward
from ._runtime import (
    blas_config,
    blas_corename,
    cpu_set_size,
    cpu_simd_levels,
    foreign_load,
    free_cores,
    get_adaptive_threads,
    get_blas_threads,
    get_omp_threads,
    in_forked_child,
    max_threads,
    openmp_version,
    plan_threads,
    set_adaptive_threads,
    set_num_threads,
    simd_clones,
)
from ._softmax import softmax, softmax_loss_backward, softmax_loss_forward
