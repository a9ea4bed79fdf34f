"""Native max pooling against the reference backend: random shapes, strides, pads and windows
(overlapping too), first-maximum ties, NaN like np.argmax, padding that never wins, overlapping
windows that accumulate in backward, and bad arg_max that raises instead of writing."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import fastscratch
from fastscratch import _native as native
from fastscratch import reference
from fastscratch.testing import assert_close
from fastscratch.testing import memory_layouts as layouts

DTYPES = (np.float32, np.float64)


@settings(max_examples=100, deadline=None)
@given(
    N=st.integers(0, 3),
    C=st.integers(1, 3),
    H=st.integers(1, 9),
    W=st.integers(1, 9),
    pool_h=st.integers(1, 4),
    pool_w=st.integers(1, 4),
    stride=st.integers(1, 3),
    pad=st.integers(0, 2),
    dtype=st.sampled_from(DTYPES),
    ties=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_pool_matches_reference_on_random_shapes(
    N, C, H, W, pool_h, pool_w, stride, pad, dtype, ties, seed
):
    assume(pad < pool_h and pad < pool_w and H + 2 * pad >= pool_h and W + 2 * pad >= pool_w)
    rng = np.random.default_rng(seed)
    # few distinct values make ties (the first maximum must win) common
    x = rng.integers(-2, 2, (N, C, H, W)) if ties else rng.standard_normal((N, C, H, W))
    x = x.astype(dtype)
    out, arg_max = native.pool_forward(x, pool_h, pool_w, stride, pad)
    ref_out, ref_arg_max = reference.pool_forward(x, pool_h, pool_w, stride, pad)
    np.testing.assert_array_equal(out, ref_out)  # a maximum is exact
    assert arg_max.dtype == np.int64 and arg_max.ndim == 1
    np.testing.assert_array_equal(arg_max, ref_arg_max)
    dout = rng.standard_normal(out.shape).astype(dtype)
    dx = native.pool_backward(dout, arg_max, x.shape, pool_h, pool_w, stride, pad)
    ref_dx = reference.pool_backward(dout, ref_arg_max, x.shape, pool_h, pool_w, stride, pad)
    assert_close(dx, ref_dx)


@pytest.mark.parametrize("dtype", DTYPES)
def test_pool_matches_reference_on_simpleconvnet_shape(rng, dtype):
    x = rng.standard_normal((100, 30, 24, 24)).astype(dtype)
    out, arg_max = native.pool_forward(x, 2, 2, 2, 0)
    ref_out, ref_arg_max = reference.pool_forward(x, 2, 2, 2, 0)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(arg_max, ref_arg_max)
    dout = rng.standard_normal(out.shape).astype(dtype)
    np.testing.assert_array_equal(
        native.pool_backward(dout, arg_max, x.shape, 2, 2, 2, 0),
        reference.pool_backward(dout, arg_max, x.shape, 2, 2, 2, 0),
    )


@pytest.mark.parametrize("shape", [(0, 3, 4, 4), (2, 0, 4, 4), (1, 1, 4, 4)])
def test_pool_handles_batch_0_and_1_and_no_channels(rng, shape):
    x = rng.standard_normal(shape)
    out, arg_max = native.pool_forward(x, 2, 2, 2, 0)
    expected = x.reshape(shape[0], shape[1], 2, 2, 2, 2).max(axis=(3, 5))
    np.testing.assert_array_equal(out, expected)
    assert arg_max.shape == (out.size,) and arg_max.dtype == np.int64
    dx = native.pool_backward(np.ones_like(out), arg_max, shape, 2, 2, 2, 0)
    np.testing.assert_array_equal(dx, (x == np.repeat(np.repeat(expected, 2, 2), 2, 3)) * 1.0)


def test_pool_forward_picks_the_first_maximum_on_ties():
    x = np.array([[[[1.0, 3.0], [3.0, 3.0]]]])
    out, arg_max = native.pool_forward(x, 2, 2, 2, 0)
    assert out[0, 0, 0, 0] == 3.0 and arg_max.tolist() == [1]


@pytest.mark.parametrize("dtype", DTYPES)
def test_pool_forward_propagates_nan_and_points_at_the_first_nan(dtype):
    x = np.array([[[[1.0, np.nan], [5.0, np.nan]], [[np.inf, 2.0], [np.nan, 9.0]]]], dtype=dtype)
    out, arg_max = native.pool_forward(x, 2, 2, 2, 0)
    assert np.isnan(out).ravel().tolist() == [True, True]
    flat = x.reshape(2, 4)
    assert arg_max.tolist() == np.argmax(flat, axis=1).tolist() == [1, 2]


def test_pool_padding_never_wins_over_negative_pixels():
    x = -1.0 - np.arange(16.0).reshape(1, 1, 4, 4)
    out, arg_max = native.pool_forward(x, 3, 3, 2, 1)
    assert (out < 0).all()  # a zero of padding would have won otherwise
    # each window's best real pixel is its top-left real one: x[0,0], x[0,1], x[1,0], x[1,1]
    assert out[0, 0].tolist() == [[-1.0, -2.0], [-5.0, -6.0]]
    assert arg_max.tolist() == [1 * 3 + 1, 1 * 3 + 0, 0 * 3 + 1, 0]


@pytest.mark.parametrize("dtype", DTYPES)
def test_pool_backward_accumulates_where_windows_overlap(dtype):
    # 2x2 windows at stride 1 over a 3x3 plane whose centre is the maximum of all four windows
    x = np.zeros((1, 1, 3, 3), dtype=dtype)
    x[0, 0, 1, 1] = 1
    out, arg_max = native.pool_forward(x, 2, 2, 1, 0)
    dx = native.pool_backward(np.ones_like(out), arg_max, x.shape, 2, 2, 1, 0)
    expected = np.zeros_like(x)
    expected[0, 0, 1, 1] = 4
    np.testing.assert_array_equal(dx, expected)


@pytest.mark.parametrize("dtype", DTYPES)
def test_pool_accepts_any_layout_and_never_writes_inputs(rng, dtype):
    x = rng.standard_normal((2, 3, 7, 6)).astype(dtype)
    out, arg_max = native.pool_forward(x, 3, 2, 2, 1)
    dout = rng.standard_normal(out.shape).astype(dtype)
    dx = native.pool_backward(dout, arg_max, x.shape, 3, 2, 2, 1)
    for name, xv in layouts(x).items():
        keep = xv.copy()
        got, got_arg = native.pool_forward(xv, 3, 2, 2, 1)
        np.testing.assert_array_equal(got, out, err_msg=name)
        np.testing.assert_array_equal(got_arg, arg_max, err_msg=name)
        np.testing.assert_array_equal(xv, keep)
        arg_view = layouts(arg_max)[name]
        np.testing.assert_array_equal(
            native.pool_backward(layouts(dout)[name], arg_view, x.shape, 3, 2, 2, 1),
            dx,
            err_msg=name,
        )


@pytest.mark.parametrize(
    "bad, error, words",
    [
        (lambda a: np.where(np.arange(a.size) == 5, -1, a), ValueError, "got -1 at index 5"),
        (lambda a: np.where(np.arange(a.size) == a.size - 1, 6, a), ValueError, "in \\[0, 6\\)"),
        (lambda a: a.astype(np.int32), TypeError, "int64"),
        (lambda a: a.astype(np.float64), TypeError, "int64"),
        (lambda a: a[:-1], ValueError, "arg_max must have shape"),
        (lambda a: a.reshape(-1, 1), ValueError, "arg_max must be 1-D"),
        (lambda a: a.tolist(), TypeError, "numpy.ndarray"),
    ],
)
def test_pool_backward_refuses_bad_arg_max(rng, bad, error, words):
    x = rng.standard_normal((2, 3, 6, 6))
    out, arg_max = native.pool_forward(x, 3, 2, 2, 0)
    with pytest.raises(error, match=words):
        native.pool_backward(np.ones_like(out), bad(arg_max), x.shape, 3, 2, 2, 0)


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda x: native.pool_forward(x[0], 2, 2, 2, 0), ValueError, "x must be 4-D"),
        (lambda x: native.pool_forward(x.astype(np.int32), 2, 2, 2, 0), TypeError, "x must have"),
        (lambda x: native.pool_forward(x, 2, 2, 0, 0), ValueError, "stride"),
        (lambda x: native.pool_forward(x, 2, 2, 2, -1), ValueError, "pad"),
        (lambda x: native.pool_forward(x, 2, 2, 2, 2), ValueError, "pad must be smaller"),
        (lambda x: native.pool_forward(x, 0, 2, 2, 0), ValueError, "window"),
        (lambda x: native.pool_forward(x, 9, 2, 2, 0), ValueError, "must fit"),
        (
            lambda x: native.pool_backward(
                np.ones((2, 3, 2, 2)), np.zeros(24, np.int64), (2, 3, 4), 2, 2, 2, 0
            ),
            ValueError,
            "x_shape",
        ),
        (
            lambda x: native.pool_backward(
                np.ones((2, 3, 3, 3)), np.zeros(54, np.int64), x.shape, 2, 2, 2, 0
            ),
            ValueError,
            "dout must have shape",
        ),
    ],
)
def test_pool_binding_refuses_bad_input(rng, call, error, words):
    x = rng.standard_normal((2, 3, 4, 4))
    with pytest.raises(error, match=words):
        call(x)


@settings(max_examples=150, deadline=None)
@given(
    N=st.integers(0, 3),
    C=st.integers(1, 4),
    H=st.integers(2, 11),
    half_W=st.integers(1, 6),
    dtype=st.sampled_from(DTYPES),
    values=st.sampled_from(["normal", "ties", "nan", "inf"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_the_books_2x2_window_matches_the_reference(N, C, H, half_W, dtype, values, seed):
    """2x2 windows at stride 2 without padding on an even width take their own kernel (pairs of
    neighbours first): first maximum, first NaN, odd heights (the last row unused)."""
    rng = np.random.default_rng(seed)
    shape = (N, C, H, 2 * half_W)
    if values == "ties":
        x = rng.integers(-2, 2, shape).astype(dtype)
    else:
        x = rng.standard_normal(shape).astype(dtype)
        special = {"nan": np.nan, "inf": np.inf}.get(values)
        if special is not None:
            x[rng.random(shape) < 0.3] = special
            x[rng.random(shape) < 0.1] = -np.inf
    out, arg_max = native.pool_forward(x, 2, 2, 2, 0)
    ref_out, ref_arg_max = reference.pool_forward(x, 2, 2, 2, 0)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(arg_max, ref_arg_max)
    # backward (its own kernel too: each dx entry written once): dout with NaN, inf and -0.0
    # lands at the maxima only, bit for bit (+0 elsewhere, as the reference's zeros)
    dout = rng.standard_normal(out.shape).astype(dtype)
    dout[rng.random(out.shape) < 0.2] = rng.choice([np.nan, np.inf, -np.inf, -0.0])
    dx = native.pool_backward(dout, arg_max, x.shape, 2, 2, 2, 0)
    ref_dx = reference.pool_backward(dout, ref_arg_max, x.shape, 2, 2, 2, 0)
    bits = np.uint32 if dtype == np.float32 else np.uint64
    np.testing.assert_array_equal(dx.view(bits), ref_dx.view(bits))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bad", [-1, 4, 2**40])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("index", [7, 23, 35])  # images 0 and 1 (18 positions an image), last
def test_the_books_2x2_window_backward_refuses_a_bad_position(dtype, bad, threads, index):
    # two images: whole images to each thread, their positions read an image at a time
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 6)).astype(dtype)
    out, arg_max = native.pool_forward(x, 2, 2, 2, 0)
    arg_max[index] = bad
    before = fastscratch.get_num_threads()
    fastscratch.set_num_threads(threads)
    try:
        with pytest.raises(ValueError, match=rf"\[0, 4\), got {bad} at index {index}\b"):
            native.pool_backward(np.ones_like(out), arg_max, x.shape, 2, 2, 2, 0)
    finally:
        fastscratch.set_num_threads(before)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize(
    "shape",
    [
        (1, 32, 64, 64),  # one image, work for two threads: the planes are shared out
        (3, 16, 32, 32),  # whole images to each thread, unevenly
        (100, 30, 24, 24),  # SimpleConvNet's batch: positions gathered per image
    ],
)
def test_the_books_2x2_window_by_images_and_by_planes_matches_the_reference(
    rng, dtype, threads, shape
):
    """The book's window writes arg_max (N, OH, OW, C), and its backward reads it, either an
    image's rows at a time (whole images to each thread) or a plane's column at a time (fewer
    images than threads): the same bits either way, with NaN and ties in the input."""
    x = rng.integers(-3, 3, shape).astype(dtype)
    x[rng.random(shape) < 0.01] = np.nan
    before = fastscratch.get_num_threads()
    fastscratch.set_num_threads(threads)
    try:
        out, arg_max = native.pool_forward(x, 2, 2, 2, 0)
    finally:
        fastscratch.set_num_threads(before)
    ref_out, ref_arg_max = reference.pool_forward(x, 2, 2, 2, 0)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(arg_max, ref_arg_max)
    # the backward reads the positions the same two ways: an image's rows, or a plane's column
    dout = rng.standard_normal(out.shape).astype(dtype)
    dout[rng.random(out.shape) < 0.01] = np.nan
    fastscratch.set_num_threads(threads)
    try:
        dx = native.pool_backward(dout, arg_max, x.shape, 2, 2, 2, 0)
    finally:
        fastscratch.set_num_threads(before)
    ref_dx = reference.pool_backward(dout, ref_arg_max, x.shape, 2, 2, 2, 0)
    bits = np.uint32 if dtype == np.float32 else np.uint64
    np.testing.assert_array_equal(dx.view(bits), ref_dx.view(bits))


def test_an_image_of_more_than_2_20_positions_matches_the_reference(rng):
    """An image's positions are gathered per image only up to 2^20 of them (4 MB of scratch a
    thread); a bigger image takes the plane-at-a-time path, forward and backward, also at one
    thread, where whole images would otherwise go to it: the same results as the reference."""
    shape = (1, 1, 2050, 2050)  # 1025^2 = 1,050,625 window positions > 2^20
    x = rng.integers(-3, 3, shape).astype(np.float32)
    before = fastscratch.get_num_threads()
    fastscratch.set_num_threads(1)
    try:
        out, arg_max = native.pool_forward(x, 2, 2, 2, 0)
        dout = rng.standard_normal(out.shape).astype(np.float32)
        dx = native.pool_backward(dout, arg_max, x.shape, 2, 2, 2, 0)
    finally:
        fastscratch.set_num_threads(before)
    ref_out, ref_arg_max = reference.pool_forward(x, 2, 2, 2, 0)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(arg_max, ref_arg_max)
    ref_dx = reference.pool_backward(dout, ref_arg_max, x.shape, 2, 2, 2, 0)
    np.testing.assert_array_equal(dx.view(np.uint32), ref_dx.view(np.uint32))


@pytest.mark.parametrize("pool_h, pool_w", [(2**40, 2**40), (2**31, 2**40), (2**33, 2**33)])
def test_the_binding_refuses_a_window_of_more_than_2_31_positions_without_overflow(pool_h, pool_w):
    # pool_h * pool_w overflowed 64 bits (undefined behaviour, caught by UBSan in a long fuzz
    # run), wrapped past the check and was refused later as a "filter height".
    x = np.ones((2, 3, 5, 5))
    with pytest.raises(ValueError, match=f"pooling window {pool_h}x{pool_w} has more than 2"):
        native.pool_forward(x, pool_h, pool_w, 1, 0)
    with pytest.raises(ValueError, match=f"pooling window {pool_h}x{pool_w} has more than 2"):
        native.pool_backward(np.ones((2, 3, 1, 1)), np.zeros(6, np.int64), x.shape, pool_h, pool_w)


def test_the_binding_refuses_a_huge_x_shape_naming_it():
    # was OverflowError("Python int too large to convert to C long"), naming no argument
    with pytest.raises(ValueError, match=r"x_shape's sizes must be < 2\*\*31, got \(1099511627776"):
        native.pool_backward(
            np.ones((1, 1, 1, 1)), np.zeros(1, np.int64), (2**40, 2**40, 5, 5), 2, 2, 2, 0
        )
