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

import math
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


def load_params(file_name, expected_shapes=None):
    """The dict of arrays stored in `file_name` (.npz or the book's pickle), read without
    running any code the file names.

    expected_shapes (name -> shape), when given, is what the caller can use: an .npz member of
    another name, shape or of no real-number dtype is refused from the header of its .npy, before
    its data is read (a small compressed member can inflate to gigabytes)."""
    import zipfile  # here, not at import: it costs every script's start-up several ms

    path = os.fspath(file_name)
    if zipfile.is_zipfile(path):
        loaded = _read_npz(path, expected_shapes)
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


def _read_npz(path, expected_shapes):
    """The arrays of the .npz at `path`, each member's .npy header checked before its data is
    read: never more data than the header declares, the header never more than the zip
    declares for the member, and, with `expected_shapes`, only the expected names and shapes.
    A damaged archive (a bad CRC, a truncated member, a header naming a zip feature, version or
    encryption zipfile lacks) is a ValueError naming the file."""
    import zipfile
    import zlib

    try:
        return _read_npz_members(path, expected_shapes)
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError) as exc:
        raise ValueError(f"{path} is a damaged .npz ({type(exc).__name__}: {exc})") from exc


def _read_npz_members(path, expected_shapes):
    import zipfile

    from numpy.lib import format as npy

    loaded = {}
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        keys = [info.filename.removesuffix(".npy") for info in infos]
        if expected_shapes is not None:
            unknown = [key for key in keys if key not in expected_shapes]
            if unknown:
                raise ValueError(
                    f"{path} holds {', '.join(unknown)}, which this net does not have (it "
                    f"has {', '.join(map(str, expected_shapes))})"
                )
        for key, info in zip(keys, infos):
            with archive.open(info) as member:
                try:
                    version = npy.read_magic(member)
                    read_header = (
                        npy.read_array_header_1_0
                        if version == (1, 0)
                        else npy.read_array_header_2_0
                    )
                    shape, fortran_order, dtype = read_header(member)
                except ValueError as exc:
                    raise ValueError(
                        f"{path}: member {info.filename} is not a .npy ({exc})"
                    ) from None
                loaded[key] = _read_npy_data(
                    path, key, info, member, shape, fortran_order, dtype, expected_shapes
                )
    return loaded


def _read_npy_data(path, key, info, member, shape, fortran_order, dtype, expected_shapes):
    """The data of one .npz member whose header said (shape, fortran_order, dtype), after the
    checks that bound what reading it costs."""
    if dtype.hasobject:
        raise ValueError(
            f"{path}: {key} holds Python objects ({dtype}), which only pickle could read; "
            "loading them would run code the file names, so it is refused"
        )
    if expected_shapes is not None:
        if dtype.kind not in "biuf":
            raise TypeError(f"{path}: {key} must hold real numbers, got dtype {dtype}")
        if tuple(shape) != tuple(expected_shapes[key]):
            raise ValueError(
                f"{path}: {key} must have shape {tuple(expected_shapes[key])} for this net, "
                f"got {tuple(shape)}"
            )
    count = math.prod(shape)
    size = count * dtype.itemsize
    # the zip's own record of the member's size bounds what the decompressor yields anyway
    if size > info.file_size:
        raise ValueError(
            f"{path}: {key}'s header declares {dtype} {tuple(shape)} ({size} bytes of data), "
            f"more than the whole member ({info.file_size} bytes): a forged or corrupt file"
        )
    array = np.empty(count, dtype)
    view = memoryview(array).cast("B")
    done = 0
    while done < size:
        got = member.readinto(view[done:])
        if not got:
            raise ValueError(
                f"{path}: {key} is truncated: its header declares {size} bytes of data, "
                f"found {done}"
            )
        done += got
    return array.reshape(shape, order="F" if fortran_order else "C")


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
        elif not val.dtype.isnative and val.dtype.kind == "f":
            # written on a machine of the other byte order: converted once, as the kernels would
            # on every call otherwise
            val = val.astype(val.dtype.newbyteorder("="))
        if dtype is None and val.dtype not in (np.float32, np.float64):
            raise TypeError(
                f"{path}: {key} must be float32 or float64, got {val.dtype} "
                "(build the net with dtype=... to cast on loading)"
            )
        checked[key] = val
    return checked


def checked_state(state, shapes, where, label=""):
    """`state` (name -> array, the names among `shapes`: a net's extra state such as BatchNorm's
    running statistics), each checked to be a floating array of its shape; the error names
    `where` (the file) and `label` + the name."""
    for key, val in state.items():
        if val.shape != tuple(shapes[key]) or val.dtype.kind != "f":
            raise ValueError(
                f"{where}: {label}{key} must be a floating array of shape "
                f"{tuple(shapes[key])}, got {val.dtype} {val.shape}"
            )
    return state


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
        expected = {key: val.shape for key, val in self.params.items()}
        expected.update(self._state_shapes())
        loaded = load_params(path, expected)
        params = _checked(loaded, self.params, self._dtype, path)
        state_shapes = self._state_shapes()
        unknown = [key for key in loaded if key not in self.params and key not in state_shapes]
        if unknown:
            raise ValueError(
                f"{path} holds {', '.join(map(str, unknown))}, which this net does "
                f"not have (its parameters: {', '.join(self.params)})"
            )
        state = checked_state(
            {key: loaded[key] for key in state_shapes if key in loaded}, state_shapes, path
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
