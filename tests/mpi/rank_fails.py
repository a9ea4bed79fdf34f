"""Rank 1 raises while rank 0 waits in a collective: the excepthook installed by init() must
abort the whole job (non-zero exit, rank 1's error shown) instead of leaving rank 0 hanging."""

import fastscratch.distributed as dist

comm = dist.init()
if dist.rank() == 1:
    raise ValueError("rank 1 fails on purpose")
comm.Barrier()  # never returns: rank 1 never gets here
print("rank 0 passed the barrier: the job did not abort")
