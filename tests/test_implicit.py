"""helpers.implicit: gradient descent vs ridge in the eigenbasis, inverted dropout, input noise as ridge."""

import numpy as np
import pytest

from helpers import ridge_fit
from helpers.implicit import (
    gd_least_squares,
    gd_shrinkage,
    inverted_dropout,
    noise_ridge_lambda,
    noisy_copies_least_squares,
    ridge_shrinkage,
)


def _problem(n=30, p=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * np.linspace(0.2, 2.0, p)
    return X, X @ rng.standard_normal(p) + 0.1 * rng.standard_normal(n)


def test_gradient_descent_is_the_closed_form_in_the_eigenbasis():
    """v_i' w_t = (1 - (1 - eta s_i)^t) v_i' w_hat: the shrinkage is gd_shrinkage."""
    X, y = _problem()
    s, V = np.linalg.eigh(X.T @ X)
    lr = 0.5 / s.max()
    w_hat = np.linalg.solve(X.T @ X, X.T @ y)
    steps = [0, 1, 7, 50]
    W = gd_least_squares(X, y, lr, steps)
    assert W.shape == (4, 5) and not W[0].any()
    for t, w in zip(steps, W, strict=True):
        np.testing.assert_allclose(V.T @ w, (1 - gd_shrinkage(s, lr, t)) * (V.T @ w_hat), atol=1e-10)
    w = np.zeros(5)
    for _ in range(7):  # the update itself
        w -= lr * X.T @ (X @ w - y)
    np.testing.assert_allclose(W[2], w, atol=1e-12)


def test_ridge_shrinkage_is_ridge_fit_in_the_eigenbasis_and_tracks_gradient_descent():
    X, y = _problem()
    s, V = np.linalg.eigh(X.T @ X)
    w_hat = np.linalg.solve(X.T @ X, X.T @ y)
    for lam in (0.1, 3.0, 50.0):
        w = ridge_fit(X, y, lam, fit_intercept=False)[0]
        np.testing.assert_allclose(V.T @ w, (1 - ridge_shrinkage(s, lam)) * (V.T @ w_hat), atol=1e-10)
    lr, t = 0.1 / s.max(), 200
    gd, ridge = gd_shrinkage(s, lr, t), ridge_shrinkage(s, 1 / (lr * t))
    assert np.all(np.abs(gd - ridge) < 0.3)  # the same cut-off, different shapes
    np.testing.assert_allclose(gd_shrinkage(s, lr, 0), 1.0)
    with pytest.raises(ValueError, match="s"):
        ridge_shrinkage([-1.0], 1.0)
    with pytest.raises(ValueError, match="steps"):
        gd_least_squares(X, y, lr, [5, 3])
    with pytest.raises(ValueError, match="lr"):
        gd_least_squares(X, y, 1e3, [0, 200])  # diverges


def test_inverted_dropout_keeps_the_mean_and_is_the_identity_at_inference():
    h = np.full((400, 250), 2.0)
    out = inverted_dropout(h, 0.3, rng=np.random.default_rng(1))
    kept = out != 0
    np.testing.assert_allclose(out[kept], 2.0 / 0.7)
    assert abs(kept.mean() - 0.7) < 0.005 and abs(out.mean() - 2.0) < 0.02
    np.testing.assert_array_equal(inverted_dropout(h, 0.3, rng=1, training=False), h)
    np.testing.assert_array_equal(inverted_dropout(h, 0.0, rng=1), h)
    again = inverted_dropout(h, 0.3, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(out, again)  # the generator's draws decide the mask
    with pytest.raises(ValueError, match="rate"):
        inverted_dropout(h, 1.0, rng=0)


def test_noisy_copies_tend_to_ridge_with_lambda_n_sigma_squared():
    X, y = _problem(n=40, p=4)
    assert noise_ridge_lambda(40, 0.5) == 10.0
    w_ridge = ridge_fit(X, y, noise_ridge_lambda(40, 0.5), fit_intercept=False)[0]
    far = np.linalg.norm(noisy_copies_least_squares(X, y, 0.5, 5, seed=0) - w_ridge)
    near = np.linalg.norm(noisy_copies_least_squares(X, y, 0.5, 2000, seed=0) - w_ridge)
    assert near < 0.04 * np.linalg.norm(w_ridge) and near < far / 3
    np.testing.assert_allclose(noisy_copies_least_squares(X, y, 0.0, 3), np.linalg.lstsq(X, y, rcond=None)[0],
                               atol=1e-10)


def test_each_method_of_lesson_06_has_its_own_colour():
    """One colour, one method (issue 25 §6): no two methods of lesson 06 share a colour, and no
    method is drawn in a split's colour (training / validation / test curves)."""
    from helpers.implicit import METHOD_COLOR_KEYS, method_color
    from helpers.moons_experiment import Method
    from helpers.plots import COLORS

    colors = {name: method_color(name) for name in METHOD_COLOR_KEYS}
    assert len(set(colors.values())) == len(colors), colors
    assert not set(colors.values()) & {COLORS["train"], COLORS["val"], COLORS["test"]}
    assert method_color(Method()) == COLORS["none"] and method_color(Method("l2", 1e-3)) == COLORS["l2"]
    assert method_color(Method(dropout=0.3)) == COLORS["dropout"] != COLORS["prox"]
    assert method_color(Method(noise=0.2)) == COLORS["noise"]
    assert method_color(Method(max_norm=1.0)) == COLORS["max_norm"]
    with pytest.raises(ValueError, match="method must use one regularizer"):
        method_color(Method(dropout=0.3, noise=0.2))
    with pytest.raises(ValueError, match="method must be one of"):
        method_color("bogus")


def test_epoch_explorer_draws_curves_in_split_colours_and_marks_the_last_epoch():
    """The explorer's curves are of one method: training and validation curves take the splits'
    colours, never a method's (the validation curve was L2's blue); the current-epoch marker has a
    legend entry and stays inside the axes at the last epoch (issue 25 §7)."""
    import matplotlib

    matplotlib.use("Agg")
    from helpers.implicit import METHOD_COLOR_KEYS, method_color
    from helpers.keras_widgets import EpochExplorer
    from helpers.plots import COLORS

    epochs = np.arange(10, 301, 10)
    xx, yy = np.meshgrid(np.linspace(-2, 3, 8), np.linspace(-2, 2, 6))
    grids = np.full((2, epochs.size, *xx.shape), 0.5)
    curves = np.linspace(1, 0.2, epochs.size)[None].repeat(2, axis=0)
    ex = EpochExplorer(epochs, grids, xx, yy, curves, curves + 0.1, np.zeros((4, 2)), np.array([0, 1, 0, 1]),
                       labels=["a", "b"], best=np.array([100, 200]))
    method_colors = {matplotlib.colors.to_hex(method_color(k)) for k in METHOD_COLOR_KEYS}
    for line, split in ((ex.line_train, "train"), (ex.line_val, "val")):
        assert matplotlib.colors.to_hex(line.get_color()) == COLORS[split].lower() not in method_colors
    ex.update(1, epochs.size - 1)
    right = ex.ax_curve.get_xlim()[1]
    assert ex.marker.get_xdata()[0] == 300 < right
    labels = [t.get_text() for t in ex.fig.legends[0].get_texts()]
    assert any("this epoch" in label for label in labels), labels
