r"""Penalized polynomial fits along λ and their explorer widget, for notebook 02 (``02_penalized_cost``).

Model: a degree-``d`` polynomial on *standardized* monomials :math:`z_j = (x^j-\mu_j)/\sigma_j`
(training statistics) plus an intercept that is never penalized. Each kind minimizes its own
objective, exactly the one of the helper that fits it:

* ``"none"``: :math:`\sum_i (y_i - \hat y_i)^2` (least squares, λ = 0);
* ``"l2"``: :math:`\sum_i (y_i - \hat y_i)^2 + \lambda \|w\|_2^2` (:func:`helpers.ridge_fit`,
  scikit-learn ``Ridge``: a *sum* of squared errors);
* ``"l1"``: :math:`\frac{1}{2n}\sum_i (y_i - \hat y_i)^2 + \lambda \|w\|_1`
  (:func:`helpers.lasso_fit`, scikit-learn ``Lasso``: a *mean*, halved).

The two λ scales therefore differ (roughly by a factor :math:`2n` plus the change of penalty),
so each kind has its own λ grid.
"""

from __future__ import annotations

import numpy as np

from helpers._counts import check_int, check_seed, check_size
from helpers._validate import all_finite, check_array, check_choice, check_pair, check_scalar, check_xy, finite_result
from helpers.blit import Blitter
from helpers.linear import STANDARDIZE, lasso_fit, mse, ridge_fit
from helpers.overfitting import MAX_POLY_DEGREE, _standardized_poly
from helpers.plots import COLORS, allow_outside, widget_canvas
from helpers.sparsity import lasso_path_by_lambda

KINDS = ("none", "l2", "l1")
# λ grids (log10 exponents, inclusive) spanning overfitting to underfitting for each objective.
GRID_EXPONENTS = {"l2": (-10.0, 3.0, 0.25), "l1": (-4.0, 0.0, 0.125)}
LASSO_TOL = 1e-6
LASSO_MAX_ITER = 200_000


def lambda_grid(kind: str) -> np.ndarray:
    """The explorer's λ values for ``kind`` ("l2" or "l1"), log-spaced, increasing."""
    check_choice(kind, "kind", tuple(GRID_EXPONENTS))
    lo, hi, step = GRID_EXPONENTS[kind]
    return 10.0 ** np.linspace(lo, hi, round((hi - lo) / step) + 1)


def _check_kind(kind):
    return check_choice(kind, "kind", KINDS)


@finite_result("data_loss", "penalty", "lam", action="add up the cost")
def loss_plus_penalty(data_loss: float, penalty: float, lam: float) -> float:
    r"""Cost :math:`C = L + \lambda\,P`: data loss plus λ times the penalty, whatever the two
    are (the two students of notebook 02: marks lost and pages of rough work)."""
    return (check_scalar(data_loss, "data_loss")
            + check_scalar(lam, "lam") * check_scalar(penalty, "penalty"))


@finite_result("loss_a", "loss_b", "penalty_a", "penalty_b", action="find the flip")
def preference_flip(loss_a: float, penalty_a: float, loss_b: float, penalty_b: float) -> float:
    r"""The λ at which model B's cost drops below model A's: :math:`\lambda^* = \frac{L_B-L_A}{P_A-P_B}`.

    A fits better (:math:`L_A < L_B`) but with larger weights (:math:`P_A > P_B`); for
    :math:`\lambda > \lambda^*` the cost :math:`L + \lambda P` prefers B. Notebook 02 (the
    "two students").
    """
    loss_a, loss_b = check_scalar(loss_a, "loss_a"), check_scalar(loss_b, "loss_b")
    penalty_a = check_scalar(penalty_a, "penalty_a")
    penalty_b = check_scalar(penalty_b, "penalty_b")
    if not loss_a < loss_b:
        raise ValueError(f"loss_a must be < loss_b (A fits better), got {loss_a} >= {loss_b}")
    if not penalty_a > penalty_b:
        raise ValueError(f"penalty_a must be > penalty_b, got {penalty_a} <= {penalty_b}")
    return (loss_b - loss_a) / (penalty_a - penalty_b)


