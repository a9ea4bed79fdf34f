"""Which backend runs the kernels: 'native' (Cython -> C) or 'reference' (pure NumPy).

Chosen with `set_backend(name)`, `with use_backend(name):` or the FASTSCRATCH_BACKEND
environment variable; the default is 'native'. The layers never import a backend themselves:
they call `fastscratch.kernels`, which asks `current()` for the module that does the work.
"""

import contextlib
import importlib
import os

from ._environment import EnvironmentVariableError

BACKENDS = ("native", "reference")

_modules = {}
_current = None  # the module of the backend in use
_current_name = None


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
    """The name of the backend in use: 'native' or 'reference'."""
    return _current_name


def set_backend(name):
    """Run every following kernel on backend `name` ('native' or 'reference')."""
    global _current, _current_name
    _current = _load(name)
    _current_name = name


@contextlib.contextmanager
def use_backend(name):
    """Run the kernels inside the `with` block on backend `name`, then restore the previous one."""
    previous = _current_name
    set_backend(name)
    try:
        yield
    finally:
        set_backend(previous)


def current():
    """The module of the backend in use (implements every kernel of fastscratch.kernels)."""
    return _current


def _backend_from_environment():
    value = os.environ.get("FASTSCRATCH_BACKEND", "")
    name = value.strip().lower() or "native"
    if name not in BACKENDS:
        raise EnvironmentVariableError(
            f"FASTSCRATCH_BACKEND must be one of {', '.join(BACKENDS)}, got {value!r}"
        )
    return name


set_backend(_backend_from_environment())
