"""fastscratch.layers: the book's layers give the book's numbers, gradients that agree with
numerical differentiation, the book's attributes and parameter sharing, NumPy's dtype promotion,
and clear errors."""

import numpy as np
import pytest

import fastscratch
from fastscratch import kernels
from fastscratch.gradient import numerical_gradient
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
from fastscratch.optimizer import SGD
from fastscratch.testing import relative_error

# Backprop against central differences (h = 1e-4) in float64, by fastscratch.testing's relative
# error ||analytic - numeric|| / ||numeric||: the same bound as ||a - b|| / (||a|| + ||b||) < 1e-6.
GRADIENT_BOUND = 2e-6


def check_gradients(forward, backward, arrays, out_weights):
    """Compare backward's gradients against central differences of the scalar
    loss = sum(forward() * out_weights) with respect to each array in `arrays` (name -> array,
    perturbed in place); backward(out_weights) returns the analytic gradients by name."""
    analytic = backward(out_weights.copy())
    for name, array in arrays.items():
        numeric = numerical_gradient(lambda _: np.sum(forward() * out_weights), array)
        err = relative_error(analytic[name], numeric)
        assert err < GRADIENT_BOUND, f"gradient of {name}: relative error {err:.2e}"


def away_from_zero(x):
    """Entries at least 0.1 from 0, so a +-1e-4 step never crosses a ReLU kink."""
    return x + 0.1 * np.sign(x)


