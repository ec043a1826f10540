"""Tests for helpers.penalized_path (notebook 02): the pure (λ, kind) -> arrays path and the widget."""

import numpy as np
import pytest

from helpers import lasso_fit, load_curve_1d, ridge_fit
from helpers.penalized_path import (
    PenalizedPath,
    PenalizedPathExplorer,
    kfold_cv_mse,
    lambda_grid,
    loss_plus_penalty,
    preference_flip,
)
from helpers.sparsity import lasso_path_by_lambda


@pytest.fixture(scope="module")
def path():
    d = load_curve_1d()
    return PenalizedPath(d.X_train, d.y_train, d.X_test[:100], d.y_test[:100], degree=12)


def test_ridge_state_matches_ridge_fit(path):
    for lam in (path.lams["l2"][3], path.lams["l2"][30], 0.0371):  # two on the grid, one off
        s = path.state(lam, "l2")
        coef, b = ridge_fit(path.Z_train, path.y_train, lam)
        np.testing.assert_allclose(s["coef"], coef, rtol=1e-8, atol=1e-8)
        assert s["intercept"] == pytest.approx(b)
        np.testing.assert_allclose(s["y_grid"], path.Z_grid @ coef + b, atol=1e-8)
        assert s["train_mse"] == pytest.approx(np.mean((path.Z_train @ coef + b - path.y_train) ** 2))


def test_lasso_state_matches_lasso_fit(path):
    for i in (8, 16, 24):
        lam = path.lams["l1"][i]
        s = path.state(lam, "l1")
        # started from the table's solution, lasso_fit must find it already optimal (or close)
        coef, b = lasso_fit(path.Z_train, path.y_train, lam, tol=1e-6, max_iter=200_000,
                            coef_init=s["coef"])
        np.testing.assert_allclose(s["coef"], coef, atol=1e-3)
        np.testing.assert_array_equal(s["coef"] == 0, coef == 0)
        assert s["intercept"] == pytest.approx(b, abs=1e-3)


@pytest.mark.parametrize("engine", ["numpy", "sklearn"])
def test_the_lasso_path_matches_cold_lasso_fit_in_any_order(engine):
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((40, 5))
    y = Z @ np.array([2.0, 0, -1, 0, 0.5]) + 0.1 * rng.standard_normal(40)
    lams = np.array([0.1, 0.01, 0.5])
    coefs, bs = lasso_path_by_lambda(Z, y, lams, engine=engine, tol=1e-10, max_iter=100_000)
    for lam, c, b in zip(lams, coefs, bs, strict=True):
        c2, b2 = lasso_fit(Z, y, lam)
        np.testing.assert_allclose(c, c2, atol=1e-6)
        assert b == pytest.approx(b2, abs=1e-6)


def test_none_is_least_squares_and_small_lambda_overfits(path):
    s0 = path.state(123.0, "none")  # λ is ignored for "none"
    assert s0["lam"] == 0.0
    coef, _ = ridge_fit(path.Z_train, path.y_train, 0.0)
    np.testing.assert_allclose(s0["coef"], coef)
    big = path.state(path.lams["l2"][-1], "l2")
    assert np.abs(s0["coef"]).max() > 1e3 * np.abs(big["coef"]).max()
    assert big["train_mse"] > s0["train_mse"]  # large λ underfits the training set
    assert s0["val_mse"] > path.table["l2"]["val_mse"].min()


def test_grids_and_errors(path):
    g = lambda_grid("l1")
    assert np.all(np.diff(g) > 0)
    assert path.grid_index(g[5], "l1") == 5
    with pytest.raises(ValueError, match="kind"):
        path.state(1.0, "l3")
    with pytest.raises(ValueError, match="lam"):
        path.state(-1.0, "l2")
    with pytest.raises(ValueError, match="kind"):
        lambda_grid("none")
    with pytest.raises(ValueError, match="y_val"):
        PenalizedPath([0.1, 0.5, 0.9] * 10, np.zeros(30), [0.1, 0.2], [0.0])
    with pytest.raises(ValueError, match="lams"):
        kfold_cv_mse(path.Z_train, path.y_train, [0.0], "l1")


