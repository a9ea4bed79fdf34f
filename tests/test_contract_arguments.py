"""Every function of the kernel contract (`fastscratch.kernels`), called directly with a broken
argument, raises a TypeError or ValueError that names the argument, and both backends answer
alike: the same exception class, or the same numbers. Backward kernels check what their forward
produced (x, W, cache, arg_max, mask, labels, xc, ...) as the forward checks its input. The named
cases each failed before the checks (an AttributeError, IndexError or ZeroDivisionError, or the
reference computing from a broadcast or wrapped-around argument what the native backend
refused); the fuzz at the end breaks one or two arguments of valid calls at random."""

import numpy as np
import pytest

import fastscratch
from fastscratch import kernels


def _both(call):
    """call() on each backend -> {backend: result or exception}."""
    outcomes = {}
    for name in ("reference", "native"):
        with fastscratch.use_backend(name):
            try:
                outcomes[name] = call()
            except Exception as exc:  # compared by the caller
                outcomes[name] = exc
    return outcomes


def _refused_by_both(call, error, *words):
    """Both backends raise `error` with each of `words` in its message."""
    for name, outcome in _both(call).items():
        assert isinstance(outcome, error), (name, outcome)
        for word in words:
            assert word in str(outcome), (name, word, str(outcome))


def _conv_call(rng, dtype=np.float64):
    x, W, b = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3)), rng.random(4)
    x, W, b = x.astype(dtype), W.astype(dtype), b.astype(dtype)
    with fastscratch.use_backend("reference"):
        out, col = kernels.conv_forward(x, W, b, 1, 1)
    return x, W, col, rng.standard_normal(out.shape).astype(dtype)


def _pool_call(rng):
    x = rng.standard_normal((2, 3, 6, 6))
    out, arg_max = kernels.pool_forward(x, 2, 2, 2, 0)
    return x, arg_max, rng.standard_normal(out.shape)


# ---------------------------------------------------------------------------------------------
# arrays that are not arrays


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: kernels.col2im(None, (2, 3, 5, 5), 3, 3, 1, 1), "col"),
        (lambda: kernels.prepare_targets(np.ones((2, 3)), None), "t"),
        (lambda: kernels.batchnorm_forward_train(np.ones((2, 3)), None, np.ones(3), 1e-7), "gamma"),
        (
            lambda: kernels.batchnorm_forward_test(
                np.ones((2, 3)), *[np.ones(3)] * 2, [], [], 1e-7
            ),
            "running_mean",
        ),
        (lambda: kernels.affine_backward(np.ones((3, 2)), 0, np.ones((4, 2))), "x"),
        (lambda: kernels.affine_backward(np.ones((3, 2)), np.ones((3, 4)), {}), "W"),
        (lambda: kernels.relu_backward(np.ones((2, 3)), None), "mask"),
        (lambda: kernels.sigmoid_backward(np.ones((2, 3)), None), "out"),
        (lambda: kernels.sigmoid_backward(None, np.ones((2, 3))), "dout"),
        (lambda: kernels.dropout_backward(np.ones((2, 3)), 3), "mask"),
        (lambda: kernels.softmax_loss_forward(float("nan"), np.zeros(3, np.int64)), "x"),
        (lambda: kernels.softmax_loss_forward(np.ones((3, 4)), "x"), "labels"),
        (
            lambda: kernels.conv_backward(
                np.ones((1, 1, 1, 1)), 0.5, np.ones((1, 1, 1, 1)), None, 1, 0
            ),
            "x",
        ),
    ],
)
def test_a_missing_array_is_named(call, name):
    # Each of these raised AttributeError or IndexError (no argument named) on both backends.
    for outcome in _both(call).values():
        assert isinstance(outcome, (TypeError, ValueError)), outcome
        assert str(outcome).startswith(name + " ") or f" {name} " in str(outcome), str(outcome)


# ---------------------------------------------------------------------------------------------
# what a backward takes from its forward


