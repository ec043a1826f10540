r"""Double descent with random Fourier features of a 1-D input, and its widget. Notebook 07.

Model: :math:`\hat f(x) = \sum_{j=1}^{p} w_j\,\varphi_j(x)` with
:math:`\varphi_j(x) = \sqrt{2/p}\,\cos(\omega_j x + b_j)`, frequencies :math:`\omega_j` drawn from a
Cauchy distribution of scale γ (:data:`FREQUENCY_SCALE`) and phases :math:`b_j \sim U(0, 2\pi)`.
There is **no separate intercept**: every one of the p weights is penalized alike (a feature
with a small :math:`\omega_j` is nearly constant on [0, 1] and plays that part). The factor
:math:`\sqrt{2/p}` keeps :math:`F F^\top` of the same size for every p (as p → ∞ it tends to the
kernel matrix :math:`e^{-\gamma|x_i - x_k|}`), so one λ means the same thing for every p.

Fits minimize the ridge cost of :func:`helpers.ridge_fit` without intercept,
:math:`\sum_i (y_i - \hat f(x_i))^2 + \lambda\|w\|^2`, for all λ at once
(:func:`helpers.linear.ridge_path_by_lambda`); λ = 0 is the minimum-norm least-squares solution
(``np.linalg.lstsq``/``pinv``), the unique least-squares fit when p < n and the interpolating
fit of smallest :math:`\|w\|` when p ≥ n. Features are nested: the fit with p features uses the
first p of one draw, so a curve against p changes one thing at a time.

The sweeps run thousands of SVDs of 30-row matrices with one BLAS thread: for matrices this small,
a second thread only adds synchronization, and on a busy 2-core machine it made the sweep of
notebook 07 more than ten times slower (measured: 10 s instead of 0.7 s for 20 draws).
"""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

from helpers._counts import MAX_SEED, check_int, check_iterations, check_seed, check_size
from helpers._validate import check_array, check_pair, check_scalar, check_xy, finite_result
from helpers.blit import Blitter
from helpers.data import make_curve_1d, true_curve
from helpers.linear import _check_lams, ridge_path_by_lambda
from helpers.overfitting import decade_limits
from helpers.plots import COLORS, allow_outside, widget_canvas

__all__ = ["FREQUENCY_SCALE", "DoubleDescentExplorer", "DoubleDescentPath", "double_descent_sweep",
           "draw_frequencies", "feature_counts", "fourier_features", "gradient_descent_least_squares",
           "kernel_limit_fit", "lambda_label", "size_kept_by_distance", "tuned_on_validation"]

FREQUENCY_SCALE = 30.0  # γ: the Cauchy scale of the frequencies (radians per unit of x)
MAX_SCALE = 1e6  # larger frequencies only alias on [0, 1]; far larger ones would overflow ωx
SEED_OFFSETS = (10_000, 20_000)  # the sweep's validation sets and features use seed + these + k


