"""Train a convnet natively with a progress bar, then report accuracy and the speed-up.

Data: --data DIR, else $FASTSCRATCH_DATA (either must hold MNIST), else the MNIST cache
(~/.cache/fastscratch/mnist); without MNIST there, scikit-learn's bundled 8x8 handwritten digits
(the [demo] extra). Prints the test accuracy, the median time of one training step natively and
on the pure-NumPy reference (measured in this run, taking turns), their ratio and the machine's
load average.
"""

import math
import os
import sys
import time

import numpy as np

from . import UsageError, check_data_folder, check_output, check_plot_output, save_figure

# trainer.OPTIMIZERS' names, written out: importing the trainer (and with it the optimizers and
# kernels) only to list them would cost every `python -m fastscratch` start-up, `run` included.
# tests/test_cli.py checks that the two agree.
OPTIMIZER_NAMES = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")


def add_arguments(parser):
    parser.add_argument(
        "--net",
        choices=("simple", "deep"),
        default="simple",
        help="SimpleConvNet (default) or DeepConvNet",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="passes over the training set (default: 40 on digits, 1 on MNIST)",
    )
    parser.add_argument("--batch-size", type=int, default=100, help="mini-batch size (100)")
    parser.add_argument(
        "--optimizer", choices=OPTIMIZER_NAMES, default="adam", help="optimizer (adam)"
    )
    parser.add_argument(
        "--lr",
        type=float,
        default=None,
        help="learning rate (default: the "
        "optimizer's, 0.001 for adam and 0.01 otherwise; 0.002 for adam on the "
        "digits)",
    )
    parser.add_argument(
        "--dtype",
        choices=("float32", "float64"),
        default="float32",
        help="parameter and data dtype (float32)",
    )
    parser.add_argument("--threads", type=int, default=None, help="native threads (all cores)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0): same seed, same run")
    parser.add_argument("--data", metavar="DIR", help="folder holding the MNIST IDX files")
    parser.add_argument(
        "--save",
        metavar="FILE",
        help="save the trained parameters (.npz, or the book's pickle for any other name)",
    )
    parser.add_argument(
        "--checkpoint",
        metavar="FILE",
        help="save the whole run state (.npz) after every epoch, atomically; --resume continues it",
    )
    parser.add_argument(
        "--resume",
        metavar="FILE",
        help="continue the run a --checkpoint file holds (same --net, --optimizer, --seed, ...): "
        "it ends with the parameters an unstopped run ends with",
    )
    parser.add_argument(
        "--export",
        metavar="ONNX",
        help="export the trained net to ONNX (needs pip install 'fastscratch[onnx]')",
    )
    parser.add_argument(
        "--plot",
        metavar="PNG",
        help="save loss and accuracy curves (needs matplotlib: pip install 'fastscratch[plot]')",
    )
    parser.add_argument(
        "--reference-steps",
        type=int,
        default=7,
        help="training steps timed on each backend, taking turns after a warm-up step; the "
        "medians are compared (7; 0 skips the reference and times 5 native steps)",
    )
    parser.add_argument(
        "--distributed",
        action="store_true",
        help="train data-parallel over the ranks of `mpirun -n P` (needs fastscratch[mpi])",
    )


