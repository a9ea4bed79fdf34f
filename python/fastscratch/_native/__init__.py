"""The native backend: every kernel of `fastscratch.kernels`, bound from the C in csrc/.

The bindings are one extension module, `_core` (src/_core.pyx, which includes one src/_*.pxi
per kernel family); this package gives its kernels the names the contract gives them.

`_core` is loaded when one of those names is first asked of this package, not when the package
is imported: loading it maps OpenBLAS, libgomp and the kernels (~3 ms), which a script that calls
no kernel (the book's `ch05/buy_apple.py` through `python -m fastscratch run`) would pay for
nothing. The first load copies the names into this module, so every later lookup is a plain
attribute (no cost per call), and applies the thread settings `fastscratch.threads` read from
the environment. A build whose extension is missing fails at `import fastscratch`
(`fastscratch/__init__.py` looks for the file); one whose extension cannot load (a library gone)
fails here, at the first kernel, with the same message: never a silent fallback to the reference.
"""

import _thread
import os

NAMES = (
    "adagrad_update",
    "adam_update",
    "affine_backward",
    "affine_forward",
    "affine_forward_widened",
    "affine_relu_forward",
    "affine_relu_forward_widened",
    "batchnorm_backward",
    "batchnorm_forward_test",
    "batchnorm_forward_train",
    "blas_config",
    "blas_corename",
    "col2im",
    "conv_backward",
    "conv_forward",
    "conv_path",
    "conv_relu_forward",
    "conv_winograd",
    "conv_winograd_tile",
    "cpu_set_size",
    "cpu_simd_levels",
    "dropout_backward",
    "dropout_forward_train",
    "foreign_load",
    "free_cores",
    "get_adaptive_threads",
    "get_blas_threads",
    "get_omp_threads",
    "im2col",
    "in_forked_child",
    "mark_forked_child",
    "max_threads",
    "momentum_update",
    "nesterov_update",
    "openmp_version",
    "plan_threads",
    "pool_backward",
    "pool_forward",
    "relu_backward",
    "relu_forward",
    "rmsprop_update",
    "set_adaptive_threads",
    "set_num_threads",
    "sgd_update",
    "sigmoid_backward",
    "sigmoid_forward",
    "simd_clones",
    "softmax",
    "softmax_loss_backward",
    "softmax_loss_forward",
)

_load_lock = _thread.allocate_lock()  # `threading` would add ~1 ms to the import
# Whether this process was forked after this package was imported (so before the core loaded,
# or the core's own fork handler would have seen the fork): see _after_fork_in_child.
_forked = False


def _after_fork_in_child():
    # The core, when it loads here, must run its kernels on one thread, as its own fork handler
    # makes a child of a process that had loaded it do: the parent may have run another
    # library's OpenMP regions (PyTorch's) on the libgomp.so.1 the core will share, and that
    # pool did not survive the fork; a kernel on two threads would wait forever. And a fork
    # while another thread held the lock (loading the core) would leave it held forever.
    global _load_lock, _forked
    _load_lock = _thread.allocate_lock()
    _forked = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

LOAD_FAILED = (
    "fastscratch's native extension could not be loaded ({}). Reinstall with "
    "`pip install --force-reinstall --no-cache-dir fastscratch` (from a checkout: "
    "`pip install .`), which needs a C compiler; fastscratch never falls back to the slow "
    "reference backend silently."
)


def _load_openblas():
    """Load the scipy-openblas32 library globally, so that an editable build's extension (whose
    rpath does not reach site-packages) finds it too. Straight from its folder
    where the file is plain to find: importing the scipy_openblas32 package reads its metadata
    (importlib.metadata), a noticeable part of every script's start."""
    import ctypes
    import sys

    for entry in sys.path:
        folder = os.path.join(entry or ".", "scipy_openblas32", "lib")
        if os.path.isdir(folder):
            names = sorted(
                n for n in os.listdir(folder) if n.startswith("libscipy_openblas") and ".so" in n
            )
            if names:
                ctypes.CDLL(os.path.join(folder, names[0]), mode=ctypes.RTLD_GLOBAL)
                return
            break
    import scipy_openblas32  # noqa: F401  another platform's naming: the package knows


def _import_core():
    """The extension, found by its rpath where it was installed (a wheel, `pip install .`),
    else after loading scipy-openblas32 by hand (an editable build): `ctypes` alone is ~1-2 ms
    of a script's start, spent only where it is needed."""
    try:
        from . import _core
    except ImportError:
        _load_openblas()
        from . import _core
    return _core


def load():
    """Load the extension (once; thread-safe), apply the environment's thread settings (and one
    thread in a forked child), and put its names into this module. Raises ImportError, with what
    to do, if it cannot load."""
    with _load_lock:
        if NAMES[0] in globals():
            return
        try:
            core = _import_core()
        except ImportError as exc:
            raise ImportError(LOAD_FAILED.format(exc)) from exc
        from .. import threads

        threads.apply_startup_settings(core)
        if _forked:
            core.mark_forked_child()
        globals().update({name: getattr(core, name) for name in NAMES})


def __getattr__(name):
    # Only until the first load: after it, every name of NAMES is a plain module attribute.
    if name in NAMES:
        load()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *NAMES})
