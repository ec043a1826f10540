"""The machinery of :mod:`helpers.checks`: the registry, the entry points and the diagnoses.

A lesson's checks live in their own module ``helpers/checks/lessonNN.py``; each checker is
registered with :func:`task` and built from the tools here: :func:`_call` runs the learner's
function within the check's time limit (:mod:`helpers.checks.time_limit`; any exception becomes
a one-line :class:`_Fail`), :class:`_Cases` collects its answers on several test cases and
judges them together (a wrong type or shape at once, then a diagnosis only when it explains
every case, else a neutral "expected ..., got ..."), :func:`_as_array` refuses anything but real
numbers, and :func:`_check_exact_zeros` and :func:`_fmt` do the rest. A checker returns the
success text or raises :class:`_Fail`; :func:`check_task` turns either into the one or two
lines the learner sees.

Writing a checker: use test cases whose right answers differ (so a constant cannot pass) and
whose known mistakes differ from each other on at least one case (so each can be named); vary
every argument the answer depends on. ``tests/test_checks_mutants.py`` runs a family of wrong
answers against every task.
"""

from __future__ import annotations

import numbers
import re
import warnings
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np

from helpers.checks.time_limit import Guard, TimeUp

__all__ = ["CHECKS", "CheckResult", "check_task", "is_done", "normalize_task_id", "task"]

PASS, FAIL = "✓", "✗"


@dataclass(frozen=True)
class CheckResult:
    """Outcome of :func:`check_task`: ``bool(result)`` is ``passed``; ``repr`` is the message."""

    task_id: str
    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return self.message

    def _ipython_display_(self) -> None:
        """Show nothing: :func:`check_task` already printed the message."""


class _Fail(Exception):
    """A test case failed; ``what`` says what is wrong, ``hint`` what to look at."""

    def __init__(self, what: str, hint: str = ""):
        super().__init__(what)
        self.what, self.hint = what, hint


class _NotDone(Exception):
    """The learner's function still raises a stub's ``NotImplementedError`` (message kept)."""


_GUARD: ContextVar[Guard | None] = ContextVar("_GUARD", default=None)
"""The time limit and interrupt watch of the check running now (None outside a check)."""


# --------------------------------------------------------------------------------------------
# Calling the learner's code and comparing what it returns
# --------------------------------------------------------------------------------------------

def _one_line(text: str, limit: int = 120) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _call(fn, *args, **kwargs):
    """Call the learner's ``fn`` within the check's time limit; every exception becomes one line.

    Inside a check (:func:`check_task`) the call goes through the check's
    :class:`~helpers.checks.time_limit.Guard`: past the time limit it fails with "did not return
    within 10 s". ``SystemExit`` and a ``KeyboardInterrupt`` raised by ``fn`` itself are reported
    like any exception; a real interrupt (Ctrl+C, the kernel's ■) propagates and stops the check.
    """
    guard = _GUARD.get()
    try:
        return fn(*args, **kwargs) if guard is None else guard.run(fn, *args, **kwargs)
    except NotImplementedError as exc:
        raise _NotDone(str(exc)) from None
    except _Fail:
        raise
    except TimeUp:
        raise _Fail(f"your function did not return within {guard.limit:g} s: is there a loop that never ends?",
                    "Run it on a small example in a new cell; if that hangs too, stop it with ■ and check "
                    "when each loop ends.") from None
    except KeyboardInterrupt:
        if guard is None or guard.interrupted:
            raise  # a real interrupt: stop the check, as in any cell
        raise _Fail("your function raised KeyboardInterrupt.",
                    "Hand the result back with `return`; to stop a cell, use the ■ button.") from None
    except SystemExit:
        raise _Fail("your function raised SystemExit (as exit() and sys.exit() do).",
                    "Hand the result back with `return`: exit() ends a script, not a function.") from None
    except Exception as exc:  # the learner's bug, reported in one line
        kind = type(exc).__name__
        msg = _one_line(exc)
        hint = "Run your function on a small example in a new cell to see where it fails."
        if isinstance(exc, TypeError) and ("argument" in msg or "positional" in msg):
            hint = "Keep the function's signature exactly as given in the task."
        elif isinstance(exc, ValueError) and ("shape" in msg or "align" in msg or "broadcast" in msg):
            hint = "Check the shapes: print `X.shape`, `w.shape` and what you multiply."
        elif isinstance(exc, NameError):
            hint = "Run the Setup cell first, and use only names defined there or in your function."
        raise _Fail(f"your function raised {kind}: {msg}", hint) from None
    except BaseException as exc:  # noqa: B036 -- e.g. GeneratorExit: still the learner's, still one line
        raise _Fail(f"your function raised {type(exc).__name__}: {_one_line(exc)}",
                    "Run your function on a small example in a new cell to see where it fails.") from None


def _not_real(x) -> tuple[str, str] | None:
    """``(name, example)`` of an entry ``x`` that is not a real number; None when it is one."""
    if isinstance(x, bool | np.bool_):
        return "True/False values", ""
    if isinstance(x, str | bytes):
        return "text", f" ({_one_line(repr(x), 30)})"
    if isinstance(x, complex | np.complexfloating):
        return "complex numbers", f" ({x.real:.4g}{x.imag:+.4g}j)"
    if isinstance(x, numbers.Real):
        return None
    return ("None", "") if x is None else (f"a {type(x).__name__}", "")


