"""Judging the learner's answers on a task's test cases together (:class:`_Cases`): a wrong type or
shape at once, then a diagnosis only when it explains every case, else a neutral "expected ...,
got ..."; and the near-zeros diagnosis of lesson 04 (:func:`_check_exact_zeros`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.checks.answers import _as_array, _close, _Fail, _fmt, _fmt_pair


@dataclass
class _Answer:
    """The learner's answer on one test case, with what it is judged against."""

    case: str
    got: np.ndarray
    expected: np.ndarray
    variants: list[tuple[np.ndarray, str, str]]
    n: int | None
    inputs: dict[str, np.ndarray]
    right: bool | None = None  # the task's own verdict (a stated tolerance), when it gives one


_GENERIC = [  # (factor of the expected value, what it is, hint): mistakes any task can make
    (lambda n: 2.0, "it is twice the expected value (a factor of 2)",
     "Look for a factor of 2 that the task's formula does not have."),
    (lambda n: 0.5, "it is half the expected value (a factor of 2)",
     "Look for a factor of 2 (or a ½) that is missing or too much."),
    (lambda n: -1.0, "it has the wrong sign", "Check each minus sign against the task's formula."),
]
_GENERIC_MEAN = [  # the same for a result that averages n values
    (lambda n: float(n), "it is n times the expected value (a missing 1/n)",
     "Average over the n values: divide the sum by n."),
    (lambda n: 1.0 / n, "it is 1/n of the expected value (an extra 1/n)",
     "Divide by n only where the formula says so."),
    (lambda n: n / (n - 1), "it divides by n − 1 instead of n",
     "The mean divides by n, the number of values (np.mean does)."),
]


