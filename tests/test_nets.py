"""The book's nets (TwoLayerNet, MultiLayerNet, MultiLayerNetExtend, SimpleConvNet, DeepConvNet):
the book's structure, names and initialisation, parameters shared with the layers, backprop
gradients that agree with numerical differentiation, weight decay, and batched accuracy."""

from collections import OrderedDict

import numpy as np
import pytest

from fastscratch.deep_convnet import DeepConvNet
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
from fastscratch.multi_layer_net import MultiLayerNet
from fastscratch.multi_layer_net_extend import MultiLayerNetExtend
from fastscratch.optimizer import SGD
from fastscratch.simple_convnet import SimpleConvNet
from fastscratch.testing import relative_error
from fastscratch.two_layer_net import TwoLayerNet

# Backprop against central differences (h = 1e-4) in float64, by fastscratch.testing's relative
# error ||analytic - numeric|| / ||numeric||: the same bound as ||a - b|| / (||a|| + ||b||) < 1e-6.
GRADIENT_BOUND = 2e-6


def tiny_conv_param(filter_num=2, filter_size=3, pad=0, stride=1):
    return {'filter_num': filter_num, 'filter_size': filter_size, 'pad': pad, 'stride': stride}


def tiny_simple_convnet(**kwargs):
    return SimpleConvNet(
        input_dim=(1, 6, 6), conv_param=tiny_conv_param(), hidden_size=4, output_size=3, **kwargs
    )


def tiny_deep_convnet(**kwargs):
    """DeepConvNet's layer stack (pad 2 on the 4th conv included) on 8x8 input with 2 filters
    per conv: 8 -> 8 -> pool 4 -> 4 -> 6 -> pool 3 -> 3 -> 3 -> pool 1, so W7 is (2, 5)."""
    pads = (1, 1, 1, 2, 1, 1)
    params = {f'conv_param_{i}': tiny_conv_param(pad=pad) for i, pad in enumerate(pads, 1)}
    return DeepConvNet(input_dim=(1, 8, 8), hidden_size=5, output_size=3, **params, **kwargs)


def labels(n, classes, seed=0):
    return np.random.default_rng(seed).integers(0, classes, size=n)


# ---------------------------------------------------------------------------------------------
# structure: the book's names, shapes, attributes


def test_two_layer_net_has_the_books_layers_params_and_camelcase_last_layer():
    net = TwoLayerNet(784, 50, 10)
    assert list(net.layers) == ['Affine1', 'Relu1', 'Affine2']
    assert isinstance(net.layers, OrderedDict)
    assert {k: v.shape for k, v in net.params.items()} == {
        'W1': (784, 50),
        'b1': (50,),
        'W2': (50, 10),
        'b2': (10,),
    }
    assert isinstance(net.lastLayer, SoftmaxWithLoss)
    assert not hasattr(net, 'last_layer')


def test_multi_layer_net_names_its_layers_and_stores_the_books_attributes():
    net = MultiLayerNet(784, [100, 60], 10, activation='sigmoid', weight_decay_lambda=0.1)
    assert list(net.layers) == [
        'Affine1',
        'Activation_function1',
        'Affine2',
        'Activation_function2',
        'Affine3',
    ]
    assert isinstance(net.layers['Activation_function1'], Sigmoid)
    assert isinstance(net.last_layer, SoftmaxWithLoss)
    assert {k: v.shape for k, v in net.params.items()} == {
        'W1': (784, 100),
        'b1': (100,),
        'W2': (100, 60),
        'b2': (60,),
        'W3': (60, 10),
        'b3': (10,),
    }
    assert (
        net.input_size,
        net.output_size,
        net.hidden_size_list,
        net.hidden_layer_num,
        net.weight_decay_lambda,
    ) == (784, 10, [100, 60], 2, 0.1)
    assert isinstance(MultiLayerNet(4, [3], 2).layers['Activation_function1'], Relu)


