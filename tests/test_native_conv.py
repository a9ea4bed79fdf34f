"""The native convolution against the reference backend: random shapes (odd sizes, strides
1-3, pads 0-2, non-square, batch 0 and 1), both dtypes, every memory layout, both threading
strategies, and the binding's refusal of bad input."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from fastscratch import _native as native
from fastscratch import reference
from fastscratch.testing import assert_close, thread_count
from fastscratch.testing import memory_layouts as layouts

DTYPES = (np.float32, np.float64)


def _problem(rng, N, C, H, W, FN, FH, FW, dtype):
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((FN, C, FH, FW)).astype(dtype)
    b = rng.standard_normal(FN).astype(dtype)
    return x, w, b


def _check_against_reference(x, w, b, stride, pad, threading="auto", seed=0):
    out, cache = native.conv_forward(x, w, b, stride, pad, threading=threading)
    ref_out, ref_cache = reference.conv_forward(x, w, b, stride, pad)
    dout = np.random.default_rng(seed).standard_normal(out.shape).astype(x.dtype)
    # Each result is a sum of products, which the backends add in different orders: where the
    # terms cancel (a dW entry of 3 images x 36 positions came out 200x smaller than its terms)
    # the rounding is relative to the terms, not to the sum. So the error is measured against
    # the same sums over absolute values, as floating-point error bounds are.
    scale_out, scale_cache = reference.conv_forward(np.abs(x), np.abs(w), np.abs(b), stride, pad)
    scales = reference.conv_backward(np.abs(dout), np.abs(x), np.abs(w), scale_cache, stride, pad)
    assert_close(out, ref_out, floor=np.linalg.norm(scale_out))
    grads = native.conv_backward(dout, x, w, cache, stride, pad, threading=threading)
    ref_grads = reference.conv_backward(dout, x, w, ref_cache, stride, pad)
    for got, want, scale in zip(grads, ref_grads, scales):
        assert_close(got, want, floor=np.linalg.norm(scale))


@settings(max_examples=80, deadline=None)
@given(
    N=st.integers(0, 3),
    C=st.integers(1, 3),
    H=st.integers(1, 9),
    W=st.integers(1, 9),
    FN=st.integers(1, 4),
    FH=st.integers(1, 4),
    FW=st.integers(1, 4),
    stride=st.integers(1, 3),
    pad=st.integers(0, 2),
    dtype=st.sampled_from(DTYPES),
    threading=st.sampled_from(["auto", "images", "blas"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_conv_matches_reference_on_random_shapes(
    N, C, H, W, FN, FH, FW, stride, pad, dtype, threading, seed
):
    assume(H + 2 * pad >= FH and W + 2 * pad >= FW)
    x, w, b = _problem(np.random.default_rng(seed), N, C, H, W, FN, FH, FW, dtype)
    _check_against_reference(x, w, b, stride, pad, threading, seed)


@settings(max_examples=60, deadline=None)
@given(
    N=st.integers(1, 3),
    C=st.integers(16, 18),
    H=st.integers(1, 9),
    W=st.integers(1, 9),
    FN=st.integers(1, 4),
    FH=st.integers(1, 4),
    FW=st.integers(1, 4),
    pad=st.integers(0, 3),
    dtype=st.sampled_from(DTYPES),
    threading=st.sampled_from(["auto", "images", "blas"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_stride_one_conv_with_16_or_more_channels_matches_reference(
    N, C, H, W, FN, FH, FW, pad, dtype, threading, seed
):
    """Stride 1 with C >= 16 takes the shifted-products path (no im2col): every pad, kernel and
    odd width, including kernels as large as the padded input."""
    assume(H + 2 * pad >= FH and W + 2 * pad >= FW)
    x, w, b = _problem(np.random.default_rng(seed), N, C, H, W, FN, FH, FW, dtype)
    _check_against_reference(x, w, b, 1, pad, threading, seed)


def _spoil(rng, a, count):
    """`a` with `count` random entries set to NaN, inf or -inf."""
    a = a.copy()
    if a.size:
        at = rng.integers(0, a.size, size=count)
        a.flat[at] = rng.choice([np.nan, np.inf, -np.inf], size=count)
    return a


def _finite(a):
    return np.where(np.isfinite(a), a, 0).astype(a.dtype)


# Inf - Inf in the reference's products is the point of this test, not a fault: NumPy's warning
# about it is expected.
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@settings(max_examples=80, deadline=None)
@given(
    N=st.integers(1, 3),
    C=st.sampled_from([1, 2, 3, 16, 17]),
    H=st.integers(1, 7),
    W=st.integers(1, 7),
    FN=st.integers(1, 4),
    FH=st.integers(1, 3),
    FW=st.integers(1, 3),
    stride=st.sampled_from([1, 1, 2]),
    pad=st.integers(0, 2),
    spoiled=st.sampled_from(["x", "W", "dout", "x W"]),
    dtype=st.sampled_from(DTYPES),
    threading=st.sampled_from(["auto", "images", "blas"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_conv_nan_and_inf_stand_where_the_reference_has_them(
    N, C, H, W, FN, FH, FW, stride, pad, spoiled, dtype, threading, seed
):
    """Issue 11 item 4: on the shifted path (stride 1, C >= 16) an inf or NaN in x or W gave
    extra NaNs in dW and dx (products with the padded plane's thrown-away columns). Every path,
    both directions: NaN and inf at the reference's places, the finite entries within bounds."""
    assume(H + 2 * pad >= FH and W + 2 * pad >= FW)
    rng = np.random.default_rng(seed)
    x, w, b = _problem(rng, N, C, H, W, FN, FH, FW, dtype)
    if "x" in spoiled:
        x = _spoil(rng, x, int(rng.integers(1, 3)))
    if "W" in spoiled:
        w = _spoil(rng, w, 1)
    out, cache = native.conv_forward(x, w, b, stride, pad, threading=threading)
    ref_out, ref_cache = reference.conv_forward(x, w, b, stride, pad)
    dout = rng.standard_normal(out.shape).astype(dtype)
    if spoiled == "dout":
        dout = _spoil(rng, dout, 1)
    ax, aw, ad = np.abs(_finite(x)), np.abs(_finite(w)), np.abs(_finite(dout))
    scale_out, scale_cache = reference.conv_forward(ax, aw, np.abs(b), stride, pad)
    scales = reference.conv_backward(ad, ax, aw, scale_cache, stride, pad)
    assert_close(out, ref_out, floor=np.linalg.norm(scale_out))
    grads = native.conv_backward(dout, x, w, cache, stride, pad, threading=threading)
    ref_grads = reference.conv_backward(dout, x, w, ref_cache, stride, pad)
    for name, got, want, scale in zip(("dx", "dW", "db"), grads, ref_grads, scales):
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=f"NaNs of {name}")
        assert_close(got, want, floor=np.linalg.norm(scale))


