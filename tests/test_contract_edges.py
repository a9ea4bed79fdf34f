"""Edge cases where the two backends used to disagree, or where a hostile argument gave a silent
wrong answer (issue 11, items 7, 12 and 13). Each one's decided behaviour is written in
kernels.py's docstring and docs/compat.md; every test runs on both backends."""

import numpy as np
import pytest

from fastscratch import kernels
from fastscratch.functions import cross_entropy_error, softmax
from fastscratch.gradient import _numerical_gradient_1d, numerical_gradient, numerical_gradient_2d
from fastscratch.layers import Convolution, Pooling, SoftmaxWithLoss

BIG = 2**31  # the native kernels' size limit

# ---------------------------------------------------------------------------------------------
# item 7: a stride beyond the input gives one window per axis, on both backends


@pytest.mark.parametrize("stride", [2**40, 2**63, 2**70])
def test_a_huge_stride_gives_one_window_per_axis(backend, rng, stride):
    # Native raised (ValueError below 2**63, OverflowError from there); the reference computed.
    x, W, b = rng.standard_normal((2, 3, 5, 6)), rng.standard_normal((4, 3, 2, 3)), rng.random(4)
    out, cache = kernels.conv_forward(x, W, b, stride, 1)
    assert out.shape == (2, 4, 1, 1)
    first = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))[:, :, :2, :3]
    np.testing.assert_allclose(out[:, :, 0, 0], np.einsum("nchw,fchw->nf", first, W) + b)
    same_out, same_cache = kernels.conv_forward(x, W, b, 7, 1)  # also one window per axis
    np.testing.assert_array_equal(out, same_out)
    dout = rng.standard_normal(out.shape)
    for got, want in zip(
        kernels.conv_backward(dout, x, W, cache, stride, 1),
        kernels.conv_backward(dout, x, W, same_cache, 7, 1),
    ):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("stride", [2**40, 2**70])
def test_a_huge_stride_in_im2col_col2im_and_pooling(backend, rng, stride):
    x = rng.standard_normal((2, 3, 5, 6))
    col = kernels.im2col(x, 2, 2, stride, 1)
    np.testing.assert_array_equal(col, kernels.im2col(x, 2, 2, 9, 1))
    np.testing.assert_array_equal(
        kernels.col2im(col, x.shape, 2, 2, stride, 1), kernels.col2im(col, x.shape, 2, 2, 9, 1)
    )
    out, arg_max = kernels.pool_forward(x, 2, 2, stride, 1)
    np.testing.assert_array_equal(out[:, :, 0, 0], x[:, :, 0, 0])  # the window over (0, 0)
    dx = kernels.pool_backward(np.ones_like(out), arg_max, x.shape, 2, 2, stride, 1)
    assert dx.sum() == out.size


def test_the_layers_take_a_huge_stride(backend, rng):
    x = rng.standard_normal((2, 3, 5, 6))
    conv = Convolution(rng.standard_normal((4, 3, 3, 3)), np.zeros(4), stride=2**40)
    out = conv.forward(x)
    assert out.shape == (2, 4, 1, 1) and conv.stride == 2**40
    assert conv.backward(np.ones_like(out)).shape == x.shape
    pool = Pooling(2, 2, stride=2**40)
    assert pool.forward(x).shape == (2, 3, 1, 1)
    assert pool.backward(np.ones((2, 3, 1, 1))).shape == x.shape


def test_a_huge_pad_is_refused_the_same_on_both_backends(backend):
    # The reference failed in NumPy ("array is too big"), native in its binding.
    x, W, b = np.ones((1, 1, 4, 4)), np.ones((2, 1, 2, 2)), np.zeros(2)
    with pytest.raises(ValueError, match=r"x must have H \+ 2\*pad < 2\*\*31.*pad 1099511627776"):
        kernels.conv_forward(x, W, b, 2**40, 2**40)
    with pytest.raises(ValueError, match=r"x must have H \+ 2\*pad < 2\*\*31"):
        kernels.im2col(x, 2, 2, 1, 2**40)


# ---------------------------------------------------------------------------------------------
# item 7: filters of no height or width


@pytest.mark.parametrize("shape", [(2, 1, 0, 2), (2, 1, 2, 0), (0, 1, 0, 0)])
def test_a_filter_of_no_height_or_width_is_refused(backend, shape):
    # The reference returned the bias over windows past the input's edge; native refused.
    x = np.ones((1, 1, 4, 4))
    with pytest.raises(ValueError, match=r"W must have filters of at least 1x1.*" + str(shape)):
        kernels.conv_forward(x, np.ones(shape), np.zeros(shape[0]), 1, 0)


