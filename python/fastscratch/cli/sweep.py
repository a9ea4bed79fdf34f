"""Random hyperparameter search (the book's ch06/hyperparameter_optimization.py), over MPI ranks.

Each trial draws a learning rate 10**uniform(-6, -2) and a weight decay 10**uniform(-8, -4),
trains the book's MultiLayerNet (6 hidden layers of 100, SGD, batch 100) on the first
--train-size training images minus a 20% validation split, and reports the validation accuracy.
A trial's draws and its training depend only on --seed and the trial's index, so under
`mpirun -n P python -m fastscratch sweep` (trials dealt round-robin to the ranks) the printed
lines are the same as on one process. Data: MNIST (--data DIR, $FASTSCRATCH_DATA or the cache),
else scikit-learn's digits.
"""

import os

import numpy as np

from . import UsageError, check_data_folder, check_plot_output, save_figure

# Set by the launchers of Open MPI, MPICH/Hydra and PMIx: a process started by mpirun.
_LAUNCHED_BY_MPIRUN = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK")


def add_arguments(parser):
    parser.add_argument("--trials", type=int, default=100, help="number of trials (100)")
    parser.add_argument("--epochs", type=int, default=50, help="epochs per trial (50)")
    parser.add_argument(
        "--seed", type=int, default=0, help="random seed (0): same seed, same lines"
    )
    parser.add_argument(
        "--train-size",
        type=int,
        default=500,
        help="training images used, 20%% of them for validation (500, as the book)",
    )
    parser.add_argument("--data", metavar="DIR", help="folder holding the MNIST IDX files")
    parser.add_argument(
        "--plot",
        metavar="PNG",
        help="draw the best trials' accuracy curves in a grid, as the book does "
        "(needs matplotlib: pip install 'fastscratch[plot]')",
    )


def _check(args):
    for name in ("trials", "epochs", "train_size"):
        value = getattr(args, name)
        if value < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    if args.train_size < 5:
        raise UsageError(f"--train-size must be >= 5 (1 validation image), got {args.train_size}")
    if args.seed < 0:
        raise UsageError(f"--seed must be >= 0, got {args.seed}")
    check_data_folder("--data", args.data)
    # Before the trials, not after: a mistyped path must not cost the whole sweep.
    check_plot_output("--plot", args.plot)


def _communicator():
    """COMM_WORLD, or None on a plain process without mpi4py (the sweep then runs alone)."""
    from .. import distributed

    try:
        return distributed.init()
    except ImportError as exc:
        if any(name in os.environ for name in _LAUNCHED_BY_MPIRUN):
            # Under mpirun without mpi4py every process would run every trial.
            raise UsageError(str(exc)) from None
        return None


def load_split(data_dir, train_size, seed):
    """(x_train, t_train, x_val, t_val, description): the first train_size training images,
    flattened, shuffled with `seed`, the first 20% of them for validation (as the book)."""
    from .demo import load_data

    np.random.seed(seed)  # the digits' train/test split draws from the global generator
    (x, t), _, what, _ = load_data(data_dir, np.float64)
    x = x.reshape(len(x), -1)[:train_size]
    t = t[:train_size]
    order = np.random.default_rng([seed, 2**32 - 1]).permutation(len(x))
    x, t = x[order], t[order]
    n_val = int(len(x) * 0.20)
    return x[n_val:], t[n_val:], x[:n_val], t[:n_val], what


def run_trial(index, seed, epochs, x_train, t_train, x_val, t_val):
    """(lr, weight_decay, val_acc, train_accs, val_accs) of trial `index` (the last two: per
    epoch): its draws and its training (weights and batches) come from generators seeded by
    (seed, index) alone."""
    from ..multi_layer_net import MultiLayerNet
    from ..trainer import Trainer

    draws = np.random.default_rng([seed, index, 0])
    weight_decay = 10 ** draws.uniform(-8, -4)
    lr = 10 ** draws.uniform(-6, -2)
    # The net's initial weights and the Trainer's batches come from NumPy's global generator.
    np.random.seed(np.random.SeedSequence([seed, index, 1]).generate_state(4))
    net = MultiLayerNet(
        input_size=x_train.shape[1],
        hidden_size_list=[100] * 6,
        output_size=10,
        weight_decay_lambda=weight_decay,
    )
    trainer = Trainer(
        net,
        x_train,
        t_train,
        x_val,
        t_val,
        epochs=epochs,
        mini_batch_size=100,
        optimizer="sgd",
        optimizer_param={"lr": lr},
        verbose=False,
    )
    trainer.train()
    return (
        lr,
        weight_decay,
        float(trainer.test_acc_list[-1]),
        [float(a) for a in trainer.train_acc_list],
        [float(a) for a in trainer.test_acc_list],
    )


def line(index, result):
    lr, weight_decay, val_acc = result[:3]
    return f"trial {index} lr={lr:.6e} weight_decay={weight_decay:.6e} val_acc={val_acc:.4f}"


def run(args):
    _check(args)
    comm = _communicator()
    try:
        return _sweep(args, comm)
    except BaseException as exc:
        if comm is not None:
            # Exiting alone while the others wait in the gather would hang the job in
            # MPI_Finalize: make this exit abort every rank.
            from .. import distributed

            distributed.abort_on_exit(2 if isinstance(exc, UsageError) else 1)
        raise


def _sweep(args, comm):
    rank, size = (0, 1) if comm is None else (comm.Get_rank(), comm.Get_size())
    x_train, t_train, x_val, t_val, what = load_split(args.data, args.train_size, args.seed)
    if rank == 0:
        print(f"data: {what}; {len(x_train)} to train, {len(x_val)} to validate")
        print(f"{args.trials} trials of {args.epochs} epochs on {size} process(es)", flush=True)
    mine = {
        i: run_trial(i, args.seed, args.epochs, x_train, t_train, x_val, t_val)
        for i in range(rank, args.trials, size)
    }
    if comm is not None and size > 1:
        # A few numbers per trial: mpi4py's pickled gather is the simple, right tool here.
        gathered = comm.gather(mine, root=0)
        if rank != 0:
            return 0
        mine = {i: r for part in gathered for i, r in part.items()}
    for i in range(args.trials):
        print(line(i, mine[i]))
    ranked = sorted(range(args.trials), key=lambda i: (-mine[i][2], i))
    print("best: " + line(ranked[0], mine[ranked[0]]))
    if args.plot:
        plot_best(args.plot, [(i, mine[i]) for i in ranked[:20]])
        print(f"saved the best trials' curves to {args.plot}")
    return 0


def plot_best(path, trials):
    """The book's figure: one panel per trial, best first, 5 to a row; validation accuracy per
    epoch solid, training accuracy dashed, on 0..1."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = 5
    rows = -(-len(trials) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.4 * cols, 2.0 * rows), squeeze=False)
    for rank, ax in enumerate(axes.flat):
        if rank >= len(trials):
            ax.set_visible(False)
            continue
        index, (lr, weight_decay, val_acc, train_accs, val_accs) = trials[rank]
        epochs = np.arange(1, len(val_accs) + 1)
        ax.plot(epochs, val_accs, label="validation")
        ax.plot(epochs, train_accs, "--", label="training")
        ax.set_title(f"Best-{rank + 1} (trial {index})", fontsize=8)
        ax.set_ylim(0.0, 1.0)
        ax.set_xticks([])
        if rank % cols:
            ax.set_yticks([])
    axes.flat[0].legend(fontsize=6)
    fig.tight_layout()
    save_figure(fig, path)