@settings(max_examples=60, deadline=None)
@given(
    N=st.integers(1, 4),
    C=st.integers(1, 15),
    H=st.integers(1, 13),
    W=st.integers(4, 30),
    FN=st.integers(1, 5),
    pad=st.integers(0, 3),
    dtype=st.sampled_from(DTYPES),
    threading=st.sampled_from(["auto", "images", "blas"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_5x5_stride_one_conv_by_correlation_matches_reference(
    N, C, H, W, FN, pad, dtype, threading, seed
):
    """Stride 1, 5x5 filters, fewer than 16 channels and outputs 8 or more wide: the forward,
    dW and db by correlation (read in place for pad 0 and whole runs of 8 outputs, else from
    padded copies; filters in blocks of 4 and one by one; heights not a multiple of 5), against
    the reference; without dx, the same bits."""
    assume(H + 2 * pad >= 5 and W + 2 * pad - 4 >= 8)
    x, w, b = _problem(np.random.default_rng(seed), N, C, H, W, FN, 5, 5, dtype)
    out, cache = native.conv_forward(x, w, b, 1, pad)
    assert native.conv_path(x, w, 1, pad) == "correlation"
    assert native.conv_path(x, w, 1, pad, dout=out, grad="dw") == "correlation"
    _check_against_reference(x, w, b, 1, pad, threading, seed)
    _, dw, db = native.conv_backward(out, x, w, cache, 1, pad, threading=threading)
    _, dw_alone, db_alone = native.conv_backward(
        out, x, w, cache, 1, pad, threading=threading, need_dx=False
    )
    np.testing.assert_array_equal(dw_alone, dw)
    np.testing.assert_array_equal(db_alone, db)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape, wshape, stride, pad, path",
    [
        ((2, 1, 28, 28), (30, 1, 5, 5), 1, 0, "correlation"),  # SimpleConvNet: read in place
        ((1, 1, 28, 28), (30, 1, 5, 5), 1, 0, "correlation"),  # its batch of one
        ((2, 15, 12, 12), (4, 15, 5, 5), 1, 0, "correlation"),  # outputs 8 wide: one run
        ((2, 3, 9, 9), (4, 3, 5, 5), 1, 2, "correlation"),  # padding, 9 wide: copies
        ((2, 3, 11, 11), (4, 3, 5, 5), 1, 0, "im2col"),  # outputs 7 wide: less than a run
        ((2, 16, 12, 12), (4, 16, 5, 5), 1, 0, "shifted"),  # 16 channels
        ((2, 1, 28, 28), (16, 1, 3, 3), 1, 1, "im2col"),  # 3x3: im2col's product is faster
        ((2, 1, 28, 28), (30, 1, 5, 5), 2, 0, "im2col"),  # stride 2
        ((2, 1, 28, 28), (30, 1, 5, 3), 1, 0, "im2col"),  # 5x3
    ],
)
@pytest.mark.parametrize("threads", [1, 2])
def test_correlation_takes_the_shapes_of_its_rule(
    rng, dtype, shape, wshape, stride, pad, path, threads
):
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal(wshape).astype(dtype)
    b = rng.standard_normal(wshape[0]).astype(dtype)
    with thread_count(threads):
        out, _ = native.conv_forward(x, w, b, stride, pad)
        assert native.conv_path(x, w, stride, pad) == path
        assert native.conv_path(x, w, stride, pad, dout=out, grad="dw") == path
        _check_against_reference(x, w, b, stride, pad)


@pytest.mark.parametrize("dtype", DTYPES)
def test_forward_by_correlation_leaves_a_big_single_image_to_the_split_product(rng, dtype):
    """The correlation runs an image on one thread: one image with 2 grains or more of work
    (here 3 channels, 64 filters, 28x28: 7.4 MFLOP) keeps im2col, whose product two threads
    share; at one thread, or with a batch to spread, it takes the correlation. dW is summed
    per image on every path: correlation at any batch."""
    x = rng.standard_normal((1, 3, 28, 28)).astype(dtype)
    w = rng.standard_normal((64, 3, 5, 5)).astype(dtype)
    b = rng.standard_normal(64).astype(dtype)
    out, _ = native.conv_forward(x, w, b, 1, 2)
    two = np.concatenate([x, x])
    with thread_count(2):
        assert native.conv_path(x, w, 1, 2) == "im2col"
        assert native.conv_path(two, w, 1, 2) == "correlation"
        assert native.conv_path(x, w, 1, 2, dout=out, grad="dw") == "correlation"
        _check_against_reference(x, w, b, 1, 2)
    with thread_count(1):
        assert native.conv_path(x, w, 1, 2) == "correlation"
        _check_against_reference(x, w, b, 1, 2)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("where", ["x", "dout"])
@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("pad", [0, 2])
@pytest.mark.parametrize("threading", ["images", "blas"])
def test_dw_by_correlation_leaves_non_finite_x_to_im2col(rng, dtype, where, value, pad, threading):
    """Correlation multiplies the first and last 4 rows of x (and the columns past the last
    run) by zeros standing in for dout: an inf or NaN in x would give NaN where the reference
    has none, so x with one takes im2col. One in dout stays on the correlation path (it meets
    only x's entries the reference multiplies it by). At x's corner, seen by one tap only."""
    x, w, b = _problem(rng, 3, 2, 12, 12, 4, 5, 5, dtype)
    out, cache = native.conv_forward(x, w, b, 1, pad)
    dout = rng.standard_normal(out.shape).astype(dtype)
    if where == "x":
        x[1, 1, 0, 0] = value
    else:
        dout[1, 2, -1, -1] = value
    path = native.conv_path(x, w, 1, pad, dout=dout, grad="dw")
    assert path == ("im2col" if where == "x" else "correlation")
    got = native.conv_backward(dout, x, w, cache, 1, pad, threading=threading, need_dx=False)
    want = reference.conv_backward(dout, x, w, None, 1, pad)
    for name, g, r in zip(("dW", "db"), got[1:], want[1:]):
        np.testing.assert_array_equal(np.isnan(g), np.isnan(r), err_msg=f"NaNs of {name}")
        np.testing.assert_array_equal(np.isinf(g), np.isinf(r), err_msg=f"infs of {name}")
        finite = np.isfinite(r)
        assert_close(g[finite], r[finite])


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("where", ["x corner", "x middle", "W"])
@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("pad", [0, 2])
def test_forward_by_correlation_puts_nan_and_inf_where_the_reference_does(
    rng, dtype, where, value, pad
):
    """The forward's sums for rows above and below the output take products of x's first and
    last rows too, but are never stored: an inf or NaN in x or W stays on the correlation path
    and lands only where the reference's does."""
    x, w, b = _problem(rng, 2, 2, 12, 13, 6, 5, 5, dtype)
    if where == "x corner":
        x[1, 1, 0, 0] = value
    elif where == "x middle":
        x[0, 0, 6, 7] = value
    else:
        w[4, 1, 2, 3] = value
    assert native.conv_path(x, w, 1, pad) == "correlation"
    out, _ = native.conv_forward(x, w, b, 1, pad)
    want, _ = reference.conv_forward(x, w, b, 1, pad)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(out), np.isinf(want))
    finite = np.isfinite(want)
    assert_close(out[finite], want[finite])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("where", ["x", "W"])
@pytest.mark.parametrize("value", [np.inf, np.nan])
@pytest.mark.parametrize("pad", [0, 1])
def test_shifted_conv_gives_no_extra_nan_for_one_non_finite_input(rng, dtype, where, value, pad):
    """The defect's smallest case: one inf or NaN among 16 channels, stride 1."""
    x, w, b = _problem(rng, 2, 16, 6, 6, 4, 3, 3, dtype)
    if where == "x":
        x[0, 3, 2, 5] = value
    else:
        w[1, 2, 2, 2] = value
    out, cache = native.conv_forward(x, w, b, 1, pad)
    dout = rng.standard_normal(out.shape).astype(dtype)
    grads = native.conv_backward(dout, x, w, cache, 1, pad)
    ref_grads = reference.conv_backward(dout, x, w, None, 1, pad)
    for name, got, want in zip(("dx", "dW", "db"), grads, ref_grads):
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=f"NaNs of {name}")
        np.testing.assert_array_equal(np.isinf(got), np.isinf(want), err_msg=f"infs of {name}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape, wshape, stride, pad",
    [
        ((100, 1, 28, 28), (30, 1, 5, 5), 1, 0),  # SimpleConvNet
        ((8, 16, 28, 28), (16, 16, 3, 3), 1, 1),  # DeepConvNet conv2
        ((8, 32, 14, 14), (32, 32, 3, 3), 1, 2),  # DeepConvNet conv4 (pad 2)
        ((3, 2, 11, 7), (5, 2, 4, 2), 3, 2),  # odd and non-square
    ],
)
def test_conv_matches_reference_on_book_shapes(rng, dtype, shape, wshape, stride, pad):
    x, w, b = _problem(rng, *shape, wshape[0], *wshape[2:], dtype)
    for threading in ("images", "blas"):
        _check_against_reference(x, w, b, stride, pad, threading)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "N, C, H, W, pad", [(0, 2, 5, 5, 1), (1, 2, 5, 5, 1), (2, 0, 5, 5, 1), (2, 2, 0, 1, 2)]
)
def test_conv_handles_batch_0_and_1_no_channels_and_padding_only_input(rng, dtype, N, C, H, W, pad):
    x, w, b = _problem(rng, N, C, H, W, 3, 3, 3, dtype)
    _check_against_reference(x, w, b, 1, pad)


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv_with_no_filters_gives_empty_output_and_zero_input_gradient(rng, dtype):
    x, w, b = _problem(rng, 2, 3, 5, 5, 0, 3, 3, dtype)
    out, cache = native.conv_forward(x, w, b, 1, 1)
    assert out.shape == (2, 0, 5, 5) and out.dtype == dtype
    dx, dw, db = native.conv_backward(out, x, w, cache, 1, 1)
    assert dx.shape == x.shape and not dx.any()
    assert dw.shape == w.shape and db.shape == (0,)
    _check_against_reference(x, w, b, 1, 1)


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv_accepts_any_layout_and_never_writes_inputs(rng, dtype):
    x, w, b = _problem(rng, 3, 2, 7, 6, 4, 3, 2, dtype)
    out, cache = native.conv_forward(x, w, b, 2, 1)
    dout = rng.standard_normal(out.shape).astype(dtype)
    grads = native.conv_backward(dout, x, w, cache, 2, 1)
    for name, xv in layouts(x).items():
        for wname, wv in layouts(w).items():
            keep = (xv.copy(), wv.copy())
            got, c = native.conv_forward(xv, wv, layouts(b)[name], 2, 1)
            np.testing.assert_array_equal(got, out, err_msg=f"x {name}, W {wname}")
            for g, want in zip(native.conv_backward(layouts(dout)[name], xv, wv, c, 2, 1), grads):
                np.testing.assert_array_equal(g, want, err_msg=f"x {name}, W {wname}")
            np.testing.assert_array_equal(xv, keep[0])
            np.testing.assert_array_equal(wv, keep[1])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, pad", [((2, 2, 12, 20), 0), ((2, 2, 11, 13), 1)])
