"""The reference backend: every kernel of `fastscratch.kernels` in plain NumPy.

Written to be obviously right rather than fast: it is the oracle the native kernels are tested
against. It never imports the native extension.
"""

from .activations import relu_backward, relu_forward, sigmoid_backward, sigmoid_forward
from .affine import affine_backward, affine_forward, affine_forward_widened
from .batchnorm import batchnorm_backward, batchnorm_forward_test, batchnorm_forward_train
from .conv import conv_backward, conv_forward
from .dropout import dropout_backward, dropout_forward_train
from .optimizers import (
    adagrad_update,
    adam_update,
    momentum_update,
    nesterov_update,
    rmsprop_update,
    sgd_update,
)
from .patches import col2im, im2col
from .pool import pool_backward, pool_forward
from .softmax import softmax, softmax_loss_backward, softmax_loss_forward
