"""The subcommands of `python -m fastscratch`, one module each, by name."""


class UsageError(Exception):
    """A user's mistake: reported as one line and exit status 2."""


def _subcommands():
    from . import info, check
    found = {"info": info, "check": check}
    for name in ("demo", "run", "bench"):
        try:
            found[name] = __import__(f"fastscratch.cli.{name}", fromlist=[name])
        except ModuleNotFoundError as exc:
            if exc.name != f"fastscratch.cli.{name}":
                raise
    order = ("demo", "run", "check", "bench", "info")
    return {name: found[name] for name in order if name in found}


SUBCOMMANDS = _subcommands()
