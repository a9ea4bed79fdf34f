"""A Convolution followed by a Relu in a net's forward runs as one kernel call
(kernels.conv_relu_forward, net_common.forward): the same bits and the same attributes as the
two layers' forwards, on both backends, and never where a forward was replaced."""

import numpy as np
import pytest

import fastscratch
from fastscratch import SimpleConvNet, kernels
from fastscratch import _native as native
from fastscratch.layers import Convolution, Relu
from fastscratch.net_common import forward

DTYPES = (np.float32, np.float64)


def _bits(a):
    return np.ascontiguousarray(a).view(np.uint8)


def _two_calls(x, W, b, stride, pad):
    out, cache = kernels.conv_forward(x, W, b, stride, pad)
    out, mask = kernels.relu_forward(out)
    return out, cache, mask


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape, wshape, stride, pad",
    [
        ((3, 1, 28, 28), (30, 1, 5, 5), 1, 0),  # SimpleConvNet: correlation, read in place
        ((1, 1, 28, 28), (30, 1, 5, 5), 1, 0),  # its batch of one
        ((2, 2, 13, 17), (7, 2, 5, 5), 1, 2),  # correlation through copies, 3 + 4 filters
        ((2, 3, 9, 9), (5, 3, 3, 3), 1, 1),  # im2col
        ((2, 16, 12, 12), (4, 16, 3, 3), 1, 1),  # shifted
        ((2, 16, 14, 14), (16, 16, 3, 3), 1, 1),  # Winograd
        ((2, 1, 28, 28), (30, 1, 5, 5), 2, 0),  # stride 2
    ],
)
def test_conv_relu_forward_gives_the_two_calls_bits(backend, dtype, shape, wshape, stride, pad):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape).astype(dtype)
    W = rng.standard_normal(wshape).astype(dtype)
    b = rng.standard_normal(wshape[0]).astype(dtype)
    x[-1, :, : shape[2] // 2] = 0  # blank windows and a zero bias: outputs of exactly 0,
    b[0] = 0  # which the mask (<= 0) takes
    x[0, 0, 2, 3] = np.nan  # NaN is not <= 0: it stays, unmasked
    x[-1, -1, -1, -1] = -np.inf
    out, cache, mask = kernels.conv_relu_forward(x, W, b, stride, pad)
    want_out, want_cache, want_mask = _two_calls(x, W, b, stride, pad)
    assert out.dtype == dtype and mask.dtype == np.bool_
    np.testing.assert_array_equal(_bits(out), _bits(want_out))
    np.testing.assert_array_equal(mask, want_mask)
    assert (cache is None) == (want_cache is None)
    assert np.isnan(out).any() and mask.any() and not mask.all()
    if wshape[1] < 16:  # exact zeros were there to be masked (Winograd F(4x4) leaves rounding)
        assert (kernels.conv_forward(x, W, b, stride, pad)[0] == 0).any()


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv_relu_forward_takes_what_conv_forward_takes(dtype):
    """Input off the layers' plain case (lists, float16, a Python float bias) goes the checked
    way of the two calls: same results, same errors."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 1, 12, 12))
    W = rng.standard_normal((3, 1, 5, 5)).astype(dtype)
    b = rng.standard_normal(3).astype(dtype)
    for given in (x.tolist(), x.astype(np.float16)):
        out, _, mask = kernels.conv_relu_forward(given, W, b, 1, 0)
        want, _, want_mask = _two_calls(given, W, b, 1, 0)
        np.testing.assert_array_equal(_bits(out), _bits(want))
        np.testing.assert_array_equal(mask, want_mask)
    with pytest.raises(ValueError, match="channels"):
        kernels.conv_relu_forward(x, W[:, :0], b, 1, 0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_simple_convnet_forward_is_the_layers_forwards(backend, dtype):
    """predict, loss and gradient through the fused pair: the bits of running each layer's
    forward in turn, and the attributes those forwards set."""
    net = SimpleConvNet(dtype=dtype) if dtype == np.float32 else SimpleConvNet()
    rng = np.random.default_rng(5)
    x = rng.random((4, 1, 28, 28)).astype(dtype)
    t = rng.integers(0, 10, 4)
    got = net.predict(x)
    conv, relu = net.layers["Conv1"], net.layers["Relu1"]
    got_mask, got_col_W = relu.mask, conv.col_W
    assert conv.x is x
    want = x
    for layer in net.layers.values():
        want = layer.forward(want)
    np.testing.assert_array_equal(_bits(got), _bits(want))
    np.testing.assert_array_equal(got_mask, relu.mask)
    np.testing.assert_array_equal(got_col_W, conv.col_W)
    grads = net.gradient(x, t)
    twin = SimpleConvNet(dtype=dtype) if dtype == np.float32 else SimpleConvNet()
    for key in twin.params:
        twin.params[key][...] = net.params[key]
    twin.layers["Relu1"].forward = twin.layers["Relu1"].forward  # the pair not fused
    want_grads = twin.gradient(x, t)
    for key in grads:
        np.testing.assert_array_equal(_bits(grads[key]), _bits(want_grads[key]), err_msg=key)


class _CountingRelu(Relu):
    calls = 0

    def forward(self, x):
        type(self).calls += 1
        return super().forward(x)


def test_a_replaced_forward_is_called_as_the_user_set_it(monkeypatch):
    """A subclass, a forward set on the instance or on the class: the pair runs as two layers,
    each forward called."""
    rng = np.random.default_rng(6)
    x = rng.random((2, 1, 12, 12))
    conv = Convolution(rng.standard_normal((3, 1, 5, 5)), np.zeros(3))
    fused = forward([conv, Relu()], x)

    sub = _CountingRelu()
    np.testing.assert_array_equal(forward([conv, sub], x), fused)
    assert _CountingRelu.calls == 1

    calls = []
    relu = Relu()
    plain = relu.forward
    relu.forward = lambda a: calls.append("instance") or plain(a)
    np.testing.assert_array_equal(forward([conv, relu], x), fused)
    conv.forward = lambda a: calls.append("conv") or Convolution.forward(conv, a)
    np.testing.assert_array_equal(forward([conv, Relu()], x), fused)
    assert calls == ["instance", "conv"]

    original = Relu.forward
    monkeypatch.setattr(Relu, "forward", lambda self, a: calls.append("class") or original(self, a))
    np.testing.assert_array_equal(forward([Convolution(conv.W, conv.b), Relu()], x), fused)
    assert calls[-1] == "class"


def test_the_native_fused_kernel_runs_for_the_simple_convnet_shape():
    """The native backend's fused call (not the two calls) is what the net's pair takes."""
    rng = np.random.default_rng(7)
    x = rng.random((2, 1, 28, 28))
    W, b = rng.standard_normal((30, 1, 5, 5)), np.zeros(30)
    assert native.conv_path(x, W, 1, 0) == "correlation"
    seen = []
    real = native.conv_relu_forward

    def spy(*args, **kwargs):
        seen.append(args[0].shape)
        return real(*args, **kwargs)

    with fastscratch.use_backend("native"):
        native.conv_relu_forward = spy
        try:
            forward([Convolution(W, b), Relu()], x)
        finally:
            native.conv_relu_forward = real
    assert seen == [x.shape]
