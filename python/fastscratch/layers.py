"""The book's layers (common/layers.py), drop-in: same classes, constructor signatures, defaults
and attribute names, with the arithmetic done by `fastscratch.kernels` on the current backend.

Parameters are held, never copied: `Affine(params['W1'], params['b1']).W is params['W1']`, so an
optimizer updating `params` in place is seen by the layer, exactly as in the book.
Results follow NumPy's promotion of input and parameters (the book's Convolution and Pooling
always return float64; here float32 in and float32 params stay float32).
"""

import math

import numpy as np

from . import kernels

# The book's layers.py imports these into its namespace, so `from common.layers import *` hands
# them to a script too; the same star import of this module does.
from .functions import *  # noqa: F401,F403
from .functions import __all__ as _functions_all
from .util import col2im, im2col  # noqa: F401

# The inline tests' `type(x) is _ndarray`: one global lookup where np.ndarray costs two.
_ndarray = np.ndarray

# The book writes 10e-7.
BATCHNORM_EPS = 1e-6

__all__ = [
    "Relu",
    "Sigmoid",
    "Affine",
    "SoftmaxWithLoss",
    "Dropout",
    "BatchNormalization",
    "Convolution",
    "Pooling",
    "im2col",
    "col2im",
] + list(_functions_all)  # np among them


def _forwarded(layer, value):
    """`value` (an attribute the forward pass sets), or a clear error when there was none. The
    per-call hot paths test `is None` inline and call this only to raise."""
    if value is None:
        name = type(layer).__name__
        raise RuntimeError(
            f"{name}.backward was called before {name}.forward: "
            "run forward first (backward needs what it stored)"
        )
    return value


def _array(x, name):
    """x as an ndarray (the same object when it already is one)."""
    if isinstance(x, np.ndarray):
        return x
    try:
        x = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be an array, got {type(x).__name__}") from exc
    kernels.compute_dtype(x)  # refuses strings and objects with a clear message
    return x


def _batch_matrix(x, name):
    """x flattened to (N, -1) as the book does (a view when x is contiguous)."""
    if x.ndim == 0:
        raise ValueError(f"{name} must have a batch axis (N, ...), got a 0-d array")
    # Sizes, not -1: a batch of 0 must still know its feature count.
    # math.prod of Python ints: np.prod costs microseconds per call, and this runs on every call.
    return x.reshape(x.shape[0], math.prod(x.shape[1:]))


class Relu:
    """max(0, x). backward sets dout to 0 where x <= 0, in place, and returns dout (the book's
    quirk); a read-only or non-float dout is copied instead of written."""

    def __init__(self):
        self.mask = None

    def forward(self, x):
        out, self.mask = kernels.relu_forward(x)
        return out

    def backward(self, dout):
        mask = self.mask
        if mask is None:
            _forwarded(self, mask)
        return kernels.relu_backward(dout, mask)


class Sigmoid:
    """1 / (1 + exp(-x)); `out` keeps the forward result for backward."""

    def __init__(self):
        self.out = None

    def forward(self, x):
        self.out = kernels.sigmoid_forward(x)
        return self.out

    def backward(self, dout):
        if self.out is None:
            _forwarded(self, None)
        return kernels.sigmoid_backward(dout, self.out)


