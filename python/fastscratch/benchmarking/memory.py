"""Peak memory of one training step, measured in a fresh process per (contender, net, dtype) so
that C-level, BLAS and torch allocations count and no earlier case's arrays linger.

The child builds the net, the batch and the optimizer, reads its resident set size (RSS, from
/proc/self/statm), resets the kernel's peak-RSS mark (/proc/self/clear_refs) when it may, runs
one gradient + Adam step and reads the peak (VmHWM from /proc/self/status, or
`getrusage(RUSAGE_SELF).ru_maxrss` where the mark cannot be reset). The result is the peak minus
the RSS before the step: what a step needs on top of the net and its data (gradients, layer
caches, Adam's state, temporaries).

Run as `python -m fastscratch.benchmarking.memory CONTENDER NET DTYPE THREADS BATCH`; prints JSON.
"""

import json
import os
import subprocess
import sys

from .timing import Failed

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
MB = 1024.0 * 1024.0


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE


def _reset_peak():
    """Reset the kernel's peak-RSS mark (Linux >= 4.0); False when not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_bytes(was_reset):
    if was_reset:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _child(contender, net_name, dtype, threads, batch):
    import numpy as np
    from threadpoolctl import threadpool_limits

    import fastscratch

    fastscratch.set_num_threads(threads)
    threadpool_limits(threads)
    if contender == "torch":
        import torch

        torch.set_num_threads(threads)
    from .cases import training_step

    step = training_step(net_name, contender, np.dtype(dtype), batch)
    before = _rss_bytes()
    was_reset = _reset_peak()
    step()
    peak = _peak_bytes(was_reset)
    return {
        "before_mb": before / MB,
        "peak_mb": peak / MB,
        "step_mb": max(0, peak - before) / MB,
        "peak_reset": was_reset,
    }


def measure(contender, net_name, dtype, threads, batch, timeout=900):
    """{'before_mb', 'peak_mb', 'step_mb', 'peak_reset'} from a fresh process, or a `Failed`."""
    env = dict(os.environ, FASTSCRATCH_NUM_THREADS=str(threads))
    cmd = [
        sys.executable,
        "-m",
        "fastscratch.benchmarking.memory",
        contender,
        net_name,
        str(dtype),
        str(threads),
        str(batch),
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return Failed(f"the step took longer than {timeout} s")
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        errors = [line for line in done.stderr.strip().splitlines() if line.strip()]
        return Failed(errors[-1] if errors else f"exit status {done.returncode}")
    result = json.loads(lines[-1])
    if "error" in result:
        return Failed(result["error"])
    return result


def main(argv):
    contender, net_name, dtype, threads, batch = argv
    try:
        result = _child(contender, net_name, dtype, int(threads), int(batch))
    except Exception as exc:  # reported by the parent as n/a with the reason
        text = str(exc).strip().splitlines()
        result = {"error": f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
