"""The rule of every ``helpers`` function, checked on generated input (Hypothesis).

CONTRIBUTING.md ("helpers"): whatever a public function is given, it either returns finite
results (numbers and arrays with no NaN/inf) or raises a ``ValueError`` whose message names one
of its arguments. No other exception type escapes, and no warning: warnings are errors here
(except the documented ``ConvergenceWarning`` of the lasso solvers when ``max_iter`` runs out).

Each public function of each ``helpers`` module (found by reading the modules' source, so a new
one is seen without importing it) is either in :data:`SPECS`, which says how to generate its
arguments, or in :data:`EXCLUDED` with the reason; ``test_every_public_function_is_covered_or_excluded``
fails otherwise. For each covered function the generated calls start from good arguments (small
finite arrays of consistent shapes, numbers in range) and replace some of them with bad ones:
wrong types and shapes, NaN/inf, huge and tiny values, negatives, 0-d arrays, complex numbers,
strings, booleans, empty and ragged arrays, values past a bound. The examples are derandomized
(the "ci" profile of tests/conftest.py), so a failure reproduces; ``HYPOTHESIS_PROFILE=explore``
draws new ones, and ``PROPERTY_EXAMPLES=10`` draws ten times as many (to hunt, not for CI).
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import math
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.exceptions import ConvergenceWarning

import helpers
from helpers._validate import all_finite

HELPERS = Path(helpers.__file__).resolve().parent
EXAMPLES_FACTOR = float(os.environ.get("PROPERTY_EXAMPLES", "1"))

# --------------------------------------------------------------------------------------------
# Exclusions, each with its reason
# --------------------------------------------------------------------------------------------

IN_GRAPH = ("a building block of helpers.keras_stack.StackedMLP (a Keras layer or optimizer, or a TensorFlow "
            "function on tensors inside its compiled training step), given only what StackedMLP validated; "
            "tested in tests/test_keras_stack.py")
DATA = ("reads or writes the data folder (its failures are DataFileError with the command that "
        "repairs it); tested in tests/test_data.py")
CHECKS = ("the grader's contract is different: check_task reports a learner's mistake as a CheckResult, "
          "it does not raise; tested in tests/test_checks*.py")
TOOLING = ("the start notebook's environment check (its inputs are a requirements file and the installed "
           "packages, not data); tested in tests/test_environment.py")
RECORD = "an exception class or a record (dataclass) with no validation of its own"
TRAINING = "trains a Keras model (compiles a graph, seconds per call): too slow for this test"
NO_ARGUMENTS = "takes no arguments: there is no input to validate"
LAYOUT = ("declares a plotted series that may leave its axes, for the course's figure layout check "
          "(coursekit.layout): its inputs are a matplotlib artist and a reason; tested in tests/test_figure_layout.py")


def _names(module: str, names: str, reason: str) -> dict[str, str]:
    return {f"{module}.{name}": reason for name in names.split()}


EXCLUDED: dict[str, str] = {
    **_names("helpers.data", "data_dir read_manifest write_all verified_bytes verify_data load_curve_1d "
             "load_moons_2d load_sparse_100", DATA),
    **_names("helpers.data", "DataFileError Dataset", RECORD),
    "helpers.blit.send_whole_picture": ("takes any canvas and leaves one that is not a web canvas alone "
                                        "(no input is wrong); tested in tests/test_blit.py and the browser test"),
    "helpers.plots.send_frames_as_png": ("takes any canvas and leaves one that is not ipympl's alone "
                                         "(no input is wrong); tested in tests/test_blit.py"),
    **_names("helpers.bias_variance", "Decomposition", RECORD),
    **_names("helpers.keras_stack", "NonFiniteTraining", RECORD),
    **_names("helpers.checks", "task normalize_task_id check_task is_done", CHECKS),
    **_names("helpers.checks", "CheckResult", RECORD),
    **_names("helpers.checks.draws", "drawn", NO_ARGUMENTS),
    "helpers.checks.draws.check_hidden": ("check_task's contract for the learner's task_id and obj (a failing "
                                          "CheckResult, never an exception); the teacher's seeds raise ValueError "
                                          "naming seeds; tested in tests/test_nbgrader.py"),
    **_names("helpers.checks.time_limit", "Guard", CHECKS),
    **_names("helpers.checks.time_limit", "TimeUp", RECORD),
    **_names("helpers.environment", "pinned_requirements python_problem check_environment", TOOLING),
    **_names("helpers.plots", "allow_outside", LAYOUT),
    **_names("helpers.progress", "in_notebook", "a question about the running kernel: no arguments"),
    **_names("helpers.keras_env", "quiet_tensorflow_defaults import_keras", NO_ARGUMENTS),
    **_names("helpers.keras_tools", "fit_fast fit_plain", TRAINING),
    **_names("helpers.keras_decay", "train_full_batch", TRAINING),
    **_names("helpers.keras_stack", "StackedDense StackedProxAdam member_uniform member_normal member_dropout "
             "member_input_noise", IN_GRAPH),
    **_names("helpers.keras_stack", "StackConfig", RECORD),
    **_names("helpers.moons_experiment", "run_design", TRAINING),
    **_names("helpers.moons_experiment", "Design Results Method", RECORD),
    **_names("helpers.stats", "PairedDifference", RECORD),
    **_names("helpers.classification", "breast_cancer", NO_ARGUMENTS),
    **_names("helpers.lasso_selection", "diabetes", NO_ARGUMENTS),
}
"""Public functions and classes not under the property, with the reason. Private modules
(``helpers._validate``, ``helpers._counts``: the checks themselves, whose messages name the
``name`` they are given) are not public."""


def _exported(init: Path) -> set[str]:
    """The names a package's ``__init__.py`` lists in its ``__all__`` (read from the source)."""
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return set(ast.literal_eval(node.value))
    return set()


def public_names() -> set[str]:
    """``module.name`` of every public top-level function and class of every public module of
    ``helpers``, read from the source (no import: no TensorFlow, no JupyterLab). A name that a
    subpackage re-exports (``helpers.keras_stack``'s modules) is named as the lessons import it:
    ``helpers.keras_stack.StackedMLP``, not ``helpers.keras_stack.model.StackedMLP``."""
    found = set()
    for path in sorted(HELPERS.rglob("*.py")):
        parts = path.relative_to(HELPERS.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if any(part.startswith("_") for part in parts):
            continue
        init = path.parent / "__init__.py"
        exported = _exported(init) if path.parent != HELPERS and path.name != "__init__.py" else set()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                    and not node.name.startswith("_")):
                module = parts[:-1] if node.name in exported else parts
                found.add(f"{'.'.join(module)}.{node.name}")
    return found


# --------------------------------------------------------------------------------------------
# Argument kinds: a good value, and bad values derived from it
# --------------------------------------------------------------------------------------------

NAN, INF = math.nan, math.inf
# Not numbers (or not the number meant), whatever the argument.
NOT_NUMBERS = [None, "abc", "0.5", b"1", True, False, 1 + 2j, np.array(True), np.array("0.5"),
               np.array(1 + 1j), np.array(0.5, dtype=object), {}, (), object()]
BAD_REALS = [NAN, INF, -INF, -1.0, -1, 0.0, 0, 1e308, -1e308, 5e-324, 1e-300, 1e300, -1e-300,
             10**400, -(10**400), 2**64, np.float32(3.4e38), np.array([0.5]), [0.5]]
BAD_COUNTS = [-1, 2.5, 0.5, NAN, INF, 10**9, 2**63, 10**400, 1e9, np.array(2.5), np.float64(3.5),
              np.array([3]), [3]]

GOOD_FLOATS = st.floats(-10, 10, allow_subnormal=False)
ELEMENTS = st.one_of(GOOD_FLOATS, st.just(0.0), st.integers(-3, 3).map(float))


