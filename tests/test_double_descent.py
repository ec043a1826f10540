"""Tests for helpers.double_descent (notebook 07): features, gradient descent, the sweep and the widget."""

import numpy as np
import pytest

from helpers import load_curve_1d, ridge_fit
from helpers.data import make_curve_1d
from helpers.double_descent import (
    DoubleDescentExplorer,
    DoubleDescentPath,
    double_descent_sweep,
    draw_frequencies,
    feature_counts,
    fourier_features,
    gradient_descent_least_squares,
    kernel_limit_fit,
    lambda_label,
    size_kept_by_distance,
    tuned_on_validation,
)

LAMS = np.r_[0.0, 10.0 ** np.arange(-8, 3)]


@pytest.fixture(scope="module")
def data():
    return load_curve_1d()


@pytest.fixture(scope="module")
def path(data):
    ps = feature_counts(30, p_max=300, per_decade=5)
    return DoubleDescentPath(data.X_train, data.y_train, data.X_test, data.y_test, ps, LAMS, seed=0)


def test_fourier_features_approach_the_laplace_kernel():
    omega, phase = draw_frequencies(200_000, scale=30.0, seed=1)
    x = np.array([0.1, 0.13, 0.5])
    F = fourier_features(x, omega, phase)
    assert F.shape == (3, 200_000)
    K = np.exp(-30.0 * np.abs(x[:, None] - x[None, :]))  # E[2 cos(ωx+b) cos(ωx'+b)] for Cauchy ω
    np.testing.assert_allclose(F @ F.T, K, atol=0.01)
    assert np.all((phase >= 0) & (phase < 2 * np.pi))


def test_kernel_limit_fit_interpolates_with_laplace_bumps_and_is_the_many_feature_limit():
    x, y = np.array([0.1, 0.13, 0.5]), np.array([1.0, -0.5, 2.0])
    np.testing.assert_allclose(kernel_limit_fit(x, y, x), y, atol=1e-12)  # an interpolant
    x_new = np.linspace(0, 1, 11)
    # one training input: the fit is y e^{-γ|x - x0|}, a bump of width 1/γ
    np.testing.assert_allclose(kernel_limit_fit([0.4], [2.0], x_new, scale=10.0),
                               2.0 * np.exp(-10.0 * np.abs(x_new - 0.4)), rtol=1e-12)
    omega, phase = draw_frequencies(200_000, scale=30.0, seed=3)
    F, F_new = fourier_features(x, omega, phase), fourier_features(x_new, omega, phase)
    min_norm = F_new @ np.linalg.lstsq(F, y, rcond=None)[0]  # the minimum-norm fit with p = 200 000
    np.testing.assert_allclose(kernel_limit_fit(x, y, x_new), min_norm, atol=0.03)
    with pytest.raises(ValueError, match="x_train.*distinct"):
        kernel_limit_fit([0.2, 0.2], [1.0, 2.0], x_new)
    with pytest.raises(ValueError, match="^scale must be"):
        kernel_limit_fit(x, y, x_new, scale=0.0)


def test_size_kept_by_distance_compares_sizes_near_and_far_from_the_training_inputs():
    x_train = np.array([0.0, 1.0])
    x = np.array([0.0, 0.004, 0.5, 0.6, 0.996])  # near: 0, 0.004, 0.996; far: 0.5, 0.6
    f = np.array([1.0, -2.0, 3.0, -1.0, 1.0])
    assert size_kept_by_distance(f, f, x, x_train) == (1.0, 1.0)
    fit = np.where(np.isin(x, [0.5, 0.6]), 0.5 * f, -0.9 * f)  # 90 % of the size near, half of it far
    near, far = size_kept_by_distance(fit, f, x, x_train)
    assert near == pytest.approx(0.9, abs=1e-12) and far == pytest.approx(0.5, abs=1e-12)
    assert size_kept_by_distance(fit, f, x, x_train, near=0.0, far=0.45) == pytest.approx((0.9, 0.5))
    with pytest.raises(ValueError, match="^far must be"):
        size_kept_by_distance(f, f, x, x_train, near=0.1, far=0.05)
    with pytest.raises(ValueError, match="^x has no input with a nonzero f_true farther than far = 0.6"):
        size_kept_by_distance(f, f, x, x_train, far=0.6)
    with pytest.raises(ValueError, match="^x must have the same shape as fit"):
        size_kept_by_distance(f, f, x[:3], x_train)


