"""The subcommands of `python -m fastscratch`, one module each, by name."""


class UsageError(Exception):
    """A user's mistake: reported as one line and exit status 2."""


def check_output(option, path):
    """`path` if a file can be written there (its folder exists and is writable, it is not a
    folder), else a UsageError naming `option`. Checked before a command does its work, so that
    a mistyped path does not cost a whole training run."""
    import os

    if path is None:
        return None
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise UsageError(f"{option} must be a file, got the folder {path!r}")
    if not os.path.isdir(folder):
        raise UsageError(f"{option}'s folder does not exist: {folder}")
    # Written through a temporary file in that folder (atomic_file), so the folder must be
    # writable, not only the file.
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{option}'s folder is not writable: {folder}")
    return path


# The subcommands, each a module of this package (add_arguments, run, a docstring), in the order
# `--help` lists them. Imported only when used: `python -m fastscratch run SCRIPT` should not
# pay for importing the benchmark, the exporter and the demo before the script starts.
SUBCOMMANDS = ("demo", "run", "check", "bench", "info", "export", "sweep")


def subcommand(name):
    """The module of subcommand `name`."""
    import importlib

    return importlib.import_module(f".{name}", __name__)
