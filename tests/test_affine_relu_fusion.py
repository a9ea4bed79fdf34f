"""An Affine followed by a Relu in a net's forward runs as one kernel call
(kernels.affine_relu_forward, net_common.forward): the same bits and the same attributes as the
two layers' forwards, on both backends, at any thread count, and never where a forward was
replaced."""

import numpy as np
import pytest

import fastscratch
from fastscratch import MultiLayerNet, TwoLayerNet, kernels
from fastscratch import _native as native
from fastscratch.layers import Affine, Relu
from fastscratch.net_common import forward
from fastscratch.testing import thread_count

DTYPES = (np.float32, np.float64)


def _bits(a):
    return np.ascontiguousarray(a).view(np.uint8)


def _two_calls(x, W, b):
    return kernels.relu_forward(kernels.affine_forward(x, W, b))


def _with_zeros_and_nans(rng, shape, wshape, dtype):
    """x, W, b whose product has exact zeros (a zero row of x, when there are two or more,
    against zeros of the bias: the mask, <= 0, takes them), a NaN column and a -inf."""
    x = rng.standard_normal(shape).astype(dtype)
    W = rng.standard_normal(wshape).astype(dtype)
    b = rng.standard_normal(wshape[1]).astype(dtype)
    if shape[0] > 1:
        x[-1] = 0
    b[: wshape[1] // 2] = 0
    W[0, 0] = np.nan  # NaN is not <= 0: it stays, unmasked
    W[-1, -1] = -np.inf
    return x, W, b


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape, wshape",
    [
        ((1000, 784), (784, 100)),  # MultiLayerNet's first layer at batch 1000: split by rows
        ((100, 100), (100, 100)),  # its hidden layers at batch 100
        ((1, 784), (784, 50)),  # batch of one: a matrix-vector product
        ((6, 300), (300, 128)),  # few rows: split by columns
        ((3, 50), (50, 10)),  # the book's gradient checks: small enough for NumPy
    ],
)
def test_affine_relu_forward_gives_the_two_calls_bits(backend, threads, dtype, shape, wshape):
    rng = np.random.default_rng(3)
    x, W, b = _with_zeros_and_nans(rng, shape, wshape, dtype)
    with thread_count(threads):
        out, mask = kernels.affine_relu_forward(x, W, b)
        want_out, want_mask = _two_calls(x, W, b)
    assert out.dtype == dtype and mask.dtype == np.bool_ and out.shape == mask.shape
    np.testing.assert_array_equal(_bits(out), _bits(want_out))
    np.testing.assert_array_equal(mask, want_mask)
    assert np.isnan(out).any() and mask.any() and not mask.all()
    if shape[0] > 1:  # exact zeros were there to be masked
        assert (kernels.affine_forward(x, W, b) == 0).any()


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape, wshape",
    [
        ((1, 784), (784, 100)),  # one row: the BLAS's matrix-vector product
        ((6, 784), (784, 400)),  # few rows, a big weight: blocks of columns at two threads
        ((1000, 784), (784, 100)),  # blocks of rows at two threads
    ],
)
def test_the_native_kernel_on_each_product_path(threads, dtype, shape, wshape):
    """The native binding itself (kernels.* sends products this small to NumPy): the bias
    before and the ReLU after each block, on every way gemm.h cuts a product."""
    rng = np.random.default_rng(13)
    x, W, b = _with_zeros_and_nans(rng, shape, wshape, dtype)
    with thread_count(threads):
        out, mask = native.affine_relu_forward(x, W, b)
        want_out, want_mask = native.relu_forward(native.affine_forward(x, W, b))
    np.testing.assert_array_equal(_bits(out), _bits(want_out))
    np.testing.assert_array_equal(mask, want_mask)
    assert mask.any() and not mask.all()


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("dtype", DTYPES)
def test_the_fused_kernel_reads_every_layout_in_place_with_the_same_bits(dtype):
    """A Fortran-ordered W, a row-strided x, a transposed x: the native kernel's layouts."""
    rng = np.random.default_rng(4)
    x, W, b = _with_zeros_and_nans(rng, (200, 300), (300, 64), dtype)
    wide = np.zeros((200, 320), dtype)
    wide[:, :300] = x
    for xv, Wv in (
        (x, np.asfortranarray(W)),
        (wide[:, :300], W),
        (np.ascontiguousarray(x.T).T, W),
    ):
        out, mask = native.affine_relu_forward(xv, Wv, b)
        want_out, want_mask = native.relu_forward(native.affine_forward(xv, Wv, b))
        np.testing.assert_array_equal(_bits(out), _bits(want_out))
        np.testing.assert_array_equal(mask, want_mask)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("rows", [1, 100, 1000])  # one block of widened rows, and several