def test_multi_layer_net_refuses_an_unknown_activation():
    with pytest.raises(ValueError, match="activation"):
        MultiLayerNet(4, [3], 2, activation='tanh')


def test_multi_layer_net_extend_inserts_batchnorm_and_dropout_with_the_books_keyword():
    net = MultiLayerNetExtend(
        784, [100, 60], 10, use_dropout=True, dropout_ration=0.3, use_batchnorm=True
    )
    assert list(net.layers) == [
        'Affine1',
        'BatchNorm1',
        'Activation_function1',
        'Dropout1',
        'Affine2',
        'BatchNorm2',
        'Activation_function2',
        'Dropout2',
        'Affine3',
    ]
    assert list(net.params) == [
        'W1',
        'b1',
        'W2',
        'b2',
        'W3',
        'b3',
        'gamma1',
        'beta1',
        'gamma2',
        'beta2',
    ]
    assert np.array_equal(net.params['gamma2'], np.ones(60))
    assert np.array_equal(net.params['beta1'], np.zeros(100))
    assert net.layers['Dropout1'].dropout_ratio == 0.3
    assert isinstance(net.layers['BatchNorm1'], BatchNormalization)
    assert net.layers['BatchNorm1'].momentum == 0.9
    assert net.use_dropout and net.use_batchnorm
    plain = MultiLayerNetExtend(784, [100], 10)
    assert list(plain.layers) == ['Affine1', 'Activation_function1', 'Affine2']


def test_simple_convnet_has_the_books_mnist_shapes_and_layers():
    net = SimpleConvNet()
    assert {k: v.shape for k, v in net.params.items()} == {
        'W1': (30, 1, 5, 5),
        'b1': (30,),
        'W2': (4320, 100),
        'b2': (100,),
        'W3': (100, 10),
        'b3': (10,),
    }
    assert list(net.layers) == ['Conv1', 'Relu1', 'Pool1', 'Affine1', 'Relu2', 'Affine2']
    pool = net.layers['Pool1']
    assert (pool.pool_h, pool.pool_w, pool.stride) == (2, 2, 2)
    assert isinstance(net.last_layer, SoftmaxWithLoss)


def test_deep_convnet_is_a_list_with_params_at_the_books_indices():
    net = DeepConvNet()
    kinds = [type(layer) for layer in net.layers]
    C, R, P, A, D = Convolution, Relu, Pooling, Affine, Dropout
    assert kinds == [C, R, C, R, P, C, R, C, R, P, C, R, C, R, P, A, R, D, A, D]
    assert isinstance(net.layers, list)
    for i, index in enumerate((0, 2, 5, 7, 10, 12, 15, 18), 1):
        assert net.layers[index].W is net.params[f'W{i}']
        assert net.layers[index].b is net.params[f'b{i}']
    assert [net.layers[i].pad for i in (0, 2, 5, 7, 10, 12)] == [1, 1, 1, 2, 1, 1]
    assert {k: v.shape for k, v in net.params.items() if k.startswith('W')} == {
        'W1': (16, 1, 3, 3),
        'W2': (16, 16, 3, 3),
        'W3': (32, 16, 3, 3),
        'W4': (32, 32, 3, 3),
        'W5': (64, 32, 3, 3),
        'W6': (64, 64, 3, 3),
        'W7': (1024, 50),
        'W8': (50, 10),
    }
    assert not hasattr(net, 'numerical_gradient')


ALL_NETS = {
    'TwoLayerNet': lambda **kw: TwoLayerNet(6, 5, 3, **kw),
    'MultiLayerNet': lambda **kw: MultiLayerNet(6, [5, 4], 3, **kw),
    'MultiLayerNetExtend': lambda **kw: MultiLayerNetExtend(6, [5, 4], 3, use_batchnorm=True, **kw),
    'SimpleConvNet': tiny_simple_convnet,
    'DeepConvNet': tiny_deep_convnet,
}


