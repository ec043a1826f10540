"""Each widget of ``helpers``, built as its lesson builds it, without a notebook: shared by
tests/test_figure_layout.py (every state looks right) and tests/test_site.py (the site's pictures
are what the widget draws)."""

from __future__ import annotations

import numpy as np

NAMES = ("01 OverfitExplorer", "02 PenalizedPathExplorer", "04 GeometryView", "05 KerasLambdaExplorer")


def course_widgets(*names: str) -> dict:
    """Each widget of helpers named in ``names`` (all of :data:`NAMES` without any), built as its
    lesson builds it (lesson 05's from synthetic arrays shaped like the lesson's, without training)."""
    return {name: _BUILD[name]() for name in (names or NAMES)}


def _overfit():
    from helpers.overfitting import OverfitExplorer

    return OverfitExplorer(degree=9, n_train=30, noise=0.3)


def _penalized():
    from helpers import load_curve_1d
    from helpers.penalized_path import PenalizedPath, PenalizedPathExplorer

    data = load_curve_1d()
    path = PenalizedPath(data.X_train, data.y_train, data.X_test[:100], data.y_test[:100], degree=12)
    return PenalizedPathExplorer(path, kind="l2")


def _geometry():
    from helpers.geometry import GeometryView

    return GeometryView(w_hat=(2.0, 0.9), hessian=((1.5, 0.8), (0.8, 1.0)), t=1.0)


def _keras_lambda():
    from helpers.keras_tools import hist_edges
    from helpers.keras_widgets import KerasLambdaExplorer

    lams = np.array([1e-4, 3e-4, 1e-3, 1e-2])
    xx, yy = np.meshgrid(np.linspace(-1.8, 2.8, 80), np.linspace(-1.5, 2.0, 80))
    probas = np.stack([1 / (1 + np.exp(-(k + 1) * (yy - 0.3 * np.sin(3 * xx)))) for k in range(4)])
    edges = hist_edges(0.4, 81)
    counts = np.stack([np.r_[np.full(40, 100.0), 16000.0 * k / 3 + 5, np.full(40, 100.0)] for k in range(4)])
    X = np.random.default_rng(0).uniform([-1.5, -1], [2.5, 1.5], size=(100, 2))
    return KerasLambdaExplorer(lams, probas, xx, yy, edges, counts, X, (X[:, 1] > 0) * 1,
                               labels=["(val acc 0.89)"] * 4, penalty="l1")


_BUILD = dict(zip(NAMES, (_overfit, _penalized, _geometry, _keras_lambda), strict=True))
