"""Tests for helpers.bias_variance (notebook 07): the estimates against closed forms and known values."""

import numpy as np
import pytest

from helpers import load_curve_1d, true_curve
from helpers.bias_variance import (
    Decomposition,
    bias_variance,
    decompose,
    exact_bias_variance,
    polynomial_prediction_matrix,
)
from helpers.overfitting import fit_polynomial


def test_bias_variance_of_a_hand_made_table():
    f = np.array([0.0, 1.0])
    preds = np.array([[1.0, 1.0], [3.0, 1.0]])  # mean fit (2, 1): bias (2, 0); spread ±1 and 0
    assert bias_variance(preds, f) == (2.0, 0.5)  # bias² mean(4, 0); variance mean(1, 0) with 1/R


def test_bias2_plus_variance_is_exactly_the_mean_squared_distance_to_the_truth():
    rng = np.random.default_rng(0)
    preds, f = rng.normal(size=(7, 5)), rng.normal(size=5)
    bias2, variance = bias_variance(preds, f)
    assert bias2 + variance == pytest.approx(np.mean((preds - f) ** 2), rel=1e-12)


def test_decompose_parts_and_standard_errors():
    rng = np.random.default_rng(1)
    preds, f = rng.normal(size=(400, 6)), np.zeros(6)
    y_test = f + 0.5 * rng.standard_normal((400, 6))
    r = decompose(preds, f, 0.5, y_test)
    assert isinstance(r, Decomposition)
    assert r.noise == 0.25 and r.total == pytest.approx(r.bias2 + r.variance + 0.25)
    per_set = np.mean((y_test - preds) ** 2, axis=1)
    assert r.measured == pytest.approx(per_set.mean())
    assert r.measured_se == pytest.approx(per_set.std(ddof=1) / 20)
    assert abs(r.measured - r.total) < 4 * r.gap_se and r.gap_se < r.measured_se


def test_monte_carlo_converges_to_the_closed_form_for_polynomials():
    d = load_curve_1d()
    f_train, f_test = true_curve(d.X_train), true_curve(d.X_test)
    rng = np.random.default_rng(2)
    Y = f_train + 0.3 * rng.standard_normal((4000, f_train.size))
    for degree, lam in ((1, 0.0), (5, 0.0), (12, 1e-3)):
        H = polynomial_prediction_matrix(d.X_train, d.X_test, degree, lam)
        bias2, variance = bias_variance(Y @ H.T, f_test)
        exact_b2, exact_var = exact_bias_variance(H, f_train, f_test, 0.3)
        assert variance == pytest.approx(exact_var, rel=0.1)
        # the estimated bias² is too large by variance / R on average
        assert bias2 == pytest.approx(exact_b2 + exact_var / 4000, rel=0.3, abs=5e-5)


def test_exact_bias_variance_of_the_mean_as_a_smoother():
    n, m = 10, 3
    H = np.full((m, n), 1.0 / n)  # predict the mean of the training targets everywhere
    f_train, f_test = np.arange(n, dtype=float), np.array([0.0, 4.5, 9.0])
    bias2, variance = exact_bias_variance(H, f_train, f_test, 2.0)
    assert bias2 == pytest.approx(np.mean((4.5 - f_test) ** 2))
    assert variance == pytest.approx(4.0 / n)  # σ²/n at every test input


def test_polynomial_prediction_matrix_gives_lesson_01s_fit():
    d = load_curve_1d()
    H = polynomial_prediction_matrix(d.X_train, d.X_test, 5)
    np.testing.assert_allclose(H @ d.y_train, fit_polynomial(d.X_train, d.y_train, 5)(d.X_test), atol=1e-9)
    np.testing.assert_allclose(H.sum(axis=1), 1.0, atol=1e-9)  # constants are fitted exactly


def test_bad_input_names_the_argument():
    f = np.zeros(3)
    with pytest.raises(ValueError, match="preds"):
        bias_variance(np.zeros((4, 2)), f)
    with pytest.raises(ValueError, match="preds"):
        bias_variance(np.zeros((1, 3)), f)
    with pytest.raises(ValueError, match="noise_sd"):
        decompose(np.zeros((4, 3)), f, -1.0, np.zeros((4, 3)))
    with pytest.raises(ValueError, match="y_test"):
        decompose(np.zeros((4, 3)), f, 0.3, np.zeros((5, 3)))
    with pytest.raises(ValueError, match="H"):
        exact_bias_variance(np.zeros((2, 2)), np.zeros(3), f, 0.3)
    with pytest.raises(ValueError, match="degree"):
        polynomial_prediction_matrix(np.linspace(0, 1, 5), np.zeros(2), 0)


def test_messages_name_the_callers_arguments_and_overflow_is_a_value_error():
    with pytest.raises(ValueError, match="^x_train must hold enough different values"):
        polynomial_prediction_matrix(np.zeros(5), np.zeros(2), 2)  # not the inner "x"
    with pytest.raises(ValueError, match="^x_test"):
        polynomial_prediction_matrix(np.linspace(0, 1, 5), [np.nan], 2)
    with pytest.raises(ValueError, match="degree must be a whole number"):
        polynomial_prediction_matrix(np.linspace(0, 1, 5), np.zeros(2), 2.5)
    with pytest.raises(ValueError, match="^preds: values too large"):
        bias_variance(np.full((3, 2), 1e200), np.zeros(2))
    with pytest.raises(ValueError, match="^noise_sd: values too large"):
        exact_bias_variance(np.eye(2), np.zeros(2), np.zeros(2), 1e200)
