"""Why L1 lands on an axis: constrained optima of a two-weight loss, and the widget that shows them.

The data loss is a quadratic bowl :math:`L(w) = (w - \\hat w)^\\top H (w - \\hat w)` around the
unregularized optimum :math:`\\hat w` (for least squares, :math:`H = X^\\top X`). Its contours are
ellipses. The constrained problems

.. math:: \\min_w L(w) \\;\\text{s.t.}\\; \\|w\\|_1 \\le t \\qquad\\text{and}\\qquad
          \\min_w L(w) \\;\\text{s.t.}\\; \\|w\\|_2 \\le t

are the penalized ones in another form: for each :math:`t` there is a :math:`\\lambda` giving the
same solution. Introduced in notebook 04 (``04_l1_vs_l2.ipynb``).
"""

from __future__ import annotations

import math

import numpy as np

from helpers._counts import check_int, check_size
from helpers._validate import check_array, check_scalar, finite_result
from helpers.blit import Blitter
from helpers.plots import COLORS, allow_outside, widget_canvas

__all__ = [
    "GeometryView",
    "circle_xy",
    "constrained_l1",
    "constrained_l2",
    "diamond_xy",
    "level_set_xy",
    "quadratic_loss",
]


def _check_problem(w_hat, hessian):
    w_hat = check_array(w_hat, "w_hat", ndim=1)
    if w_hat.shape != (2,):
        raise ValueError(f"w_hat must have 2 entries, got shape {w_hat.shape}")
    hessian = check_array(hessian, "hessian", ndim=2)
    if hessian.shape != (2, 2):
        raise ValueError(f"hessian must be 2 x 2, got shape {hessian.shape}")
    if not np.allclose(hessian, hessian.T) or np.linalg.eigvalsh(hessian).min() <= 0:
        raise ValueError("hessian must be symmetric positive definite")
    return w_hat, hessian


_PROBLEM = ("w_hat", "hessian")


@finite_result("W", *_PROBLEM, action="evaluate the loss")
def quadratic_loss(W, w_hat, hessian) -> np.ndarray:
    r""":math:`(w - \hat w)^\top H (w - \hat w)` for every row of ``W`` (shape ``(..., 2)``)."""
    w_hat, hessian = _check_problem(w_hat, hessian)
    W = check_array(W, "W")
    if W.ndim == 0 or W.shape[-1] != 2:
        raise ValueError(f"W must have 2 entries in its last axis, got shape {W.shape}")
    D = W - w_hat
    return np.einsum("...i,ij,...j->...", D, hessian, D)


def diamond_xy(t: float) -> tuple[np.ndarray, np.ndarray]:
    r"""Closed outline of the L1 ball :math:`|w_1| + |w_2| \le t` (5 points)."""
    t = check_scalar(t, "t")
    return np.array([t, 0, -t, 0, t], dtype=float), np.array([0, t, 0, -t, 0], dtype=float)


