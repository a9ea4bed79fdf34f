"""fastscratch.gradient: central differences that restore x, work for any shape and layout,
and refuse integer arrays instead of returning garbage."""

import numpy as np
import pytest

from fastscratch.gradient import _numerical_gradient_1d, numerical_gradient, numerical_gradient_2d


def test_numerical_gradient_of_a_cubic_for_any_shape(rng):
    x = rng.standard_normal((2, 3, 4))
    original = x.copy()
    grad = numerical_gradient(lambda a: np.sum(a**3), x)
    assert grad.shape == x.shape and grad.dtype == x.dtype
    np.testing.assert_allclose(grad, 3 * original**2, rtol=1e-7, atol=1e-7)
    np.testing.assert_array_equal(x, original)


def test_numerical_gradient_through_a_live_array_the_lambda_ignores(rng):
    params = {"W": rng.standard_normal((3, 2))}

    def loss(_):
        return np.sum(params["W"] ** 2)

    grad = numerical_gradient(loss, params["W"])
    np.testing.assert_allclose(grad, 2 * params["W"], rtol=1e-8)


def test_numerical_gradient_of_a_non_contiguous_view(rng):
    base = rng.standard_normal((4, 6))
    original = base.copy()
    view = base[::2, ::-3]
    target = np.arange(view.size, dtype=float).reshape(view.shape)
    grad = numerical_gradient(lambda a: np.sum(a * target), view)
    np.testing.assert_allclose(grad, target, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(base, original)


def test_numerical_gradient_restores_x_when_f_raises():
    x = np.array([1.0, 2.0])

    def f(_):
        raise ArithmeticError("boom")

    with pytest.raises(ArithmeticError):
        numerical_gradient(f, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])


@pytest.mark.parametrize("fn", [numerical_gradient, numerical_gradient_2d, _numerical_gradient_1d])
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
def test_integer_arrays_are_refused(fn, dtype):
    with pytest.raises(TypeError, match="floating array"):
        fn(lambda a: np.sum(a), np.ones(3, dtype=dtype))


def test_read_only_and_non_array_x_are_refused():
    readonly = np.ones(3)
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        numerical_gradient(np.sum, readonly)
    with pytest.raises(TypeError, match="x must be a NumPy array"):
        numerical_gradient(np.sum, [1.0, 2.0])


def test_numerical_gradient_2d_goes_row_by_row(rng):
    X = rng.standard_normal((3, 4))
    # f sees one row at a time: the gradient of sum(row**2) is 2*row for each row
    np.testing.assert_allclose(numerical_gradient_2d(lambda r: np.sum(r**2), X), 2 * X, rtol=1e-8)
    x = rng.standard_normal(5)
    np.testing.assert_allclose(numerical_gradient_2d(lambda r: np.sum(r**2), x), 2 * x, rtol=1e-8)


def test_numerical_gradient_1d(rng):
    x = rng.standard_normal(5)
    np.testing.assert_allclose(
        _numerical_gradient_1d(lambda a: np.sum(np.sin(a)), x), np.cos(x), rtol=1e-7
    )


@pytest.mark.parametrize("fn", [numerical_gradient, numerical_gradient_2d])
@pytest.mark.parametrize("returned", [None, "loss", [1.0], np.ones(3)], ids=repr)
def test_f_that_returns_no_number_is_named_and_x_is_restored(fn, returned):
    # "unsupported operand type(s) for -: 'NoneType' and 'NoneType'", or NumPy's "setting an
    # array element with a sequence": neither named f
    x = np.ones((2, 3))
    with pytest.raises(TypeError, match="f must return a real number"):
        fn(lambda _: returned, x)
    np.testing.assert_array_equal(x, np.ones((2, 3)))
