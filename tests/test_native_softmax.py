"""The native softmax and softmax cross-entropy kernels against the NumPy reference backend.

Tolerances, by relative norm: float64 1e-12, float32 1e-5. Softmax goes through exp, which
glibc's vector exp and NumPy's compute a few ulp apart, and the native row sum runs in double:
both differ from NumPy by a few ulp, far inside these bounds. The loss's backward only divides
and subtracts as NumPy does, so it must be equal."""

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


scores = st.sampled_from(DTYPES).flatmap(
    lambda dt: hnp.arrays(
        dt,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=12),
        elements=st.floats(-80, 80, width=32),
    )
)


@settings(deadline=None, max_examples=60)
@given(
    st.sampled_from(DTYPES).flatmap(
        lambda dt: hnp.arrays(
            dt,
            hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=7),
            elements=st.floats(-80, 80, width=32),
        )
    )
)
def test_softmax_matches_reference_along_the_last_axis_in_any_layout(x):
    for xv in layouts(x).values():
        y = native.softmax(xv)
        assert_close(y, ref.softmax(xv))
        assert_close(y.sum(axis=-1), np.ones(x.shape[:-1], x.dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_subtracts_the_row_maximum_so_huge_scores_do_not_overflow(dtype):
    big = np.finfo(dtype).max / 2
    x = np.array([[big, big, 0], [-big, -big, -big], [1e4, 0, -1e4]], dtype)
    with np.errstate(all="raise"):
        y = native.softmax(x)
    assert_close(y, ref.softmax(x))
    np.testing.assert_allclose(y[0], [0.5, 0.5, 0])


def test_softmax_propagates_nan_and_inf_like_numpy():
    x = np.array([[np.nan, 0.0, 1.0], [np.inf, 0.0, 1.0], [-np.inf, 0.0, 0.0]])
    with np.errstate(invalid="ignore"):
        expected = ref.softmax(x)
    np.testing.assert_allclose(native.softmax(x), expected, rtol=1e-12, equal_nan=True)


def test_softmax_of_an_empty_batch_is_empty_and_no_classes_is_refused():
    assert native.softmax(np.zeros((0, 5))).shape == (0, 5)
    with pytest.raises(ValueError, match="at least one entry along its last axis"):
        native.softmax(np.zeros((3, 0)))


@settings(deadline=None, max_examples=60)
@given(scores, st.data())
def test_softmax_loss_forward_matches_reference(x, data):
    labels = np.array(
        data.draw(
            st.lists(st.integers(0, x.shape[1] - 1), min_size=x.shape[0], max_size=x.shape[0])
        ),
        np.int64,
    )
    rloss, ry = ref.softmax_loss_forward(x, labels)
    for xv in layouts(x).values():
        loss, y = native.softmax_loss_forward(xv, labels)
        assert type(loss) is x.dtype.type
        assert_close(y, ry)
        # The loss is a mean of -log(y + 1e-7) terms: a rounding of y near 1 moves it by ~1 ulp
        # absolutely, which is large relative to a loss near 0. Bound it relative to 1.
        assert_close(np.asarray(loss), np.asarray(rloss), floor=1.0)


def test_softmax_loss_keeps_the_books_1e7_inside_the_log():
    x = np.array([[0.0, -1e4]])  # y[0, 1] underflows to 0: the loss is -log(1e-7), not inf
    loss, _ = native.softmax_loss_forward(x, np.array([1]))
    assert loss == pytest.approx(-np.log(1e-7))


def test_softmax_loss_of_an_empty_batch_is_nan_like_numpys():
    loss, y = native.softmax_loss_forward(np.zeros((0, 3), np.float32), np.zeros(0, np.int64))
    assert np.isnan(loss) and type(loss) is np.float32 and y.shape == (0, 3)


@settings(deadline=None, max_examples=60)
@given(scores, st.data())
def test_softmax_loss_backward_equals_reference_for_labels_and_one_hot(x, data):
    y = ref.softmax(x)
    labels = np.array(
        data.draw(
            st.lists(st.integers(0, x.shape[1] - 1), min_size=x.shape[0], max_size=x.shape[0])
        ),
        np.int64,
    )
    one_hot = np.eye(x.shape[1], dtype=x.dtype)[labels]
    for yv in layouts(y).values():
        np.testing.assert_array_equal(
            native.softmax_loss_backward(yv, labels, None),
            ref.softmax_loss_backward(y, labels, None),
        )
        for tv in layouts(one_hot).values():
            np.testing.assert_array_equal(
                native.softmax_loss_backward(yv, labels, tv),
                ref.softmax_loss_backward(y, labels, one_hot),
            )


def test_softmax_loss_backward_promotes_float32_y_with_float64_one_hot():
    y = np.full((2, 2), 0.5, np.float32)
    t = np.eye(2)
    dx = native.softmax_loss_backward(y, np.array([0, 1]), t)
    assert dx.dtype == np.float64
    np.testing.assert_array_equal(dx, (y - t) / 2)


@pytest.mark.parametrize("dtype", DTYPES)
def test_large_batches_take_the_threaded_path_and_still_match(dtype, rng):
    x = (rng.standard_normal((20000, 10)) * 5).astype(dtype)
    labels = rng.integers(0, 10, 20000)
    loss, y = native.softmax_loss_forward(x, labels)
    rloss, ry = ref.softmax_loss_forward(x, labels)
    assert_close(y, ry)
    assert_close(np.asarray(loss), np.asarray(rloss))
    np.testing.assert_array_equal(
        native.softmax_loss_backward(ry, labels, None), ref.softmax_loss_backward(ry, labels, None)
    )


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: native.softmax(np.float64(1.0)), TypeError, "x must be a numpy.ndarray"),
        (lambda: native.softmax(np.array(1.0)), ValueError, "at least 1 dimension"),
        (
            lambda: native.softmax_loss_forward(np.ones(3), np.zeros(3, np.int64)),
            ValueError,
            r"x must be 2-D, got shape \(3,\)",
        ),
        (
            lambda: native.softmax_loss_forward(np.ones((2, 3)), np.zeros(2, np.int32)),
            TypeError,
            "labels must have dtype int64, got int32",
        ),
        (
            lambda: native.softmax_loss_forward(np.ones((2, 3)), np.zeros(3, np.int64)),
            ValueError,
            r"labels must have shape \(2,\) \(one per row\), got \(3,\)",
        ),
        (
            lambda: native.softmax_loss_forward(np.ones((2, 3)), np.array([0, 3])),
            ValueError,
            r"labels must be in \[0, 3\), got 3 at 1",
        ),
        (
            lambda: native.softmax_loss_backward(np.ones((2, 3)), np.array([-1, 0]), None),
            ValueError,
            r"labels must be in \[0, 3\), got -1 at 0",
        ),
        (
            lambda: native.softmax_loss_backward(np.ones((2, 3)), None, np.ones((3, 2))),
            ValueError,
            r"one_hot must have the shape of y \(2, 3\), got \(3, 2\)",
        ),
        (
            lambda: native.softmax_loss_backward(np.ones((2, 3)), None, [[1, 0, 0]]),
            TypeError,
            "one_hot must be a numpy.ndarray",
        ),
    ],
)
def test_bad_input_is_refused_naming_argument_expected_and_actual(call, error, message):
    with pytest.raises(error, match=message):
        call()
