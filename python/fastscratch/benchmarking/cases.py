"""What the benchmark measures: each case's shapes, FLOP count and how each contender runs it.

A contender is 'reference' or 'native' (a fastscratch backend, driven through the public API:
`fastscratch.kernels`, the layers and nets, `fastscratch.optimizer.Adam`) or 'torch' (PyTorch CPU,
same shapes and dtype). `Case.runner(contender, dtype)` builds the data and returns a
zero-argument callable that does the work once; should a contender fail (a PyTorch error), the
caller reports it instead of crashing.

FLOPs count 2 per multiply-add of the matrix products (conv, affine); a backward pass costs twice
its forward (the input and the weight gradients). Pooling counts its comparisons and softmax
with loss about 4 operations per score forward and 2 backward: those two are memory-bound, their
GFLOP/s say little. A net counts its conv and affine products only; a training step is 3x its
forward.
"""

import numpy as np

import fastscratch
from fastscratch import kernels

FASTSCRATCH = ("reference", "native")
BATCH = 100


def conv_out(size, k, pad, stride=1):
    return (size + 2 * pad - k) // stride + 1


def conv_flops(x_shape, w_shape, pad):
    N, C, H, W = x_shape
    FN, _, FH, FW = w_shape
    return 2.0 * N * FN * conv_out(H, FH, pad) * conv_out(W, FW, pad) * C * FH * FW


# MultiLayerNet as ch06 trains it against overfitting: six hidden ReLU layers of 100.
MULTI_LAYER_HIDDEN = [100] * 6

# The nets' product layers at batch 1, in order: ('conv', C, H, W, FN, k, pad) / ('affine', D, M).
NET_LAYERS = {
    "SimpleConvNet": [("conv", 1, 28, 28, 30, 5, 0), ("affine", 4320, 100), ("affine", 100, 10)],
    "DeepConvNet": [
        ("conv", 1, 28, 28, 16, 3, 1),
        ("conv", 16, 28, 28, 16, 3, 1),
        ("conv", 16, 14, 14, 32, 3, 1),
        ("conv", 32, 14, 14, 32, 3, 2),
        ("conv", 32, 8, 8, 64, 3, 1),
        ("conv", 64, 8, 8, 64, 3, 1),
        ("affine", 1024, 50),
        ("affine", 50, 10),
    ],
    "TwoLayerNet": [("affine", 784, 50), ("affine", 50, 10)],
    "MultiLayerNet": [
        ("affine", d, m) for d, m in zip([784] + MULTI_LAYER_HIDDEN, MULTI_LAYER_HIDDEN + [10])
    ],
}


def net_input_shape(net_name):
    """One image as the net takes it: (1, 28, 28) for the convnets, (784,) for the MLPs."""
    first = NET_LAYERS[net_name][0]
    return tuple(first[1:4]) if first[0] == "conv" else (first[1],)


def net_forward_flops(net_name, batch):
    total = 0.0
    for layer in NET_LAYERS[net_name]:
        if layer[0] == "conv":
            _, C, H, W, FN, k, pad = layer
            total += conv_flops((batch, C, H, W), (FN, C, k, k), pad)
        else:
            total += 2.0 * batch * layer[1] * layer[2]
    return total


def _rng():
    return np.random.default_rng(20161)


def _on(contender, fn):
    """`fn` with the kernels on `contender`'s backend for the time of each call."""

    def run():
        fastscratch.set_backend(contender)
        return fn()

    return run


def _torch():
    import torch

    return torch


