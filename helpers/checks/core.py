"""The machinery of :mod:`helpers.checks`: the registry, the entry points and the diagnoses.

A lesson's checks live in their own module ``helpers/checks/lessonNN.py``; each checker is
registered with :func:`task` and built from the tools of :mod:`helpers.checks.answers` and
:mod:`helpers.checks.cases` (importable from here too): :func:`_call` runs the learner's
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

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from helpers.checks.answers import (  # noqa: F401 (the tools the lesson modules import from here)
    _GUARD,
    _as_array,
    _call,
    _close,
    _Fail,
    _fmt,
    _fmt_pair,
    _NotDone,
    _one_line,
)
from helpers.checks.cases import _Cases, _check_exact_zeros  # noqa: F401
from helpers.checks.time_limit import Guard

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
