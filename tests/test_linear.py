"""Ridge and lasso from scratch: closed forms, optimality conditions, scikit-learn, bad input."""

import math
import warnings

import numpy as np
import pytest

from helpers import (
    ConvergenceWarning,
    lasso_fit,
    lasso_kkt_violation,
    load_sparse_100,
    mse,
    polynomial_features,
    ridge_fit,
)
from helpers.linear import ridge_path_by_lambda, ridge_prediction_matrix


@pytest.fixture(scope="module")
def sparse():
    return load_sparse_100()


def test_ridge_on_orthonormal_features_scales_by_one_over_one_plus_lam():
    Q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(50, 4)))
    w_true = np.array([8.2, 5.1, 2.8, 0.9])
    y = Q @ w_true
    coef, b = ridge_fit(Q, y, lam=1.0, fit_intercept=False)
    np.testing.assert_allclose(coef, w_true / 2.0, rtol=1e-12)
    assert b == 0.0


def test_ridge_lam_zero_is_least_squares_and_intercept_is_not_penalized():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 7.0
    coef, b = ridge_fit(X, y, 0.0)
    np.testing.assert_allclose(coef, [1.0, -2.0, 0.5], atol=1e-12)
    assert b == pytest.approx(7.0)
    coef_big, b_big = ridge_fit(X, y, 1e9)  # weights crushed, intercept becomes mean(y)
    assert np.abs(coef_big).max() < 1e-6
    assert b_big == pytest.approx(y.mean(), rel=1e-6)


def test_lasso_on_orthonormal_features_soft_thresholds():
    n = 40
    Q, _ = np.linalg.qr(np.random.default_rng(2).normal(size=(n, 4)))
    X = Q * np.sqrt(n)  # X^T X / n = I
    w_ols = np.array([8.2, 5.1, 2.8, 0.9])
    coef, _ = lasso_fit(X, X @ w_ols, lam=1.0, fit_intercept=False)
    np.testing.assert_allclose(coef, [7.2, 4.1, 1.8, 0.0], atol=1e-9)
    assert coef[3] == 0.0


def test_lasso_meets_its_optimality_conditions_with_exact_zeros(sparse):
    coef, b = lasso_fit(sparse.X_train, sparse.y_train, 0.1)
    assert lasso_kkt_violation(sparse.X_train, sparse.y_train, coef, b, 0.1) < 1e-7
    assert (coef == 0.0).sum() >= 50
    assert set(np.flatnonzero(sparse.coef)) <= set(np.flatnonzero(coef))


def test_fits_match_scikit_learn(sparse):
    linear_model = pytest.importorskip("sklearn.linear_model")
    X, y = sparse.X_train, sparse.y_train
    for lam in (0.05, 0.3):
        coef, b = lasso_fit(X, y, lam)
        ref = linear_model.Lasso(alpha=lam, tol=1e-12, max_iter=100_000).fit(X, y)
        np.testing.assert_allclose(coef, ref.coef_, atol=1e-6)
        assert b == pytest.approx(ref.intercept_, abs=1e-6)
        np.testing.assert_array_equal(coef == 0, ref.coef_ == 0)
        coef, b = ridge_fit(X, y, lam)
        ref = linear_model.Ridge(alpha=lam).fit(X, y)
        np.testing.assert_allclose(coef, ref.coef_, atol=1e-9)
        assert b == pytest.approx(ref.intercept_, abs=1e-9)


def test_lasso_warm_start_reaches_the_same_solution(sparse):
    cold, _ = lasso_fit(sparse.X_train, sparse.y_train, 0.2)
    warm, _ = lasso_fit(sparse.X_train, sparse.y_train, 0.2, coef_init=np.ones(100))
    np.testing.assert_allclose(warm, cold, atol=1e-7)


def test_lasso_warns_when_it_stops_early(sparse):
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        lasso_fit(sparse.X_train, sparse.y_train, 0.01, max_iter=2)


def test_lasso_converged_fit_does_not_warn(sparse):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lasso_fit(sparse.X_train, sparse.y_train, 0.5)


def test_polynomial_features_and_mse():
    np.testing.assert_array_equal(polynomial_features(np.array([2.0, 3.0]), 3), [[2, 4, 8], [3, 9, 27]])
    assert mse(np.array([1.0, 2.0]), np.array([1.0, 4.0])) == 2.0


