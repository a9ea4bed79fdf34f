#!/usr/bin/env python3
"""Per call, the book's layers, functions and nets against fastscratch's, on the small inputs
of the book's own gradient checks, in one process; prints a Markdown table.

    python scripts/book_per_call.py BOOK_CHECKOUT [--repeats 7] [--target 1.2] [--output FILE]

BOOK_CHECKOUT is a clone of the book's repository or a bare git directory of one (as for
scripts/book_scripts.py). Its `common/` and chapter modules are imported from it (or from a
temporary `git archive` of it); nothing of the book is copied into this repository.

The sizes are the book's: ch05/gradient_check.py (TwoLayerNet 784-50-10 on 3 images),
ch06/batch_norm_gradient_check.py (MultiLayerNetExtend 784-[100,100]-10 with batch norm on 1
image), ch07/gradient_check.py (SimpleConvNet on one 1x10x10 image), ch04's sigmoid
TwoLayerNet (its chapter module, importing the book's common.* on one side and fastscratch's on
the other, as `python -m fastscratch run` maps them). Both sides get the same arrays and the same
weights (np.random.seed before each net), and each case checks that both give the same numbers
before it is timed.

Timing: for each case, REPEATS rounds alternating which side goes first; a round times as many
calls as fill ~20 ms; the table shows each side's best round (the least disturbed by other
processes on a shared machine) and fastscratch's time over the book's (< 1: fastscratch is
faster). Exit status 1 when a ratio is above --target.
"""

import argparse
import contextlib
import importlib.util
import os
import platform
import sys
import tempfile
import timeit
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from book_scripts import cpu_model, export_book, is_bare_git  # noqa: E402

ROUND_SECONDS = 0.02


def load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def chapter_module(root, chapter, name, prefix="book"):
    return load_module(f"{prefix}_{chapter}_{name}", root / chapter / f"{name}.py")


@contextlib.contextmanager
def fastscratch_as_common():
    """The book's `common.*` names resolving to fastscratch while a chapter module is imported,
    as `python -m fastscratch run` does; the book's own common.* modules are put back after."""
    from fastscratch.book_imports import book_modules

    saved = {k: v for k, v in sys.modules.items() if k == "common" or k.startswith("common.")}
    for key in saved:
        del sys.modules[key]
    try:
        with book_modules():
            yield
    finally:
        for key in [k for k in sys.modules if k == "common" or k.startswith("common.")]:
            del sys.modules[key]
        sys.modules.update(saved)


def sides(root):
    """{'book': namespace, 'fastscratch': namespace} of the modules each side calls."""
    sys.path.insert(0, str(root))
    import common.functions
    import common.gradient
    import common.layers
    import common.multi_layer_net_extend

    book = argparse.Namespace(
        layers=common.layers,
        functions=common.functions,
        gradient=common.gradient,
        MultiLayerNetExtend=common.multi_layer_net_extend.MultiLayerNetExtend,
        TwoLayerNet=chapter_module(root, "ch05", "two_layer_net").TwoLayerNet,
        SimpleConvNet=chapter_module(root, "ch07", "simple_convnet").SimpleConvNet,
        SigmoidNet=chapter_module(root, "ch04", "two_layer_net").TwoLayerNet,
    )
    import fastscratch.functions
    import fastscratch.gradient
    import fastscratch.layers
    from fastscratch.multi_layer_net_extend import MultiLayerNetExtend
    from fastscratch.simple_convnet import SimpleConvNet
    from fastscratch.two_layer_net import TwoLayerNet

    with fastscratch_as_common():
        sigmoid_net = chapter_module(root, "ch04", "two_layer_net", prefix="fastscratch")
    ours = argparse.Namespace(
        layers=fastscratch.layers,
        functions=fastscratch.functions,
        gradient=fastscratch.gradient,
        MultiLayerNetExtend=MultiLayerNetExtend,
        TwoLayerNet=TwoLayerNet,
        SimpleConvNet=SimpleConvNet,
        SigmoidNet=sigmoid_net.TwoLayerNet,
    )
    return {"book": book, "fastscratch": ours}


