"""The nets' backprop skips the first layer's dx (the gradient of the net's input, which nobody
reads): the gradients stay the same bits, the skipped product is really not computed, and a
first layer whose backward a user replaced still has it called."""

import numpy as np
import pytest

import fastscratch
from fastscratch import kernels, net_common
from fastscratch.layers import Affine, Convolution

NETS = {
    "TwoLayerNet": (lambda dt: fastscratch.TwoLayerNet(784, 20, 10, dtype=dt), (8, 784)),
    "MultiLayerNet": (
        lambda dt: fastscratch.MultiLayerNet(784, [30, 20], 10, dtype=dt),
        (8, 784),
    ),
    "MultiLayerNetExtend": (
        lambda dt: fastscratch.MultiLayerNetExtend(
            784, [30, 20], 10, use_dropout=True, use_batchnorm=True, dtype=dt
        ),
        (8, 784),
    ),
    "SimpleConvNet": (lambda dt: fastscratch.SimpleConvNet(dtype=dt), (4, 1, 28, 28)),
    "DeepConvNet": (lambda dt: fastscratch.DeepConvNet(dtype=dt), (3, 1, 28, 28)),
}


def _net_and_data(name, dtype):
    make, shape = NETS[name]
    np.random.seed(0)
    net = make(dtype)
    rng = np.random.default_rng(1)
    return net, rng.random(shape).astype(dtype), rng.integers(0, 10, shape[0])


def _first_layer(net):
    layers = net.layers if isinstance(net.layers, list) else list(net.layers.values())
    return layers[0]


def _gradient(net, x, t):
    np.random.seed(7)  # the same dropout masks on every call
    return net.gradient(x, t)


@pytest.mark.parametrize("name", sorted(NETS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradients_are_the_bits_of_a_full_backward(backend, name, dtype, monkeypatch):
    net, x, t = _net_and_data(name, dtype)
    skipping = _gradient(net, x, t)
    monkeypatch.setattr(net_common, "_PLAIN_BACKWARDS", ())  # every layer's full backward
    full = _gradient(net, x, t)
    assert skipping.keys() == full.keys()
    for key in full:
        assert skipping[key].dtype == full[key].dtype
        np.testing.assert_array_equal(skipping[key], full[key], err_msg=key)


@pytest.mark.parametrize("name", sorted(NETS))
def test_the_first_layers_dx_is_not_computed(backend, name, monkeypatch):
    net, x, t = _net_and_data(name, np.float64)
    first = _first_layer(net)
    kernel = "conv_backward" if isinstance(first, Convolution) else "affine_backward"
    asked = []
    real = getattr(kernels, kernel)

    def spy(*args, need_dx=True, **kwargs):
        asked.append(need_dx)
        dx, dW, db = real(*args, need_dx=need_dx, **kwargs)
        assert (dx is None) == (not need_dx)
        return dx, dW, db

    monkeypatch.setattr(kernels, kernel, spy)
    _gradient(net, x, t)
    assert asked[-1] is False  # the first layer is the last to run backward
    assert asked[:-1] == [True] * (len(asked) - 1)


class _CountingAffine(Affine):
    calls = 0

    def backward(self, dout):
        type(self).calls += 1
        return super().backward(dout)


def test_a_replaced_backward_still_runs(monkeypatch):
    net, x, t = _net_and_data("TwoLayerNet", np.float64)
    expected = _gradient(net, x, t)
    # A subclass overriding backward...
    old = net.layers["Affine1"]
    counting = _CountingAffine(old.W, old.b)
    net.layers["Affine1"] = counting
    got = _gradient(net, x, t)
    assert _CountingAffine.calls == 1
    np.testing.assert_array_equal(got["W1"], expected["W1"])
    # ...and a wrapper set on one instance (as a profiler does).
    seen = []
    plain = net.layers["Affine2"]
    net.layers["Affine1"] = plain_first = Affine(old.W, old.b)

    def wrapper(dout):
        seen.append(dout.shape)
        return Affine.backward(plain_first, dout)

    plain_first.backward = wrapper
    _gradient(net, x, t)
    assert seen == [(x.shape[0], plain.W.shape[0])]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_without_dx_give_the_same_dw_and_db(backend, dtype):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 7)).astype(dtype)
    W = rng.standard_normal((7, 4)).astype(dtype)
    dout = rng.standard_normal((5, 4)).astype(dtype)
    full = kernels.affine_backward(dout, x, W)
    dx, dW, db = kernels.affine_backward(dout, x, W, need_dx=False)
    assert dx is None
    np.testing.assert_array_equal(dW, full[1])
    np.testing.assert_array_equal(db, full[2])
    # Shapes of each conv path: im2col (1 channel), shifted (16 channels), Winograd (16 x 16).
    for C, FN in ((1, 3), (16, 8), (16, 16)):
        x = rng.standard_normal((3, C, 9, 9)).astype(dtype)
        W = rng.standard_normal((FN, C, 3, 3)).astype(dtype)
        out, cache = kernels.conv_forward(x, W, np.zeros(FN, dtype), 1, 1)
        dout = rng.standard_normal(out.shape).astype(dtype)
        full = kernels.conv_backward(dout, x, W, cache, 1, 1)
        dx, dW, db = kernels.conv_backward(dout, x, W, cache, 1, 1, need_dx=False)
        assert dx is None
        np.testing.assert_array_equal(dW, full[1])
        np.testing.assert_array_equal(db, full[2])


def test_kernels_without_dx_on_empty_input(backend):
    x = np.zeros((0, 3))
    W = np.ones((3, 2))
    dx, dW, db = kernels.affine_backward(np.zeros((0, 2)), x, W, need_dx=False)
    assert dx is None and not dW.any() and db.shape == (2,)
    x = np.zeros((0, 1, 4, 4))
    W = np.ones((2, 1, 3, 3))
    dx, dW, db = kernels.conv_backward(np.zeros((0, 2, 4, 4)), x, W, None, 1, 1, need_dx=False)
    assert dx is None and not dW.any() and db.shape == (2,)
