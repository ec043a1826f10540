"""What makes each member of a stack different (its :class:`StackConfig`), and the engine's constants.

Read first (:mod:`helpers.keras_stack` says what the engine is): a stack of ``K`` article networks
is configured by one :class:`StackConfig`, arrays of length ``K`` (kind of penalty, λ, seed,
dropout rate, input noise, max-norm), built by :func:`stack_config` or :func:`stack_grid`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers._counts import check_seed
from helpers._validate import check_array, check_choice, check_float32, check_scalar
from helpers.keras_tools import PENALTIES  # the kinds of penalty (this imports Keras: the engine needs it)

MAX_SEED = 2_000_000  # seed * 1000 + layer must stay a 32-bit integer (helpers.keras_tools.glorot_kernel)
CLIP = 1e-7  # probability clipping of the data loss (Keras's epsilon, helpers.keras_tools.binary_cross_entropy)
POINTS_PER_CALL = 2**22  # inference: at most this many hidden activations (K * points * h) per graph call
CONTRACTIONS = ("einsum", "matmul")
FIELDS = ("kind", "lam", "seed", "dropout", "noise", "max_norm")
WEIGHTS = ("final", "best", "stopped")  # which weights measure() sees after an early-stopping run
FEEDS = ("indices", "batches")
CHUNK = 40  # gradient steps per XLA call (a block of the schedule; see step_blocks)


@dataclass(frozen=True)
class StackConfig:
    """What makes each of the ``K`` members different; arrays of length ``K`` (see :func:`stack_config`)."""

    kind: np.ndarray
    lam: np.ndarray
    seed: np.ndarray
    dropout: np.ndarray
    noise: np.ndarray
    max_norm: np.ndarray

    def __len__(self) -> int:
        return len(self.kind)

    def lam_of(self, kind: str) -> np.ndarray:
        """λ of the members of ``kind``, 0 for the others (float32, the precision of training)."""
        return np.where(self.kind == kind, self.lam, 0.0).astype("float32")

    def take(self, index) -> StackConfig:
        """The members at ``index`` (integer indices, repeats allowed), in that order."""
        return StackConfig(*(getattr(self, f)[index] for f in FIELDS))

    def select(self, **equal) -> np.ndarray:
        """Boolean mask of the members whose fields equal the given values, e.g. ``select(kind="l1")``."""
        mask = np.ones(len(self), dtype=bool)
        for name, value in equal.items():
            if name not in FIELDS:
                raise ValueError(f"select() got an unknown field {name!r}")
            mask &= getattr(self, name) == value
        return mask


def stack_config(kind="none", lam=0.0, seed=0, dropout=0.0, noise=0.0, max_norm=0.0, *,
                 members: int | None = None) -> StackConfig:
    """Per-member settings: each argument is one value for all members or a sequence of ``K``.

    ``kind`` in ``("none", "l1", "l2", "prox")``; ``lam`` λ ≥ 0 (0 for ``"none"``); ``seed`` an
    integer in [0, 2 000 000); ``dropout`` a rate in [0, 1); ``noise`` σ ≥ 0; ``max_norm`` the
    largest norm c > 0 of each hidden unit's incoming weights, or 0 for no constraint.
    ``members`` fixes ``K`` when every argument is a single value. Conventions: module docstring.
    """
    fields = {"kind": kind, "lam": lam, "seed": seed, "dropout": dropout, "noise": noise, "max_norm": max_norm}
    lengths = {name: len(v) for name, v in fields.items() if np.ndim(v) == 1}
    for name, v in fields.items():
        if np.ndim(v) > 1:
            raise ValueError(f"{name} must be one value or a 1-D sequence, got shape {np.shape(v)}")
    if members is not None:
        lengths["members"] = int(check_scalar(members, "members", min_value=1))
    sizes = set(lengths.values())
    if len(sizes) > 1:
        raise ValueError(f"per-member arguments must have the same length, got {lengths}")
    k = sizes.pop() if sizes else 1
    if k == 0:
        empty = [name for name, size in lengths.items() if size == 0]
        raise ValueError(f"{' and '.join(empty)} must not be empty: a stack needs at least one member")
    kinds = np.broadcast_to(np.asarray(kind, dtype=object), (k,)).astype(str)
    for value in set(kinds):
        if value not in PENALTIES:
            raise ValueError(f"kind must be one of {PENALTIES}, got {value!r}")
    lam = np.broadcast_to(check_array(lam, "lam", ndim=(0, 1)), (k,)).copy()
    check_float32(lam, "lam")  # the stack computes in float32: a larger λ would be inf there
    if np.any(lam < 0):
        raise ValueError(f"lam must be >= 0, got {lam[lam < 0][0]!r}")
    if np.any((kinds == "none") & (lam != 0)):
        raise ValueError("lam must be 0 for the members of kind 'none'")
    seeds = np.broadcast_to(check_array(seed, "seed", ndim=(0, 1)), (k,))
    if np.any(seeds != np.round(seeds)) or np.any(seeds < 0) or np.any(seeds >= MAX_SEED):
        raise ValueError(f"seed must hold integers in [0, {MAX_SEED}), got {seed!r}")
    dropout = np.broadcast_to(check_array(dropout, "dropout", ndim=(0, 1)), (k,)).copy()
    if np.any(dropout < 0) or np.any(dropout >= 1):
        raise ValueError(f"dropout must hold rates in [0, 1), got {dropout.tolist()!r}")
    noise = np.broadcast_to(check_array(noise, "noise", ndim=(0, 1)), (k,)).copy()
    if np.any(noise < 0):
        raise ValueError(f"noise must hold standard deviations >= 0, got {noise.tolist()!r}")
    max_norm = np.broadcast_to(check_array(max_norm, "max_norm", ndim=(0, 1)), (k,)).copy()
    if np.any(max_norm < 0):
        raise ValueError(f"max_norm must hold norms > 0 (or 0: no constraint), got {max_norm.tolist()!r}")
    return StackConfig(kind=kinds, lam=lam, seed=seeds.astype(np.int64), dropout=dropout, noise=noise,
                       max_norm=max_norm)


def stack_grid(runs, seeds) -> StackConfig:
    """Every ``(kind, lam)`` of ``runs`` with every seed of ``seeds``, run-major: member
    ``i * len(seeds) + j`` is run ``i`` with seed ``seeds[j]``. E.g. lesson 05's table:
    ``stack_grid([("none", 0), ("l1", 1e-3), ("l2", 1e-3), ("prox", 1e-3)], range(5))``."""
    if isinstance(runs, (str, bytes)) or not hasattr(runs, "__iter__"):
        raise ValueError(f"runs must be a sequence of (kind, lam) pairs, got {runs!r}")
    runs = list(runs)
    for i, run in enumerate(runs):
        if not isinstance(run, (tuple, list)) or len(run) != 2:
            raise ValueError(f"runs[{i}] must be a (kind, lam) pair, got {run!r}")
        check_choice(run[0], f"runs[{i}] kind", PENALTIES)
        check_scalar(run[1], f"runs[{i}] lam")
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise ValueError(f"seeds must be a sequence of integers, got {seeds!r}")
    seeds = [check_seed(s, "seeds") for s in seeds]
    if not runs or not seeds:
        raise ValueError("runs and seeds must not be empty")
    kinds = [kind for kind, _ in runs for _ in seeds]
    lams = [lam for _, lam in runs for _ in seeds]
    return stack_config(kinds, lams, seeds * len(runs))
