"""Tests for helpers.overfitting (notebook 01)."""

import numpy as np
import pytest

from helpers import load_curve_1d, polynomial_features, ridge_fit
from helpers.data import make_curve_1d
from helpers.overfitting import (
    ERROR_FLOOR,
    OverfitExplorer,
    decade_limits,
    degree_sweep,
    fit_polynomial,
    learning_curve,
    overfit_state,
    standardized_poly,
)


def test_standardized_poly_columns():
    x = np.linspace(0, 1, 11)
    Z, mean, std = standardized_poly(x, 3)
    np.testing.assert_allclose(Z.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(Z.std(0), 1)
    np.testing.assert_allclose(Z * std + mean, polynomial_features(x, 3))
    Z2, _, _ = standardized_poly(x[:4], 3, mean, std)
    np.testing.assert_allclose(Z2, Z[:4])
    with pytest.raises(ValueError, match="std"):
        standardized_poly(np.ones(5), 2)


def test_fit_polynomial_equals_raw_least_squares():
    d = load_curve_1d()
    predict = fit_polynomial(d.X_train, d.y_train, 5)
    coef, b = ridge_fit(polynomial_features(d.X_train, 5), d.y_train, 0.0)
    np.testing.assert_allclose(predict(d.X_test), polynomial_features(d.X_test, 5) @ coef + b,
                               atol=1e-8)
    x = np.linspace(0, 1, 8)  # exact cubic is recovered
    np.testing.assert_allclose(fit_polynomial(x, 1 - 2 * x**3, 3)(x), 1 - 2 * x**3, atol=1e-10)


def test_degree_sweep_training_error_falls_test_error_turns_up():
    d = load_curve_1d()
    train, test = degree_sweep(d.X_train, d.y_train, d.X_test, d.y_test, range(1, 13))
    assert np.all(np.diff(train) <= 1e-12)  # nested models: training error never rises
    assert test.argmin() < 11 and test[-1] > 2 * test.min()
    with pytest.raises(ValueError, match="degrees"):
        degree_sweep(d.X_train, d.y_train, d.X_test, d.y_test, [0])
    with pytest.raises(ValueError, match="degrees"):
        degree_sweep(d.X_train, d.y_train, d.X_test, d.y_test, [2.5])


def test_learning_curve_gap_shrinks():
    d = load_curve_1d()
    train, test = learning_curve(9, [20, 400], d.X_test, d.y_test, seeds=range(3))
    assert train.shape == (2, 3)
    gap = (test - train).mean(1)
    assert gap[1] < gap[0]
    x, y = make_curve_1d(400, noise=0.3, seed=1000)
    want = degree_sweep(x, y, d.X_test, d.y_test, [9])
    assert train[1, 0] == pytest.approx(want[0][0]) and test[1, 0] == pytest.approx(want[1][0])
    with pytest.raises(ValueError, match="sizes"):
        learning_curve(9, [5], d.X_test, d.y_test)
    with pytest.raises(ValueError, match="seeds"):
        learning_curve(9, [50], d.X_test, d.y_test, seeds=[])


def test_overfit_state_reproduces_shipped_set():
    d = load_curve_1d()
    s = overfit_state(3, 30, 0.3)
    np.testing.assert_allclose(s["x_train"], d.X_train, atol=1e-6)
    np.testing.assert_allclose(s["y_test"], d.y_test, atol=1e-6)
    assert s["degrees"].tolist() == list(range(1, 13)) and s["y_fit"].shape == (200,)
    with pytest.raises(ValueError, match="noise"):
        overfit_state(3, 30, -0.1)
    with pytest.raises(ValueError, match="degree"):
        overfit_state(13, 30, 0.3)
    with pytest.raises(ValueError, match="n_train"):
        overfit_state(3, 5, 0.3)


def test_widget_sliders_change_the_views():
    w = OverfitExplorer(degree=3)
    fit0 = w.line_fit.get_ydata().copy()
    test0 = w.line_test.get_ydata().copy()
    w.degree.value = 12
    assert not np.allclose(w.line_fit.get_ydata(), fit0)
    assert w.marker.get_xdata()[0] == 12
    w.noise.value = 0.8
    assert not np.allclose(w.line_test.get_ydata(), test0)
    w.n_train.value = 200
    assert len(w.pts_train.get_xdata()) == 200
    w.fig.canvas.draw()


def test_widget_fit_panel_holds_every_point():
    """Issue 18: with noise 1 some points lie beyond ±2.5; the y range grows to hold them."""
    w = OverfitExplorer(degree=3, noise=0.3)
    assert w.ax_fit.get_ylim() == (-2.5, 2.5)
    w.noise.value = 1.0
    s = w.update()
    lo, hi = w.ax_fit.get_ylim()
    assert hi > 2.5 and lo == -hi and np.abs(np.r_[s["y_train"], s["y_test"]]).max() < hi
    w.noise.value = 0.3
    assert w.ax_fit.get_ylim() == (-2.5, 2.5)


def test_widget_blits_unless_the_error_axis_limits_change():
    w = OverfitExplorer(degree=3, n_train=30, noise=0.3)
    full = w.blitter.n_full_draws
    assert full == 1 and w.blitter.has_background
    pixels0 = np.asarray(w.fig.canvas.buffer_rgba()).copy()
    for d in (1, 6, 12, 9):
        w.degree.value = d  # data and limits unchanged: blit only
    assert w.blitter.n_full_draws == full
    assert np.any(np.asarray(w.fig.canvas.buffer_rgba()) != pixels0)
    assert "degree 9" in w.ax_fit.get_title() and w.ax_fit.title.get_animated()
    ylim = w.ax_err.get_ylim()
    w.noise.value = 0.35  # new points, same decades: still a blit
    assert w.ax_err.get_ylim() == ylim and w.blitter.n_full_draws == full
    w.noise.value = 0.0  # MSE falls by decades: new limits, one full redraw
    assert w.ax_err.get_ylim()[0] < ylim[0] and w.blitter.n_full_draws == full + 1
    s = w.update()
    assert w.ax_err.get_ylim() == decade_limits(np.r_[s["train_mse"], s["test_mse"]], floor=ERROR_FLOOR)
    # issue 18: with noise 0 every degree's errors are drawn (down to about 1e-17)
    assert w.ax_err.get_ylim()[0] <= min(s["train_mse"].min(), s["test_mse"].min())
    w.noise.value = 0.3
    assert w.ax_err.get_ylim() == ylim and w.blitter.n_full_draws == full + 2


def test_decade_limits_and_cached_state():
    assert decade_limits([0.03, 0.7]) == (0.01, 10.0)
    assert decade_limits([0.0, 0.2]) == (1e-4, 1.0)
    a, b = overfit_state(3, 30, 0.3), overfit_state(5, 30, 0.3)
    assert a["x_train"] is b["x_train"] and not a["x_train"].flags.writeable
    assert not np.allclose(a["y_fit"], b["y_fit"])
    with pytest.raises(ValueError, match="floor"):
        decade_limits([1.0], floor=0.0)