def test_correlation_accepts_any_layout_and_never_writes_inputs(rng, dtype, shape, pad):
    """The 5x5 correlation paths (read in place, and through padded copies): every memory
    layout of x, W, b and dout gives the contiguous arrays' bits, the fused ReLU too."""
    x, w, b = _problem(rng, *shape, 6, 5, 5, dtype)
    assert native.conv_path(x, w, 1, pad) == "correlation"
    out, cache = native.conv_forward(x, w, b, 1, pad)
    relu_out, _, mask = native.conv_relu_forward(x, w, b, 1, pad)
    dout = rng.standard_normal(out.shape).astype(dtype)
    grads = native.conv_backward(dout, x, w, cache, 1, pad)
    for name, xv in layouts(x).items():
        for wname, wv in layouts(w).items():
            keep = (xv.copy(), wv.copy())
            where = f"x {name}, W {wname}"
            got, c = native.conv_forward(xv, wv, layouts(b)[name], 1, pad)
            np.testing.assert_array_equal(got, out, err_msg=where)
            got, _, got_mask = native.conv_relu_forward(xv, wv, layouts(b)[name], 1, pad)
            np.testing.assert_array_equal(got, relu_out, err_msg=where)
            np.testing.assert_array_equal(got_mask, mask, err_msg=where)
            for g, want in zip(native.conv_backward(layouts(dout)[name], xv, wv, c, 1, pad), grads):
                np.testing.assert_array_equal(g, want, err_msg=where)
            np.testing.assert_array_equal(xv, keep[0])
            np.testing.assert_array_equal(wv, keep[1])


