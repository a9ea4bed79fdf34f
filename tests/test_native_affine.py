"""Native affine against the reference backend: random sizes (0 included), both dtypes, every
memory layout of x, W and dout (a Fortran W goes to the GEMM as is), and bad input refused."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastscratch import _native as native
from fastscratch import reference
from fastscratch.testing import assert_close
from fastscratch.testing import memory_layouts as layouts

DTYPES = (np.float32, np.float64)
LAYOUTS = ("c", "fortran", "negative_stride", "strided", "readonly")


def _as(a, layout):
    return a if layout == "c" else layouts(a)[layout]


def _assert_the_fused_relu_of(out, fused):
    """The fused affine + ReLU gave the bits of relu_forward on the affine forward's `out`."""
    want_out, want_mask = native.relu_forward(out)
    got_out, got_mask = fused
    assert got_out.dtype == out.dtype and got_mask.dtype == np.bool_
    np.testing.assert_array_equal(got_out.view(np.uint8), want_out.view(np.uint8))
    np.testing.assert_array_equal(got_mask, want_mask)


@settings(max_examples=150, deadline=None)
@given(
    N=st.integers(0, 9),
    D=st.integers(0, 9),
    M=st.integers(0, 9),
    dtype=st.sampled_from(DTYPES),
    x_layout=st.sampled_from(LAYOUTS),
    w_layout=st.sampled_from(LAYOUTS),
    dout_layout=st.sampled_from(LAYOUTS),
    seed=st.integers(0, 2**32 - 1),
)
def test_affine_matches_reference_in_any_layout(
    N, D, M, dtype, x_layout, w_layout, dout_layout, seed
):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, D)).astype(dtype)
    w = rng.standard_normal((D, M)).astype(dtype)
    b = rng.standard_normal(M).astype(dtype)
    dout = rng.standard_normal((N, M)).astype(dtype)
    xv, wv, dv = _as(x, x_layout), _as(w, w_layout), _as(dout, dout_layout)
    out = native.affine_forward(xv, wv, b)
    assert out.flags.c_contiguous
    assert_close(out, reference.affine_forward(x, w, b))
    _assert_the_fused_relu_of(out, native.affine_relu_forward(xv, wv, b))
    for got, want in zip(native.affine_backward(dv, xv, wv), reference.affine_backward(dout, x, w)):
        assert_close(got, want)
    for view, original in ((xv, x), (wv, w), (dv, dout)):
        np.testing.assert_array_equal(view, original)  # inputs untouched


@pytest.mark.parametrize("dtype", DTYPES)
def test_affine_matches_reference_on_simpleconvnet_shape(rng, dtype):
    x = rng.standard_normal((100, 4320)).astype(dtype)
    w = np.asfortranarray(rng.standard_normal((4320, 100)).astype(dtype))
    b = rng.standard_normal(100).astype(dtype)
    dout = rng.standard_normal((100, 100)).astype(dtype)
    assert_close(native.affine_forward(x, w, b), reference.affine_forward(x, w, b))
    for got, want in zip(native.affine_backward(dout, x, w), reference.affine_backward(dout, x, w)):
        assert_close(got, want)


def test_affine_reads_transposed_views_in_place():
    # x.T of a C array is Fortran-ordered; both must give x @ W + b exactly as a copy would
    rng = np.random.default_rng(1)
    xt = rng.standard_normal((6, 4))
    w = rng.standard_normal((6, 3))
    b = rng.standard_normal(3)
    np.testing.assert_array_equal(
        native.affine_forward(xt.T, w, b), native.affine_forward(np.ascontiguousarray(xt.T), w, b)
    )


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda x, w, b: native.affine_forward(x[0], w, b), ValueError, "x must be 2-D"),
        (lambda x, w, b: native.affine_forward(x, w[None], b), ValueError, "W must be 2-D"),
        (lambda x, w, b: native.affine_forward(x[:, :3], w, b), ValueError, "features"),
        (lambda x, w, b: native.affine_forward(x, w, b[:2]), ValueError, "b must have shape"),
        (
            lambda x, w, b: native.affine_forward(x, w.astype(np.float32), b),
            TypeError,
            "W must have",
        ),
        (
            lambda x, w, b: native.affine_forward(x, w, b.astype(np.float32)),
            TypeError,
            "b must have",
        ),
        (lambda x, w, b: native.affine_forward(x.astype(complex), w, b), TypeError, "x must have"),
        (lambda x, w, b: native.affine_forward(x.tolist(), w, b), TypeError, "numpy.ndarray"),
        (
            lambda x, w, b: native.affine_backward(np.ones((5, 4)), x, w),
            ValueError,
            "dout must have shape",
        ),
        (
            lambda x, w, b: native.affine_backward(np.ones((5, 3), np.float32), x, w),
            TypeError,
            "dout must have",
        ),
    ],
)
def test_affine_binding_refuses_bad_input(rng, call, error, words):
    x, w, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)
    with pytest.raises(error, match=words):
        call(x, w, b)