def param_layers(net):
    """(layer, attribute, params key) for every parameter a net's layers hold."""
    if isinstance(net, DeepConvNet):
        return [
            (net.layers[i], a, f'{a}{n}')
            for n, i in enumerate((0, 2, 5, 7, 10, 12, 15, 18), 1)
            for a in ('W', 'b')
        ]
    names = {'SimpleConvNet': ('Conv1', 'Affine1', 'Affine2')}.get(type(net).__name__)
    if names is None:
        names = [k for k in net.layers if k.startswith('Affine')]
    out = [(net.layers[name], a, f'{a}{n}') for n, name in enumerate(names, 1) for a in ('W', 'b')]
    for key, layer in net.layers.items():
        if key.startswith('BatchNorm'):
            n = key[len('BatchNorm') :]
            out += [(layer, 'gamma', f'gamma{n}'), (layer, 'beta', f'beta{n}')]
    return out


@pytest.mark.parametrize("make", ALL_NETS.values(), ids=ALL_NETS.keys())
def test_layers_hold_the_very_arrays_in_params_and_see_optimizer_updates(backend, make):
    net = make()
    held = param_layers(net)
    assert len(held) == len(net.params)
    for layer, attr, key in held:
        assert getattr(layer, attr) is net.params[key], key
    x = np.random.default_rng(1).standard_normal((4,) + input_shape(net))
    t = labels(4, 3)
    before = net.predict(x).copy()
    SGD(lr=0.5).update(net.params, net.gradient(x, t))
    for layer, attr, key in held:
        assert getattr(layer, attr) is net.params[key], key
    assert not np.allclose(net.predict(x), before)


def input_shape(net):
    if isinstance(net, SimpleConvNet):
        return (1, 6, 6)
    if isinstance(net, DeepConvNet):
        return (1, 8, 8)
    return (6,)


# ---------------------------------------------------------------------------------------------
# initialisation: the book's scales and draw order (np.random.seed reproduces the book's runs)


@pytest.mark.parametrize(
    "spec,scales",
    [
        ('relu', lambda n: np.sqrt(2.0 / n)),
        ('He', lambda n: np.sqrt(2.0 / n)),
        ('SIGMOID', lambda n: np.sqrt(1.0 / n)),
        ('xavier', lambda n: np.sqrt(1.0 / n)),
        (0.05, lambda n: 0.05),
    ],
)
def test_multi_layer_net_draws_weights_in_order_with_the_books_scales(spec, scales):
    np.random.seed(3)
    net = MultiLayerNet(5, [4, 3], 2, weight_init_std=spec)
    np.random.seed(3)
    for i, (n_in, n_out) in enumerate([(5, 4), (4, 3), (3, 2)], 1):
        assert np.array_equal(net.params[f'W{i}'], scales(n_in) * np.random.randn(n_in, n_out))
        assert np.array_equal(net.params[f'b{i}'], np.zeros(n_out))


def test_an_unknown_weight_init_name_is_refused():
    with pytest.raises(ValueError, match="weight_init_std"):
        MultiLayerNet(5, [4], 2, weight_init_std='lecun')


def test_two_layer_net_draws_w1_then_w2_with_std_0_01():
    np.random.seed(7)
    net = TwoLayerNet(6, 5, 3)
    np.random.seed(7)
    assert np.array_equal(net.params['W1'], 0.01 * np.random.randn(6, 5))
    assert np.array_equal(net.params['W2'], 0.01 * np.random.randn(5, 3))
    assert not net.params['b1'].any() and not net.params['b2'].any()


def test_simple_convnet_draws_w1_w2_w3_with_weight_init_std():
    np.random.seed(11)
    net = tiny_simple_convnet(weight_init_std=0.1)
    np.random.seed(11)
    assert np.array_equal(net.params['W1'], 0.1 * np.random.randn(2, 1, 3, 3))
    assert np.array_equal(net.params['W2'], 0.1 * np.random.randn(8, 4))
    assert np.array_equal(net.params['W3'], 0.1 * np.random.randn(4, 3))


