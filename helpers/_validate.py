"""Input checks shared by every helper: each failure is a ``ValueError`` naming the argument."""

from __future__ import annotations

import math
from numbers import Real

import numpy as np


def check_scalar(value, name: str, *, min_value: float | None = 0.0, strict: bool = False) -> float:
    """Return ``value`` as a float after checking it is a finite real number.

    ``min_value`` is the smallest allowed value (inclusive unless ``strict``); ``None`` for no
    lower bound.
    """
    if isinstance(value, bool) or not isinstance(value, (Real, np.floating, np.integer)):
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value.item()
        else:
            raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if min_value is not None:
        if strict and value <= min_value:
            raise ValueError(f"{name} must be > {min_value:g}, got {value!r}")
        if not strict and value < min_value:
            raise ValueError(f"{name} must be >= {min_value:g}, got {value!r}")
    return value


def check_array(value, name: str, *, ndim: int | tuple[int, ...] | None = None,
                allow_empty: bool = False) -> np.ndarray:
    """Return ``value`` as a float64 array after checking dimension, emptiness and finiteness."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of numbers ({exc})") from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}, got shape {arr.shape}")
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def check_weights(weights, name: str = "weights") -> list[np.ndarray]:
    """Accept one array or a list/tuple of arrays (as from ``model.get_weights()``)."""
    if isinstance(weights, (list, tuple)):
        if len(weights) == 0:
            raise ValueError(f"{name} must not be an empty list")
        if all(np.ndim(w) == 0 for w in weights):
            return [check_array(weights, name)]
        return [check_array(w, f"{name}[{i}]") for i, w in enumerate(weights)]
    return [check_array(weights, name)]


def check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Raise when two arrays that must match element by element do not."""
    if a.shape != b.shape:
        raise ValueError(f"{name_b} must have the same shape as {name_a}: {b.shape} != {a.shape}")


def check_xy(X, y, x_name: str = "X", y_name: str = "y") -> tuple[np.ndarray, np.ndarray]:
    """A 2-D design matrix and a 1-D target with one entry per row, as float64 arrays."""
    X = check_array(X, x_name, ndim=2)
    y = check_array(y, y_name, ndim=1)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"{x_name} and {y_name} must have the same number of rows: "
                         f"{X.shape[0]} != {y.shape[0]}")
    return X, y


def check_pair(a, b, name_a: str, name_b: str, ndim: int | tuple[int, ...] | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Two arrays compared element by element (``y_true``/``y_pred``, ``before``/``after``):
    checked like :func:`check_array`, and of the same shape."""
    a = check_array(a, name_a, ndim=ndim)
    b = check_array(b, name_b, ndim=ndim)
    check_same_shape(a, b, name_a, name_b)
    return a, b
