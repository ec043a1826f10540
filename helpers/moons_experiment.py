r"""Lesson 05's protocol: many training sets, every method on each, one stacked ``fit``.

A *training set* here is a fresh sample of ``n`` points from the same generator as the shipped
moons (:func:`helpers.data.make_moons_2d`, noise 0.3); the validation set (500 points, to choose
λ) and the test set stay fixed. The test set is :func:`large_test_set`: 100 000 points drawn once
from the same generator (issue 25), so that its own sampling error is negligible and an interval
over training sets is the whole uncertainty; the shipped 1000-point test set can be measured
beside it (``run_design(..., more_tests=...)``). A large test set is measured in chunks of
:data:`CHUNK` points, and its accuracy is also kept per block of :data:`BLOCK` points (100
independent test sets of the shipped size: how much the choice of a 1000-point test set moves a
result, :func:`helpers.stats.test_set_spread`). The shipped training set is the
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

Lesson 06 adds methods without a penalty: a :class:`Method` is a penalty kind and λ plus a
dropout rate, an input-noise σ and a max-norm c (lesson 05's ``(kind, λ)`` pairs still work and
mean the same); :func:`run_design` with ``patience`` also measures every member early-stopped on
the validation loss (:attr:`Results.readouts`: ``"final"``, ``"best"``, ``"stopped"``), and
:meth:`Results.choose` picks, per training set, the best of any list of methods on validation.
:func:`jittered_sets` builds the augmented training sets (each point plus jittered copies).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy.special import expit

from helpers._counts import check_int, check_seed, check_size
from helpers._validate import check_array, check_choice, check_scalar, check_xy, finite_result
from helpers.data import make_moons_2d
from helpers.stats import choose_by_validation, take_chosen

SPLITS = ("train", "val", "test")
READOUTS = ("final", "best", "stopped")  # the weights measured: end of training, early-stopped (restored or not)
METRICS = ("accuracy", "data_loss", "objective", "penalty")
FIRST_SEED = 1000  # training set s (s >= 1) is make_moons_2d(n, 0.3, seed=FIRST_SEED + s)
TEST_SIZE = 100_000  # points of the large test set
TEST_SEED = 99_999  # its seed: no training set uses it
CHUNK = 10_000  # a large test set is measured this many points at a time
BLOCK = 1_000  # and its accuracy kept per block of this many points (the shipped test set's size)


def large_test_set(n: int = TEST_SIZE, seed: int = TEST_SEED):
    """``(X, y)``: a test set of ``n`` points drawn once from the training sets' generator,
    ``make_moons_2d(n, noise=0.3, seed=seed)``; by default 100 000 points, so that the test set's
    own sampling error is negligible (the shipped test set has 1000). Lesson 05."""
    n = check_int(n, "n", min_value=2, max_value=10_000_000)
    return make_moons_2d(n, noise=0.3, seed=check_seed(seed, "seed"))


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


def jittered_sets(X, y, copies: int, sigma: float, seed: int = 0):
    """Data augmentation by jitter: each training set ``X`` ``(S, n, 2)`` followed by ``copies``
    copies of itself with Gaussian noise of standard deviation ``sigma`` added to every
    coordinate (labels unchanged): shapes ``(S, n (1 + copies), 2)`` and ``(S, n (1 + copies))``.
    The copies are drawn once (``numpy.random.default_rng(seed)``), unlike input noise, which
    draws new noise at every step. Lesson 06."""
    X, y = check_array(X, "X", ndim=3), check_array(y, "y", ndim=2)
    if X.shape[2] != 2 or y.shape != X.shape[:2]:
        raise ValueError(f"X and y must be training sets of shapes (S, n, 2) and (S, n), got {X.shape} and {y.shape}")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("y must hold the labels 0 and 1 (the moons' two classes)")
    copies = check_int(copies, "copies", min_value=0, max_value=1000)
    sigma = check_scalar(sigma, "sigma")
    check_size(X.size * (1 + copies), "copies")
    rng = np.random.default_rng(check_seed(seed, "seed"))
    noisy = X[:, None] + sigma * rng.standard_normal((X.shape[0], copies, *X.shape[1:]))
    X_all = np.concatenate([X[:, None], noisy], axis=1).reshape(X.shape[0], -1, 2)
    return X_all, np.tile(y, (1, 1 + copies))


class Method(NamedTuple):
    """One training recipe: penalty ``kind`` and ``lam`` (as :func:`helpers.keras_stack.stack_config`),
    ``dropout`` rate, input ``noise`` σ and ``max_norm`` c (0: none). ``str`` gives a label."""

    kind: str = "none"
    lam: float = 0.0
    dropout: float = 0.0
    noise: float = 0.0
    max_norm: float = 0.0

    def __str__(self) -> str:
        parts = [] if self.kind == "none" else [f"{self.kind.upper()} λ={self.lam:g}"]
        parts += [f"{name} {value:g}" for name, value in (("dropout", self.dropout), ("noise σ", self.noise),
                                                          ("max-norm", self.max_norm)) if value]
        return " + ".join(parts) or "none"


def method(kind="none", lam=0.0, *, dropout=0.0, noise=0.0, max_norm=0.0, name: str = "method") -> Method:
    """A validated :class:`Method`; ``kind`` may also be a ``Method`` or a ``(kind, λ)`` pair
    (lesson 05's form). ``name`` is the argument named in error messages."""
    from helpers.keras_stack import PENALTIES

    if isinstance(kind, tuple) and not isinstance(kind, Method):
        if len(kind) != 2:
            raise ValueError(f"{name} must be a Method or a (kind, lam) pair, got {kind!r}")
        kind, lam = kind
    if isinstance(kind, Method):
        kind, lam, dropout, noise, max_norm = kind
    kind = check_choice(kind, f"{name} kind", PENALTIES)
    lam = check_scalar(lam, f"{name} lam")
    if kind == "none" and lam != 0:
        raise ValueError(f"{name} lam must be 0 for kind 'none', got {lam!r}")
    dropout = check_scalar(dropout, f"{name} dropout", max_value=0.99)
    return Method(kind, lam, dropout, check_scalar(noise, f"{name} noise"), check_scalar(max_norm, f"{name} max_norm"))


@dataclass(frozen=True)
class Design:
    """Every method on every training set: ``methods`` is a list of :class:`Method`; member
    ``s * len(methods) + m`` trains method ``m`` on set ``s`` with seed ``s``."""

    methods: tuple[Method, ...]
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

        fields = {name: [getattr(m, name) for _ in range(self.n_sets) for m in self.methods]
                  for name in Method._fields}
        return stack_config(**fields, seed=np.repeat(np.arange(self.n_sets), len(self.methods)))

    def member_data(self):
        """Each member's training set: ``(X, y)`` of shapes ``(K, n, 2)``, ``(K, n)``."""
        return np.repeat(self.X, len(self.methods), axis=0), np.repeat(self.y, len(self.methods), axis=0)

    def index(self, kind, lam: float = 0.0, **fields) -> int:
        """The position in :attr:`methods` of ``(kind, lam)`` with the given ``dropout``, ``noise``,
        ``max_norm`` (default 0), or of ``kind`` if it is a :class:`Method`."""
        wanted = kind if isinstance(kind, Method) else Method(kind, lam, **fields)
        for m, candidate in enumerate(self.methods):
            if candidate.kind == wanted.kind and np.allclose(candidate[1:], wanted[1:], rtol=1e-9, atol=0.0):
                return m
        raise ValueError(f"kind and lam must name a method of the design, got {wanted!r}; "
                         f"methods: {[str(m) for m in self.methods]}")


def design(methods, X, y) -> Design:
    """A :class:`Design` of ``methods`` (:class:`Method` or lesson 05's ``(kind, λ)`` pairs) on
    the training sets ``X``, ``y``."""
    if isinstance(methods, (str, bytes, Method)) or not hasattr(methods, "__iter__"):
        raise ValueError(f"methods must be a sequence of (kind, lam) pairs or Methods, got {methods!r}")
    checked = []
    for i, m in enumerate(methods):
        if isinstance(m, list):
            m = tuple(m)
        if not isinstance(m, tuple):
            raise ValueError(f"methods[{i}] must be a (kind, lam) pair or a Method, got {m!r}")
        checked.append(method(m, name=f"methods[{i}]"))
    if len(set(checked)) < len(checked):
        raise ValueError("methods must not repeat a method")
    if not checked:
        raise ValueError("methods must not be empty")
    X, y = check_array(X, "X", ndim=3), check_array(y, "y", ndim=2)
    if X.ndim != 3 or X.shape[2] != 2 or y.shape != X.shape[:2]:
        raise ValueError(f"X and y must be training sets of shapes (S, n, 2) and (S, n), got {X.shape} and {y.shape}")
    return Design(tuple(checked), X, y)


class Results:
    """What :func:`run_design` measured, read back by method: arrays over training sets.

    A method is named as ``(kind, lam)`` with optional ``dropout=``, ``noise=``, ``max_norm=``
    (lesson 05's calls), or by a :class:`Method` in place of ``kind``. ``weights`` picks the
    readout: ``"final"`` (the end of training; :attr:`measures`) or, after a run with
    ``patience``, ``"best"`` / ``"stopped"`` (early stopping with or without
    ``restore_best_weights``; :attr:`readouts`)."""

    def __init__(self, design: Design, measures: dict, readouts: dict | None = None):
        self.design = design
        self.measures = measures  # {"train": ..., "val": ..., "test": ...} from StackedMLP.measure
        self.readouts = {"final": measures, **(readouts or {})}
        self.kernels = None  # the trained hidden kernels, filled by run_design
        self.run = {}  # what StackedMLP.run returned (curves, early-stopping epochs), filled by run_design

    def _rows(self, kind, lam: float = 0.0, **fields) -> np.ndarray:
        m = self.design.index(kind, lam, **fields)
        return np.arange(self.design.n_sets) * len(self.design.methods) + m

    def _readout(self, weights: str) -> dict:
        weights = check_choice(weights, "weights", READOUTS)
        if weights not in self.readouts:
            raise ValueError(f"weights={weights!r} needs run_design(..., patience=...)")
        return self.readouts[weights]

    def get(self, split: str, metric: str, kind, lam: float = 0.0, *, weights: str = "final", **fields) -> np.ndarray:
        """``metric`` of a method on ``split`` (``"train"``, ``"val"``, ``"test"`` or a name of
        ``run_design``'s ``more_tests``), one value per training set."""
        readout = self._readout(weights)
        split = check_choice(split, "split", tuple(readout))
        metric = check_choice(metric, "metric", METRICS)
        return np.asarray(readout[split][metric], dtype=float)[self._rows(kind, lam, **fields)]

    def blocks(self, kind, lam: float = 0.0, *, split: str = "test", weights: str = "final", **fields) -> np.ndarray:
        """Accuracy of a method on each block of :data:`BLOCK` points of a large test ``split``,
        ``(S, n_blocks)``: the method measured on many independent test sets of the shipped size."""
        readout = self._readout(weights)
        split = check_choice(split, "split", tuple(readout))
        if "accuracy_blocks" not in readout[split]:
            raise ValueError(f"split={split!r} was not measured in blocks (a test set of at most {CHUNK} points)")
        return np.asarray(readout[split]["accuracy_blocks"], dtype=float)[self._rows(kind, lam, **fields)]

    def counts(self, kind, lam: float = 0.0, what: str = "zeros", **fields) -> np.ndarray:
        """Exactly-zero (``"zeros"``) or small (``"small"``) hidden weights, ``(S, 2)`` per layer."""
        what = check_choice(what, "what", ("zeros", "small"))
        return np.asarray(self.measures["train"][what])[self._rows(kind, lam, **fields)]

    def member(self, kind, lam: float = 0.0, s: int = 0, **fields) -> int:
        """The member that trained the method on set ``s``."""
        return int(self._rows(kind, lam, **fields)[check_int(s, "s", max_value=self.design.n_sets - 1)])

    def run_values(self, key: str, kind, lam: float = 0.0, **fields) -> np.ndarray:
        """A per-member array of the run (``results.run[key]``, e.g. ``"best_epoch"``,
        ``"stop_epoch"``; ``"curve_val"`` gives ``(n_evals, S)``) for one method, over training sets."""
        if key not in self.run or np.ndim(self.run[key]) == 0 or key == "curve_epochs":
            keys = [k for k in self.run if np.ndim(self.run[k]) and k not in ("curve_epochs", "snapshots")]
            raise ValueError(f"key must be one of {keys}, got {key!r}")
        return np.asarray(self.run[key])[..., self._rows(kind, lam, **fields)]

    def tuned(self, kind: str, lams, split: str = "test", metric: str = "accuracy"):
        """λ chosen per training set on the **validation** accuracy among ``lams`` (ties: the
        smallest λ), and ``metric`` on ``split`` at that λ: ``(values (S,), chosen λ (S,))``."""
        lams = [check_scalar(lam, "lams") for lam in lams]
        if not lams:
            raise ValueError("lams must not be empty")
        values, chosen = self.choose([(kind, lam) for lam in lams], split, metric)
        return values, np.asarray(lams)[chosen]

    def choose(self, methods, split: str = "test", metric: str = "accuracy", weights: str = "final"):
        """Per training set, the method of ``methods`` (Methods or ``(kind, λ)`` pairs, e.g. the
        dropout rates) with the best **validation** accuracy (ties: the first), and ``metric`` on
        ``split`` for it: ``(values (S,), index into methods (S,))``. The test set never chooses.
        Lesson 06."""
        if isinstance(methods, (str, bytes, Method)) or not hasattr(methods, "__iter__"):
            raise ValueError(f"methods must be a sequence of Methods or (kind, lam) pairs, got {methods!r}")
        methods = [method(m, name="methods") for m in methods]
        if not methods:
            raise ValueError("methods must not be empty")
        val = np.stack([self.get("val", "accuracy", m, weights=weights) for m in methods], axis=1)
        chosen = choose_by_validation(val)  # ties: the first
        values = np.stack([self.get(split, metric, m, weights=weights) for m in methods], axis=1)
        return take_chosen(values, chosen), chosen


def _measure(stack, X, y, grid=None, on_chunk=None) -> dict:
    """``stack.measure`` on points shared by all members; more than :data:`CHUNK` points are
    measured a chunk at a time (without the per-point ``proba``), with the accuracy of each block
    of :data:`BLOCK` points kept as ``accuracy_blocks`` ``(K, n // BLOCK)``."""
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2 or len(X) <= CHUNK:  # per-member points (training sets), or few shared ones
        out = stack.measure(X, y, grid=grid)
        if on_chunk is not None:
            on_chunk(X.shape[-2])
        return out
    total, parts, blocks = len(X), [], []
    for start in range(0, total, CHUNK):
        X_c, y_c = X[start:start + CHUNK], y[start:start + CHUNK]
        got = stack.measure(X_c, y_c, grid=grid if start == 0 else None)
        correct = (got.pop("proba") >= 0.5) == (y_c == 1)
        whole = len(y_c) // BLOCK * BLOCK
        blocks.append(correct[:, :whole].reshape(len(correct), -1, BLOCK).mean(axis=2))
        parts.append((len(y_c), got))
        if on_chunk is not None:
            on_chunk(len(y_c))
    out = dict(parts[0][1])
    for key in ("accuracy", "data_loss"):
        out[key] = sum(n * part[key] for n, part in parts) / total
    out["objective"] = out["data_loss"] + out["penalty"]
    out["accuracy_blocks"] = np.concatenate(blocks, axis=1)
    return out


def run_design(stack, design: Design, val, test, *, epochs: int | None = None,
               steps: int | None = None, grid=None, every: int | None = None,
               patience: int | None = None, snapshots=None, more_tests=None,
               readouts=("best", "stopped"), progress: str | None = None) -> Results:
    """Train every member of ``design`` in one ``stack.run`` (``epochs`` or a fixed number of
    ``steps``) and measure it on its own training set, on ``val`` and on ``test`` (``(X, y)``
    pairs shared by all members; a test set of more than :data:`CHUNK` points, such as
    :func:`large_test_set`, is measured in chunks and also per block of :data:`BLOCK` points,
    :meth:`Results.blocks`); with ``grid``, P(class 1) on those points too
    (``results.measures["test"]["proba_grid"]``). ``more_tests``: other test sets, ``{name: (X, y)}``
    (e.g. the shipped 1000 points), measured with the final weights under their names.

    With ``every`` (epochs), the training and validation data-loss curves are recorded
    (``results.run``); with ``patience`` (epochs), every member is also early-stopped on its
    validation loss and measured with the weights of each of ``readouts``: ``"best"`` (restored)
    and ``"stopped"`` (not restored) (``results.readouts``; lesson 06); ``snapshots`` (member
    indices) keeps their weights at every evaluation.

    ``progress``: a description, e.g. ``"main experiment"``: a bar under the cell (in a notebook,
    :class:`helpers.progress.Progress`) shows the parts trained, the chunks measured and the time
    left, and is closed at the end.

    ``stack``: a :class:`helpers.keras_stack.StackedMLP` or :class:`~helpers.keras_stack.StackShards`
    holding the design's members, or a list of ``StackedMLP`` (a pool: the design is cut into
    parts that they train in turn, as ``StackShards(pool, members=design.members)``)."""
    from helpers.progress import Progress

    if isinstance(stack, (list, tuple)):
        from helpers.keras_stack import StackShards

        stack = StackShards(stack, members=design.members)
    if stack.members != design.members:
        raise ValueError(f"stack must hold {design.members} members (the design's), got {stack.members}")
    if more_tests is None:
        more_tests = {}
    if not isinstance(more_tests, dict) or any(not isinstance(k, str) or k in SPLITS for k in more_tests):
        raise ValueError(f"more_tests must map new split names (not {SPLITS}) to (X, y) pairs, got {more_tests!r}")
    if isinstance(readouts, str) or not set(readouts) <= {"best", "stopped"}:
        raise ValueError(f"readouts must be a sequence of 'best' and 'stopped', got {readouts!r}")
    X, y = design.member_data()
    readouts = tuple(readouts) if patience is not None else ()
    steps_each = steps if steps is not None else (epochs or 0) * -(-X.shape[1] // 32)
    training_cost = 96.0 * design.members * steps_each  # a step of 32 points costs ~96 point-passes
    points = X.shape[1] + len(val[0])
    measure_points = (1 + len(readouts)) * (points + len(test[0])) + sum(len(t[0]) for t in more_tests.values())
    total = training_cost + design.members * measure_points
    # without a description the bar is never shown, but it still counts (one code path)
    bar = Progress(total, progress or "run_design", show=None if progress else False)
    done = 0.0

    def trained(parts_done, parts):
        nonlocal done
        done = training_cost * parts_done / parts
        bar.update(done, f"{design.members} networks trained: part {parts_done} of {parts}")

    def measured(n_points):
        nonlocal done
        done += design.members * n_points
        bar.update(done, "measuring")

    def measure_all(with_grid=False):
        return {"train": _measure(stack, X, y, on_chunk=measured), "val": _measure(stack, *val, on_chunk=measured),
                "test": _measure(stack, *test, grid=grid if with_grid else None, on_chunk=measured)}

    with bar:
        curves = {} if every is None else {"X_val": val[0], "y_val": val[1], "every": every}
        kwargs = {"progress": trained} if hasattr(stack, "plan") else {}  # StackShards report each part
        run = stack.run(design.config(), X, y, epochs=epochs, steps=steps, patience=patience, snapshots=snapshots,
                        **curves, **kwargs)
        measures = measure_all(with_grid=True)
        for name, (X_t, y_t) in more_tests.items():
            measures[name] = _measure(stack, X_t, y_t, on_chunk=measured)
        measured_readouts = {}
        for which in readouts:
            stack.use_weights(which)
            measured_readouts[which] = measure_all()
        if readouts:
            stack.use_weights("final")
    results = Results(design, measures, measured_readouts)
    results.kernels = stack.hidden_kernels()
    results.run = run
    return results


@finite_result("X", "weights", action="predict", hint="rescale {name}")
def predict_stacked(weights, X) -> np.ndarray:
    """P(class 1) of many article networks at once, in NumPy (float32, as Keras): ``weights`` in
    ``keras.Sequential`` order (kernel1, bias1, kernel2, bias2, kernel3, bias3), each stacked over
    F networks (e.g. the ``snapshots`` of :meth:`helpers.keras_stack.StackedMLP.run`, reshaped to
    ``(F, ...)``); ``X`` points ``(m, 2)``. Returns ``(F, m)``. Lesson 06 (the epoch explorer)."""
    if not isinstance(weights, (list, tuple)) or len(weights) != 6:
        raise ValueError("weights must be a list of 6 stacked arrays (kernel1, bias1, ..., bias3)")
    k1, b1, k2, b2, k3, b3 = (check_array(w, f"weights[{i}]").astype("float32") for i, w in enumerate(weights))
    X = check_array(X, "X", ndim=2).astype("float32")
    f, h = k1.shape[0], k1.shape[-1] if k1.ndim == 3 else 0
    if (k1.shape != (f, 2, h) or b1.shape != (f, h) or k2.shape != (f, h, h) or b2.shape != (f, h)
            or k3.shape != (f, h, 1) or b3.shape != (f, 1) or X.shape[1] != 2):
        raise ValueError(f"weights must be stacked article networks (F, 2, h), (F, h), (F, h, h), (F, h), "
                         f"(F, h, 1), (F, 1) and X (m, 2); got {[w.shape for w in weights]} and {X.shape}")
    check_size(f * len(X), "X")
    chunk = max(1, 2**21 // max(1, len(X) * h))  # networks per pass: at most ~2M hidden activations
    out = np.empty((f, len(X)))
    for i in range(0, f, chunk):
        part = slice(i, i + chunk)
        a = np.maximum(X @ k1[part] + b1[part, None], 0)
        a = np.maximum(a @ k2[part] + b2[part, None], 0)
        out[part] = expit((a @ k3[part])[..., 0] + b3[part])  # the sigmoid, without overflow
    return out
