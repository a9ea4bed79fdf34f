"""The native fused optimizer steps against the NumPy reference backend (the book's formulas,
Nesterov in the JP order). Each fused step rounds exactly where NumPy's multi-pass update does
(hyperparameters rounded to the parameter's dtype like a Python float, no FMA), so whole
multi-step trajectories must be equal bit for bit, in every memory layout, updating the same
ndarray objects."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fastscratch._native as native
import fastscratch.reference as ref

DTYPES = (np.float32, np.float64)

# name -> (number of state arrays, hyperparameters)
OPTIMIZERS = {
    "sgd_update": (0, (0.01,)),
    "momentum_update": (1, (0.01, 0.9)),
    "nesterov_update": (1, (0.01, 0.9)),
    "adagrad_update": (1, (0.01,)),
    "rmsprop_update": (1, (0.01, 0.99)),
    "adam_update": (2, (0.001 * (1 - 0.999) ** 0.5 / (1 - 0.9), 0.9, 0.999)),
}


def view_as(a, layout):
    """A writeable array of a's values in `layout`; for 'strided' and 'reversed' a view into a
    larger buffer (returned too, to check that nothing outside the view changes)."""
    if layout == "C":
        return a.copy(), None
    if layout == "F":
        return np.asfortranarray(a), None
    base = np.full(a.shape[:-1] + (2 * a.shape[-1],), 7, a.dtype)
    view = base[..., ::2] if layout == "strided" else base[..., ::-2]
    view[...] = a
    return view, base


def trajectory(backend, name, param, grads, states, hyper):
    for g in grads:
        getattr(backend, name)(param, g, *states, *hyper)


@settings(deadline=None, max_examples=25)
@given(
    st.sampled_from(DTYPES),
    st.sampled_from(sorted(OPTIMIZERS)),
    hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=6),
    st.sampled_from(["C", "F", "strided", "reversed"]),
    st.integers(0, 2**31),
)
def test_multi_step_trajectories_equal_the_reference_in_every_layout(
    dtype, name, shape, layout, seed
):
    n_states, hyper = OPTIMIZERS[name]
    rng = np.random.default_rng(seed)
    p0 = rng.standard_normal(shape).astype(dtype)
    grads = [rng.standard_normal(shape).astype(dtype) for _ in range(4)]
    s0 = [np.abs(rng.standard_normal(shape)).astype(dtype) for _ in range(n_states)]
    want_p, want_s = p0.copy(), [s.copy() for s in s0]
    trajectory(ref, name, want_p, grads, want_s, hyper)

    param, pbase = view_as(p0, layout)
    states = [view_as(s, layout) for s in s0]
    read_only_grads = []
    for g in grads:
        g = np.asfortranarray(g) if layout == "F" else g[..., ::-1].copy()[..., ::-1]
        g.flags.writeable = False
        read_only_grads.append(g)
    trajectory(native, name, param, read_only_grads, [s for s, _ in states], hyper)
    np.testing.assert_array_equal(param, want_p)
    for (s, _base), w in zip(states, want_s):
        np.testing.assert_array_equal(s, w)
    for base in [pbase] + [b for _, b in states]:
        if base is not None:  # the entries between the view's never change
            other = base[..., 1::2] if layout == "strided" else base[..., -2::-2]
            assert np.all(other == 7)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_large_parameters_take_the_threaded_path_and_stay_exact(dtype, name, rng):
    n_states, hyper = OPTIMIZERS[name]
    p = rng.standard_normal((4320, 100)).astype(dtype)
    grads = [rng.standard_normal(p.shape).astype(dtype) for _ in range(3)]
    s = [np.abs(rng.standard_normal(p.shape)).astype(dtype) for _ in range(n_states)]
    p2, s2 = p.copy(), [x.copy() for x in s]
    trajectory(native, name, p, grads, s, hyper)
    trajectory(ref, name, p2, grads, s2, hyper)
    np.testing.assert_array_equal(p, p2)
    for a, b in zip(s, s2):
        np.testing.assert_array_equal(a, b)


def test_nesterov_follows_the_japanese_books_order():
    p, v, g = np.array([1.0]), np.array([0.5]), np.array([2.0])
    native.nesterov_update(p, g, v, 0.1, 0.9)
    assert p[0] == 1.0 + 0.9 * 0.9 * 0.5 - (1 + 0.9) * 0.1 * 2.0  # uses the old v
    assert v[0] == 0.5 * 0.9 - 0.1 * 2.0


def test_empty_parameters_are_a_no_op():
    p = np.zeros((0, 3), np.float32)
    native.adam_update(p, p.copy(), p.copy(), p.copy(), 0.1, 0.9, 0.999)


def _fresh_param():
    return np.ones((2, 3))


def _bad_calls():
    ro = np.ones((2, 3))
    ro.flags.writeable = False
    return [
        (
            lambda q: native.sgd_update(q, np.ones((3, 2)), 0.1),
            ValueError,
            r"grad must have the shape of param \(2, 3\), got \(3, 2\)",
        ),
        (
            lambda q: native.sgd_update(q, np.ones((2, 3), np.float32), 0.1),
            TypeError,
            r"grad must have the dtype of param \(float64\), got float32",
        ),
        (
            lambda q: native.momentum_update(q, np.ones((2, 3)), ro, 0.1, 0.9),
            ValueError,
            "v must be writeable",
        ),
        (
            lambda q: native.adam_update(
                q, np.ones((2, 3)), np.ones((2, 3)), np.ones(6), 0.1, 0.9, 0.999
            ),
            ValueError,
            r"v must have the shape of param \(2, 3\), got \(6,\)",
        ),
        (
            lambda q: native.adagrad_update(q, np.ones((2, 3)), [[1.0] * 3] * 2, 0.1),
            TypeError,
            "h must be a numpy.ndarray, got list",
        ),
        (
            lambda q: native.rmsprop_update(
                q, np.ones((2, 3)), np.ones((2, 3), np.int64), 0.1, 0.99
            ),
            TypeError,
            "h must have the dtype of param",
        ),
    ], _fresh_param


@pytest.mark.parametrize("index", range(6))
def test_bad_input_is_refused_and_the_parameter_is_untouched(index):
    calls, make = _bad_calls()
    call, error, message = calls[index]
    param = make()
    with pytest.raises(error, match=message):
        call(param)
    assert np.all(param == 1)


def test_read_only_or_non_float_param_is_refused():
    ro = np.ones(3)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="param must be writeable"):
        native.sgd_update(ro, np.ones(3), 0.1)
    with pytest.raises(TypeError, match="param must have dtype float32 or float64, got int64"):
        native.sgd_update(np.ones(3, np.int64), np.ones(3, np.int64), 0.1)
    with pytest.raises(TypeError, match="param must be a numpy.ndarray"):
        native.sgd_update([1.0], np.ones(1), 0.1)
