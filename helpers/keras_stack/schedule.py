"""The batch schedule: which points each member's every gradient step sees, and the blocks of steps
that one XLA call runs.

Each member's batch order is its own (a fresh permutation of its training set every epoch, from
``numpy.random.default_rng(seed)``), exactly as one network trained alone would see it
(:func:`batch_schedule`); the schedule is cut into blocks of up to ``chunk`` steps that never
straddle an evaluation of the curves (:func:`step_blocks`).
"""

from __future__ import annotations

import numpy as np

from helpers._counts import check_int, check_seed, check_size
from helpers._validate import check_array
from helpers.keras_stack.config import CHUNK


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Keras's number of batches per epoch: ``ceil(n / batch_size)`` (the last one may be partial)."""
    n = check_int(n, "n", min_value=1, max_value=10**7)
    batch_size = check_int(batch_size, "batch_size", min_value=1, max_value=10**6)
    return -(-n // batch_size)


def batch_schedule(seeds, n: int, batch_size: int = 32, *, epochs: int | None = None,
                   steps: int | None = None) -> np.ndarray:
    """Every member's batches, as indices into its training set: an int32 array of shape
    ``(steps, K, batch_size)``, ``-1`` marking the padding of a partial batch (the last of each
    epoch when ``batch_size`` does not divide ``n``; every batch when ``n < batch_size``).

    Member k's order comes from ``numpy.random.default_rng(seeds[k])`` alone: a fresh
    permutation of ``range(n)`` every epoch, cut into batches of ``batch_size`` in order (the
    epoch's last batch holds the remainder), as ``model.fit(..., shuffle=True)`` does. Give
    ``epochs`` (steps = epochs · ceil(n / batch_size)) or ``steps`` (a fixed number of gradient
    steps, possibly ending inside an epoch).
    """
    seeds = check_array(seeds, "seeds", ndim=1)
    if seeds.size == 0:
        raise ValueError("seeds must hold one seed per member, got none")
    seeds = np.array([check_seed(s, "seeds") for s in seeds], dtype=np.int64)
    spe = steps_per_epoch(n, batch_size)
    n, width = int(n), int(batch_size)
    if (epochs is None) == (steps is None):
        raise ValueError("give exactly one of epochs and steps")
    if epochs is not None:
        steps = check_int(epochs, "epochs", min_value=1, max_value=10**6) * spe
    steps = check_int(steps, "steps", min_value=1, max_value=10**7)
    check_size(-(-steps // spe) * spe * width * len(seeds), "steps")
    n_epochs = -(-steps // spe)
    out = np.full((n_epochs, spe * width, len(seeds)), -1, dtype=np.int32)
    base = np.broadcast_to(np.arange(n, dtype=np.int32), (n_epochs, n))
    for k, seed in enumerate(seeds):
        out[:, :n, k] = np.random.default_rng(int(seed)).permuted(base, axis=1)
    # Within an epoch the batches are consecutive slices of `width`; only the last holds padding.
    return out.reshape(n_epochs * spe, width, len(seeds))[:steps].transpose(0, 2, 1).copy()


def step_blocks(schedule, period: int = 0, chunk: int = CHUNK):
    """Cut a :func:`batch_schedule` ``(steps, K, batch)`` into blocks of at most ``chunk`` steps
    that never straddle a multiple of ``period`` (0: no evaluations), so the curves are recorded
    between blocks exactly where they are due. Returns ``blocks`` ``(n_blocks, chunk, K, batch)``
    (rows past a block's count filled with -1) and ``counts`` ``(n_blocks,)`` int32."""
    schedule = check_array(schedule, "schedule", ndim=3)
    if schedule.size == 0 or np.any(schedule != np.round(schedule)) or schedule.min() < -1:
        raise ValueError("schedule must be a non-empty (steps, K, batch) array of indices >= -1 "
                         "(see batch_schedule)")
    period = check_int(period, "period", min_value=0)
    chunk = check_int(chunk, "chunk", min_value=1, max_value=10**6)
    steps = len(schedule)
    spans, start = [], 0
    while start < steps:
        end = min(start + chunk, steps)
        if period:
            end = min(end, (start // period + 1) * period)
        spans.append((start, end))
        start = end
    blocks = np.full((len(spans), chunk, *schedule.shape[1:]), -1, dtype=np.int32)
    for i, (a, b) in enumerate(spans):
        blocks[i, : b - a] = schedule[a:b]
    return blocks, np.array([b - a for a, b in spans], dtype=np.int32)