class Kind:
    """How to draw one argument: ``good(dims, ctx)`` and ``bad(good, dims, ctx)`` strategies."""

    def good(self, dims, ctx):
        raise NotImplementedError

    def bad(self, good, dims, ctx):
        raise NotImplementedError


def _wrap_scalar(value):
    """The same number as a Python number, a NumPy scalar or a 0-d array (all must be accepted)."""
    return st.sampled_from([value, np.float64(value), np.array(value)])


@dataclass
class Num(Kind):
    lo: float = -10.0
    hi: float = 10.0

    def good(self, dims, ctx):
        return st.floats(self.lo, self.hi, allow_subnormal=False).flatmap(_wrap_scalar)

    def bad(self, good, dims, ctx):
        g = float(good)
        return st.one_of(st.sampled_from(NOT_NUMBERS + BAD_REALS), st.floats(),
                         st.sampled_from([-abs(g) - 1.0, g * 1e300, complex(g, 1), str(g)]))


def _fractional(value) -> bool:
    """A real number that is not whole (2.5, np.float64(3.5), a 0-d array of 0.5)."""
    try:
        number = float(np.asarray(value)) if np.ndim(value) == 0 and not isinstance(value, (bool, str, bytes)) \
            else None
    except (TypeError, ValueError, OverflowError):
        return False
    return number is not None and math.isfinite(number) and number != round(number)


@dataclass
class Int(Kind):
    lo: int = 0
    hi: int = 10
    dim: str | None = None  # take the good value from this dimension

    def good(self, dims, ctx):
        base = st.just(dims[self.dim]) if self.dim else st.integers(self.lo, self.hi)
        return base.flatmap(lambda v: st.sampled_from([v, np.int64(v), float(v), np.array(v)]))

    def bad(self, good, dims, ctx):
        g = int(good)
        return st.sampled_from(NOT_NUMBERS + BAD_COUNTS + [self.lo - 1, g + 0.5, str(g)])

    def must_refuse(self, value) -> bool:
        """A whole number is meant: a fractional one may never be truncated silently (issue 26:
        format_interval(digits=2.5), member_weights(0.5))."""
        return _fractional(value)


class Bool(Kind):
    def good(self, dims, ctx):
        return st.sampled_from([True, False, np.bool_(True), np.bool_(False)])

    def bad(self, good, dims, ctx):
        return st.sampled_from(["no", "yes", "True", 0, 1, 1.0, None, np.array([True]), [True]])


@dataclass
class Choice(Kind):
    options: tuple

    def good(self, dims, ctx):
        return st.sampled_from(self.options)

    def bad(self, good, dims, ctx):
        first = self.options[0]
        return st.sampled_from(["bogus", "", None, 1, 2.5, first.upper(), np.array(first), [first],
                                np.array([1, 2]), (first,)])


def _resolve(shape, dims) -> tuple[int, ...]:
    return tuple(dims[s] if isinstance(s, str) else s for s in shape)


def _nonfinite(arr: np.ndarray, value: float, index: int) -> np.ndarray:
    out = np.array(arr, dtype=float)
    if out.size:
        out.flat[index % out.size] = value
    return out


def _array_mutations(arr: np.ndarray):
    """Bad versions of a good array: values, dtypes, shapes."""
    arr = np.asarray(arr, dtype=float)
    options = [
        np.array(1.0), np.zeros((0,) + arr.shape[1:]), arr[..., None], arr.ravel()[:1].reshape(()),
        arr * 1e300, arr * 1e200 + 1e200, arr * 1e-300, -np.abs(arr) - 1.0, np.full(arr.shape, 1e308),
        arr.astype(complex) + 1j, arr.astype(str), arr > 0, np.array(arr.tolist() + [None], dtype=object)
        if arr.ndim == 1 else arr.astype(object), [[1.0, 2.0], [3.0]], None, "abc", 1.0, True,
    ]
    if arr.ndim >= 1 and arr.shape[0] > 1:
        options.append(arr[:-1])
    if arr.ndim >= 2:
        options += [arr.ravel(), arr.T if arr.shape[0] != arr.shape[1] else arr[:, :-1], arr[..., :-1]]
    nonfinite = st.tuples(st.sampled_from([NAN, INF, -INF]), st.integers(0, 1000)).map(
        lambda t: _nonfinite(arr, *t))
    anything = hnp.arrays(np.float64, arr.shape, elements=st.floats()) if arr.size else st.nothing()
    return st.one_of(st.sampled_from(options), nonfinite, anything)


@dataclass
class Arr(Kind):
    shape: tuple
    elements: st.SearchStrategy = ELEMENTS
    post: object = None  # a function applied to the drawn array (e.g. sort it)
    as_list: bool = True  # also pass it as a nested list

    def good(self, dims, ctx):
        arrays = hnp.arrays(np.float64, _resolve(self.shape, dims), elements=self.elements)
        if self.post is not None:
            arrays = arrays.map(self.post)
        if self.as_list:
            return arrays.flatmap(lambda a: st.sampled_from([a, a.tolist()]))
        return arrays

    def bad(self, good, dims, ctx):
        return _array_mutations(good)


def increasing(a: np.ndarray) -> np.ndarray:
    """Strictly increasing values from any array (for λ grids, limits, bin edges)."""
    return np.cumsum(np.abs(a) + 0.5) - 1.0


def centred_increasing(a: np.ndarray) -> np.ndarray:
    """Strictly increasing values around 0 (histogram edges with a zero bin)."""
    b = increasing(a)
    return b - (b[0] + b[-1]) / 2 if b.size > 1 else b


@dataclass
class Opt(Kind):
    """``None`` or a value of ``kind``."""
    kind: Kind

    def good(self, dims, ctx):
        return st.one_of(st.none(), self.kind.good(dims, ctx))

    def bad(self, good, dims, ctx):
        if good is None:
            return self.kind.good(dims, ctx).flatmap(lambda g: self.kind.bad(g, dims, ctx))
        return self.kind.bad(good, dims, ctx)


class Weights(Kind):
    """One array or a list of arrays (the kernels of several layers)."""

    def good(self, dims, ctx):
        one = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, max_side=4), elements=ELEMENTS)
        return st.one_of(one, st.lists(one, min_size=1, max_size=3))

    def bad(self, good, dims, ctx):
        first = good[0] if isinstance(good, list) else good
        return st.one_of(_array_mutations(first), _array_mutations(first).map(lambda b: [first, b]),
                         st.sampled_from([[], [[1.0, 2.0], "abc"], [None]]))


@dataclass
class SPD(Kind):
    """A symmetric positive-definite matrix of size ``size`` (a Hessian, a Gram matrix)."""
    size: object = 2

    def good(self, dims, ctx):
        p = _resolve((self.size,), dims)[0]
        return st.tuples(hnp.arrays(np.float64, (p, p), elements=st.floats(-3, 3)),
                         st.floats(0.1, 2)).map(lambda t: t[0] @ t[0].T + t[1] * np.eye(p))

    def bad(self, good, dims, ctx):
        good = np.asarray(good)
        nonsymmetric = good + np.triu(np.ones_like(good), 1)
        return st.one_of(_array_mutations(good), st.sampled_from([-good, np.zeros_like(good), nonsymmetric]))


@dataclass
class Lazy:
    """A bad value built only when drawn (a Keras model: no TensorFlow import for the others)."""
    make: object


