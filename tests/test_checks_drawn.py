"""Each check also runs the learner's function on a case drawn afresh (``helpers.checks.draws``):
the reference solutions pass whatever the draw, and an answer that memorized the expected values
keyed on its inputs passes the fixed cases but fails the drawn one."""

from __future__ import annotations

import numpy as np
import pytest
from test_checks import _task_function

from helpers.checks import CHECKS, check_task, draws

SEEDS = range(20)


@pytest.fixture(scope="module")
def references():
    return {task_id: _task_function(task_id) for task_id in CHECKS}


@pytest.mark.parametrize("seed", SEEDS)
def test_the_reference_solutions_pass_on_every_draw(seed, references, monkeypatch):
    monkeypatch.setattr(draws, "SEED", seed)
    for task_id, ref in references.items():
        result = check_task(task_id, ref, quiet=True)
        assert result.passed, f"seed {seed}: {result.message}"


def _key(value) -> bytes:
    """What a lookup table could key an argument on: its bytes, whatever the object."""
    if hasattr(value, "get_weights"):  # a Keras model: its weights
        return b"model" + b"".join(np.asarray(w).tobytes() for w in value.get_weights())
    if isinstance(value, (np.ndarray, list, tuple)):
        array = np.asarray(value)
        return repr(array.shape).encode() + array.tobytes()
    return repr(value).encode()


def _lookup_table(ref):
    """An answer that returns what ``ref`` returned for the same inputs when it was recorded,
    and the first value it recorded for inputs it has never seen."""
    table: dict[bytes, object] = {}
    state = {"recording": True}

    def answer(*args):
        key = b"|".join(_key(a) for a in args)
        if state["recording"]:
            table[key] = ref(*args)
        return table.get(key, next(iter(table.values())))
    return answer, state


@pytest.mark.parametrize("task_id", list(CHECKS))
def test_a_lookup_table_of_the_answers_fails_the_drawn_case(task_id, references, monkeypatch):
    answer, state = _lookup_table(references[task_id])
    monkeypatch.setattr(draws, "SEED", 1)
    assert check_task(task_id, answer, quiet=True).passed  # recorded
    state["recording"] = False
    assert check_task(task_id, answer, quiet=True).passed  # replayed on the same draw: the fixed cases pass
    monkeypatch.setattr(draws, "SEED", 2)
    message = check_task(task_id, answer, quiet=True).message
    assert message.startswith(f"✗ Task {task_id}") and "drawn at random, seed 2" in message, message
