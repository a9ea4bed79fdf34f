"""Rank 1 exits with sys.exit(3) after abort_on_exit(3) while rank 0 waits in a collective: the
whole job must end non-zero (without abort_on_exit it hangs in MPI_Finalize)."""

import sys

import fastscratch.distributed as dist

comm = dist.init()
if dist.rank() == 1:
    print("rank 1 exits", file=sys.stderr, flush=True)
    dist.abort_on_exit(3)
    sys.exit(3)
comm.Barrier()  # never returns: rank 1 never gets here
print("rank 0 passed the barrier: the job did not abort")