def test_conv_backward_checks_stride_pad_x_and_w_as_the_forward_does(rng):
    x, W, col, dout = _conv_call(rng)
    # stride 0 divided by zero computing the output's size
    _refused_by_both(lambda: kernels.conv_backward(dout, x, W, None, 0, 1), ValueError, "stride")
    _refused_by_both(lambda: kernels.conv_backward(dout, x, W, None, 1, -1), ValueError, "pad")
    _refused_by_both(lambda: kernels.conv_backward(dout, x, W, None, True, 1), TypeError, "stride")
    _refused_by_both(
        lambda: kernels.conv_backward(dout, x[:, :2], W, None, 1, 1), ValueError, "channels"
    )
    _refused_by_both(lambda: kernels.conv_backward(dout, x, W[0], None, 1, 1), ValueError, "W")


@pytest.mark.parametrize(
    "cache",
    [np.zeros((3, 27)), np.zeros((72, 27), np.int64), np.array(["a"]), "col", 0.0],
    ids=["shape", "int", "str-array", "str", "float"],
)
def test_conv_backward_refuses_a_cache_not_of_this_call(rng, cache):
    # The reference computed dW from the cache and raised or gave numbers of another x; the
    # native ignored it: the two answered differently.
    x, W, col, dout = _conv_call(rng)
    _refused_by_both(lambda: kernels.conv_backward(dout, x, W, cache, 1, 1), ValueError, "cache")


def test_conv_backward_takes_none_or_the_reference_cache_on_both_backends(rng):
    x, W, col, dout = _conv_call(rng)
    outcomes = list(_both(lambda: kernels.conv_backward(dout, x, W, col, 1, 1)).values())
    outcomes += list(_both(lambda: kernels.conv_backward(dout, x, W, None, 1, 1)).values())
    for outcome in outcomes[1:]:
        for got, want in zip(outcome, outcomes[0]):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("position", [-1, 4, 2**62])
def test_pool_backward_refuses_an_arg_max_outside_the_window_on_both_backends(rng, position):
    # The reference routed -1 to the window's last position (a silent wrong gradient) and
    # raised IndexError for 4; the native refused both.
    x, arg_max, dout = _pool_call(rng)
    arg_max = arg_max.copy()
    arg_max[5] = position
    _refused_by_both(
        lambda: kernels.pool_backward(dout, arg_max, x.shape, 2, 2, 2, 0),
        ValueError,
        "arg_max",
        "[0, 4)",
    )


@pytest.mark.parametrize(
    "change, error, word",
    [
        (lambda a: {"arg_max": a["arg_max"][:3]}, ValueError, "arg_max"),
        (lambda a: {"arg_max": a["arg_max"].astype(float)}, TypeError, "arg_max"),
        (lambda a: {"x_shape": (2, 3, 6.5, 6)}, ValueError, "x_shape"),
        (lambda a: {"x_shape": 36}, TypeError, "x_shape"),
        (lambda a: {"pool_h": True}, TypeError, "pool_h"),
        (lambda a: {"stride": 0}, ValueError, "stride"),
        (lambda a: {"pad": 2}, ValueError, "pad"),
    ],
)
def test_pool_backward_checks_what_pool_forward_gave(rng, change, error, word):
    x, arg_max, dout = _pool_call(rng)
    args = {"arg_max": arg_max, "x_shape": x.shape, "pool_h": 2, "stride": 2, "pad": 0}
    args.update(change(args))
    _refused_by_both(
        lambda: kernels.pool_backward(
            dout, args["arg_max"], args["x_shape"], args["pool_h"], 2, args["stride"], args["pad"]
        ),
        error,
        word,
    )


def test_pool_backward_takes_int32_arg_max_and_a_list_shape(rng):
    x, arg_max, dout = _pool_call(rng)
    want = kernels.pool_backward(dout, arg_max, x.shape, 2, 2, 2, 0)
    for outcome in _both(
        lambda: kernels.pool_backward(dout, arg_max.astype(np.int32), list(x.shape), 2, 2, 2, 0)
    ).values():
        np.testing.assert_array_equal(outcome, want)


def test_col2im_refuses_a_fractional_size():
    # int(5.5) made it 5 without a word
    _refused_by_both(
        lambda: kernels.col2im(np.zeros((32, 12)), (2, 3, 5.5, 5), 2, 2, 1, 0),
        ValueError,
        "input_shape",
    )


