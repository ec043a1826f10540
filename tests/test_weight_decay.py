"""Tests for helpers.weight_decay (NumPy) and helpers.keras_decay (against Keras 3 itself)."""

import math

import numpy as np
import pytest

from helpers import ridge_fit, weight_decay_step
from helpers.weight_decay import (
    adam_l2_update,
    adam_update,
    adamw_update,
    decay_curve,
    decay_half_life,
    finite_difference_grad,
    l2_equivalents,
    linear_mse,
    linear_mse_grad,
    mse_plus_l2_over_2n,
    mse_plus_l2_over_2n_grad,
    train_linear_adam,
)


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    n, d = 12, 4
    X = rng.standard_normal((n, d))
    y = rng.standard_normal(n)
    w = rng.standard_normal(d)
    return X, y, w, 0.3


def test_linear_mse_matches_definition(problem):
    X, y, w, b = problem
    assert linear_mse(X, y, w, b) == pytest.approx(np.mean((X @ w + b - y) ** 2))


def test_gradients_match_finite_differences(problem):
    X, y, w, b = problem
    lam = 3.0
    grad_w, grad_b = mse_plus_l2_over_2n_grad(X, y, w, b, lam)
    numeric = finite_difference_grad(lambda v: mse_plus_l2_over_2n(X, y, v, b, lam), w)
    np.testing.assert_allclose(grad_w, numeric, atol=1e-8)
    numeric_b = finite_difference_grad(lambda v: mse_plus_l2_over_2n(X, y, w, v[0], lam), [b])
    assert grad_b == pytest.approx(numeric_b[0], abs=1e-8)
    data_w, data_b = linear_mse_grad(X, y, w, b)
    np.testing.assert_allclose(grad_w - data_w, lam / len(y) * w)
    assert grad_b == data_b  # the bias is not penalized


def test_step_on_penalized_cost_is_weight_decay_step(problem):
    X, y, w, b = problem
    lr, lam, n = 0.1, 2.0, len(y)
    grad_w, _ = mse_plus_l2_over_2n_grad(X, y, w, b, lam)
    expected = weight_decay_step(w, linear_mse_grad(X, y, w, b)[0], lr, lam, n)
    np.testing.assert_allclose(w - lr * grad_w, expected, rtol=0, atol=1e-15)


def test_finite_difference_on_quadratic():
    np.testing.assert_allclose(finite_difference_grad(lambda v: float(v @ v), [1.0, -2.0]),
                               [2.0, -4.0], atol=1e-8)


def test_decay_curve_is_geometric_and_matches_repeated_steps():
    curve = decay_curve(10.0, lr=0.1, lam=1.0, n=5, steps=3)
    np.testing.assert_allclose(curve, [10.0, 9.8, 9.604, 9.41192])
    w = np.array([10.0, -4.0])
    for _ in range(7):
        w = weight_decay_step(w, np.zeros(2), 0.1, 1.0, 5)
    np.testing.assert_allclose(decay_curve([10.0, -4.0], 0.1, 1.0, 5, 7)[-1], w)
    assert decay_curve([1.0, 2.0], 0.1, 1.0, 5, 4).shape == (5, 2)


def test_half_life():
    h = decay_half_life(0.1, 1.0, 5)
    assert h == pytest.approx(math.log(2) / -math.log(0.98))
    assert 10.0 * 0.98**h == pytest.approx(5.0)
    assert decay_half_life(0.1, 0.0, 5) == math.inf


def test_l2_equivalents():
    eq = l2_equivalents(lam=4.0, n=8)
    assert eq == {"course": 4.0, "d2l": 0.5, "d2l_own_loss": 0.25, "keras_l2": 0.25, "weight_decay": 0.5,
                  "sklearn_ridge": 2.0, "sklearn_C": 0.25}
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((8, 2)), rng.standard_normal(8)
    ridge, _ = ridge_fit(X, y, eq["sklearn_ridge"], fit_intercept=False)
    np.testing.assert_allclose(mse_plus_l2_over_2n_grad(X, y, ridge, 0.0, 4.0)[0], 0.0, atol=1e-12)
    # D2L's own loss, mean of ½ r², plus λ'/2 ‖w‖²: its gradient vanishes there with λ' = λ/(2n) only
    def d2l_grad(lam_d2l):
        return X.T @ (X @ ridge - y) / len(y) + lam_d2l * ridge
    np.testing.assert_allclose(d2l_grad(eq["d2l_own_loss"]), 0.0, atol=1e-12)
    assert np.abs(d2l_grad(eq["d2l"])).max() > 1e-3


