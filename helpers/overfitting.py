"""Overfitting made visible: polynomial fits of growing degree, learning curves, a widget.

Introduced in notebook 01 (``01_overfitting.ipynb``). The polynomial fits here are plain least
squares (no penalty) on the monomials ``x, x², ..., x^d`` plus an unpenalized intercept. For
numerical safety the columns are standardized before solving (training mean and standard
deviation); that changes the coefficients' units but not the fitted curve, because both span
the same functions. Notebook 02 adds the penalty.
"""

from __future__ import annotations

import functools

import numpy as np

from helpers._counts import MAX_SEED, check_int, check_size
from helpers._validate import check_array, check_pair, check_scalar, finite_result
from helpers.blit import Blitter
from helpers.data import make_curve_1d, true_curve
from helpers.linear import mse, polynomial_features, ridge_fit
from helpers.plots import COLORS, allow_outside, widget_canvas

MAX_DEGREE = 12  # beyond this the 30-point fits are too ill-conditioned to print stable digits
MAX_POLY_DEGREE = 30  # standardized monomials beyond this are numerically meaningless in float64
# The widget's error axis reaches down to this: with noise 0 the high degrees fit the sine to
# 1e-19, and every point must be drawn (issue 18).
ERROR_FLOOR = 1e-20
FIT_Y_LIMIT = 2.5  # the fit panel shows at least y in [-2.5, 2.5] (the sine and noise 0.3)


def _check_degree(degree, name="degree", max_degree=MAX_DEGREE):
    return check_int(degree, name, min_value=1, max_value=max_degree)


@finite_result("x", "mean", "std", action="standardize the powers", hint="rescale {name}")
def standardized_poly(x, degree: int, mean=None, std=None):
    r"""Standardized monomials :math:`z_j = (x^j - \mu_j)/\sigma_j`, ``j = 1..degree``.

    ``mean`` / ``std`` default to the columns' own statistics (pass the training ones when
    transforming new points). Returns ``(Z, mean, std)``. Notebooks 01 and 02.
    """
    return _standardized_poly(x, degree, mean, std, "x")


def _standardized_poly(x, degree, mean, std, x_name):
    """:func:`standardized_poly` for a caller whose argument ``x`` is called ``x_name``."""
    x = check_array(x, x_name, ndim=1)
    degree = _check_degree(degree, max_degree=MAX_POLY_DEGREE)
    P = polynomial_features(x, degree)
    if mean is None:
        if std is not None:
            raise ValueError("mean must be given with std (both are the training statistics)")
        mean, std = P.mean(axis=0), P.std(axis=0)
        if np.any(std <= 0):
            raise ValueError(f"{x_name} must hold enough different values for every power up to "
                             f"degree {degree} to vary (a column has std 0)")
    mean = check_array(mean, "mean", ndim=1)
    std = check_array(std, "std", ndim=1)
    if mean.shape != (P.shape[1],) or std.shape != (P.shape[1],):
        raise ValueError(f"mean and std must have shape ({P.shape[1]},)")
    if np.any(std <= 0):
        raise ValueError("std must be > 0 (are all training x equal?)")
    return (P - mean) / std, mean, std


_FIT = ("x_train", "y_train")


@finite_result(*_FIT, action="fit", hint="rescale {name}")
def fit_polynomial(x_train, y_train, degree: int):
    """Least-squares polynomial of ``degree``; returns a function ``x -> y_hat``. Notebook 01."""
    x_train, y_train = check_pair(x_train, y_train, "x_train", "y_train", ndim=1)
    degree = _check_degree(degree)
    Z, mean, std = _standardized_poly(x_train, degree, None, None, "x_train")
    coef, intercept = ridge_fit(Z, y_train, 0.0)

    @finite_result("x", action="predict", hint="rescale x like the training x")
    def predict(x):
        return _standardized_poly(x, degree, mean, std, "x")[0] @ coef + intercept

    return predict


@finite_result(*_FIT, "x_test", "y_test", action="fit", hint="rescale {name}")
def degree_sweep(x_train, y_train, x_test, y_test, degrees):
    """Training and test MSE of the least-squares polynomial for each degree. Notebook 01.

    Returns two arrays ``(train_mse, test_mse)`` aligned with ``degrees``.
    """
    check_pair(x_train, y_train, "x_train", "y_train", ndim=1)
    x_test, y_test = check_pair(x_test, y_test, "x_test", "y_test", ndim=1)
    degrees = [_check_degree(d, "degrees") for d in check_array(degrees, "degrees", ndim=(0, 1)).ravel()]
    train, test = [], []
    for d in degrees:
        predict = fit_polynomial(x_train, y_train, d)
        train.append(mse(y_train, predict(x_train)))
        test.append(mse(y_test, predict(x_test)))
    return np.array(train), np.array(test)


