"""Which backend runs the kernels: 'native' (Cython -> C) or 'reference' (pure NumPy).

Chosen with `set_backend(name)`, `with use_backend(name):` or the FASTSCRATCH_BACKEND
environment variable; the default is 'native'. The layers never import a backend themselves:
they call `fastscratch.kernels`, which asks `current()` for the module that does the work.
"""

import contextlib
import contextvars
import importlib
import os

from ._environment import EnvironmentVariableError

BACKENDS = ("native", "reference")

_modules = {}
# The process's backend (set_backend, FASTSCRATCH_BACKEND): every thread's, outside a
# use_backend block.
_current = None  # its module
_current_name = None
# A use_backend block's backend, (name, module), for the thread (context) that entered it, or
# None: one global would let two threads' blocks switch each other's kernels, and the last to
# leave would restore what the other had set, for the whole process.
_block = contextvars.ContextVar("fastscratch_backend_block", default=None)


def _load(name):
    if name not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {name!r}")
    module = _modules.get(name)
    if module is None:
        module = importlib.import_module(
            "fastscratch._native" if name == "native" else "fastscratch.reference"
        )
        _modules[name] = module
    return module


def get_backend():
    """The name of the backend in use here: 'native' or 'reference'."""
    block = _block.get()
    return _current_name if block is None else block[0]


def set_backend(name):
    """Run every following kernel on backend `name` ('native' or 'reference'): in every thread,
    or, inside a use_backend block, in that block until it ends."""
    global _current, _current_name
    module = _load(name)
    if _block.get() is not None:
        _block.set((name, module))
    else:
        _current, _current_name = module, name


@contextlib.contextmanager
def use_backend(name):
    """Run the kernels inside the `with` block on backend `name`, then restore the previous one.
    The block's backend is its thread's (its context's): other threads' kernels, and threads
    started inside the block, run on the process's backend."""
    token = _block.set((name, _load(name)))
    try:
        yield
    finally:
        _block.reset(token)


def current():
    """The module of the backend in use here (implements every kernel of fastscratch.kernels)."""
    block = _block.get()
    return _current if block is None else block[1]


def _backend_from_environment():
    value = os.environ.get("FASTSCRATCH_BACKEND", "")
    name = value.strip().lower() or "native"
    if name not in BACKENDS:
        raise EnvironmentVariableError(
            f"FASTSCRATCH_BACKEND must be one of {', '.join(BACKENDS)}, got {value!r}"
        )
    return name


set_backend(_backend_from_environment())