def test_deep_convnet_uses_he_scales_of_the_books_fan_ins_in_draw_order():
    np.random.seed(5)
    net = DeepConvNet()
    np.random.seed(5)
    scales = np.sqrt(2.0 / np.array([9, 144, 144, 288, 288, 576, 1024, 50]))
    for i in range(1, 9):
        shape = net.params[f'W{i}'].shape
        assert np.array_equal(net.params[f'W{i}'], scales[i - 1] * np.random.randn(*shape))
        assert not net.params[f'b{i}'].any()


@pytest.mark.parametrize("make", ALL_NETS.values(), ids=ALL_NETS.keys())
def test_the_same_seed_gives_the_same_params(make):
    np.random.seed(42)
    a = make()
    np.random.seed(42)
    b = make()
    np.random.seed(43)
    c = make()
    for key in a.params:
        assert np.array_equal(a.params[key], b.params[key])
    assert any(not np.array_equal(a.params[k], c.params[k]) for k in a.params if k[0] == 'W')


@pytest.mark.parametrize("make", ALL_NETS.values(), ids=ALL_NETS.keys())
def test_dtype_float32_builds_float32_params_from_the_same_float64_draws(backend, make):
    np.random.seed(0)
    ref = make()
    np.random.seed(0)
    net = make(dtype=np.float32)
    for key, val in net.params.items():
        assert val.dtype == np.float32, key
        assert np.array_equal(val, ref.params[key].astype(np.float32))
    x = np.random.default_rng(2).standard_normal((3,) + input_shape(net)).astype(np.float32)
    assert net.predict(x).dtype == np.float32
    grads = net.gradient(x, labels(3, 3))
    assert {k: g.dtype for k, g in grads.items()} == {k: np.float32 for k in net.params}


def test_default_params_are_float64_and_a_bad_dtype_is_refused():
    assert all(v.dtype == np.float64 for v in SimpleConvNet().params.values())
    with pytest.raises(ValueError, match="dtype"):
        TwoLayerNet(3, 2, 2, dtype=np.int32)
    with pytest.raises(ValueError, match="dtype"):
        tiny_simple_convnet(dtype=np.float16)


# ---------------------------------------------------------------------------------------------
# gradients: backprop against numerical differentiation (float64)


def check_net_gradient(net, x, t):
    numeric = net.numerical_gradient(x, t)
    analytic = net.gradient(x, t)
    assert set(analytic) == set(numeric) == set(net.params)
    for key in net.params:
        assert analytic[key].shape == net.params[key].shape
        err = relative_error(analytic[key], numeric[key])
        assert err < GRADIENT_BOUND, f"gradient of {key}: relative error {err:.2e}"


def test_two_layer_net_gradient_matches_numerical(backend, rng):
    np.random.seed(0)
    net = TwoLayerNet(6, 5, 3, weight_init_std=0.5)
    check_net_gradient(net, rng.standard_normal((4, 6)), labels(4, 3))


@pytest.mark.parametrize("activation", ['relu', 'sigmoid'])
def test_multi_layer_net_gradient_with_weight_decay_matches_numerical(backend, rng, activation):
    np.random.seed(0)
    net = MultiLayerNet(6, [5, 4], 3, activation=activation, weight_decay_lambda=0.1)
    check_net_gradient(net, rng.standard_normal((4, 6)), np.eye(3)[labels(4, 3)])


