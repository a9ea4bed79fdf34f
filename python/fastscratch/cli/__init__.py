"""The subcommands of `python -m fastscratch`, one module each, by name."""


class UsageError(Exception):
    """A user's mistake: reported as one line and exit status 2."""


# After UsageError: each subcommand module imports it from here.
from . import bench, check, demo, info, run, sweep  # noqa: E402

SUBCOMMANDS = {
    "demo": demo,
    "run": run,
    "check": check,
    "bench": bench,
    "info": info,
    "sweep": sweep,
}