def test_feature_counts_are_log_spaced_with_every_p_near_n():
    ps = feature_counts(30, p_max=1000)
    assert ps[0] == 1 and ps[-1] == 1000 and np.all(np.diff(ps) > 0)
    assert set(range(25, 36)) <= set(ps.tolist())
    assert {10, 100} <= set(ps.tolist())
    with pytest.raises(ValueError, match="n"):
        feature_counts(0)


def test_gradient_descent_matches_its_closed_form_and_ends_at_the_minimum_norm_solution():
    rng = np.random.default_rng(2)
    F, y = rng.normal(size=(6, 15)), rng.normal(size=6)
    U, s, Vt = np.linalg.svd(F, full_matrices=False)
    lr, t = 0.5 / s[0] ** 2, 7
    # from zero: w_t = V diag((1 - (1 - η s²)^t) / s) U^T y
    want = Vt.T @ ((1 - (1 - lr * s**2) ** t) / s * (U.T @ y))
    np.testing.assert_allclose(gradient_descent_least_squares(F, y, lr, t), want, atol=1e-12)
    w = gradient_descent_least_squares(F, y, 1 / s[0] ** 2, 20_000)
    np.testing.assert_allclose(w, np.linalg.pinv(F) @ y, atol=1e-8)
    w0 = rng.normal(size=15)  # from elsewhere: + the part of w0 outside the row space
    w_other = gradient_descent_least_squares(F, y, 1 / s[0] ** 2, 20_000, w0=w0)
    np.testing.assert_allclose(w_other, np.linalg.pinv(F) @ y + w0 - Vt.T @ (Vt @ w0), atol=1e-8)
    with pytest.raises(ValueError, match="w0"):
        gradient_descent_least_squares(F, y, lr, 3, w0=np.zeros(4))
    with pytest.raises(ValueError, match="lr"):
        gradient_descent_least_squares(F, y, 0.0, 3)


def test_sweep_reproduces_each_fit_with_ridge_fit(data):
    ps, lams = np.array([5, 30, 60]), np.array([0.0, 0.1])
    sweep = double_descent_sweep(ps, lams, data.X_test, data.y_test, n_draws=2, seed=3)
    assert sweep["test_mse"].shape == (2, 3, 2)
    k, i, j = 1, 2, 1  # draw 1, p = 60, λ = 0.1, by hand
    x, y = make_curve_1d(30, 0.3, seed=3 + k)
    omega, phase = draw_frequencies(60, seed=3 + 20_000 + k)
    w, b = ridge_fit(fourier_features(x, omega, phase), y, lams[j], fit_intercept=False)
    assert b == 0.0
    pred = fourier_features(data.X_test, omega, phase) @ w
    assert sweep["test_mse"][k, i, j] == pytest.approx(np.mean((pred - data.y_test) ** 2), rel=1e-8)
    assert sweep["weight_norm"][k, i, j] == pytest.approx(np.linalg.norm(w), rel=1e-8)
    test, lam = tuned_on_validation(sweep)
    best = np.argmin(sweep["val_mse"], axis=2)
    assert test[k, i] == sweep["test_mse"][k, i, best[k, i]] and lam[k, i] == lams[best[k, i]]


def test_sweep_peaks_at_the_interpolation_threshold(data):
    ps = np.array([10, 20, 30, 60, 300])
    sweep = double_descent_sweep(ps, np.array([0.0, 0.3]), data.X_test, data.y_test, n_draws=10, seed=4)
    med = np.median(sweep["test_mse"][:, :, 0], axis=0)
    assert ps[np.argmax(med)] == 30 and med[2] > 100 * med[-1]
    assert ps[np.argmax(np.median(sweep["weight_norm"][:, :, 0], axis=0))] == 30
    assert np.median(sweep["test_mse"][:, 2, 1]) < 1  # a penalty removes the peak
    with pytest.raises(ValueError, match="ps"):
        double_descent_sweep([3, 2], [0.0], data.X_test, data.y_test, n_draws=1)
    with pytest.raises(ValueError, match="lams"):
        double_descent_sweep([2, 3], [-1.0], data.X_test, data.y_test, n_draws=1)


