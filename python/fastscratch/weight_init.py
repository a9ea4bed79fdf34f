"""Parameter initialisation shared by the nets: the book's weight scales, drawn from NumPy's
global generator in the book's order (so `np.random.seed` reproduces the book's runs), and the
nets' optional parameter dtype."""

import numpy as np

__all__ = ["weight_scale", "normal_weight", "zeros", "param_dtype"]


def weight_scale(weight_init_std, fan_in):
    """The std of a layer's weights: 'relu'/'he' -> sqrt(2/fan_in), 'sigmoid'/'xavier' ->
    sqrt(1/fan_in) (case-insensitive, as the book's `str(...).lower()`), else the number."""
    name = str(weight_init_std).lower()
    if fan_in < 1:  # the nets check their sizes first; this names it for a direct call
        raise ValueError(f"fan_in must be >= 1, got {fan_in}")
    if name in ("relu", "he"):
        return np.sqrt(2.0 / fan_in)
    if name in ("sigmoid", "xavier"):
        return np.sqrt(1.0 / fan_in)
    if isinstance(weight_init_std, str):
        raise ValueError(
            "weight_init_std must be 'relu', 'he', 'sigmoid', 'xavier' or a "
            f"number (the std), got {weight_init_std!r}"
        )
    return weight_init_std


def param_dtype(dtype):
    """None (the book's float64; loaded parameters keep their stored dtype) or float32/float64."""
    if dtype is None:
        return None
    try:
        resolved = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype must be float32, float64 or None, got {dtype!r}") from exc
    if resolved not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32, float64 or None, got {resolved}")
    return resolved


def normal_weight(std, shape, dtype=None):
    """std * np.random.randn(*shape): float64 draws from the global generator (the book's
    numbers), then cast to `dtype` when one is given."""
    w = std * np.random.randn(*shape)
    return w if dtype is None else w.astype(dtype)


def zeros(shape, dtype=None):
    return np.zeros(shape, dtype=np.float64 if dtype is None else dtype)