@dataclass
class Obj(Kind):
    """An object the test builds (a figure, a model): ``make(dims, ctx)`` returns it or a strategy
    for it; ``bads`` are wrong ones (:class:`Lazy` for those costly to build)."""
    make: object
    bads: list = field(default_factory=list)

    def good(self, dims, ctx):
        value = self.make(dims, ctx)
        return value if isinstance(value, st.SearchStrategy) else st.just(value)

    def bad(self, good, dims, ctx):
        return st.sampled_from(self.bads + [None, 3, "abc", np.zeros(2), object()]).map(
            lambda b: b.make() if isinstance(b, Lazy) else b)


@dataclass
class Seq(Kind):
    """A tuple of 0-2 values of ``kind`` for a ``*args`` parameter."""
    kind: Kind

    def good(self, dims, ctx):
        return st.lists(self.kind.good(dims, ctx), max_size=2).map(tuple)

    def bad(self, good, dims, ctx):
        base = good[0] if good else None
        if base is None:
            return self.kind.good(dims, ctx).flatmap(lambda g: self.kind.bad(g, dims, ctx).map(lambda b: (b,)))
        return self.kind.bad(base, dims, ctx).map(lambda b: (b,) + tuple(good[1:]))


@dataclass
class Funcs(Kind):
    """A callable argument: good ones, and bad ones (not callable, or returning what is not a number)."""
    goods: list
    bads: list

    def good(self, dims, ctx):
        return st.sampled_from(self.goods)

    def bad(self, good, dims, ctx):
        return st.sampled_from(self.bads)


# --------------------------------------------------------------------------------------------
# Shared objects the arguments need: figures, Keras models, a fitted path, a dataset
# --------------------------------------------------------------------------------------------

def _agg_figure(n_axes: int = 1) -> Figure:
    fig = Figure(figsize=(2, 2), dpi=30)
    FigureCanvasAgg(fig)
    fig.subplots(1, n_axes)
    return fig


def _figure(dims, ctx):
    """One figure per example, shared by the arguments that refer to it (Blitter's artists)."""
    if "fig" not in ctx:
        fig = _agg_figure()
        (line,) = fig.axes[0].plot([0, 1], [0, 1])
        ctx.update(fig=fig, artists=[line], labels=[fig.axes[0].title])
    return ctx["fig"]


def _drawn_figure(dims, ctx):
    fig = _agg_figure()
    fig.canvas.draw()
    return fig


@functools.cache
def _keras_models() -> dict:
    from helpers.keras_decay import linear_model
    from helpers.keras_tools import build_mlp

    return {"tunable": build_mlp("l1", 0.01, hidden=4, tunable=True),
            "prox": build_mlp("prox", 0.01, hidden=4),
            "plain": build_mlp("none", hidden=4),
            "linear": linear_model([1.0, -2.0], 0.5)}


def _model(which):
    return lambda dims, ctx: _keras_models()[which]


def _mlp(dims, ctx):
    """One of the build_mlp models (tunable l1, prox, no penalty)."""
    return st.sampled_from(["tunable", "prox", "plain"]).map(lambda which: _keras_models()[which])


@functools.cache
def _tiny_stack():
    from helpers.keras_stack import StackedMLP

    return StackedMLP(2, 3)


@functools.cache
def _path():
    from helpers.penalized_path import PenalizedPath

    x = np.linspace(0.0, 1.0, 12)
    return PenalizedPath(x, np.sin(6 * x), x[::2] + 0.01, np.cos(6 * x[::2]), degree=3, n_grid=20)


@functools.cache
def _dd_path():
    from helpers.double_descent import DoubleDescentPath

    x = np.linspace(0.0, 1.0, 6)
    return DoubleDescentPath(x, np.sin(6 * x), x[::2] + 0.05, np.cos(6 * x[::2]), [2, 6, 9],
                             [0.0, 0.1, 1.0], n_grid=20)


def _dd_grid_value(which):
    """A p or λ of :func:`_dd_path`'s grid (as the widget's sliders hold them)."""
    return lambda dims, ctx: st.sampled_from([float(v) for v in getattr(_dd_path(), which)])


def _sweep_dict(dims, ctx):
    """A dict shaped like double_descent_sweep's result: (draws, ps, λ) tables and the λ grid."""
    shape = (dims["k"], dims["p"], dims["L"])
    tables = hnp.arrays(np.float64, shape, elements=st.floats(0, 10))
    return st.tuples(tables, tables, hnp.arrays(np.float64, (dims["L"],), elements=st.floats(0, 10))).map(
        lambda t: {"ps": np.arange(1, dims["p"] + 1), "lams": t[2], "val_mse": t[0], "test_mse": t[1]})


_BAD_SWEEPS = [{}, {"lams": [1.0], "val_mse": np.ones((2, 2)), "test_mse": np.ones((2, 2))},
               {"lams": [1.0, 2.0], "val_mse": np.ones((1, 2, 3)), "test_mse": np.ones((1, 2, 3))},
               {"lams": [1.0], "val_mse": np.ones((1, 1, 1)), "test_mse": np.ones((1, 2, 1))},
               {"lams": ["a"], "val_mse": np.ones((1, 1, 1)), "test_mse": np.ones((1, 1, 1))},
               {"lams": [1.0], "val_mse": np.full((1, 1, 1), np.nan), "test_mse": np.ones((1, 1, 1))}]


@functools.cache
def _dataset():
    from helpers.data import Dataset

    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.5, -0.5], [-1.0, 0.5]])
    y = np.array([0.0, 1.0, 1.0, 0.0])
    return Dataset("tiny", X, y, X, y, X, y)


def _no_data():
    from helpers.data import Dataset

    X, y = np.ones((2, 2)), np.array([0.0, 1.0])
    return [Dataset("no val", X, y, X, y), Dataset("3 columns", np.ones((2, 3)), y, X, y, X, y)]


def _adam(dims, ctx):
    from helpers.keras_env import import_keras

    return import_keras().optimizers.Adam(1e-3)


def _stacked_weights(dims, ctx):
    """Two stacked article networks with 3 hidden units (helpers.moons_experiment.predict_stacked)."""
    rng = np.random.default_rng(0)
    shapes = [(2, 2, 3), (2, 3), (2, 3, 3), (2, 3), (2, 3, 1), (2, 1)]
    return [rng.standard_normal(shape) for shape in shapes]


def _first_set(dims, ctx):
    """A training set of ``n`` points, the ``n`` passed beside it (the shipped set in lesson 05)."""
    n = dims["n"]
    return (np.linspace(-1.0, 1.0, 2 * n).reshape(n, 2), np.arange(n) % 2.0)


def _sq(w):
    return float(np.asarray(w) @ np.asarray(w))


def _sin_sum(w):
    return float(np.sin(w).sum())


def _text(w):
    return "abc"


def _nan(w):
    return math.nan


def _array(w):
    return np.asarray(w) * 2


def _huge(w):
    return float(np.sum(w)) * 1e308


# --------------------------------------------------------------------------------------------
# What to generate for each covered function
# --------------------------------------------------------------------------------------------

@dataclass
class Spec:
    args: dict  # parameter name -> Kind (in call order; "*name" for a *args parameter)
    examples: int = 30
    then: tuple | None = None  # the result is a function: call it with (name, Kind)
    allow: object = None  # (kwargs, result) -> True where a documented non-finite result is expected


X = Arr(("n", "p"))
Y = Arr(("n",))
P_ = Arr(("p",))
NUM = Num()
NONNEG = Num(0.0, 10.0)
POSITIVE = Num(1e-3, 10.0)
UNIT = Num(0.0, 1.0)
LAMS = Arr(("k",), elements=st.floats(0, 10))
TOL = Num(1e-8, 1e-2)
ITERS = Int(1, 30)
SEED = Int(0, 2**32 - 1)
W_HAT = Arr((2,))
HESSIAN = SPD(2)
LIMITS = Arr((2,), post=increasing)
LABELS_01 = Arr(("n",), elements=st.sampled_from([0.0, 1.0]))


