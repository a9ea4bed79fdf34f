"""The native-against-reference sweep behind `python -m fastscratch check` and the equivalence
tests: random cases for every kernel of the contract, run on both backends, compared by
relative norm.

The bounds and the error measure are those of `fastscratch.testing`.
"""

import zlib

import numpy as np

from . import backend, kernels
from .testing import TOLERANCE, memory_layouts, relative_error


class Scaled:
    """An output compared relative to max(its norm, floor) rather than its norm alone."""

    def __init__(self, value, floor):
        self.value, self.floor = value, floor


def awkward(a, rng, writeable=False):
    """`a` in a randomly chosen memory layout with the same values (never read-only when the
    kernel must write it), misaligned for its dtype included."""
    layouts = memory_layouts(a)
    if writeable:
        layouts.pop("readonly")
    if a.ndim and a.dtype.itemsize > 1:
        # One byte off the dtype's alignment (a view into a byte buffer): the native bindings
        # must hand C aligned memory (issue 11 item 6).
        raw = np.zeros(a.nbytes + 1, np.uint8)
        layouts["misaligned"] = raw[1:].view(a.dtype).reshape(a.shape)
        layouts["misaligned"][...] = a
    names = sorted(layouts)
    return layouts[names[rng.integers(len(names))]]


def _both(run):
    """run() on the reference, then on the native backend."""
    results = []
    for name in ("reference", "native"):
        with backend.use_backend(name):
            results.append(run())
    return results


def _n(rng, big, small, large):
    """A size drawn from `small` = (lo, hi), or from `large` in a big case (one big enough for
    the native kernels' multi-threaded paths)."""
    lo, hi = large if big else small
    return int(rng.integers(lo, hi))


def _non_finite(a, rng):
    """`a` with one to three entries set to NaN, inf or -inf (none when `a` is empty)."""
    if a.size:
        count = int(rng.integers(1, 4))
        a.flat[rng.integers(0, a.size, size=count)] = rng.choice([np.nan, np.inf, -np.inf], count)
    return a


def _conv(rng, dtype, big=False):
    N, C, FN = (
        _n(rng, big, (0, 4), (8, 17)),
        _n(rng, big, (1, 4), (8, 33)),
        _n(rng, big, (1, 5), (8, 33)),
    )
    FH, FW = rng.integers(1, 5), rng.integers(1, 5)
    stride, pad = int(rng.integers(1, 4)), int(rng.integers(0, 3))
    path = rng.random()
    if path < 0.3:  # stride 1 and 16 or more channels: the native shifted-products path
        C, stride = int(rng.integers(16, 20)), 1
        if rng.random() < 0.5:  # 3x3 with 16 or more filters: native Winograd, F(2x2) or F(4x4)
            FH = FW = 3
            FN = max(FN, int(rng.integers(16, 20)))
    elif path < 0.5:  # 5x5, stride 1, fewer than 16 channels: the native correlation path
        FH = FW = 5
        C, stride = min(C, 15), 1
    H, W = FH + _n(rng, big, (0, 7), (12, 25)), FW + _n(rng, big, (0, 7), (12, 25))
    if FH == FW == 5 and stride == 1:  # outputs 8 or more wide, as the correlation needs
        W = max(W, 12 - 2 * pad)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    Wt = rng.standard_normal((FN, C, FH, FW)).astype(dtype)
    b = rng.standard_normal(FN).astype(dtype)
    # NaN and inf in the input or the weights must give NaN and inf where the reference has them
    # on every path (issue 11 item 4: the shifted path made extra NaNs in dW and dx).
    spoil = rng.random()
    if spoil < 0.15:
        _non_finite(x, rng)
    elif spoil < 0.3:
        _non_finite(Wt, rng)
    x, Wt, b = awkward(x, rng), awkward(Wt, rng), awkward(b, rng)

    def run():
        out, cache = kernels.conv_forward(x, Wt, b, stride, pad)
        dout = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
        return (out,) + tuple(kernels.conv_backward(dout, x, Wt, cache, stride, pad))

    return run


def _pool(rng, dtype, big=False):
    N, C = _n(rng, big, (0, 4), (8, 17)), _n(rng, big, (1, 4), (8, 33))
    ph, pw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    stride, pad = int(rng.integers(1, 4)), int(rng.integers(0, min(ph, pw)))
    H, W = ph + _n(rng, big, (0, 7), (16, 25)), pw + _n(rng, big, (0, 7), (16, 25))
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    if rng.random() < 0.3:  # ties: the first maximum must win on both backends
        x = np.round(x).astype(dtype)
    x = awkward(x, rng)

    def run():
        out, arg_max = kernels.pool_forward(x, ph, pw, stride, pad)
        dout = np.random.default_rng(2).standard_normal(out.shape).astype(dtype)
        dx = kernels.pool_backward(dout, arg_max, x.shape, ph, pw, stride, pad)
        return out, arg_max.astype(np.float64), dx

    return run


