"""The native ReLU, sigmoid and dropout kernels against the NumPy reference backend: random
shapes, both dtypes, every memory layout, NaN/inf, and bad input refused with a clear error.

Tolerances, by relative norm: float64 1e-12 and float32 1e-5. The native sigmoid uses glibc's
vector exp (4 ulp) where NumPy uses its own; both are a few ulp from the true value, so they
differ by a few ulp, far inside these bounds but not bit for bit. ReLU, dropout and the
sigmoid's backward do no rounding NumPy does not do in the same order, so they must be equal."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fastscratch._native as native
import fastscratch.reference as ref
from fastscratch.testing import assert_close
from fastscratch.testing import memory_layouts as layouts

DTYPES = (np.float32, np.float64)


arrays = st.sampled_from(DTYPES).flatmap(
    lambda dt: hnp.arrays(
        dt,
        hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=7),
        elements=st.floats(-50, 50, width=32),
    )
)


@settings(deadline=None, max_examples=60)
@given(arrays)
def test_relu_forward_equals_reference_in_every_layout(x):
    for name, xv in layouts(x).items():
        out, mask = native.relu_forward(xv)
        rout, rmask = ref.relu_forward(xv)
        assert mask.dtype == np.bool_ and out.dtype == x.dtype, name
        np.testing.assert_array_equal(mask, rmask)
        np.testing.assert_array_equal(out, rout)
        assert out is not xv


@settings(deadline=None, max_examples=60)
@given(arrays, st.data())
def test_relu_backward_zeroes_masked_entries_in_place_in_every_layout(dout, data):
    mask = data.draw(hnp.arrays(np.bool_, dout.shape))
    expected = ref.relu_backward(dout.copy(), mask)
    for mv in layouts(mask).values():
        for name, d in layouts(dout).items():  # fresh arrays: each is updated in place
            if not d.flags.writeable:
                continue
            returned = native.relu_backward(d, mv)
            assert returned is d, name
            np.testing.assert_array_equal(d, expected)


def test_relu_keeps_nan_and_infinities_as_the_book_does():
    x = np.array([np.nan, -np.inf, np.inf, -0.0, 0.0, -1.0, 2.0])
    out, mask = native.relu_forward(x)
    np.testing.assert_array_equal(mask, [False, True, False, True, True, True, False])
    np.testing.assert_array_equal(out, [np.nan, 0, np.inf, 0, 0, 0, 2.0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_backward_refuses_read_only_dout_and_leaves_it_unchanged(dtype):
    dout = np.ones(4, dtype)
    dout.flags.writeable = False
    with pytest.raises(ValueError, match="dout must be writeable"):
        native.relu_backward(dout, np.ones(4, bool))
    assert np.all(dout == 1)


@settings(deadline=None, max_examples=60)
@given(arrays)
def test_sigmoid_forward_matches_reference_in_every_layout(x):
    for xv in layouts(x).values():
        assert_close(native.sigmoid_forward(xv), ref.sigmoid_forward(xv))


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_is_stable_for_huge_magnitudes_and_keeps_nan(dtype, rng):
    big = np.finfo(dtype).max
    x = np.array(
        [-big, -1e4, -745.0, -88.0, -30.0, 0.0, 30.0, 88.0, 1e4, big, np.inf, -np.inf, np.nan],
        dtype,
    )
    with np.errstate(all="raise"):
        out = native.sigmoid_forward(x)  # no overflow anywhere, no warning
    assert np.isnan(out[-1])
    np.testing.assert_array_equal(out[[-4, -3, -2]], [1, 1, 0])
    assert np.all((out[:-1] >= 0) & (out[:-1] <= 1))
    assert_close(out[:-1], ref.sigmoid_forward(x[:-1]))
    x = (rng.standard_normal(10000) * 40).astype(dtype)
    assert_close(native.sigmoid_forward(x), ref.sigmoid_forward(x))


@settings(deadline=None, max_examples=40)
@given(arrays, st.data())
def test_sigmoid_backward_equals_reference(dout, data):
    out = data.draw(hnp.arrays(dout.dtype, dout.shape, elements=st.floats(0, 1, width=32)))
    for dv in layouts(dout).values():
        for ov in layouts(out).values():
            np.testing.assert_array_equal(
                native.sigmoid_backward(dv, ov), ref.sigmoid_backward(dv, ov)
            )


@settings(deadline=None, max_examples=60)
@given(arrays, st.floats(0, 1), st.data())
def test_dropout_equals_reference_for_the_callers_random_draws(x, ratio, data):
    rand = data.draw(hnp.arrays(np.float64, x.shape, elements=st.floats(0, 1)))
    rout, rmask = ref.dropout_forward_train(x, rand, ratio)
    for xv in layouts(x).values():
        for rv in layouts(rand).values():
            out, mask = native.dropout_forward_train(xv, rv, ratio)
            np.testing.assert_array_equal(mask, rmask)
            np.testing.assert_array_equal(out, rout)
            assert out.dtype == x.dtype
    dout = x[::-1] if x.ndim else x
    for mv in layouts(np.asarray(rmask)).values():  # NumPy gives a 0-d input a scalar mask
        np.testing.assert_array_equal(
            native.dropout_backward(dout, mv), ref.dropout_backward(dout, rmask)
        )


def test_dropout_keeps_nan_times_zero_like_numpy_and_seeds_reproduce_the_book():
    x = np.array([np.nan, np.inf, -1.0, 2.0])
    rand = np.array([0.1, 0.1, 0.1, 0.9])
    out, mask = native.dropout_forward_train(x, rand, 0.5)
    with np.errstate(invalid="ignore"):  # NaN*0 = NaN, inf*0 = NaN, -1*0 = -0
        np.testing.assert_array_equal(out, x * (rand > 0.5))
    np.random.seed(3)
    x = np.random.randn(5, 7)
    r = np.random.rand(*x.shape)
    np.testing.assert_array_equal(native.dropout_forward_train(x, r, 0.3)[1], r > 0.3)


def test_dropout_with_float32_draws_compares_like_numpy():
    rand = np.array([0.3, np.float32(0.3), 0.30000001], np.float32)
    x = np.ones(3)
    np.testing.assert_array_equal(native.dropout_forward_train(x, rand, 0.3)[1], rand > 0.3)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: native.relu_forward([1.0]), TypeError, "x must be a numpy.ndarray, got list"),
        (
            lambda: native.relu_forward(np.ones(2, np.int64)),
            TypeError,
            "float32 or float64, got int64",
        ),
        (
            lambda: native.relu_backward(np.ones(3), np.ones(2, bool)),
            ValueError,
            r"mask must have shape \(3,\), got \(2,\)",
        ),
        (
            lambda: native.relu_backward(np.ones(3), np.ones(3)),
            TypeError,
            "mask must have dtype bool, got float64",
        ),
        (
            lambda: native.sigmoid_backward(np.ones(3), np.ones(3, np.float32)),
            TypeError,
            r"out must have the dtype of dout \(float64\), got float32",
        ),
        (
            lambda: native.sigmoid_backward(np.ones(3), np.ones(4)),
            ValueError,
            r"out must have the shape of dout \(3,\), got \(4,\)",
        ),
        (
            lambda: native.dropout_forward_train(np.ones(3), np.ones(2), 0.5),
            ValueError,
            r"rand must have the shape of x \(3,\), got \(2,\)",
        ),
        (
            lambda: native.dropout_forward_train(np.ones(3), np.ones(3, int), 0.5),
            TypeError,
            "rand must have a float dtype",
        ),
        (
            lambda: native.dropout_backward(np.ones(3), np.ones((3, 1), bool)),
            ValueError,
            r"mask must have shape \(3,\)",
        ),
    ],
)
def test_bad_input_is_refused_naming_argument_expected_and_actual(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("dtype", DTYPES)
def test_large_arrays_take_the_threaded_path_and_still_match(dtype, rng):
    x = rng.standard_normal((700, 1000)).astype(dtype)  # past the parallel threshold
    np.testing.assert_array_equal(native.relu_forward(x)[0], ref.relu_forward(x)[0])
    assert_close(native.sigmoid_forward(x), ref.sigmoid_forward(x))
    r = rng.random(x.shape)
    np.testing.assert_array_equal(
        native.dropout_forward_train(x, r, 0.5)[0], ref.dropout_forward_train(x, r, 0.5)[0]
    )