def distinct_values(rng, shape):
    """Values at least 0.01 apart, so a +-1e-4 step never changes which one is a maximum."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.01 - 1.0


# ---------------------------------------------------------------------------------------------
# gradients against numerical differentiation (float64)


def test_affine_gradients_match_numerical_for_4d_input(backend, rng):
    x = rng.standard_normal((3, 2, 2, 3))
    W, b = rng.standard_normal((12, 5)), rng.standard_normal(5)
    layer = Affine(W, b)
    weights = rng.standard_normal((3, 5))

    def backward(dout):
        layer.forward(x)
        dx = layer.backward(dout)
        return {"x": dx, "W": layer.dW, "b": layer.db}

    check_gradients(lambda: layer.forward(x), backward, {"x": x, "W": W, "b": b}, weights)


def test_relu_gradient_matches_numerical(backend, rng):
    x = away_from_zero(rng.standard_normal((4, 5)))
    layer = Relu()
    weights = rng.standard_normal((4, 5))

    def backward(dout):
        layer.forward(x)
        return {"x": layer.backward(dout)}

    check_gradients(lambda: layer.forward(x), backward, {"x": x}, weights)


def test_sigmoid_gradient_matches_numerical(backend, rng):
    x = rng.standard_normal((4, 5)) * 2
    layer = Sigmoid()
    weights = rng.standard_normal((4, 5))

    def backward(dout):
        layer.forward(x)
        return {"x": layer.backward(dout)}

    check_gradients(lambda: layer.forward(x), backward, {"x": x}, weights)


@pytest.mark.parametrize("one_hot", [False, True], ids=["labels", "one_hot"])
def test_softmax_with_loss_gradient_matches_numerical(backend, rng, one_hot):
    x = rng.standard_normal((5, 4))
    t = rng.integers(0, 4, size=5)
    if one_hot:
        t = np.eye(4)[t]
    layer = SoftmaxWithLoss()

    def backward(dout):
        layer.forward(x, t)
        return {"x": layer.backward()}

    check_gradients(lambda: layer.forward(x, t), backward, {"x": x}, np.float64(1.0))


def test_batchnorm_gradients_match_numerical_for_4d_input(backend, rng):
    x = rng.standard_normal((6, 2, 2, 2)) * 2 + 1
    gamma, beta = rng.standard_normal(8), rng.standard_normal(8)
    layer = BatchNormalization(gamma, beta)
    weights = rng.standard_normal(x.shape)

    def backward(dout):
        layer.forward(x)
        dx = layer.backward(dout)
        return {"x": dx, "gamma": layer.dgamma, "beta": layer.dbeta}

    check_gradients(
        lambda: layer.forward(x), backward, {"x": x, "gamma": gamma, "beta": beta}, weights
    )


@pytest.mark.parametrize("stride,pad", [(1, 0), (2, 1), (1, 2)])
def test_convolution_gradients_match_numerical(backend, rng, stride, pad):
    x = rng.standard_normal((2, 3, 5, 6))
    W, b = rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    layer = Convolution(W, b, stride, pad)
    weights = rng.standard_normal(layer.forward(x).shape)

    def backward(dout):
        layer.forward(x)
        dx = layer.backward(dout)
        return {"x": dx, "W": layer.dW, "b": layer.db}

    check_gradients(lambda: layer.forward(x), backward, {"x": x, "W": W, "b": b}, weights)


@pytest.mark.parametrize(
    "pool,stride,pad",
    [((2, 2), 2, 0), ((3, 2), 1, 0), ((3, 3), 2, 1)],
    ids=["book", "overlapping", "padded"],
)
def test_pooling_gradient_matches_numerical(backend, rng, pool, stride, pad):
    x = distinct_values(rng, (2, 3, 6, 5))
    layer = Pooling(*pool, stride=stride, pad=pad)
    weights = rng.standard_normal(layer.forward(x).shape)

    def backward(dout):
        layer.forward(x)
        return {"x": layer.backward(dout)}

    check_gradients(lambda: layer.forward(x), backward, {"x": x}, weights)


# ---------------------------------------------------------------------------------------------
# forward values against plain loops


def test_convolution_forward_equals_direct_loops(backend, rng):
    x = rng.standard_normal((2, 3, 5, 6))
    W, b = rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    stride, pad = 2, 1
    out = Convolution(W, b, stride, pad).forward(x)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out_h, out_w = (5 + 2 * pad - 3) // stride + 1, (6 + 2 * pad - 2) // stride + 1
    expected = np.zeros((2, 4, out_h, out_w))
    for n in range(2):
        for f in range(4):
            for i in range(out_h):
                for j in range(out_w):
                    window = xp[n, :, i * stride : i * stride + 3, j * stride : j * stride + 2]
                    expected[n, f, i, j] = np.sum(window * W[f]) + b[f]
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_pooling_forward_equals_direct_loops_and_defaults_to_stride_2(backend, rng):
    x = rng.standard_normal((2, 3, 6, 7))
    layer = Pooling(2, 3)
    assert (layer.stride, layer.pad) == (2, 0)
    out = layer.forward(x)
    expected = np.empty((2, 3, 3, 3))
    for i in range(3):
        for j in range(3):
            expected[:, :, i, j] = x[:, :, 2 * i : 2 * i + 2, 2 * j : 2 * j + 3].max(axis=(2, 3))
    np.testing.assert_array_equal(out, expected)


def test_pooling_arg_max_is_first_maximum_in_n_oy_ox_c_order(backend):
    x = np.zeros((1, 2, 2, 4))
    x[0, 0, :, :2] = [[1, 5], [5, 0]]  # tie: the first 5 (kx=1) wins
    x[0, 1, :, :2] = [[0, 0], [0, 3]]  # index 3
    x[0, 0, :, 2:] = [[7, 0], [0, 0]]  # index 0
    x[0, 1, :, 2:] = [[0, 0], [2, 2]]  # tie: index 2
    layer = Pooling(2, 2)
    layer.forward(x)
    assert layer.arg_max.dtype == np.int64
    # (n, oy, ox, c): (0,0,0,0), (0,0,0,1), (0,0,1,0), (0,0,1,1)
    np.testing.assert_array_equal(layer.arg_max, [1, 3, 0, 2])
    dx = layer.backward(np.ones((1, 2, 1, 2)))
    assert dx[0, 0, 0, 1] == 1 and dx[0, 0, 1, 0] == 0  # only the first of the tied maxima


def test_pooling_with_padding_never_picks_the_padding(backend, rng):
    x = -1 - rng.random((1, 2, 4, 4))  # all negative: a zero pad would win everywhere
    out = Pooling(2, 2, stride=2, pad=1).forward(x)
    assert out.shape == (1, 2, 3, 3)
    assert out[0, 0, 0, 0] == x[0, 0, 0, 0]
    assert np.all(out < 0)


def test_pooling_backward_accumulates_over_overlapping_windows(backend):
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 1.0  # the centre is the maximum of all four 2x2 windows
    layer = Pooling(2, 2, stride=1)
    layer.forward(x)
    dx = layer.backward(np.full((1, 1, 2, 2), 1.5))
    assert dx[0, 0, 1, 1] == 6.0 and dx.sum() == 6.0


def test_affine_forward_is_x_at_w_plus_b_and_restores_shape(backend, rng):
    x = rng.standard_normal((3, 2, 2, 2))
    W, b = rng.standard_normal((8, 4)), rng.standard_normal(4)
    layer = Affine(W, b)
    out = layer.forward(x)
    np.testing.assert_allclose(out, x.reshape(3, 8) @ W + b, rtol=1e-13)
    assert layer.x.shape == (3, 8) and layer.original_x_shape == (3, 2, 2, 2)
    assert np.shares_memory(layer.x, x)  # flattened without a copy
    dx = layer.backward(np.ones((3, 4)))
    assert dx.shape == x.shape
    assert layer.dW.shape == W.shape and layer.db.shape == (4,)


# ---------------------------------------------------------------------------------------------
# the book's quirks and attributes


def test_relu_backward_zeroes_dout_in_place_and_returns_it(backend):
    layer = Relu()
    out = layer.forward(np.array([[-1.0, 0.0, 2.0]]))
    np.testing.assert_array_equal(out, [[0.0, 0.0, 2.0]])
    np.testing.assert_array_equal(layer.mask, [[True, True, False]])
    dout = np.array([[5.0, 6.0, 7.0]])
    dx = layer.backward(dout)
    assert dx is dout
    np.testing.assert_array_equal(dout, [[0.0, 0.0, 7.0]])


def test_relu_forward_copies_its_input(backend):
    x = np.array([-1.0, 3.0])
    Relu().forward(x)
    np.testing.assert_array_equal(x, [-1.0, 3.0])


@pytest.mark.parametrize("kind", ["readonly", "int", "broadcast"])
def test_relu_backward_does_not_write_an_unwritable_dout(backend, kind):
    layer = Relu()
    layer.forward(np.array([-1.0, 2.0, 3.0]))
    if kind == "readonly":
        dout = np.array([4.0, 5.0, 6.0])
        dout.flags.writeable = False
    elif kind == "int":
        dout = np.array([4, 5, 6])
    else:
        dout = np.broadcast_to(np.float64(4.0), (3,))
    before = dout.copy()
    dx = layer.backward(dout)
    np.testing.assert_array_equal(dx, np.where([True, False, False], 0, before))
    np.testing.assert_array_equal(dout, before)
    assert dx.dtype.kind == "f"


def test_relu_backward_writes_through_a_non_contiguous_dout(backend):
    layer = Relu()
    layer.forward(np.array([[-1.0, 2.0], [3.0, -4.0]]))
    base = np.arange(1.0, 9.0).reshape(2, 4)
    dout = base[:, ::2]
    dx = layer.backward(dout)
    assert dx is dout
    np.testing.assert_array_equal(base, [[0, 2, 3, 4], [5, 6, 0, 8]])


def test_sigmoid_keeps_its_output_and_backward_uses_it(backend):
    layer = Sigmoid()
    x = np.array([-2.0, 0.0, 3.0])
    out = layer.forward(x)
    np.testing.assert_allclose(out, 1 / (1 + np.exp(-x)), rtol=1e-15)
    assert layer.out is out
    np.testing.assert_allclose(layer.backward(np.ones(3)), (1 - out) * out, rtol=1e-15)


def test_softmax_with_loss_uint8_labels_equal_one_hot(backend, rng):
    x = rng.standard_normal((6, 10))
    labels = rng.integers(0, 10, size=6).astype(np.uint8)
    a, b = SoftmaxWithLoss(), SoftmaxWithLoss()
    loss_labels = a.forward(x, labels)
    loss_one_hot = b.forward(x, np.eye(10)[labels])
    y = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    expected = -np.sum(np.log(y[np.arange(6), labels] + 1e-7)) / 6
    assert loss_labels == pytest.approx(expected, rel=1e-13)
    assert loss_one_hot == pytest.approx(expected, rel=1e-13)
    assert a.t is labels and a.loss == loss_labels
    np.testing.assert_allclose(a.y, y, rtol=1e-13)
    dx_expected = (y - np.eye(10)[labels]) / 6
    np.testing.assert_allclose(a.backward(), dx_expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(b.backward(), dx_expected, rtol=1e-12, atol=1e-15)


def test_softmax_with_loss_backward_ignores_dout(backend, rng):
    layer = SoftmaxWithLoss()
    layer.forward(rng.standard_normal((3, 4)), np.array([0, 1, 3]))
    np.testing.assert_array_equal(layer.backward(), layer.backward(dout=7.0))


def test_softmax_with_loss_is_a_numpy_scalar_of_the_input_dtype(backend, rng):
    loss = SoftmaxWithLoss().forward(
        rng.standard_normal((3, 4)).astype(np.float32), np.array([0, 1, 3])
    )
    assert isinstance(loss, np.floating) and loss.dtype == np.float32


@pytest.mark.parametrize("bad", [-1, 4])
def test_softmax_with_loss_refuses_labels_out_of_range(backend, rng, bad):
    with pytest.raises(ValueError, match="t must hold labels in"):
        SoftmaxWithLoss().forward(rng.standard_normal((3, 4)), np.array([0, bad, 1]))


def test_dropout_mask_comes_from_the_global_generator_without_scaling(backend, rng):
    x = rng.standard_normal((4, 5))
    layer = Dropout(0.3)
    assert Dropout().dropout_ratio == 0.5
    np.random.seed(7)
    out = layer.forward(x)
    np.random.seed(7)
    expected_mask = np.random.rand(4, 5) > 0.3
    np.testing.assert_array_equal(layer.mask, expected_mask)
    np.testing.assert_array_equal(out, x * expected_mask)
    dout = rng.standard_normal((4, 5))
    np.testing.assert_array_equal(layer.backward(dout), dout * expected_mask)


def test_dropout_scales_by_the_keep_ratio_at_test_time(backend, rng):
    x = rng.standard_normal((4, 5))
    np.testing.assert_array_equal(Dropout(0.3).forward(x, train_flg=False), x * (1.0 - 0.3))


def test_batchnorm_creates_float64_running_stats_and_moves_them_by_momentum(backend, rng):
    x = rng.standard_normal((8, 3)).astype(np.float32)
    layer = BatchNormalization(np.ones(3, np.float32), np.zeros(3, np.float32), momentum=0.8)
    assert layer.running_mean is None
    layer.forward(x)
    assert layer.running_mean.dtype == np.float64 and layer.batch_size == 8
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(layer.running_mean, 0.2 * x64.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.running_var, 0.2 * x64.var(0), rtol=1e-5, atol=1e-6)
    layer.forward(x)
    np.testing.assert_allclose(
        layer.running_mean, (0.8 * 0.2 + 0.2) * x64.mean(0), rtol=1e-5, atol=1e-6
    )


def test_batchnorm_normalises_per_activation_with_eps_1e_6(backend, rng):
    # a tiny variance makes the result depend visibly on eps
    x = rng.standard_normal((5, 2, 1, 2)) * 1e-3
    gamma, beta = rng.standard_normal(4), rng.standard_normal(4)
    layer = BatchNormalization(gamma, beta)
    out = layer.forward(x)
    flat = x.reshape(5, 4)
    expected = gamma * (flat - flat.mean(0)) / np.sqrt(flat.var(0) + 1e-6) + beta
    assert out.shape == x.shape
    np.testing.assert_allclose(out.reshape(5, 4), expected, rtol=1e-10)


def test_batchnorm_test_mode_uses_the_running_statistics(backend, rng):
    x = rng.standard_normal((5, 3))
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    mean, var = rng.standard_normal(3), rng.random(3) + 0.5
    layer = BatchNormalization(gamma, beta, running_mean=mean, running_var=var)
    out = layer.forward(x, train_flg=False)
    np.testing.assert_allclose(out, gamma * (x - mean) / np.sqrt(var + 1e-6) + beta, rtol=1e-13)
    assert layer.running_mean is mean  # untouched in test mode


def test_layers_hold_the_parameter_arrays_they_are_given(backend, rng):
    W, b = rng.standard_normal((4, 3, 2, 2)).astype(np.float32), np.zeros(4, np.int64)
    conv = Convolution(W, b)
    gamma, beta = np.ones(3), np.zeros(3)
    bn = BatchNormalization(gamma, beta)
    W2, b2 = rng.standard_normal((6, 2)), rng.standard_normal(2)
    affine = Affine(W2, b2)
    conv.forward(rng.standard_normal((1, 3, 3, 3)).astype(np.float32))
    affine.forward(rng.standard_normal((2, 6)))
    bn.forward(rng.standard_normal((2, 3)))
    assert conv.W is W and conv.b is b and affine.W is W2 and affine.b is b2
    assert bn.gamma is gamma and bn.beta is beta
    assert W.dtype == np.float32 and b.dtype == np.int64  # never converted in place


def test_convolution_col_w_is_a_view_of_w_and_col_is_the_im2col_matrix(rng):
    W, b = rng.standard_normal((4, 3, 2, 2)), rng.standard_normal(4)
    x = rng.standard_normal((2, 3, 4, 4))
    layer = Convolution(W, b, stride=1, pad=1)
    with fastscratch.use_backend("reference"):
        layer.forward(x)
    assert np.shares_memory(layer.col_W, W)
    np.testing.assert_array_equal(layer.col_W, W.reshape(4, -1).T)
    np.testing.assert_array_equal(layer.col, kernels.im2col(x, 2, 2, 1, 1))
    assert layer.x is x


def test_layer_sees_an_in_place_optimizer_update(backend, rng):
    params = {"W": rng.standard_normal((3, 2)), "b": np.zeros(2)}
    layer = Affine(params["W"], params["b"])
    x = rng.standard_normal((4, 3))
    layer.forward(x)
    layer.backward(np.ones((4, 2)))
    SGD(lr=0.5).update(params, {"W": layer.dW, "b": layer.db})
    assert layer.W is params["W"]
    np.testing.assert_allclose(layer.forward(x), x @ params["W"] + params["b"], rtol=1e-14)


# ---------------------------------------------------------------------------------------------
# dtypes


def _float32(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def _run_every_layer(rng, x_dtype, p_dtype):
    """{name: (forward output, backward outputs)} for each layer on x_dtype input and p_dtype
    parameters."""

    def arr(*shape, dtype=p_dtype):
        return rng.standard_normal(shape).astype(dtype)

    x4 = (rng.standard_normal((2, 3, 4, 4)) * 3).astype(x_dtype)
    x2 = (rng.standard_normal((4, 6)) * 3).astype(x_dtype)
    results = {}
    conv = Convolution(arr(2, 3, 3, 3), arr(2), 1, 1)
    out = conv.forward(x4)
    results["Convolution"] = (out, [conv.backward(np.ones_like(out)), conv.dW, conv.db])
    pool = Pooling(2, 2)
    out = pool.forward(x4)
    results["Pooling"] = (out, [pool.backward(np.ones_like(out))])
    affine = Affine(arr(6, 3), arr(3))
    out = affine.forward(x2)
    results["Affine"] = (out, [affine.backward(np.ones_like(out)), affine.dW, affine.db])
    bn = BatchNormalization(arr(6), arr(6))
    out = bn.forward(x2)
    results["BatchNormalization"] = (out, [bn.backward(np.ones_like(out)), bn.dgamma, bn.dbeta])
    for layer in (Relu(), Sigmoid(), Dropout()):
        out = layer.forward(x2)
        results[type(layer).__name__] = (out, [layer.backward(np.ones_like(out))])
    softmax = SoftmaxWithLoss()
    out = softmax.forward(x2, np.array([0, 1, 2, 5]))
    results["SoftmaxWithLoss"] = (out, [softmax.backward()])
    return results


def test_float32_input_and_params_stay_float32_in_every_layer(backend, rng):
    for name, (out, grads) in _run_every_layer(rng, np.float32, np.float32).items():
        assert out.dtype == np.float32, name
        for g in grads:
            assert g.dtype == np.float32, name


def test_float32_input_with_float64_params_computes_in_float64(backend, rng):
    for name in ("Convolution", "Affine", "BatchNormalization"):
        out, grads = _run_every_layer(rng, np.float32, np.float64)[name]
        assert out.dtype == np.float64, name
        assert all(g.dtype == np.float64 for g in grads), name


def test_integer_input_computes_in_float64(backend, rng):
    for name, (out, _grads) in _run_every_layer(rng, np.int64, np.float64).items():
        assert out.dtype == np.float64, name


def test_uint8_images_through_a_float32_convolution_compute_in_float64(backend, rng):
    x = rng.integers(0, 256, size=(1, 1, 5, 5)).astype(np.uint8)
    W, b = _float32(rng, 2, 1, 3, 3), _float32(rng, 2)
    out = Convolution(W, b).forward(x)
    assert out.dtype == np.float64
    expected = Convolution(W.astype(np.float64), b.astype(np.float64)).forward(x.astype(float))
    np.testing.assert_allclose(out, expected, rtol=1e-12)


def test_float32_convolution_agrees_with_float64(backend, rng):
    x, W, b = _float32(rng, 2, 3, 6, 6), _float32(rng, 4, 3, 3, 3), _float32(rng, 4)
    out32 = Convolution(W, b, 1, 1).forward(x)
    out64 = Convolution(W.astype(np.float64), b.astype(np.float64), 1, 1).forward(
        x.astype(np.float64)
    )
    assert relative_error(out32, out64) < 1e-6


# ---------------------------------------------------------------------------------------------
# memory layouts


def test_non_contiguous_and_read_only_inputs_give_the_same_results(backend, rng):
    x = rng.standard_normal((2, 3, 6, 6))
    W, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    expected = Convolution(W, b, 1, 1).forward(x)
    layouts = [np.asfortranarray(x), np.ascontiguousarray(x[:, :, ::-1])[:, :, ::-1]]
    wide = np.zeros((2, 3, 6, 12))
    wide[..., ::2] = x
    layouts.append(wide[..., ::2])
    readonly = x.copy()
    readonly.flags.writeable = False
    layouts.append(readonly)
    for xl in layouts:
        W_f = np.asfortranarray(W)
        np.testing.assert_allclose(Convolution(W_f, b, 1, 1).forward(xl), expected, rtol=1e-12)
        np.testing.assert_allclose(Pooling(2, 2).forward(xl), Pooling(2, 2).forward(x))
        a = Affine(rng.standard_normal((108, 2)), np.zeros(2))
        out = a.forward(xl)
        np.testing.assert_allclose(out, x.reshape(2, -1) @ a.W, rtol=1e-12)
        a.backward(np.ones_like(out))
    np.testing.assert_array_equal(readonly, x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_winograd_sized_convs_and_the_books_pooling_take_any_layout(backend, rng, dtype):
    """The shapes that take the Winograd convolution (16 channels and filters, 3x3, stride 1)
    and the 2x2 pooling kernels, fed non-contiguous and read-only arrays, forward and backward
    (the first layer's dW/db-only backward too): the results of contiguous input."""
    x = rng.standard_normal((2, 16, 7, 8)).astype(dtype)
    W, b = (0.1 * rng.standard_normal((16, 16, 3, 3))).astype(dtype), np.zeros(16, dtype)
    conv = Convolution(W, b, 1, 1)
    out = conv.forward(x)
    dout = rng.standard_normal(out.shape).astype(dtype)
    want = (out, conv.backward(dout), conv.dW, conv.db)
    pool = Pooling(2, 2)
    pooled = pool.forward(x)
    pool_dx = pool.backward(np.ones_like(pooled))
    wide = np.zeros((2, 16, 7, 16), dtype)
    wide[..., ::2] = x
    readonly = x.copy()
    readonly.flags.writeable = False
    layouts = [np.asfortranarray(x), np.ascontiguousarray(x[..., ::-1])[..., ::-1], wide[..., ::2]]
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for xl in layouts + [readonly]:
        conv = Convolution(np.asfortranarray(W), b, 1, 1)
        got = conv.forward(xl)
        got = (got, conv.backward(np.asfortranarray(dout)), conv.dW, conv.db)
        for g, w in zip(got, want):
            assert g.dtype == dtype
            np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol * np.abs(w).max())
        first = Convolution(W, b, 1, 1)
        first.forward(xl)
        first._backward_without_dx(dout[:, :, ::-1][:, :, ::-1])
        np.testing.assert_array_equal(first.dW, conv.dW)
        np.testing.assert_array_equal(first.db, conv.db)
        pool = Pooling(2, 2)
        np.testing.assert_array_equal(pool.forward(xl), pooled)
        np.testing.assert_array_equal(pool.backward(np.ones_like(pooled).T.copy().T), pool_dx)
    np.testing.assert_array_equal(readonly, x)
    with pytest.raises(ValueError, match="dout"):
        conv._backward_without_dx(dout[:, :, :-1])