def test_conv_leaves_the_blas_thread_count_as_it_found_it(rng):
    before = native.get_blas_threads()
    x, w, b = _problem(rng, 16, 3, 12, 12, 8, 3, 3, np.float32)
    out, cache = native.conv_forward(x, w, b, 1, 1, threading="images")
    native.conv_backward(out, x, w, cache, 1, 1, threading="images")
    assert native.get_blas_threads() == before


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda x, w, b: native.conv_forward(x[0], w, b), ValueError, "x must be 4-D"),
        (lambda x, w, b: native.conv_forward(x, w[0], b), ValueError, "W must be 4-D"),
        (lambda x, w, b: native.conv_forward(x, w.astype(np.float32), b), TypeError, "W must have"),
        (lambda x, w, b: native.conv_forward(x, w, b.astype(np.float32)), TypeError, "b must have"),
        (lambda x, w, b: native.conv_forward(x.astype(np.int64), w, b), TypeError, "x must have"),
        (lambda x, w, b: native.conv_forward(x.tolist(), w, b), TypeError, "x must be a numpy"),
        (lambda x, w, b: native.conv_forward(x[:, :1], w, b), ValueError, "channels"),
        (lambda x, w, b: native.conv_forward(x, w, b[:2]), ValueError, "b must have shape"),
        (lambda x, w, b: native.conv_forward(x, w, b[:, None]), ValueError, "b must be 1-D"),
        (lambda x, w, b: native.conv_forward(x, w, b, 0, 0), ValueError, "stride"),
        (lambda x, w, b: native.conv_forward(x, w, b, 1, -1), ValueError, "pad"),
        (lambda x, w, b: native.conv_forward(x[:, :, :2], w, b), ValueError, "must fit"),
        (lambda x, w, b: native.conv_forward(x, w, b, threading="fast"), ValueError, "threading"),
        (lambda x, w, b: native.conv_relu_forward(x[0], w, b), ValueError, "x must be 4-D"),
        (
            lambda x, w, b: native.conv_relu_forward(x, w, b.astype(np.float32)),
            TypeError,
            "b must have",
        ),
        (lambda x, w, b: native.conv_relu_forward(x, w, b[:2]), ValueError, "b must have shape"),
        (lambda x, w, b: native.conv_relu_forward(x[:, :1], w, b), ValueError, "channels"),
        (lambda x, w, b: native.conv_relu_forward(x, w, b, 1, -1), ValueError, "pad"),
        (
            lambda x, w, b: native.conv_relu_forward(x, w, b, threading="fast"),
            ValueError,
            "threading",
        ),
        (
            lambda x, w, b: native.conv_backward(np.zeros((2, 3, 4, 4)), x, w, None, 1, 0),
            ValueError,
            "dout must have shape",
        ),
        (
            lambda x, w, b: native.conv_backward(
                np.zeros((2, 3, 3, 3), np.float32), x, w, None, 1, 0
            ),
            TypeError,
            "dout must have",
        ),
    ],
)
def test_conv_binding_refuses_bad_input(rng, call, error, words):
    x, w, b = _problem(rng, 2, 2, 5, 5, 3, 3, 3, np.float64)
    with pytest.raises(error, match=words):
        call(x, w, b)