@finite_result("Z", "y", "lam", "coef_init", action="fit", hint=STANDARDIZE)
def fit_kind(Z, y, lam: float, kind: str, coef_init=None):
    """Fit one kind at one λ on features ``Z``: ``(coef, intercept)``; see the module docstring."""
    _check_kind(kind)
    Z, y = check_xy(Z, y, "Z", "y")
    lam = check_scalar(lam, "lam")
    if kind == "none" or lam == 0.0:
        return ridge_fit(Z, y, 0.0)
    if kind == "l2":
        return ridge_fit(Z, y, lam)
    return lasso_fit(Z, y, lam, tol=LASSO_TOL, max_iter=LASSO_MAX_ITER, coef_init=coef_init)


def _sklearn_lasso_path(Z, y, lams):
    """Lasso fits along ``lams`` in scikit-learn's compiled solver: ``(coefs, intercepts)``.

    :func:`helpers.sparsity.lasso_path_by_lambda` with ``engine="sklearn"`` and this module's
    tolerance: the collinear polynomial columns need many thousands of sweeps, which the
    pure-Python ``lasso_fit`` takes seconds to do.
    """
    lams = check_array(lams, "lams", ndim=1)
    if np.any(lams <= 0):
        raise ValueError("lams must all be > 0")
    return lasso_path_by_lambda(Z, y, lams, engine="sklearn", tol=LASSO_TOL, max_iter=LASSO_MAX_ITER)


class PenalizedPath:
    r"""All fits of one polynomial model over each kind's λ grid, precomputed. Notebook 02.

    ``state(lam, kind)`` is the explorer's pure function: the fitted curve on ``x_grid``, the
    coefficients (of the standardized monomials), the intercept and the training / validation
    MSE. λ on the grid is a table look-up; any other λ is fitted on the spot.
    """

    @finite_result("x_train", "y_train", "x_val", "y_val", action="fit", hint="rescale {name}")
    def __init__(self, x_train, y_train, x_val, y_val, degree: int = 12, n_grid: int = 200):
        self.x_train, self.y_train = check_pair(x_train, y_train, "x_train", "y_train", ndim=1)
        self.x_val, self.y_val = check_pair(x_val, y_val, "x_val", "y_val", ndim=1)
        self.degree = check_int(degree, "degree", min_value=1, max_value=MAX_POLY_DEGREE)
        n_grid = check_int(n_grid, "n_grid", min_value=2)
        check_size(n_grid * self.degree, "n_grid")
        self.Z_train, self.mean, self.std = _standardized_poly(self.x_train, self.degree, None, None,
                                                               "x_train")
        self.Z_val = _standardized_poly(self.x_val, self.degree, self.mean, self.std, "x_val")[0]
        self.x_grid = np.linspace(0.0, 1.0, n_grid)
        self.Z_grid = self.features(self.x_grid)
        self.lams = {k: lambda_grid(k) for k in ("l2", "l1")}
        self.table = {"none": self._summarize([fit_kind(self.Z_train, self.y_train, 0.0, "none")])}
        self.table["l2"] = self._summarize(
            [ridge_fit(self.Z_train, self.y_train, lam) for lam in self.lams["l2"]])
        coefs, intercepts = _sklearn_lasso_path(self.Z_train, self.y_train, self.lams["l1"])
        self.table["l1"] = self._summarize(list(zip(coefs, intercepts, strict=True)))
        if not all_finite(self.table):
            raise FloatingPointError("overflow in the fits")  # reported by finite_result

    def features(self, x) -> np.ndarray:
        """Standardized monomials of ``x`` with the training mean and standard deviation."""
        return _standardized_poly(x, self.degree, self.mean, self.std, "x")[0]

    def _summarize(self, fits) -> dict:
        coef = np.array([c for c, _ in fits])
        b = np.array([b for _, b in fits])
        return {"coef": coef, "intercept": b,
                "y_grid": coef @ self.Z_grid.T + b[:, None],
                "train_mse": ((self.Z_train @ coef.T + b - self.y_train[:, None]) ** 2).mean(0),
                "val_mse": ((self.Z_val @ coef.T + b - self.y_val[:, None]) ** 2).mean(0)}

    def grid_index(self, lam: float, kind: str) -> int | None:
        """Index of ``lam`` in ``kind``'s grid (relative tolerance 1e-6), else ``None``."""
        if kind == "none":
            return 0
        hits = np.flatnonzero(np.isclose(self.lams[kind], lam, rtol=1e-6, atol=0.0))
        return int(hits[0]) if hits.size else None

    def state(self, lam: float, kind: str) -> dict:
        """(λ, kind) -> arrays: ``x_grid, y_grid, coef, intercept, train_mse, val_mse``."""
        kind = _check_kind(kind)
        lam = 0.0 if kind == "none" else check_scalar(lam, "lam")
        i = 0 if lam == 0.0 else self.grid_index(lam, kind)
        if lam == 0.0:
            kind_used = "none"
        else:
            kind_used = kind
        if i is not None:
            t = self.table[kind_used]
            coef, b = t["coef"][i], float(t["intercept"][i])
            y_grid, tr, va = t["y_grid"][i], float(t["train_mse"][i]), float(t["val_mse"][i])
        else:
            coef, b = fit_kind(self.Z_train, self.y_train, lam, kind_used)
            y_grid = self.Z_grid @ coef + b
            tr = mse(self.y_train, self.Z_train @ coef + b)
            va = mse(self.y_val, self.Z_val @ coef + b)
        return {"lam": lam, "kind": kind_used, "x_grid": self.x_grid, "y_grid": y_grid,
                "coef": coef, "intercept": b, "train_mse": tr, "val_mse": va}