def _entries(items):
    """The entries of nested lists, tuples and arrays, in order, as Python objects."""
    for x in items:
        if isinstance(x, list | tuple):
            yield from _entries(x)
        elif isinstance(x, np.ndarray):
            yield from _entries(x.ravel().tolist())
        else:
            yield x


_NOT_REAL_HINTS = {
    "True/False values": "A comparison gives True or False: return the number itself "
                         "(or count the Trues with np.sum / np.mean).",
    "text": "Return the numbers themselves, not str(...) or an f-string of them.",
    "complex numbers": "Return real numbers: look for a 1j, or a fractional power (** 0.5) of a negative number.",
}


def _as_array(got) -> np.ndarray:
    """The learner's answer as a float array, or :class:`_Fail` saying what it is instead.

    Numbers, arrays and (nested) lists of real numbers pass (integers too, and anything NumPy
    reads as numbers, e.g. a TensorFlow tensor). Refused, each with its own message: ``None``;
    text (never parsed, so ``"0.5"`` is not 0.5); True/False, even one among numbers; complex
    numbers, even with a zero imaginary part; any other object, alone or in a list or array.
    """
    if got is None:
        raise _Fail("your function returned None.", "Add a `return` statement at the end.")
    kind = "NumPy array" if isinstance(got, np.ndarray) else type(got).__name__
    try:
        arr = np.asarray(got)
    except (TypeError, ValueError):  # rows of different lengths, or an object NumPy cannot read
        raise _Fail(f"your function returned a {kind} that is not an array of numbers.",
                    "Return a NumPy array (or a float), as the task says; rows must have equal lengths.") from None
    if arr.dtype.kind in "iuf" and not isinstance(got, list | tuple):  # NumPy reads [0.5, True] as numbers
        return arr.astype(float)
    entries = list(_entries([got])) if arr.ndim or isinstance(got, list | tuple) else [got]
    odd = [(x, name) for x in entries if (name := _not_real(x))]
    whole = len(odd) == len(entries)  # every entry is of the wrong kind, or one among numbers
    if not odd:
        if arr.dtype.kind in "iuf":
            return arr.astype(float)
        odd, whole = [(None, (f"{type(entries[0]).__name__} objects" if entries else f"{arr.dtype} values", ""))], True
    imaginary = [name for x, name in odd if isinstance(x, complex) and x.imag]
    name, example = imaginary[0] if imaginary else odd[0][1]  # show a 1j rather than a +0j
    what = f"{name}{example}, not real numbers" if whole else f"a {kind} holding {name}{example}, not only real numbers"
    raise _Fail(f"your function returned {what}.",
                _NOT_REAL_HINTS.get(name, "Return a NumPy array (or a float), as the task says."))


def _close(a, b, rtol=1e-6, atol=1e-9) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _fmt(x) -> str:
    x = np.asarray(x, dtype=float)
    if x.ndim == 0:
        return f"{float(x):.4g}"
    flat = ", ".join(f"{v + 0.0:.4g}" for v in x.ravel()[:4])  # + 0.0: no "-0"
    return f"[{flat}{', …' if x.size > 4 else ''}]"


def _fmt_pair(expected: float, got: float) -> tuple[str, str]:
    """Two numbers with the fewest significant digits (4 at least) that tell them apart."""
    for digits in range(4, 18):
        a, b = f"{float(expected):.{digits}g}", f"{float(got):.{digits}g}"
        if a != b:
            break
    return a, b


@dataclass
class _Answer:
    """The learner's answer on one test case, with what it is judged against."""

    case: str
    got: np.ndarray
    expected: np.ndarray
    variants: list[tuple[np.ndarray, str, str]]
    n: int | None
    inputs: dict[str, np.ndarray]


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
    every answer is close to its expected value (``rtol``, ``atol``). Otherwise it names a
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
            shape_hint: str = "") -> np.ndarray:
        """Record the answer ``got`` of one case (failing at once on a wrong type or shape)."""
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
                                    n, {k: np.asarray(v, dtype=float) for k, v in (inputs or {}).items()}))
        return arr

    def _right(self, a: _Answer) -> bool:
        return _close(a.got, a.expected, self.rtol, self.atol)

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


# --------------------------------------------------------------------------------------------
# The registry and the entry point
# --------------------------------------------------------------------------------------------

CHECKS: dict[str, tuple[str, Callable]] = {}
"""Task id -> (short title, checker), in task order. Filled by :func:`task` when the lesson
modules are imported (importing :mod:`helpers.checks` imports them all). Checkers return the
success text or raise ``_Fail``."""


def _task_order(tid: str) -> tuple[int, int]:
    lesson, number = tid.split(".")
    return int(lesson), int(number)