class _Cases:
    """The learner's answers on a task's test cases, judged together.

    ``cases.add(got, expected, case="for lam=0.1", variants=[(wrong, what, hint), ...])`` once
    per test case: a wrong type or shape fails at once. Then ``cases.verdict()`` passes when
    every answer is close to its expected value (``rtol``, ``atol``), or right by the task's own
    criterion where ``add(..., right=...)`` gives one (07.3's stated tolerance). Otherwise it names a
    mistake only when that mistake explains the answers of **every** case (a diagnosis that fits
    one case by coincidence is never claimed), trying in turn:

    1. the task's ``variants``: known mistakes, the same list in the same order for every case
       (one that matches nowhere distinct from the right answer is harmless);
    2. an argument returned unchanged (``inputs``: name -> the argument as passed);
    3. the same answer on every case although the right answers differ (a constant);
    4. generic factors: 2, ½ and −1, and for a result that averages ``n`` values, n, 1/n and
       n/(n − 1) (unless ``generic=False``: for an answer chosen among given values);

    then, with no established diagnosis, NaN or infinite values, and last a neutral message:
    what was expected and what came (``neutral(answer)`` of the first failing case, which may
    raise a task's own observation first; :meth:`wrong_value` by default). An answer and a
    variant that both blew up (NaN, infinite or huge) count as matching.
    """

    def __init__(self, *, scalar: bool = False, rtol: float = 1e-6, atol: float = 1e-9,
                 shape_hint: str = "", hint: str = "", neutral=None, generic: bool = True):
        self.scalar, self.rtol, self.atol, self.generic = scalar, rtol, atol, generic
        self.shape_hint, self.hint = shape_hint, hint
        self.neutral = neutral or self.wrong_value
        self.answers: list[_Answer] = []

    def add(self, got, expected, *, case: str, variants=(), n: int | None = None, inputs=None,
            shape_hint: str = "", right=None) -> np.ndarray:
        """Record the answer ``got`` of one case (failing at once on a wrong type or shape).

        ``right``, when given, is a function of the answer (as an array) that says whether it is right
        by the task's own stated tolerance; otherwise an answer is right when it is close to ``expected``."""
        shape_hint = shape_hint or self.shape_hint
        arr = _as_array(got)
        exp = np.asarray(expected, dtype=float)
        if self.scalar:
            if arr.size != 1:
                raise _Fail(f"it returned an array of shape {arr.shape} {case}; expected one number.",
                            shape_hint or "Reduce over the entries (np.sum / np.mean) to get a number.")
            arr = arr.reshape(())
        if arr.shape != exp.shape:
            raise _Fail(f"wrong shape {case}: got {arr.shape}, expected {exp.shape}.",
                        shape_hint or "Print the shapes of the arrays you combine.")
        self.answers.append(_Answer(case, arr, exp, [(np.asarray(v, dtype=float), w, h) for v, w, h in variants],
                                    n, {k: np.asarray(v, dtype=float) for k, v in (inputs or {}).items()},
                                    None if right is None else bool(right(arr))))
        return arr

    def _right(self, a: _Answer) -> bool:
        return a.right if a.right is not None else _close(a.got, a.expected, self.rtol, self.atol)

    def _matches(self, a: _Answer, value) -> bool:
        if _close(a.got, value, self.rtol, self.atol):
            return True
        scale = 1e6 * (1.0 + float(np.max(np.abs(a.expected), initial=0.0)))

        def blown(x):
            x = np.asarray(x, dtype=float)
            return bool(np.any(~np.isfinite(x)) or np.max(np.abs(x), initial=0.0) > scale)

        return blown(a.got) and blown(value)

    def verdict(self) -> None:
        """Pass, or raise :class:`_Fail` with the diagnosis established on every case (see above)."""
        answers = self.answers
        failing = [a for a in answers if not self._right(a)]
        if not failing:
            return
        first = failing[0]
        if len({len(a.variants) for a in answers}) > 1:
            raise RuntimeError("the cases of this check list different numbers of variants")
        fits = {first.variants[i][1:] for i in range(len(first.variants))
                if all(self._matches(a, a.variants[i][0]) for a in answers)}
        if len(fits) == 1:
            raise _Fail(*fits.pop())
        if fits:  # two known mistakes explain the answers equally well: claim neither
            raise _Fail(*self.neutral(first))
        for name in first.inputs:
            if all(name in a.inputs and self._matches(a, a.inputs[name]) for a in answers):
                raise _Fail(f"it returned the argument `{name}` unchanged.",
                            f"Compute the result from `{name}`, as the task says; do not return it as it is.")
        if (len(answers) > 1 and all(_close(a.got, answers[0].got, 1e-12, 0.0) for a in answers)
                and not all(_close(a.expected, answers[0].expected) for a in answers)):
            raise _Fail(f"it returned the same {'value' if first.got.ndim == 0 else 'values'}, "
                        f"{_fmt(first.got)}, on every test case, though the right answers differ.",
                        "Compute the answer from the function's arguments: nothing in it should be fixed in advance.")
        means = all(a.n is not None and a.n > 2 for a in answers)
        generic = (_GENERIC + (_GENERIC_MEAN if means else [])) if self.generic else []
        for factor, what, why in generic:
            if all(self._matches(a, factor(a.n) * a.expected) for a in answers):
                raise _Fail(f"{what} on every test case.", why)
        for a in answers:
            if not np.all(np.isfinite(a.got)):
                raise _Fail(f"it returned NaN or infinite values {a.case}.",
                            self.hint or "Look for a division by zero or a step that makes the values explode.")
        raise _Fail(*self.neutral(first))

    def wrong_value(self, a: _Answer) -> tuple[str, str]:
        """The neutral message: where the first wrong value is, what was expected, what came."""
        bad = np.flatnonzero(~np.isclose(a.got, a.expected, rtol=self.rtol, atol=self.atol).ravel())
        i = int(bad[0]) if bad.size else 0
        where = ""
        if a.expected.size > 1:
            idx = tuple(int(j) for j in np.unravel_index(i, a.expected.shape))
            where = f" at index {idx[0] if len(idx) == 1 else idx}"
        expected, got = _fmt_pair(a.expected.ravel()[i], a.got.ravel()[i])
        return (f"wrong value {a.case}{where}: expected {expected}, got {got}.",
                self.hint or "Compare your code with the task's formula line by line.")


def _check_exact_zeros(arr, expected, *, case: str) -> None:
    """Fail with the 'near-zeros' diagnosis when exact zeros were expected but not produced."""
    arr, expected = np.asarray(arr, dtype=float), np.asarray(expected, dtype=float)
    want_zero = expected == 0
    tiny = want_zero & (arr != 0) & (np.abs(arr) < 0.05)
    if tiny.any():
        k, example = int(tiny.sum()), float(np.abs(arr[tiny]).min())
        raise _Fail(f"{k} weights that should be exactly 0 are only near 0 (e.g. {example:.1e}) {case}.",
                    "A subgradient step only jitters around 0; a soft-thresholding (proximal) "
                    "step sets them to exactly 0.")
