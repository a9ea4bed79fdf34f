"""Times the native elementwise, softmax, batchnorm, dropout and optimizer kernels against the
NumPy reference backend, both called directly, and prints a table of medians (7 repeats) and
ratios from one run. Results: docs/performance-elementwise.md.

    python benchmarks/bench_elementwise.py
"""

import argparse
import functools
import platform
import timeit

import numpy as np

import fastscratch._native as native
import fastscratch.reference as reference

REPEATS = 7
DTYPES = (np.float32, np.float64)
# (shape, calls per timed repeat): SimpleConvNet's W2 and W1 for the optimizers; a batch of 100
# through its affine layers' widths for the rest.
OPTIMIZER_SHAPES = (((4320, 100), 200), ((30, 1, 5, 5), 20000))
LAYER_SHAPES = (((100, 4320), 100), ((100, 100), 5000), ((100, 10), 20000))


def median_us(fn, number):
    """Median over REPEATS repeats of `number` calls of fn, in µs per call."""
    times = timeit.repeat(fn, number=number, repeat=REPEATS)
    return sorted(times)[REPEATS // 2] / number * 1e6


def optimizer_cases(shape, dtype, rng):
    """(name, step(backend)) for each optimizer step on a param of `shape`; the tiny learning
    rate keeps the param where it is over thousands of calls."""
    param = rng.standard_normal(shape).astype(dtype)
    grad = rng.standard_normal(shape).astype(dtype)
    s0, s1 = (np.abs(rng.standard_normal(shape)).astype(dtype) for _ in range(2))
    lr = 1e-9
    return [
        ("sgd", lambda b: b.sgd_update(param, grad, lr)),
        ("momentum", lambda b: b.momentum_update(param, grad, s0, lr, 0.9)),
        ("nesterov", lambda b: b.nesterov_update(param, grad, s0, lr, 0.9)),
        ("adagrad", lambda b: b.adagrad_update(param, grad, s0, lr)),
        ("rmsprop", lambda b: b.rmsprop_update(param, grad, s0, lr, 0.99)),
        ("adam", lambda b: b.adam_update(param, grad, s0, s1, lr, 0.9, 0.999)),
    ]


def layer_cases(shape, dtype, rng):
    """(name, call(backend)) for each activation, softmax, dropout and batchnorm kernel on a
    batch x of `shape`, and softmax with loss when x holds at most 100 scores per sample."""
    x = rng.standard_normal(shape).astype(dtype)
    dout = rng.standard_normal(shape).astype(dtype)
    mask = x <= 0
    out = reference.sigmoid_forward(x)
    rand = rng.random(shape)
    gamma = rng.standard_normal(shape[1]).astype(dtype)
    beta = rng.standard_normal(shape[1]).astype(dtype)
    _, mu, var, xc, xn, std = reference.batchnorm_forward_train(x, gamma, beta, 1e-6)
    cases = [
        ("relu_forward", lambda b: b.relu_forward(x)),
        ("relu_backward", lambda b: b.relu_backward(dout, mask)),
        ("sigmoid_forward", lambda b: b.sigmoid_forward(x)),
        ("sigmoid_backward", lambda b: b.sigmoid_backward(dout, out)),
        ("softmax", lambda b: b.softmax(x)),
        ("dropout_forward", lambda b: b.dropout_forward_train(x, rand, 0.5)),
        ("dropout_backward", lambda b: b.dropout_backward(dout, mask)),
        ("bn_forward_train", lambda b: b.batchnorm_forward_train(x, gamma, beta, 1e-6)),
        ("bn_forward_test", lambda b: b.batchnorm_forward_test(x, gamma, beta, mu, var, 1e-6)),
        ("bn_backward", lambda b: b.batchnorm_backward(dout, gamma, xc, xn, std)),
    ]
    if shape[1] <= 100:
        labels = rng.integers(0, shape[1], shape[0])
        y = reference.softmax(x)
        cases += [
            ("softmax_loss_fwd", lambda b: b.softmax_loss_forward(x, labels)),
            ("softmax_loss_bwd", lambda b: b.softmax_loss_backward(y, labels, None)),
        ]
    return cases


def main():
    # No options; --help says what it does instead of running the whole benchmark.
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    rng = np.random.default_rng(0)
    rows = []  # (name, reference µs, native µs)
    for make_cases, shapes in ((optimizer_cases, OPTIMIZER_SHAPES), (layer_cases, LAYER_SHAPES)):
        for shape, number in shapes:
            for dtype in DTYPES:
                for name, call in make_cases(shape, dtype, rng):
                    native_us = median_us(functools.partial(call, native), number)
                    reference_us = median_us(functools.partial(call, reference), number)
                    rows.append((f"{name} {shape} {np.dtype(dtype).name}", reference_us, native_us))

    print(f"machine: {platform.processor() or platform.machine()}, numpy {np.__version__}")
    print("| kernel | NumPy (µs) | native (µs) | speed-up |")
    print("|---|---:|---:|---:|")
    for name, reference_us, native_us in rows:
        print(
            f"| {name} | {reference_us:.1f} | {native_us:.1f} | {reference_us / native_us:.2f}x |"
        )


if __name__ == "__main__":
    main()
