"""fastscratch.util: smoothing, shuffling, the book's float conv_output_size, and im2col/col2im
in the book's layout through the kernels."""

import numpy as np
import pytest

from fastscratch.util import col2im, conv_output_size, im2col, shuffle_dataset, smooth_curve


def test_smooth_curve_keeps_length_and_constants(rng):
    assert smooth_curve(np.full(30, 2.5)) == pytest.approx(np.full(30, 2.5))
    assert smooth_curve(rng.random(50)).shape == (50,)


def test_smooth_curve_is_a_kaiser_weighted_average_inside(rng):
    x = rng.random(40)
    w = np.kaiser(11, 2)
    w /= w.sum()
    y = smooth_curve(x)
    for i in (5, 17, 34):
        assert y[i] == pytest.approx(np.dot(w, x[i - 5 : i + 6]), rel=1e-12)


def test_smooth_curve_mirrors_the_ends(rng):
    x = rng.random(20)
    w = np.kaiser(11, 2)
    w /= w.sum()
    padded = np.concatenate([x[1:11][::-1], x, x[-10:][::-1]])
    y = smooth_curve(x)
    assert y[0] == pytest.approx(np.dot(w, padded[5:16]), rel=1e-12)
    assert y[-1] == pytest.approx(np.dot(w, padded[len(x) + 4 : len(x) + 15]), rel=1e-12)


def test_shuffle_dataset_keeps_pairs_and_follows_the_global_seed(rng):
    x = np.arange(24.0).reshape(6, 1, 2, 2)
    t = np.arange(6)
    np.random.seed(3)
    xs, ts = shuffle_dataset(x, t)
    np.random.seed(3)
    perm = np.random.permutation(6)
    np.testing.assert_array_equal(ts, perm)
    np.testing.assert_array_equal(xs, x[perm])
    x2, t2 = shuffle_dataset(np.arange(12).reshape(6, 2), t)
    np.testing.assert_array_equal(x2[:, 0] // 2, t2)


def test_conv_output_size_uses_true_division_like_the_book():
    assert conv_output_size(28, 5) == 24.0 and isinstance(conv_output_size(28, 5), float)
    assert conv_output_size(7, 2, stride=2) == 3.5
    assert conv_output_size(14, 3, 1, 2) == 16.0


def test_im2col_layout_matches_the_book(backend):
    x = np.arange(32.0).reshape(1, 2, 4, 4)
    col = im2col(x, 3, 3)
    assert col.shape == (4, 18)
    np.testing.assert_array_equal(
        col[0], [0, 1, 2, 4, 5, 6, 8, 9, 10, 16, 17, 18, 20, 21, 22, 24, 25, 26]
    )
    np.testing.assert_array_equal(col[3], col[0] + 5)


def test_im2col_pads_with_zeros_and_keeps_float32(backend):
    x = np.ones((1, 1, 2, 2), dtype=np.float32)
    col = im2col(x, 2, 2, stride=1, pad=1)
    assert col.dtype == np.float32 and col.shape == (9, 4)
    np.testing.assert_array_equal(col[0], [0, 0, 0, 1])


def test_col2im_is_the_accumulating_adjoint_of_im2col(backend, rng):
    x = rng.standard_normal((2, 3, 5, 4))
    counts = col2im(im2col(np.ones_like(x), 3, 2, 1, 1), x.shape, 3, 2, 1, 1)
    np.testing.assert_allclose(
        col2im(im2col(x, 3, 2, 1, 1), x.shape, 3, 2, 1, 1), x * counts, rtol=1e-13
    )
    assert counts[0, 0, 2, 2] == 6  # an interior pixel is in 3x2 windows
    c = rng.standard_normal((2 * 5 * 5, 3 * 3 * 2))
    # <im2col(x), c> == <x, col2im(c)>
    assert np.sum(im2col(x, 3, 2, 1, 1) * c) == pytest.approx(
        np.sum(x * col2im(c, x.shape, 3, 2, 1, 1)), rel=1e-12
    )


@pytest.mark.parametrize(
    "call, error, word",
    [
        (lambda: shuffle_dataset(np.ones((3, 2)), np.arange(4)), ValueError, "x and t"),
        (lambda: shuffle_dataset(None, np.arange(4)), TypeError, "x"),  # AttributeError
        (lambda: shuffle_dataset(np.ones((3, 2)), np.float64(2.0)), TypeError, "t"),
        (lambda: conv_output_size(28, 5, 0), ValueError, "stride"),  # ZeroDivisionError
        (lambda: smooth_curve(object()), ValueError, "x"),  # IndexError
        (lambda: smooth_curve(np.ones((3, 20))), ValueError, "1-D"),
    ],
)
def test_the_helpers_name_a_bad_argument(call, error, word):
    with pytest.raises(error, match=word):
        call()


def test_weight_scale_refuses_no_inputs():
    from fastscratch.weight_init import weight_scale

    with pytest.raises(ValueError, match="fan_in"):  # ZeroDivisionError
        weight_scale("he", 0)