@dataclass
class Classes(Arr):
    """Labels of two classes, 0 and 1, both present, where a classifier is fitted or classes are
    meant: one class only, or labels other than 0/1, must be refused (issue 26: fit_logistic_l2 fitted
    one-class labels to an intercept of -33; jittered_sets kept labels 2 and 0.5)."""

    def good(self, dims, ctx):
        n = _resolve(self.shape, dims)[-1]
        if n < 2:
            return st.nothing()
        return super().good(dims, ctx).map(lambda y: _both_classes(y))

    def bad(self, good, dims, ctx):
        y = np.asarray(good, dtype=float)
        return st.one_of(super().bad(good, dims, ctx),
                         st.sampled_from([np.zeros_like(y), np.ones_like(y), np.where(y == 1, 2.0, 0.0),
                                          np.where(y == 1, 0.5, 0.0)]))

    def must_refuse(self, value) -> bool:
        try:
            y = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            return False
        return y.size >= 2 and np.all(np.isfinite(y)) and (
            not np.all((y == 0) | (y == 1)) or np.unique(y).size < 2)


def _both_classes(y):
    """``y`` with its first label 0 and its last label 1 (along its last axis), as a list if it was one."""
    arr = np.array(y, dtype=float)
    arr[..., 0], arr[..., -1] = 0.0, 1.0
    return arr.tolist() if isinstance(y, list) else arr
PROBS = Arr(("n",), elements=st.floats(0, 1))
MODEL_BADS = [np.zeros((2, 2)), "model"]
FEATURE_COUNTS = Arr(("k",), st.integers(1, 4).map(float), post=np.cumsum)  # increasing whole numbers >= 1
LINEAR_MODEL = Lazy(lambda: _keras_models()["linear"])  # a Keras model without build_mlp's layers


POS_FLOATS = st.floats(0.01, 10)


def _alternate(a: np.ndarray) -> np.ndarray:
    """Labels 0, 1, 0, 1, ...: both classes, in every stratified fold."""
    return np.arange(a.size) % 2.0


BOTH_LABELS = Arr(("n",), elements=st.just(0.0), post=_alternate)


def _half_life_inf(kw, result):
    return result == math.inf and float(kw["lr"]) * float(kw["lam"]) == 0.0


def _selection_nan(kw, result):
    """precision is NaN exactly when nothing is selected, recall exactly when the truth is empty."""
    precision, recall = result
    coef, truth = np.asarray(kw["coef"], dtype=float), np.asarray(kw["true_coef"], dtype=float)
    return (math.isnan(precision) == (not coef.any())) and (math.isnan(recall) == (not truth.any()))


def _selection_path_nan(kw, result):
    precision, recall, _ = result
    path, truth = np.asarray(kw["path"], dtype=float), np.asarray(kw["true_coef"], dtype=float)
    return (np.array_equal(np.isnan(precision), ~path.any(axis=1))
            and bool(np.all(np.isnan(recall) == (not truth.any()))))


def _method(*args, **kwargs):
    from helpers.moons_experiment import Method

    return Method(*args, **kwargs)