def test_sklearn_C_row_is_the_same_logistic_minimizer():
    from sklearn.linear_model import LogisticRegression

    from helpers.classification import fit_logistic_l2

    rng = np.random.default_rng(4)
    X = rng.standard_normal((60, 3))
    y = (X @ np.array([1.0, -2.0, 0.5]) + rng.standard_normal(60) > 0).astype(float)
    lam = 6.0  # the course's λ: mean log-loss + λ/(2n) Σw²
    w, b = fit_logistic_l2(X, y, lam / (2 * len(y)))
    model = LogisticRegression(C=l2_equivalents(lam, len(y))["sklearn_C"], tol=1e-10, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(model.coef_.ravel(), w, atol=1e-6)
    assert model.intercept_[0] == pytest.approx(b, abs=1e-6)


def test_adam_update_first_step_moves_each_coordinate_by_lr():
    w = np.array([1.0, -1.0, 2.0])
    g = np.array([1e-3, -5.0, 100.0])
    w1, m, v = adam_update(w, g, np.zeros(3), np.zeros(3), t=1, lr=0.01, epsilon=0.0)
    np.testing.assert_allclose(w - w1, 0.01 * np.sign(g))
    np.testing.assert_allclose(m, 0.1 * g)
    np.testing.assert_allclose(v, 0.001 * g**2)


def test_l2_and_decoupled_variants():
    w = np.array([1.0, -2.0])
    g = np.array([0.5, 0.1])
    z = np.zeros(2)
    a = adam_l2_update(w, g, z, z, 1, 0.1, 0.3)
    np.testing.assert_allclose(a[0], adam_update(w, g + 0.3 * w, z, z, 1, 0.1)[0])
    b = adamw_update(w, g, z, z, 1, 0.1, 0.3)
    np.testing.assert_allclose(b[0], adam_update(w * (1 - 0.03), g, z, z, 1, 0.1)[0])
    assert not np.allclose(a[0], b[0])


def test_adam_l2_converges_to_ridge_and_adamw_does_not():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((50, 3)) * np.array([0.1, 1.0, 5.0])
    y = X @ np.array([2.0, 1.0, 0.3]) + 0.1 * rng.standard_normal(50)
    wd = 0.5
    ridge, _ = ridge_fit(X, y, len(y) * wd / 2, fit_intercept=False)
    l2 = train_linear_adam(X, y, np.zeros(3), 4000, 0.05, wd, "l2")
    dec = train_linear_adam(X, y, np.zeros(3), 4000, 0.05, wd, "decoupled")
    none = train_linear_adam(X, y, np.zeros(3), 10, 0.05, wd, "none")
    assert l2.shape == (4001, 3)
    np.testing.assert_allclose(l2[-1], ridge, atol=1e-3)
    assert np.abs(dec[-1] - ridge).max() > 0.1
    assert np.all(np.abs(dec[-1]) <= 1 / wd + 1e-3)  # AdamW's fixed points: |w| <= 1/wd
    np.testing.assert_allclose(none[1], 0.05 * np.sign(X.T @ y), atol=1e-4)  # lr * sign


@pytest.mark.parametrize("call, name", [
    (lambda: linear_mse(np.ones((3, 2)), np.ones(4), np.ones(2)), "y"),
    (lambda: linear_mse(np.ones((3, 2)), np.ones(3), np.ones(3)), "w"),
    (lambda: linear_mse(np.ones(3), np.ones(3), np.ones(1)), "X"),
    (lambda: mse_plus_l2_over_2n(np.ones((3, 2)), np.ones(3), np.ones(2), 0.0, -1.0), "lam"),
    (lambda: finite_difference_grad(3.0, [1.0]), "f"),
    (lambda: finite_difference_grad(np.sum, [1.0], eps=0.0), "eps"),
    (lambda: decay_curve(1.0, 0.1, 1.0, 0, 3), "n"),
    (lambda: decay_curve(1.0, 1.0, 10.0, 5, 3), "lr"),
    (lambda: decay_curve(1.0, 0.1, 1.0, 5, -1), "steps"),
    (lambda: decay_half_life(-0.1, 1.0, 5), "lr"),
    (lambda: l2_equivalents(1.0, 0), "n"),
    (lambda: l2_equivalents(0.0, 5), "lam"),
    (lambda: adam_update([1.0], [1.0], [0.0], [0.0], t=0), "t"),
    (lambda: adam_update([1.0], [1.0], [0.0], [0.0], t=1.5), "t"),
    (lambda: adam_update([1.0], [1.0, 2.0], [0.0], [0.0], t=1), "grad"),
    (lambda: adam_update([1.0], [1.0], [0.0], [0.0], t=1, beta_1=1.0), "beta_1"),
    (lambda: adamw_update([1.0], [1.0], [0.0], [0.0], 1, 0.1, -1.0), "weight_decay"),
    (lambda: train_linear_adam(np.ones((3, 2)), np.ones(3), np.ones(2), 5, 0.1, 0.1, "adam"),
     "mode"),
])
def test_bad_input_names_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


# ---------------------------------------------------------------------------------------------
# Keras: the same updates, computed by Keras 3 in float32
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def keras():
    from helpers.keras_env import import_keras

    return import_keras()


def test_keras_sgd_l2_and_weight_decay_match_weight_decay_step(keras, problem):
    from helpers.keras_decay import linear_model, train_full_batch

    X, y, w, b = problem
    lr, lam, n = 0.1, 2.0, len(y)
    grad_w, grad_b = linear_mse_grad(X, y, w, b)
    expected = weight_decay_step(w, grad_w, lr, lam, n)
    eq = l2_equivalents(lam, n)
    model = linear_model(w, b, kernel_regularizer=keras.regularizers.l2(eq["keras_l2"]))
    kernel, bias = train_full_batch(model, X, y, keras.optimizers.SGD(lr))[-1]
    np.testing.assert_allclose(kernel, expected, atol=1e-6)
    assert bias[0] == pytest.approx(b - lr * grad_b, abs=1e-6)
    opt = keras.optimizers.SGD(lr, weight_decay=eq["weight_decay"])
    opt.exclude_from_weight_decay(var_names=["bias"])
    kernel, bias = train_full_batch(linear_model(w, b), X, y, opt)[-1]
    np.testing.assert_allclose(kernel, expected, atol=1e-6)
    assert bias[0] == pytest.approx(b - lr * grad_b, abs=1e-6)


@pytest.mark.parametrize("mode", ["none", "l2", "decoupled"])
def test_numpy_adam_matches_keras(keras, problem, mode):
    from helpers.keras_decay import linear_model, train_full_batch

    X, y, w, _ = problem
    lr, wd, steps = 0.05, 0.5, 15
    if mode == "decoupled":
        opt, reg = keras.optimizers.AdamW(lr, weight_decay=wd), None
    else:
        opt = keras.optimizers.Adam(lr)
        reg = keras.regularizers.l2(wd / 2) if mode == "l2" else None
    got = np.array([s[0] for s in train_full_batch(linear_model(w, None, reg), X, y, opt, steps)])
    want = train_linear_adam(X, y, w, steps, lr, wd, mode)[1:]
    np.testing.assert_allclose(got, want, atol=2e-5)


def test_reported_loss_is_data_loss_plus_penalty(keras, problem):
    from helpers.keras_decay import data_loss_and_penalty, linear_model

    X, y, w, b = problem
    reg = keras.regularizers.l2(0.1)
    model = linear_model(w, b, kernel_regularizer=reg)
    assert len(model.losses) == 1
    assert len(linear_model(w, b, kernel_regularizer=reg, bias_regularizer=reg).losses) == 2
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    data_loss, penalty = data_loss_and_penalty(model, X, y)
    assert data_loss == pytest.approx(linear_mse(X, y, w, b), rel=1e-5)
    assert penalty == pytest.approx(0.1 * np.sum(w**2), rel=1e-5)
    reported = model.evaluate(X.astype("float32"), y.astype("float32"), batch_size=len(y),
                              verbose=0)
    assert reported == pytest.approx(data_loss + penalty, rel=1e-5)


def test_keras_helpers_reject_bad_input(keras):
    from helpers.keras_decay import linear_model

    with pytest.raises(ValueError, match="kernel"):
        linear_model(np.ones((2, 2)))
    with pytest.raises(ValueError, match="bias"):
        linear_model(np.ones(2), bias=float("nan"))
