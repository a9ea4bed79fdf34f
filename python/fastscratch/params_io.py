"""Saving and loading a net's parameters (the book's `save_params` / `load_params`).

A file name ending in `.npz` is written with `numpy.savez`; any other name gets the book's pickle
of a plain dict of arrays, so the book's own `params.pkl` files and fastscratch's read each other.
Reading accepts both (told apart by content, not by name). Pickles are read with
`fastscratch.safe_pickle`, which admits only NumPy arrays and dtypes: a pickle naming anything
else is refused before any of it runs.

Loading checks the file against the net (every parameter present, same shapes, floating
values) before it changes anything, then rebinds the net's layers to the loaded arrays as the
book does. Loaded arrays keep the dtype they were stored with, unless the net was built with a
`dtype`, in which case they are cast to it.
"""

import os
import pickle

import numpy as np

from . import safe_pickle
from .atomic_file import atomic_write

__all__ = ["save_params", "load_params", "ParamsIO"]


def save_params(arrays, file_name):
    """Write the dict `arrays` (name -> ndarray) to `file_name`: .npz via numpy.savez, else a
    pickle of a plain dict (the book's format). The file is replaced in one step: if the save
    fails, the previous file is left as it was."""
    path = os.fspath(file_name)
    arrays = {str(key): np.asarray(val) for key, val in arrays.items()}
    # Through a temporary file: a save that fails half-way (full disk, killed process) must not
    # destroy the checkpoint it was replacing.
    with atomic_write(path) as file:
        if str(path).endswith(".npz"):
            np.savez(file, **arrays)
        else:
            pickle.dump(arrays, file)


def load_params(file_name):
    """The dict of arrays stored in `file_name` (.npz or the book's pickle), read without
    running any code the file names."""
    import zipfile  # here, not at import: it costs every script's start-up several ms

    path = os.fspath(file_name)
    if zipfile.is_zipfile(path):
        with np.load(path, allow_pickle=False) as npz:
            loaded = {key: npz[key] for key in npz.files}
    else:
        loaded = safe_pickle.load(path)
    if not isinstance(loaded, dict):
        raise ValueError(
            f"{path} must hold a dict of arrays (name -> ndarray), got a {type(loaded).__name__}"
        )
    for key, val in loaded.items():
        if not isinstance(val, np.ndarray):
            raise ValueError(f"{path}: entry {key!r} must be an ndarray, got {type(val).__name__}")
    return loaded


def _checked(loaded, expected, dtype, path):
    """loaded's entries for the keys of `expected` (name -> array of the right shape), checked and
    cast to `dtype` when one is given; raises before anything is changed."""
    missing = [key for key in expected if key not in loaded]
    if missing:
        raise ValueError(
            f"{path} has no {', '.join(missing)}: it does not hold this net's "
            f"parameters (it has {', '.join(map(str, loaded)) or 'nothing'})"
        )
    checked = {}
    for key, current in expected.items():
        val = loaded[key]
        if val.shape != current.shape:
            raise ValueError(
                f"{path}: {key} must have shape {current.shape} for this net, got {val.shape}"
            )
        if dtype is not None:
            if val.dtype.kind not in "biuf":
                raise TypeError(f"{path}: {key} must hold real numbers, got dtype {val.dtype}")
            val = val.astype(dtype, copy=False)
        elif val.dtype not in (np.float32, np.float64):
            raise TypeError(
                f"{path}: {key} must be float32 or float64, got {val.dtype} "
                "(build the net with dtype=... to cast on loading)"
            )
        checked[key] = val
    return checked


class ParamsIO:
    """`save_params` / `load_params` for a net with `params` (dict) and `_dtype`, which binds its
    layers to its params in `_bind_params()`. A net with extra state to keep (BatchNorm's running
    statistics) returns it from `_saved_state()`, names it in `_state_shapes()` and takes it back
    in `_restore_state(arrays)`."""

    def save_params(self, file_name="params.pkl"):
        arrays = dict(self.params)
        arrays.update(self._saved_state())
        save_params(arrays, file_name)

    def load_params(self, file_name="params.pkl"):
        path = os.fspath(file_name)
        loaded = load_params(path)
        params = _checked(loaded, self.params, self._dtype, path)
        state_shapes = self._state_shapes()
        unknown = [key for key in loaded if key not in self.params and key not in state_shapes]
        if unknown:
            raise ValueError(
                f"{path} holds {', '.join(map(str, unknown))}, which this net does "
                f"not have (its parameters: {', '.join(self.params)})"
            )
        state = {key: loaded[key] for key in state_shapes if key in loaded}
        for key, val in state.items():
            if val.shape != state_shapes[key] or val.dtype.kind != "f":
                raise ValueError(
                    f"{path}: {key} must be a floating array of shape "
                    f"{state_shapes[key]}, got {val.dtype} {val.shape}"
                )
        for key, val in params.items():
            self.params[key] = val
        self._bind_params()
        self._restore_state(state)

    def _saved_state(self):
        return {}

    def _state_shapes(self):
        """name -> shape of the extra state a file may hold for this net."""
        return {}

    def _restore_state(self, arrays):
        pass