def inputs():
    rng = np.random.default_rng(0)
    return argparse.Namespace(
        x3=rng.random((3, 784)),  # ch05's x_batch = x_train[:3]
        t3=np.eye(10)[[7, 2, 1]],  # one-hot, as load_mnist(one_hot_label=True) gives there
        labels3=np.array([7, 2, 1]),
        h=rng.random((3, 50)) - 0.5,
        dh=rng.random((3, 50)),
        W=rng.random((50, 10)) * 0.01,
        b=rng.random(10),
        s=rng.random((3, 10)),
        x1=rng.random((1, 784)),  # ch06's x_batch = x_train[:1]
        t1=np.eye(10)[[5]],
        bn_x=rng.standard_normal((1, 100)),
        bn_dout=rng.standard_normal((1, 100)),
        img=rng.random((1, 1, 10, 10)),  # ch07's X = np.random.rand(100).reshape((1, 1, 10, 10))
        conv_W=rng.standard_normal((10, 1, 3, 3)) * 0.01,
        conv_b=np.zeros(10),
        conv_dout=rng.standard_normal((1, 10, 8, 8)),
        pool_x=rng.standard_normal((1, 10, 8, 8)),
        pool_dout=rng.standard_normal((1, 10, 4, 4)),
        simple_W=rng.random((2, 3)),  # ch04's simpleNet
        simple_x=np.array([0.6, 0.9]),
        simple_t=np.array([0, 0, 1]),
    )


def cases(m, a):
    """name -> (callable, what to compare): one side's calls on the inputs `a`."""
    L, F = m.layers, m.functions
    out = {}

    def layer_pair(name, layer, forward_args, dout, fresh_dout=False):
        layer.forward(*forward_args)  # backward needs a forward first
        out[f"{name} forward"] = lambda: layer.forward(*forward_args)
        if fresh_dout:  # backward writes into dout (Relu), as it does in a net: a fresh one
            out[f"{name} backward"] = lambda: layer.backward(dout.copy())
        else:
            out[f"{name} backward"] = lambda: layer.backward(dout)

    layer_pair("Relu (3,50)", L.Relu(), (a.h,), a.dh, fresh_dout=True)
    layer_pair("Sigmoid (3,50)", L.Sigmoid(), (a.h,), a.dh)
    layer_pair("Affine (3,50)x(50,10)", L.Affine(a.W, a.b), (a.h,), a.s)
    layer_pair("SoftmaxWithLoss (3,10)", L.SoftmaxWithLoss(), (a.s, a.t3[:, :10]), 1)

    dropout = L.Dropout(0.5)
    out["Dropout (3,50) forward"] = lambda: (np.random.seed(0), dropout.forward(a.h))[1]
    dropout.forward(a.h)
    out["Dropout (3,50) backward"] = lambda: dropout.backward(a.dh)
    layer_pair(
        "BatchNormalization (1,100) train",
        L.BatchNormalization(np.ones(100), np.zeros(100)),
        (a.bn_x, True),
        a.bn_dout,
    )
    conv = L.Convolution(a.conv_W, a.conv_b)
    layer_pair("Convolution (1,1,10,10)x(10,1,3,3)", conv, (a.img,), a.conv_dout)
    layer_pair("Pooling 2x2 (1,10,8,8)", L.Pooling(2, 2, stride=2), (a.pool_x,), a.pool_dout)

    out["sigmoid (3,50)"] = lambda: F.sigmoid(a.h)
    out["softmax (3,10)"] = lambda: F.softmax(a.s)
    out["cross_entropy_error (3,10) labels"] = lambda: F.cross_entropy_error(a.s, a.labels3)

    def simple_loss(W):  # ch04's simpleNet.loss: predict, softmax, cross entropy
        return F.cross_entropy_error(F.softmax(np.dot(a.simple_x, W)), a.simple_t)

    W = a.simple_W.copy()
    gradient = m.gradient.numerical_gradient
    out["numerical_gradient ch04 simpleNet (2,3)"] = lambda: gradient(simple_loss, W)

    np.random.seed(0)
    sigmoid_net = m.SigmoidNet(input_size=784, hidden_size=50, output_size=10)
    out["ch04 TwoLayerNet.loss (3,784)"] = lambda: sigmoid_net.loss(a.x3, a.t3)
    np.random.seed(0)
    net = m.TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
    out["ch05 TwoLayerNet.loss (3,784)"] = lambda: net.loss(a.x3, a.t3)
    out["ch05 TwoLayerNet.gradient (3,784)"] = lambda: net.gradient(a.x3, a.t3)
    np.random.seed(0)
    bn_net = m.MultiLayerNetExtend(
        input_size=784, hidden_size_list=[100, 100], output_size=10, use_batchnorm=True
    )
    out["ch06 MultiLayerNetExtend+BN.loss (1,784)"] = lambda: bn_net.loss(a.x1, a.t1, True)
    out["ch06 MultiLayerNetExtend+BN.gradient (1,784)"] = lambda: bn_net.gradient(a.x1, a.t1)
    np.random.seed(0)
    conv_net = m.SimpleConvNet(
        input_dim=(1, 10, 10),
        conv_param={"filter_num": 10, "filter_size": 3, "pad": 0, "stride": 1},
        hidden_size=10,
        output_size=10,
        weight_init_std=0.01,
    )
    conv_t = np.array([1])
    out["ch07 SimpleConvNet.loss (1,1,10,10)"] = lambda: conv_net.loss(a.img, conv_t)
    out["ch07 SimpleConvNet.gradient (1,1,10,10)"] = lambda: conv_net.gradient(a.img, conv_t)
    return out


