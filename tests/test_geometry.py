"""Tests for helpers.geometry: constrained optima (against brute force) and the widget glue."""

import numpy as np
import pytest

from helpers.geometry import (
    GeometryView,
    circle_xy,
    constrained_l1,
    constrained_l2,
    diamond_xy,
    level_set_xy,
    quadratic_loss,
)

W_HAT = np.array([2.0, 0.9])
H = np.array([[1.5, 0.8], [0.8, 1.0]])


def _brute(norm, t, w_hat=W_HAT, hessian=H):
    """Best point on a fine polar grid of the ball {norm(w) <= t}, boundary included."""
    angle = np.linspace(0, 2 * np.pi, 20001)
    directions = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    directions = directions / norm(directions)[:, None]
    pts = np.concatenate([t * directions * r for r in np.linspace(0, 1, 41)])
    losses = quadratic_loss(pts, w_hat, hessian)
    return pts[np.argmin(losses)], losses.min()


@pytest.mark.parametrize("t", [0.3, 1.0, 1.6, 2.2, 2.8])
def test_constrained_l1_matches_brute_force(t):
    w = constrained_l1(W_HAT, H, t)
    assert np.abs(w).sum() <= t + 1e-12
    _, best = _brute(lambda d: np.abs(d).sum(axis=1), t)
    assert quadratic_loss(w, W_HAT, H) <= best + 1e-9


@pytest.mark.parametrize("t", [0.3, 1.0, 1.6, 2.2, 2.8])
def test_constrained_l2_matches_brute_force_and_ridge(t):
    w = constrained_l2(W_HAT, H, t)
    assert np.linalg.norm(w) <= t + 1e-12
    _, best = _brute(lambda d: np.linalg.norm(d, axis=1), t)
    assert quadratic_loss(w, W_HAT, H) <= best + 1e-9
    # KKT: H (w - w_hat) + mu w = 0 for one mu >= 0, i.e. the gradient is parallel to w
    grad = H @ (w - W_HAT)
    assert abs(grad[0] * w[1] - grad[1] * w[0]) < 1e-8


def test_l1_lands_on_an_axis_and_l2_does_not():
    ts = np.linspace(0.1, 1.7, 17)
    assert all(constrained_l1(W_HAT, H, t)[1] == 0.0 for t in ts)
    assert all(np.all(constrained_l2(W_HAT, H, t) != 0) for t in ts)


def test_inside_the_ball_the_unconstrained_optimum_is_kept():
    np.testing.assert_array_equal(constrained_l1(W_HAT, H, 3.0), W_HAT)
    np.testing.assert_array_equal(constrained_l2(W_HAT, H, 2.5), W_HAT)
    np.testing.assert_array_equal(constrained_l2(W_HAT, H, 0.0), [0.0, 0.0])


def test_orthonormal_l1_is_soft_thresholding():
    # with H = I, the constrained L1 optimum is S_lam(w_hat) with lam = (w1 - w2 - ...)/2
    w = constrained_l1(W_HAT, np.eye(2), 2.0)  # |w|_1 = 2 -> w = w_hat - 0.45 each
    np.testing.assert_allclose(w, [1.55, 0.45])
    np.testing.assert_array_equal(constrained_l1(W_HAT, np.eye(2), 1.0), [1.0, 0.0])


def test_outlines():
    x, y = diamond_xy(2.0)
    np.testing.assert_allclose(np.abs(x) + np.abs(y), 2.0)
    x, y = circle_xy(1.5)
    np.testing.assert_allclose(np.hypot(x, y), 1.5)
    x, y = level_set_xy(W_HAT, H, 0.7)
    np.testing.assert_allclose(quadratic_loss(np.column_stack([x, y]), W_HAT, H), 0.7)


def test_widget_updates_artists_in_place():
    view = GeometryView(t=1.0)
    diamond_before = view.diamond.get_xdata().copy()
    point_before = np.array(view.l2_point.get_xdata())
    view.slider.value = 2.0
    assert view.diamond.get_xdata().max() == pytest.approx(2.0)
    assert not np.allclose(view.diamond.get_xdata(), diamond_before)
    assert not np.allclose(view.l2_point.get_xdata(), point_before)
    np.testing.assert_allclose(view.l1_point.get_xdata(), [constrained_l1(W_HAT, H, 2.0)[0]])
    assert "t = 2.00" in view.ax.get_title()
    w_l1, w_l2 = view.update(1.2)
    assert w_l1[1] == 0.0 and "on an axis" in view.ax.get_title()
    assert view.fig is view.ax.figure
    assert view.slider in view.ui.children


def test_widget_blits_slider_moves():
    view = GeometryView(t=1.0)
    full = view.blitter.n_full_draws
    assert full == 1 and view.blitter.has_background
    pixels0 = np.asarray(view.fig.canvas.buffer_rgba()).copy()
    for t in (0.5, 1.5, 2.5):
        view.slider.value = t
    assert view.blitter.n_full_draws == full  # the contours and axes are not redrawn
    assert np.any(np.asarray(view.fig.canvas.buffer_rgba()) != pixels0)
    assert view.ax.title.get_animated() and view.circle.get_animated()


@pytest.mark.parametrize("kwargs, name", [
    ({"w_hat": (1.0, 2.0, 3.0)}, "w_hat"),
    ({"hessian": ((1.0, 2.0), (2.0, 1.0))}, "hessian"),
    ({"t": 5.0}, "t"),
    ({"t_min": -1.0}, "t_min"),
])
def test_widget_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        GeometryView(**kwargs)


@pytest.mark.parametrize("call, name", [
    (lambda: constrained_l1(W_HAT, H, -1.0), "t"),
    (lambda: constrained_l2([1.0], H, 1.0), "w_hat"),
    (lambda: quadratic_loss(np.ones((3, 3)), W_HAT, H), "W"),
    (lambda: diamond_xy(np.inf), "t"),
    (lambda: level_set_xy(W_HAT, H, -1.0), "level"),
])
def test_bad_input_names_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()