def _torch_dtype(dtype):
    torch = _torch()
    return {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[dtype]


def _tensors(*arrays, grad=False):
    torch = _torch()
    return [torch.from_numpy(np.ascontiguousarray(a)).requires_grad_(grad) for a in arrays]


class Case:
    """One measured row. `kind` is 'kernel', 'step' or 'predict'; `images` is the batch of a
    predict case (shown as images/s); `quick` marks the cases of the --quick smoke run."""

    def __init__(self, name, kind, flops, build, quick=False, images=None, net=None):
        self.name, self.kind, self.flops = name, kind, flops
        self._build = build
        self.quick, self.images, self.net = quick, images, net

    def runner(self, contender, dtype):
        """A callable that runs the case once on `contender` in `dtype` (raises if it cannot)."""
        return self._build(contender, np.dtype(dtype))


# ---------------------------------------------------------------------------------------------
# kernels


def _conv_case(label, x_shape, w_shape, pad, backward, quick):
    def build(contender, dtype):
        rng = _rng()
        x = rng.standard_normal(x_shape).astype(dtype)
        W = (0.1 * rng.standard_normal(w_shape)).astype(dtype)
        b = rng.standard_normal(w_shape[0]).astype(dtype)
        out_shape = (
            x_shape[0],
            w_shape[0],
            conv_out(x_shape[2], w_shape[2], pad),
            conv_out(x_shape[3], w_shape[3], pad),
        )
        dout = rng.standard_normal(out_shape).astype(dtype)
        if contender == "torch":
            torch = _torch()
            F = torch.nn.functional
            if not backward:
                tx, tW, tb = _tensors(x, W, b)
                return lambda: F.conv2d(tx, tW, tb, padding=pad)
            tx, tW, tb = _tensors(x, W, b, grad=True)
            (tdout,) = _tensors(dout)
            return lambda: torch.autograd.grad(
                F.conv2d(tx, tW, tb, padding=pad), (tx, tW, tb), tdout
            )
        if not backward:
            return _on(contender, lambda: kernels.conv_forward(x, W, b, 1, pad))

        def fwd_bwd():
            _, cache = kernels.conv_forward(x, W, b, 1, pad)
            return kernels.conv_backward(dout, x, W, cache, 1, pad)

        return _on(contender, fwd_bwd)

    flops = conv_flops(x_shape, w_shape, pad) * (3 if backward else 1)
    shapes = f"{_shape(x_shape)}·{_shape(w_shape)}" + (f" pad {pad}" if pad else "")
    return Case(
        f"conv {label} {shapes} {'fwd+bwd' if backward else 'fwd'}", "kernel", flops, build, quick
    )


def _pool_case(x_shape, backward, quick):
    N, C, H, W = x_shape
    out_shape = (N, C, H // 2, W // 2)

    def build(contender, dtype):
        rng = _rng()
        x = rng.standard_normal(x_shape).astype(dtype)
        dout = rng.standard_normal(out_shape).astype(dtype)
        if contender == "torch":
            torch = _torch()
            F = torch.nn.functional
            if not backward:
                (tx,) = _tensors(x)
                return lambda: F.max_pool2d(tx, 2, 2)
            (tx,) = _tensors(x, grad=True)
            (tdout,) = _tensors(dout)
            return lambda: torch.autograd.grad(F.max_pool2d(tx, 2, 2), tx, tdout)
        if not backward:
            return _on(contender, lambda: kernels.pool_forward(x, 2, 2, 2, 0))

        def fwd_bwd():
            _, arg_max = kernels.pool_forward(x, 2, 2, 2, 0)
            return kernels.pool_backward(dout, arg_max, x.shape, 2, 2, 2, 0)

        return _on(contender, fwd_bwd)

    outputs = float(np.prod(out_shape))
    flops = outputs * 3 + (outputs if backward else 0)
    return Case(
        f"max pool 2×2 {_shape(x_shape)} {'fwd+bwd' if backward else 'fwd'}",
        "kernel",
        flops,
        build,
        quick,
    )


def _affine_case(N, D, M, backward, quick):
    def build(contender, dtype):
        rng = _rng()
        x = rng.standard_normal((N, D)).astype(dtype)
        W = (0.01 * rng.standard_normal((D, M))).astype(dtype)
        b = rng.standard_normal(M).astype(dtype)
        dout = rng.standard_normal((N, M)).astype(dtype)
        if contender == "torch":
            torch = _torch()
            if not backward:
                tx, tW, tb = _tensors(x, W, b)
                return lambda: torch.addmm(tb, tx, tW)
            tx, tW, tb = _tensors(x, W, b, grad=True)
            (tdout,) = _tensors(dout)
            return lambda: torch.autograd.grad(torch.addmm(tb, tx, tW), (tx, tW, tb), tdout)
        if not backward:
            return _on(contender, lambda: kernels.affine_forward(x, W, b))

        def fwd_bwd():
            kernels.affine_forward(x, W, b)
            return kernels.affine_backward(dout, x, W)

        return _on(contender, fwd_bwd)

    flops = 2.0 * N * D * M * (3 if backward else 1)
    return Case(
        f"affine ({N},{D})·({D},{M}) {'fwd+bwd' if backward else 'fwd'}",
        "kernel",
        flops,
        build,
        quick,
    )


def _softmax_loss_case(N, K, backward, quick):
    def build(contender, dtype):
        rng = _rng()
        x = rng.standard_normal((N, K)).astype(dtype)
        t = rng.integers(0, K, N)
        if contender == "torch":
            torch = _torch()
            F = torch.nn.functional
            (tt,) = _tensors(t)
            if not backward:
                (tx,) = _tensors(x)
                return lambda: F.cross_entropy(tx, tt)
            (tx,) = _tensors(x, grad=True)
            return lambda: torch.autograd.grad(F.cross_entropy(tx, tt), tx)

        def run():
            xs, labels, one_hot = kernels.prepare_targets(x, t)
            loss, y = kernels.prepared_softmax_loss_forward(xs, labels)  # as the layer
            if backward:
                return kernels.prepared_softmax_loss_backward(y, labels, one_hot)
            return loss

        return _on(contender, run)

    flops = 4.0 * N * K + (2.0 * N * K if backward else 0)
    return Case(
        f"softmax-with-loss ({N},{K}) {'fwd+bwd' if backward else 'fwd'}",
        "kernel",
        flops,
        build,
        quick,
    )


def _shape(shape):
    return "(" + ",".join(str(s) for s in shape) + ")"


# ---------------------------------------------------------------------------------------------
# whole nets


def _data(net_name, batch, dtype):
    rng = _rng()
    x = rng.random((batch, *net_input_shape(net_name))).astype(dtype)  # like normalised MNIST
    t = rng.integers(0, 10, batch)
    return x, t


# The nets with the sizes the chapters train them at and the book's default init (MultiLayerNet:
# ReLU with He init).
FASTSCRATCH_NETS = {
    "SimpleConvNet": lambda dtype: fastscratch.SimpleConvNet(dtype=dtype),
    "DeepConvNet": lambda dtype: fastscratch.DeepConvNet(dtype=dtype),
    "TwoLayerNet": lambda dtype: fastscratch.TwoLayerNet(
        input_size=784, hidden_size=50, output_size=10, dtype=dtype
    ),
    "MultiLayerNet": lambda dtype: fastscratch.MultiLayerNet(
        input_size=784, hidden_size_list=MULTI_LAYER_HIDDEN, output_size=10, dtype=dtype
    ),
}


def fastscratch_net(net_name, dtype):
    """The book's net from fastscratch, in `dtype`, with the book's seeding (global RNG)."""
    np.random.seed(0)
    return FASTSCRATCH_NETS[net_name](dtype)


def training_step(net_name, contender, dtype, batch=BATCH):
    """A callable running one gradient + Adam update of `net_name` on `contender`."""
    x, t = _data(net_name, batch, dtype)
    if contender == "torch":
        from . import torch_models

        model, optimizer = torch_models.build(net_name, _torch_dtype(dtype))
        tx, tt = _tensors(x, t)
        return lambda: torch_models.train_step(model, optimizer, tx, tt)
    from fastscratch.optimizer import Adam

    net = fastscratch_net(net_name, dtype)
    optimizer = Adam(lr=0.001)

    def step():
        grads = net.gradient(x, t)
        optimizer.update(net.params, grads)

    return _on(contender, step)


def _step_case(net_name, batch, quick):
    return Case(
        f"train step {net_name} batch {batch}",
        "step",
        3 * net_forward_flops(net_name, batch),
        lambda contender, dtype: training_step(net_name, contender, dtype, batch),
        quick,
        net=net_name,
    )


def _predict_case(net_name, batch, quick):
    def build(contender, dtype):
        x, _ = _data(net_name, batch, dtype)
        if contender == "torch":
            from . import torch_models

            model, _ = torch_models.build(net_name, _torch_dtype(dtype))
            (tx,) = _tensors(x)
            return lambda: torch_models.predict(model, tx)
        net = fastscratch_net(net_name, dtype)
        return _on(contender, lambda: net.predict(x))

    what = "latency" if batch == 1 else "throughput"
    return Case(
        f"predict {net_name} batch {batch} ({what})",
        "predict",
        net_forward_flops(net_name, batch),
        build,
        quick,
        images=batch,
        net=net_name,
    )


def all_cases():
    """Every case of the full run, in the order of the table."""
    kernel_cases = [
        lambda bwd: _conv_case("SimpleConvNet", (BATCH, 1, 28, 28), (30, 1, 5, 5), 0, bwd, True),
        lambda bwd: _conv_case("DeepConvNet", (BATCH, 16, 28, 28), (16, 16, 3, 3), 1, bwd, False),
        lambda bwd: _conv_case("DeepConvNet", (BATCH, 32, 14, 14), (64, 32, 3, 3), 1, bwd, False),
        lambda bwd: _pool_case((BATCH, 30, 24, 24), bwd, True),
        lambda bwd: _affine_case(BATCH, 4320, 100, bwd, True),
        lambda bwd: _softmax_loss_case(BATCH, 10, bwd, True),
    ]
    cases = [make(backward) for make in kernel_cases for backward in (False, True)]
    # The MLPs' steps take milliseconds, so the smoke run keeps them.
    step_quick = (
        ("SimpleConvNet", True),
        ("DeepConvNet", False),
        ("TwoLayerNet", True),
        ("MultiLayerNet", True),
    )
    for net_name, quick in step_quick:
        cases.append(_step_case(net_name, BATCH, quick))
    predict_quick = (
        ("SimpleConvNet", True),
        ("DeepConvNet", False),
        ("TwoLayerNet", False),
        ("MultiLayerNet", False),
    )
    for net_name, quick in predict_quick:
        cases.append(_predict_case(net_name, 1, quick))
        cases.append(_predict_case(net_name, 1000, False))
    return cases


# ---------------------------------------------------------------------------------------------
# the machine's GEMM rate, through the same BLAS as the native kernels


def gemm_rate(dtype, size, repeats, timer):
    """(GFLOP/s, how it was measured) of a size x size matrix product in `dtype`:
    `kernels.affine_forward` on the native backend (OpenBLAS sgemm/dgemm)."""
    rng = _rng()
    a = rng.standard_normal((size, size)).astype(dtype)
    w = rng.standard_normal((size, size)).astype(dtype)
    b = np.zeros(size, dtype)
    blas = "sgemm" if np.dtype(dtype) == np.float32 else "dgemm"
    how = f"native affine_forward {size}² (OpenBLAS {blas})"
    fn = _on("native", lambda: kernels.affine_forward(a, w, b))
    seconds = timer({"gemm": fn}, repeats)["gemm"]
    if not isinstance(seconds, float):
        return None, f"{how}: {seconds.reason}"
    return 2.0 * size**3 / seconds / 1e9, how