def _affine(rng, dtype, big=False):
    N, D, M = (
        _n(rng, big, (0, 9), (64, 129)),
        _n(rng, big, (1, 40), (256, 1025)),
        _n(rng, big, (1, 20), (32, 129)),
    )
    x = awkward(rng.standard_normal((N, D)).astype(dtype), rng)
    W = awkward(rng.standard_normal((D, M)).astype(dtype), rng)
    b = awkward(rng.standard_normal(M).astype(dtype), rng)
    dout = awkward(rng.standard_normal((N, M)).astype(dtype), rng)
    return lambda: (
        (kernels.affine_forward(x, W, b),)
        + _relu_fused(kernels.affine_relu_forward(x, W, b))
        + tuple(kernels.affine_backward(dout, x, W))
    )


def _relu_fused(out_and_mask):
    """A fused forward's ReLU output and its mask (as numbers, compared like the rest)."""
    out, mask = out_and_mask
    return out, mask.astype(np.float64)


def _affine_widened(rng, dtype, big=False):
    """float32 x against float64 W and b (the book's MNIST against its nets): NumPy promotes x;
    native widens it a block of rows at a time, several blocks in a big case."""
    N, D, M = (
        _n(rng, big, (0, 9), (300, 1200)),
        _n(rng, big, (1, 40), (256, 1025)),
        _n(rng, big, (1, 20), (32, 129)),
    )
    x = awkward(rng.standard_normal((N, D)).astype(np.float32), rng)
    W = awkward(rng.standard_normal((D, M)), rng)
    b = awkward(rng.standard_normal(M), rng)
    return lambda: (
        (kernels.affine_forward(x, W, b),) + _relu_fused(kernels.affine_relu_forward(x, W, b))
    )


def _shape(rng, big=False):
    if big:  # 276K to 553K elements: past every kernel's threshold for going parallel
        return (int(rng.integers(64, 129)), 30, 12, 12)
    return tuple(int(s) for s in rng.integers(1, 7, size=rng.integers(1, 5)))


def _relu(rng, dtype, big=False):
    x = rng.standard_normal(_shape(rng, big)).astype(dtype)
    dout = rng.standard_normal(x.shape).astype(dtype)
    x = awkward(x, rng)

    def run():
        out, mask = kernels.relu_forward(x)
        return out, mask.astype(np.float64), kernels.relu_backward(dout.copy(), mask)

    return run


def _sigmoid(rng, dtype, big=False):
    x = awkward((rng.standard_normal(_shape(rng, big)) * 20).astype(dtype), rng)
    dout = awkward(rng.standard_normal(x.shape).astype(dtype), rng)

    def run():
        out = kernels.sigmoid_forward(x)
        return out, kernels.sigmoid_backward(dout, out)

    return run


def _softmax_loss(rng, dtype, big=False):
    N, K = _n(rng, big, (1, 9), (128, 257)), _n(rng, big, (2, 12), (300, 601))
    x = awkward((rng.standard_normal((N, K)) * 5).astype(dtype), rng)
    if rng.random() < 0.5:
        t = rng.integers(0, K, size=N).astype(rng.choice([np.uint8, np.int32, np.int64]))
    else:
        t = np.eye(K, dtype=dtype)[rng.integers(0, K, size=N)]

    def run():
        xs, labels, one_hot = kernels.prepare_targets(x, t)
        loss, y = kernels.softmax_loss_forward(xs, labels)
        # The loss averages -log(y + 1e-7): y rounded near 1 moves it by ~1 ulp absolutely,
        # large relative to a loss near 0, so it is compared relative to 1.
        return (
            Scaled(np.asarray(loss), 1.0),
            y,
            kernels.softmax_loss_backward(y, labels, one_hot),
            kernels.softmax(x),
        )

    return run


