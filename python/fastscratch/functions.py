"""The book's activation and loss functions (common/functions.py) with the book's NumPy
semantics. Where the JP and KR editions differ we follow JP (step_function returns int,
relu_grad is 1 at x == 0); the KR name mean_squared_error is kept as an alias of
sum_squared_error (same formula, not divided by the batch)."""

import numpy as np

from . import kernels

__all__ = [
    "identity_function",
    "step_function",
    "sigmoid",
    "sigmoid_grad",
    "relu",
    "relu_grad",
    "softmax",
    "sum_squared_error",
    "mean_squared_error",
    "cross_entropy_error",
    "softmax_loss",
]
# `np` too: a star import of the book's module gives it, and book scripts may rely on that.
__all__ += ["np"]


def identity_function(x):
    return x


def step_function(x):
    """1 where x > 0, else 0, as a NumPy int array."""
    return np.array(x > 0, dtype=int)


def sigmoid(x):
    """1 / (1 + exp(-x)), keeping x's floating dtype: the book's expression, with its numbers
    and its NumPy warning ("overflow encountered in exp", for x below about -709 in float64,
    -88 in float32, where the value, 0, is still right). Suppressing that warning with
    np.errstate cost ~0.9 us a call, 40% of this function on the book's batches of 3 (chapter
    4 evaluates it thousands of times per numerical gradient)."""
    return 1 / (1 + np.exp(-x))


def sigmoid_grad(x):
    """(1 - sigmoid(x)) * sigmoid(x), elementwise (np.multiply: for an np.matrix x the book's `*`
    is a matrix product)."""
    s = sigmoid(x)
    return np.multiply(1.0 - s, s)


def relu(x):
    return np.maximum(0, x)


def relu_grad(x):
    """1 where x >= 0 (so 1 at x == 0, as the book), else 0; x's dtype."""
    x = np.asarray(x)
    grad = np.zeros_like(x)
    grad[x >= 0] = 1
    return grad


def softmax(x):
    """Softmax along the last axis (the maximum subtracted first); 1-D or N-D."""
    return kernels.softmax(x)


def sum_squared_error(y, t):
    """0.5 * sum((y - t)**2), over the whole batch (not divided by it); elementwise (np.square:
    for np.matrix operands the book's `**2` is a matrix product)."""
    return 0.5 * np.sum(np.square(np.subtract(y, t)))


def mean_squared_error(y, t):
    """The KR edition's name for sum_squared_error (the same formula: not a mean)."""
    return sum_squared_error(y, t)


def cross_entropy_error(y, t):
    """-sum(log(y[n, t[n]] + 1e-7)) / N for labels t (any integer dtype) or one-hot t (reduced
    to labels with argmax); 1-D y is one sample. A NumPy scalar of y's dtype."""
    y = np.asarray(y)
    _, labels, _ = kernels.prepare_targets(y, t)  # also checks the label range
    if y.ndim == 1:
        y = y.reshape(1, y.size)
    batch_size = y.shape[0]
    # .sum(): the same reduction as np.sum without its dispatch (~1 us, the cost of a
    # numerical gradient's every evaluation on chapter 4's batches)
    return -np.log(y[np.arange(batch_size), labels] + 1e-7).sum() / batch_size


def softmax_loss(X, t):
    return cross_entropy_error(softmax(X), t)