def test_multi_layer_net_extend_gradient_with_batchnorm_matches_numerical(backend, rng):
    np.random.seed(0)
    net = MultiLayerNetExtend(6, [5, 4], 3, weight_decay_lambda=0.05, use_batchnorm=True)
    for key in net.params:  # gamma/beta away from their ones/zeros start
        if key[0] in 'gb':
            net.params[key] += rng.standard_normal(net.params[key].shape) * 0.3
    x = rng.standard_normal((5, 6))
    # The loss is -log(y + 1e-7) (the book's epsilon) and backprop differentiates -log(y), a
    # relative gap of about 1e-7 / y; labels the net already favours keep y >= 1/3.
    t = np.argmax(net.predict(x, train_flg=True), axis=1)
    # Batch normalisation subtracts the batch mean, so the loss does not depend on the biases
    # b1, b2 of the affine layers before it: both gradients are ~0 and a ratio means nothing.
    numeric = net.numerical_gradient(x, t)
    analytic = net.gradient(x, t)
    for key in ('b1', 'b2'):
        np.testing.assert_allclose(analytic[key], 0, atol=1e-12)
        np.testing.assert_allclose(numeric[key], 0, atol=1e-9)
    assert set(analytic) == set(numeric) == set(net.params)
    for key in set(net.params) - {'b1', 'b2'}:
        err = relative_error(analytic[key], numeric[key])
        assert err < GRADIENT_BOUND, f"gradient of {key}: relative error {err:.2e}"


def test_simple_convnet_gradient_matches_numerical(backend, rng):
    np.random.seed(0)
    net = tiny_simple_convnet(weight_init_std=0.3)
    check_net_gradient(net, rng.standard_normal((3, 1, 6, 6)), labels(3, 3))


def test_deep_convnet_gradient_matches_numerical_with_fixed_dropout_masks(backend, rng):
    # DeepConvNet.loss always runs dropout (random masks from np.random.rand), so each loss
    # evaluation reseeds the global generator: every evaluation, the numerical ones and the one
    # inside gradient(), then uses the same masks, and the loss is a fixed function of params.
    np.random.seed(0)
    net = tiny_deep_convnet()
    # Nonzero biases: with zero b4, the border outputs of the 4th conv (pad 2, where the filter
    # sees only padding) sit exactly on ReLU's kink, where no numerical derivative is right.
    for i in range(1, 9):
        net.params[f'b{i}'] += rng.uniform(0.1, 0.3, net.params[f'b{i}'].shape)
    x, t = rng.standard_normal((3, 1, 8, 8)), labels(3, 3)

    def loss(_):
        np.random.seed(123)
        return net.loss(x, t)

    numeric = {key: numerical_gradient(loss, val) for key, val in net.params.items()}
    np.random.seed(123)
    analytic = net.gradient(x, t)
    assert set(analytic) == set(net.params)
    for key in net.params:
        err = relative_error(analytic[key], numeric[key])
        assert err < GRADIENT_BOUND, f"gradient of {key}: relative error {err:.2e}"
    assert any(analytic[key].any() for key in ('W1', 'W7', 'W8'))


def test_gradient_returns_the_layers_own_arrays(backend, rng):
    net = tiny_simple_convnet()
    grads = net.gradient(rng.standard_normal((2, 1, 6, 6)), labels(2, 3))
    assert grads['W1'] is net.layers['Conv1'].dW
    assert grads['b3'] is net.layers['Affine2'].db
    two = TwoLayerNet(6, 5, 3)
    grads = two.gradient(rng.standard_normal((2, 6)), labels(2, 3))
    assert grads['W2'] is two.layers['Affine2'].dW


# ---------------------------------------------------------------------------------------------
# weight decay