SPECS: dict[str, Spec] = {
    # penalties
    "helpers.penalties.l1_penalty": Spec({"weights": Weights(), "lam": NONNEG}),
    "helpers.penalties.l2_penalty": Spec({"weights": Weights(), "lam": NONNEG}),
    "helpers.penalties.l1_grad": Spec({"w": Y, "lam": NONNEG}),
    "helpers.penalties.l2_grad": Spec({"w": Y, "lam": NONNEG}),
    "helpers.penalties.weight_decay_step": Spec({"w": P_, "grad_loss": P_, "lr": Num(0, 1), "lam": NONNEG,
                                                 "n": Int(10, 1000)}),
    "helpers.penalties.soft_threshold": Spec({"z": Y, "t": NONNEG}),
    # linear
    "helpers.linear.center": Spec({"X": X, "y": Y, "fit_intercept": Bool()}),
    "helpers.linear.ridge_fit": Spec({"X": X, "y": Y, "lam": NONNEG, "fit_intercept": Bool()}),
    "helpers.linear.lasso_kkt_violation": Spec({"X": X, "y": Y, "coef": P_, "intercept": NUM, "lam": NONNEG}),
    "helpers.linear.lasso_fit": Spec({"X": X, "y": Y, "lam": NONNEG, "fit_intercept": Bool(), "tol": TOL,
                                      "max_iter": ITERS, "coef_init": Opt(P_)}),
    "helpers.linear.coordinate_descent": Spec({"X": X, "y": Y, "l1": NONNEG, "l2": NONNEG,
                                               "fit_intercept": Bool(), "tol": TOL, "max_iter": ITERS,
                                               "coef_init": Opt(P_), "caller": Choice(("a_solver",))}),
    "helpers.linear.polynomial_features": Spec({"x": Y, "degree": Int(1, 8)}),
    "helpers.linear.mse": Spec({"y_true": Y, "y_pred": Y}),
    "helpers.linear.ridge_path_by_lambda": Spec({"X": X, "y": Y, "lams": LAMS, "fit_intercept": Bool()}),
    "helpers.linear.ridge_prediction_matrix": Spec({"X": X, "X_new": Arr(("m", "p")), "lam": NONNEG,
                                                    "fit_intercept": Bool()}),
    # data generators
    "helpers.data.true_curve": Spec({"x": Y}),
    "helpers.data.make_curve_1d": Spec({"n": Int(1, 50), "noise": NONNEG, "seed": SEED}),
    "helpers.data.make_moons_2d": Spec({"n": Int(2, 50), "noise": NONNEG, "seed": SEED}),
    "helpers.data.make_sparse_regression": Spec({"n": Int(1, 30), "n_features": Int(3, 8),
                                                 "n_informative": Int(0, 3), "noise": NONNEG,
                                                 "seed": SEED}),
    "helpers.data.generate": Spec({"name": Choice(("curve_1d.csv", "moons_2d.csv"))}),
    # weight decay
    "helpers.weight_decay.linear_mse": Spec({"X": X, "y": Y, "w": P_, "b": NUM}),
    "helpers.weight_decay.linear_mse_grad": Spec({"X": X, "y": Y, "w": P_, "b": NUM}),
    "helpers.weight_decay.mse_plus_l2_over_2n": Spec({"X": X, "y": Y, "w": P_, "b": NUM, "lam": NONNEG}),
    "helpers.weight_decay.mse_plus_l2_over_2n_grad": Spec({"X": X, "y": Y, "w": P_, "b": NUM, "lam": NONNEG}),
    "helpers.weight_decay.finite_difference_grad": Spec({
        "f": Funcs([np.sum, _sq, _sin_sum], [None, 3, "sum", _text, _nan, _array, _huge]),
        "w": P_, "eps": TOL}),
    "helpers.weight_decay.decay_curve": Spec({"w0": P_, "lr": Num(0, 1), "lam": NONNEG, "n": Int(10, 1000),
                                              "steps": Int(0, 20)}),
    "helpers.weight_decay.decay_half_life": Spec({"lr": Num(0, 1), "lam": NONNEG, "n": Int(10, 1000)},
                                                 allow=_half_life_inf),
    "helpers.weight_decay.l2_equivalents": Spec({"lam": POSITIVE, "n": Int(1, 1000)}),
    "helpers.weight_decay.adam_update": Spec({"w": P_, "grad": P_, "m": P_, "v": Arr(("p",), st.floats(0, 10)),
                                              "t": Int(1, 100), "lr": Num(0, 1), "beta_1": Num(0, 0.99),
                                              "beta_2": Num(0, 0.999), "epsilon": Num(1e-8, 1e-3)}),
    "helpers.weight_decay.adam_l2_update": Spec({"w": P_, "grad_loss": P_, "m": P_,
                                                 "v": Arr(("p",), st.floats(0, 10)), "t": Int(1, 100),
                                                 "lr": Num(0, 1), "weight_decay": NONNEG}),
    "helpers.weight_decay.adamw_update": Spec({"w": P_, "grad_loss": P_, "m": P_,
                                               "v": Arr(("p",), st.floats(0, 10)), "t": Int(1, 100),
                                               "lr": Num(0, 1), "weight_decay": NONNEG}),
    "helpers.weight_decay.train_linear_adam": Spec({"X": X, "y": Y, "w0": P_, "steps": Int(0, 20),
                                                    "lr": Num(0, 1), "weight_decay": NONNEG,
                                                    "mode": Choice(("none", "l2", "decoupled"))}),
    # sparsity
    "helpers.sparsity.ridge_orthonormal": Spec({"w_ols": P_, "lam": NONNEG}),
    "helpers.sparsity.lasso_orthonormal": Spec({"w_ols": P_, "lam": NONNEG}),
    "helpers.sparsity.orthonormal_design": Spec({"n": Int(1, 8), "p": Int(1, 4), "seed": SEED}),
    "helpers.sparsity.ridge_from_ols": Spec({"gram": SPD("p"), "w_ols": P_, "lam": NONNEG}),
    "helpers.sparsity.fit_uniform_scale": Spec({"before": Y, "after": Y}),
    "helpers.sparsity.fit_soft_threshold": Spec({"before": Y, "after": Y}),
    "helpers.sparsity.lasso_lambda_max": Spec({"X": X, "y": Y}),
    "helpers.sparsity.lasso_path_by_lambda": Spec({"X": X, "y": Y, "lams": LAMS,
                                                   "engine": Choice(("numpy", "sklearn")), "tol": TOL,
                                                   "max_iter": ITERS}),
    "helpers.sparsity.entry_order": Spec({"lams": LAMS, "path": Arr(("k", "p"))}),
    "helpers.sparsity.selection_scores": Spec({"coef": P_, "true_coef": P_}, allow=_selection_nan),
    "helpers.sparsity.selection_path": Spec({"path": Arr(("k", "p")), "true_coef": P_},
                                            allow=_selection_path_nan),
    "helpers.sparsity.lasso_cost": Spec({"X": X, "y": Y, "coef": P_, "intercept": NUM, "lam": NONNEG}),
    "helpers.sparsity.lasso_step_size": Spec({"X": X}),
    "helpers.sparsity.subgradient_lasso": Spec({"X": X, "y": Y, "lam": NONNEG, "lr": Opt(Num(1e-4, 1)),
                                                "n_iter": ITERS}),
    "helpers.sparsity.ista_lasso": Spec({"X": X, "y": Y, "lam": NONNEG, "lr": Opt(Num(1e-4, 1)),
                                         "n_iter": ITERS}),
    "helpers.sparsity.count_zeros": Spec({"w": Weights(), "tol": POSITIVE}),
    "helpers.sparsity.elastic_net_fit": Spec({"X": X, "y": Y, "lam": NONNEG, "l1_ratio": UNIT, "tol": TOL,
                                              "max_iter": ITERS, "coef_init": Opt(P_)}),
    "helpers.sparsity.standardize": Spec({"X_train": X, "*others": Seq(Arr(("m", "p")))}),
    # overfitting
    "helpers.overfitting.standardized_poly": Spec({"x": Y, "degree": Int(1, 5, dim="d"),
                                                   "mean": Opt(Arr(("d",))),
                                                   "std": Opt(Arr(("d",), st.floats(0.1, 10)))}),
    "helpers.overfitting.fit_polynomial": Spec({"x_train": Y, "y_train": Y, "degree": Int(1, 4)},
                                               then=("x", Arr(("m",)))),
    "helpers.overfitting.degree_sweep": Spec({"x_train": Y, "y_train": Y, "x_test": Arr(("m",)),
                                              "y_test": Arr(("m",)),
                                              "degrees": Arr(("k",), st.integers(1, 4).map(float))},
                                             examples=20),
    "helpers.overfitting.learning_curve": Spec({"degree": Int(1, 2), "sizes": Arr(("k",), st.integers(4, 12)),
                                                "x_test": Arr(("m",)), "y_test": Arr(("m",)),
                                                "noise": UNIT, "seeds": Arr(("k",), st.integers(0, 5))},
                                               examples=15),
    "helpers.overfitting.overfit_state": Spec({"degree": Int(1, 3), "n_train": Int(6, 20), "noise": UNIT,
                                               "max_degree": Int(1, 4), "n_grid": Int(2, 30)}, examples=15),
    "helpers.overfitting.decade_limits": Spec({"values": Y, "floor": POSITIVE}),
    "helpers.overfitting.OverfitExplorer": Spec({"degree": Int(1, 12), "n_train": Int(14, 300),
                                                 "noise": UNIT}, examples=6),
    # penalized path
    "helpers.penalized_path.lambda_grid": Spec({"kind": Choice(("l2", "l1"))}),
    "helpers.penalized_path.loss_plus_penalty": Spec({"data_loss": NONNEG, "penalty": NONNEG, "lam": NONNEG}),
    "helpers.penalized_path.preference_flip": Spec({"loss_a": NONNEG, "penalty_a": NONNEG, "loss_b": NONNEG,
                                                    "penalty_b": NONNEG}),
    "helpers.penalized_path.fit_kind": Spec({"Z": X, "y": Y, "lam": NONNEG,
                                             "kind": Choice(("none", "l2", "l1")), "coef_init": Opt(P_)}),
    "helpers.penalized_path.PenalizedPath": Spec({"x_train": Y, "y_train": Y, "x_val": Arr(("m",)),
                                                  "y_val": Arr(("m",)), "degree": Int(1, 3),
                                                  "n_grid": Int(2, 20)}, examples=10),
    "helpers.penalized_path.kfold_cv_mse": Spec({"Z": X, "y": Y, "lams": LAMS,
                                                 "kind": Choice(("none", "l2", "l1")), "k": Int(2, 4),
                                                 "seed": SEED}, examples=20),
    "helpers.penalized_path.PenalizedPathExplorer": Spec({
        "path": Obj(lambda dims, ctx: _path()), "kind": Choice(("none", "l2", "l1")),
        "lam": Opt(Num(1e-3, 10))}, examples=5),
    # geometry
    "helpers.geometry.quadratic_loss": Spec({"W": Arr(("n", 2)), "w_hat": W_HAT, "hessian": HESSIAN}),
    "helpers.geometry.diamond_xy": Spec({"t": NONNEG}),
    "helpers.geometry.circle_xy": Spec({"t": NONNEG, "n": Int(3, 50)}),
    "helpers.geometry.level_set_xy": Spec({"w_hat": W_HAT, "hessian": HESSIAN, "level": NONNEG,
                                           "n": Int(3, 50)}),
    "helpers.geometry.constrained_l2": Spec({"w_hat": W_HAT, "hessian": HESSIAN, "t": NONNEG}),
    "helpers.geometry.constrained_l1": Spec({"w_hat": W_HAT, "hessian": HESSIAN, "t": NONNEG}),
    "helpers.geometry.GeometryView": Spec({"w_hat": W_HAT, "hessian": HESSIAN, "t": Num(0.5, 1),
                                           "t_min": Num(0.01, 0.5), "t_max": Num(1, 4), "lim": Num(1, 5)},
                                          examples=6),
    # bias and variance (notebook 07): "gy" (2-4) training sets, "m" test inputs
    "helpers.bias_variance.bias_variance": Spec({"preds": Arr(("gy", "m")), "f_true": Arr(("m",))}),
    "helpers.bias_variance.decompose": Spec({"preds": Arr(("gy", "m")), "f_true": Arr(("m",)),
                                             "noise_sd": NONNEG, "y_test": Arr(("gy", "m"))}),
    "helpers.bias_variance.exact_bias_variance": Spec({"H": Arr(("m", "n")), "f_train": Y, "f_test": Arr(("m",)),
                                                       "noise_sd": NONNEG}),
    "helpers.bias_variance.polynomial_prediction_matrix": Spec({"x_train": Y, "x_test": Arr(("m",)),
                                                                "degree": Int(1, 4), "lam": NONNEG}),
    # double descent (notebook 07)
    "helpers.double_descent.draw_frequencies": Spec({"p": Int(1, 50), "scale": POSITIVE, "seed": SEED}),
    "helpers.double_descent.fourier_features": Spec({"x": Y, "omega": P_, "phase": P_}),
    "helpers.double_descent.feature_counts": Spec({"n": Int(1, 100), "p_max": Int(1, 1000),
                                                   "per_decade": Int(1, 20)}),
    "helpers.double_descent.gradient_descent_least_squares": Spec({"F": X, "y": Y, "lr": Num(1e-4, 1),
                                                                   "n_steps": Int(0, 30), "w0": Opt(P_)}),
    "helpers.double_descent.double_descent_sweep": Spec({
        "ps": FEATURE_COUNTS, "lams": LAMS, "x_test": Arr(("m",)), "y_test": Arr(("m",)), "n_train": Int(1, 8),
        "n_val": Int(1, 5), "noise": UNIT, "n_draws": Int(1, 3), "scale": POSITIVE, "seed": Int(0, 10**6)},
        examples=20),
    "helpers.double_descent.tuned_on_validation": Spec({"sweep": Obj(_sweep_dict, _BAD_SWEEPS)}),
    "helpers.double_descent.lambda_label": Spec({"lam": NONNEG}),
    "helpers.double_descent.kernel_limit_fit": Spec({"x_train": Y, "y_train": Y, "x_new": Arr(("m",)),
                                                     "scale": POSITIVE}),
    "helpers.double_descent.size_kept_by_distance": Spec({"fit": Arr(("m",)), "f_true": Arr(("m",)),
                                                          "x": Arr(("m",)), "x_train": Y, "near": Num(0.0, 0.5),
                                                          "far": Num(0.5, 2.0)}),
    "helpers.double_descent.DoubleDescentPath": Spec({
        "x_train": Y, "y_train": Y, "x_test": Arr(("m",)), "y_test": Arr(("m",)), "ps": FEATURE_COUNTS,
        "lams": LAMS, "scale": POSITIVE, "seed": SEED, "n_grid": Int(2, 20)}, examples=15),
    "helpers.double_descent.DoubleDescentExplorer": Spec({
        "path": Obj(lambda dims, ctx: _dd_path()), "p": Opt(Obj(_dd_grid_value("ps"), [4.0, 2.5])),
        "lam": Obj(_dd_grid_value("lams"), [0.5, -1.0])}, examples=6),
    # plots and widgets
    "helpers.plots.setup": Spec({"seed": SEED}),
    "helpers.plots.widget_canvas": Spec({"fig": Obj(_figure)}),
    "helpers.blit.Blitter": Spec({"fig": Obj(_figure), "artists": Obj(lambda d, c: c["artists"], [[3], "line"]),
                                  "labels": Obj(lambda d, c: c["labels"], [[None], "title"])}),
    "helpers.keras_widgets.png_frame": Spec({"fig": Obj(_drawn_figure, [Figure()])}),
    "helpers.keras_widgets.boundary_lines": Spec({"xx": Arr(("gy", "gx")), "yy": Arr(("gy", "gx")),
                                                  "grid": Arr(("gy", "gx")), "level": NUM}),
    "helpers.keras_widgets.KerasLambdaExplorer": Spec({
        "lams": Arr(("L",), post=increasing), "proba_grids": Arr(("L", "gy", "gx"), st.floats(0, 1)),
        "xx": Arr(("gy", "gx"), post=lambda a: np.sort(a, axis=1)), "yy": Arr(("gy", "gx")),
        "edges": Arr(("B1",), post=centred_increasing), "counts": Arr(("L", "B"), st.integers(0, 50).map(float)),
        "X": Arr(("n", 2)), "y": LABELS_01, "labels": Opt(Obj(lambda d, c: ["a"] * d["L"], [["a"] * 9, 3])),
        "penalty": Choice(tuple(helpers.COLORS)), "fig": Opt(Obj(lambda d, c: _agg_figure(2), [_agg_figure(1)]))},
        examples=8),
    # Keras (the model is built once; training is excluded above)
    "helpers.keras_tools.TunablePenalty": Spec({"kind": Choice(("l1", "l2")), "lam": NONNEG}, examples=15),
    "helpers.keras_tools.ProxAdam": Spec({"l1": NONNEG, "prox_layers": Opt(Obj(lambda d, c: ["hidden1"],
                                                                                [[1], "hidden1"]))},
                                         examples=15),
    "helpers.keras_tools.build_mlp": Spec({"penalty": Choice(("none", "l1", "l2", "prox")), "lam": NONNEG,
                                           "hidden": Int(1, 4), "learning_rate": Num(1e-4, 0.1),
                                           "tunable": Bool(), "steps_per_execution": Int(1, 100)}, examples=15),
    "helpers.keras_tools.set_lambda": Spec({"model": Obj(_mlp, MODEL_BADS), "lam": NONNEG}, examples=15),
    "helpers.keras_tools.reset_model": Spec({"model": Obj(_mlp, MODEL_BADS), "seed": SEED}, examples=15),
    "helpers.keras_measures.predict_proba": Spec({"model": Obj(_mlp, MODEL_BADS), "X": Arr(("n", 2))},
                                              examples=20),
    "helpers.keras_measures.binary_cross_entropy": Spec({"y": PROBS, "p": PROBS, "eps": Num(1e-9, 0.1)}),
    "helpers.keras_measures.accuracy": Spec({"y": LABELS_01, "p": PROBS}),
    "helpers.keras_measures.data_loss": Spec({"model": Obj(_mlp, MODEL_BADS), "X": Arr(("n", 2)), "y": LABELS_01},
                                          examples=20),
    "helpers.keras_measures.hidden_kernels": Spec({"model": Obj(_mlp, [*MODEL_BADS, LINEAR_MODEL])}, examples=10),
    "helpers.keras_measures.sparsity_counts": Spec({"kernels": Weights(), "tol": POSITIVE}),
    "helpers.keras_measures.grid_points": Spec({"xlim": LIMITS, "ylim": LIMITS, "n": Int(2, 30)}),
    "helpers.keras_measures.decision_grid": Spec({"model": Obj(_mlp, MODEL_BADS), "xlim": LIMITS, "ylim": LIMITS,
                                               "n": Int(2, 10)}, examples=15),
    "helpers.keras_measures.hist_edges": Spec({"limit": POSITIVE, "n_bins": Int(1, 101)}),
    "helpers.keras_measures.weight_hist": Spec({"kernels": Weights(), "edges": Arr(("B1",), post=increasing)}),
    "helpers.keras_tools.ModelPool": Spec({"data": Obj(lambda d, c: _dataset(), _no_data()), "epochs": Int(1, 10),
                                           "batch_size": Int(1, 64), "learning_rate": Num(1e-4, 0.1)}),
    "helpers.keras_measures.mean_std": Spec({"values": Y}),
    "helpers.keras_decay.linear_model": Spec({"kernel": P_, "bias": Opt(NUM),
                                              "kernel_regularizer": Opt(Obj(lambda d, c: "l2", [3, "bogus"])),
                                              "bias_regularizer": Opt(Obj(lambda d, c: "l1", [2.5, "l3"]))},
                                             examples=15),
    "helpers.keras_decay.data_loss_and_penalty": Spec({"model": Obj(_model("linear"), MODEL_BADS),
                                                       "X": Arr(("n", 2)), "y": Y}, examples=20),
    "helpers.keras_tools.glorot_kernel": Spec({"seed": Int(0, 1000), "layer": Int(0, 3),
                                               "shape": Obj(lambda d, c: (2, 3), [(2,), (0, 3), (2.5, 3), "23"])},
                                              examples=15),
    "helpers.keras_tools.reset_optimizer": Spec({"optimizer": Obj(_adam, ["adam", np.zeros(2)])}, examples=10),
    # classification and choosing λ on real data (lesson 04)
    "helpers.classification.c_for_lambda": Spec({"lam": POSITIVE, "n": Int(1, 1000), "penalty": Choice(("l1", "l2"))}),
    "helpers.classification.lambda_for_c": Spec({"C": POSITIVE, "n": Int(1, 1000), "penalty": Choice(("l1", "l2"))}),
    "helpers.classification.logistic_cost": Spec({"X": X, "y": LABELS_01, "w": P_, "b": NUM, "lam": NONNEG,
                                                  "penalty": Choice(("l1", "l2"))}),
    "helpers.classification.fit_logistic_l2": Spec({"X": X, "y": Classes(("n",)), "lam": POSITIVE}, examples=20),
    "helpers.classification.l1_logistic_path": Spec({"X": X, "y": BOTH_LABELS, "Cs": Arr(("k",), elements=POS_FLOATS),
                                                     "intercept_scaling": POSITIVE}, examples=12),
    "helpers.classification.cv_accuracy_path": Spec({"X": Arr((12, "p")), "y": Arr((12,), elements=st.just(0.0),
                                                                                   post=_alternate),
                                                     "Cs": Arr(("k",), elements=POS_FLOATS), "folds": Int(2, 3),
                                                     "seed": Int(0, 100), "intercept_scaling": POSITIVE}, examples=6),
    "helpers.lasso_selection.cv_errors": Spec({"X": Arr((8, "p")), "y": Arr((8,)),
                                               "alphas": Arr(("k",), elements=POS_FLOATS),
                                               "folds": Int(2, 4), "seed": Int(0, 100)}, examples=6),
    "helpers.lasso_selection.one_standard_error": Spec({"alphas": Arr(("k",), elements=POS_FLOATS), "mean": Arr(("k",)),
                                                        "se": Arr(("k",), elements=st.floats(0, 5))}),
    "helpers.lasso_selection.information_criterion_alpha": Spec({"X": Arr((8, "p")), "y": Arr((8,)),
                                                                 "criterion": Choice(("aic", "bic"))}, examples=12),
    "helpers.lasso_selection.nested_cv_error": Spec({"X": Arr((12, "p")), "y": Arr((12,)),
                                                     "alphas": Arr(("k",), elements=POS_FLOATS), "outer": Int(2, 3),
                                                     "inner": Int(2, 3), "seed": Int(0, 100)}, examples=4),
    # the stacked experiment engine and its statistics (lesson 05)
    "helpers.stats.paired_difference": Spec({"a": Y, "b": Y, "confidence": Num(0.5, 0.99)}),
    "helpers.stats.format_interval": Spec({"mean": NUM, "low": Num(-10.0, -5.0), "high": Num(5.0, 10.0),
                                           "digits": Int(0, 5), "max_digits": Int(5, 9)}),
    "helpers.stats.choose_by_validation": Spec({"val_scores": X, "higher_is_better": Bool()}),
    "helpers.stats.take_chosen": Spec({"scores": X, "chosen": Arr(("n",), elements=st.just(0.0))}),
    "helpers.stats.bonferroni": Spec({"m": Int(1, 50), "confidence": Num(0.5, 0.99)}),
    "helpers.stats.test_set_spread": Spec({"a_blocks": Arr(("s", "B")), "b_blocks": Arr(("s", "B"))}),
    "helpers.moons_experiment.large_test_set": Spec({"n": Int(2, 50), "seed": SEED}),
    "helpers.progress.Progress": Spec({"total": POSITIVE, "description": Obj(lambda d, c: "training",
                                                                              [" ", "", 3, None])}),
    "helpers.keras_stack.stack_config": Spec({"kind": Choice(("l1", "l2", "prox")), "lam": NONNEG,
                                              "seed": Int(0, 1000), "dropout": Num(0.0, 0.9), "noise": NONNEG,
                                              "max_norm": NONNEG, "members": Opt(Int(1, 5))}),
    "helpers.keras_stack.stack_grid": Spec({"runs": Obj(lambda d, c: [("none", 0.0), ("l1", 1e-3)],
                                                        [[("none",)], [("bogus", 1.0)], [("l2", -1.0)], []]),
                                            "seeds": Obj(lambda d, c: [0, 1], [[-1], [2.5], [], "01"])}),
    "helpers.keras_stack.steps_per_epoch": Spec({"n": Int(1, 500), "batch_size": Int(1, 64)}),
    "helpers.keras_stack.batch_schedule": Spec({"seeds": Arr(("k",), elements=st.integers(0, 99).map(float)),
                                                "n": Int(1, 40), "batch_size": Int(1, 16),
                                                "epochs": Opt(Int(1, 3)), "steps": Opt(Int(1, 10))}),
    "helpers.keras_stack.StackedMLP": Spec({"members": Int(1, 3), "hidden": Int(1, 4), "learning_rate": POSITIVE,
                                            "batch_size": Int(1, 8), "jit_compile": Bool(),
                                            "steps_per_execution": Int(1, 50), "chunk": Int(1, 50),
                                            "contraction": Choice(("einsum", "matmul"))}, examples=8),
    "helpers.keras_stack.step_blocks": Spec({"schedule": Arr(("s", "k", "B"), elements=st.integers(-1, 9).map(float)),
                                             "period": Int(0, 10), "chunk": Int(1, 10)}),
    "helpers.keras_stack.StackShards": Spec({"stacks": Obj(lambda d, c: [_tiny_stack()], [[], "stack", [None], 3]),
                                             "workers": Int(0, 3), "members": Opt(Int(1, 5))}, examples=6),
    "helpers.moons_experiment.training_sets": Spec({"n_sets": Int(1, 3), "n": Int(dim="n"),
                                                    "first": Opt(Obj(_first_set, [(np.ones((3, 2)), np.ones(3))])),
                                                    "first_seed": Int(0, 10_000)}, examples=20),
    "helpers.moons_experiment.design": Spec({"methods": Obj(lambda d, c: [("none", 0.0), ("l1", 1e-3)],
                                                            [[("bogus", 1.0)], [("l1",)], [], ["l1"]]),
                                             "X": Arr(("s", "n", 2)), "y": Arr(("s", "n"))}),
    # lesson 06: regularization without a penalty
    "helpers.moons_experiment.method": Spec({"kind": Choice(("l1", "l2", "prox")), "lam": NONNEG,
                                             "dropout": Num(0.0, 0.9), "noise": NONNEG, "max_norm": NONNEG}),
    "helpers.moons_experiment.jittered_sets": Spec({"X": Arr(("s", "n", 2)), "y": Classes(("s", "n")),
                                                    "copies": Int(0, 3), "sigma": NONNEG, "seed": SEED}),
    "helpers.moons_experiment.predict_stacked": Spec({"weights": Obj(_stacked_weights, [[np.zeros((2, 2, 3))]]),
                                                      "X": Arr(("n", 2))}),
    "helpers.implicit.gd_least_squares": Spec({"X": X, "y": Y, "lr": Num(1e-4, 0.1),
                                               "steps": Obj(lambda d, c: [0, 2, 5], [[3, 1], [-1], [0.5], []])}),
    "helpers.implicit.gd_shrinkage": Spec({"s": Arr(("k",), elements=st.floats(0, 10)), "lr": Num(1e-3, 0.1),
                                           "t": Int(0, 100)}),
    "helpers.implicit.ridge_shrinkage": Spec({"s": Arr(("k",), elements=st.floats(0, 10)), "lam": POSITIVE}),
    "helpers.implicit.inverted_dropout": Spec({"h": X, "rate": Num(0.0, 0.9), "rng": Obj(
        lambda d, c: np.random.default_rng(0), ["rng", -1]), "training": Bool()}),
    "helpers.implicit.method_color": Spec({"method": Obj(lambda d, c: st.sampled_from(
        ["none", "dropout", "jitter", "early_stopping", _method(noise=0.2), _method("l2", 1e-3)]),
        ["bogus", _method(dropout=0.3, noise=0.2)])}),
    "helpers.implicit.noise_ridge_lambda": Spec({"n": Int(1, 1000), "sigma": NONNEG}),
    "helpers.implicit.noisy_copies_least_squares": Spec({"X": X, "y": Y, "sigma": NONNEG, "copies": Int(1, 5),
                                                         "seed": Int(0, 1000)}),
    "helpers.keras_widgets.EpochExplorer": Spec({
        "epochs": Arr(("L",), post=increasing), "proba_grids": Arr(("m", "L", "gy", "gx"), st.floats(0, 1)),
        "xx": Arr(("gy", "gx"), post=lambda a: np.sort(a, axis=1)), "yy": Arr(("gy", "gx")),
        "curve_train": Arr(("m", "L")), "curve_val": Arr(("m", "L")), "X": Arr(("n", 2)), "y": LABELS_01,
        "labels": Obj(lambda d, c: ["a"] * d["m"], [["a"] * 9, 3]), "best": Opt(Arr(("m",))),
        "fig": Opt(Obj(lambda d, c: _agg_figure(2), [_agg_figure(1)]))}, examples=8),
}