@finite_result("scale", action="draw frequencies", hint="use a scale of the order of 1 to 1000")
def draw_frequencies(p: int, scale: float = FREQUENCY_SCALE, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r"""``p`` random frequencies :math:`\omega_j \sim \mathrm{Cauchy}(0, \gamma)` and phases
    :math:`b_j \sim U(0, 2\pi)` from ``np.random.default_rng(seed)``: ``(omega, phase)``.
    Notebook 07."""
    p = check_int(p, "p", min_value=1)
    check_size(2 * p, "p")
    scale = check_scalar(scale, "scale", strict=True, max_value=MAX_SCALE)
    rng = np.random.default_rng(check_seed(seed))
    return scale * rng.standard_cauchy(p), rng.uniform(0.0, 2 * np.pi, p)


@finite_result("x", "omega", "phase", action="compute features", hint="rescale {name}")
def fourier_features(x, omega, phase) -> np.ndarray:
    r"""Random Fourier features :math:`\sqrt{2/p}\,\cos(\omega_j x + b_j)`: one row per ``x``, one
    column per frequency (``p = len(omega)``). Notebook 07."""
    x = check_array(x, "x", ndim=1)
    omega, phase = check_pair(omega, phase, "omega", "phase", ndim=1)
    check_size(x.size * omega.size, "omega")
    return np.sqrt(2.0 / omega.size) * np.cos(np.outer(x, omega) + phase)


def feature_counts(n: int, p_max: int = 1000, per_decade: int = 10) -> np.ndarray:
    """Numbers of features from 1 to ``p_max``, log-spaced (``per_decade`` a decade), plus every
    whole number within 5 of ``n`` (where the peak is): increasing, no repeats. Notebook 07."""
    n = check_int(n, "n", min_value=1)
    p_max = check_int(p_max, "p_max", min_value=1)
    per_decade = check_int(per_decade, "per_decade", min_value=1)
    count = round(per_decade * np.log10(p_max)) + 1
    check_size(count, "per_decade")
    logs = np.round(np.logspace(0, np.log10(p_max), count))
    near = np.arange(max(1, n - 5), min(p_max, n + 5) + 1)
    return np.unique(np.r_[logs.astype(int), near])


@finite_result("F", "y", "lr", "w0", action="descend",
               hint="the steps diverge unless lr < 2 / (largest singular value of F)²; or rescale {name}")
def gradient_descent_least_squares(F, y, lr: float, n_steps: int, w0=None) -> np.ndarray:
    r"""Plain gradient descent on :math:`\tfrac12\|F w - y\|^2` (half the *sum* of squared errors).

    Each step is :math:`w \leftarrow w - \eta\,F^\top (F w - y)`, starting from ``w0`` (zeros by
    default); it converges for :math:`0 < \eta < 2/s_{\max}^2` (:math:`s_{\max}` the largest
    singular value of F). Every step adds a vector of the form :math:`F^\top r`, so from
    :math:`w_0 = 0` the iterates stay in the row space of F, and the only least-squares solution
    there is the minimum-norm one: gradient descent from zero converges to :math:`F^+ y`.
    Returns ``w`` after ``n_steps`` steps. Notebook 07.
    """
    F, y = check_xy(F, y, "F", "y")
    lr = check_scalar(lr, "lr", strict=True)
    n_steps = check_iterations(n_steps, "n_steps", min_value=0)
    w = np.zeros(F.shape[1]) if w0 is None else check_array(w0, "w0", ndim=1).copy()
    if w.shape != (F.shape[1],):
        raise ValueError(f"w0 must have shape ({F.shape[1]},), got {w.shape}")
    for _ in range(n_steps):
        w -= lr * (F.T @ (F @ w - y))
    return w


def _fits(F_train, y_train, F_eval, lams):
    """Ridge (no intercept) along ``lams``: predictions at the rows of ``F_eval`` (``m × L``) and
    the weight norms (``L``)."""
    coefs, _ = ridge_path_by_lambda(F_train, y_train, lams, fit_intercept=False)
    return F_eval @ coefs.T, np.linalg.norm(coefs, axis=1)


def _check_grid(ps, lams, rows: int):
    """Feature counts (increasing whole numbers >= 1) and λ values (>= 0), for ``rows`` inputs."""
    ps = check_array(ps, "ps", ndim=1)
    if np.any(ps != np.round(ps)) or np.any(ps < 1) or np.any(np.diff(ps) <= 0):
        raise ValueError("ps must be increasing whole numbers >= 1")
    ps = np.array([check_int(p, "ps", min_value=1) for p in ps], dtype=int)
    check_size(rows * int(ps[-1]), "ps")
    return ps, _check_lams(lams)


@finite_result("x_test", "y_test", "noise", "scale", action="fit", hint="rescale {name}")
def double_descent_sweep(ps, lams, x_test, y_test, *, n_train: int = 30, n_val: int = 100,
                         noise: float = 0.3, n_draws: int = 200, scale: float = FREQUENCY_SCALE,
                         seed: int = 0) -> dict:
    r"""Test error, validation error and weight norm of the ridge fit for every p, λ and draw.

    Draw ``k`` (``k = 0 .. n_draws-1``) is a fresh training set ``make_curve_1d(n_train, noise,
    seed + k)``, a fresh validation set ``make_curve_1d(n_val, noise, seed + 10_000 + k)`` and
    fresh features ``draw_frequencies(max(ps), scale, seed + 20_000 + k)`` (so ``seed`` is at most
    ``MAX_SEED - 20_000 - n_draws``); the test points ``(x_test, y_test)`` are the same for every
    draw. Fits as in the module docstring. Returns ``{"ps", "lams", "test_mse", "val_mse",
    "weight_norm"}``, the last three of shape ``(n_draws, len(ps), len(lams))``. Notebook 07.
    """
    x_test, y_test = check_pair(x_test, y_test, "x_test", "y_test", ndim=1)
    n_train = check_int(n_train, "n_train", min_value=1)
    n_val = check_int(n_val, "n_val", min_value=1)
    ps, lams = _check_grid(ps, lams, n_train + n_val + x_test.size)
    noise = check_scalar(noise, "noise", max_value=1e6)
    n_draws = check_int(n_draws, "n_draws", min_value=1)
    check_size(3 * n_draws * ps.size * lams.size, "n_draws")
    scale = check_scalar(scale, "scale", strict=True, max_value=MAX_SCALE)
    seed = check_int(seed, "seed", max_value=MAX_SEED - SEED_OFFSETS[-1] - n_draws)
    shape = (n_draws, ps.size, lams.size)
    out = {"ps": ps, "lams": lams, "test_mse": np.empty(shape), "val_mse": np.empty(shape),
           "weight_norm": np.empty(shape)}
    with threadpool_limits(limits=1, user_api="blas"):  # see the module docstring
        for k in range(n_draws):
            _sweep_draw(out, k, ps, lams, x_test, y_test, n_train, n_val, noise, scale, seed)
    return out


def _sweep_draw(out, k, ps, lams, x_test, y_test, n_train, n_val, noise, scale, seed):
    """Draw ``k`` of :func:`double_descent_sweep`, written into row ``k`` of ``out``'s tables."""
    x, y = make_curve_1d(n_train, noise, seed=seed + k)
    x_val, y_val = make_curve_1d(n_val, noise, seed=seed + SEED_OFFSETS[0] + k)
    omega, phase = draw_frequencies(ps[-1], scale, seed=seed + SEED_OFFSETS[1] + k)
    cosines = np.cos(np.outer(np.r_[x, x_val, x_test], omega) + phase)  # all features, unscaled
    targets = np.r_[y_val, y_test]
    for i, p in enumerate(ps):
        F = np.sqrt(2.0 / p) * cosines[:, :p]
        pred, out["weight_norm"][k, i] = _fits(F[:n_train], y, F[n_train:], lams)
        sq = (pred - targets[:, None]) ** 2
        out["val_mse"][k, i], out["test_mse"][k, i] = sq[:n_val].mean(0), sq[n_val:].mean(0)


@finite_result("x_train", "y_train", "x_new", "scale", action="fit",
               hint="the training inputs must be distinct; or rescale {name}")
def kernel_limit_fit(x_train, y_train, x_new, scale: float = FREQUENCY_SCALE) -> np.ndarray:
    r"""The minimum-norm interpolant with infinitely many features (p → ∞), at ``x_new``.

    As p grows, :math:`F F^\top` tends to the Laplace kernel matrix :math:`K_{ik} =
    e^{-\gamma|x_i - x_k|}` (module docstring), and the minimum-norm fit :math:`F_{new} F^\top
    (F F^\top)^{-1} y` to :math:`\hat f(x) = \sum_i c_i\,e^{-\gamma|x - x_i|}` with :math:`K c = y`:
    a sum of bumps of width about :math:`1/\gamma` centred on the training inputs, so between
    inputs farther apart than that it sags toward 0. The training inputs must be distinct.
    Returns the predictions at ``x_new``. Notebook 07.
    """
    x_train, y_train = check_pair(x_train, y_train, "x_train", "y_train", ndim=1)
    x_new = check_array(x_new, "x_new", ndim=1)
    scale = check_scalar(scale, "scale", strict=True, max_value=MAX_SCALE)
    check_size(x_train.size**2, "x_train")
    if np.unique(x_train).size < x_train.size:
        raise ValueError("x_train must hold distinct inputs (K would be singular), got a value twice")
    check_size(x_new.size * x_train.size, "x_new")
    K = np.exp(-scale * np.abs(x_train[:, None] - x_train[None, :]))
    return np.exp(-scale * np.abs(x_new[:, None] - x_train[None, :])) @ np.linalg.solve(K, y_train)


@finite_result("fit", "f_true", action="compare", hint="rescale {name}")
def size_kept_by_distance(fit, f_true, x, x_train, near: float = 0.005, far: float = 0.015) -> tuple[float, float]:
    r"""How much of the curve's size a fit keeps close to the training inputs and far from them.

    ``fit[j]`` and ``f_true[j]`` are a fit and the true curve at ``x[j]``. Returns
    :math:`\sum_{j \in J}|\text{fit}_j| / \sum_{j \in J}|f(x_j)|` for :math:`J` the inputs within
    ``near`` of the nearest training input, then for :math:`J` those farther than ``far``:
    1 is "full size", 0 "flat at 0". Notebook 07 (the mean fit of the minimum-norm interpolant).
    """
    fit, f_true = check_pair(fit, f_true, "fit", "f_true", ndim=1)
    fit, x = check_pair(fit, x, "fit", "x", ndim=1)
    x_train = check_array(x_train, "x_train", ndim=1)
    near = check_scalar(near, "near")
    far = check_scalar(far, "far", min_value=near)
    check_size(x.size * x_train.size, "x")
    gap = np.min(np.abs(x[:, None] - x_train[None, :]), axis=1)
    ratios = []
    for name, mask in (("near", gap <= near), ("far", gap > far)):
        size = np.sum(np.abs(f_true[mask]))
        if not size > 0:
            where = f"within near = {near:g} of" if name == "near" else f"farther than far = {far:g} from"
            raise ValueError(f"x has no input with a nonzero f_true {where} a training input")
        ratios.append(float(np.sum(np.abs(fit[mask])) / size))
    return ratios[0], ratios[1]


def tuned_on_validation(sweep: dict) -> tuple[np.ndarray, np.ndarray]:
    """For each draw and p, the λ of the grid with the lowest validation MSE and its test MSE.

    Returns ``(test_mse, lam)``, both of shape ``(n_draws, len(ps))``: a practical stand-in for
    the "optimal" λ of Nakkiran et al. (2021), tuned on data the fit never saw. Notebook 07.
    """
    if not isinstance(sweep, dict) or not {"lams", "val_mse", "test_mse"} <= set(sweep):
        raise ValueError("sweep must be the dict double_descent_sweep returns (with 'lams', 'val_mse' "
                         f"and 'test_mse'), got {type(sweep).__name__}")
    val, test = check_pair(sweep["val_mse"], sweep["test_mse"], 'sweep["val_mse"]', 'sweep["test_mse"]', ndim=3)
    lams = check_array(sweep["lams"], 'sweep["lams"]', ndim=1)
    if lams.size != val.shape[2]:
        raise ValueError(f'sweep["lams"] must have one entry per λ of sweep["val_mse"] ({val.shape[2]}), '
                         f"got {lams.size}")
    best = np.argmin(val, axis=2)
    return np.take_along_axis(test, best[..., None], axis=2)[..., 0], lams[best]


def lambda_label(lam: float) -> str:
    """``0`` or ``1e-08``-style text for a λ of the widget's grid."""
    lam = check_scalar(lam, "lam")
    return "0" if lam == 0 else f"{lam:.0e}"


class DoubleDescentPath:
    r"""Every fit of one training set and one feature draw over a grid of p and λ. Notebook 07.

    Built once (one SVD per p); ``state(p, lam)`` is then a table look-up: the fitted curve on
    ``x_grid``, and the training MSE, test MSE and :math:`\|w\|` of that fit. ``test_mse`` and
    ``weight_norm`` are ``len(ps) × len(lams)`` tables, ``y_grid`` is
    ``len(ps) × len(lams) × n_grid``.
    """

    @finite_result("x_train", "y_train", "x_test", "y_test", action="fit", hint="rescale {name}")
    def __init__(self, x_train, y_train, x_test, y_test, ps, lams, *, scale: float = FREQUENCY_SCALE,
                 seed: int = 0, n_grid: int = 200):
        self.x_train, self.y_train = check_pair(x_train, y_train, "x_train", "y_train", ndim=1)
        self.x_test, self.y_test = check_pair(x_test, y_test, "x_test", "y_test", ndim=1)
        n_grid = check_int(n_grid, "n_grid", min_value=2)
        self.ps, self.lams = _check_grid(ps, lams, self.x_train.size + self.x_test.size + n_grid)
        check_size(self.ps.size * self.lams.size * n_grid, "n_grid")
        self.x_grid = np.linspace(0.0, 1.0, n_grid)
        self.omega, self.phase = draw_frequencies(self.ps[-1], scale, seed)
        n, m = self.x_train.size, self.x_test.size
        cosines = np.cos(np.outer(np.r_[self.x_train, self.x_test, self.x_grid], self.omega) + self.phase)
        shape = (self.ps.size, self.lams.size)
        self.train_mse, self.test_mse, self.weight_norm = np.empty(shape), np.empty(shape), np.empty(shape)
        self.y_grid = np.empty((*shape, self.x_grid.size))
        with threadpool_limits(limits=1, user_api="blas"):  # see the module docstring
            for i, p in enumerate(self.ps):
                F = np.sqrt(2.0 / p) * cosines[:, :p]
                pred, self.weight_norm[i] = _fits(F[:n], self.y_train, F, self.lams)
                self.train_mse[i] = ((pred[:n] - self.y_train[:, None]) ** 2).mean(0)
                self.test_mse[i] = ((pred[n:n + m] - self.y_test[:, None]) ** 2).mean(0)
                self.y_grid[i] = pred[n + m:].T

    def index(self, p, lam) -> tuple[int, int]:
        """Positions of ``p`` and ``lam`` in the grids (``ValueError`` naming the one not on its grid)."""
        p, lam = check_int(p, "p", min_value=1), check_scalar(lam, "lam")
        i, j = np.flatnonzero(self.ps == p), np.flatnonzero(np.isclose(self.lams, lam, rtol=1e-9, atol=0.0))
        if i.size == 0:
            raise ValueError(f"p must be one of the grid's values {self.ps.tolist()}, got {p!r}")
        if j.size == 0:
            raise ValueError(f"lam must be one of the grid's values {self.lams.tolist()}, got {lam!r}")
        return int(i[0]), int(j[0])

    def state(self, p, lam) -> dict:
        """``(p, λ)`` -> ``x_grid, y_grid, train_mse, test_mse, weight_norm`` and the test-MSE
        curve against p at this λ (``curve``)."""
        i, j = self.index(p, lam)
        return {"p": int(self.ps[i]), "lam": float(self.lams[j]), "x_grid": self.x_grid,
                "y_grid": self.y_grid[i, j], "train_mse": float(self.train_mse[i, j]),
                "test_mse": float(self.test_mse[i, j]), "weight_norm": float(self.weight_norm[i, j]),
                "curve": self.test_mse[:, j]}


class DoubleDescentExplorer:
    """Widget of notebook 07: sliders for the number of features p (log-spaced) and λ (0, then
    log-spaced); left the fit over the data, right the test MSE against p at this λ with the
    current p marked (the λ = 0 curve dotted, p = n dash-dotted; the curve of this λ has markers, so
    its legend entry differs from the fit's, which has the same colour: the same model).

    Everything is precomputed in a :class:`DoubleDescentPath`; a move is a look-up and a blit
    (:class:`helpers.blit.Blitter`: the points, the true curve, axes and the λ = 0 curve are the
    static background). ``.fig``, ``.p``, ``.lam``, ``.ui``, ``.update()``.
    """

    def __init__(self, path: DoubleDescentPath, p: int | None = None, lam: float = 0.0):
        import ipywidgets as widgets
        import matplotlib.pyplot as plt

        if not isinstance(path, DoubleDescentPath):
            raise ValueError(f"path must be a DoubleDescentPath, got {type(path).__name__}")
        self.path = path
        n = path.x_train.size
        p = int(path.ps[np.argmin(np.abs(np.log(path.ps / n)))]) if p is None else p
        i, j = path.index(p, lam)  # both on the grid, or a ValueError naming the one that is not
        self.p = widgets.SelectionSlider(options=[(str(v), int(v)) for v in path.ps], value=int(path.ps[i]),
                                         description="p features", continuous_update=True)
        self.lam = widgets.SelectionSlider(options=[(lambda_label(v), float(v)) for v in path.lams],
                                           value=float(path.lams[j]), description="λ", continuous_update=True)
        with plt.ioff():
            self.fig, (self.ax_fit, self.ax_err) = plt.subplots(1, 2, figsize=(9.5, 3.6),
                                                                layout="constrained")
        self._draw_static(n)
        self.blitter = Blitter(self.fig, [self.line_fit, self.line_err, self.vline, self.dot],
                               labels=[self.ax_fit.title, self.ax_err.title])
        for w in (self.p, self.lam):
            w.observe(lambda _change: self.update(), names="value")
        self.ui = widgets.VBox([widgets.HBox([self.p, self.lam]),
                                widget_canvas(self.fig) or widgets.Output()])
        self.update()

    def _draw_static(self, n: int) -> None:
        path, ax = self.path, self.ax_fit
        ax.plot(path.x_test, path.y_test, ".", ms=3, color=COLORS["test"], alpha=0.4, label="test")
        ax.plot(path.x_train, path.y_train, "o", ms=4, color=COLORS["train"], label="train")
        ax.plot(path.x_grid, true_curve(path.x_grid), "--", lw=1, color=COLORS["truth"], label="sin(2πx)")
        self.line_fit, = ax.plot([], [], lw=2, color=COLORS["l2"], label="fit")
        allow_outside(self.line_fit, "near p = n the minimum-norm fit swings far beyond the data; "
                      "the y range stays at ±2.5 so that the data stay readable")
        ax.set(xlim=(0, 1), ylim=(-2.5, 2.5), xlabel="x", ylabel="y")
        ax = self.ax_err
        j0 = int(np.flatnonzero(path.lams == 0.0)[0]) if np.any(path.lams == 0.0) else 0
        ax.plot(path.ps, path.test_mse[:, j0], ":", lw=1.5, color=COLORS["none"],
                label=f"λ = {lambda_label(path.lams[j0])}")
        # the same model as the fit, hence its colour; markers tell the two swatches apart in the legend
        self.line_err, = ax.plot([], [], "o-", lw=2, ms=3.5, color=COLORS["l2"], label="test MSE, this λ")
        self.vline = ax.axvline(1.0, color=COLORS["l2"], lw=1, ls="-")
        self.dot, = ax.plot([], [], "o", ms=6, color=COLORS["l2"])
        ax.axvline(n, color=COLORS["truth"], lw=1, ls="-.", label=f"p = n = {n}")  # "--" is the true curve
        ax.set(xscale="log", yscale="log", xlim=(path.ps[0] / 1.3, path.ps[-1] * 1.3),
               ylim=decade_limits(np.clip(path.test_mse, 1e-12, 1e300), floor=1e-12),
               xlabel="number of features p (log)", ylabel="test MSE (log)")
        # one legend under both panels, where neither the fit nor the p marker can cross it
        handles = [h for a in (self.ax_fit, self.ax_err) for h in a.get_legend_handles_labels()[0]]
        self.fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=8)

    def update(self) -> dict:
        """Look up the state of the sliders' (p, λ) and redraw the changing artists."""
        s = self.path.state(self.p.value, self.lam.value)
        self.line_fit.set_data(s["x_grid"], s["y_grid"])
        self.line_err.set_data(self.path.ps, s["curve"])
        self.vline.set_xdata([s["p"]])
        self.dot.set_data([s["p"]], [s["test_mse"]])
        lam = lambda_label(s["lam"])
        self.ax_fit.set_title(f"p = {s['p']}, λ = {lam}: train MSE {s['train_mse']:.3f}, "
                              f"‖w‖ = {s['weight_norm']:.3g}", fontsize=9)
        self.ax_err.set_title(f"test MSE {s['test_mse']:.3g} at p = {s['p']}, λ = {lam}", fontsize=9)
        self.blitter.redraw()
        return s
