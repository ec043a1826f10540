r"""Lesson 05's protocol: many training sets, every method on each, one stacked ``fit``.

A *training set* here is a fresh sample of ``n`` points from the same generator as the shipped
moons (:func:`helpers.data.make_moons_2d`, noise 0.3); the validation set (500 points, to choose
λ) and the test set (1000 points, only to report) stay fixed. The shipped training set is the
first one (it was drawn from that generator with seed 201). Every method (a penalty kind and λ,
see :mod:`helpers.keras_stack`) is trained on every training set, from the same initial weights
and batch order per set (the member's seed is the set's number), so methods are compared by
**paired differences** over training sets (:func:`helpers.stats.paired_difference`): what a
different sample of 100 points changes, not only what another initialization changes.

:class:`Design` lays the members out (set-major: all methods of set 0, then of set 1, ...);
:func:`run_design` trains them in one :meth:`helpers.keras_stack.StackedMLP.run` and measures
them on the training, validation and test sets; :class:`Results` reads the numbers back by
method, and picks λ per training set on the validation set (:meth:`Results.tuned`: the test
set never chooses).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers._counts import check_int, check_seed
from helpers._validate import check_array, check_choice, check_scalar, check_xy
from helpers.data import make_moons_2d
from helpers.stats import choose_by_validation, take_chosen

SPLITS = ("train", "val", "test")
METRICS = ("accuracy", "data_loss", "objective", "penalty")
FIRST_SEED = 1000  # training set s (s >= 1) is make_moons_2d(n, 0.3, seed=FIRST_SEED + s)


def training_sets(n_sets: int, n: int = 100, *, first=None, first_seed: int = FIRST_SEED):
    """``(X, y)`` of ``n_sets`` training sets of ``n`` points, shapes ``(S, n, 2)`` and ``(S, n)``.

    Set ``s`` is ``make_moons_2d(n, noise=0.3, seed=first_seed + s)``; ``first`` (an ``(X, y)``
    pair of ``n`` points, e.g. the shipped training set) replaces set 0.
    """
    n_sets = check_int(n_sets, "n_sets", min_value=1, max_value=10_000)
    n = check_int(n, "n", min_value=2, max_value=100_000)
    first_seed = check_seed(first_seed, "first_seed")
    sets = [make_moons_2d(n, noise=0.3, seed=first_seed + s) for s in range(n_sets)]
    if first is not None:
        if not isinstance(first, (tuple, list)) or len(first) != 2:
            raise ValueError(f"first must be an (X, y) pair, got {type(first).__name__}")
        X0, y0 = check_xy(first[0], first[1], "first[0]", "first[1]")
        if X0.shape != (n, 2) or y0.shape != (n,):
            raise ValueError(f"first must be (X, y) of shapes ({n}, 2) and ({n},), got {X0.shape} and {y0.shape}")
        sets[0] = (X0, y0)
    return np.stack([X for X, _ in sets]), np.stack([y for _, y in sets])


@dataclass(frozen=True)
class Design:
    """Every method on every training set: ``methods`` is a list of ``(kind, λ)``; member
    ``s * len(methods) + m`` trains method ``m`` on set ``s`` with seed ``s``."""

    methods: tuple[tuple[str, float], ...]
    X: np.ndarray  # (S, n, 2)
    y: np.ndarray  # (S, n)

    @property
    def n_sets(self) -> int:
        return len(self.X)

    @property
    def members(self) -> int:
        return self.n_sets * len(self.methods)

    def config(self):
        """The :class:`helpers.keras_stack.StackConfig` of the members."""
        from helpers.keras_stack import stack_config

        kinds = [kind for _ in range(self.n_sets) for kind, _ in self.methods]
        lams = [lam for _ in range(self.n_sets) for _, lam in self.methods]
        seeds = np.repeat(np.arange(self.n_sets), len(self.methods))
        return stack_config(kind=kinds, lam=lams, seed=seeds)

    def member_data(self):
        """Each member's training set: ``(X, y)`` of shapes ``(K, n, 2)``, ``(K, n)``."""
        return np.repeat(self.X, len(self.methods), axis=0), np.repeat(self.y, len(self.methods), axis=0)

    def index(self, kind: str, lam: float) -> int:
        """The position of method ``(kind, lam)`` in :attr:`methods`."""
        for m, (k, l) in enumerate(self.methods):
            if k == kind and np.isclose(l, lam, rtol=1e-9, atol=0.0):
                return m
        raise ValueError(f"kind and lam must name a method of the design, got ({kind!r}, {lam!r}); "
                         f"methods: {list(self.methods)}")