class Affine:
    """x @ W + b. N-D input is flattened to (N, -1) (`x` holds that 2-D array) and backward
    returns dx in the original shape."""

    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.x = None
        self.original_x_shape = None
        self.dW = None
        self.db = None

    def forward(self, x):
        # _keep_input's lines, inline: on the book's (3, 50) x (50, 10), at 1.1-1.2x the book's
        # time per call (scripts/book_per_call.py), the method call is 1.4% more instructions.
        if type(x) is not _ndarray:
            x = _array(x, "x")
        self.original_x_shape = x.shape
        self.x = x if x.ndim == 2 else _batch_matrix(x, "x")
        return kernels.affine_forward(self.x, self.W, self.b)

    def _forward_then_relu(self, x, relu):
        """forward(x), then relu.forward of it, as one kernel call: the same output bits and the
        same attributes set (this layer's x and original_x_shape, the ReLU's mask). See
        net_common.forward."""
        out, relu.mask = kernels.affine_relu_forward(self._keep_input(x), self.W, self.b)
        return out

    def _keep_input(self, x):
        """x as the (N, D) matrix forward multiplies, kept (with its original shape) for
        backward (forward has these lines inline)."""
        if type(x) is not _ndarray:
            x = _array(x, "x")
        self.original_x_shape = x.shape
        # 2-D input is already the (N, D) matrix (the book's reshape would give a view of it).
        self.x = x if x.ndim == 2 else _batch_matrix(x, "x")
        return self.x

    def backward(self, dout):
        x = _forwarded(self, self.x)
        dx, self.dW, self.db = kernels.affine_backward(dout, x, self.W)
        return dx if dx.shape == self.original_x_shape else dx.reshape(self.original_x_shape)

    def _backward_without_dx(self, dout):
        """backward's dW and db, bit for bit, without dx (a net's first layer: see backprop)."""
        x = _forwarded(self, self.x)
        _, self.dW, self.db = kernels.affine_backward(dout, x, self.W, need_dx=False)


class SoftmaxWithLoss:
    """Softmax then cross-entropy (+1e-7 inside the log). t: labels (N,) of any integer dtype,
    or one-hot (N, K). backward ignores dout and returns dx already divided by N."""

    def __init__(self):
        self.loss = None
        self.y = None
        self.t = None
        self._labels = None
        self._one_hot = None
        self._y = None  # the y forward set: backward checks y again only when it is another
        self._x_shape = None

    def forward(self, x, t):
        x = _array(x, "x")
        scores, labels, one_hot = kernels.prepare_targets(x, t)
        self.t = t
        self.loss, y = kernels.prepared_softmax_loss_forward(scores, labels)
        self._labels, self._one_hot, self._x_shape = labels, one_hot, x.shape
        self.y = self._y = y.reshape(x.shape)
        return self.loss

    def backward(self, dout=1):
        y = self.y
        if y is not self._y or y is None:  # no forward yet, or the caller replaced y
            y = self._replaced_y(y)
        if y.ndim == 2:
            return kernels.prepared_softmax_loss_backward(y, self._labels, self._one_hot)
        dx = kernels.prepared_softmax_loss_backward(
            y.reshape(-1, y.shape[-1]), self._labels, self._one_hot
        )
        return dx.reshape(self._x_shape)

    def _replaced_y(self, y):
        """y, which is not what forward set: an array of the scores' shape, or an error naming y
        (backward reads it as the book's does, and computes with forward's labels)."""
        _forwarded(self, self._y)
        y = _array(_forwarded(self, y), "y")
        if y.shape != self._x_shape:
            raise ValueError(
                f"y must have the shape of forward's scores {self._x_shape}, got {y.shape}"
            )
        return y.astype(kernels.compute_dtype(y), copy=False)


class Dropout:
    """The book's dropout: at training time a mask `np.random.rand(*x.shape) > dropout_ratio`
    from NumPy's global generator (np.random.seed reproduces the book's runs) and no rescaling;
    at test time x * (1 - dropout_ratio)."""

    def __init__(self, dropout_ratio=0.5):
        self.dropout_ratio = dropout_ratio
        self.mask = None

    def forward(self, x, train_flg=True):
        x = _array(x, "x")
        if train_flg:
            rand = np.random.rand(*x.shape)
            out, self.mask = kernels.dropout_forward_train(x, rand, self.dropout_ratio)
            return out
        return x * (1.0 - self.dropout_ratio)

    def backward(self, dout):
        mask = self.mask
        if mask is None:
            _forwarded(self, mask)
        return kernels.dropout_backward(dout, mask)


