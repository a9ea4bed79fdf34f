"""fastscratch.optimizer: the book's update formulas in the book's order, in place on the very
arrays of `params`, and a failed call that changes nothing."""

import math

import numpy as np
import pytest

import fastscratch.kernels
import fastscratch.optimizer
from fastscratch.optimizer import SGD, AdaGrad, Adam, Momentum, Nesterov, RMSprop

STEPS = 3


def make_problem(rng, dtype=np.float64):
    params = {
        "W": rng.standard_normal((3, 4)).astype(dtype),
        "b": rng.standard_normal(4).astype(dtype),
    }
    grads = [
        {k: rng.standard_normal(v.shape).astype(dtype) for k, v in params.items()}
        for _ in range(STEPS)
    ]
    return params, grads


def run(optimizer, params, grads):
    for g in grads:
        optimizer.update(params, g)
    return params


# Hand-written NumPy versions of the book's formulas, one key at a time.


def sgd(p, gs, lr):
    for g in gs:
        p = p - lr * g
    return p


def momentum(p, gs, lr, m):
    v = np.zeros_like(p)
    for g in gs:
        v = m * v - lr * g
        p = p + v
    return p


def nesterov_jp(p, gs, lr, m):
    v = np.zeros_like(p)
    for g in gs:
        p = p + m * m * v - (1 + m) * lr * g
        v = m * v - lr * g
    return p


def nesterov_kr(p, gs, lr, m):
    v = np.zeros_like(p)
    for g in gs:
        v = m * v - lr * g
        p = p + m * m * v - (1 + m) * lr * g
    return p


def adagrad(p, gs, lr):
    h = np.zeros_like(p)
    for g in gs:
        h = h + g * g
        p = p - lr * g / (np.sqrt(h) + 1e-7)
    return p


def rmsprop(p, gs, lr, d):
    h = np.zeros_like(p)
    for g in gs:
        h = d * h + (1 - d) * g * g
        p = p - lr * g / (np.sqrt(h) + 1e-7)
    return p


def adam(p, gs, lr, b1, b2):
    m, v = np.zeros_like(p), np.zeros_like(p)
    for i, g in enumerate(gs, start=1):
        lr_t = lr * math.sqrt(1 - b2**i) / (1 - b1**i)
        m = m + (1 - b1) * (g - m)
        v = v + (1 - b2) * (g * g - v)
        p = p - lr_t * m / (np.sqrt(v) + 1e-7)
    return p