def test_fortran_ordered_affine_weights_like_the_books_sample_weight(backend, rng):
    W = np.asfortranarray(_float32(rng, 7, 5))
    b, x = _float32(rng, 5), _float32(rng, 3, 7)
    out = Affine(W, b).forward(x)
    np.testing.assert_allclose(out, x @ W + b, rtol=1e-5)


# ---------------------------------------------------------------------------------------------
# errors

LAYERS_FOR_BACKWARD = [
    lambda: Relu(),
    lambda: Sigmoid(),
    lambda: Affine(np.ones((2, 2)), np.ones(2)),
    lambda: SoftmaxWithLoss(),
    lambda: Dropout(),
    lambda: BatchNormalization(np.ones(2), np.ones(2)),
    lambda: Convolution(np.ones((1, 1, 2, 2)), np.ones(1)),
    lambda: Pooling(2, 2),
]


@pytest.mark.parametrize(
    "make",
    LAYERS_FOR_BACKWARD,
    ids=[
        "Relu",
        "Sigmoid",
        "Affine",
        "SoftmaxWithLoss",
        "Dropout",
        "BatchNormalization",
        "Convolution",
        "Pooling",
    ],
)
def test_backward_before_forward_is_a_clear_error(backend, make):
    layer = make()
    with pytest.raises(RuntimeError, match=f"{type(layer).__name__}.backward .*before"):
        layer.backward(np.ones((1, 1, 2, 2)))