def test_path_state_is_the_fit_of_that_p_and_lambda(path, data):
    s = path.state(72, 1e-2)
    F = fourier_features(data.X_train, path.omega[:72], path.phase[:72])
    w, _ = ridge_fit(F, data.y_train, 1e-2, fit_intercept=False)
    np.testing.assert_allclose(s["y_grid"], fourier_features(path.x_grid, path.omega[:72], path.phase[:72]) @ w,
                               atol=1e-9)
    assert s["weight_norm"] == pytest.approx(np.linalg.norm(w))
    assert s["test_mse"] == pytest.approx(np.mean((fourier_features(data.X_test, path.omega[:72], path.phase[:72])
                                                   @ w - data.y_test) ** 2))
    assert path.state(30, 0.0)["train_mse"] < 1e-12  # p = n: it interpolates
    with pytest.raises(ValueError, match="p must"):
        path.state(36, 0.0)
    with pytest.raises(ValueError, match="lam must"):
        path.state(30, 0.5)


def test_lambda_labels():
    assert [lambda_label(v) for v in (0.0, 1e-8, 100.0)] == ["0", "1e-08", "1e+02"]


def test_widget_sliders_update_the_views_by_blitting(path):
    w = DoubleDescentExplorer(path, p=30, lam=0.0)
    assert w.blitter.n_full_draws == 1 and w.blitter.has_background
    full = w.blitter.n_full_draws
    pixels = np.asarray(w.fig.canvas.buffer_rgba()).copy()
    fit0, curve0 = w.line_fit.get_ydata().copy(), w.line_err.get_ydata().copy()
    for p in (path.ps[0], path.ps[-1]):
        for lam in (0.0, 100.0):
            w.p.value, w.lam.value = int(p), lam
            s = w.update()
            assert s["p"] == p and s["lam"] == lam
            assert w.dot.get_xdata()[0] == p and w.vline.get_xdata()[0] == p
    assert w.blitter.n_full_draws == full  # every move was a blit
    assert not np.allclose(w.line_fit.get_ydata(), fit0) and not np.allclose(w.line_err.get_ydata(), curve0)
    assert np.any(np.asarray(w.fig.canvas.buffer_rgba()) != pixels)
    assert "λ = 1e+02" in w.ax_err.get_title()
    lo, hi = w.ax_err.get_ylim()
    assert lo <= path.test_mse.min() and hi >= path.test_mse.max()  # every curve fits the fixed axis
    # every legend entry can be told apart: no two handles share colour, line style and marker
    handles = w.fig.legends[0].legend_handles
    looks = [(h.get_color(), h.get_linestyle(), h.get_marker()) for h in handles]
    assert len(set(looks)) == len(looks), looks
    with pytest.raises(ValueError, match="path"):
        DoubleDescentExplorer("not a path")
    with pytest.raises(ValueError, match="p must"):
        DoubleDescentExplorer(path, p=8)


def test_counts_are_whole_numbers_and_seeds_leave_room_for_the_sweeps_offsets(data):
    for call, name in ((lambda: draw_frequencies(2.5), "p"),
                       (lambda: feature_counts(30, per_decade=True), "per_decade"),
                       (lambda: gradient_descent_least_squares(np.eye(2), np.ones(2), 0.5, 3.5), "n_steps"),
                       (lambda: double_descent_sweep([1, 2.5], [0.0], data.X_test, data.y_test), "ps"),
                       (lambda: double_descent_sweep([1, 2], [0.0], data.X_test, data.y_test, n_draws=0), "n_draws")):
        with pytest.raises(ValueError, match=f"^{name} must be"):
            call()
    with pytest.raises(ValueError, match=r"^seed must be a whole number in \[0, 4294947293\]"):
        double_descent_sweep([1, 2], [0.0], data.X_test, data.y_test, n_draws=2, seed=2**32 - 10)
    assert gradient_descent_least_squares(np.eye(2), np.ones(2), 0.5, 2.0).shape == (2,)  # 2.0 is a whole count


def test_a_diverging_descent_and_a_bad_sweep_dict_are_value_errors():
    with pytest.raises(ValueError, match=r"too large to descend .*lr < 2 / \(largest singular value of F\)²"):
        gradient_descent_least_squares(np.eye(3) * 10, np.ones(3), 1.0, 1000)
    with pytest.raises(ValueError, match="^sweep must be the dict"):
        tuned_on_validation({"lams": [0.0]})
    with pytest.raises(ValueError, match=r'^sweep\["lams"\] must have one entry per λ'):
        tuned_on_validation({"lams": [0.0], "val_mse": np.ones((1, 2, 3)), "test_mse": np.ones((1, 2, 3))})
    with pytest.raises(ValueError, match="^lam must be a real number"):
        lambda_label("0")