@pytest.mark.parametrize("N", [3, 300])  # the tiny path and the backend's
def test_the_loss_kernels_refuse_labels_out_of_range_on_both_backends(rng, N):
    # The reference's forward read y[n, -1] (the last class) without a word; the native refused.
    x = rng.standard_normal((N, 10))
    labels = rng.integers(0, 10, N)
    labels[1] = -1
    _refused_by_both(lambda: kernels.softmax_loss_forward(x, labels), ValueError, "labels")
    y = np.full((N, 10), 0.1)
    _refused_by_both(lambda: kernels.softmax_loss_backward(y, labels, None), ValueError, "labels")
    labels[1] = 10
    _refused_by_both(lambda: kernels.softmax_loss_backward(y, labels, None), ValueError, "labels")


@pytest.mark.parametrize(
    "labels, one_hot, error",
    [
        (np.array([3]), None, ValueError),  # broadcast over the rows by the reference
        (-1, None, ValueError),
        (np.zeros(300), None, TypeError),  # float labels index nothing
        (np.zeros(300, np.int64), np.zeros((300, 9)), ValueError),
        (np.zeros(300, np.int64), True, ValueError),
    ],
)
def test_softmax_loss_backward_checks_labels_and_one_hot(labels, one_hot, error):
    y = np.full((300, 10), 0.1)
    _refused_by_both(lambda: kernels.softmax_loss_backward(y, labels, one_hot), error)


def test_the_layer_backward_still_gives_the_book_gradient(rng):
    # SoftmaxWithLoss.backward takes prepared_softmax_loss_backward (its forward checked t)
    from fastscratch.layers import SoftmaxWithLoss

    x, t = rng.standard_normal((4, 5)), np.array([0, 4, 2, 2])
    layer = SoftmaxWithLoss()
    layer.forward(x, t)
    y = np.exp(x - x.max(1, keepdims=True))
    y /= y.sum(1, keepdims=True)
    y[np.arange(4), t] -= 1
    np.testing.assert_allclose(layer.backward(), y / 4, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "index, value, word",
    [(4, -1.0, "std"), (4, np.ones(3), "std"), (3, 3.5, "xn"), (1, np.ones((2, 6)), "gamma")],
)
def test_batchnorm_backward_checks_what_the_forward_gave(rng, index, value, word):
    # The reference broadcast a scalar std or xn into a gradient; the native refused.
    x = rng.standard_normal((8, 6))
    out, mu, var, xc, xn, std = kernels.batchnorm_forward_train(x, np.ones(6), np.zeros(6), 1e-7)
    args = [rng.standard_normal((8, 6)), np.ones(6), xc, xn, std]
    args[index] = value
    _refused_by_both(lambda: kernels.batchnorm_backward(*args), ValueError, word)


@pytest.mark.parametrize(
    "rand, error", [(np.float64(0.7), ValueError), ("r", TypeError), (None, TypeError)]
)
def test_dropout_forward_checks_rand(rng, rand, error):
    x = rng.standard_normal((100, 50))
    _refused_by_both(lambda: kernels.dropout_forward_train(x, rand, 0.5), error, "rand")


def test_dropout_forward_refuses_bool_rand_on_both_backends(rng):
    x = rng.standard_normal((100, 50))
    rand = rng.random((100, 50)) > 0.5
    _refused_by_both(lambda: kernels.dropout_forward_train(x, rand, 0.5), TypeError, "rand")


@pytest.mark.parametrize("mask", [np.ones((2, 3)), np.ones((2, 3), np.int8)])
def test_the_backward_masks_must_be_bool(mask):
    # The reference zeroed by the mask's non-zero entries; the native refused.
    for kernel in (kernels.relu_backward, kernels.dropout_backward):
        _refused_by_both(lambda k=kernel: k(np.ones((2, 3)), mask), TypeError, "mask")


def test_sigmoid_backward_refuses_a_complex_out():
    # the fast path computed 1 - out in complex for the reference's size
    out = np.ones((2, 3), complex)
    _refused_by_both(lambda: kernels.sigmoid_backward(out, out), TypeError)


# ---------------------------------------------------------------------------------------------
# numbers that are not numbers


