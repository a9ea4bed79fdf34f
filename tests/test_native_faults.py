"""Faults and hostile input (issue 11): arguments that share memory with each other, and arrays
at addresses misaligned for their dtype, give on the native backend what the reference gives.
Run under scripts/sanitize-tests.sh, the misaligned cases also prove that no C kernel loads from
a misaligned address (UBSan stops the run on one)."""

import numpy as np
import pytest

from fastscratch import _native as native
from fastscratch import reference
from fastscratch.testing import assert_close

DTYPES = (np.float32, np.float64)

# name, hyper-parameters, names of the state arrays
OPTIMIZERS = [
    ("sgd_update", (0.1,), ()),
    ("momentum_update", (0.1, 0.9), ("v",)),
    ("nesterov_update", (0.1, 0.9), ("v",)),
    ("adagrad_update", (0.1,), ("h",)),
    ("rmsprop_update", (0.1, 0.99), ("h",)),
    ("adam_update", (0.01, 0.9, 0.999), ("m", "v")),
]


# How param, grad and the states are laid out in memory: each takes a 1-D buffer `buf` of 3n
# values and fresh arrays `own` (one per state), and returns (param, grad, *states).
def _grad_is_param(buf, n, own):
    return (buf[:n], buf[:n], *own)


def _grad_one_ahead(buf, n, own):
    return (buf[:n], buf[1 : n + 1], *own)


def _grad_one_behind(buf, n, own):
    return (buf[1 : n + 1], buf[:n], *own)


def _grad_interleaved_halves(buf, n, own):
    return (buf[: 2 * n : 2], buf[1 : 2 * n : 2][::-1], *own)


def _grad_transposed_param(buf, n, own):
    square = buf[:16].reshape(4, 4)
    return (square, square.T, *[np.resize(s, (4, 4)) for s in own])


def _state_is_param(buf, n, own):
    return (buf[:n], buf[n : 2 * n]) + tuple(buf[:n] for _ in own)


def _state_overlaps_grad(buf, n, own):
    return (buf[:n], buf[n : 2 * n]) + tuple(
        buf[n + 1 + i : 2 * n + 1 + i] for i in range(len(own))
    )


