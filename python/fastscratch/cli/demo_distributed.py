"""`mpirun -n P python -m fastscratch demo --distributed`: the demo's training, data-parallel.

Kept apart from demo.py (which only hands over to run_distributed) so that the single-process
demo stays as it is. Every rank loads the same data and draws the same batch order (one seed);
each computes the gradient of its shard of every batch, the gradients are averaged
(fastscratch.distributed) and every rank applies the same update. Rank 0 prints, evaluates and
saves; the reference-backend timing of the plain demo is skipped.
"""

import time

import numpy as np

from . import UsageError


def run_distributed(args):
    from .. import distributed

    try:
        comm = distributed.init()
    except ImportError as exc:
        raise UsageError(str(exc)) from None
    try:
        return _train(args, comm, distributed)
    except BaseException as exc:
        # Exiting alone while the others wait in a collective would hang the job in
        # MPI_Finalize: make this exit abort every rank (docs/mpi.md).
        distributed.abort_on_exit(2 if isinstance(exc, UsageError) else 1)
        raise


def _train(args, comm, distributed):
    import fastscratch

    from .demo import build_net, build_optimizer, epochs_and_lr, load_data

    rank, size = comm.Get_rank(), comm.Get_size()
    root = rank == 0
    dtype = np.dtype(args.dtype)
    np.random.seed(args.seed)  # the same on every rank: same data split, weights, batch order
    if args.threads:
        fastscratch.set_num_threads(args.threads)
    (x_train, t_train), (x_test, t_test), what, source = load_data(args.data, dtype)
    epochs, lr = epochs_and_lr(args, source)
    net = build_net(args.net, dtype)
    distributed.broadcast_params(net.params)
    opt = build_optimizer(args.optimizer, lr)
    batch = min(args.batch_size, len(x_train))
    if batch < size:
        raise UsageError(f"--batch-size must be at least the number of ranks ({size}), got {batch}")
    steps_per_epoch = max(len(x_train) // batch, 1)
    if root:
        print(f"data: {what}")
        print(
            f"training {type(net).__name__} ({args.dtype}, {args.optimizer}, global batch {batch}, "
            f"{epochs} epoch(s)) data-parallel on {size} MPI rank(s), "
            f"{fastscratch.get_num_threads()} thread(s) each",
            flush=True,
        )
    losses, test_accs = [], []
    averaging = 0.0  # seconds in allreduce_gradients: the communication
    started = time.perf_counter()
    for epoch in range(epochs):
        order = np.random.permutation(len(x_train))
        for step in range(steps_per_epoch):
            idx = order[step * batch : (step + 1) * batch]
            local = idx[distributed.shard(len(idx))]
            with distributed.local_random_stream():  # DeepConvNet's Dropout masks
                grads = net.gradient(x_train[local], t_train[local])
                averaging -= time.perf_counter()
                distributed.allreduce_gradients(grads, weight=len(local))
                averaging += time.perf_counter()
                opt.update(net.params, grads)
            shard_loss = {"loss": np.array([float(net.last_layer.loss)])}
            losses.append(float(distributed.allreduce_gradients(shard_loss, len(local))["loss"][0]))
        distributed.check_in_sync(net.params, f"parameters after epoch {epoch + 1}")
        if root:
            test_accs.append(net.accuracy(x_test, t_test, batch_size=batch))
            print(
                f"epoch {epoch + 1}: loss {losses[-1]:.4f}, test accuracy {test_accs[-1]:.4f}",
                flush=True,
            )
    seconds = time.perf_counter() - started
    if not root:
        return 0
    step_ms = seconds / (epochs * steps_per_epoch) * 1e3
    print(
        f"test accuracy: {test_accs[-1]:.4f} ({len(x_test)} images), trained in {seconds:.1f} s "
        f"({step_ms:.1f} ms per step, evaluation included) on {size} rank(s); averaging the "
        f"gradients took {100 * averaging / seconds:.0f}% of it (rank 0)"
    )
    if args.save:
        net.save_params(args.save)
        print(f"saved the parameters to {args.save}")
    if args.plot:
        from .demo import _plot

        _plot(args.plot, losses, test_accs, steps_per_epoch)
        print(f"saved the curves to {args.plot}")
    return 0