def task(task_id, title: str) -> Callable[[Callable], Callable]:
    """Decorator registering a checker as the check of task ``task_id`` in :data:`CHECKS`.

    ``@task("04.2", "a proximal-gradient lasso")`` above ``def _check_04_2(fn): ...``: ``title``
    is shown in the failure messages (``✗ Task 04.2 (a proximal-gradient lasso): ...``).
    ``task_id`` is normalized like :func:`normalize_task_id`; registering an id twice raises
    ``ValueError`` naming both checkers. Returns the checker unchanged.
    """
    tid = normalize_task_id(task_id)

    def register(checker: Callable) -> Callable:
        if tid in CHECKS:
            other = CHECKS[tid][1]
            raise ValueError(f"task_id {tid!r} is registered twice: {other.__module__}.{other.__qualname__} "
                             f"and {checker.__module__}.{checker.__qualname__}")
        CHECKS[tid] = (title, checker)
        ordered = sorted(CHECKS.items(), key=lambda item: _task_order(item[0]))
        CHECKS.clear()
        CHECKS.update(ordered)
        return checker

    return register


def normalize_task_id(task_id) -> str:
    """``"3.2"``, ``"03.2"`` or ``(3, 2)`` -> ``"03.2"``; ``ValueError`` naming ``task_id`` otherwise."""
    if isinstance(task_id, tuple) and len(task_id) == 2:
        lesson, number = task_id
    else:
        match = re.fullmatch(r"\s*(\d{1,2})\.(\d{1,2})\s*", str(task_id))
        if not match:
            raise ValueError(f"task_id must look like '03.2' or (3, 2), got {task_id!r}")
        lesson, number = match.groups()
    try:
        return f"{int(lesson):02d}.{int(number)}"
    except (TypeError, ValueError):
        raise ValueError(f"task_id must look like '03.2' or (3, 2), got {task_id!r}") from None


def _run(task_id, obj) -> CheckResult:
    try:
        tid = normalize_task_id(task_id)
    except ValueError as exc:
        return CheckResult(str(task_id), False, f"{FAIL} {exc}.")
    if tid not in CHECKS:
        known = ", ".join(CHECKS)
        return CheckResult(tid, False, f"{FAIL} Task {tid} has no automatic check (reasoning "
                           f"tasks are compared with the solution notebook).\n  Checked tasks: {known}.")
    title, checker = CHECKS[tid]
    if not callable(obj):
        return CheckResult(tid, False, f"{FAIL} Task {tid} expects your function, got "
                           f"{type(obj).__name__}.\n  Hint: pass the function itself, without "
                           "parentheses: check_task(\"…\", my_function).")
    try:
        with Guard() as guard, warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            token = _GUARD.set(guard)
            try:
                success = checker(obj)
            finally:
                _GUARD.reset(token)
    except _NotDone as stub:
        other = re.match(r"Task (\d\d\.\d+)\b", str(stub))
        if other and other.group(1) != tid:
            return CheckResult(tid, False, f"{FAIL} Task {tid} waits for Task {other.group(1)}: "
                               f"your function calls code of Task {other.group(1)}, not done yet.")
        return CheckResult(tid, False, f"{FAIL} Task {tid} is not done yet: replace the "
                           "`raise NotImplementedError` line with your code.")
    except _Fail as fail:
        text = f"{FAIL} Task {tid} ({title}): {fail.what}"
        if fail.hint:
            text += f"\n  Hint: {fail.hint}"
        return CheckResult(tid, False, text)
    except Exception as exc:  # a bug in a checker must not show a traceback either
        return CheckResult(tid, False, f"{FAIL} Task {tid}: the check itself failed "
                           f"({type(exc).__name__}: {_one_line(exc)}). Please report this.")
    return CheckResult(tid, True, f"{PASS} Task {tid} passed: {success}")


def check_task(task_id, obj, *, quiet: bool = False) -> CheckResult:
    """Run the test cases of task ``task_id`` on the learner's ``obj`` and print the verdict.

    ``task_id`` is ``"LL.k"`` (e.g. ``"03.2"``); ``obj`` is the learner's function. Prints one
    or two lines (``✓ ...`` or ``✗ ... Hint: ...``) unless ``quiet``, and returns a
    :class:`CheckResult` (true when passed). Exceptions raised by the learner's code, including
    the stub's ``NotImplementedError``, ``SystemExit`` and ``KeyboardInterrupt``, become a
    one-line message, never a traceback; so does a function that runs past the time limit
    (:data:`helpers.checks.time_limit.TIME_LIMIT`, 10 s for all its calls in one check). A real
    interrupt (Ctrl+C, the kernel's ■ button) stops the check with ``KeyboardInterrupt``, as in
    any cell.
    """
    result = _run(task_id, obj)
    if not quiet:
        print(result.message)
    return result


def is_done(task_id, obj) -> bool:
    """True when ``obj`` passes task ``task_id``; otherwise prints that the cell is skipped.

    For cells that use the learner's function (e.g. to train the model of Task 05.1): guard
    them with ``if is_done("05.1", build_model):`` so the notebook runs top to bottom before
    the task is done.
    """
    result = _run(task_id, obj)
    if not result:
        print(f"(Skipped until Task {result.task_id} passes its check.)")
    return result.passed
