"""Loads pickled parameters (the book's `*.pkl`: dicts of NumPy arrays) without running code.

A pickle can name any importable callable and have it called, so `pickle.load` on a downloaded
file is arbitrary code execution. `load` admits only the few globals that rebuild NumPy arrays,
dtypes and scalars; anything else is refused before it is imported, let alone called.
"""

import codecs
import collections
import io
import os
import pickle

import numpy as np

__all__ = ["load", "loads", "dump", "SafeUnpickler"]


def _latin1_encode(text, encoding):
    # Protocols 0-2 store bytes as `_codecs.encode(text, 'latin1')`; admitting `_codecs.encode`
    # itself would let a pickle reach any codec, so only its latin1 use is reproduced.
    if encoding != "latin1" or not isinstance(text, str):
        raise pickle.UnpicklingError(
            f"refused _codecs.encode({type(text).__name__}, {encoding!r}): only the latin1 "
            "encoding of a str, which pickles of bytes use, is admitted"
        )
    return codecs.latin_1_encode(text)[0]


def _numpy_globals():
    # The book's pickles (2016) name `numpy.core.*`, numpy >= 2 writes `numpy._core.*`. Both
    # spellings map to the objects of the installed numpy, so numpy 2's deprecated `numpy.core`
    # shim is never imported.
    try:
        from numpy._core import multiarray, numeric
    except ImportError:  # numpy < 1.26 has only numpy.core
        from numpy.core import multiarray, numeric
    admitted = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("_codecs", "encode"): _latin1_encode,
    }
    # Plain containers that have no opcode of their own before protocol 4; protocols 0-2 spell
    # the module `__builtin__`.
    for builtin in (bytes, set, frozenset):
        for module in ("builtins", "__builtin__"):
            admitted[(module, builtin.__name__)] = builtin
    for package in ("numpy.core", "numpy._core"):
        admitted[(f"{package}.multiarray", "_reconstruct")] = multiarray._reconstruct
        admitted[(f"{package}.multiarray", "scalar")] = multiarray.scalar
        # protocol 5 (Python >= 3.14's default) pickles arrays through `_frombuffer`
        admitted[(f"{package}.numeric", "_frombuffer")] = numeric._frombuffer
    return admitted


_ADMITTED = _numpy_globals()


class SafeUnpickler(pickle.Unpickler):
    """An Unpickler whose globals are limited to NumPy arrays, dtypes, scalars and containers."""

    def find_class(self, module, name):
        try:
            return _ADMITTED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refused to load the global {module}.{name}: safe_pickle admits only NumPy "
                "arrays, dtypes and scalars in plain containers; if you trust this file, "
                "use pickle.load"
            ) from None


def load(file_or_path):
    """The object pickled in `file_or_path` (a path or a binary file object), loaded safely.

    Raises pickle.UnpicklingError, without running anything, when the pickle names a global
    other than NumPy's array, dtype and scalar constructors.
    """
    if hasattr(file_or_path, "read"):
        return SafeUnpickler(file_or_path).load()
    with open(os.fspath(file_or_path), "rb") as file:
        return SafeUnpickler(file).load()


def loads(data):
    """Like `load`, from bytes."""
    return SafeUnpickler(io.BytesIO(data)).load()


def dump(obj, path):
    """Pickles `obj` to `path` with plain `pickle.dump` (default protocol)."""
    with open(os.fspath(path), "wb") as file:
        pickle.dump(obj, file)