# --------------------------------------------------------------------------------------------
# The property
# --------------------------------------------------------------------------------------------

@st.composite
def call_arguments(draw, spec: Spec):
    """Good arguments of consistent shapes, some of them (often none, never all) replaced by bad ones."""
    dims = {"n": draw(st.integers(1, 6)), "p": draw(st.integers(1, 4)), "k": draw(st.integers(1, 3)),
            "m": draw(st.integers(1, 5)), "s": draw(st.integers(1, 3)), "d": draw(st.integers(1, 5)),
            "L": draw(st.integers(1, 3)),
            "gy": draw(st.integers(2, 4)), "gx": draw(st.integers(2, 4)), "B": draw(st.integers(1, 4))}
    dims["B1"] = dims["B"] + 1
    ctx: dict = {}
    names = list(spec.args)
    n_bad = draw(st.sampled_from([0, 1, 1, 1, 2])) if names else 0
    broken = set(draw(st.permutations(names))[:n_bad])
    values = {}
    for name, kind in spec.args.items():
        good = draw(kind.good(dims, ctx))
        values[name] = draw(kind.bad(good, dims, ctx)) if name in broken else good
        if name in broken and getattr(kind, "must_refuse", lambda v: False)(values[name]):
            values.setdefault(MUST_REFUSE, []).append(name)
    return values


