"""What the book's nets share: backprop through their layers, central-difference gradients of
their loss, and accuracy over labels or one-hot targets (whole or in batches)."""

import numpy as np

from .gradient import numerical_gradient
from .kernels import TINY_PRODUCT_FORWARD, check_int, check_sizes
from .layers import Affine, Convolution, Relu, _array

# The inline tests' `type(x) is _ndarray`: one global lookup where np.ndarray costs two.
_ndarray = np.ndarray


def layer_size(value, name):
    """A layer's size (a net's input_size, a hidden size, output_size, filter_num...): an
    integer >= 1. The book divides by it for the weights' scale or draws that many weights."""
    return check_int(value, name, 1)


def conv_geometry(input_dim, conv_params):
    """input_dim (C, H, W) and each conv_param {'filter_num', 'filter_size', 'pad', 'stride'}
    checked and as ints: -> (input_dim, [conv_param...]), the nets' constructors' arguments."""
    dims = check_sizes(input_dim, "input_dim", "CHW", 1)
    checked = []
    for name, conv_param in conv_params:
        if not hasattr(conv_param, "keys"):
            raise TypeError(f"{name} must be a dict, got {type(conv_param).__name__}")
        missing = [k for k in ("filter_num", "filter_size", "pad", "stride") if k not in conv_param]
        if missing:
            raise KeyError(f"{name} has no {', '.join(missing)}")
        checked.append(
            {
                "filter_num": layer_size(conv_param["filter_num"], f"{name}['filter_num']"),
                "filter_size": layer_size(conv_param["filter_size"], f"{name}['filter_size']"),
                "pad": check_int(conv_param["pad"], f"{name}['pad']", 0),
                "stride": check_int(conv_param["stride"], f"{name}['stride']", 1),
            }
        )
    return dims, checked


def labels_of(t, n):
    """t as n label indices (one-hot rows become their argmax). Any other number of samples is
    a ValueError naming t: NumPy would compare one label with every prediction, and the share
    would be of something else."""
    t = np.asarray(t)
    labels = t if t.ndim == 1 else np.argmax(t, axis=1) if t.ndim == 2 else None
    if labels is None or labels.shape[0] != n:
        raise ValueError(
            f"t must hold {n} labels (shape ({n},)) or {n} one-hot rows (shape ({n}, K)), one "
            f"per sample of x, got shape {t.shape}"
        )
    return labels


def accuracy(scores, t):
    """Share of argmax(scores) == t, as the book's nets compute it."""
    labels = labels_of(t, scores.shape[0])
    return np.sum(np.argmax(scores, axis=1) == labels) / float(scores.shape[0])


def batched_accuracy(predict, x, t, batch_size):
    """Share of argmax(predict(x)) == t, predicting batch_size samples at a time. Every sample
    counts: the book skips a last partial batch (and so counts it as wrong). No samples: NaN,
    as accuracy's NumPy division gives (the book's batched loop divides 0.0 by 0 and raises)."""
    batch_size = check_int(batch_size, "batch_size", 1)
    x = _array(x, "x")
    if x.ndim == 0:
        raise ValueError("x must have a batch axis (N, ...), got a 0-d array")
    t = labels_of(t, x.shape[0])
    acc = np.float64(0.0)
    for start in range(0, x.shape[0], batch_size):
        y = predict(x[start : start + batch_size])
        acc += np.sum(np.argmax(y, axis=1) == t[start : start + batch_size])
    return acc / x.shape[0]


def forward(layers, x):
    """x through `layers` in order, each layer's forward taking the last one's output. A
    Convolution or an Affine followed by a Relu, neither's forward replaced (a subclass, a
    wrapper set on the instance or on the class), runs as one kernel call (their
    _forward_then_relu): the same bits and attributes as the two forwards, one pass less over
    the output. An Affine fuses only when its product is one the native kernels take
    (kernels.TINY_PRODUCT_FORWARD); below that the fused call would make the same two calls
    after tests of its own (5,000 instructions a pair, 4% of TwoLayerNet's predict on the
    book's batches of 3). A layer whose class has no forward (set on the instance only) runs as
    called."""
    if type(x) is _ndarray and x.ndim == 2 and x.shape[0] < _MLP_FUSED_MIN_ROWS:
        # An MLP's few rows: nothing to fuse, so no test per layer either.
        for layer in layers:
            x = layer.forward(x)
        return x
    waiting = None  # a layer that fuses with a Relu, until the next layer shows whether one follows
    for layer in layers:
        if waiting is not None:
            if (
                getattr(type(layer), "forward", None) is _PLAIN_RELU_FORWARD
                and "forward" not in layer.__dict__
            ):
                x = waiting._forward_then_relu(x, layer)
                waiting = None
                continue
            x = waiting.forward(x)
            waiting = None
        method = getattr(type(layer), "forward", None)
        if (
            (method is _PLAIN_CONV_FORWARD or method is _PLAIN_AFFINE_FORWARD)
            and type(x) is _ndarray
            and x.ndim
            and "forward" not in layer.__dict__
            and (
                method is _PLAIN_CONV_FORWARD
                or (type(W := layer.W) is _ndarray and x.shape[0] * W.size > TINY_PRODUCT_FORWARD)
            )
        ):
            waiting = layer
        else:
            x = layer.forward(x)
    return x if waiting is None else waiting.forward(x)


_PLAIN_CONV_FORWARD = Convolution.forward
_PLAIN_AFFINE_FORWARD = Affine.forward
_PLAIN_RELU_FORWARD = Relu.forward
# Rows of 2-D input below which no Affine of the book's MLPs fuses (their largest weight, 784 x
# 100, needs 2 rows; their hidden 100 x 100 ones 14), so forward skips the tests per layer.
_MLP_FUSED_MIN_ROWS = 16


def backprop(last_layer, layers):
    """Backward from the loss (dout = 1) through `layers` in reverse order, filling every layer's
    gradients. The first layer's dx, the gradient of the net's input, is read by no one (the
    book's nets drop it): an Affine or Convolution there skips its product (as PyTorch does for
    an input that needs no gradient), unless its backward was replaced (a subclass, a wrapper
    set on the instance), which then runs as called."""
    layers = list(layers)
    dout = last_layer.backward(1)
    for layer in reversed(layers[1:]):
        dout = layer.backward(dout)
    if layers:
        first = layers[0]
        if type(first).backward in _PLAIN_BACKWARDS and "backward" not in vars(first):
            first._backward_without_dx(dout)
        else:
            first.backward(dout)


# The backward methods whose _backward_without_dx gives the same gradients.
_PLAIN_BACKWARDS = (Affine.backward, Convolution.backward)


def numerical_gradients(loss, params, keys):
    """{key: central differences of loss() in params[key]}. Like the book's nets, the function
    handed to numerical_gradient ignores its argument: params[key] is perturbed in place."""
    return {key: numerical_gradient(lambda _: loss(), params[key]) for key in keys}
