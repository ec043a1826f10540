"""Instant feedback for the assignment notebooks: ``check_task("03.2", weight_decay_step)``.

Every code task of ``assignments/NN_<topic>_assignment.ipynb`` has a checker in this package, in
the module of its lesson (``helpers/checks/lessonNN.py``). A checker runs the learner's function
on a few fixed test cases whose right answers differ, then on one case drawn afresh for each run
(:mod:`helpers.checks.draws`: no lookup table of the fixed cases' answers passes), compares with
reference values computed there, and answers in one or two lines: passed, or what is wrong
(wrong shape, wrong sign, a factor of 2, a missing 1/n, n − 1 for n, near-zeros where exact
zeros were expected, |w| where w² was meant, the same answer whatever the input, ...) followed
by a hint; a mistake is named only when it explains every test case, else the message says what
was expected and what came. Only real numbers count as answers (not text, True/False or complex
numbers). The learner's code gets 10 s per check (:mod:`helpers.checks.time_limit`). It never
shows a traceback and never shows the solution.

Task ids are strings ``"LL.k"``: lesson ``LL`` (two digits), task ``k`` of that lesson's
assignment; ``"3.2"`` and ``(3, 2)`` are accepted too. Reasoning tasks have no checker (their
answers are compared with the solution notebook in ``assignments/solutions/``).

``check_task`` prints its message (prefixed with ✓ or ✗) and returns a :class:`CheckResult`,
which is true when the task passed and whose ``repr`` is the message; in a notebook the result
does not display a second time. Introduced in every assignment notebook.
When a teacher grades with nbgrader (``coursekit.nbgrader_course``), each task's autograder test
cell runs the same ``check_task``, then :func:`helpers.checks.draws.check_hidden`: the check
again with its drawn case at seeds only the teacher's folder holds (hidden cases).

Adding a lesson's checks: write ``helpers/checks/lessonNN.py`` with one function per code task,
decorated with ``@task("NN.k", "short title")`` (see :mod:`helpers.checks.core` for the tools).
Importing this package imports every ``lessonNN`` module it finds, so nothing else needs an
edit; ``tests/test_checks.py`` fails until every ``## Task NN.k · Code`` of the solution
notebooks has its checker, and ``tests/test_checks_mutants.py`` until every checker has its
family of wrong answers (each must fail with the message it deserves), and
``tests/test_checks_drawn.py`` until its drawn case passes every draw of the solution.
"""

from __future__ import annotations

import importlib
import pkgutil
import re

from helpers.checks.core import CHECKS, CheckResult, check_task, is_done, normalize_task_id, task

# Kept importable from here for learners' copies of assignment 04 made before it moved (their
# ``my_work/`` copies are never overwritten); its home is helpers.sparsity.
from helpers.sparsity import lasso_step_size as lasso_step_size

__all__ = ["CHECKS", "CheckResult", "check_task", "is_done", "normalize_task_id", "task"]

LESSON_MODULE = re.compile(r"lesson\d\d")
"""The modules of this package that hold a lesson's checks (imported, so registered, here)."""

for _module in pkgutil.iter_modules(__path__):
    if LESSON_MODULE.fullmatch(_module.name):
        importlib.import_module(f"{__name__}.{_module.name}")