@finite_result("Z", "y", "lams", action="fit", hint=STANDARDIZE)
def kfold_cv_mse(Z, y, lams, kind: str, k: int = 5, seed: int = 0) -> np.ndarray:
    """Mean k-fold cross-validation MSE of ``kind`` for each λ in ``lams``. Notebook 02.

    The rows of ``Z`` are shuffled once with ``seed`` and cut into ``k`` consecutive folds
    (scikit-learn's ``KFold`` on the shuffled order); each fold is predicted by the model fitted
    on the other ``k-1``. ``Z`` should be standardized with
    statistics that do not depend on the held-out fold's *targets* (standardizing the
    features of all training x is fine: it uses no y). Returns an array aligned with ``lams``.
    With ``kind="l1"`` on small folds of strongly correlated columns the smallest λ values may
    not converge within ``LASSO_MAX_ITER`` (scikit-learn then warns; the warning is not hidden):
    use a grid whose lower end is not too small, as notebook 02 does for the explorer.
    """
    _check_kind(kind)
    Z, y = check_xy(Z, y, "Z", "y")
    lams = check_array(lams, "lams", ndim=1)
    if np.any(lams < 0):
        raise ValueError("lams must be >= 0")
    k = check_int(k, "k", min_value=2)
    if k > y.size:
        raise ValueError(f"k must be <= the number of rows ({y.size}), got {k}")
    from sklearn.model_selection import KFold

    order = np.random.default_rng(check_seed(seed)).permutation(y.size)
    errs = np.zeros(lams.size)
    for train_pos, fold_pos in KFold(n_splits=k).split(order):
        train, fold = np.sort(order[train_pos]), order[fold_pos]
        if kind == "l1":
            coefs, bs = _sklearn_lasso_path(Z[train], y[train], lams)
        else:
            fits = [fit_kind(Z[train], y[train], lam, kind) for lam in lams]
            coefs, bs = np.array([c for c, _ in fits]), np.array([b for _, b in fits])
        pred = Z[fold] @ coefs.T + bs
        errs += ((pred - y[fold, None]) ** 2).sum(axis=0)
    return errs / y.size


