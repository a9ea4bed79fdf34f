"""conv_forward and pool_forward test the layers' usual case inline (kernels.py) and hand it
straight to the backend; every other call takes the full checks. Both ways give the same result,
on the edges of what the inline test lets through, and what it does not let through still gets
the full checks' errors."""

import numpy as np
import pytest

from fastscratch import kernels

# (x shape, window (FH, FW), stride, pad): windows as big as the padded input, strides up to the
# largest that changes nothing, odd sizes.
CASES = [
    ((1, 1, 28, 28), (5, 5), 1, 0),
    ((2, 3, 7, 9), (3, 3), 1, 1),
    ((2, 3, 7, 9), (9, 11), 1, 1),  # the window is the padded input
    ((2, 3, 7, 9), (3, 3), 9, 1),  # the largest stride that still changes nothing
    ((2, 3, 7, 9), (3, 3), 10, 1),  # past it: the full path makes it the largest
    ((3, 2, 6, 6), (2, 2), 2, 0),
    ((1, 4, 5, 5), (2, 3), 2, 1),
]


def _slow(value):
    """The same int as a NumPy integer: the inline test lets only a plain int through."""
    return np.int64(value)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, window, stride, pad", CASES)
def test_conv_forward_inline_and_checked_paths_agree(backend, dtype, shape, window, stride, pad):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    W = rng.standard_normal((4, shape[1]) + window).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    fast, _ = kernels.conv_forward(x, W, b, stride, pad)
    slow, _ = kernels.conv_forward(x, W, b, _slow(stride), _slow(pad))
    np.testing.assert_array_equal(fast, slow)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, window, stride, pad", CASES)
def test_pool_forward_inline_and_checked_paths_agree(backend, dtype, shape, window, stride, pad):
    if pad >= min(window):
        pytest.skip("a pooling window must be larger than the padding")
    x = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    fast = kernels.pool_forward(x, *window, stride, pad)
    slow = kernels.pool_forward(x, *window, _slow(stride), _slow(pad))
    for a, b_ in zip(fast, slow):
        np.testing.assert_array_equal(a, b_)


@pytest.mark.parametrize(
    "change, error, words",
    [
        (lambda x, W, b, s, p: (x, W, b, 0, p), ValueError, "stride must be >= 1"),
        (lambda x, W, b, s, p: (x, W, b, s, -1), ValueError, "pad must be >= 0"),
        (lambda x, W, b, s, p: (x, W, b, True, p), TypeError, "stride must be an integer"),
        (lambda x, W, b, s, p: (x, W[:, :1], b, s, p), ValueError, "channels"),
        (lambda x, W, b, s, p: (x, W, b[:2], s, p), ValueError, "b must have 4 elements"),
        (lambda x, W, b, s, p: (x[:, :, :2], W, b, s, p), ValueError, "must fit the padded"),
        (lambda x, W, b, s, p: (x, W[:, :, :0], b, s, p), ValueError, "at least 1x1"),
        (lambda x, W, b, s, p: (x, W.astype(np.float32), b, s, p), None, None),  # promoted
        (lambda x, W, b, s, p: (x[:0], W, b, s, p), None, None),  # empty: the reference
    ],
)
def test_what_the_inline_test_refuses_gets_the_full_checks(backend, change, error, words):
    rng = np.random.default_rng(2)
    x, W, b = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((4, 3, 3, 3)), np.zeros(4)
    args = change(x, W, b, 1, 0)
    if error is None:
        out, _ = kernels.conv_forward(*args)
        assert out.dtype == np.float64
        return
    with pytest.raises(error, match=words):
        kernels.conv_forward(*args)


@pytest.mark.parametrize(
    "args, error, words",
    [
        ((2, 2, 2, 2), ValueError, "pad must be smaller than the pooling window"),
        ((2, 2, 0, 0), ValueError, "stride must be >= 1"),
        ((0, 2, 2, 0), ValueError, "pool_h must be >= 1"),
        ((9, 2, 2, 0), ValueError, "must fit the padded"),
        ((2.0, 2, 2, 0), None, None),  # an integral float: accepted by the full checks
    ],
)
def test_what_the_inline_pool_test_refuses_gets_the_full_checks(backend, args, error, words):
    x = np.random.default_rng(3).standard_normal((2, 3, 6, 6))
    if error is None:
        out, _ = kernels.pool_forward(x, *args)
        assert out.shape == (2, 3, 3, 3)
        return
    with pytest.raises(error, match=words):
        kernels.pool_forward(x, *args)