# float32 x against float64 W and b (the book's MNIST against its nets): widened in the kernel.

WIDENED_LAYOUTS = LAYOUTS + ("rows",)


def _x_as(x, layout):
    """x in `layout`; "rows": a view of the first columns of a wider array (rows read in place)."""
    if layout == "rows":
        wide = np.zeros((x.shape[0], x.shape[1] + 5), x.dtype)
        wide[:, : x.shape[1]] = x
        return wide[:, : x.shape[1]]
    return _as(x, layout)


@settings(max_examples=60, deadline=None)
@given(
    N=st.sampled_from([0, 1, 3, 100, 167, 168, 401, 1000]),
    D=st.sampled_from([1, 7, 784]),
    M=st.integers(1, 60),
    x_layout=st.sampled_from(WIDENED_LAYOUTS),
    w_layout=st.sampled_from(LAYOUTS),
    seed=st.integers(0, 2**32 - 1),
)
def test_widened_affine_is_numpys_promotion(N, D, M, x_layout, w_layout, seed):
    # N spans one block and several (167 rows of 784 features each; 8 to 512 rows)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, D)).astype(np.float32)
    w = rng.standard_normal((D, M))
    b = rng.standard_normal(M)
    xv, wv = _x_as(x, x_layout), _as(w, w_layout)
    out = native.affine_forward_widened(xv, wv, b)
    assert out.dtype == np.float64 and out.flags.c_contiguous
    _assert_the_fused_relu_of(out, native.affine_relu_forward_widened(xv, wv, b))
    want = np.dot(x, w) + b  # NumPy's own promotion
    assert_close(out, want)
    assert_close(reference.affine_forward_widened(x, w, b), want)
    np.testing.assert_array_equal(xv, x)  # inputs untouched
    np.testing.assert_array_equal(wv, w)


def test_widened_affine_bits_do_not_depend_on_the_threads():
    import fastscratch

    rng = np.random.default_rng(3)
    x = rng.standard_normal((1000, 784)).astype(np.float32)
    w, b = rng.standard_normal((784, 50)), rng.standard_normal(50)
    before = fastscratch.get_num_threads()
    try:
        outs = []
        for threads in (1, 2):
            fastscratch.set_num_threads(threads)
            outs.append(native.affine_forward_widened(x, w, b))
    finally:
        fastscratch.set_num_threads(before)
    np.testing.assert_array_equal(outs[0], outs[1])


def test_widened_affine_of_one_block_is_the_float64_product_bit_for_bit():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((100, 784)).astype(np.float32)
    w, b = rng.standard_normal((784, 50)), rng.standard_normal(50)
    np.testing.assert_array_equal(
        native.affine_forward_widened(x, w, b), native.affine_forward(x.astype(np.float64), w, b)
    )


def test_affine_forward_of_float32_x_and_float64_weights_takes_the_widened_kernel(
    monkeypatch, backend
):
    from fastscratch import kernels

    module = native if backend == "native" else reference
    calls = []
    real = module.affine_forward_widened
    monkeypatch.setattr(module, "affine_forward_widened", lambda *a: calls.append(a) or real(*a))
    rng = np.random.default_rng(5)
    x = rng.standard_normal((300, 784)).astype(np.float32)
    w, b = rng.standard_normal((784, 50)), rng.standard_normal(50)
    out = kernels.affine_forward(x, w, b)
    assert len(calls) == 1 and calls[0][0] is x  # x handed over as float32, not copied
    assert out.dtype == np.float64
    assert_close(out, np.dot(x, w) + b)


@pytest.mark.parametrize(
    "args, error, words",
    [
        (lambda x, w, b: (x.astype(np.float64), w, b), TypeError, "x must have dtype float32"),
        (lambda x, w, b: (x, w.astype(np.float32), b), TypeError, "W must have dtype float64"),
        (lambda x, w, b: (x, w, b.astype(np.float32)), TypeError, "b must have dtype float64"),
        (lambda x, w, b: (x[0], w, b), ValueError, "x must be 2-D"),
        (lambda x, w, b: (x, w[None], b), ValueError, "W must be 2-D"),
        (lambda x, w, b: (x[:, :3], w, b), ValueError, "features"),
        (lambda x, w, b: (x, w, b[:2]), ValueError, "b must have shape"),
        (lambda x, w, b: (x.tolist(), w, b), TypeError, "numpy.ndarray"),
    ],
)
def test_widened_affine_binding_refuses_bad_input(rng, args, error, words):
    x = rng.standard_normal((5, 4)).astype(np.float32)
    w, b = rng.standard_normal((4, 3)), rng.standard_normal(3)
    with pytest.raises(error, match=words):
        native.affine_forward_widened(*args(x, w, b))