def design(methods, X, y) -> Design:
    """A :class:`Design` of ``methods`` (``[(kind, λ), ...]``) on the training sets ``X``, ``y``."""
    from helpers.keras_stack import PENALTIES

    if isinstance(methods, (str, bytes)) or not hasattr(methods, "__iter__"):
        raise ValueError(f"methods must be a sequence of (kind, lam) pairs, got {methods!r}")
    checked = []
    for i, method in enumerate(methods):
        if not isinstance(method, (tuple, list)) or len(method) != 2:
            raise ValueError(f"methods[{i}] must be a (kind, lam) pair, got {method!r}")
        kind = check_choice(method[0], f"methods[{i}] kind", PENALTIES)
        checked.append((kind, check_scalar(method[1], f"methods[{i}] lam")))
    if not checked:
        raise ValueError("methods must not be empty")
    X, y = check_array(X, "X", ndim=3), check_array(y, "y", ndim=2)
    if X.ndim != 3 or X.shape[2] != 2 or y.shape != X.shape[:2]:
        raise ValueError(f"X and y must be training sets of shapes (S, n, 2) and (S, n), got {X.shape} and {y.shape}")
    return Design(tuple(checked), X, y)


class Results:
    """What :func:`run_design` measured, read back by method: arrays over training sets."""

    def __init__(self, design: Design, measures: dict):
        self.design = design
        self.measures = measures  # {"train": ..., "val": ..., "test": ...} from StackedMLP.measure
        self.kernels = None  # the trained hidden kernels, filled by run_design

    def _rows(self, kind: str, lam: float) -> np.ndarray:
        m = self.design.index(kind, lam)
        return np.arange(self.design.n_sets) * len(self.design.methods) + m

    def get(self, split: str, metric: str, kind: str, lam: float) -> np.ndarray:
        """``metric`` of method ``(kind, lam)`` on ``split``, one value per training set."""
        split = check_choice(split, "split", SPLITS)
        metric = check_choice(metric, "metric", METRICS)
        return np.asarray(self.measures[split][metric], dtype=float)[self._rows(kind, lam)]

    def counts(self, kind: str, lam: float, what: str = "zeros") -> np.ndarray:
        """Exactly-zero (``"zeros"``) or small (``"small"``) hidden weights, ``(S, 2)`` per layer."""
        what = check_choice(what, "what", ("zeros", "small"))
        return np.asarray(self.measures["train"][what])[self._rows(kind, lam)]

    def member(self, kind: str, lam: float, s: int = 0) -> int:
        """The member that trained ``(kind, lam)`` on set ``s``."""
        return int(self._rows(kind, lam)[check_int(s, "s", max_value=self.design.n_sets - 1)])

    def tuned(self, kind: str, lams, split: str = "test", metric: str = "accuracy"):
        """λ chosen per training set on the **validation** accuracy among ``lams`` (ties: the
        smallest λ), and ``metric`` on ``split`` at that λ: ``(values (S,), chosen λ (S,))``."""
        lams = [check_scalar(lam, "lams") for lam in lams]
        if not lams:
            raise ValueError("lams must not be empty")
        val = np.stack([self.get("val", "accuracy", kind, lam) for lam in lams], axis=1)
        chosen = choose_by_validation(val)  # ties: the first (smallest) λ
        values = np.stack([self.get(split, metric, kind, lam) for lam in lams], axis=1)
        return take_chosen(values, chosen), np.asarray(lams)[chosen]


def run_design(stack, design: Design, val, test, *, epochs: int | None = None,
               steps: int | None = None, grid=None) -> Results:
    """Train every member of ``design`` in one ``stack.run`` (``epochs`` or a fixed number of
    ``steps``) and measure it on its own training set, on ``val`` and on ``test`` (``(X, y)``
    pairs shared by all members); with ``grid``, P(class 1) on those points too
    (``results.measures["test"]["proba_grid"]``)."""
    if stack.members != design.members:
        raise ValueError(f"stack must hold {design.members} members (the design's), got {stack.members}")
    X, y = design.member_data()
    stack.run(design.config(), X, y, epochs=epochs, steps=steps)
    measures = {"train": stack.measure(X, y), "val": stack.measure(*val),
                "test": stack.measure(*test, grid=grid)}
    results = Results(design, measures)
    results.kernels = stack.hidden_kernels()
    return results
