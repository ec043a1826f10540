"""Counts (sizes, degrees, steps, folds, iterations, seeds) and the bounds on what they ask for.

The rules of :mod:`helpers._validate`, for whole numbers: a count is an integer, or a float or
0-d array whose value is whole (``3.0``); ``2.5``, booleans, strings and NaN/inf are refused
with a ``ValueError`` naming the argument. Counts have upper bounds: no helper allocates more
than :data:`MAX_ELEMENTS` numbers because a count asked for it (:func:`check_size`), no loop
runs more than :data:`MAX_ITERATIONS` times, seeds are in ``[0, MAX_SEED]``.
"""

from __future__ import annotations

import math

from helpers._validate import _as_real, _show

# A helper allocates at most this many numbers because a count asked for it (80 MB of float64).
MAX_ELEMENTS = 10_000_000
# Loops (sweeps, steps, iterations, epochs) run at most this many times.
MAX_ITERATIONS = 10_000_000
# Counts are int64, as NumPy stores them (a larger int cannot even become a float).
MAX_INT = 2**63 - 1
# Seeds are what NumPy's and TensorFlow's generators take everywhere: [0, 2**32 - 1].
MAX_SEED = 2**32 - 1


def check_int(value, name: str, *, min_value: int = 0, max_value: int | None = None) -> int:
    """Return ``value`` as an int after checking it is a whole number in ``[min_value, max_value]``.

    For counts, degrees, steps, folds, iterations and seeds. A float with a whole value (``3.0``)
    is accepted; ``2.5``, booleans, strings and NaN/inf are not. ``max_value`` defaults to
    :data:`MAX_INT`.
    """
    max_value = MAX_INT if max_value is None else max_value
    number = _as_real(value, name)
    if isinstance(number, float):
        if not math.isfinite(number) or number != math.floor(number):
            raise ValueError(f"{name} must be a whole number, got {_show(value)}")
        number = int(number)
    if not min_value <= number <= max_value:
        allowed = f">= {min_value} (and below 2**63)" if max_value == MAX_INT else f"in [{min_value}, {max_value}]"
        raise ValueError(f"{name} must be a whole number {allowed}, got {_show(value)}")
    return number


def check_seed(value, name: str = "seed") -> int:
    """A random seed: a whole number in ``[0, MAX_SEED]``."""
    return check_int(value, name, max_value=MAX_SEED)


def check_iterations(value, name: str, *, min_value: int = 1) -> int:
    """A number of loop passes (sweeps, steps, iterations): a whole number up to :data:`MAX_ITERATIONS`."""
    return check_int(value, name, min_value=min_value, max_value=MAX_ITERATIONS)


def check_size(n_elements: int, name: str) -> None:
    """Refuse a result of more than :data:`MAX_ELEMENTS` numbers, asked for by the argument ``name``."""
    if n_elements > MAX_ELEMENTS:
        raise ValueError(f"{name} is too large: the result would hold {n_elements:,} numbers, more than "
                         f"the {MAX_ELEMENTS:,} a helper allocates")
