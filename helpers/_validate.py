"""Input checks shared by every helper: each failure is a ``ValueError`` naming the argument.

The rules (CONTRIBUTING.md, "helpers"):

* **a number** (:func:`check_scalar`) is a finite real: a Python or NumPy integer or float, or a
  0-d array of integer or floating dtype. Booleans (``True`` is not 1.0), strings (``"0.5"``),
  complex numbers, ``None`` and 0-d arrays of any other dtype are refused;
* **a count** (:func:`check_int`: sizes, degrees, steps, folds, iterations, seeds) is a whole
  number: an integer, or a float or 0-d array whose value is whole (``3.0``); ``2.5`` and
  ``True`` are refused, and counts that size a result or a loop have an upper bound;
* **a flag** (:func:`check_bool`) is ``True`` or ``False`` (``bool`` or ``numpy.bool_``); ``"no"``,
  0 and 1 are refused;
* **a choice** (:func:`check_choice`) is one of the listed strings;
* **an array** (:func:`check_array`) holds finite real numbers (integer or floating dtype, or
  Python numbers), returned as float64. Boolean, complex, string/bytes, date and object arrays
  holding anything but real numbers are refused: a number is meant, so they would be guesses;
* **results** (:func:`finite_result`): floating-point overflow, division by zero or an invalid
  operation during the computation, or a result holding inf/NaN, is a ``ValueError`` that names
  the input, never a NaN/inf result, a ``RuntimeWarning`` or an internal variable's name.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import math
import reprlib
from numbers import Integral, Real

import numpy as np

# Keras computes in float32: a larger number would become inf there.
FLOAT32_MAX = float(np.finfo(np.float32).max)

_short = reprlib.Repr()
_short.maxstring = _short.maxother = 40
_short.maxlist = _short.maxtuple = 6


def _show(value) -> str:
    """A short ``repr`` for messages (an array of a million numbers is not a message)."""
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return _short.repr(value)


def _is_real(value) -> bool:
    """A real number that is not a boolean: int, float, NumPy integer or floating scalar."""
    return (isinstance(value, (Real, np.integer, np.floating))
            and not isinstance(value, (bool, np.bool_)))


def _as_real(value, name: str):
    """``value`` as a Python int or float if it is a real number (0-d arrays unwrapped), else raise."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value[()]
    if not _is_real(value):
        raise ValueError(f"{name} must be a real number, got {_show(value)}")
    if isinstance(value, (Integral, np.integer)):
        return int(value)
    return float(value)


def check_scalar(value, name: str, *, min_value: float | None = 0.0, strict: bool = False,
                 max_value: float | None = None) -> float:
    """Return ``value`` as a float after checking it is a finite real number.

    ``min_value`` is the smallest allowed value (inclusive unless ``strict``); ``None`` for no
    lower bound. ``max_value`` is the largest allowed value (inclusive); ``None`` for none.
    """
    number = _as_real(value, name)
    try:
        number = float(number)
    except OverflowError:  # an int beyond float64
        raise ValueError(f"{name} must be finite, got {_show(value)}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {number!r}")
    if min_value is not None:
        if strict and number <= min_value:
            raise ValueError(f"{name} must be > {min_value:g}, got {number!r}")
        if not strict and number < min_value:
            raise ValueError(f"{name} must be >= {min_value:g}, got {number!r}")
    if max_value is not None and number > max_value:
        raise ValueError(f"{name} must be <= {max_value:g}, got {number!r}")
    return number


def check_bool(value, name: str) -> bool:
    """Return ``value`` as a bool after checking it is ``True`` or ``False`` (``numpy.bool_`` too)."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind == "b":
        value = value[()]
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {_show(value)}")
    return bool(value)


def check_choice(value, name: str, options) -> str:
    """Return ``value`` after checking it is one of the strings ``options``."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {tuple(options)}, got {_show(value)}")
    return value


def check_float32(value, name: str):
    """A checked number or float64 array that Keras will use in float32: refuse values beyond
    float32's range (they would become inf). Returns a float, or the array as float32."""
    if np.any(np.abs(value) > FLOAT32_MAX):
        raise ValueError(f"{name} holds values too large for float32, which Keras computes in "
                         f"(|{name}| must be <= {FLOAT32_MAX:.3g})")
    return value.astype(np.float32) if isinstance(value, np.ndarray) else float(value)


_DTYPE_KINDS = {"b": "booleans", "c": "complex numbers", "U": "strings", "S": "bytes",
                "M": "dates", "m": "time spans", "V": "raw records", "O": "objects"}