@pytest.fixture
def winograd_always():
    """Winograd F(2x2,3x3) on every 3x3 stride-1 conv whose input is finite, whatever the
    channels and filters: the rule (csrc/conv.c) would leave most small shapes to the others."""
    before = native.conv_winograd("always")
    yield
    native.conv_winograd(before)


@settings(max_examples=80, deadline=None)
@given(
    N=st.integers(1, 3),
    C=st.sampled_from([1, 2, 3, 16, 17]),
    H=st.integers(1, 9),
    W=st.integers(1, 9),
    FN=st.sampled_from([1, 2, 5, 32]),
    pad=st.integers(0, 3),
    dtype=st.sampled_from(DTYPES),
    threading=st.sampled_from(["auto", "images", "blas"]),
    tile=st.sampled_from([2, 4]),
    seed=st.integers(0, 2**32 - 1),
)
def test_winograd_conv_matches_reference(N, C, H, W, FN, pad, dtype, threading, tile, seed):
    """Every 3x3 stride-1 geometry through Winograd, F(2x2,3x3) and F(4x4,3x3), forward, dx
    and dW: sizes that are not a multiple of the tile (partial tiles, their extra outputs
    dropped, their dout read as zeros), pads up to 3 (tiles of zeros only), outputs of one row
    or column."""
    assume(H + 2 * pad >= 3 and W + 2 * pad >= 3)
    before, tile_before = native.conv_winograd("always"), native.conv_winograd_tile(tile)
    path = {2: "winograd", 4: "winograd4"}[tile]
    try:
        x, w, b = _problem(np.random.default_rng(seed), N, C, H, W, FN, 3, 3, dtype)
        assert native.conv_path(x, w, 1, pad) == path
        dout = np.zeros((N, FN, H + 2 * pad - 2, W + 2 * pad - 2), dtype)
        # dx is a 3x3 conv of dout padded by 2 - pad: no Winograd past pad 2.
        assert (native.conv_path(x, w, 1, pad, dout=dout) == path) == (pad <= 2)
        assert native.conv_path(x, w, 1, pad, dout=dout, grad="dw") == path
        _check_against_reference(x, w, b, 1, pad, threading, seed)
    finally:
        native.conv_winograd(before)
        native.conv_winograd_tile(tile_before)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape, FN, pad, path, dx_path, dw_path",
    [
        # F(4x4,3x3) ("winograd4", float32 only) where it makes at most 0.65 of F(2x2,3x3)'s
        # multiplications (not 14x14: 0.73) and saves 400 or more of them per channel and
        # filter: 28x28 (1372 an image), 7x7 and 8x8 (112) from 4 images. dx by the rule on
        # its own geometry (the input's size); dW on the forward's, from 2500 saved.
        ((3, 16, 28, 28), 16, 1, "winograd4", "winograd4", "winograd4"),  # DeepConvNet conv2
        ((1, 16, 28, 28), 16, 1, "winograd4", "winograd4", "winograd"),  # batch 1: 49 tiles
        ((1, 16, 14, 14), 32, 1, "winograd", "winograd", "winograd"),  # conv3, batch 1: C < FN
        ((3, 32, 14, 14), 32, 2, "winograd4", "winograd", "winograd"),  # pad 2: 16x16 out
        ((3, 32, 8, 8), 64, 1, "winograd", "winograd", "winograd"),  # conv5: 12 tiles of 4x4
        ((4, 32, 8, 8), 64, 1, "winograd4", "winograd4", "winograd"),  # 16 tiles of 4x4
        ((2, 64, 8, 8), 64, 1, "winograd", "winograd", "winograd"),  # conv6
        ((3, 32, 14, 14), 64, 1, "winograd", "winograd", "winograd"),
        ((5, 16, 10, 9), 16, 0, "winograd4", "winograd", "winograd"),  # 8x7 out; dx 10x9: 0.81
        ((3, 16, 9, 9), 32, 0, "winograd", "shifted", "winograd"),  # C < FN, pad 0: shifted dx
        ((2, 64, 7, 7), 64, 1, "winograd", "winograd", "winograd"),  # odd output: partial tiles
        ((8, 64, 7, 7), 64, 1, "winograd4", "winograd4", "winograd"),  # 32 tiles of 4x4
        ((24, 32, 7, 7), 64, 1, "winograd4", "winograd4", "winograd4"),  # dW: 2688 saved
        ((2, 32, 9, 11), 32, 0, "winograd", "winograd", "winograd"),  # pad 0, odd 7 x 9 output
        ((5, 16, 13, 5), 16, 2, "winograd4", "winograd", "winograd"),  # 15x7 out; dx 13x5
        ((2, 16, 6, 5), 16, 3, "winograd", "shifted", "winograd"),  # pad 3: dx would need pad -1
        ((2, 8, 14, 14), 64, 1, "im2col", "im2col", "im2col"),  # too few channels for any
    ],
)
def test_3x3_stride_one_takes_the_path_of_the_rule_and_matches_reference(
    rng, dtype, shape, FN, pad, path, dx_path, dw_path
):
    """The rules of csrc/conv.c (Winograd from 16 channels and 16 filters; its dx when C >= FN
    or pad >= 1; its dW from 16 channels and 16 filters; F(4x4,3x3) for the forward and dx by
    its share of the multiplications and its tiles), checked through the same C functions the
    kernels ask, and those paths against the reference."""
    if dtype == np.float64:  # F(4x4,3x3) is for float32 only
        path, dx_path, dw_path = (
            p.replace("winograd4", "winograd") for p in (path, dx_path, dw_path)
        )
    x, w, b = _problem(rng, *shape, FN, 3, 3, dtype)
    out, _ = native.conv_forward(x, w, b, 1, pad)
    assert native.conv_path(x, w, 1, pad) == path
    assert native.conv_path(x, w, 1, pad, dout=out) == dx_path
    assert native.conv_path(x, w, 1, pad, dout=out, grad="dx") == dx_path
    assert native.conv_path(x, w, 1, pad, dout=out, grad="dw") == dw_path
    assert native.conv_path(x, w, 2, pad) == "im2col"
    assert native.conv_path(x, w, 2, pad, dout=out[:, :, ::2, ::2], grad="dw") == "im2col"
    for threading in ("images", "blas"):
        _check_against_reference(x, w, b, 1, pad, threading)


