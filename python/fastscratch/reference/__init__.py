"""The reference backend: every kernel of `fastscratch.kernels` in plain NumPy.

Written to be obviously right rather than fast: it is the oracle the native kernels are tested
against. It never imports the native extension.
"""
from .patches import im2col, col2im
from .conv import conv_forward, conv_backward
from .pool import pool_forward, pool_backward
from .affine import affine_forward, affine_backward
from .activations import relu_forward, relu_backward, sigmoid_forward, sigmoid_backward
from .softmax import softmax, softmax_loss_forward, softmax_loss_backward
from .batchnorm import batchnorm_forward_train, batchnorm_forward_test, batchnorm_backward
from .dropout import dropout_forward_train, dropout_backward
from .optimizers import (sgd_update, momentum_update, nesterov_update, adagrad_update,
                         rmsprop_update, adam_update)
