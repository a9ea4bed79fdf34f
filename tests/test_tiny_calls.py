"""Calls too small to pay for a native call go to the reference's NumPy on every backend
(kernels.TINY_*), and give what the native kernel gives, within the tolerance contract."""

import numpy as np
import pytest

from fastscratch import _native, kernels, use_backend
from fastscratch.testing import assert_close


def _spy(monkeypatch, name):
    calls = []
    real = getattr(kernels._reference, name)

    def spy(*args):
        calls.append(name)
        return real(*args)

    monkeypatch.setattr(kernels._reference, name, spy)
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
        _spy(monkeypatch, "relu_backward"),
        _spy(monkeypatch, "softmax_loss_backward"),
    )
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
        kernels.relu_forward(rng.standard_normal((100, 100)))  # big: native
    assert [len(c) for c in calls] == [1, 1, 1]
