"""fastscratch.functions: the book's activation and loss functions, with the book's NumPy
semantics (JP edition where JP and KR differ)."""

import numpy as np
import pytest

from fastscratch import functions as F


def test_identity_returns_its_argument():
    x = np.arange(3.0)
    assert F.identity_function(x) is x


def test_step_function_returns_int_ones_above_zero():
    out = F.step_function(np.array([-1.0, 0.0, 0.5]))
    assert out.dtype == np.dtype(int)
    np.testing.assert_array_equal(out, [0, 0, 1])


def test_sigmoid_keeps_float32_and_saturates_with_the_books_warning():
    x = np.array([-1000.0, 0.0, 2.0], dtype=np.float32)
    with pytest.warns(RuntimeWarning, match="overflow encountered in exp"):
        out = F.sigmoid(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [0.0, 0.5, 1 / (1 + np.exp(-2.0))], rtol=1e-6)
    with np.errstate(over="ignore"):  # NumPy's settings apply, as to the book's expression
        F.sigmoid(x)


def test_sigmoid_gives_the_books_numbers_bit_for_bit():
    x = np.random.default_rng(0).standard_normal(1000) * 10
    for dtype in (np.float32, np.float64):
        xs = x.astype(dtype)
        assert np.array_equal(F.sigmoid(xs), 1 / (1 + np.exp(-xs)))


def test_sigmoid_grad_is_s_times_one_minus_s():
    x = np.linspace(-3, 3, 7)
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(F.sigmoid_grad(x), (1 - s) * s, rtol=1e-15)


def test_relu_and_relu_grad_which_is_one_at_zero():
    x = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(F.relu(x), [0.0, 0.0, 3.0])
    grad = F.relu_grad(x)
    np.testing.assert_array_equal(grad, [0.0, 1.0, 1.0])
    assert grad.dtype == x.dtype


@pytest.mark.parametrize("shape", [(5,), (3, 5), (2, 3, 5)])
def test_softmax_normalises_the_last_axis(backend, rng, shape):
    x = rng.standard_normal(shape) * 3
    y = F.softmax(x)
    e = np.exp(x)
    np.testing.assert_allclose(y, e / e.sum(axis=-1, keepdims=True), rtol=1e-13)


def test_softmax_is_stable_for_large_scores_and_keeps_float32(backend):
    y = F.softmax(np.array([1000.0, 1000.0, 0.0], dtype=np.float32))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, [0.5, 0.5, 0.0], atol=1e-7)


def test_sum_squared_error_is_half_the_sum_not_a_mean():
    y, t = np.array([[0.1, 0.9], [0.6, 0.4]]), np.array([[0.0, 1.0], [1.0, 0.0]])
    expected = 0.5 * (0.01 + 0.01 + 0.16 + 0.16)
    assert F.sum_squared_error(y, t) == pytest.approx(expected, rel=1e-14)
    assert F.mean_squared_error(y, t) == F.sum_squared_error(y, t)


def test_cross_entropy_labels_and_one_hot_agree_with_the_formula(backend, rng):
    y = F.softmax(rng.standard_normal((4, 3)))
    labels = np.array([0, 2, 1, 2], dtype=np.uint8)
    expected = -np.sum(np.log(y[np.arange(4), labels] + 1e-7)) / 4
    assert F.cross_entropy_error(y, labels) == pytest.approx(expected, rel=1e-14)
    assert F.cross_entropy_error(y, np.eye(3)[labels]) == pytest.approx(expected, rel=1e-14)


def test_cross_entropy_of_one_sample_and_of_a_perfect_guess():
    y = np.array([0.1, 0.7, 0.2])
    assert F.cross_entropy_error(y, np.array([0, 1, 0])) == pytest.approx(-np.log(0.7 + 1e-7))
    assert F.cross_entropy_error(y, 1) == pytest.approx(-np.log(0.7 + 1e-7))
    assert F.cross_entropy_error(np.array([[0.0, 1.0]]), np.array([1])) == pytest.approx(
        -np.log(1 + 1e-7)
    )


def test_cross_entropy_keeps_float32():
    loss = F.cross_entropy_error(np.array([[0.2, 0.8]], dtype=np.float32), np.array([1]))
    assert loss.dtype == np.float32


@pytest.mark.parametrize("bad", [-1, 3])
def test_cross_entropy_refuses_labels_out_of_range(bad):
    with pytest.raises(ValueError, match="labels in \\[0, 3\\)"):
        F.cross_entropy_error(np.full((2, 3), 1 / 3), np.array([0, bad]))


def test_softmax_loss_is_cross_entropy_of_softmax(backend, rng):
    x, t = rng.standard_normal((4, 5)), np.array([1, 0, 4, 4])
    assert F.softmax_loss(x, t) == pytest.approx(F.cross_entropy_error(F.softmax(x), t), rel=1e-15)


def test_star_imports_give_np_like_the_books_modules():
    # The book's common/*.py have no __all__, so `from common.layers import *` also binds np.
    for module in ("functions", "layers", "util", "optimizer", "gradient"):
        namespace = {}
        exec(f"from fastscratch.{module} import *", namespace)
        assert namespace["np"] is np, module


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # np.matrix's own
def test_np_matrix_input_computes_elementwise():
    # The book's `(1.0 - s) * s` and `(y - t) ** 2` are matrix products for np.matrix operands:
    # 4x4 input gave other numbers without a word.
    a = np.random.default_rng(0).standard_normal((4, 4))
    np.testing.assert_array_equal(F.sigmoid_grad(np.asmatrix(a)), F.sigmoid_grad(a))
    assert F.sum_squared_error(np.asmatrix(a), np.asmatrix(2 * a)) == F.sum_squared_error(a, 2 * a)