@pytest.mark.parametrize(
    "replacement, error",
    [(None, RuntimeError), (3.5, ValueError), ("y", TypeError), (np.ones((4, 6)), ValueError)],
)
def test_softmax_with_loss_backward_checks_a_replaced_y(backend, rng, replacement, error):
    # backward reads self.y as the book's does; one the caller replaced was used unchecked
    # (AttributeError, IndexError, or the reference indexing past its rows)
    layer = SoftmaxWithLoss()
    layer.forward(rng.standard_normal((4, 5)), np.array([0, 1, 2, 3]))
    layer.y = replacement
    with pytest.raises(error, match="y|SoftmaxWithLoss"):
        layer.backward()


def test_softmax_with_loss_backward_reads_y_as_the_book_does(backend, rng):
    layer = SoftmaxWithLoss()
    layer.forward(rng.standard_normal((4, 5)), np.array([0, 1, 2, 3]))
    y = rng.random((4, 5))
    want = y.copy()
    want[np.arange(4), [0, 1, 2, 3]] -= 1
    layer.y = y.tolist()  # another object: checked, then used
    np.testing.assert_allclose(layer.backward(), want / 4, rtol=1e-15)
    layer.y = y  # the same numbers in an array
    np.testing.assert_allclose(layer.backward(), want / 4, rtol=1e-15)