def circle_xy(t: float, n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    r"""Closed outline of the L2 ball :math:`w_1^2 + w_2^2 \le t^2` (``n`` points)."""
    t = check_scalar(t, "t")
    angle = np.linspace(0.0, 2 * np.pi, _check_points(n))
    return t * np.cos(angle), t * np.sin(angle)


def _check_points(n) -> int:
    n = check_int(n, "n", min_value=3)
    check_size(2 * n, "n")
    return n


@finite_result(*_PROBLEM, "level", action="draw the ellipse")
def level_set_xy(w_hat, hessian, level: float, n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    r"""Outline of the ellipse :math:`(w-\hat w)^\top H (w-\hat w) = c` (``level`` = c), closed.

    Parametrized as :math:`\hat w + \sqrt{c}\,H^{-1/2}(\cos\theta, \sin\theta)`.
    """
    w_hat, hessian = _check_problem(w_hat, hessian)
    level = check_scalar(level, "level")
    vals, vecs = np.linalg.eigh(hessian)
    angle = np.linspace(0.0, 2 * np.pi, _check_points(n))
    circle = np.stack([np.cos(angle), np.sin(angle)])
    pts = w_hat[:, None] + np.sqrt(level) * (vecs / np.sqrt(vals)) @ circle
    return pts[0], pts[1]


@finite_result(*_PROBLEM, "t", action="find the constrained optimum")
def constrained_l2(w_hat, hessian, t: float) -> np.ndarray:
    r"""Minimizer of :math:`(w-\hat w)^\top H (w-\hat w)` subject to :math:`\|w\|_2 \le t`.

    If :math:`\|\hat w\|_2 \le t` it is :math:`\hat w`. Otherwise it lies on the circle, at
    :math:`w(\mu) = (H + \mu I)^{-1} H \hat w` with :math:`\mu > 0` chosen (by bisection) so that
    :math:`\|w(\mu)\| = t`: exactly the ridge solution for penalty :math:`\mu\|w\|^2`.
    """
    w_hat, hessian = _check_problem(w_hat, hessian)
    t = check_scalar(t, "t")
    if np.linalg.norm(w_hat) <= t:
        return w_hat.copy()
    if t == 0.0:
        return np.zeros(2)

    # In H's eigenbasis (H = V diag(h) V^T, c = V^T w_hat): w(mu) = V (h c / (h + mu)), so
    # the bisection runs on plain floats (a slider update calls this; no 2 x 2 solves needed).
    h, V = np.linalg.eigh(hessian)
    (h1, h2), (c1, c2) = h.tolist(), (V.T @ w_hat).tolist()

    def norm_of(mu):
        return math.hypot(h1 * c1 / (h1 + mu), h2 * c2 / (h2 + mu))

    lo, hi = 0.0, 1.0
    while norm_of(hi) > t:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if norm_of(mid) > t else (lo, mid)
    w = V @ (h * np.array([c1, c2]) / (h + hi))
    return w * (t / np.linalg.norm(w))  # land exactly on the circle


@finite_result(*_PROBLEM, "t", action="find the constrained optimum")
def constrained_l1(w_hat, hessian, t: float) -> np.ndarray:
    r"""Minimizer of :math:`(w-\hat w)^\top H (w-\hat w)` subject to :math:`|w_1|+|w_2| \le t`.

    If :math:`\|\hat w\|_1 \le t` it is :math:`\hat w`. Otherwise it lies on the diamond: the
    quadratic is minimized exactly along each of the four edges (a 1-D quadratic, clipped to the
    edge) and the best point is kept. When the best point of an edge is one of its ends, the
    answer is a corner, on an axis, with one weight exactly 0.
    """
    w_hat, hessian = _check_problem(w_hat, hessian)
    t = check_scalar(t, "t")
    if np.abs(w_hat).sum() <= t:
        return w_hat.copy()
    corners = t * np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    best, best_loss = None, np.inf
    for k in range(4):
        start, end = corners[k], corners[(k + 1) % 4]
        d = end - start
        curvature = d @ hessian @ d
        s = 0.0 if curvature == 0 else float(d @ hessian @ (w_hat - start) / curvature)
        s = min(max(s, 0.0), 1.0)
        # snap to a corner exactly so a zero weight is a true 0.0
        w = start.copy() if s == 0.0 else end.copy() if s == 1.0 else start + s * d
        loss = float((w - w_hat) @ hessian @ (w - w_hat))
        if loss < best_loss:
            best, best_loss = w, loss
    best[best == 0.0] = 0.0
    return best


class GeometryView:
    r"""Loss contours with the L1 diamond and the L2 disk of size ``t``, and both optima.

    Dashed ellipses are the loss contours through each optimum: each touches its constraint
    region there, and the diamond is touched first at a corner for a wide range of ``t``.

    ``GeometryView(w_hat, hessian, t=...)`` builds the figure (``.fig``, ``.ax``) and an
    ``ipywidgets.FloatSlider`` (``.slider``) for the constraint size :math:`t`; moving the slider
    calls :meth:`update`, which moves the diamond, the circle and the two optima in place and
    returns ``(w_l1, w_l2)``. The figure is blitted (:class:`helpers.blit.Blitter`): contours,
    axes and legend are drawn once; an update redraws only the moving lines and the title.
    Display with ``display(view.ui)``.
    Works under any matplotlib backend; with ``%matplotlib widget`` (ipympl) the canvas is part
    of ``.ui``. Introduced in notebook 04.
    """

    @finite_result(*_PROBLEM, "lim", action="draw the loss contours")
    def __init__(self, w_hat=(2.0, 0.9), hessian=((1.5, 0.8), (0.8, 1.0)), t: float = 1.0,
                 t_min: float = 0.1, t_max: float = 3.0, lim: float = 3.2):
        import ipywidgets as widgets
        import matplotlib.pyplot as plt

        self.w_hat, self.hessian = _check_problem(w_hat, hessian)
        t = check_scalar(t, "t", min_value=0.0, strict=True)
        t_min = check_scalar(t_min, "t_min", min_value=0.0, strict=True)
        t_max = check_scalar(t_max, "t_max", min_value=t_min, strict=True)
        lim = check_scalar(lim, "lim", min_value=0.0, strict=True)
        if not t_min <= t <= t_max:
            raise ValueError(f"t must be in [t_min, t_max] = [{t_min:g}, {t_max:g}], got {t!r}")

        with plt.ioff():
            self.fig, self.ax = plt.subplots(figsize=(5.2, 5.2))
        ax = self.ax
        grid = np.linspace(-lim, lim, 241)
        W1, W2 = np.meshgrid(grid, grid)
        Z = quadratic_loss(np.stack([W1, W2], axis=-1), self.w_hat, self.hessian)
        ax.contour(W1, W2, Z, levels=np.geomspace(0.05, Z.max(), 14), colors="0.6",
                   linewidths=0.8)
        ax.axhline(0, color="0.3", lw=0.8)
        ax.axvline(0, color="0.3", lw=0.8)
        ax.plot(*self.w_hat, "x", color=COLORS["none"], ms=9, mew=2, label="no penalty")
        (self.diamond,) = ax.plot(*diamond_xy(t), color=COLORS["l1"], lw=2)
        (self.circle,) = ax.plot(*circle_xy(t), color=COLORS["l2"], lw=2)
        (self.l1_level,) = ax.plot([], [], "--", color=COLORS["l1"], lw=1)
        (self.l2_level,) = ax.plot([], [], "--", color=COLORS["l2"], lw=1)
        for level in (self.l1_level, self.l2_level):
            allow_outside(level, "the contour through an optimum is a whole ellipse; the plot shows "
                                 "the part near the constraint regions")
        (self.l1_point,) = ax.plot([], [], "o", color=COLORS["l1"], ms=9, label="L1 optimum")
        (self.l2_point,) = ax.plot([], [], "o", color=COLORS["l2"], ms=9, label="L2 optimum")
        ax.set(xlim=(-lim, lim), ylim=(-lim, lim), xlabel="$w_1$", ylabel="$w_2$", aspect="equal")
        ax.set_title(" \n ", fontsize=10)  # room for the two-line title update() writes
        # under the axes: at large t the diamond and the circle reach every corner of the plot
        self.fig.legend(loc="lower center", ncol=3, fontsize=9)
        self.fig.tight_layout(rect=(0, 0.06, 1, 1))
        self.blitter = Blitter(self.fig, [self.diamond, self.circle, self.l1_level,
                                          self.l2_level, self.l1_point, self.l2_point],
                               labels=[self.ax.title])
        self.slider = widgets.FloatSlider(value=t, min=t_min, max=t_max, step=0.05,
                                          description="t (size)", continuous_update=True)
        self.slider.observe(lambda change: self.update(change["new"]), names="value")
        canvas = widget_canvas(self.fig)
        self.ui = widgets.VBox([self.slider] + ([canvas] if canvas is not None else []))
        self.update(t)

    def update(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Move the constraint outlines and the optima to size ``t``; returns ``(w_l1, w_l2)``."""
        t = check_scalar(t, "t")
        w_l1 = constrained_l1(self.w_hat, self.hessian, t)
        w_l2 = constrained_l2(self.w_hat, self.hessian, t)
        self.diamond.set_data(*diamond_xy(t))
        self.circle.set_data(*circle_xy(t))
        self.l1_level.set_data(*level_set_xy(self.w_hat, self.hessian,
                                             quadratic_loss(w_l1, self.w_hat, self.hessian)))
        self.l2_level.set_data(*level_set_xy(self.w_hat, self.hessian,
                                             quadratic_loss(w_l2, self.w_hat, self.hessian)))
        self.l1_point.set_data([w_l1[0]], [w_l1[1]])
        self.l2_point.set_data([w_l2[0]], [w_l2[1]])
        l1_text = "on an axis" if np.any(w_l1 == 0) else "off the axes"
        l2_text = "on an axis" if np.any(w_l2 == 0) else "off the axes"
        self.ax.set_title(f"t = {t:.2f}: L1 optimum ({w_l1[0]:.2f}, {w_l1[1]:.2f}) {l1_text},\n"
                          f"L2 optimum ({w_l2[0]:.2f}, {w_l2[1]:.2f}) {l2_text}", fontsize=10)
        self.blitter.redraw()
        return w_l1, w_l2