@pytest.mark.parametrize("eps", [np.float64(1e-7), np.array(1e-7), 1e-7])
def test_a_numpy_eps_keeps_float32_batchnorm_in_float32(rng, eps):
    # np.float64 eps made the reference's float32 batch norm float64; the native stayed float32
    x = rng.standard_normal((8, 6)).astype(np.float32)
    g, b = np.ones(6, np.float32), np.zeros(6, np.float32)
    for outcome in _both(lambda: kernels.batchnorm_forward_train(x, g, b, eps)).values():
        assert all(a.dtype == np.float32 for a in outcome)
    for outcome in _both(lambda: kernels.batchnorm_forward_test(x, g, b, b, g, eps)).values():
        assert outcome.dtype == np.float32


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda p, g: kernels.sgd_update(p, g, "0.1"), "lr"),
        (lambda p, g: kernels.sgd_update(p, g, None), "lr"),
        (lambda p, g: kernels.momentum_update(p, g, np.zeros(3), 0.1, [0.9]), "momentum"),
        (lambda p, g: kernels.adam_update(p, g, np.zeros(3), np.zeros(3), 0.1, 0.9, 1j), "beta2"),
        (lambda p, g: kernels.dropout_forward_train(g, np.ones(3), None), "ratio"),
        (lambda p, g: kernels.batchnorm_forward_train(np.ones((2, 3)), g, g, "1e-7"), "eps"),
    ],
)
def test_a_hyperparameter_that_is_no_number_is_named(call, name):
    for outcome in _both(lambda: call(np.ones(3), np.ones(3))).values():
        assert isinstance(outcome, TypeError), outcome
        assert str(outcome).startswith(name + " "), str(outcome)


# ---------------------------------------------------------------------------------------------
# the fuzz


def _valid(name, dtype, rng):
    """Arguments of a valid call of kernels.<name>, those of a backward from its forward."""

    def r(*shape):
        return rng.standard_normal(shape).astype(dtype)

    small = rng.choice([3, 200])  # the tiny paths to NumPy and the backends'
    if name == "im2col":
        return [r(2, 3, 5, 5), 3, 3, 1, 1]
    if name == "col2im":
        return [r(50, 27), (2, 3, 5, 5), 3, 3, 1, 1]
    if name in ("conv_forward", "conv_relu_forward"):
        return [r(2, 3, 6, 6), r(4, 3, 3, 3), r(4), 1, 1]
    if name == "conv_backward":
        x, W, col, dout = _conv_call(rng, dtype)
        return [dout, x, W, col if rng.random() < 0.5 else None, 1, 1, True]
    if name == "pool_forward":
        return [r(2, 3, 6, 6), 2, 2, 2, 0]
    if name == "pool_backward":
        x = r(2, 3, 6, 6)
        out, arg_max = kernels.pool_forward(x, 2, 2, 2, 0)
        return [r(*out.shape), arg_max, x.shape, 2, 2, 2, 0]
    if name in ("affine_forward", "affine_relu_forward"):
        return [r(small, 700), r(700, 30), r(30)]
    if name == "affine_backward":
        return [r(small, 30), r(small, 700), r(700, 30), True]
    if name in ("relu_forward", "sigmoid_forward", "softmax"):
        return [r(small, 50)]
    if name == "relu_backward":
        return [r(small, 50), r(small, 50) > 0]
    if name == "sigmoid_backward":
        return [r(small, 50), 1 / (1 + np.exp(-r(small, 50)))]
    if name == "prepare_targets":
        return [r(5, 10), rng.integers(0, 10, 5)]
    if name == "softmax_loss_forward":
        return [r(small, 10), rng.integers(0, 10, small)]
    if name == "softmax_loss_backward":
        x, labels, one_hot = kernels.prepare_targets(r(small, 10), rng.integers(0, 10, small))
        return [kernels.softmax_loss_forward(x, labels)[1], labels, one_hot]
    if name == "batchnorm_forward_train":
        return [r(8, 6), r(6), r(6), 1e-7]
    if name == "batchnorm_forward_test":
        return [r(8, 6), r(6), r(6), r(6), np.abs(r(6)), 1e-7]
    if name == "batchnorm_backward":
        out, mu, var, xc, xn, std = kernels.batchnorm_forward_train(r(8, 6), r(6), r(6), 1e-7)
        return [r(8, 6), r(6), xc, xn, std]
    if name == "dropout_forward_train":
        return [r(small, 50), rng.random((small, 50)), 0.5]
    if name == "dropout_backward":
        return [r(small, 50), rng.random((small, 50)) > 0.5]
    if name == "sgd_update":
        return [r(4, 5), r(4, 5), 0.1]
    if name in ("momentum_update", "nesterov_update"):
        return [r(4, 5), r(4, 5), r(4, 5), 0.1, 0.9]
    if name in ("adagrad_update", "rmsprop_update"):
        return [r(4, 5), r(4, 5), np.abs(r(4, 5)), 0.1] + ([0.99] if name[0] == "r" else [])
    if name == "adam_update":
        return [r(4, 5), r(4, 5), r(4, 5), np.abs(r(4, 5)), 0.1, 0.9, 0.999]
    raise KeyError(name)