def _non_finite(a, rng, count=3):
    """A copy of `a` with `count` entries set to NaN, inf or -inf."""
    a = a.copy()
    flat = a.reshape(-1)
    for i in rng.integers(0, flat.size, size=count):
        flat[i] = rng.choice([np.nan, np.inf, -np.inf])
    return a


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
@pytest.mark.parametrize("where", ["x", "W", "none"])
@pytest.mark.parametrize("N", [1, 100, 400])
def test_widened_affine_puts_nan_and_inf_where_numpy_does(where, N):
    rng = np.random.default_rng(N)
    x = rng.standard_normal((N, 784)).astype(np.float32)
    w, b = rng.standard_normal((784, 70)), rng.standard_normal(70)
    if where == "x":
        x = _non_finite(x, rng)
    elif where == "W":
        w = _non_finite(w, rng)
    assert_close(native.affine_forward_widened(x, w, b), np.dot(x, w) + b)


# Products of fewer than 16 rows (a batch of one) go by C's columns over the threads, and one
# row unsplit by the BLAS's matrix-vector product: against the reference, W in both orders
# (GEMV's two forms), both dtypes, one thread and two, finite or not.
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("N", [1, 3, 15])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("finite", [True, False])
def test_products_of_few_rows_match_the_reference(dtype, N, order, threads, finite):
    import fastscratch

    rng = np.random.default_rng(N + 7 * threads)
    x = rng.standard_normal((N, 4320)).astype(dtype)
    w = np.asarray(rng.standard_normal((4320, 100)).astype(dtype), order=order)
    b = rng.standard_normal(100).astype(dtype)
    dout = rng.standard_normal((N, 100)).astype(dtype)
    if not finite:
        x, w = _non_finite(x, rng), _non_finite(w, rng, 2)
    before = fastscratch.get_num_threads()
    try:
        fastscratch.set_num_threads(threads)
        out = native.affine_forward(x, w, b)
        grads = native.affine_backward(dout, x, w)
    finally:
        fastscratch.set_num_threads(before)
    assert_close(out, reference.affine_forward(x, w, b))
    for got, want in zip(grads, reference.affine_backward(dout, x, w)):
        assert_close(got, want)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("threads", [1, 2])
def test_a_one_row_product_overwrites_what_its_output_memory_held(dtype, threads):
    """dx of a batch of one is a one-row product (GEMV, or column blocks) with beta = 0 into
    fresh memory: whatever that memory held (here, likely, a freed array of NaNs of the same
    size) must not show through."""
    import fastscratch

    rng = np.random.default_rng(11)
    x = rng.standard_normal((1, 4320)).astype(dtype)
    w = rng.standard_normal((4320, 100)).astype(dtype)
    dout = rng.standard_normal((1, 100)).astype(dtype)
    before = fastscratch.get_num_threads()
    try:
        fastscratch.set_num_threads(threads)
        for _ in range(5):
            poison = np.full((1, 4320), np.nan, dtype)
            del poison
            dx, dw, db = native.affine_backward(dout, x, w)
            assert np.isfinite(dx).all()
            assert_close(dx, reference.affine_backward(dout, x, w)[0])
    finally:
        fastscratch.set_num_threads(before)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("threads", [1, 2])
def test_a_one_row_product_reads_a_transposed_strided_row_in_place(dtype, threads):
    """x (1, D) as the transpose of a column of a wider array: the GEMM reads it as op(A) = A^T
    with a leading dimension (the GEMV's increment), not as a contiguous row."""
    import fastscratch

    rng = np.random.default_rng(12)
    wide = rng.standard_normal((4320, 5)).astype(dtype)
    x = wide[:, 2:3].T  # (1, 4320), strides (itemsize, 5 * itemsize)
    assert not x.flags.c_contiguous and not x.flags.f_contiguous
    w = rng.standard_normal((4320, 100)).astype(dtype)
    b = rng.standard_normal(100).astype(dtype)
    before = fastscratch.get_num_threads()
    try:
        fastscratch.set_num_threads(threads)
        out = native.affine_forward(x, w, b)
    finally:
        fastscratch.set_num_threads(before)
    assert_close(out, reference.affine_forward(np.ascontiguousarray(x), w, b))