CASES = {
    "SGD": (lambda: SGD(lr=0.1), lambda p, gs: sgd(p, gs, 0.1)),
    "Momentum": (lambda: Momentum(lr=0.1, momentum=0.8), lambda p, gs: momentum(p, gs, 0.1, 0.8)),
    "Nesterov": (
        lambda: Nesterov(lr=0.1, momentum=0.8),
        lambda p, gs: nesterov_jp(p, gs, 0.1, 0.8),
    ),
    "AdaGrad": (lambda: AdaGrad(lr=0.1), lambda p, gs: adagrad(p, gs, 0.1)),
    "RMSprop": (lambda: RMSprop(lr=0.1, decay_rate=0.9), lambda p, gs: rmsprop(p, gs, 0.1, 0.9)),
    "Adam": (
        lambda: Adam(lr=0.01, beta1=0.8, beta2=0.99),
        lambda p, gs: adam(p, gs, 0.01, 0.8, 0.99),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_update_follows_the_books_formula_for_three_steps(backend, rng, name):
    make, formula = CASES[name]
    params, grads = make_problem(rng)
    expected = {k: formula(v.copy(), [g[k] for g in grads]) for k, v in params.items()}
    run(make(), params, grads)
    for k in params:
        np.testing.assert_allclose(params[k], expected[k], rtol=1e-13, atol=1e-15)


def test_nesterov_uses_the_jp_order_not_the_kr_order(backend, rng):
    params, grads = make_problem(rng)
    p0 = params["W"].copy()
    run(Nesterov(lr=0.1, momentum=0.9), params, grads)
    gs = [g["W"] for g in grads]
    np.testing.assert_allclose(params["W"], nesterov_jp(p0, gs, 0.1, 0.9), rtol=1e-13)
    assert not np.allclose(params["W"], nesterov_kr(p0, gs, 0.1, 0.9), rtol=1e-6)


def test_adam_counts_iterations_and_folds_bias_correction_into_lr(backend):
    opt = Adam()
    assert (opt.lr, opt.beta1, opt.beta2, opt.iter, opt.m, opt.v) == (
        0.001,
        0.9,
        0.999,
        0,
        None,
        None,
    )
    params = {"w": np.array([1.0])}
    opt.update(params, {"w": np.array([0.5])})
    # after one step m = 0.05, v = 0.00025, lr_t = 0.001*sqrt(0.001)/0.1: the step is ~lr
    lr_t = 0.001 * math.sqrt(1 - 0.999) / (1 - 0.9)
    assert opt.iter == 1
    assert params["w"][0] == pytest.approx(
        1.0 - lr_t * 0.05 / (math.sqrt(0.00025) + 1e-7), rel=1e-14
    )
    opt.update(params, {"w": np.array([0.5])})
    assert opt.iter == 2


def test_constructor_defaults_and_attributes_match_the_book():
    assert SGD().lr == 0.01
    assert (Momentum().lr, Momentum().momentum, Momentum().v) == (0.01, 0.9, None)
    assert (Nesterov().lr, Nesterov().momentum, Nesterov().v) == (0.01, 0.9, None)
    assert (AdaGrad().lr, AdaGrad().h) == (0.01, None)
    assert (RMSprop().lr, RMSprop().decay_rate, RMSprop().h) == (0.01, 0.99, None)
    assert (Adam(0.5, 0.1, 0.2).lr, Adam(0.5, 0.1, 0.2).beta1, Adam(0.5, 0.1, 0.2).beta2) == (
        0.5,
        0.1,
        0.2,
    )


@pytest.mark.parametrize("name", list(CASES))
def test_update_is_in_place_on_the_same_arrays(backend, rng, name):
    params, grads = make_problem(rng)
    before = {k: v for k, v in params.items()}
    held = params["W"]
    copy = held.copy()
    run(CASES[name][0](), params, grads)
    assert all(params[k] is before[k] for k in params)
    assert not np.array_equal(held, copy)


@pytest.mark.parametrize("name", ["Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"])
def test_state_is_created_lazily_with_zeros_like(backend, rng, name):
    opt = CASES[name][0]()
    attrs = {
        "Momentum": ["v"],
        "Nesterov": ["v"],
        "AdaGrad": ["h"],
        "RMSprop": ["h"],
        "Adam": ["m", "v"],
    }[name]
    assert all(getattr(opt, a) is None for a in attrs)
    params, grads = make_problem(rng, np.float32)
    opt.update(params, grads[0])
    for a in attrs:
        state = getattr(opt, a)
        assert set(state) == {"W", "b"}
        assert state["W"].shape == (3, 4) and state["W"].dtype == np.float32


@pytest.mark.parametrize("name", list(CASES))
def test_non_contiguous_params_are_updated_through_the_view(backend, rng, name):
    make, formula = CASES[name]
    base = rng.standard_normal((6, 8))
    original = base.copy()
    view = base[::2, 1::2]
    grads = [{"W": rng.standard_normal(view.shape)} for _ in range(STEPS)]
    expected = formula(view.copy(), [g["W"] for g in grads])
    run(make(), {"W": view}, grads)
    np.testing.assert_allclose(base[::2, 1::2], expected, rtol=1e-13)
    untouched = np.ones(base.shape, bool)
    untouched[::2, 1::2] = False
    np.testing.assert_array_equal(base[untouched], original[untouched])


@pytest.mark.parametrize("name", list(CASES))
def test_float32_params_stay_float32_with_float64_grads(backend, rng, name):
    make, formula = CASES[name]
    params, _ = make_problem(rng, np.float32)
    grads = [{k: rng.standard_normal(v.shape) for k, v in params.items()} for _ in range(STEPS)]
    expected = formula(params["W"].astype(np.float64), [g["W"] for g in grads])
    held = params["W"]
    run(make(), params, grads)
    assert params["W"] is held and held.dtype == np.float32
    np.testing.assert_allclose(held, expected, rtol=1e-4, atol=1e-5)


BAD_GRADS = {
    "missing key": ({"W": np.ones((3, 4))}, KeyError, "grads has no entry for params\\['b'\\]"),
    "wrong shape": (
        {"W": np.ones((3, 4)), "b": np.ones(5)},
        ValueError,
        "grads\\['b'\\] must have the shape",
    ),
    "complex": (
        {"W": np.ones((3, 4)), "b": np.ones(4, complex)},
        TypeError,
        "grads\\['b'\\] must hold real numbers",
    ),
    "object": (
        {"W": np.ones((3, 4)), "b": np.array([None] * 4)},
        TypeError,
        "grads\\['b'\\] must hold real numbers",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("bad", list(BAD_GRADS))
def test_failed_update_leaves_params_and_state_untouched(backend, rng, name, bad):
    params = {"W": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)}
    opt = CASES[name][0]()
    opt.update(params, {"W": np.ones((3, 4)), "b": np.ones(4)})  # state exists now
    params_before = {k: v.copy() for k, v in params.items()}
    state_before = {
        a: {k: s.copy() for k, s in getattr(opt, a).items()}
        for a in ("v", "h", "m")
        if getattr(opt, a, None) is not None
    }
    iter_before = getattr(opt, "iter", None)
    grads, error, message = BAD_GRADS[bad]
    with pytest.raises(error, match=message):
        opt.update(params, grads)
    for k in params:
        np.testing.assert_array_equal(params[k], params_before[k])
    for a, state in state_before.items():
        for k in state:
            np.testing.assert_array_equal(getattr(opt, a)[k], state[k])
    assert getattr(opt, "iter", None) == iter_before


@pytest.mark.parametrize("name", ["Momentum", "Adam"])
def test_failed_first_update_creates_no_state(backend, name):
    opt = CASES[name][0]()
    params = {"W": np.ones(3), "b": np.ones(2)}
    with pytest.raises(KeyError):
        opt.update(params, {"W": np.ones(3)})
    assert opt.v is None
    np.testing.assert_array_equal(params["W"], np.ones(3))
    if name == "Adam":
        assert opt.iter == 0 and opt.m is None


@pytest.mark.parametrize("name", list(CASES))
def test_a_bad_hyperparameter_changes_nothing_and_is_named(backend, name):
    opt = CASES[name][0]()
    params = {"W": np.ones(3), "b": np.ones(2)}
    grads = {"W": np.ones(3), "b": np.ones(2)}
    opt.update(params, grads)
    params_before = {k: v.copy() for k, v in params.items()}
    iter_before = getattr(opt, "iter", None)
    opt.lr = "fast"
    with pytest.raises((TypeError, ValueError), match="lr"):
        opt.update(params, grads)
    for k in params:
        np.testing.assert_array_equal(params[k], params_before[k])
    assert getattr(opt, "iter", None) == iter_before  # Adam's step count did not advance


@pytest.mark.parametrize("name", list(CASES))
def test_each_key_is_checked_once_per_update(backend, monkeypatch, name):
    calls = []
    check = fastscratch.kernels.check_update
    monkeypatch.setattr(
        fastscratch.kernels,
        "check_update",
        lambda *args, **kw: calls.append(args[3]) or check(*args, **kw),
    )
    CASES[name][0]().update({"W": np.ones(3), "b": np.ones(2)}, {"W": np.ones(3), "b": np.ones(2)})
    assert calls == ["W", "b"]


def test_bad_params_are_refused_naming_the_key(backend):
    readonly = np.ones(3)
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match="params\\['W'\\] must be writeable"):
        SGD().update({"W": readonly}, {"W": np.ones(3)})
    with pytest.raises(TypeError, match="params\\['W'\\] must be a float32 or float64"):
        SGD().update({"W": np.ones(3, dtype=np.int64)}, {"W": np.ones(3)})
    with pytest.raises(TypeError, match="params\\['W'\\] must be a float32 or float64"):
        SGD().update({"W": [1.0, 2.0]}, {"W": np.ones(2)})


def test_state_that_no_longer_matches_a_param_is_refused(backend):
    opt = Momentum()
    opt.update({"W": np.ones(3)}, {"W": np.ones(3)})
    replaced = np.ones(4)
    with pytest.raises(ValueError, match="v\\['W'\\].*no longer matches"):
        opt.update({"W": replaced}, {"W": np.ones(4)})
    np.testing.assert_array_equal(replaced, np.ones(4))


# ---------------------------------------------------------------------------------------------
# Numbers as parameters, as ch06/optimizer_compare_naive.py passes them (issue 15: it failed
# with "params['x'] must be a float32 or float64 ndarray").


def _book_path(name, lr, steps=30):
    """The (x, y) path of the book's update rules on f = x**2/20 + y**2 from (-7, 2), written
    out in Python floats."""
    x, y = -7.0, 2.0
    v = {"x": 0.0, "y": 0.0}
    h = {"x": 0.0, "y": 0.0}
    m = {"x": 0.0, "y": 0.0}
    path = []
    for it in range(1, steps + 1):
        p = {"x": x, "y": y}
        g = {"x": x / 10.0, "y": 2.0 * y}
        for k in ("x", "y"):
            if name == "SGD":
                p[k] -= lr * g[k]
            elif name == "Momentum":
                v[k] = 0.9 * v[k] - lr * g[k]
                p[k] += v[k]
            elif name == "Nesterov":
                p[k] += 0.9 * 0.9 * v[k]
                p[k] -= (1 + 0.9) * lr * g[k]
                v[k] *= 0.9
                v[k] -= lr * g[k]
            elif name == "AdaGrad":
                h[k] += g[k] * g[k]
                p[k] -= lr * g[k] / (math.sqrt(h[k]) + 1e-7)
            elif name == "RMSprop":
                h[k] *= 0.99
                h[k] += (1 - 0.99) * g[k] * g[k]
                p[k] -= lr * g[k] / (math.sqrt(h[k]) + 1e-7)
            elif name == "Adam":
                lr_t = lr * math.sqrt(1.0 - 0.999**it) / (1.0 - 0.9**it)
                m[k] += (1 - 0.9) * (g[k] - m[k])
                v[k] += (1 - 0.999) * (g[k] ** 2 - v[k])
                p[k] -= lr_t * m[k] / (math.sqrt(v[k]) + 1e-7)
        x, y = p["x"], p["y"]
        path.append((x, y))
    return path


@pytest.mark.parametrize(
    "name,lr",
    [
        ("SGD", 0.95),
        ("Momentum", 0.1),
        ("Nesterov", 0.1),
        ("AdaGrad", 1.5),
        ("RMSprop", 0.1),
        ("Adam", 0.3),
    ],
)
def test_numbers_as_params_follow_the_books_path_bit_for_bit(name, lr):
    optimizer = getattr(fastscratch.optimizer, name)(lr=lr)
    params = {"x": -7.0, "y": 2.0}
    path = []
    for _ in range(30):
        grads = {"x": params["x"] / 10.0, "y": 2.0 * params["y"]}
        optimizer.update(params, grads)
        assert type(params["x"]) is float and type(params["y"]) is float  # rebound, as the book
        path.append((params["x"], params["y"]))
    assert path == _book_path(name, lr)


def test_a_numpy_scalar_param_stays_a_numpy_scalar_of_its_type():
    params = {"w": np.float32(1.5)}
    fastscratch.optimizer.SGD(lr=0.5).update(params, {"w": np.float32(1.0)})
    assert type(params["w"]) is np.float32 and params["w"] == np.float32(1.0)


@pytest.mark.parametrize("grads", [np.ones(3), np.float64(1.0), [1.0, 2.0]])
def test_grads_that_are_no_dict_are_named(grads):
    # an array or a NumPy scalar has __getitem__: grads[key] raised IndexError
    for optimizer in (SGD(), Adam()):
        with pytest.raises(TypeError, match="grads must be a dict"):
            optimizer.update({"W": np.ones(3)}, grads)