def test_pooling_backward_takes_the_shape_of_a_replaced_x(backend, rng):
    # x.shape of a list raised AttributeError
    layer = Pooling(2, 2)
    x = rng.standard_normal((1, 2, 4, 4))
    out = layer.forward(x)
    dout = rng.standard_normal(out.shape)
    want = layer.backward(dout)
    layer.x = x.tolist()
    np.testing.assert_array_equal(layer.backward(dout), want)
    layer.x = 3.5
    with pytest.raises(ValueError, match="x_shape"):
        layer.backward(dout)


def test_dout_of_the_wrong_shape_is_refused(backend, rng):
    cases = [
        (Convolution(rng.standard_normal((2, 1, 2, 2)), np.zeros(2)), (1, 1, 3, 3)),
        (Pooling(2, 2), (1, 1, 4, 4)),
        (Relu(), (2, 3)),
        (Sigmoid(), (2, 3)),
        (Affine(rng.standard_normal((3, 2)), np.zeros(2)), (4, 3)),
        (BatchNormalization(np.ones(3), np.zeros(3)), (4, 3)),
        (Dropout(), (2, 3)),
    ]
    for layer, shape in cases:
        out = layer.forward(rng.standard_normal(shape))
        with pytest.raises(ValueError, match="dout"):
            layer.backward(np.ones(out.shape[:-1] + (out.shape[-1] + 1,)))


