"""Reading a trained Keras network (lessons 05-06): its probabilities, data loss and accuracy, its
hidden kernels and how many of their weights are (near) zero, its decision boundary on a grid and
its weight histogram; and the input checks the course's Keras tools share.

Imports TensorFlow/Keras (quietly, :mod:`helpers.keras_env`). The lessons import these names from
:mod:`helpers.keras_tools`, which re-exports them.
"""

from __future__ import annotations

from helpers.keras_env import import_keras

keras = import_keras()  # before anything else loads TensorFlow: no log noise

import numpy as np  # noqa: E402

from helpers._counts import check_int, check_size  # noqa: E402
from helpers._validate import (  # noqa: E402
    check_array,
    check_float32,
    check_pair,
    check_scalar,
    check_xy,
    finite_result,
)

HIDDEN = ("hidden1", "hidden2")  # the names of the article network's hidden layers (build_mlp)


def _check_moons(X, y, x_name="X", y_name="y"):
    """Points of the 2-D two-class data (two columns) and their 0/1 labels, as float32."""
    X, y = check_xy(X, y, x_name, y_name)
    if X.shape[1] != 2:
        raise ValueError(f"{x_name} must have 2 columns, got shape {X.shape}")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError(f"{y_name} must hold 0/1 labels")
    return check_float32(X, x_name), y.astype("float32")


def _check_model(model, *, layers=()) -> keras.Model:
    """A Keras model (with the named layers, e.g. those of :func:`build_mlp`)."""
    if not isinstance(model, keras.Model):
        raise ValueError(f"model must be a keras.Model, got {type(model).__name__}")
    names = {layer.name for layer in model.layers}
    missing = [name for name in layers if name not in names]
    if missing:
        raise ValueError(f"model must have the layers {', '.join(layers)} (a build_mlp model); "
                         f"{', '.join(missing)} missing")
    return model


def _check_inputs(model, X) -> np.ndarray:
    """``X`` as float32 with one column per input of ``model``."""
    _check_model(model)
    X = check_float32(check_array(X, "X", ndim=2), "X")
    try:
        width = model.inputs[0].shape[-1]
    except (AttributeError, IndexError, TypeError, ValueError):  # a model not built on keras.Input
        width = None
    if width is not None and X.shape[1] != width:
        raise ValueError(f"X must have {width} columns (the model's inputs), got shape {X.shape}")
    return X


@finite_result("X", action="predict", hint="rescale {name} like the training data")
def predict_proba(model: keras.Model, X) -> np.ndarray:
    """P(class 1) for each row of ``X``, one graph call (no batching overhead, no progress bar)."""
    X = _check_inputs(model, X)
    return np.asarray(model(X, training=False)).ravel()


def binary_cross_entropy(y, p, eps: float = 1e-7) -> float:
    r"""Mean :math:`-[y\log p + (1-y)\log(1-p)]` with ``p`` clipped to ``[eps, 1-eps]`` (as Keras).

    ``y`` holds labels in [0, 1] (0/1, or soft labels); ``eps`` is in (0, 0.5)."""
    y, p = check_pair(y, p, "y", "p", ndim=1)
    if np.any((y < 0) | (y > 1)):
        raise ValueError("y must hold labels in [0, 1]")
    eps = check_scalar(eps, "eps", strict=True)
    if not eps < 0.5:
        raise ValueError(f"eps must be < 0.5, got {eps!r}")
    p = np.clip(p, eps, 1 - eps)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def accuracy(y, p) -> float:
    """Fraction of rows where ``p >= 0.5`` matches label ``y``."""
    y, p = check_pair(y, p, "y", "p", ndim=1)
    return float(np.mean((p >= 0.5) == (y == 1)))


def data_loss(model: keras.Model, X, y) -> float:
    """Binary cross-entropy of ``model`` on ``(X, y)`` *without* the penalty (unlike ``fit``'s loss)."""
    check_xy(X, y)
    return binary_cross_entropy(y, predict_proba(model, X))


def hidden_kernels(model: keras.Model) -> list[np.ndarray]:
    """The two hidden kernels (the penalized weights) as NumPy arrays: shapes (2, h) and (h, h)."""
    _check_model(model, layers=HIDDEN)
    return [np.asarray(model.get_layer(name).kernel.numpy()) for name in HIDDEN]