@pytest.mark.parametrize("cls", [MultiLayerNet, MultiLayerNetExtend])
def test_weight_decay_adds_half_lambda_w_squared_to_loss_and_lambda_w_to_grads(backend, rng, cls):
    lam = 0.3
    np.random.seed(0)
    net = cls(6, [5, 4], 3, weight_decay_lambda=lam)
    x, t = rng.standard_normal((4, 6)), labels(4, 3)
    decayed_loss = net.loss(x, t)
    decayed = {k: v.copy() for k, v in net.gradient(x, t).items()}
    net.weight_decay_lambda = 0
    plain_loss = net.loss(x, t)
    plain = net.gradient(x, t)
    penalty = sum(0.5 * lam * np.sum(net.params[f'W{i}'] ** 2) for i in (1, 2, 3))
    assert decayed_loss - plain_loss == pytest.approx(penalty, rel=1e-12)
    for key in net.params:
        extra = lam * net.params[key] if key.startswith('W') else 0
        np.testing.assert_allclose(decayed[key], plain[key] + extra, rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------------------------------------
# predict / loss / accuracy semantics


def test_accuracy_counts_the_last_partial_batch(backend, rng):
    np.random.seed(0)
    net = tiny_simple_convnet(weight_init_std=0.3)
    x = rng.standard_normal((7, 1, 6, 6))
    t = np.argmax(net.predict(x), axis=1)  # every prediction right
    assert net.accuracy(x, t, batch_size=3) == 1.0  # the book: 6/7
    t[6] = (t[6] + 1) % 3
    assert net.accuracy(x, t, batch_size=3) == pytest.approx(6 / 7)
    assert net.accuracy(x, np.eye(3)[t], batch_size=100) == pytest.approx(6 / 7)


def test_deep_convnet_accuracy_is_deterministic_and_counts_every_sample(backend, rng):
    np.random.seed(0)
    net = tiny_deep_convnet()
    x = rng.standard_normal((5, 1, 8, 8))
    y = net.predict(x)  # train_flg=False: no random dropout
    assert np.array_equal(y, net.predict(x))
    t = np.argmax(y, axis=1)
    assert net.accuracy(x, t, batch_size=2) == 1.0


def test_accuracy_refuses_a_non_positive_batch_size(backend, rng):
    net = tiny_simple_convnet()
    with pytest.raises(ValueError, match="batch_size"):
        net.accuracy(rng.standard_normal((2, 1, 6, 6)), labels(2, 3), batch_size=0)


@pytest.mark.parametrize(
    "make",
    [
        lambda: TwoLayerNet(6, 5, 3),
        lambda: MultiLayerNet(6, [5], 3),
        lambda: MultiLayerNetExtend(6, [5], 3, use_dropout=True),
    ],
    ids=["TwoLayerNet", "MultiLayerNet", "MultiLayerNetExtend"],
)
def test_fully_connected_accuracy_takes_labels_or_one_hot(backend, rng, make):
    net = make()
    x = rng.standard_normal((8, 6))
    t = np.argmax(net.predict(x), axis=1)
    t[:2] = (t[:2] + 1) % 3
    assert net.accuracy(x, t) == 0.75
    assert net.accuracy(x, np.eye(3)[t]) == 0.75


ACCURACY_NETS = {
    "TwoLayerNet": (lambda: TwoLayerNet(6, 5, 3), (6,)),
    "MultiLayerNet": (lambda: MultiLayerNet(6, [5], 3), (6,)),
    "MultiLayerNetExtend": (lambda: MultiLayerNetExtend(6, [5], 3, use_batchnorm=True), (6,)),
    "SimpleConvNet": (tiny_simple_convnet, (1, 6, 6)),
    "DeepConvNet": (tiny_deep_convnet, (1, 8, 8)),
}


def _net_and_its_own_labels(net_name, n, rng):
    """ACCURACY_NETS' net (seed 0), n samples for it, and labels equal to its predictions."""
    make, sample = ACCURACY_NETS[net_name]
    np.random.seed(0)
    net = make()
    x = rng.standard_normal((n, *sample))
    return net, x, np.argmax(net.predict(x), axis=1)


@pytest.mark.parametrize("net_name", sorted(ACCURACY_NETS))
def test_accuracy_refuses_labels_for_another_number_of_samples(backend, rng, net_name):
    # One label (or t[:-1], or t.T) was compared with every prediction by NumPy's broadcasting,
    # without a word, as in the book; the convnets' batches compared parts of it.
    net, x, t = _net_and_its_own_labels(net_name, 4, rng)
    assert net.accuracy(x, t) == 1.0
    for wrong in (t[:1], t[:-1], np.eye(3)[t].T, t.reshape(2, 2, 1)):
        with pytest.raises(ValueError, match=r"t must hold 4 labels .* got shape"):
            net.accuracy(x, wrong)


@pytest.mark.parametrize("net_name", ["SimpleConvNet", "DeepConvNet"])
def test_batched_accuracy_takes_array_likes_and_no_samples(backend, rng, net_name):
    # x as a list, None or empty raised AttributeError or ZeroDivisionError (the book's loop
    # divides 0.0 by 0); no samples now give NaN as the other nets' accuracy does.
    net, x, t = _net_and_its_own_labels(net_name, 3, rng)
    assert net.accuracy(x.tolist(), t.tolist()) == 1.0
    with pytest.raises((TypeError, ValueError), match="x"):
        net.accuracy(None, t)
    with pytest.warns(RuntimeWarning):
        assert np.isnan(net.accuracy(x[:0], t[:0]))


def test_extend_predict_passes_train_flg_to_dropout_and_batchnorm(backend, rng):
    np.random.seed(0)
    net = MultiLayerNetExtend(6, [5], 3, use_dropout=True, use_batchnorm=True)
    x = rng.standard_normal((4, 6))
    net.predict(x, train_flg=True)  # creates the running statistics
    assert net.layers['BatchNorm1'].running_mean.any()
    test_mode = net.predict(x)
    assert np.array_equal(test_mode, net.predict(x, train_flg=False))
    np.random.seed(1)
    assert not np.allclose(net.predict(x, train_flg=True), test_mode)
    assert net.layers['Dropout1'].mask is not None


def test_loss_is_a_scalar_matching_the_softmax_cross_entropy_of_predict(backend, rng):
    net = TwoLayerNet(6, 5, 3, weight_init_std=0.5)
    x, t = rng.standard_normal((4, 6)), labels(4, 3)
    y = net.predict(x)
    p = np.exp(y - y.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    expected = -np.mean(np.log(p[np.arange(4), t] + 1e-7))
    assert np.ndim(net.loss(x, t)) == 0
    assert net.loss(x, t) == pytest.approx(expected, rel=1e-12)


# ---------------------------------------------------------------------------------------------
# constructors: sizes that cannot make a net are refused before any weight is drawn


@pytest.mark.parametrize(
    "make, error, word",
    [
        (lambda: TwoLayerNet(0, 5, 3), ValueError, "input_size"),
        (lambda: TwoLayerNet(6, -1, 3), ValueError, "hidden_size"),
        (lambda: TwoLayerNet(6, 5, 2.5), TypeError, "output_size"),
        (lambda: MultiLayerNet(0, [5], 3), ValueError, "input_size"),  # ZeroDivisionError
        (lambda: MultiLayerNet(6, [5, 0], 3), ValueError, r"hidden_size_list\[1\]"),
        (lambda: MultiLayerNet(6, 5, 3), TypeError, "hidden_size_list"),
        (lambda: MultiLayerNetExtend(6, [5], False), TypeError, "output_size"),
        (lambda: SimpleConvNet(input_dim=2.0), TypeError, "input_dim"),  # IndexError
        (lambda: SimpleConvNet(input_dim=(1, 28)), ValueError, "input_dim"),
        (
            lambda: SimpleConvNet(input_dim=(1, 9, 9), conv_param=tiny_conv_param()),
            ValueError,
            "even",
        ),
        (lambda: SimpleConvNet(conv_param={'filter_num': 2}), KeyError, "filter_size"),
        (lambda: SimpleConvNet(conv_param=['a']), TypeError, "conv_param"),  # IndexError
        (lambda: SimpleConvNet(conv_param=tiny_conv_param(stride=0)), ValueError, "stride"),
        (lambda: DeepConvNet(input_dim=(1, 2, 3)), ValueError, "too small"),  # ZeroDivisionError
        (lambda: DeepConvNet(hidden_size=0), ValueError, "hidden_size"),
    ],
)
def test_a_net_of_impossible_sizes_is_refused_before_drawing_weights(make, error, word):
    np.random.seed(3)
    before = np.random.get_state()[1].copy()
    with pytest.raises(error, match=word):
        make()
    assert np.array_equal(np.random.get_state()[1], before)  # nothing drawn