def test_mismatched_shapes_name_the_argument(backend, rng):
    with pytest.raises(ValueError, match="x must have 4 features"):
        Affine(np.ones((4, 2)), np.ones(2)).forward(np.ones((3, 5)))
    with pytest.raises(ValueError, match="x must have 2 channels"):
        Convolution(np.ones((3, 2, 2, 2)), np.ones(3)).forward(np.ones((1, 1, 4, 4)))
    with pytest.raises(ValueError, match="x must be 4-D"):
        Pooling(2, 2).forward(np.ones((4, 4)))
    with pytest.raises(ValueError, match="gamma must have 3"):
        BatchNormalization(np.ones(2), np.ones(3)).forward(np.ones((4, 3)))


def test_complex_input_is_refused_with_a_type_error(backend):
    with pytest.raises(TypeError, match="complex"):
        Relu().forward(np.ones(3, dtype=complex))


def test_star_import_gives_what_the_books_layers_module_gives():
    namespace = {}
    exec("from fastscratch.layers import *", namespace)
    for name in (
        "Relu",
        "Sigmoid",
        "Affine",
        "SoftmaxWithLoss",
        "Dropout",
        "BatchNormalization",
        "Convolution",
        "Pooling",
        "softmax",
        "cross_entropy_error",
        "sigmoid",
        "relu",
        "im2col",
        "col2im",
    ):
        assert name in namespace, name


def test_convolution_takes_a_list_for_w_as_the_kernel_does(backend, rng):
    # the kernel took W as a list, then the book's col_W (W.reshape) raised AttributeError
    W = rng.standard_normal((2, 1, 3, 3))
    want = Convolution(W, np.zeros(2)).forward(np.ones((1, 1, 4, 4)))
    layer = Convolution(W.tolist(), [0.0, 0.0])
    np.testing.assert_array_equal(layer.forward(np.ones((1, 1, 4, 4))), want)
    np.testing.assert_array_equal(layer.col_W, W.reshape(2, -1).T)
