"""Loads pickled parameters (the book's `*.pkl`: dicts of NumPy arrays) without running code.

A pickle can name any importable callable and have it called, so `pickle.load` on a downloaded
file is arbitrary code execution. `load` admits only the few globals that rebuild NumPy arrays,
dtypes and scalars; anything else is refused before it is imported, let alone called.

Admitting `numpy.dtype` is not enough on its own: a pickle rebuilds a dtype in two steps,
`numpy.dtype('f8', False, True)` then `__setstate__(state)`, and the state may add fields (an
object field, say) to what still compares equal to float64; an array of it computes garbage and
touching the field dereferences raw bytes as pointers. So only plain numeric dtypes (bool,
integers, floats; either byte order) are built, and every dtype state is checked before it is
applied.
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


# Kinds of the dtypes a pickle may build: bool, signed and unsigned integers, floats.
_PLAIN_KINDS = "biuf"


def _refuse_dtype(what):
    raise pickle.UnpicklingError(
        f"refused a numpy dtype {what}: safe_pickle admits only plain numeric dtypes (bool, "
        "integers, floats; no fields, objects or subarrays); if you trust this file, use "
        "pickle.load"
    )


def _plain_dtype(obj, align=False, copy=False):
    """`numpy.dtype(obj, align, copy)` for a type code of a plain numeric dtype ('f8', 'i4', ...);
    refuses anything else (a field list, 'O', 'V8', a subarray tuple) before numpy parses it."""
    # old pickles (the book's) spell align and copy as the ints 0 and 1
    if type(obj) is not str or type(align) not in (bool, int) or type(copy) not in (bool, int):
        _refuse_dtype(f"built from {obj!r} (align={align!r}, copy={copy!r})")
    try:
        dtype = np.dtype(obj, align, copy)
    except (TypeError, ValueError):
        _refuse_dtype(f"built from {obj!r}")
    if dtype.kind not in _PLAIN_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        _refuse_dtype(f"built from {obj!r} ({dtype})")
    return dtype


def _check_dtype_state(dtype, state):
    """Refuses a dtype `__setstate__` state other than a plain dtype's: (version, byte order,
    None, None, None, -1, -1, flags[, metadata]) with the flags of the plain dtype, so that it can
    neither add fields, a subarray or a size nor claim to hold objects."""
    plain = (
        type(state) is tuple
        and len(state) in (8, 9)
        and state[0] in (3, 4)
        and state[1] in ("<", ">", "=", "|")
        and state[2:5] == (None, None, None)
        and state[5:7] == (-1, -1)
        and type(state[7]) is int
        and state[7] == np.dtype(dtype.str).flags
        and (len(state) == 8 or state[8] is None)
    )
    if not plain:
        _refuse_dtype(f"state {state!r} for {dtype} (it would add fields, a subarray or flags)")


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
        ("numpy", "dtype"): _plain_dtype,
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


class SafeUnpickler(pickle._Unpickler):
    """An Unpickler whose globals are limited to NumPy arrays, dtypes, scalars and containers.

    The pure-Python unpickler, because its BUILD opcode can be intercepted (the C one calls
    `__setstate__` itself): a dtype's state is checked before numpy applies it. The files hold
    a few large byte strings, so the Python loop costs little."""

    dispatch = dict(pickle._Unpickler.dispatch)

    def load_build(self):
        inst, state = self.stack[-2], self.stack[-1]
        if isinstance(inst, np.dtype):
            _check_dtype_state(inst, state)
        super().load_build()
        if isinstance(inst, np.dtype) and (
            inst.kind not in _PLAIN_KINDS
            or inst.fields is not None
            or inst.subdtype is not None
            or inst.hasobject
        ):  # belt and braces: whatever the state did, the result must still be plain
            _refuse_dtype(f"{inst!r}")

    dispatch[pickle.BUILD[0]] = load_build

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
    other than NumPy's array, dtype and scalar constructors, or builds a dtype other than a
    plain numeric one.
    """
    if hasattr(file_or_path, "read"):
        return _unpickled(file_or_path, getattr(file_or_path, "name", "the file"))
    with open(os.fspath(file_or_path), "rb") as file:
        return _unpickled(file, os.fspath(file_or_path))


def loads(data):
    """Like `load`, from bytes."""
    return _unpickled(io.BytesIO(data), "the bytes")


def _unpickled(file, name):
    """SafeUnpickler(file).load(); every error names the file, and one that is no pickle
    (truncated, empty, another format) raises pickle.UnpicklingError, not whatever the opcode
    parser tripped on (EOFError, IndexError, a ValueError about base-10 literals)."""
    try:
        return SafeUnpickler(file).load()
    except (MemoryError, OSError):
        raise
    except pickle.UnpicklingError as exc:  # a refusal, or the parser's own: the file named
        raise pickle.UnpicklingError(f"{name}: {exc}") from exc
    except Exception as exc:
        what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise pickle.UnpicklingError(
            f"{name} is not a pickle of arrays (empty, truncated or another format; {what})"
        ) from exc


def dump(obj, path):
    """Pickles `obj` to `path` with plain `pickle.dump` (default protocol)."""
    with open(os.fspath(path), "wb") as file:
        pickle.dump(obj, file)
