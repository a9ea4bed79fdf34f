"""Calls too small to pay for a native call go to the reference's NumPy on every backend
(kernels.TINY_*), and give what the native kernel gives, within the tolerance contract."""

import numpy as np
import pytest

from fastscratch import _native, kernels, use_backend
from fastscratch.testing import assert_close


def _spy(monkeypatch, name, module=kernels._reference):
    calls = []
    real = getattr(module, name)

    def spy(*args):
        calls.append(name)
        return real(*args)

    monkeypatch.setattr(module, name, spy)
    return calls


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_tiny_affine_runs_on_numpy_and_a_big_one_natively(monkeypatch, dtype):
    rng = np.random.default_rng(0)
    forward, backward = _spy(monkeypatch, "affine_forward"), _spy(monkeypatch, "affine_backward")
    with use_backend("native"):
        for n, d, m, tiny in ((3, 50, 10, True), (100, 100, 100, False)):
            assert (n * d * m <= kernels.TINY_PRODUCT_BACKWARD) == tiny
            x, W = rng.random((n, d)).astype(dtype), rng.random((d, m)).astype(dtype)
            b, dout = rng.random(m).astype(dtype), rng.random((n, m)).astype(dtype)
            before = (len(forward), len(backward))
            out = kernels.affine_forward(x, W, b)
            grads = kernels.affine_backward(dout, x, W)
            ran_on_numpy = (len(forward) - before[0], len(backward) - before[1])
            assert ran_on_numpy == ((1, 1) if tiny else (0, 0))
            assert_close(out, _native.affine_forward(x, W, b))
            for got, want in zip(grads, _native.affine_backward(dout, x, W)):
                assert_close(got, want)
    assert forward == ["affine_forward"] and backward == ["affine_backward"]


def test_tiny_relu_and_softmax_loss_backward_run_on_numpy(monkeypatch):
    calls = (
        _spy(monkeypatch, "relu_forward"),
        _spy(monkeypatch, "softmax_loss_backward"),
    )
    # a tiny relu_backward is NumPy's putmask in kernels itself: the native kernel is not called
    native_relu_backward = _spy(monkeypatch, "relu_backward", _native)
    rng = np.random.default_rng(1)
    with use_backend("native"):
        x = rng.standard_normal((3, 10))
        out, mask = kernels.relu_forward(x)
        want_out, want_mask = _native.relu_forward(x)
        assert np.array_equal(out, want_out) and np.array_equal(mask, want_mask)
        dout = rng.standard_normal((3, 10))
        assert np.array_equal(
            kernels.relu_backward(dout.copy(), mask), _native.relu_backward(dout.copy(), want_mask)
        )
        labels = np.array([1, 4, 7])
        _, y = kernels.softmax_loss_forward(x, labels)
        assert_close(
            kernels.softmax_loss_backward(y, labels, None),
            _native.softmax_loss_backward(y, labels, None),
        )
        # the spy on the native kernel was called once above, for the expected value
        assert len(native_relu_backward) == 1
        kernels.relu_forward(rng.standard_normal((100, 100)))  # big: native
        kernels.relu_backward(np.ones((100, 100)), np.ones((100, 100), bool))
    assert [len(c) for c in calls] == [1, 1]
    assert len(native_relu_backward) == 2


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_tiny_sigmoid_backward_runs_on_numpy_and_a_big_one_natively(monkeypatch, dtype):
    # a tiny one is NumPy in kernels itself (the book's expression's roundings): neither the
    # reference's function nor the native kernel is called
    reference_calls = _spy(monkeypatch, "sigmoid_backward")
    native_calls = _spy(monkeypatch, "sigmoid_backward", _native)
    rng = np.random.default_rng(2)
    with use_backend("native"):
        for shape, tiny in (((3, 50), True), ((100, 100), False)):
            assert (np.prod(shape) <= kernels.TINY_SIGMOID_BACKWARD) == tiny
            out = kernels.sigmoid_forward(rng.standard_normal(shape).astype(dtype))
            dout = rng.standard_normal(shape).astype(dtype)
            before = len(native_calls)
            dx = kernels.sigmoid_backward(dout, out)
            assert len(native_calls) - before == (0 if tiny else 1)
            assert dx.dtype == dtype
            if tiny:
                np.testing.assert_array_equal(dx, dout * (1.0 - out) * out)
            assert_close(dx, _native.sigmoid_backward(dout, out))
    assert reference_calls == []