def test_float32_input_against_float64_weights_is_fused_too(backend, threads, rows):
    """The book's float32 MNIST against its float64 nets: widened in the kernel, the ReLU after
    each block, the bits of the two calls."""
    rng = np.random.default_rng(5)
    x, W, b = _with_zeros_and_nans(rng, (rows, 784), (784, 100), np.float64)
    x = x.astype(np.float32)
    with thread_count(threads):
        out, mask = kernels.affine_relu_forward(x, W, b)
        want_out, want_mask = _two_calls(x, W, b)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(_bits(out), _bits(want_out))
    np.testing.assert_array_equal(mask, want_mask)


@pytest.mark.parametrize("dtype", DTYPES)
def test_affine_relu_forward_takes_what_affine_forward_takes(dtype):
    """Input off the layers' plain case (lists, float16, a Python float bias, a (1, M) bias)
    goes the checked way of the two calls: same results, same errors."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((300, 500))
    W = rng.standard_normal((500, 40)).astype(dtype)
    b = rng.standard_normal(40).astype(dtype)
    for args in ((x.tolist(), W, b), (x.astype(np.float16), W, b), (x, W, b.reshape(1, -1))):
        out, mask = kernels.affine_relu_forward(*args)
        want, want_mask = _two_calls(*args)
        np.testing.assert_array_equal(_bits(out), _bits(want))
        np.testing.assert_array_equal(mask, want_mask)
    with pytest.raises(ValueError, match="features per sample"):
        kernels.affine_relu_forward(x[:, :7], W, b)
    with pytest.raises(ValueError, match="b must have 40 elements"):
        kernels.affine_relu_forward(x.astype(dtype), W, b[:3])


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_native_kernel_on_empty_input(dtype):
    W, b = np.ones((5, 3), dtype), np.array([-1, 0, 2], dtype)
    out, mask = native.affine_relu_forward(np.ones((0, 5), dtype), W, b)
    assert out.shape == mask.shape == (0, 3)
    out, mask = native.affine_relu_forward(np.ones((2, 0), dtype), W[:0], b)
    np.testing.assert_array_equal(out, [[0, 0, 2], [0, 0, 2]])
    np.testing.assert_array_equal(mask, [[True, True, False]] * 2)
    out, mask = native.affine_relu_forward_widened(
        np.ones((2, 0), np.float32), W[:0].astype(np.float64), b.astype(np.float64)
    )
    np.testing.assert_array_equal(mask, [[True, True, False]] * 2)


NETS = {
    "MultiLayerNet": lambda dt: MultiLayerNet(784, [100, 100, 100], 10, dtype=dt),
    "TwoLayerNet": lambda dt: TwoLayerNet(784, 50, 10, dtype=dt),
}


@pytest.mark.parametrize("net_name", NETS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_mlp_forward_is_the_layers_forwards(backend, net_name, dtype):
    """predict, loss and gradient through the fused pairs: the bits of running each layer's
    forward in turn, and the attributes those forwards set."""
    np.random.seed(0)
    net = NETS[net_name](dtype)
    rng = np.random.default_rng(7)
    x = rng.random((300, 784)).astype(dtype)
    t = rng.integers(0, 10, 300)
    got = net.predict(x)
    layers = list(net.layers.values())
    masks = [layer.mask for layer in layers if isinstance(layer, Relu)]
    assert layers[0].x is x and layers[0].original_x_shape == x.shape
    assert len(masks) == (3 if net_name == "MultiLayerNet" else 1)
    want = x
    for layer in layers:
        want = layer.forward(want)
    np.testing.assert_array_equal(_bits(got), _bits(want))
    for got_mask, relu in zip(masks, (layer for layer in layers if isinstance(layer, Relu))):
        np.testing.assert_array_equal(got_mask, relu.mask)
    grads = net.gradient(x, t)
    np.random.seed(0)
    twin = NETS[net_name](dtype)
    for layer in twin.layers.values():
        if isinstance(layer, Relu):
            layer.forward = layer.forward  # the pairs not fused
    want_grads = twin.gradient(x, t)
    for key in grads:
        np.testing.assert_array_equal(_bits(grads[key]), _bits(want_grads[key]), err_msg=key)


def test_sigmoid_nets_are_not_fused():
    """MultiLayerNet with sigmoid activations keeps its layers' own forwards."""
    np.random.seed(0)
    net = MultiLayerNet(20, [8, 8], 3, activation="sigmoid")
    x = np.random.default_rng(8).random((4, 20))
    want = x
    for layer in net.layers.values():
        want = layer.forward(want)
    np.testing.assert_array_equal(_bits(net.predict(x)), _bits(want))


