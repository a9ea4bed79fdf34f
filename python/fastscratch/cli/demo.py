"""Train a convnet natively with a progress bar, then report accuracy and the speed-up.

Data: --data DIR, else $FASTSCRATCH_DATA, else the MNIST cache (~/.cache/fastscratch/mnist);
without MNIST there, scikit-learn's bundled 8x8 handwritten digits (the [demo] extra). Prints
the test accuracy, the time of one training step natively and on the pure-NumPy reference
(measured in this run), and the ratio.
"""

import os
import time

import numpy as np

from ..trainer import OPTIMIZERS, optimizer_class
from . import UsageError


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
        "--optimizer", choices=tuple(OPTIMIZERS), default="adam", help="optimizer (adam)"
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
        "--plot",
        metavar="PNG",
        help="save loss and accuracy curves (needs matplotlib: pip install 'fastscratch[plot]')",
    )
    parser.add_argument(
        "--reference-steps",
        type=int,
        default=3,
        help="training steps timed on the reference backend (3; 0 skips)",
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
    if args.reference_steps < 0:
        raise UsageError(f"--reference-steps must be >= 0, got {args.reference_steps}")
    if args.data and not os.path.isdir(args.data):
        raise UsageError(f"--data: no such folder: {args.data}")
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise UsageError("--plot needs matplotlib: pip install 'fastscratch[plot]'") from None


def load_data(data_dir, dtype):
    """((x_train, t_train), (x_test, t_test), description): MNIST where found, else digits."""
    from ..dataset import mnist

    folder = data_dir or os.environ.get("FASTSCRATCH_DATA") or str(mnist.default_data_dir())

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
    cls = optimizer_class(name)
    return cls() if lr is None else cls(lr=lr)


def time_steps(net, opt, x, t, batch_size, steps):
    """Median seconds of one training step (gradient + update) over `steps` steps."""
    times = []
    for i in range(steps):
        idx = np.arange(i * batch_size, (i + 1) * batch_size) % len(x)
        start = time.perf_counter()
        opt.update(net.params, net.gradient(x[idx], t[idx]))
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def run(args):
    _check(args)
    if args.distributed:
        from .demo_distributed import run_distributed

        return run_distributed(args)
    from tqdm import tqdm

    import fastscratch

    dtype = np.dtype(args.dtype)
    np.random.seed(args.seed)
    if args.threads:
        fastscratch.set_num_threads(args.threads)
    (x_train, t_train), (x_test, t_test), what, source = load_data(args.data, dtype)
    print(f"data: {what}")
    epochs = args.epochs or (40 if source == "digits" else 1)
    lr = args.lr
    if lr is None and source == "digits" and args.optimizer == "adam":
        lr = 0.002  # the small digits set wants a few more, larger steps to settle above 96%
    net = build_net(args.net, dtype)
    opt = build_optimizer(args.optimizer, lr)
    batch = min(args.batch_size, len(x_train))
    steps_per_epoch = max(len(x_train) // batch, 1)
    losses, test_accs = [], []
    print(
        f"training {type(net).__name__} ({args.dtype}, {args.optimizer}, batch {batch}, "
        f"{epochs} epoch(s)) on the native backend, {fastscratch.get_num_threads()} thread(s)"
    )
    fastscratch.set_backend("native")
    started = time.perf_counter()
    with tqdm(total=epochs * steps_per_epoch, unit="it", dynamic_ncols=True) as bar:
        for epoch in range(epochs):
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
    train_seconds = time.perf_counter() - started
    accuracy = test_accs[-1]
    print(f"test accuracy: {accuracy:.4f} ({len(x_test)} images), trained in {train_seconds:.1f} s")

    native_step = time_steps(net, build_optimizer(args.optimizer, lr), x_train, t_train, batch, 5)
    print(f"one training step (batch {batch}): native {native_step * 1e3:.1f} ms", end="")
    if args.reference_steps:
        with fastscratch.use_backend("reference"):
            ref_step = time_steps(
                net,
                build_optimizer(args.optimizer, lr),
                x_train,
                t_train,
                batch,
                args.reference_steps,
            )
        print(
            f", reference (NumPy) {ref_step * 1e3:.1f} ms: {ref_step / native_step:.1f}x "
            "faster natively"
        )
    else:
        print()
    if args.save:
        net.save_params(args.save)
        print(f"saved the parameters to {args.save}")
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
    fig.savefig(path)
    plt.close(fig)
