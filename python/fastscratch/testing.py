"""Comparing kernel results, like numpy.testing: the tolerance every native kernel must meet
against the reference, the relative error it is measured by, and the same values in every
memory layout a kernel must accept, and a block run at a given thread count. Used by
fastscratch's tests and `python -m fastscratch check`.

Bounds: float64 <= 1e-12, float32 <= 1e-5, by relative norm. The two backends sum the same
products in different orders (OpenBLAS blocks its GEMMs, the native kernels sum per image or per
lane; NumPy's matmul and pairwise sums group differently), so they agree to a few ulps times the
length of the sums -- far below these bounds at the book's sizes -- but not bit for bit.
"""

import contextlib

import numpy as np

TOLERANCE = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}


def relative_error(actual, expected, floor=0.0):
    """||actual - expected|| / max(||expected||, floor) over the finite entries; NaN and inf
    must stand at the same places with the same values (else inf)."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        return np.inf
    special = ~np.isfinite(expected)
    if np.any(special != ~np.isfinite(actual)):
        return np.inf
    if np.any(special) and not np.array_equal(actual[special], expected[special], equal_nan=True):
        return np.inf
    a, e = actual[~special], expected[~special]
    norm = max(np.linalg.norm(e), floor)
    diff = np.linalg.norm(a - e)
    return diff / norm if norm > 0 else diff


def assert_close(actual, expected, floor=0.0):
    """Same shape and dtype, and relative_error within the dtype's TOLERANCE. `floor` bounds
    the error relative to a scale (e.g. 1 for a loss near 0, whose rounding is absolute)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    assert actual.dtype == expected.dtype, f"dtype {actual.dtype} != {expected.dtype}"
    err = relative_error(actual, expected, floor)
    bound = TOLERANCE[expected.dtype]
    assert err <= bound, f"relative error {err:.3g} > {bound:g} for {expected.dtype}"


def memory_layouts(a):
    """The values of `a` as a C-ordered copy, a Fortran-ordered copy, a negative-stride view, a
    view with gaps into a bigger buffer, and a read-only array, by name."""
    a = np.asarray(a)
    readonly = a.copy()
    readonly.flags.writeable = False
    if a.ndim == 0:
        return {"C": a.copy(), "readonly": readonly}
    flip = tuple(slice(None, None, -1) for _ in a.shape)
    wide = np.zeros(tuple(2 * s for s in a.shape), dtype=a.dtype)
    strided = wide[tuple(slice(None, None, 2) for _ in a.shape)]
    strided[...] = a
    return {
        "C": a.copy(),
        "fortran": np.asfortranarray(a),
        "negative_stride": a[flip].copy()[flip],
        "strided": strided,
        "readonly": readonly,
    }


@contextlib.contextmanager
def thread_count(n):
    """The kernels' thread count set to `n` (fastscratch.set_num_threads) for the block and
    restored after it, also when the block raises."""
    from . import threads

    before = threads.get_num_threads()
    threads.set_num_threads(n)
    try:
        yield
    finally:
        threads.set_num_threads(before)