class _CountingAffine(Affine):
    calls = 0

    def forward(self, x):
        type(self).calls += 1
        return super().forward(x)


def test_a_replaced_affine_forward_is_called_as_the_user_set_it(monkeypatch):
    """A subclass, a forward set on the instance or on the class: the pair runs as two layers,
    each forward called."""
    rng = np.random.default_rng(9)
    x = rng.random((300, 500))
    W, b = rng.standard_normal((500, 40)), np.zeros(40)
    fused = forward([Affine(W, b), Relu()], x)

    np.testing.assert_array_equal(forward([_CountingAffine(W, b), Relu()], x), fused)
    assert _CountingAffine.calls == 1

    calls = []
    affine = Affine(W, b)
    affine.forward = lambda a: calls.append("instance") or Affine.forward(affine, a)
    np.testing.assert_array_equal(forward([affine, Relu()], x), fused)
    assert calls == ["instance"]

    original = Affine.forward
    monkeypatch.setattr(
        Affine, "forward", lambda self, a: calls.append("class") or original(self, a)
    )
    np.testing.assert_array_equal(forward([Affine(W, b), Relu()], x), fused)
    assert calls[-1] == "class"


@pytest.mark.parametrize("widened", [False, True])
def test_the_native_fused_kernel_runs_for_the_mlp_shapes(widened):
    """The native backend's fused call (not the two calls) is what the nets' pairs take."""
    rng = np.random.default_rng(10)
    x = rng.random((100, 784)).astype(np.float32 if widened else np.float64)
    W, b = rng.standard_normal((784, 50)), np.zeros(50)
    name = "affine_relu_forward_widened" if widened else "affine_relu_forward"
    seen = []
    real = getattr(native, name)

    def spy(*args):
        seen.append(args[0].shape)
        return real(*args)

    with fastscratch.use_backend("native"):
        setattr(native, name, spy)
        try:
            forward([Affine(W, b), Relu()], x)
        finally:
            setattr(native, name, real)
    assert seen == [x.shape]


@pytest.fixture
def fused_inputs(monkeypatch):
    """The input shapes Affine._forward_then_relu is called with, in order, during the test."""
    calls = []
    original = Affine._forward_then_relu

    def spy(self, x, relu):
        calls.append(x.shape)
        return original(self, x, relu)

    monkeypatch.setattr(Affine, "_forward_then_relu", spy)
    return calls


@pytest.mark.parametrize("rows, fused", [(3, False), (15, False), (16, True), (100, True)])
def test_an_mlp_fuses_from_16_rows(fused_inputs, rows, fused):
    """Below 16 rows the nets' products go to NumPy, so the pairs run as the two forwards (no
    tests per layer on the book's batches of 3); from 16 rows each Affine + Relu is one call."""
    np.random.seed(0)
    net = MultiLayerNet(784, [100, 100], 10)
    x = np.random.default_rng(11).random((rows, 784))
    want = x
    for layer in net.layers.values():
        want = layer.forward(want)
    np.testing.assert_array_equal(_bits(net.predict(x)), _bits(want))
    assert len(fused_inputs) == (2 if fused else 0)


def test_a_layer_whose_class_has_no_forward_runs_as_called():
    """A user's layer with forward set on the instance only (no forward on its class) in the
    middle of the net: the pairs around it still fuse, and it is called."""
    from types import SimpleNamespace

    np.random.seed(0)
    net = MultiLayerNet(784, [100, 100], 10)
    x = np.random.default_rng(12).random((100, 784))
    want = net.predict(x)
    calls = []
    net.layers["Probe"] = SimpleNamespace(forward=lambda a: calls.append(a.shape) or a)
    net.layers.move_to_end("Probe", last=False)
    np.testing.assert_array_equal(_bits(net.predict(x)), _bits(want))
    assert calls == [x.shape]


@pytest.mark.parametrize("dtype", DTYPES)
def test_simple_convnets_affine_fuses_from_one_image(fused_inputs, dtype):
    """An Affine fuses by its product's size, not its rows: SimpleConvNet's (1, 4320) x
    (4320, 100) is a product the native kernels take, so its batch-1 prediction fuses Affine1
    and Relu2 too, with the bits of the layers' own forwards."""
    from fastscratch import SimpleConvNet

    np.random.seed(0)
    net = SimpleConvNet(dtype=dtype)
    x = np.random.default_rng(14).random((1, 1, 28, 28)).astype(dtype)
    got = net.predict(x)
    want = x
    for layer in net.layers.values():
        want = layer.forward(want)
    np.testing.assert_array_equal(_bits(got), _bits(want))
    assert fused_inputs == [(1, 30, 12, 12)]