FUZZED = [
    "im2col", "col2im", "conv_forward", "conv_relu_forward", "conv_backward", "pool_forward",
    "pool_backward", "affine_forward", "affine_relu_forward", "affine_backward", "relu_forward",
    "relu_backward", "sigmoid_forward", "sigmoid_backward", "softmax", "prepare_targets",
    "softmax_loss_forward", "softmax_loss_backward", "batchnorm_forward_train",
    "batchnorm_forward_test", "batchnorm_backward", "dropout_forward_train", "dropout_backward",
    "sgd_update", "momentum_update", "nesterov_update", "adagrad_update", "rmsprop_update",
    "adam_update",
]  # fmt: skip


def _broken(value, rng):
    """A value in place of an argument: of another kind, or the argument changed."""
    options = [None, 3.5, "x", [], [[1.0, 2.0], [3.0]], True, -1, 0, 2**31, 2**63 - 1, -(2**40)]
    options += [float("nan"), np.float64(2.0), np.int64(3), (1, 2), {}, np.array(3.0)]
    options += [np.zeros(0), np.zeros((0, 3)), np.array(["a"]), np.zeros(3, complex)]
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf" and value.ndim:
        a = value
        read_only = a.copy()
        read_only.flags.writeable = False
        options += [a.T, a[..., ::-1], a[:1], np.concatenate([a, a]), a.reshape(-1), a.tolist()]
        options += [a.astype(t) for t in (np.float16, np.float32, np.float64, np.int64, bool)]
        options += [a.astype(a.dtype.newbyteorder()), np.asfortranarray(a), read_only]
        if a.dtype.kind in "iuf":
            options += [-a, a * 2**20]
    if isinstance(value, int) and not isinstance(value, bool):
        options += [value + 1, value - 1, value * 7, float(value), -value]
    if isinstance(value, tuple):
        options += [list(value), value[:3], value + (1,), tuple(-s for s in value)]
    return options[rng.integers(len(options))]


def _run(name, args):
    """('ok', result, args after the call) or ('refused', exception class) for one backend;
    other exceptions propagate (the test fails on them)."""
    args = [a.copy() if isinstance(a, np.ndarray) and a.flags.writeable else a for a in args]
    try:
        return "ok", getattr(kernels, name)(*args), args
    except (TypeError, ValueError) as exc:
        return "refused", type(exc)


def _arrays_of(value):
    if isinstance(value, tuple):
        return [a for item in value for a in _arrays_of(item)]
    if isinstance(value, np.ndarray) or np.isscalar(value):
        return [np.asarray(value)]
    return []


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NaN and overflow, as NumPy warns
@pytest.mark.parametrize("seed", range(8))
def test_broken_arguments_are_refused_alike_by_both_backends(seed):
    rng = np.random.default_rng(seed)
    for case in range(400):
        name = FUZZED[rng.integers(len(FUZZED))]
        args = _valid(name, (np.float32, np.float64)[rng.integers(2)], rng)
        for _ in range(rng.integers(1, 3)):
            where = rng.integers(len(args))
            args[where] = _broken(args[where], rng)
        outcomes = {}
        for backend in ("reference", "native"):
            with fastscratch.use_backend(backend):
                outcomes[backend] = _run(name, args)
        ref, nat = outcomes["reference"], outcomes["native"]
        context = (seed, case, name, [type(a).__name__ for a in args])
        assert ref[0] == nat[0], context
        if ref[0] == "refused":
            continue
        wanted, gotten = ref[1], nat[1]
        if name in ("conv_forward", "conv_relu_forward"):  # the caches differ by design
            wanted, gotten = wanted[:1] + wanted[2:], gotten[:1] + gotten[2:]
        for got, want in zip(_arrays_of(gotten), _arrays_of(wanted), strict=True):
            assert got.shape == want.shape and got.dtype == want.dtype, context
            if got.dtype.kind == "f":
                np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4, err_msg=str(context))
            else:
                np.testing.assert_array_equal(got, want, err_msg=str(context))
        for got, want in zip(nat[2], ref[2]):  # what the in-place kernels wrote
            if isinstance(want, np.ndarray) and want.dtype.kind == "f":
                np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4, err_msg=str(context))