def flatten(value):
    """A call's result as a list of arrays (dicts of gradients by key, tuples in order)."""
    if isinstance(value, dict):
        return [np.asarray(value[k], dtype=float) for k in sorted(value)]
    if isinstance(value, (tuple, list)):
        return [np.asarray(v, dtype=float) for v in value]
    return [np.asarray(value, dtype=float)]


def same_numbers(book_value, fs_value):
    got, want = flatten(fs_value), flatten(book_value)
    return len(got) == len(want) and all(
        g.shape == w.shape and np.allclose(g, w, rtol=1e-9, atol=1e-12, equal_nan=True)
        for g, w in zip(got, want)
    )


def best_per_call(fn, number, rounds):
    return min(timeit.repeat(fn, number=number, repeat=rounds)) / number


def measure(book_fn, fs_fn, repeats):
    once = max(timeit.timeit(book_fn, number=3), timeit.timeit(fs_fn, number=3)) / 3
    number = max(1, int(ROUND_SECONDS / max(once, 1e-9)))
    times = {"book": [], "fastscratch": []}
    for r in range(repeats):
        order = (("book", book_fn), ("fastscratch", fs_fn))
        for side, fn in order if r % 2 == 0 else order[::-1]:
            times[side].append(best_per_call(fn, number, 1))
    return min(times["book"]), min(times["fastscratch"])


def fmt(seconds):
    us = seconds * 1e6
    return f"{us:.2f} µs" if us < 1000 else f"{us / 1000:.2f} ms"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("book", help="a checkout of the book's repository, or a bare git directory")
    parser.add_argument("--rev", default="HEAD", help="the revision of a bare git directory")
    parser.add_argument("--repeats", type=int, default=7, help="timed rounds per side (>= 1)")
    parser.add_argument("--target", type=float, default=1.2, help="largest ratio that passes")
    parser.add_argument("--only", help="only the cases whose name contains this text")
    parser.add_argument("--output", help="also write the table to this file")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    book = Path(args.book).expanduser().resolve()
    with tempfile.TemporaryDirectory(prefix="book_per_call-") as tmp:
        if is_bare_git(book):
            source = export_book(book, args.rev, Path(tmp))
            root = Path(tmp)
        elif (book / "common").is_dir():
            source, root = str(book), book
        else:
            parser.error(f"{args.book} is neither a checkout of the book nor a bare git directory")
        modules = sides(root)
        a = inputs()
        book_cases, fs_cases = cases(modules["book"], a), cases(modules["fastscratch"], a)
        return report(args, source, book_cases, fs_cases)


def report(args, source, book_cases, fs_cases):
    import fastscratch

    lines = [
        "| call | book | fastscratch | fastscratch ÷ book | same numbers |",
        "|---|---:|---:|---:|---|",
    ]
    over = []
    for name, book_fn in book_cases.items():
        if args.only and args.only not in name:
            continue
        fs_fn = fs_cases[name]
        np.random.seed(0)
        book_value = book_fn()
        np.random.seed(0)
        fs_value = fs_fn()
        same = "yes" if same_numbers(book_value, fs_value) else "**no**"
        book_t, fs_t = measure(book_fn, fs_fn, args.repeats)
        ratio = fs_t / book_t
        if ratio > args.target:
            over.append(name)
        mark = f"**{ratio:.2f}**" if ratio > args.target else f"{ratio:.2f}"
        lines.append(f"| {name} | {fmt(book_t)} | {fmt(fs_t)} | {mark} | {same} |")
        print(f"  {name}: {ratio:.2f}", file=sys.stderr, flush=True)
    header = [
        f"- book: {source}",
        f"- machine: {cpu_model()}; load average at the end {os.getloadavg()[0]:.2f}",
        f"- Python {platform.python_version()}, NumPy {np.__version__}, fastscratch "
        f"{fastscratch.__version__} (backend {fastscratch.get_backend()}), threads: the default",
        f"- best of {args.repeats} interleaved rounds of ~{ROUND_SECONDS * 1000:.0f} ms per side; "
        f"ratios above {args.target} in bold",
        "",
    ]
    text = "\n".join(header + lines) + "\n"
    print(text, end="")
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    if over:
        print(f"above {args.target}x of the book: {', '.join(over)}", file=sys.stderr)
    failed = [line for line in lines if line.endswith("**no** |")]
    return 1 if over or failed else 0


if __name__ == "__main__":
    sys.exit(main())