class PenalizedPathExplorer:
    """The λ explorer widget of notebook 02: kind switch, log-scale λ slider and three linked views.

    Views: the fit over training (and validation) points, the coefficients as bars (symlog
    axis, fixed limits so shrinking is visible), and training / validation MSE against λ with
    the current λ marked. ``kind = "none"`` is the λ = 0 fit (the slider is then disabled).
    ``.fig``, ``.slider``, ``.kind``, ``.ui`` and ``.update()``; artists are created once and
    updated in place. Notebook 02.
    """

    def __init__(self, path: PenalizedPath, kind: str = "l2", lam: float | None = None):
        import ipywidgets as widgets
        import matplotlib.pyplot as plt

        if not isinstance(path, PenalizedPath):
            raise ValueError(f"path must be a PenalizedPath, got {type(path).__name__}")
        self.path = path
        kind = _check_kind(kind)
        if lam is not None:
            lam = check_scalar(lam, "lam", strict=True)
        self._busy = False
        grid_kind = kind if kind != "none" else "l2"
        lo, hi, step = GRID_EXPONENTS[grid_kind]
        start = lam if lam is not None else float(np.sqrt(path.lams[grid_kind][0]
                                                          * path.lams[grid_kind][-1]))
        self.slider = widgets.FloatLogSlider(value=start, base=10, min=lo, max=hi, step=step,
                                             description="λ", readout_format=".1e",
                                             continuous_update=True)
        self.kind = widgets.ToggleButtons(options=[("none (λ = 0)", "none"), ("L2", "l2"),
                                                   ("L1", "l1")], value=kind, description="penalty")
        self._last_grid_kind = grid_kind
        self._build_figure(plt)
        self.slider.observe(lambda _c: self._on_change(), names="value")
        self.kind.observe(lambda _c: self._on_kind(), names="value")
        self.ui = widgets.VBox([widgets.HBox([self.kind, self.slider]),
                                widget_canvas(self.fig) or widgets.Output()])
        self._on_kind()

    def _build_figure(self, plt):
        from matplotlib.ticker import (
            FixedLocator,
            LogLocator,
            NullFormatter,
            NullLocator,
            ScalarFormatter,
        )

        p = self.path
        with plt.ioff():
            self.fig, (self.ax_fit, self.ax_coef, self.ax_err) = plt.subplots(
                1, 3, figsize=(10, 3.4), gridspec_kw={"width_ratios": [1.2, 1, 1.2]})
        ax = self.ax_fit
        ax.plot(p.x_val, p.y_val, ".", ms=3, color=COLORS["val"], alpha=0.5, label="validation")
        ax.plot(p.x_train, p.y_train, "o", ms=4, color=COLORS["train"], label="train")
        self.line_fit, = ax.plot(p.x_grid, p.table["none"]["y_grid"][0], lw=2, animated=True)
        allow_outside(self.line_fit, "the least-squares fit (λ = 0) swings beyond the points near "
                                     "the edges; the y range stays that of the points")
        ax.set(xlim=(0, 1), ylim=(-2.5, 2.5), xlabel="x", ylabel="y")
        ax = self.ax_coef
        j = np.arange(1, p.degree + 1)
        self.bars = ax.bar(j, np.zeros(p.degree), color=COLORS["l2"], animated=True)
        big = max(np.abs(t["coef"]).max() for t in p.table.values())
        ax.set(yscale="symlog", ylim=(-2 * big, 2 * big), xlabel="power j of x",
               ylabel="coefficient $w_j$ (symlog)")
        ticks = [t for t in (-1e6, -1e3, 0, 1e3, 1e6) if abs(t) <= 2 * big]
        ax.yaxis.set_major_locator(FixedLocator(ticks))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.set_xticks(j[::2])
        ax.axhline(0, color="k", lw=0.5)
        ax = self.ax_err
        self.err_train, = ax.plot([], [], color=COLORS["train"], label="train: points, MSE")
        self.err_val, = ax.plot([], [], color=COLORS["val"], label="validation: points, MSE")
        none = p.table["none"]
        ax.axhline(none["train_mse"][0], color=COLORS["train"], ls=":", lw=1)
        self.none_line = ax.axhline(none["val_mse"][0], color=COLORS["val"], ls=":", lw=1,
                                    label="MSE at λ = 0 (dotted)")
        self.vline = ax.axvline(1.0, color=COLORS["none"], ls="--", lw=1, animated=True,
                                label="the λ shown")
        self.dots, = ax.plot([], [], "o", color=COLORS["none"], ms=5, animated=True)
        ax.set(xscale="log", yscale="log", xlabel="λ (log)", ylabel="MSE (log)")
        ax.xaxis.set_major_locator(LogLocator(numticks=6))
        for axis in (ax.xaxis, ax.yaxis):  # fewer tick labels: text is most of the draw time
            axis.set_minor_locator(NullLocator())
            axis.set_minor_formatter(NullFormatter())
        ax.yaxis.set_major_locator(FixedLocator([0.1, 0.2, 0.5, 1, 2, 5]))
        ax.yaxis.set_major_formatter(ScalarFormatter())
        # Two-line titles: the state shown (written by update), above the axes where no bar or
        # curve can run through it; one legend under the three panels, for the same reason.
        self.ax_fit.set_title("the fit over the data\n ", fontsize=9)
        self.ax_coef.set_title("coefficients of the standardized powers\n ", fontsize=9)
        self.ax_err.set_title(" \n ", fontsize=9)
        handles = [self.err_train, self.err_val, self.none_line, self.vline]
        self.fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8)
        self.fig.tight_layout(rect=(0, 0.07, 1, 1))
        self.blitter = Blitter(self.fig, [self.line_fit, *self.bars, self.vline, self.dots],
                               labels=[self.ax_fit.title, self.ax_coef.title])

    def redraw(self) -> None:
        """Blit: paste the saved background, draw only the changing artists, send the image.

        A full ``fig.canvas.draw()`` (ticks, labels, points) costs several times more; it only
        runs when the background is missing or stale (first show, resize, kind switch). See
        :class:`helpers.blit.Blitter`.
        """
        self.blitter.redraw()

    def _on_kind(self):
        kind = self.kind.value
        if kind != "none" and kind != self._last_grid_kind:
            old = self._last_grid_kind
            lo, hi, step = GRID_EXPONENTS[kind]
            frac = (np.log10(self.slider.value) - GRID_EXPONENTS[old][0]) / (
                GRID_EXPONENTS[old][1] - GRID_EXPONENTS[old][0])
            self._busy = True
            try:  # widen first so the new value is never clamped by the old range
                self.slider.min, self.slider.max = min(lo, self.slider.min), max(hi, self.slider.max)
                self.slider.value = 10 ** (lo + round(frac * (hi - lo) / step) * step)
                self.slider.min, self.slider.max, self.slider.step = lo, hi, step
            finally:
                self._busy = False
            self._last_grid_kind = kind
        self.slider.disabled = kind == "none"
        self.slider.readout = kind != "none"  # a greyed-out value would mean nothing at λ = 0
        grid_kind = self._last_grid_kind
        t = self.path.table[grid_kind]
        self.err_train.set_data(self.path.lams[grid_kind], t["train_mse"])
        self.err_val.set_data(self.path.lams[grid_kind], t["val_mse"])
        lams = self.path.lams[grid_kind]
        self.ax_err.set_xlim(lams[0] / 2, lams[-1] * 2)
        ys = np.r_[t["train_mse"], t["val_mse"], self.path.table["none"]["val_mse"]]
        self.ax_err.set_ylim(ys.min() / 1.5, min(ys.max(), 10) * 1.5)
        self.ax_err.set_title(f"{grid_kind.upper()}: error against λ\n" if kind != "none" else
                              f"λ = 0: errors dotted,\n{grid_kind.upper()} path for comparison", fontsize=9)
        self.blitter.invalidate()  # static parts changed: the next redraw is a full one
        self.update()

    def _on_change(self):
        if not self._busy:
            self.update()

    def current_lambda(self) -> float:
        """The slider's value snapped to the nearest λ of the current kind's grid (0 for none)."""
        if self.kind.value == "none":
            return 0.0
        lams = self.path.lams[self.kind.value]
        return float(lams[np.argmin(np.abs(np.log10(lams) - np.log10(self.slider.value)))])

    def update(self) -> dict:
        """Recompute (a table look-up) and redraw in place; returns the state drawn."""
        kind = self.kind.value
        s = self.path.state(self.current_lambda(), kind)
        color = COLORS[kind]
        self.line_fit.set_data(s["x_grid"], s["y_grid"])
        self.line_fit.set_color(color)
        for bar, h in zip(self.bars, s["coef"], strict=True):
            bar.set_height(h)
            bar.set_color(color)
        if kind == "none":
            self.vline.set_visible(False)
            self.dots.set_data([], [])
        else:
            self.vline.set_visible(True)
            self.vline.set_xdata([s["lam"]])
            self.dots.set_data([s["lam"], s["lam"]], [s["train_mse"], s["val_mse"]])
        lam_text = "no penalty, λ = 0" if kind == "none" else f"{kind.upper()}, λ = {s['lam']:.1e}"
        self.ax_fit.set_title(f"{lam_text}\ntrain MSE {s['train_mse']:.3f}, val MSE {s['val_mse']:.3f}",
                              fontsize=9)
        nz = int(np.count_nonzero(s["coef"]))
        self.ax_coef.set_title(f"coefficients of the standardized powers\n"
                               f"max |w| = {np.abs(s['coef']).max():.2g}, {nz} nonzero", fontsize=9)
        self.redraw()
        return s