# ---------------------------------------------------------------------------------------------
# ndarray subclasses


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


SUBCLASS_CALLS = {
    # square operands: np.matrix's * is a matrix product, which the reference's NumPy computed
    # without a word where an elementwise one was meant
    "sigmoid_backward": (
        lambda a, b, f: kernels.sigmoid_backward(f(a), f(_sigmoid(b))),
        lambda a, b: a * (1 - _sigmoid(b)) * _sigmoid(b),
    ),
    "sigmoid_backward, out alone": (  # the inline path's `dx *= dout` with dx a matrix
        lambda a, b, f: kernels.sigmoid_backward(a, f(_sigmoid(b))),
        lambda a, b: a * (1 - _sigmoid(b)) * _sigmoid(b),
    ),
    "dropout_backward": (
        lambda a, b, f: kernels.dropout_backward(f(a), b > 0),
        lambda a, b: a * (b > 0),
    ),
    "softmax": (  # matrix.max() takes no keepdims: TypeError
        lambda a, b, f: kernels.softmax(f(a)),
        lambda a, b: np.exp(a) / np.exp(a).sum(axis=1, keepdims=True),
    ),
    "relu_backward": (  # natively the matrix's ravel() is one row: a Cython buffer error
        lambda a, b, f: kernels.relu_backward(f(np.tile(a, (20, 20))), np.tile(b, (20, 20)) > 0),
        lambda a, b: np.where(np.tile(b, (20, 20)) > 0, 0, np.tile(a, (20, 20))),
    ),
}


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # np.matrix's own
@pytest.mark.parametrize("name", sorted(SUBCLASS_CALLS))
def test_np_matrix_operands_compute_elementwise_as_plain_arrays(rng, name):
    call, want = SUBCLASS_CALLS[name]
    a, b = rng.standard_normal((4, 4)), rng.standard_normal((4, 4))
    for backend, outcome in _both(lambda: call(a, b, np.asmatrix)).items():
        assert not isinstance(outcome, Exception), (backend, outcome)
        assert type(outcome) is np.ndarray
        np.testing.assert_allclose(outcome, want(a, b), rtol=1e-12, atol=1e-15)


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_an_np_matrix_parameter_is_updated_in_place(rng):
    from fastscratch.optimizer import SGD, Adam

    a, b = rng.standard_normal((4, 4)), rng.standard_normal((4, 4))
    for kind in (SGD, Adam):
        for backend in ("reference", "native"):
            param, plain = np.asmatrix(a.copy()), a.copy()
            with fastscratch.use_backend(backend):
                kind(0.1).update({"W": param}, {"W": np.asmatrix(b)})
                kind(0.1).update({"W": plain}, {"W": b})
            assert type(param) is np.matrix
            np.testing.assert_allclose(np.asarray(param), plain, rtol=1e-12)


@pytest.mark.parametrize(
    "call",
    [
        lambda m: kernels.relu_forward(m),
        lambda m: kernels.affine_forward(m, np.ones((4, 2)), np.zeros(2)),
        lambda m: kernels.sigmoid_backward(np.ones((3, 4)), m),
        lambda m: kernels.softmax_loss_forward(m, np.zeros(3, np.int64)),
    ],
)
def test_a_masked_array_is_refused_by_name(call):
    # the native kernels ignored the mask that the reference's NumPy honoured
    masked = np.ma.masked_array(np.ones((3, 4)), mask=np.eye(3, 4, dtype=bool))
    _refused_by_both(lambda: call(masked), TypeError, "masked array")


def test_a_masked_parameter_is_refused_before_any_key_is_updated():
    from fastscratch.optimizer import SGD

    first = np.ones(3)
    params = {"a": first, "b": np.ma.masked_array(np.ones(3), mask=[0, 1, 0])}
    with pytest.raises(TypeError, match=r"params\['b'\] is a masked array"):
        SGD(0.1).update(params, {"a": np.ones(3), "b": np.ones(3)})
    np.testing.assert_array_equal(first, np.ones(3))  # nothing half-applied