@finite_result("noise", "x_test", "y_test", action="fit", hint="rescale {name}")
def learning_curve(degree: int, sizes, x_test, y_test, *, noise: float = 0.3, seeds=range(10)):
    """Train/test MSE of a degree-``degree`` fit as the training set grows. Notebook 01.

    For each size ``n`` and seed ``s``, draws ``n`` fresh training points with
    ``make_curve_1d(n, noise, seed=1000 + s)`` (same distribution as the shipped set) and
    evaluates on the fixed test points. Returns ``(train, test)`` of shape
    ``(len(sizes), len(seeds))``.
    """
    degree = _check_degree(degree)
    sizes = [check_int(n, "sizes", min_value=degree + 2)
             for n in check_array(sizes, "sizes", ndim=(0, 1)).ravel()]
    check_size(max(sizes) * (degree + 1), "sizes")
    check_pair(x_test, y_test, "x_test", "y_test", ndim=1)
    noise = check_scalar(noise, "noise")
    try:
        seeds = list(seeds)
    except TypeError:
        raise ValueError(f"seeds must be a sequence of whole numbers, got {seeds!r}") from None
    if not seeds:
        raise ValueError("seeds must not be empty")
    seeds = [check_int(s, "seeds", max_value=MAX_SEED - 1000) for s in seeds]
    train = np.empty((len(sizes), len(seeds)))
    test = np.empty_like(train)
    for i, n in enumerate(sizes):
        for j, s in enumerate(seeds):
            x, y = make_curve_1d(n, noise=noise, seed=1000 + s)
            train[i, j], test[i, j] = (a[0] for a in degree_sweep(x, y, x_test, y_test, [degree]))
    return train, test


@finite_result("noise", action="fit", hint="lower noise")
def overfit_state(degree: int, n_train: int, noise: float, *, max_degree: int = MAX_DEGREE,
                  n_grid: int = 200) -> dict:
    """Everything the overfitting widget draws, as arrays (a pure function). Notebook 01.

    Training points: ``make_curve_1d(n_train, noise, seed=101)``; test points:
    ``make_curve_1d(200, noise, seed=102)`` (with ``n_train=30, noise=0.3`` these are the shipped
    set). Returns the points, the fitted curve on a grid of ``x`` and the train/test MSE for
    every degree ``1..max_degree``. The points and the sweep over degrees depend only on
    ``(n_train, noise)`` and are cached (read-only arrays), so a move of the degree slider
    fits one polynomial.
    """
    max_degree = check_int(max_degree, "max_degree", min_value=1, max_value=MAX_POLY_DEGREE)
    degree = _check_degree(degree, max_degree=max_degree)
    n_train = check_int(n_train, "n_train", min_value=max_degree + 2)
    check_size(n_train * max_degree, "n_train")
    noise = check_scalar(noise, "noise")
    n_grid = check_int(n_grid, "n_grid", min_value=2)
    check_size(n_grid * max_degree, "n_grid")
    s = dict(_overfit_data(n_train, noise, max_degree, n_grid))
    s["y_fit"] = fit_polynomial(s["x_train"], s["y_train"], degree)(s["x_grid"])
    s["degree"] = degree
    return s


@functools.lru_cache(maxsize=64)
def _overfit_data(n_train: int, noise: float, max_degree: int, n_grid: int) -> dict:
    x_tr, y_tr = make_curve_1d(n_train, noise=noise, seed=101)
    x_te, y_te = make_curve_1d(200, noise=noise, seed=102)
    degrees = np.arange(1, max_degree + 1)
    train, test = degree_sweep(x_tr, y_tr, x_te, y_te, degrees)
    out = {"x_train": x_tr, "y_train": y_tr, "x_test": x_te, "y_test": y_te,
           "x_grid": np.linspace(0, 1, n_grid), "degrees": degrees, "train_mse": train,
           "test_mse": test}
    for a in out.values():
        a.setflags(write=False)
    return out


@finite_result("values", "floor", action="choose log-axis limits")
def decade_limits(values, floor: float = 1e-4) -> tuple[float, float]:
    """Log-axis limits on whole decades around ``values``: ``(10**a, 10**b)`` with a margin of 2x
    each side and the low end not below ``floor``. Coarse on purpose: limits that change less
    often let the widget keep its blitted background. Notebook 01."""
    values = check_array(values, "values")
    lo = max(float(values.min()) / 2, check_scalar(floor, "floor", strict=True))
    hi = max(float(values.max()) * 2, lo * 10)
    return 10.0 ** np.floor(np.log10(lo)), 10.0 ** np.ceil(np.log10(hi))