def test_loss_plus_penalty_and_flip():
    assert loss_plus_penalty(5.0, 10.0, 0.25) == pytest.approx(7.5)
    lam = preference_flip(5.0, 10.0, 7.0, 2.0)  # the article's students: 100 - score, pages
    assert lam == pytest.approx(0.25)
    assert loss_plus_penalty(5, 10, lam) == pytest.approx(loss_plus_penalty(7, 2, lam))
    with pytest.raises(ValueError, match="loss_a"):
        preference_flip(7.0, 10.0, 5.0, 2.0)
    with pytest.raises(ValueError, match="penalty_a"):
        preference_flip(5.0, 1.0, 7.0, 2.0)
    with pytest.raises(ValueError, match="lam"):
        loss_plus_penalty(1.0, 1.0, -1.0)


def test_kfold_cv_mse_by_hand():
    rng = np.random.default_rng(1)
    Z = rng.standard_normal((12, 3))
    y = rng.standard_normal(12)
    lams = np.array([0.1, 10.0])
    got = kfold_cv_mse(Z, y, lams, "l2", k=3, seed=4)
    folds = np.array_split(np.random.default_rng(4).permutation(12), 3)
    want = np.zeros(2)
    for f in folds:
        tr = np.setdiff1d(np.arange(12), f)
        for i, lam in enumerate(lams):
            c, b = ridge_fit(Z[tr], y[tr], lam)
            want[i] += ((Z[f] @ c + b - y[f]) ** 2).sum()
    np.testing.assert_allclose(got, want / 12)
    with pytest.raises(ValueError, match="k"):
        kfold_cv_mse(Z, y, lams, "l2", k=20)


def test_widget_slider_and_kind_change_the_views(path):
    e = PenalizedPathExplorer(path, kind="l2")
    fit0 = e.line_fit.get_ydata().copy()
    heights0 = [b.get_height() for b in e.bars]
    vline0 = e.vline.get_xdata()[0]
    e.slider.value = 10.0 ** e.slider.min  # smallest λ: wiggly fit, large weights
    assert not np.allclose(e.line_fit.get_ydata(), fit0)
    assert [b.get_height() for b in e.bars] != heights0
    assert e.vline.get_xdata()[0] != vline0
    small = max(abs(b.get_height()) for b in e.bars)
    e.slider.value = 10.0 ** e.slider.max  # largest λ: flat fit, tiny weights
    assert max(abs(b.get_height()) for b in e.bars) < small / 100
    assert np.ptp(e.line_fit.get_ydata()) < 1.0
    e.kind.value = "l1"
    assert np.isclose(10 ** e.slider.min, lambda_grid("l1")[0])
    assert np.allclose(e.err_train.get_xdata(), path.lams["l1"])
    assert e.current_lambda() in path.lams["l1"]
    e.kind.value = "none"
    assert e.slider.disabled and not e.vline.get_visible()
    np.testing.assert_allclose(e.line_fit.get_ydata(), path.table["none"]["y_grid"][0])
    # issue 18: at λ = 0 the greyed-out slider shows no value, and the titles say what is shown
    assert not e.slider.readout
    assert e.ax_fit.get_title().startswith("no penalty, λ = 0")
    assert "max |w| = 2.4e+06, 12 nonzero" in e.ax_coef.get_title()
    assert e.ax_err.get_title().startswith("λ = 0: errors dotted")
    e.kind.value = "l2"
    assert e.slider.readout and e.ax_err.get_title().startswith("L2: error against λ")
    e.fig.canvas.draw()
    with pytest.raises(ValueError, match="path"):
        PenalizedPathExplorer("not a path")


def test_widget_slider_moves_blit_and_kind_switch_redraws_in_full(path):
    e = PenalizedPathExplorer(path, kind="l2")
    full = e.blitter.n_full_draws
    assert full == 1 and e.blitter.has_background  # the first update drew everything once
    pixels0 = np.asarray(e.fig.canvas.buffer_rgba()).copy()
    for i in (0, 10, 40):
        e.slider.value = float(path.lams["l2"][i])
    assert e.blitter.n_full_draws == full  # slider moves reuse the background
    assert np.any(np.asarray(e.fig.canvas.buffer_rgba()) != pixels0)
    e.kind.value = "l1"  # error curves and limits change: one full draw
    assert e.blitter.n_full_draws == full + 1
