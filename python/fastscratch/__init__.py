"""fastscratch: the layers of "Deep Learning from Scratch" with C kernels, drop-in.

Replace `from common.layers import *` with `from fastscratch.layers import *`. Kernels run on
the 'native' backend (C, OpenMP, OpenBLAS) unless `set_backend('reference')` picks the pure-NumPy
oracle. See `show_config()` for what this build runs on.
"""

import os as _os

# OpenMP workers wait for the next region by spinning a short while (GOMP_SPINCOUNT spins, about
# a millisecond), then sleep. Waking a sleeping worker costs tens of microseconds (more on a virtual
# machine), which the small products of the book's MLPs do not pay back; spinning for long takes
# a core from whatever runs next. This used to be a fully passive wait, because OpenBLAS's own
# pool needed the cores right after: OpenBLAS now runs inside the OpenMP pool (csrc/gemm.h), and
# on a busy machine the thread policy runs kernels on one thread, so no worker spins there
# (docs/performance.md). Read when libgomp loads, so set before the extension is imported; a
# user's own OMP_WAIT_POLICY or GOMP_SPINCOUNT wins.
if "OMP_WAIT_POLICY" not in _os.environ and "GOMP_SPINCOUNT" not in _os.environ:
    _os.environ["GOMP_SPINCOUNT"] = "100000"
# NumPy's own OpenBLAS (the reference backend's) spins its workers for 2**28 cycles (~0.1 s)
# after each product by default, taking the cores from the OpenMP loops that follow; 2**20
# cycles (~0.4 ms) is long enough for back-to-back products and gives the cores back soon after
# (measurements in docs/performance.md). Read when an OpenBLAS loads, so it only reaches a NumPy
# imported after fastscratch.
_os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "20")


def _check_native_is_built():
    """A checkout imported without building (`PYTHONPATH=python`) or an install that lost its
    extension fails here, at import, with what to do. The extension itself loads at the first
    kernel (fastscratch/_native/__init__.py says why). Asked of the import system's finders
    directly: `importlib.util.find_spec` would import importlib.util (~1 ms; NumPy does not)."""
    import sys

    from . import _native

    for finder in sys.meta_path:
        find_spec = getattr(finder, "find_spec", None)
        if find_spec is not None and find_spec("fastscratch._native._core", _native.__path__):
            return
    raise ImportError(_native.LOAD_FAILED.format("no fastscratch._native._core module"))


_check_native_is_built()


def _exit_if_command_line(exc):
    """Under `python -m fastscratch`, a bad FASTSCRATCH_* variable is a user's mistake like a bad
    option: one line and exit status 2. Only here can it be caught: the package is imported (and
    the variables read) before fastscratch.__main__ runs. Anywhere else the import raises."""
    import sys

    argv = list(getattr(sys, "orig_argv", ()))
    if sys.argv[:1] == ["-m"] and "-m" in argv and argv[argv.index("-m") + 1 :][:1] == [__name__]:
        print(f"fastscratch: error: {exc}", file=sys.stderr)
        sys.exit(2)


from ._environment import EnvironmentVariableError as _EnvironmentVariableError  # noqa: E402
from ._native._build_info import version as __version__  # noqa: E402

try:
    from .backend import get_backend, set_backend, use_backend
    from .config import show_config
    from .threads import (
        get_adaptive_threads,
        get_num_threads,
        set_adaptive_threads,
        set_num_threads,
    )
except _EnvironmentVariableError as _exc:
    _exit_if_command_line(_exc)
    raise

__all__ = [
    "__version__",
    "get_backend",
    "set_backend",
    "use_backend",
    "set_num_threads",
    "get_num_threads",
    "set_adaptive_threads",
    "get_adaptive_threads",
    "show_config",
]

# The book's API at the top level too (`from fastscratch import Affine, Adam, SimpleConvNet`),
# imported on first use (PEP 562): a script run through `python -m fastscratch run` that never
# touches a layer or a net does not pay for importing them all at start-up.
_LAZY = {
    **dict.fromkeys(
        (
            "Relu",
            "Sigmoid",
            "Affine",
            "SoftmaxWithLoss",
            "Dropout",
            "BatchNormalization",
            "Convolution",
            "Pooling",
        ),
        "layers",
    ),
    **dict.fromkeys(("SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"), "optimizer"),
    "TwoLayerNet": "two_layer_net",
    "MultiLayerNet": "multi_layer_net",
    "MultiLayerNetExtend": "multi_layer_net_extend",
    "SimpleConvNet": "simple_convnet",
    "DeepConvNet": "deep_convnet",
    "Trainer": "trainer",
}
__all__ += list(_LAZY)


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