# ---------------------------------------------------------------------------------------------
# item 7: softmax of a 0-d array, and of no classes


@pytest.mark.parametrize(
    "x", [np.array(3.0), np.array(-2.5, np.float32), np.array(7, np.int64), 0.5]
)
def test_softmax_of_a_0d_array_is_one(backend, x):
    # Native refused (x must have at least 1 dimension); the book's NumPy gives 1.
    y = softmax(x)
    assert isinstance(y, np.ndarray) and y.shape == () and y == 1
    assert y.dtype == (np.float32 if np.asarray(x).dtype == np.float32 else np.float64)


@pytest.mark.parametrize("shape", [(2, 0), (0,), (0, 0), (BIG, 0)])
def test_softmax_of_no_classes_is_refused(backend, shape):
    # The reference raised NumPy's "zero-size array to reduction operation", native its own.
    with pytest.raises(ValueError, match=r"x must have at least one entry \(class\)"):
        kernels.softmax(np.empty(shape, np.float32))


# ---------------------------------------------------------------------------------------------
# item 7: empty arrays with a dimension >= 2**31 compute; non-empty ones are refused


def test_empty_inputs_with_a_dimension_of_2_31_compute(backend):
    # Native refused "input height must be < 2**31"; the reference computed.
    x = np.empty((0, 1, BIG, 2))
    W, b = np.ones((2, 1, 2, 2)), np.arange(2.0)
    out, cache = kernels.conv_forward(x, W, b, 1, 0)
    assert out.shape == (0, 2, BIG - 1, 1)
    dx, dW, db = kernels.conv_backward(out, x, W, cache, 1, 0)
    assert dx.shape == x.shape and not dW.any() and not db.any()
    col = kernels.im2col(x, 2, 2, 1, 0)
    assert col.shape == (0, 4)
    assert kernels.col2im(col, x.shape, 2, 2, 1, 0).shape == x.shape
    out, arg_max = kernels.pool_forward(x, 2, 2, 2, 0)
    assert out.shape == (0, 1, BIG // 2, 1) and arg_max.shape == (0,)
    assert kernels.pool_backward(out, arg_max, x.shape, 2, 2, 2, 0).shape == x.shape
    # no channels: an empty input, whose result is the bias
    out, _ = kernels.conv_forward(np.empty((1, 0, 3, 3)), np.empty((2, 0, 2, 2)), b, 1, 0)
    np.testing.assert_array_equal(out, np.broadcast_to(b.reshape(1, 2, 1, 1), (1, 2, 2, 2)))
    assert kernels.softmax(np.empty((0, BIG), np.float32)).shape == (0, BIG)


def test_non_empty_inputs_beyond_the_kernels_sizes_are_refused(backend):
    # Broadcast views: non-empty arrays of any size that take no memory.
    tall = np.broadcast_to(np.float32(1), (1, 1, BIG, 1))
    with pytest.raises(ValueError, match=r"x must have H \+ 2\*pad < 2\*\*31 .*got 2147483648"):
        kernels.im2col(tall, 1, 1)
    with pytest.raises(ValueError, match=r"x must have H \+ 2\*pad < 2\*\*31"):
        kernels.pool_forward(tall, 1, 1, 1, 0)
    with pytest.raises(ValueError, match=r"input_shape must have H \+ 2\*pad < 2\*\*31"):
        kernels.col2im(np.broadcast_to(np.float32(1), (BIG, 1)), (1, 1, BIG, 1), 1, 1)
    wide = np.broadcast_to(np.float32(1), (1, 1, 2**16, 2**15 + 1))
    with pytest.raises(ValueError, match=r"out_h\*out_w < 2\*\*31 .*65536\*32769"):
        kernels.conv_forward(wide, np.ones((1, 1, 1, 1), np.float32), np.zeros(1, np.float32), 1, 0)
    deep = np.broadcast_to(np.float32(1), (1, 2**16, 2**8, 2**7))
    with pytest.raises(ValueError, match=r"W must have C\*FH\*FW < 2\*\*31"):
        kernels.conv_forward(deep, deep, np.zeros(1, np.float32), 1, 0)


def test_pooling_planes_of_no_pixels_is_refused(backend):
    # With pad 1 a 2x2 window fits an input of height 0, but holds padding alone: native
    # refused, the reference returned -inf with arg_max pointing into the padding.
    with pytest.raises(ValueError, match=r"x must have H, W >= 1 to pool.*\(2, 3, 0, 4\)"):
        kernels.pool_forward(np.ones((2, 3, 0, 4)), 2, 2, 1, 1)
    out, arg_max = kernels.pool_forward(np.ones((0, 3, 0, 4)), 2, 2, 1, 1)  # no planes: empty
    assert out.shape == (0, 3, 1, 5) and arg_max.shape == (0,)


# ---------------------------------------------------------------------------------------------
# item 12: one-hot targets must have the scores' shape


def _scores_and_one_hot(rng, n=3, k=4):
    x = rng.standard_normal((n, k))
    return x, np.eye(k)[rng.integers(0, k, n)]


def test_softmax_with_loss_refuses_transposed_one_hot_targets(backend, rng):
    x, t = _scores_and_one_hot(rng)
    expected = r"t must hold 3 labels .* one-hot of the scores' shape \(3, 4\), got shape \(4, 3\)"
    with pytest.raises(ValueError, match=expected + r" \(transposed\?"):
        SoftmaxWithLoss().forward(x, t.T)
    with pytest.raises(ValueError, match=expected):
        SoftmaxWithLoss().forward(x.astype(np.float32), t.T)  # past the fast path's dtype test


def test_cross_entropy_error_refuses_transposed_one_hot_targets(backend, rng):
    x, t = _scores_and_one_hot(rng)
    with pytest.raises(ValueError, match=r"\(3, 4\), got shape \(4, 3\)"):
        cross_entropy_error(softmax(x), t.T)


@pytest.mark.parametrize("shape", [(12,), (2, 6), (3, 4, 1), (1, 3, 4)])
def test_one_hot_targets_of_the_right_size_but_another_shape_are_refused(backend, rng, shape):
    x, t = _scores_and_one_hot(rng)
    with pytest.raises(ValueError, match=rf"got shape {re_shape(shape)}"):
        SoftmaxWithLoss().forward(x, t.reshape(shape))
    with pytest.raises(ValueError, match=rf"got shape {re_shape(shape)}"):
        cross_entropy_error(softmax(x), t.reshape(shape))


def re_shape(shape):
    return str(tuple(shape)).replace("(", r"\(").replace(")", r"\)")


def test_one_hot_targets_still_accepted(backend, rng):
    x, t = _scores_and_one_hot(rng)
    labels = t.argmax(axis=1)
    expected = SoftmaxWithLoss().forward(x, labels)
    assert SoftmaxWithLoss().forward(x, t) == pytest.approx(expected, rel=1e-13)
    assert SoftmaxWithLoss().forward(x, labels.reshape(3, 1)) == pytest.approx(expected, rel=1e-13)
    y = softmax(x)
    assert cross_entropy_error(y, t) == pytest.approx(cross_entropy_error(y, labels), rel=1e-13)
    # one sample: its K entries are its one-hot row whatever their shape (the book reshapes)
    one = SoftmaxWithLoss().forward(x[0], labels[:1])
    for row in (t[0], t[:1], t[0].reshape(4, 1)):
        assert SoftmaxWithLoss().forward(x[0], row) == pytest.approx(one, rel=1e-13)
        assert SoftmaxWithLoss().forward(x[:1], row) == pytest.approx(one, rel=1e-13)


def test_scores_of_no_classes_are_refused(backend):
    # NumPy's "attempt to get argmax of an empty sequence" before.
    with pytest.raises(ValueError, match=r"x must have at least one class \(K >= 1\)"):
        SoftmaxWithLoss().forward(np.empty((2, 0)), np.empty((2, 0)))


# ---------------------------------------------------------------------------------------------
# item 13: numerical_gradient refuses float16


@pytest.mark.parametrize("fn", [numerical_gradient, numerical_gradient_2d, _numerical_gradient_1d])
def test_numerical_gradient_refuses_float16(fn):
    # x + 1e-4 rounds back to x in float16: the "gradient" of sum(x**2) at [3, 4] was [0, 0].
    x = np.array([3.0, 4.0], np.float16)
    with pytest.raises(TypeError, match=r"x must be float32 or float64.*dtype float16"):
        fn(lambda v: np.sum(v.astype(np.float64) ** 2), x)
    np.testing.assert_array_equal(x, [3.0, 4.0])  # untouched


def test_numerical_gradient_of_float32_still_works():
    x = np.array([3.0, 4.0], np.float32)
    grad = numerical_gradient(lambda v: np.sum(v.astype(np.float64) ** 2), x)
    assert grad.dtype == np.float32
    np.testing.assert_allclose(grad, [6.0, 8.0], rtol=1e-2)  # float32 rounds x + h