@pytest.mark.parametrize("fit", [ridge_fit, lasso_fit])
def test_bad_input_names_the_argument(fit):
    X, y = np.ones((5, 2)), np.ones(5)
    for bad_lam in (-1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="lam"):
            fit(X, y, bad_lam)
    with pytest.raises(ValueError, match="same number of rows"):
        fit(X, np.ones(4), 0.1)
    with pytest.raises(ValueError, match="X"):
        fit(np.ones(5), y, 0.1)
    with pytest.raises(ValueError, match="X"):
        fit(np.full((5, 2), np.nan), y, 0.1)
    with pytest.raises(ValueError, match="y"):
        fit(X, np.array([1, 2, np.inf, 4, 5.0]), 0.1)
    with pytest.raises(ValueError, match="X"):
        fit(np.ones((0, 2)), np.ones(0), 0.1)


def test_other_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="degree"):
        polynomial_features(np.ones(3), 0)
    with pytest.raises(ValueError, match="degree"):
        polynomial_features(np.ones(3), 2.5)
    with pytest.raises(ValueError, match="y_pred"):
        mse(np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="coef_init"):
        lasso_fit(np.ones((5, 2)), np.ones(5), 0.1, coef_init=np.ones(3))
    with pytest.raises(ValueError, match="tol"):
        lasso_fit(np.ones((5, 2)), np.ones(5), 0.1, tol=0)


@pytest.mark.parametrize("shape", [(30, 5), (10, 40)])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_ridge_path_and_prediction_matrix_equal_ridge_fit(shape, fit_intercept):
    rng = np.random.default_rng(5)
    X, y, X_new = rng.normal(size=shape), rng.normal(size=shape[0]), rng.normal(size=(7, shape[1]))
    lams = np.array([10.0, 0.0, 1e-3, 1.0])  # any order, 0 included
    coefs, intercepts = ridge_path_by_lambda(X, y, lams, fit_intercept)
    assert coefs.shape == (4, shape[1]) and intercepts.shape == (4,)
    for lam, coef, b in zip(lams, coefs, intercepts, strict=True):
        want, want_b = ridge_fit(X, y, lam, fit_intercept)
        np.testing.assert_allclose(coef, want, atol=1e-9)
        assert b == pytest.approx(want_b, abs=1e-9)
        H = ridge_prediction_matrix(X, X_new, lam, fit_intercept)
        np.testing.assert_allclose(H @ y, X_new @ want + want_b, atol=1e-9)


def test_ridge_path_at_zero_is_the_minimum_norm_solution_and_its_limit():
    rng = np.random.default_rng(6)
    X, y = rng.normal(size=(8, 20)), rng.normal(size=8)
    X[:, 1] = X[:, 0]  # a repeated column: the minimum-norm solution splits the weight equally
    coefs, _ = ridge_path_by_lambda(X, y, np.array([0.0, 1e-6, 1e-9]), fit_intercept=False)
    np.testing.assert_allclose(coefs[0], np.linalg.pinv(X) @ y, atol=1e-10)
    assert coefs[0][0] == pytest.approx(coefs[0][1])
    np.testing.assert_allclose(X @ coefs[0], y, atol=1e-10)  # p > n: it interpolates
    gaps = [np.linalg.norm(c - coefs[0]) for c in coefs[1:]]
    assert gaps[1] < gaps[0] / 100  # the distance to it shrinks in proportion to λ


def test_ridge_path_and_prediction_matrix_bad_input():
    X, y = np.ones((4, 2)), np.ones(4)
    with pytest.raises(ValueError, match="lams"):
        ridge_path_by_lambda(X, y, [1.0, -1.0])
    with pytest.raises(ValueError, match="X_new"):
        ridge_prediction_matrix(X, np.ones((3, 3)), 1.0)
    with pytest.raises(ValueError, match="lam"):
        ridge_prediction_matrix(X, X, -1.0)
    with pytest.raises(ValueError, match="^fit_intercept must be True or False"):
        ridge_path_by_lambda(X, y, [1.0], fit_intercept="no")
    with pytest.raises(ValueError, match="^fit_intercept must be True or False"):
        ridge_prediction_matrix(X, X, 1.0, fit_intercept=0)
    with pytest.raises(ValueError, match="^X: values too large to fit"):
        ridge_path_by_lambda(np.array([[1e200, 0.0], [-1e200, 1.0], [0.0, 2.0]]), np.ones(3), [0.0])


def test_the_course_has_one_ridge_path():
    import helpers.sparsity

    assert helpers.sparsity.ridge_path_by_lambda is ridge_path_by_lambda  # lesson 04's and lesson 07's
