"""The sweep fails on rank 1 only (a UsageError while loading data) while rank 0 goes on to the
gather: the job must end non-zero with rank 1's message instead of hanging in MPI_Finalize."""

import sys

import fastscratch.distributed as dist
from fastscratch.__main__ import main
from fastscratch.cli import UsageError, sweep

load_split = sweep.load_split


def failing_on_rank_1(*args):
    if dist.rank() == 1:
        raise UsageError("rank 1 cannot read its data")
    return load_split(*args)


sweep.load_split = failing_on_rank_1
sys.exit(main(["sweep", "--trials", "2", "--epochs", "1", *sys.argv[1:]]))