def check_array(value, name: str, *, ndim: int | tuple[int, ...] | None = None,
                allow_empty: bool = False) -> np.ndarray:
    """Return ``value`` as a float64 array after checking its numbers, dimension, emptiness and
    finiteness. Only real numbers: integer or floating dtypes (or an object array of real
    numbers); booleans, complex numbers, strings and other objects are refused."""
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"{name} must be an array of numbers ({exc})") from None
    kind = arr.dtype.kind
    if kind == "O" and all(_is_real(v) for v in arr.flat):
        kind = "f"
    if kind not in "iuf":
        raise ValueError(f"{name} must hold real numbers, got {_DTYPE_KINDS.get(kind, arr.dtype)}"
                         f" ({_show(value)})")
    try:
        arr = np.asarray(arr, dtype=float)
    except OverflowError:  # Python ints beyond float64
        raise ValueError(f"{name} holds values too large for float64") from None
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


# --------------------------------------------------------------------------------------------
# Results: overflow and friends become a ValueError naming an input
# --------------------------------------------------------------------------------------------

_GUARDED = contextvars.ContextVar("helpers_finite_result", default=False)
_FLOAT_TROUBLE = (ArithmeticError, np.linalg.LinAlgError)  # FloatingPointError, OverflowError, ...


def all_finite(result) -> bool:
    """Whether every number in ``result`` (a number, an array, or tuples/lists/dicts of them) is
    finite; other objects (strings, models, functions) count as finite."""
    if isinstance(result, (bool, np.bool_, str, bytes)) or result is None:
        return True
    if isinstance(result, (Real, np.number)):
        return math.isfinite(result)
    if isinstance(result, np.ndarray):
        return result.dtype.kind not in "fc" or bool(np.all(np.isfinite(result)))
    if isinstance(result, (list, tuple)):
        return all(all_finite(r) for r in result)
    if isinstance(result, dict):
        return all(all_finite(r) for r in result.values())
    return True


def _log_magnitude(value) -> float:
    """How far the finite nonzero values of ``value`` are from 1, in decades (-1: not numbers)."""
    try:
        arr = np.abs(np.asarray(value, dtype=float)).ravel()
    except (TypeError, ValueError, OverflowError):
        return -1.0
    with np.errstate(all="ignore"):
        arr = arr[np.isfinite(arr) & (arr > 0)]
        if arr.size == 0:
            return 0.0
        return float(max(abs(np.log10(arr.max())), abs(np.log10(arr.min()))))


def _culprit(arguments: dict, blame: tuple[str, ...]) -> tuple[str, str]:
    """The argument among ``blame`` whose values are most extreme, and whether they are large or small."""
    scores = [(_log_magnitude(arguments[name]), name) for name in blame if name in arguments]
    if not scores:
        return blame[0], "large"
    _, name = max(scores, key=lambda s: s[0])  # max keeps the first of equal scores
    try:
        biggest = float(np.max(np.abs(np.asarray(arguments[name], dtype=float))))
    except (TypeError, ValueError, OverflowError):
        biggest = math.inf
    return name, "large" if not biggest < 1 else "small"


def _reason(exc: BaseException | None) -> str:
    text = str(exc).lower() if exc is not None else ""
    if isinstance(exc, np.linalg.LinAlgError):
        return "a singular matrix"
    if "divide" in text or isinstance(exc, ZeroDivisionError):
        return "division by zero"
    if "invalid" in text:
        return "an invalid operation such as inf - inf"
    if exc is None:
        return "an infinite or NaN result"
    return "overflow"


def finite_result(*blame: str, action: str, hint: str = "rescale {name}"):
    """Decorator: floating-point trouble in a helper's computation becomes a ``ValueError``.

    The function runs with NumPy's overflow, division-by-zero and invalid-operation errors
    raised (so no ``RuntimeWarning`` and no silent inf/NaN). Such an error, a ``LinAlgError``, a
    Python ``ArithmeticError`` or a result holding inf/NaN (:func:`all_finite`) is reported as
    ``ValueError("<name>: values too large to <action> (overflow); <hint>")``, ``<name>`` being
    the argument among ``blame`` whose values are furthest from 1 (``{name}`` in ``hint`` is
    replaced by it). A guarded helper called by another leaves the report to the outer one, so
    the message names the arguments the caller passed, never an internal variable.
    ``ValueError`` from the argument checks passes through unchanged.
    """
    def decorate(fn):
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def guarded(*args, **kwargs):
            if _GUARDED.get():
                return fn(*args, **kwargs)
            token = _GUARDED.set(True)
            error = None
            try:
                with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
                    result = fn(*args, **kwargs)
                if all_finite(result):
                    return result
            except _FLOAT_TROUBLE as exc:
                error = exc
            finally:
                _GUARDED.reset(token)
            try:
                arguments = signature.bind(*args, **kwargs).arguments
            except TypeError:
                arguments = {}
            name, size = _culprit(arguments, blame)
            raise ValueError(f"{name}: values too {size} to {action} ({_reason(error)}); "
                             f"{hint.format(name=name)}") from None

        return guarded

    return decorate