MUST_REFUSE = "__must_refuse__"  # in call_arguments' result: the arguments whose bad value must be refused


def _load(qualname: str):
    module, _, name = qualname.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _names_an_argument(message: str, names) -> bool:
    return any(re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", message) for name in names)


def _finite(result) -> bool:
    if not all_finite(result):
        return False
    if hasattr(result, "__dict__") and not callable(result):  # an instance: its numbers too
        return all(all_finite(v) for v in vars(result).values()
                   if isinstance(v, (np.ndarray, float, int, dict, list, tuple)))
    return True


def check_call(qualname: str, fn, args: dict, allow=None):
    """Call ``fn`` and check the rule; returns the result (or ``None`` after a ValueError). An argument
    listed under MUST_REFUSE (a fractional count, labels that are not two classes) must be refused."""
    args = dict(args)
    must_refuse = args.pop(MUST_REFUSE, [])
    positional = [v for k, v in args.items() if k.startswith("*")]
    kwargs = {k: v for k, v in args.items() if not k.startswith("*")}
    star = list(positional[0]) if positional else []
    params = list(inspect.signature(fn).parameters) + list(kwargs)
    try:
        with warnings.catch_warnings(), matplotlib.rc_context():
            warnings.simplefilter("error")
            warnings.filterwarnings("ignore", category=ConvergenceWarning)  # documented (max_iter)
            if star:  # f(a, *others): the *args come after the positional arguments
                first = [kwargs.pop(k) for k in list(kwargs)]
                result = fn(*first, *star)
            else:
                result = fn(**kwargs)
    except ValueError as exc:
        assert _names_an_argument(str(exc), params), (
            f"{qualname}: ValueError names none of its arguments {params}: {exc}\nargs: {args!r}")
        return None
    except Exception as exc:  # noqa: BLE001 - the point: nothing else may escape
        pytest.fail(f"{qualname} raised {type(exc).__name__}: {exc}\nargs: {args!r}")
    finally:
        plt.close("all")
    assert not must_refuse, (f"{qualname} accepted {', '.join(f'{n}={args[n]!r}' for n in must_refuse)} instead of "
                             "refusing it with a ValueError (a whole number, or two classes, is meant)")
    if not _finite(result):
        assert allow is not None and allow(kwargs, result), (
            f"{qualname} returned non-finite values: {result!r}\nargs: {args!r}")
    return result


@pytest.mark.parametrize("qualname", sorted(SPECS))
def test_finite_result_or_value_error_naming_an_argument(qualname):
    spec = SPECS[qualname]
    fn = _load(qualname)
    # Build the shared objects before drawing (Keras seeds Python's random module as it builds).
    if qualname.startswith(("helpers.keras_tools", "helpers.keras_decay")):
        _keras_models()
    if qualname.endswith("PenalizedPathExplorer"):
        _path()
    if qualname.endswith("DoubleDescentExplorer"):
        _dd_path()

    @settings(max_examples=max(1, round(spec.examples * EXAMPLES_FACTOR)),
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.filter_too_much])
    @given(data=st.data())
    def run(data):
        args = data.draw(call_arguments(spec), label="arguments")
        result = check_call(qualname, fn, args, spec.allow)
        if spec.then is not None and result is not None:
            name, kind = spec.then
            then = data.draw(call_arguments(Spec({name: kind})), label="then")
            check_call(f"{qualname}(...)", result, then)

    run()


def test_every_public_function_is_covered_or_excluded():
    found = public_names()
    assert not set(SPECS) & set(EXCLUDED), "both covered and excluded"
    missing = sorted(found - set(SPECS) - set(EXCLUDED))
    assert not missing, ("public functions neither covered by SPECS in tests/test_properties.py nor "
                         f"listed in EXCLUDED with a reason: {missing}")
    stale = sorted((set(SPECS) | set(EXCLUDED)) - found)
    assert not stale, f"listed but no longer public functions of helpers: {stale}"


def test_a_spec_names_the_parameters_of_its_function():
    for qualname, spec in SPECS.items():
        if qualname.startswith(("helpers.keras_tools", "helpers.keras_measures", "helpers.keras_decay")):
            continue  # importing them imports TensorFlow; their specs are checked when they run
        params = set(inspect.signature(_load(qualname)).parameters)
        names = {name.lstrip("*") for name in spec.args}
        assert names <= params, f"{qualname}: {names - params} are not its parameters"
