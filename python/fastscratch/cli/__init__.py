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


def check_data_folder(option, path):
    """`path` if it is None or a folder (of MNIST files), else a UsageError naming `option`."""
    import os

    if path and not os.path.isdir(path):
        raise UsageError(f"{option}: no such folder: {path}")
    return path


def check_plot_output(option, path):
    """check_output for a figure: also that matplotlib is there and writes the format that
    `path`'s suffix names. Before the work, like check_output."""
    if check_output(option, path) is None:
        return None
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError:
        raise UsageError(f"{option} needs matplotlib: pip install 'fastscratch[plot]'") from None
    kind = _figure_format(path)
    formats = FigureCanvasBase.get_supported_filetypes()
    if kind is not None and kind not in formats:
        raise UsageError(
            f"{option} must name a file of a format matplotlib writes "
            f"({', '.join(sorted(formats))}), got {path!r}"
        )
    return path


def _figure_format(path):
    """The format of a figure file from its suffix, as matplotlib infers it (None: its default,
    png). Named explicitly when saving, since the figure is written to a temporary file."""
    import os

    suffix = os.path.splitext(path)[1][1:].lower()
    return suffix or None


def save_figure(fig, path):
    """Write the matplotlib figure `fig` to `path` through a temporary file (a failed save leaves
    an older figure whole), in the format its suffix names, and close it."""
    import matplotlib.pyplot as plt

    from ..atomic_file import atomic_write

    with atomic_write(path) as file:
        fig.savefig(file, format=_figure_format(path))
    plt.close(fig)


# The subcommands, each a module of this package (add_arguments, run, a docstring), in the order
# `--help` lists them. Imported only when used: `python -m fastscratch run SCRIPT` should not
# pay for importing the benchmark, the exporter and the demo before the script starts.
SUBCOMMANDS = ("demo", "run", "check", "bench", "info", "export", "sweep")


def subcommand(name):
    """The module of subcommand `name`."""
    import importlib

    return importlib.import_module(f".{name}", __name__)