@pytest.mark.parametrize("dtype", DTYPES)
def test_winograd_leaves_exact_zeros_where_an_outputs_field_is_blank(rng, dtype):
    """Where the 3x3 input field of an output is all zeros (MNIST's background) and the bias
    is zero (the book's initialisation), the direct sum gives an exact 0, and so must the
    default path: ReLU's mask (x <= 0) and so the gradient depend on it. F(2x2,3x3) keeps it;
    F(4x4,3x3) leaves rounding there, which moved the first Adam step of the book's
    DeepConvNet (ch08/train_deepnet.py), so float64 never takes it."""
    x = np.zeros((3, 16, 28, 28), dtype)
    x[:, :, 9:19, 11:17] = rng.standard_normal((3, 16, 10, 6))
    w = rng.standard_normal((16, 16, 3, 3)).astype(dtype)
    b = np.zeros(16, dtype)
    dout = np.zeros((3, 16, 28, 28), dtype)
    dout[:, :, 5:12, 20:26] = rng.standard_normal((3, 16, 7, 6))
    want_out, _ = reference.conv_forward(x, w, b, 1, 1)
    want_dx = reference.conv_backward(dout, x, w, None, 1, 1)[0]
    assert (want_out == 0).sum() > 10000 and (want_dx == 0).sum() > 10000
    tiles = [2] if dtype == np.float32 else ["auto", 2]
    for tile in tiles:
        before = native.conv_winograd_tile(tile)
        try:
            assert native.conv_path(x, w, 1, 1) == "winograd"
            assert native.conv_path(x, w, 1, 1, dout=dout) == "winograd"
            out, cache = native.conv_forward(x, w, b, 1, 1)
            dx = native.conv_backward(dout, x, w, cache, 1, 1)[0]
        finally:
            native.conv_winograd_tile(before)
        np.testing.assert_array_equal(out[want_out == 0], 0)
        np.testing.assert_array_equal(dx[want_dx == 0], 0)
        assert_close(out, want_out)
        assert_close(dx, want_dx)