def test_the_fast_paths_still_refuse_what_the_checks_refuse():
    # The inline checks of the nets' case must fall through to the full checks, not past them.
    x, W, b = np.ones((3, 4)), np.ones((4, 2)), np.ones(2)
    with pytest.raises(ValueError, match="x must have 4 features"):
        kernels.affine_forward(np.ones((3, 5)), W, b)
    with pytest.raises(ValueError, match="b must have 2 elements"):
        kernels.affine_forward(x, W, np.ones(3))
    with pytest.raises(ValueError, match="dout must have shape"):
        kernels.affine_backward(np.ones((3, 3)), x, W)
    with pytest.raises(ValueError, match="dout must have shape"):
        kernels.relu_backward(np.ones((2, 4)), np.zeros((3, 4), bool))
    with pytest.raises(ValueError, match="dout must have shape"):
        kernels.sigmoid_backward(np.ones((2, 4)), np.ones((3, 4)))
    # A float32 dout with float64 W and x: promoted, as NumPy would.
    dx, dW, db = kernels.affine_backward(np.ones((3, 2), np.float32), x, W)
    assert dx.dtype == dW.dtype == db.dtype == np.float64


@pytest.mark.parametrize("shape", [(3, 50, 10), (7, 13, 5), (1, 1, 1), (130, 257, 33)])
def test_float32_input_against_float64_weights_computes_in_float64(backend, shape):
    # The book's float32 MNIST against its float64 weights: the cheap promotion path, also with
    # non-contiguous inputs, must give what NumPy's promotion gives.
    n, d, m = shape
    rng = np.random.default_rng(3)
    x = rng.standard_normal((d, n)).astype(np.float32).T  # a transposed (non-contiguous) view
    W = rng.standard_normal((d, m))
    b = rng.standard_normal(m)
    out = kernels.affine_forward(x, W, b)
    assert out.dtype == np.float64
    assert_close(out, x.astype(np.float64) @ W + b)
    dout = rng.standard_normal((n, m)).astype(np.float32)[:, ::-1]
    dx, dW, db = kernels.affine_backward(dout, x, W)
    assert dx.dtype == dW.dtype == db.dtype == np.float64
    d64 = dout.astype(np.float64)
    assert_close(dx, d64 @ W.T)
    assert_close(dW, x.astype(np.float64).T @ d64)
    assert_close(db, d64.sum(axis=0))
    t = np.eye(m, dtype=np.float32)[rng.integers(0, m, n)]
    scores, labels, one_hot = kernels.prepare_targets(out, t)
    assert one_hot.dtype == np.float64 and labels.dtype == np.int64
    assert np.array_equal(labels, t.argmax(axis=1))


class _Sub(np.ndarray):
    """An ndarray subclass: kernels' inline checks (type(x) is np.ndarray) do not take it, so
    it goes through the general path, the one every inline case must agree with."""


_SCORE_DTYPES = (np.float32, np.float64)
_TARGET_DTYPES = (np.float32, np.float64, np.int64, np.int32, np.uint8, np.bool_)


@pytest.mark.parametrize("x_dtype", _SCORE_DTYPES)
@pytest.mark.parametrize("t_dtype", _TARGET_DTYPES)
@pytest.mark.parametrize("shape", [(3, 10), (1, 4), (10,), (5, 2), (2, 1), (1,)])
@pytest.mark.parametrize("kind", ["one-hot", "labels"])
def test_prepare_targets_inline_cases_agree_with_the_general_path(x_dtype, t_dtype, shape, kind):
    rng = np.random.default_rng(3)
    x = rng.random(shape).astype(x_dtype)
    n, k = (1, shape[0]) if len(shape) == 1 else shape
    labels = rng.integers(0, k, n)
    if kind == "one-hot":
        t = np.eye(k)[labels].reshape(shape).astype(t_dtype)
    elif t_dtype is np.bool_ or (t_dtype is np.uint8 and k > 255):
        pytest.skip("not labels")
    else:
        t = labels.astype(t_dtype)

    def outcome(x, t):
        try:
            return kernels.prepare_targets(x, t)
        except (TypeError, ValueError) as exc:
            return type(exc), str(exc)

    fast, general = outcome(x, t), outcome(x.view(_Sub), t.view(_Sub))
    if isinstance(general[0], type):
        assert fast == general
        return
    for got, want in zip(fast, general):
        if want is None:
            assert got is None
        else:
            assert type(got) is np.ndarray and got.dtype == want.dtype
            np.testing.assert_array_equal(got, np.asarray(want))


@pytest.mark.parametrize("n", [3, 32, 33, 200])  # few labels are checked in Python, more in NumPy
@pytest.mark.parametrize("t_dtype", [np.int8, np.int32, np.int64, np.uint8, np.uint64])
@pytest.mark.parametrize("bad", [-1, -4, 4, 200, 2**40, 2**63 + 5])
def test_labels_out_of_range_are_refused_by_the_inline_path(n, t_dtype, bad):
    info = np.iinfo(t_dtype)
    if not info.min <= bad <= info.max:
        pytest.skip("not representable")
    t = np.arange(n, dtype=t_dtype) % 4
    t[n // 2] = bad
    with pytest.raises(ValueError, match=r"t must hold labels in \[0, 4\), got"):
        kernels.prepare_targets(np.ones((n, 4)), t)
    t[n // 2] = 3
    assert np.array_equal(kernels.prepare_targets(np.ones((n, 4)), t)[1], t)