class OverfitExplorer:
    """Widget: sliders for degree, training-set size and noise; redraws fit and error curves.

    ``.fig`` is the figure, ``.degree`` / ``.n_train`` / ``.noise`` the sliders, ``.ui`` the
    box to display, ``.update()`` redraws from the sliders' values (called by the sliders).
    Artists are created once and updated in place. Notebook 01.

    The figure is blitted (:class:`helpers.blit.Blitter`): the true curve, axes, ticks and
    legends are drawn once; an update redraws the points, the curves, the marker and the
    titles. The error axis uses whole-decade limits (:func:`decade_limits`, down to
    :data:`ERROR_FLOOR`), kept while the curves fit and the axis is at most a decade too wide on
    each side; the fit panel's y range grows in steps of 0.5 when the points need it (noise near
    1). Only when a change of noise or training size moves a limit is the whole figure redrawn.
    One legend for both panels sits under them, where no curve or marker can cross it.
    """

    def __init__(self, degree: int = 9, n_train: int = 30, noise: float = 0.3):
        # the sliders' ranges: a value outside would be clamped silently
        degree = _check_degree(degree)
        n_train = check_int(n_train, "n_train", min_value=MAX_DEGREE + 2, max_value=300)
        noise = check_scalar(noise, "noise", max_value=1.0)
        import ipywidgets as widgets
        import matplotlib.pyplot as plt

        self.degree = widgets.IntSlider(value=degree, min=1, max=MAX_DEGREE, description="degree")
        self.n_train = widgets.IntSlider(value=n_train, min=MAX_DEGREE + 2, max=300, step=2,
                                         description="n train")
        self.noise = widgets.FloatSlider(value=noise, min=0.0, max=1.0, step=0.05,
                                         description="noise σ")
        with plt.ioff():
            self.fig, (self.ax_fit, self.ax_err) = plt.subplots(1, 2, figsize=(9, 3.4))
        ax = self.ax_fit
        xs = np.linspace(0, 1, 200)
        ax.plot(xs, true_curve(xs), color=COLORS["truth"], lw=1, ls="--", label="sin(2πx)")
        self.pts_test, = ax.plot([], [], ".", ms=3, color=COLORS["test"], alpha=0.4, label="test")
        self.pts_train, = ax.plot([], [], "o", ms=4, color=COLORS["train"], label="train")
        self.line_fit, = ax.plot([], [], color=COLORS["none"], lw=2, label="fit")
        allow_outside(self.line_fit, "a high-degree fit swings far beyond the points near the edges; "
                                     "the y range follows the points, not the fit")
        ax.set(xlim=(0, 1), ylim=(-FIT_Y_LIMIT, FIT_Y_LIMIT), xlabel="x", ylabel="y")
        ax = self.ax_err
        self.line_train, = ax.plot([], [], "o-", color=COLORS["train"], label="training: points, MSE")
        self.line_test, = ax.plot([], [], "o-", color=COLORS["test"], label="test: points, MSE")
        self.marker = ax.axvline(degree, color=COLORS["none"], ls=":", label="the degree fitted")
        ax.set(yscale="log", xlabel="polynomial degree", ylabel="MSE (log)",
               xlim=(0.5, MAX_DEGREE + 0.5), ylim=(0.01, 10))
        self.ax_fit.set_title(" ", fontsize=9)  # room for the titles update() writes
        self.ax_err.set_title(" ", fontsize=9)
        handles = [self.ax_fit.lines[0], self.line_train, self.line_test, self.line_fit, self.marker]
        self.fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8)
        self.fig.tight_layout(rect=(0, 0.07, 1, 1))
        self.blitter = Blitter(self.fig, [self.pts_test, self.pts_train, self.line_fit,
                                          self.line_train, self.line_test, self.marker],
                               labels=[self.ax_fit.title, self.ax_err.title])
        for w in (self.degree, self.n_train, self.noise):
            w.observe(lambda _change: self.update(), names="value")
        self.ui = widgets.VBox([widgets.HBox([self.degree, self.n_train, self.noise]),
                                widget_canvas(self.fig) or widgets.Output()])
        self.update()

    def update(self) -> dict:
        s = overfit_state(self.degree.value, self.n_train.value, self.noise.value)
        self.pts_train.set_data(s["x_train"], s["y_train"])
        self.pts_test.set_data(s["x_test"], s["y_test"])
        self.line_fit.set_data(s["x_grid"], s["y_fit"])
        self.line_train.set_data(s["degrees"], s["train_mse"])
        self.line_test.set_data(s["degrees"], s["test_mse"])
        self.marker.set_xdata([s["degree"]])
        want = decade_limits(np.r_[s["train_mse"], s["test_mse"]], floor=ERROR_FLOOR)
        lo, hi = self.ax_err.get_ylim()
        # Keep the limits while they hold the curves and are at most one decade too wide on
        # each side; otherwise change them, which changes the ticks: a full redraw.
        if not (want[0] / 10 <= lo <= want[0] and want[1] <= hi <= want[1] * 10):
            self.ax_err.set_ylim(want)
            self.blitter.invalidate()
        # the fit panel: every point inside, in steps of 0.5 beyond the usual ±2.5
        biggest = float(np.abs(np.r_[s["y_train"], s["y_test"]]).max())
        y_lim = max(FIT_Y_LIMIT, np.ceil((biggest + 0.2) * 2) / 2)
        if self.ax_fit.get_ylim() != (-y_lim, y_lim):
            self.ax_fit.set_ylim(-y_lim, y_lim)
            self.blitter.invalidate()
        best = int(s["degrees"][np.argmin(s["test_mse"])])
        self.ax_fit.set_title(f"degree {s['degree']}: train {s['train_mse'][s['degree'] - 1]:.3f},"
                              f" test {s['test_mse'][s['degree'] - 1]:.3f}", fontsize=9)
        self.ax_err.set_title(f"lowest test error at degree {best}", fontsize=9)
        self.blitter.redraw()
        return s