def test_conv_winograd_off_leaves_3x3_to_the_shifted_products(rng):
    x, w, b = _problem(rng, 2, 32, 14, 14, 32, 3, 3, np.float32)
    out, _ = native.conv_forward(x, w, b, 1, 1)
    before = native.conv_winograd("off")
    try:
        assert native.conv_path(x, w, 1, 1) == "shifted"
        assert native.conv_path(x, w, 1, 1, dout=out) == "shifted"
        assert native.conv_path(x, w, 1, 1, dout=out, grad="dw") == "shifted"
        _check_against_reference(x, w, b, 1, 1)
    finally:
        native.conv_winograd(before)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("where", ["x", "W", "dout"])
@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
def test_winograd_leaves_non_finite_input_to_the_direct_paths(
    rng, winograd_always, dtype, where, value
):
    """The transforms subtract neighbours (inf - inf = NaN where the direct sum is inf): an inf
    or NaN in x or W sends the forward to the shifted path, one in dout or W sends dx there
    (x does not enter dx), one in x or dout sends dW and db to the direct paths (W does not
    enter dW); NaNs and infs where the reference has them."""
    x, w, b = _problem(rng, 2, 16, 7, 6, 32, 3, 3, dtype)
    dout = rng.standard_normal((2, 32, 7, 6)).astype(dtype)
    assert native.conv_path(x, w, 1, 1) == "winograd"
    assert native.conv_path(x, w, 1, 1, dout=dout) == "winograd"
    assert native.conv_path(x, w, 1, 1, dout=dout, grad="dw") == "winograd"
    spoilt = {"x": x, "W": w, "dout": dout}[where]
    spoilt[1, 3, 2, 1] = value
    assert native.conv_path(x, w, 1, 1) == ("winograd" if where == "dout" else "shifted")
    dx_path = native.conv_path(x, w, 1, 1, dout=dout)
    assert dx_path == ("winograd" if where == "x" else "shifted" if where == "dout" else "im2col")
    dw_path = native.conv_path(x, w, 1, 1, dout=dout, grad="dw")
    assert dw_path == {"W": "winograd", "dout": "shifted", "x": "im2col"}[where]
    out, cache = native.conv_forward(x, w, b, 1, 1)
    ref_out, _ = reference.conv_forward(x, w, b, 1, 1)
    got = (out, *native.conv_backward(dout, x, w, cache, 1, 1))
    want = (ref_out, *reference.conv_backward(dout, x, w, None, 1, 1))
    for name, g, r in zip(("out", "dx", "dW", "db"), got, want):
        np.testing.assert_array_equal(np.isnan(g), np.isnan(r), err_msg=f"NaNs of {name}")
        np.testing.assert_array_equal(np.isinf(g), np.isinf(r), err_msg=f"infs of {name}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("tile", [2, 4])
@pytest.mark.parametrize("shape", [(2, 16, 531, 5), (1, 17, 3, 521)])
def test_winograd_on_images_bigger_than_a_block(rng, winograd_always, dtype, tile, shape):
    """A block holds at most 256 tiles of F(2x2,3x3), 128 of F(4x4,3x3): a tall image is done
    in runs of its tile rows (the last one short), a row of more tiles than that one row at a
    time."""
    x, w, b = _problem(rng, *shape, 4, 3, 3, dtype)
    dout = np.zeros((shape[0], 4, shape[2], shape[3]), dtype)
    before = native.conv_winograd_tile(tile)
    try:
        path = {2: "winograd", 4: "winograd4"}[tile]
        assert native.conv_path(x, w, 1, 1) == native.conv_path(x, w, 1, 1, dout=dout) == path
        assert native.conv_path(x, w, 1, 1, dout=dout, grad="dw") == path
        _check_against_reference(x, w, b, 1, 1)
    finally:
        native.conv_winograd_tile(before)


def test_conv_winograd_mode_is_checked_and_restored():
    before = native.conv_winograd()
    assert before in ("auto", "off", "always")
    with pytest.raises(ValueError, match="mode"):
        native.conv_winograd("sometimes")
    x, w = np.zeros((1, 16, 5, 5)), np.zeros((16, 16, 3, 3))
    with pytest.raises(ValueError, match="grad"):
        native.conv_path(x, w, 1, 1, dout=np.zeros((1, 16, 5, 5)), grad="dx2")
    with pytest.raises(ValueError, match="dout"):
        native.conv_path(x, w, 1, 1, grad="dw")
    assert native.conv_winograd(before) == before


def test_conv_winograd_tile_is_checked_and_restored():
    before = native.conv_winograd_tile()
    assert before in ("auto", 2, 4)
    for bad in (3, "4", True, 0, 8):
        with pytest.raises(ValueError, match="size must be 'auto', 2 or 4"):
            native.conv_winograd_tile(bad)
    assert native.conv_winograd_tile() == before
    try:
        assert native.conv_winograd_tile(4) == before
        assert native.conv_winograd_tile(2) == 4
        assert native.conv_winograd_tile("auto") == 2
    finally:
        native.conv_winograd_tile(before)
    assert native.conv_winograd_tile() == before
