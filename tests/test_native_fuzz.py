"""Calling the native bindings directly with wrong input raises a Python exception and writes
nothing; it never crashes the interpreter. Each case starts from a valid call of a kernel and
breaks one argument (shape, dtype, layout, rank, value); run under scripts/sanitize-tests.sh
this also proves the C reads and writes nothing out of bounds."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastscratch import _native
from fastscratch.kernels import KERNELS

R = np.random.default_rng(0)


def _f(*shape, dtype=np.float64):
    return R.standard_normal(shape).astype(dtype)


x4, W4, b4 = _f(2, 3, 5, 5), _f(4, 3, 3, 3), _f(4)
x2, W2, b3 = _f(4, 6), _f(6, 3), _f(3)
labels = np.array([0, 5, 2, 1], np.int64)
y2 = np.full((4, 6), 1 / 6)
mask = x4 <= 0
p, g = _f(3, 4), _f(3, 4)

VALID = {
    "im2col": (x4, 3, 3, 1, 1),
    "col2im": (_f(50, 27), (2, 3, 5, 5), 3, 3, 1, 1),
    "conv_forward": (x4, W4, b4, 1, 1),
    "conv_backward": (_f(2, 4, 5, 5), x4, W4, None, 1, 1),
    "pool_forward": (x4, 2, 2, 2, 0),
    "pool_backward": (_f(2, 3, 2, 2), np.zeros(24, np.int64), (2, 3, 5, 5), 2, 2, 2, 0),
    "affine_forward": (x2, W2, b3),
    "affine_forward_widened": (x2.astype(np.float32), W2, b3),
    "affine_backward": (_f(4, 3), x2, W2),
    "relu_forward": (x4,),
    "relu_backward": (_f(2, 3, 5, 5), mask),
    "sigmoid_forward": (x4,),
    "sigmoid_backward": (x4, np.abs(x4) / 10),
    "softmax": (x2,),
    "softmax_loss_forward": (x2, labels),
    "softmax_loss_backward": (y2, labels, None),
    "batchnorm_forward_train": (x2, _f(6), _f(6), 1e-6),
    "batchnorm_forward_test": (x2, _f(6), _f(6), _f(6), np.ones(6), 1e-6),
    "batchnorm_backward": (_f(4, 6), _f(6), _f(4, 6), _f(4, 6), np.ones(6)),
    "dropout_forward_train": (x4, R.random(x4.shape), 0.5),
    "dropout_backward": (x4, mask),
    "sgd_update": (p, g, 0.1),
    "momentum_update": (p, g, _f(3, 4), 0.1, 0.9),
    "nesterov_update": (p, g, _f(3, 4), 0.1, 0.9),
    "adagrad_update": (p, g, np.ones((3, 4)), 0.1),
    "rmsprop_update": (p, g, np.ones((3, 4)), 0.1, 0.99),
    "adam_update": (p, g, _f(3, 4), np.ones((3, 4)), 0.001, 0.9, 0.999),
}

# The native backend's fused kernels (a layer and the ReLU after it in one call), beside the
# contract's: the nets call them directly.
FUSED = {
    "conv_relu_forward": (x4, W4, b4, 1, 1),
    "affine_relu_forward": (x2, W2, b3),
    "affine_relu_forward_widened": (x2.astype(np.float32), W2, b3),
}
CALLS = {**VALID, **FUSED}


def test_every_kernel_of_the_contract_has_a_valid_call_here():
    assert set(VALID) == set(KERNELS)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_the_valid_calls_succeed(name):
    getattr(_native, name)(*[a.copy() if isinstance(a, np.ndarray) else a for a in CALLS[name]])


def _broken(value, how, rng):
    """`value` broken in one way."""
    if how == "none":
        return None
    if how == "int":
        return int(rng.choice([-1, 0, 2**31, 2**40, -(2**40), 2**62, 2**63 - 1]))
    if how == "string":
        return "x"
    if not isinstance(value, np.ndarray):
        return np.zeros(3)
    if how == "dtype":
        return value.astype(rng.choice([np.float32, np.int64, np.complex128, np.bool_, object]))
    if how == "shape":
        shape = list(value.shape) or [1]
        axis = int(rng.integers(len(shape)))
        shape[axis] = max(0, shape[axis] + int(rng.choice([-1, 1, 3])))
        return np.resize(value, shape).astype(value.dtype)
    if how == "rank":
        return value.reshape(value.shape + (1,)) if rng.random() < 0.5 else value.reshape(-1)
    if how == "layout":
        return np.asfortranarray(value) if value.ndim > 1 else value[::-1]
    if how == "readonly":
        value = value.copy()
        value.flags.writeable = False
        return value
    if how == "nan":
        return np.full_like(value, np.nan) if value.dtype.kind == "f" else value
    return value


@settings(deadline=None, max_examples=400, derandomize=True)
@given(
    st.sampled_from(sorted(CALLS)),
    st.integers(0, 6),
    st.integers(0, 2**32 - 1),
    st.sampled_from(
        ["none", "int", "string", "dtype", "shape", "rank", "layout", "readonly", "nan"]
    ),
)
def test_a_broken_argument_raises_and_writes_nothing(name, which, seed, how):
    rng = np.random.default_rng(seed)
    args = [a.copy() if isinstance(a, np.ndarray) else a for a in CALLS[name]]
    which %= len(args)
    args[which] = _broken(args[which], how, rng)
    before = [a.copy() if isinstance(a, np.ndarray) else None for a in args]
    try:
        getattr(_native, name)(*args)
    except (TypeError, ValueError, OverflowError, MemoryError):
        for a, saved in zip(args, before):
            if saved is not None:  # a failed call writes nothing
                np.testing.assert_array_equal(a, saved, strict=True)


@settings(deadline=None, max_examples=150, derandomize=True)
@given(
    st.sampled_from([3, 16]),
    st.sampled_from(["x", "W", "dout"]),
    st.sampled_from([np.nan, np.inf, -np.inf]),
    st.integers(0, 2**32 - 1),
    st.sampled_from([np.float32, np.float64]),
)
def test_conv_with_a_non_finite_entry_matches_the_reference(channels, where, value, seed, dtype):
    """Hostile values rather than broken arguments: one NaN or inf in x, W or dout gives NaN and
    inf where the reference has them, on the im2col path (3 channels) and on the shifted one (16
    channels, stride 1: issue 11 item 4, extra NaNs in dW and dx)."""
    from fastscratch import reference
    from fastscratch.testing import relative_error

    rng = np.random.default_rng(seed)
    args = {
        "x": rng.standard_normal((2, channels, 5, 6)).astype(dtype),
        "W": rng.standard_normal((3, channels, 3, 3)).astype(dtype),
        "dout": rng.standard_normal((2, 3, 5, 6)).astype(dtype),
    }
    args[where].flat[rng.integers(args[where].size)] = value
    x, W, dout = args["x"], args["W"], args["dout"]
    b = np.zeros(3, dtype)
    results = []
    for kernels in (_native, reference):
        with np.errstate(invalid="ignore"):
            out, _ = kernels.conv_forward(x, W, b, 1, 1)
            results.append((out,) + tuple(kernels.conv_backward(dout, x, W, None, 1, 1)))
    for name, got, want in zip(("out", "dx", "dW", "db"), *results):
        assert relative_error(got, want) < 1e-4, name