LAYOUTS = [
    _grad_is_param,
    _grad_one_ahead,
    _grad_one_behind,
    _grad_interleaved_halves,
    _grad_transposed_param,
    _state_is_param,
    _state_overlaps_grad,
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda f: f.__name__.strip("_"))
@pytest.mark.parametrize("name, hyper, states", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_optimizer_with_shared_memory_matches_the_reference(
    rng, dtype, layout, name, hyper, states
):
    """Issue 11 item 5: grad aliasing or overlapping param, or a state overlapping them, gave
    another result than the book's statements (whole arrays, one after the other)."""
    if layout in (_state_is_param, _state_overlaps_grad) and not states:
        pytest.skip("SGD has no state")
    n = 12
    buf0 = (rng.random(3 * n) + 0.5).astype(dtype)
    own0 = [(rng.random(n) + 0.5).astype(dtype) for _ in states]
    results = []
    for kernels in (native, reference):
        buf, own = buf0.copy(), [s.copy() for s in own0]
        args = layout(buf, n, own)
        for _ in range(3):
            getattr(kernels, name)(*args, *hyper)
        results.append([buf] + [a for a in args[2:]])
    for got, want in zip(*results):
        assert_close(got, want)


@pytest.mark.parametrize("name, hyper, states", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_optimizer_without_shared_memory_still_runs_in_place(rng, name, hyper, states):
    """Views of one buffer that do not overlap (the halves of it) take the C path and match."""
    results = []
    base = rng.random(4 * 10) + 0.5
    for kernels in (native, reference):
        buf = base.copy()
        parts = [buf[i * 10 : (i + 1) * 10] for i in range(2 + len(states))]
        getattr(kernels, name)(*parts, *hyper)
        results.append(buf)
    assert_close(*results)


# ---- Misaligned arrays (issue 11 item 6)


def misaligned(a, writeable=True):
    """`a`'s values in an array one byte past an aligned address (not aligned for its dtype):
    a view into a uint8 buffer, or, read-only, into a bytes object."""
    a = np.asarray(a)
    if writeable:
        raw = np.zeros(a.nbytes + 1, np.uint8)
        m = raw[1:].view(a.dtype).reshape(a.shape)
        m[...] = a
    else:
        m = np.frombuffer(b"\0" + a.tobytes(), dtype=a.dtype, offset=1).reshape(a.shape)
    assert not m.flags.aligned or a.dtype.itemsize == 1
    return m


def _f(rng, *shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


def _cases(rng, dtype):
    """name -> (args, indices of the results to compare): one valid call of every kernel."""
    x4, W4, b4 = _f(rng, 2, 3, 5, 5, dtype=dtype), _f(rng, 4, 3, 3, 3, dtype=dtype), _f(rng, 4)
    xs, Ws = _f(rng, 2, 16, 5, 5, dtype=dtype), _f(rng, 3, 16, 3, 3, dtype=dtype)
    x2, W2 = _f(rng, 4, 6, dtype=dtype), _f(rng, 6, 3, dtype=dtype)
    p = _f(rng, 3, 4, dtype=dtype)
    h = (rng.random((3, 4)) + 0.5).astype(dtype)
    y2 = np.full((4, 6), 1 / 6, dtype)
    labels = np.array([0, 5, 2, 1], np.int64)
    pool_out, arg_max = reference.pool_forward(x4, 2, 2, 2, 0)
    return {
        "im2col": ((x4, 3, 3, 1, 1), None),
        "col2im": ((_f(rng, 50, 27, dtype=dtype), (2, 3, 5, 5), 3, 3, 1, 1), None),
        "conv_forward": ((x4, W4, b4.astype(dtype), 2, 1), (0,)),
        "conv_forward_shifted": ((xs, Ws, b4[:3].astype(dtype), 1, 1), (0,)),
        "conv_backward": ((_f(rng, 2, 4, 5, 5, dtype=dtype), x4, W4, None, 1, 1), None),
        "conv_backward_shifted": ((_f(rng, 2, 3, 5, 5, dtype=dtype), xs, Ws, None, 1, 1), None),
        "pool_forward": ((x4, 2, 2, 2, 0), None),
        "pool_backward": ((np.ones_like(pool_out), arg_max, x4.shape, 2, 2, 2, 0), None),
        "affine_forward": ((x2, W2, _f(rng, 3, dtype=dtype)), None),
        "affine_backward": ((_f(rng, 4, 3, dtype=dtype), x2, W2), None),
        "relu_forward": ((x4,), None),
        "relu_backward": ((x4, x4 <= 0), None),
        "sigmoid_forward": ((x4,), None),
        "sigmoid_backward": ((x4, np.abs(x4) / 10), None),
        "softmax": ((x2,), None),
        "softmax_loss_forward": ((x2, labels), None),
        "softmax_loss_backward": ((y2, labels, None), None),
        "softmax_loss_backward_onehot": ((y2, labels, np.eye(6, dtype=dtype)[labels]), None),
        "batchnorm_forward_train": (
            (x2, _f(rng, 6, dtype=dtype), _f(rng, 6, dtype=dtype), 1e-6),
            None,
        ),
        "batchnorm_forward_test": (
            (
                x2,
                _f(rng, 6, dtype=dtype),
                _f(rng, 6, dtype=dtype),
                _f(rng, 6, dtype=dtype),
                h[0, :6].repeat(2)[:6],
                1e-6,
            ),
            None,
        ),
        "batchnorm_backward": (
            (_f(rng, 4, 6, dtype=dtype), _f(rng, 6, dtype=dtype), x2, x2 / 2, h.ravel()[:6]),
            None,
        ),
        "dropout_forward_train": ((x4, rng.random(x4.shape), 0.5), None),
        "dropout_backward": ((x4, x4 <= 0), None),
        "sgd_update": ((p, _f(rng, 3, 4, dtype=dtype), 0.1), None),
        "momentum_update": (
            (p, _f(rng, 3, 4, dtype=dtype), _f(rng, 3, 4, dtype=dtype), 0.1, 0.9),
            None,
        ),
        "nesterov_update": (
            (p, _f(rng, 3, 4, dtype=dtype), _f(rng, 3, 4, dtype=dtype), 0.1, 0.9),
            None,
        ),
        "adagrad_update": ((p, _f(rng, 3, 4, dtype=dtype), h, 0.1), None),
        "rmsprop_update": ((p, _f(rng, 3, 4, dtype=dtype), h, 0.1, 0.99), None),
        "adam_update": (
            (p, _f(rng, 3, 4, dtype=dtype), _f(rng, 3, 4, dtype=dtype), h, 0.001, 0.9, 0.999),
            None,
        ),
    }


NAMES = sorted(_cases(np.random.default_rng(0), np.float64))


def _results(out, pick):
    out = out if isinstance(out, tuple) else (out,)
    return [np.asarray(out[i]) for i in (pick if pick is not None else range(len(out)))]


@pytest.mark.parametrize("writeable", [True, False], ids=["buffer", "bytes"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", NAMES)
def test_misaligned_arrays_give_what_the_reference_gives(rng, case, dtype, writeable):
    """Issue 11 item 6: every array argument one byte off its dtype's alignment (a view into a
    uint8 buffer, or into a bytes object, read-only), the arrays written in place included."""
    args, pick = _cases(rng, dtype)[case]
    name = case.removesuffix("_shifted").removesuffix("_onehot")
    in_place = name.endswith("_update") or name == "relu_backward"
    if in_place and not writeable:
        pytest.skip("an array updated in place must be writeable")
    odd = [misaligned(a, writeable) if isinstance(a, np.ndarray) else a for a in args]
    ref = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    with np.errstate(all="ignore"):
        got = getattr(native, name)(*odd)
        want = getattr(reference, name)(*ref)
    if name == "relu_backward" or not in_place:
        for g, w in zip(_results(got, pick), _results(want, pick)):
            assert_close(g, w) if g.dtype.kind == "f" else np.testing.assert_array_equal(g, w)
    for o, r in zip(odd, ref):  # the arrays updated in place, the others unchanged
        if isinstance(o, np.ndarray) and o.dtype.kind == "f":
            assert_close(o, r)
