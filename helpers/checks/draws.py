"""A test case drawn afresh each time a check runs, so that no lookup table can pass.

A checker's fixed cases stay: they carry its named diagnoses, and their messages are the same on
every run. But an answer that recognizes them (by ``k``, by ``len(losses)``, by the input's
bytes) and returns the value it memorized would pass them. So each checker also runs the
learner's function on at least one case drawn from a fresh seed: :func:`drawn` gives its random
generator and the words that name it in a message (``"drawn at random, seed 48213"``, so a
report can be reproduced with :data:`SEED`). A drawn case is appended after the fixed ones: the
first failing case, which the message names, is a fixed one whenever a fixed one fails.

The seed comes from the operating system's entropy (:func:`secrets.randbelow`), not from the
clock, so two checks started in the same instant still draw different cases.

Grading with nbgrader (``coursekit.nbgrader_course``) adds hidden cases the same way:
:func:`check_hidden`, in the hidden part of each autograder test cell, runs the check again with
its drawn case at each of the seeds the teacher's course folder holds (the released notebook
does not show them), and names a failing one without its seed.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import numpy as np

from helpers.checks.core import PASS, CheckResult, check_task

SEED: int | None = None
"""The seed of every drawn case when set (tests, or reproducing a learner's report); fresh when None."""
HIDDEN_WORDS = "drawn for grading"
"""How a message names a hidden case (:func:`check_hidden`): without its seed."""
MAX_HIDDEN = 20
"""At most this many hidden seeds per call (each runs the whole check once)."""
_hidden = False


def drawn() -> tuple[np.random.Generator, str]:
    """``(rng, words)``: the generator of a case drawn for this run, and how a message names it."""
    seed = secrets.randbelow(100_000) if SEED is None else int(SEED)
    return np.random.default_rng(seed), HIDDEN_WORDS if _hidden else f"drawn at random, seed {seed}"


def _check_seeds(seeds) -> list[int]:
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Sequence | np.ndarray):
        raise ValueError(f"seeds must be a list of whole numbers >= 0, got {seeds!r}")
    out = []
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= seed < 2**32:
            raise ValueError(f"seeds must hold whole numbers from 0 to 2**32 - 1, got {seed!r}")
        out.append(int(seed))
    if not 1 <= len(out) <= MAX_HIDDEN:
        raise ValueError(f"seeds must hold 1 to {MAX_HIDDEN} seeds, got {len(out)}")
    return out


def check_hidden(task_id, obj, seeds, *, quiet: bool = False) -> CheckResult:
    """:func:`~helpers.checks.check_task` of task ``task_id`` run once per seed of ``seeds``, its
    drawn case drawn with that seed: the hidden tests of an nbgrader test cell. True when every
    run passes; prints one line (or the first failure's message, its case named "drawn for
    grading", not by its seed) unless ``quiet``.

    ``task_id`` and ``obj`` are taken as ``check_task`` takes them (a mistake is a failing
    result, not an exception); ``seeds``, the teacher's, must be 1 to :data:`MAX_HIDDEN` whole
    numbers from 0 to 2**32 - 1, else ``ValueError`` naming ``seeds``. A learner's ``SEED`` is
    restored afterwards but never used here.
    """
    global SEED, _hidden
    seeds = _check_seeds(seeds)
    saved = SEED, _hidden
    try:
        for number, seed in enumerate(seeds, start=1):
            SEED, _hidden = seed, True
            result = check_task(task_id, obj, quiet=True)
            if not result:  # a fixed case's failure is the visible check's: said as it is
                text = result.message + (f"\n  (hidden case {number} of {len(seeds)}: inputs this notebook does "
                                         "not show)" if HIDDEN_WORDS in result.message else "")
                break
        else:
            text = f"{PASS} Task {result.task_id} passed its {len(seeds)} hidden cases."
    finally:
        SEED, _hidden = saved
    if not quiet:
        print(text)
    return CheckResult(result.task_id, result.passed, text)