class BatchNormalization:
    """Batch normalisation per activation (N-D input is flattened to (N, -1), so gamma and beta
    have one entry per C*H*W activation), eps 1e-6. Running statistics start as float64 zeros
    on the first forward and move by `momentum` at each training forward."""

    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None):
        self.gamma = gamma
        self.beta = beta
        self.momentum = momentum
        self.input_shape = None
        self.running_mean = running_mean
        self.running_var = running_var
        self.batch_size = None
        self.xc = None
        self.xn = None
        self.std = None
        self.dgamma = None
        self.dbeta = None

    def forward(self, x, train_flg=True):
        x = _array(x, "x")
        self.input_shape = x.shape
        if x.ndim != 2:
            x = _batch_matrix(x, "x")
        if self.running_mean is None:
            self.running_mean = np.zeros(x.shape[1])
            self.running_var = np.zeros(x.shape[1])
        if train_flg:
            out, mu, var, self.xc, self.xn, self.std = kernels.batchnorm_forward_train(
                x, self.gamma, self.beta, BATCHNORM_EPS
            )
            self.batch_size = x.shape[0]
            m = self.momentum
            self.running_mean = m * self.running_mean + (1 - m) * mu
            self.running_var = m * self.running_var + (1 - m) * var
        else:
            out = kernels.batchnorm_forward_test(
                x, self.gamma, self.beta, self.running_mean, self.running_var, BATCHNORM_EPS
            )
        return out.reshape(*self.input_shape)

    def backward(self, dout):
        xc = _forwarded(self, self.xc)
        dout = _array(dout, "dout")
        if dout.ndim != 2:
            dout = _batch_matrix(dout, "dout")
        dx, self.dgamma, self.dbeta = kernels.batchnorm_backward(
            dout, self.gamma, xc, self.xn, self.std
        )
        return dx.reshape(*self.input_shape)


class Convolution:
    """Convolution of NCHW input with W (FN, C, FH, FW) and b (FN,) -> (N, FN, out_h, out_w).
    `col` holds the kernel's forward cache (the im2col matrix on the reference backend) and
    `col_W` is W.reshape(FN, -1).T, as in the book."""

    def __init__(self, W, b, stride=1, pad=0):
        self.W = W
        self.b = b
        self.stride = stride
        self.pad = pad
        self.x = None
        self.col = None
        self.col_W = None
        self.dW = None
        self.db = None

    def forward(self, x):
        x = _array(x, "x")
        out, cache = kernels.conv_forward(x, self.W, self.b, self.stride, self.pad)
        self._keep(x, cache)
        return out

    def _forward_then_relu(self, x, relu):
        """forward(x), then relu.forward of it, as one kernel call: the same output bits and the
        same attributes set (this layer's x, col and col_W, the ReLU's mask). See
        net_common.forward."""
        x = _array(x, "x")
        out, cache, relu.mask = kernels.conv_relu_forward(x, self.W, self.b, self.stride, self.pad)
        self._keep(x, cache)
        return out

    def _keep(self, x, cache):
        """What a forward leaves for backward and for the user: x, the kernel's cache (col) and
        col_W, the book's W.reshape(FN, -1).T."""
        self.x, self.col = x, cache
        W = self.W if type(self.W) is _ndarray else np.asarray(self.W)  # a list the kernel took
        self.col_W = W.reshape(W.shape[0], math.prod(W.shape[1:])).T

    def backward(self, dout):
        x = _forwarded(self, self.x)
        dx, self.dW, self.db = kernels.conv_backward(
            dout, x, self.W, self.col, self.stride, self.pad
        )
        return dx

    def _backward_without_dx(self, dout):
        """backward's dW and db, bit for bit, without dx (a net's first layer: see backprop)."""
        x = _forwarded(self, self.x)
        _, self.dW, self.db = kernels.conv_backward(
            dout, x, self.W, self.col, self.stride, self.pad, need_dx=False
        )


class Pooling:
    """Max pooling of NCHW input; the first maximum of each window wins (its position is in
    `arg_max`). pad > 0 works here (padding never wins); in the book it raises."""

    def __init__(self, pool_h, pool_w, stride=2, pad=0):
        self.pool_h = pool_h
        self.pool_w = pool_w
        self.stride = stride
        self.pad = pad
        self.x = None
        self.arg_max = None

    def forward(self, x):
        x = _array(x, "x")
        out, self.arg_max = kernels.pool_forward(x, self.pool_h, self.pool_w, self.stride, self.pad)
        self.x = x
        return out

    def backward(self, dout):
        x = _forwarded(self, self.x)
        # x.shape, also of an x the caller replaced with a list
        shape = x.shape if type(x) is _ndarray else _array(x, "x").shape
        return kernels.pool_backward(
            dout, self.arg_max, shape, self.pool_h, self.pool_w, self.stride, self.pad
        )
