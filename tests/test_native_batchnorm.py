"""The native batch normalisation kernels against the NumPy reference backend.

On C-ordered input the native kernels sum each column over the rows in order and round every
step where NumPy does, so they equal NumPy bit for bit (tested). For other layouts NumPy itself
sums in another order (pairwise along a contiguous axis), so those are compared by relative norm:
float64 1e-12, float32 1e-5 (a few ulp of rounding-order difference, amplified at most by the
1/std of a column)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fastscratch._native as native
import fastscratch.reference as ref
from fastscratch import testing
from fastscratch.testing import memory_layouts as layouts

DTYPES = (np.float32, np.float64)


def assert_close(actual, expected):
    """The contract's bound relative to max(norm, 1), the inputs' scale: a constant column has
    var exactly 0 in one summation order and a few ulp of |x| in another."""
    testing.assert_close(actual, expected, floor=1.0)


def batch(dtype, max_rows=9, max_cols=70):
    return hnp.arrays(
        dtype,
        st.tuples(st.integers(1, max_rows), st.integers(0, max_cols)),
        elements=st.floats(-10, 10, width=32),
    )


@settings(deadline=None, max_examples=50)
@given(st.sampled_from(DTYPES), st.data())
def test_forward_train_and_backward_equal_the_reference_on_c_ordered_input(dtype, data):
    x = data.draw(batch(dtype))
    D = x.shape[1]
    gamma, beta, dout = (
        data.draw(hnp.arrays(dtype, s, elements=st.floats(-2, 2, width=32)))
        for s in (D, D, x.shape)
    )
    got, want = (
        native.batchnorm_forward_train(x, gamma, beta, 1e-6),
        ref.batchnorm_forward_train(x, gamma, beta, 1e-6),
    )
    # Not bit for bit: NumPy's column sums vectorise differently per CPU and build (an
    # instrumented build rounded one float32 mean 1 ulp apart), so the contract's bound holds.
    for g, w in zip(got, want):
        assert_close(g, w)
        assert g.dtype == dtype
    _, _, _, xc, xn, std = want
    for g, w in zip(
        native.batchnorm_backward(dout, gamma, xc, xn, std),
        ref.batchnorm_backward(dout, gamma, xc, xn, std),
    ):
        assert_close(g, w)


@settings(deadline=None, max_examples=30)
@given(st.sampled_from(DTYPES), st.data())
def test_every_layout_matches_the_reference(dtype, data):
    x = data.draw(batch(dtype, max_cols=12)) + data.draw(st.floats(-3, 3))
    x = x.astype(dtype)
    D = x.shape[1]
    if D == 0:
        return
    gamma = np.linspace(0.5, 2, D).astype(dtype)
    beta = np.linspace(-1, 1, D).astype(dtype)
    want = ref.batchnorm_forward_train(x, gamma, beta, 1e-6)
    dout = np.cos(np.arange(x.size)).reshape(x.shape).astype(dtype)
    want_b = ref.batchnorm_backward(dout, gamma, *want[3:])
    for xv in layouts(x).values():
        got = native.batchnorm_forward_train(xv, gamma[::-1][::-1], beta, 1e-6)
        for g, w in zip(got, want):
            assert_close(g, w)
        for dv in layouts(dout).values():
            for g, w in zip(native.batchnorm_backward(dv, gamma, *want[3:]), want_b):
                assert_close(g, w)


@settings(deadline=None, max_examples=40)
@given(st.sampled_from(DTYPES), st.data())
def test_forward_test_mode_equals_reference(dtype, data):
    x = data.draw(
        hnp.arrays(
            dtype,
            st.tuples(st.integers(0, 6), st.integers(0, 9)),
            elements=st.floats(-10, 10, width=32),
        )
    )
    D = x.shape[1]
    gamma, beta, mean = (np.sin(np.arange(D) + k).astype(dtype) for k in range(3))
    var = (np.arange(D) / 3).astype(dtype)
    want = ref.batchnorm_forward_test(x, gamma, beta, mean, var, 1e-6)
    for xv in layouts(x).values():
        got = native.batchnorm_forward_test(xv, gamma, beta, mean, var, 1e-6)
        if xv.flags.c_contiguous:
            np.testing.assert_array_equal(got, want)
        assert_close(got, want)


@pytest.mark.parametrize("dtype", DTYPES)
def test_large_batches_split_columns_between_threads_and_stay_exact(dtype, rng):
    x = rng.standard_normal((300, 4321)).astype(dtype)  # past the threshold, ragged last block
    gamma, beta = rng.standard_normal(4321).astype(dtype), rng.standard_normal(4321).astype(dtype)
    got, want = (
        native.batchnorm_forward_train(x, gamma, beta, 1e-6),
        ref.batchnorm_forward_train(x, gamma, beta, 1e-6),
    )
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    dout = rng.standard_normal(x.shape).astype(dtype)
    for g, w in zip(
        native.batchnorm_backward(dout, gamma, *want[3:]),
        ref.batchnorm_backward(dout, gamma, *want[3:]),
    ):
        np.testing.assert_array_equal(g, w)


def test_nan_in_a_column_stays_in_that_column():
    x = np.array([[1.0, np.nan], [2.0, 3.0]])
    out = native.batchnorm_forward_train(x, np.ones(2), np.zeros(2), 1e-6)[0]
    assert np.all(np.isfinite(out[:, 0])) and np.all(np.isnan(out[:, 1]))


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda: native.batchnorm_forward_train(np.ones((0, 3)), np.ones(3), np.ones(3), 1e-6),
            ValueError,
            "at least one sample",
        ),
        (
            lambda: native.batchnorm_forward_train(np.ones(3), np.ones(3), np.ones(3), 1e-6),
            ValueError,
            r"x must be 2-D, got shape \(3,\)",
        ),
        (
            lambda: native.batchnorm_forward_train(np.ones((2, 3)), np.ones(4), np.ones(3), 1e-6),
            ValueError,
            r"gamma must have 3 elements \(one per column of x\), got shape \(4,\)",
        ),
        (
            lambda: native.batchnorm_forward_train(
                np.ones((2, 3)), np.ones(3, np.float32), np.ones(3), 1e-6
            ),
            TypeError,
            r"gamma must have the dtype of x \(float64\), got float32",
        ),
        (
            lambda: native.batchnorm_forward_test(
                np.ones((2, 3)), np.ones(3), np.ones(3), np.ones(2), np.ones(3), 1e-6
            ),
            ValueError,
            "running_mean must have 3 elements",
        ),
        (
            lambda: native.batchnorm_backward(
                np.ones((2, 3)), np.ones(3), np.ones((2, 2)), np.ones((2, 3)), np.ones(3)
            ),
            ValueError,
            r"xc must have the shape of dout \(2, 3\), got \(2, 2\)",
        ),
        (
            lambda: native.batchnorm_backward(
                np.ones((0, 3)), np.ones(3), np.ones((0, 3)), np.ones((0, 3)), np.ones(3)
            ),
            ValueError,
            "dout must hold at least one sample",
        ),
        (
            lambda: native.batchnorm_backward(
                np.ones((2, 3)), np.ones(3), np.ones((2, 3)), np.ones((2, 3)), "std"
            ),
            TypeError,
            "std must be a numpy.ndarray, got str",
        ),
    ],
)
def test_bad_input_is_refused_naming_argument_expected_and_actual(call, error, message):
    with pytest.raises(error, match=message):
        call()