def sparsity_counts(kernels, tol: float = 1e-3) -> list[dict]:
    """Per kernel: ``{"n": size, "small": count |w| < tol, "frac_small": small / n, "zero": count w == 0}``.

    ``zero`` counts entries that are exactly 0.0 (what proximal steps produce); ``small`` counts
    near-zeros (what subgradient training with an L1 penalty produces). Notebook 05.
    """
    tol = check_scalar(tol, "tol", strict=True)
    if isinstance(kernels, np.ndarray):
        kernels = [kernels]
    if not isinstance(kernels, (list, tuple)) or len(kernels) == 0:
        raise ValueError("kernels must be a non-empty list of arrays")
    out = []
    for i, k in enumerate(kernels):
        w = check_array(k, f"kernels[{i}]")
        small = int(np.sum(np.abs(w) < tol))
        out.append({"n": int(w.size), "small": small, "frac_small": small / w.size,
                    "zero": int(np.sum(w == 0.0))})
    return out


@finite_result("xlim", "ylim", action="lay out the grid")
def grid_points(xlim=(-2.0, 3.0), ylim=(-1.75, 2.25), n: int = 120):
    """A regular ``n × n`` grid over ``xlim × ylim``: returns ``(xx, yy, points)`` with
    ``points`` of shape ``(n*n, 2)`` (row-major, matching ``xx.ravel()``)."""
    n = check_int(n, "n", min_value=2)
    check_size(4 * n * n, "n")
    lims = []
    for name, lim in (("xlim", xlim), ("ylim", ylim)):
        lim = check_array(lim, name, ndim=1)
        if lim.size != 2 or not lim[0] < lim[1]:
            raise ValueError(f"{name} must be (low, high) with low < high, got {lim!r}")
        lims.append(lim)
    xx, yy = np.meshgrid(np.linspace(*lims[0], n), np.linspace(*lims[1], n))
    return xx, yy, np.column_stack([xx.ravel(), yy.ravel()])


@finite_result("xlim", "ylim", action="predict on the grid", hint="use limits near the data")
def decision_grid(model: keras.Model, xlim=(-2.0, 3.0), ylim=(-1.75, 2.25), n: int = 120):
    """``(xx, yy, proba)``: P(class 1) of ``model`` on :func:`grid_points`, shaped like ``xx``."""
    _check_model(model)
    xx, yy, pts = grid_points(xlim, ylim, n)
    check_float32(xx, "xlim")
    check_float32(yy, "ylim")
    return xx, yy, predict_proba(model, pts).reshape(xx.shape)


def hist_edges(limit: float = 0.4, n_bins: int = 81) -> np.ndarray:
    """Symmetric histogram edges on [-limit, limit] with an odd number of bins, so one bin is
    centred on 0 (the "zero bin" of the weight histograms)."""
    limit = check_scalar(limit, "limit", strict=True)
    n_bins = check_int(n_bins, "n_bins", min_value=1)
    check_size(n_bins + 1, "n_bins")
    if n_bins % 2 == 0:
        raise ValueError(f"n_bins must be odd so a bin is centred on 0, got {n_bins}")
    return np.linspace(-limit, limit, n_bins + 1)


@finite_result("edges", action="count into bins")
def weight_hist(kernels, edges) -> np.ndarray:
    """Counts of all entries of ``kernels`` in ``edges``; values outside are clipped to the end bins."""
    edges = check_array(edges, "edges", ndim=1)
    if edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError("edges must be at least 2 increasing values")
    if not isinstance(kernels, (list, tuple)):
        kernels = [kernels]
    if len(kernels) == 0:
        raise ValueError("kernels must be a non-empty list of arrays")
    w = np.concatenate([check_array(k, f"kernels[{i}]").ravel() for i, k in enumerate(kernels)])
    w = np.clip(w, edges[0], edges[-1])
    return np.histogram(w, bins=edges)[0]


@finite_result("values", action="average")
def mean_std(values) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1; 0 for a single value) of ``values``."""
    v = check_array(values, "values", ndim=1)
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0
