"""Byte-swapped input (issue 11 item 11): an array of the other byte order ('>f8' on a
little-endian machine, as read from a file written elsewhere) computes as NumPy does, converted
once to the native order, in every layer, kernel family and optimizer, on both backends: the
results equal those of the same values in native order."""

import numpy as np
import pytest

from fastscratch import kernels, optimizer
from fastscratch.layers import (
    Affine,
    BatchNormalization,
    Convolution,
    Dropout,
    Pooling,
    Relu,
    Sigmoid,
    SoftmaxWithLoss,
)
from fastscratch.two_layer_net import TwoLayerNet

DTYPES = ("f8", "f4")


def swapped(a):
    """a's values in the byte order that is not the machine's."""
    a = np.asarray(a)
    return a.astype(a.dtype.newbyteorder("S"))


def _layer_cases(dtype):
    """name -> run(x, params_swapped): the outputs of one forward and backward pass of a layer
    on x (4, 6); run with byte-swapped parameters too when params_swapped."""
    rng = np.random.default_rng(7)

    def p(*shape):
        return rng.standard_normal(shape).astype(dtype)

    W, b = p(6, 3), p(3)
    gamma, beta = p(6), p(6)
    conv_W, conv_b = p(2, 1, 2, 2), p(2)
    dout_affine, dout_conv, dout_pool = p(4, 3), p(1, 2, 3, 5), p(1, 1, 2, 3)
    labels = np.array([0, 1, 2, 0])
    one_hot = np.eye(3, dtype=dtype)[labels]

    def maybe(a, params_swapped):
        return swapped(a) if params_swapped else a

    def relu(x, s):
        layer = Relu()
        return layer.forward(x), layer.backward(x.copy())

    def sigmoid(x, s):
        layer = Sigmoid()
        return layer.forward(x), layer.backward(x)

    def affine(x, s):
        layer = Affine(maybe(W, s), maybe(b, s))
        return layer.forward(x), layer.backward(dout_affine), layer.dW, layer.db

    def softmax_with_loss(x, s):
        layer = SoftmaxWithLoss()
        return layer.forward(x[:, :3], labels), layer.backward()

    def softmax_with_loss_one_hot(x, s):
        layer = SoftmaxWithLoss()
        return layer.forward(x[:, :3], maybe(one_hot, s)), layer.backward()

    def dropout(x, s):
        np.random.seed(3)
        layer = Dropout(0.3)
        return layer.forward(x), layer.backward(x), layer.forward(x, train_flg=False)

    def batchnorm(x, s):
        layer = BatchNormalization(maybe(gamma, s), maybe(beta, s))
        out = layer.forward(x)
        dx = layer.backward(x)
        return out, dx, layer.dgamma, layer.dbeta, layer.forward(x, train_flg=False)

    def convolution(x, s):
        layer = Convolution(maybe(conv_W, s), maybe(conv_b, s))
        out = layer.forward(x.reshape(1, 1, 4, 6))
        return out, layer.backward(dout_conv), layer.dW, layer.db

    def pooling(x, s):
        layer = Pooling(2, 2, stride=2)
        return layer.forward(x.reshape(1, 1, 4, 6)), layer.backward(dout_pool)

    def patches(x, s):
        col = kernels.im2col(x.reshape(1, 1, 4, 6), 2, 2)
        return col, kernels.col2im(swapped(col) if s else col, (1, 1, 4, 6), 2, 2)

    def softmax(x, s):
        return (kernels.softmax(x),)

    return {
        f.__name__: f
        for f in (
            relu,
            sigmoid,
            affine,
            softmax_with_loss,
            softmax_with_loss_one_hot,
            dropout,
            batchnorm,
            convolution,
            pooling,
            patches,
            softmax,
        )
    }


def _assert_same(results, expected):
    for got, want in zip(results, expected, strict=True):
        got, want = np.asarray(got), np.asarray(want)
        assert got.dtype.isnative
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("params_swapped", [False, True], ids=["input", "input+params"])
@pytest.mark.parametrize("name", sorted(_layer_cases("f8")))
@pytest.mark.parametrize("dtype", DTYPES)
def test_every_layer_and_kernel_family_computes_on_byte_swapped_input(
    backend, dtype, name, params_swapped
):
    x = np.random.default_rng(1).standard_normal((4, 6)).astype(dtype)
    expected = _layer_cases(dtype)[name](x, False)
    assert not swapped(x).dtype.isnative
    _assert_same(_layer_cases(dtype)[name](swapped(x), params_swapped), expected)


OPTIMIZERS = [
    optimizer.SGD,
    optimizer.Momentum,
    optimizer.Nesterov,
    optimizer.AdaGrad,
    optimizer.RMSprop,
    optimizer.Adam,
]


@pytest.mark.parametrize("which", ["grad", "param", "both"])
@pytest.mark.parametrize("make", OPTIMIZERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("dtype", DTYPES)
def test_every_optimizer_updates_byte_swapped_params_in_place_like_native_ones(
    backend, dtype, make, which
):
    rng = np.random.default_rng(2)
    param, grads = rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal((2, 3, 4))
    native, other = make(), make()
    expected = {"W": param.copy()}
    held = {"W": swapped(param) if which != "grad" else param.copy()}
    W = held["W"]
    for g in grads.astype(dtype):
        native.update(expected, {"W": g})
        other.update(held, {"W": swapped(g) if which != "param" else g})
    assert held["W"] is W  # updated in place, as the book's optimizers do
    np.testing.assert_array_equal(held["W"], expected["W"])


@pytest.mark.parametrize("suffix", [".npz", ".pkl"])
def test_params_written_in_the_other_byte_order_load_and_predict_the_same(
    backend, tmp_path, suffix
):
    np.random.seed(4)
    source = TwoLayerNet(input_size=6, hidden_size=5, output_size=3)
    path = tmp_path / f"params{suffix}"
    swapped_params = {key: swapped(val) for key, val in source.params.items()}
    if suffix == ".npz":
        np.savez(path, **swapped_params)
    else:
        import pickle

        path.write_bytes(pickle.dumps(swapped_params))
    net = TwoLayerNet(input_size=6, hidden_size=5, output_size=3)
    net.load_params(path)
    assert all(val.dtype.isnative for val in net.params.values())
    x = np.random.default_rng(5).standard_normal((4, 6))
    np.testing.assert_array_equal(net.predict(x), source.predict(x))