def _batchnorm(rng, dtype, big=False):
    N, D = _n(rng, big, (1, 9), (64, 129)), _n(rng, big, (1, 12), (2000, 4001))
    x = awkward(rng.standard_normal((N, D)).astype(dtype), rng)
    gamma = awkward(rng.standard_normal(D).astype(dtype), rng)
    beta = awkward(rng.standard_normal(D).astype(dtype), rng)
    dout = awkward(rng.standard_normal((N, D)).astype(dtype), rng)
    mean, var = rng.standard_normal(D), rng.random(D) + 0.5

    def run():
        out, mu, v, xc, xn, std = kernels.batchnorm_forward_train(x, gamma, beta, 1e-6)
        grads = kernels.batchnorm_backward(dout, gamma, xc, xn, std)
        test = kernels.batchnorm_forward_test(x, gamma, beta, mean, var, 1e-6)
        return (out, mu, v, xc, xn, std) + tuple(grads) + (test,)

    return run


def _dropout(rng, dtype, big=False):
    x = awkward(rng.standard_normal(_shape(rng, big)).astype(dtype), rng)
    rand = rng.random(x.shape)
    dout = rng.standard_normal(x.shape).astype(dtype)

    def run():
        out, mask = kernels.dropout_forward_train(x, rand, 0.4)
        return out, mask.astype(np.float64), kernels.dropout_backward(dout, mask)

    return run


def _optimizer(update, n_states, hyper):
    def make(rng, dtype, big=False):
        shape = _shape(rng, big)
        param0 = rng.standard_normal(shape).astype(dtype)
        grads = [rng.standard_normal(shape).astype(dtype) for _ in range(3)]

        def run():
            param = awkward(param0.copy(), np.random.default_rng(3), writeable=True)
            states = [np.zeros_like(param) for _ in range(n_states)]
            for g in grads:
                update(param, g, *states, *hyper)
            return (param,) + tuple(states)

        return run

    return make


def _patches(rng, dtype, big=False):
    N, C = _n(rng, big, (0, 4), (4, 9)), _n(rng, big, (1, 4), (4, 9))
    fh, fw = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    stride, pad = int(rng.integers(1, 4)), int(rng.integers(0, 3))
    x = awkward(
        rng.standard_normal(
            (N, C, fh + _n(rng, big, (0, 6), (16, 25)), fw + _n(rng, big, (0, 6), (16, 25)))
        ).astype(dtype),
        rng,
    )

    def run():
        col = kernels.im2col(x, fh, fw, stride, pad)
        return col, kernels.col2im(col, x.shape, fh, fw, stride, pad)

    return run


CASES = {
    "im2col/col2im": _patches,
    "conv": _conv,
    "pool": _pool,
    "affine": _affine,
    "affine float32 x, float64 W": _affine_widened,
    "relu": _relu,
    "sigmoid": _sigmoid,
    "softmax_loss": _softmax_loss,
    "batchnorm": _batchnorm,
    "dropout": _dropout,
    "sgd": _optimizer(kernels.sgd_update, 0, (0.1,)),
    "momentum": _optimizer(kernels.momentum_update, 1, (0.1, 0.9)),
    "nesterov": _optimizer(kernels.nesterov_update, 1, (0.1, 0.9)),
    "adagrad": _optimizer(kernels.adagrad_update, 1, (0.1,)),
    "rmsprop": _optimizer(kernels.rmsprop_update, 1, (0.1, 0.99)),
    "adam": _optimizer(kernels.adam_update, 2, (0.01, 0.9, 0.999)),
}


def compare_case(name, rng, dtype, big=False):
    """Worst relative error over the outputs of one random case of kernel group `name`; a
    `big` case has sizes that take the native kernels' multi-threaded paths."""
    make = CASES[name]
    run = make(rng, np.dtype(dtype), big)
    reference, native = _both(run)
    errors = []
    for n, r in zip(native, reference):
        if isinstance(r, Scaled):
            errors.append(relative_error(n.value, r.value, r.floor))
        else:
            errors.append(relative_error(n, r))
    return max(errors, default=0.0)


def sweep(cases=50, seed=0, names=None, dtypes=(np.float32, np.float64)):
    """Yields (kernel, dtype name, cases, worst relative error, passed, error message). The last
    tenth of each kernel's cases (at least one) are big ones, for the multi-threaded paths."""
    n_big = max(1, cases // 10)
    for name in names or CASES:
        for dtype in dtypes:
            rng = np.random.default_rng([seed, zlib.crc32(name.encode()), np.dtype(dtype).itemsize])
            worst, failure = 0.0, ""
            for i in range(cases):
                try:
                    worst = max(worst, compare_case(name, rng, dtype, big=i >= cases - n_big))
                except Exception as exc:  # a kernel that raises fails the check, it is reported
                    failure = f"{type(exc).__name__}: {exc}"
                    worst = np.inf
                    break
            yield (
                name,
                np.dtype(dtype).name,
                cases,
                worst,
                worst <= TOLERANCE[np.dtype(dtype)],
                failure,
            )
