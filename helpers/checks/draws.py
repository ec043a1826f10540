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
"""

from __future__ import annotations

import secrets

import numpy as np

SEED: int | None = None
"""The seed of every drawn case when set (tests, or reproducing a learner's report); fresh when None."""


def drawn() -> tuple[np.random.Generator, str]:
    """``(rng, words)``: the generator of a case drawn for this run, and how a message names it."""
    seed = secrets.randbelow(100_000) if SEED is None else int(SEED)
    return np.random.default_rng(seed), f"drawn at random, seed {seed}"