def _check(args):
    for name in ("epochs", "batch_size", "threads"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    from ..threads import MAX_THREADS

    if args.threads is not None and args.threads > MAX_THREADS:
        raise UsageError(f"--threads must be at most {MAX_THREADS}, got {args.threads}")
    if args.lr is not None and not (math.isfinite(args.lr) and args.lr > 0):
        raise UsageError(f"--lr must be a positive finite number, got {args.lr}")
    if args.reference_steps < 0:
        raise UsageError(f"--reference-steps must be >= 0, got {args.reference_steps}")
    check_data_folder("--data", args.data)
    # Before training, not after: a mistyped path must not cost the trained parameters.
    check_output("--save", args.save)
    check_plot_output("--plot", args.plot)
    check_output("--checkpoint", args.checkpoint)
    if args.resume and not os.path.isfile(args.resume):
        raise UsageError(f"--resume: no such file: {args.resume}")


def _check_export(args):
    """Before training: --export's package and folder are there, so a long run is not lost."""
    if not args.export:
        return
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise UsageError(
            '--export needs the onnx package: pip install "fastscratch[onnx]"'
        ) from None
    check_output("--export", args.export)


def load_data(data_dir, dtype):
    """((x_train, t_train), (x_test, t_test), description): MNIST where found, else digits."""
    from ..dataset import mnist

    env = os.environ.get("FASTSCRATCH_DATA")
    chosen = "--data" if data_dir else "FASTSCRATCH_DATA" if env else None
    folder = data_dir or env or str(mnist.default_data_dir())

    def have(split):
        return all(
            mnist.find_file(folder, mnist.key_file[f"{split}_{part}"]) for part in ("img", "label")
        )

    if have("test"):
        x_test, t_test = mnist.load_mnist_split(
            "test", flatten=False, data_dir=folder, download=False
        )
        if have("train"):
            x_train, t_train = mnist.load_mnist_split(
                "train", flatten=False, data_dir=folder, download=False
            )
            what = f"MNIST from {folder} ({len(x_train)} training, {len(x_test)} test images)"
        else:  # only the test set: train on 8000 of its images, test on the other 2000
            x_train, t_train = x_test[:8000], t_test[:8000]
            x_test, t_test = x_test[8000:], t_test[8000:]
            what = (
                f"MNIST test set from {folder}, split 8000 to train / 2000 to test "
                "(no training files there)"
            )
        return (x_train.astype(dtype), t_train), (x_test.astype(dtype), t_test), what, "mnist"
    if chosen:  # the user asked for MNIST from there: training on something else would mislead
        missing = [
            mnist.key_file[f"test_{part}"]
            for part in ("img", "label")
            if not mnist.find_file(folder, mnist.key_file[f"test_{part}"])
        ]
        raise UsageError(
            f"{chosen} {folder} holds no MNIST: missing {' and '.join(missing)} (gzipped or "
            "not; the training files are optional)"
        )
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise UsageError(
            f"no MNIST files in {folder} and scikit-learn is not installed: "
            "pip install 'fastscratch[demo]', or point --data at a folder with "
            "the MNIST IDX files"
        ) from None
    digits = load_digits()
    images = digits.images / 16.0  # 8x8, values 0..1
    images = np.kron(images, np.ones((3, 3)))  # 24x24
    images = np.pad(images, ((0, 0), (2, 2), (2, 2)))[:, None]  # 1x28x28, like MNIST
    t = digits.target.astype(np.uint8)
    order = np.random.permutation(len(t))
    split = int(len(t) * 0.8)
    tr, te = order[:split], order[split:]
    what = (
        f"scikit-learn's 8x8 digits, scaled to 28x28 ({split} training, {len(te)} test "
        "images); for MNIST, put its IDX files in a folder and pass --data DIR "
        "(or set FASTSCRATCH_DATA)"
    )
    return ((images[tr].astype(dtype), t[tr]), (images[te].astype(dtype), t[te]), what, "digits")


def build_net(kind, dtype):
    if kind == "simple":
        from ..simple_convnet import SimpleConvNet

        return SimpleConvNet(dtype=dtype)
    from ..deep_convnet import DeepConvNet

    return DeepConvNet(dtype=dtype)


def build_optimizer(name, lr):
    from ..trainer import optimizer_class

    cls = optimizer_class(name)
    return cls() if lr is None else cls(lr=lr)


def _stderr_is_terminal():
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False


def time_steps(net, x, t, batch_size, steps, optimizer, reference):
    """(median seconds of one training step natively, the same on the reference or None).

    The two backends take turns step by step after one untimed warm-up step each, so that a
    burst of load from another process slows both alike instead of one of them: timed in two
    blocks, their ratio swung several-fold between runs on a shared machine."""
    backends = ["native"] + (["reference"] if reference else [])
    times = {name: [] for name in backends}
    optimizers = {name: build_optimizer(*optimizer) for name in backends}
    import fastscratch

    for i in range(steps + 1):
        idx = np.arange(i * batch_size, (i + 1) * batch_size) % len(x)
        for name in backends:
            with fastscratch.use_backend(name):
                start = time.perf_counter()
                optimizers[name].update(net.params, net.gradient(x[idx], t[idx]))
                if i:  # the first step warms caches and allocations up
                    times[name].append(time.perf_counter() - start)
    medians = {name: float(np.median(values)) for name, values in times.items()}
    return medians["native"], medians.get("reference")


def _load_note():
    """The machine's load beside the speed-up: on a busy machine the ratio means little."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # not on every system
        return ""
    cores = os.cpu_count() or 1  # the load is the whole machine's, this run included
    busy = "; more work than cores: the ratio is unreliable" if load > cores else ""
    return f" (load average {load:.2f} on {cores} cores{busy})"


def epochs_and_lr(args, source):
    """The epochs and learning rate to train with: the options, else defaults for the data
    (`source` as load_data says it). lr None means the optimizer's own default."""
    epochs = args.epochs or (40 if source == "digits" else 1)
    lr = args.lr
    if lr is None and source == "digits" and args.optimizer == "adam":
        lr = 0.002  # the small digits set wants a few more, larger steps to settle above 96%
    return epochs, lr


def run(args):
    _check(args)
    if args.distributed:
        unsupported = [
            f"--{name}" for name in ("checkpoint", "resume", "export") if getattr(args, name)
        ]
        if unsupported:
            raise UsageError(f"{', '.join(unsupported)} cannot be combined with --distributed yet")
        from .demo_distributed import run_distributed

        return run_distributed(args)
    _check_export(args)
    from tqdm import tqdm

    import fastscratch

    dtype = np.dtype(args.dtype)
    np.random.seed(args.seed)
    if args.threads:
        fastscratch.set_num_threads(args.threads)
    (x_train, t_train), (x_test, t_test), what, source = load_data(args.data, dtype)
    print(f"data: {what}")
    epochs, lr = epochs_and_lr(args, source)
    net = build_net(args.net, dtype)
    opt = build_optimizer(args.optimizer, lr)
    batch = min(args.batch_size, len(x_train))
    steps_per_epoch = max(len(x_train) // batch, 1)
    losses, test_accs = [], []
    first_epoch = 0
    if args.resume:
        from ..checkpoint import load_run

        try:
            counters, history = load_run(
                args.resume, net, opt, {"epoch": epochs}, ("losses", "test_accs")
            )
        except (ValueError, OSError) as exc:
            raise UsageError(f"--resume: {exc}") from None
        first_epoch, losses, test_accs = counters["epoch"], history["losses"], history["test_accs"]
        print(f"resuming from {args.resume}: {first_epoch} of {epochs} epoch(s) done")
    print(
        f"training {type(net).__name__} ({args.dtype}, {args.optimizer}, batch {batch}, "
        f"{epochs} epoch(s)) on the native backend, {fastscratch.get_num_threads()} thread(s)"
    )
    fastscratch.set_backend("native")
    started = time.perf_counter()
    # Only on a terminal: into a log or a pipe a progress bar writes a line per refresh.
    with tqdm(
        total=epochs * steps_per_epoch,
        initial=first_epoch * steps_per_epoch,
        unit="it",
        dynamic_ncols=True,
        disable=not _stderr_is_terminal(),
    ) as bar:
        for epoch in range(first_epoch, epochs):
            order = np.random.permutation(len(x_train))
            for step in range(steps_per_epoch):
                idx = order[step * batch : (step + 1) * batch]
                grads = net.gradient(x_train[idx], t_train[idx])
                opt.update(net.params, grads)
                loss = float(net.last_layer.loss)
                losses.append(loss)
                bar.set_postfix(epoch=epoch + 1, loss=f"{loss:.4f}")
                bar.update()
            test_accs.append(net.accuracy(x_test, t_test, batch_size=batch))
            bar.write(f"epoch {epoch + 1}: test accuracy {test_accs[-1]:.4f}")
            if args.checkpoint:
                from ..checkpoint import save_run

                save_run(
                    args.checkpoint,
                    net,
                    opt,
                    {"epoch": epoch + 1},
                    {"losses": losses, "test_accs": test_accs},
                )
    train_seconds = time.perf_counter() - started
    accuracy = test_accs[-1]
    print(f"test accuracy: {accuracy:.4f} ({len(x_test)} images), trained in {train_seconds:.1f} s")

    steps = args.reference_steps or 5
    native_step, ref_step = time_steps(
        net, x_train, t_train, batch, steps, (args.optimizer, lr), args.reference_steps > 0
    )
    print(
        f"one training step (batch {batch}, median of {steps}): native {native_step * 1e3:.1f} ms",
        end="",
    )
    if ref_step is not None:
        print(
            f", reference (NumPy) {ref_step * 1e3:.1f} ms: {ref_step / native_step:.1f}x "
            f"faster natively{_load_note()}"
        )
    else:
        print()
    if args.save:
        net.save_params(args.save)
        print(f"saved the parameters to {args.save}")
    if args.export:
        from .. import onnx as onnx_export

        onnx_export.export(net, args.export)
        print(f"exported the net to {args.export} (ONNX)")
    if args.plot:
        _plot(args.plot, losses, test_accs, steps_per_epoch)
        print(f"saved the curves to {args.plot}")
    return 0


def _plot(path, losses, test_accs, steps_per_epoch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..util import smooth_curve

    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(losses, alpha=0.3, label="loss")
    if len(losses) > 20:
        ax_loss.plot(
            np.arange(5, 5 + len(smooth_curve(losses))), smooth_curve(losses), label="smoothed"
        )
    ax_loss.set_xlabel("iteration")
    ax_loss.set_ylabel("training loss")
    ax_loss.legend()
    ax_acc.plot(np.arange(1, len(test_accs) + 1), test_accs, marker="o")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("test accuracy")
    ax_acc.set_ylim(0, 1)
    fig.tight_layout()
    save_figure(fig, path)
