"""What a check accepts as an answer (helpers/checks/core.py): only real numbers (``_as_array``)."""

from __future__ import annotations

import datetime
from fractions import Fraction

import numpy as np
import pytest

from helpers.checks import check_task


def _step(w, g, lr, lam, n):  # Task 03.2's right answer
    return (1 - lr * lam / n) * w - lr * g


def _message(task_id, fn):
    result = check_task(task_id, fn, quiet=True)
    assert not result.passed, result.message
    assert result.message.startswith(f"✗ Task {task_id} (") and len(result.message.splitlines()) <= 2
    assert "Traceback" not in result.message
    return result.message


# --------------------------------------------------------------------------------------------
# Only real numbers pass
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("wrong, expected", [
    (lambda *a: _step(*a) + np.array([0, 0, 1j]), "returned complex numbers (0.46+1j), not real numbers"),
    (lambda *a: _step(*a) + 0j, "returned complex numbers"),
    (lambda *a: [*_step(*a)[:2], complex(_step(*a)[2])], "a list holding complex numbers"),
    (lambda *a: [str(v) for v in _step(*a)], "returned text ('9.7"),
    (lambda *a: np.array([f"{v}" for v in _step(*a)]), "returned text"),
    (lambda *a: [*_step(*a)[:2], "0.46"], "a list holding text ('0.46')"),
    (lambda *a: [*_step(*a)[:2], True], "a list holding True/False values"),
    (lambda *a: _step(*a) > 0, "returned True/False values"),
    (lambda *a: [*_step(*a)[:2], None], "a list holding None"),
    (lambda *a: np.array([*_step(*a)[:2], None], dtype=object), "a NumPy array holding None"),
    (lambda *a: np.array([Fraction(1, 2)] * 3, dtype=object), "returned Fraction objects, not real numbers"),
    (lambda *a: {"w": _step(*a)}, "returned a dict, not real numbers"),
    (lambda *a: [[1.0, 2.0], [3.0]], "a list that is not an array of numbers"),
    (lambda *a: np.array([datetime.date(2024, 1, 1)] * 3), "returned a date, not real numbers"),
    (lambda *a: None, "returned None"),
])
def test_anything_but_real_numbers_fails_with_what_it_is(wrong, expected):
    assert expected in _message("03.2", wrong)


@pytest.mark.parametrize("right", [
    lambda *a: list(_step(*a)),
    lambda *a: tuple(float(v) for v in _step(*a)),
    lambda *a: _step(*a).astype(np.float32),
    lambda *a: [np.float64(v) for v in _step(*a)],
], ids=["list", "tuple", "float32", "NumPy scalars"])
def test_real_numbers_in_any_container_pass(right):
    assert check_task("03.2", right, quiet=True).passed


def test_integers_and_numpy_scalars_are_numbers():
    assert check_task("02.1", lambda w, lam: np.float32(lam * np.sum(np.square(w))), quiet=True).passed
    assert "wrong value" in _message("02.1", lambda w, lam: 1)  # a number, a wrong one
