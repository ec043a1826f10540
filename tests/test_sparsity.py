"""Tests for helpers.sparsity: closed forms, paths, selection, subgradient vs proximal, elastic net."""

import numpy as np
import pytest
from sklearn.linear_model import ElasticNet, Lasso, Ridge

from helpers import lasso_fit, load_sparse_100, ridge_fit
from helpers.sparsity import (
    count_zeros,
    elastic_net_fit,
    entry_order,
    fit_soft_threshold,
    fit_uniform_scale,
    ista_lasso,
    lasso_cost,
    lasso_lambda_max,
    lasso_orthonormal,
    lasso_path_by_lambda,
    lasso_step_size,
    orthonormal_design,
    ridge_from_ols,
    ridge_orthonormal,
    ridge_path_by_lambda,
    selection_path,
    selection_scores,
    standardize,
    subgradient_lasso,
)

ARTICLE = np.array([8.2, 5.1, 2.8, 0.9])


@pytest.fixture(scope="module")
def sparse():
    return load_sparse_100()


def test_orthonormal_design_is_orthonormal():
    X = orthonormal_design(50, 4, seed=1)
    np.testing.assert_allclose(X.T @ X, np.eye(4), atol=1e-12)
    np.testing.assert_array_equal(X, orthonormal_design(50, 4, seed=1))


@pytest.mark.parametrize("lam", [0.0, 0.5, 1.0, 3.0])
def test_ridge_orthonormal_matches_ridge_fit(lam):
    X = orthonormal_design(40, 4, seed=2)
    y = X @ ARTICLE + 0.1 * np.random.default_rng(0).standard_normal(40)
    w_ols = X.T @ y
    coef, _ = ridge_fit(X, y, lam, fit_intercept=False)
    np.testing.assert_allclose(ridge_orthonormal(w_ols, lam), coef, atol=1e-10)
    np.testing.assert_allclose(ridge_orthonormal(ARTICLE, 1.0), ARTICLE / 2)


@pytest.mark.parametrize("lam", [0.5, 1.0, 3.0, 6.0])
def test_lasso_orthonormal_matches_lasso_fit(lam):
    n = 40
    X = orthonormal_design(n, 4, seed=2)
    y = X @ ARTICLE + 0.1 * np.random.default_rng(0).standard_normal(n)
    w_ols = X.T @ y
    # cost 1/2||y - Xw||^2 + lam||w||_1  ==  n * (Lasso cost with alpha = lam / n)
    coef, _ = lasso_fit(X, y, lam / n, fit_intercept=False, tol=1e-12)
    np.testing.assert_allclose(lasso_orthonormal(w_ols, lam), coef, atol=1e-8)


def test_lasso_orthonormal_known_values():
    np.testing.assert_allclose(lasso_orthonormal(ARTICLE, 3.0), [5.2, 2.1, 0.0, 0.0])
    assert np.all(lasso_orthonormal(-ARTICLE, 1.0) == -lasso_orthonormal(ARTICLE, 1.0))


def test_ridge_from_ols_identity_and_correlated():
    np.testing.assert_allclose(ridge_from_ols(np.eye(4), ARTICLE, 1.0), ARTICLE / 2)
    rng = np.random.default_rng(3)
    X = rng.standard_normal((60, 3))
    X[:, 1] = X[:, 0] + 0.2 * X[:, 1]
    y = X @ np.array([1.0, 2.0, -1.0]) + rng.standard_normal(60)
    w_ols, _ = ridge_fit(X, y, 0.0, fit_intercept=False)
    w_ridge, _ = ridge_fit(X, y, 5.0, fit_intercept=False)
    np.testing.assert_allclose(ridge_from_ols(X.T @ X, w_ols, 5.0), w_ridge, atol=1e-10)


def test_fit_uniform_scale_and_soft_threshold_on_article_numbers():
    c, err = fit_uniform_scale(ARTICLE, [4.1, 2.3, 1.2, 0.3])
    assert c == pytest.approx(0.4807, abs=1e-4)
    assert err == pytest.approx(0.1585, abs=1e-4)
    t, err = fit_soft_threshold(ARTICLE, [4.5, 1.8, 0.0, 0.0])
    assert t == pytest.approx(3.5)
    assert err == pytest.approx(0.2)
    # exact recoveries
    assert fit_uniform_scale(ARTICLE, 0.25 * ARTICLE) == pytest.approx((0.25, 0.0))
    t, err = fit_soft_threshold(ARTICLE, lasso_orthonormal(ARTICLE, 2.0))
    assert (t, err) == pytest.approx((2.0, 0.0), abs=1e-12)


def test_fit_soft_threshold_is_the_best_threshold():
    rng = np.random.default_rng(4)
    before, after = rng.normal(size=6) * 3, rng.normal(size=6)
    t, _ = fit_soft_threshold(before, after)
    grid = np.linspace(0, 10, 20001)
    sse = [np.sum((lasso_orthonormal(before, g) - after) ** 2) for g in grid]
    best = np.sum((lasso_orthonormal(before, t) - after) ** 2)
    assert best <= min(sse) + 1e-12


def test_lambda_max_zeroes_everything(sparse):
    lam_max = lasso_lambda_max(sparse.X_train, sparse.y_train)
    coef, _ = lasso_fit(sparse.X_train, sparse.y_train, lam_max * 1.0001)
    assert np.all(coef == 0)
    coef, _ = lasso_fit(sparse.X_train, sparse.y_train, lam_max * 0.95)
    assert np.count_nonzero(coef) >= 1


def test_paths_shapes_and_lasso_path_matches_cold_fits(sparse):
    X, y = sparse.X_train, sparse.y_train
    lams = lasso_lambda_max(X, y) * np.geomspace(1, 0.05, 8)
    path, intercepts = lasso_path_by_lambda(X, y, lams, tol=1e-10)
    assert path.shape == (8, 100) and intercepts.shape == (8,)  # one row per λ
    cold, cold_b = lasso_fit(X, y, lams[-1], tol=1e-10)
    np.testing.assert_allclose(path[-1], cold, atol=1e-7)
    assert intercepts[-1] == pytest.approx(cold_b, abs=1e-7)
    r, r_b = ridge_path_by_lambda(X, y, [0.1, 10.0])
    np.testing.assert_allclose(r[1], ridge_fit(X, y, 10.0)[0])
    assert r_b[1] == pytest.approx(ridge_fit(X, y, 10.0)[1])
    assert np.linalg.norm(r[1]) < np.linalg.norm(r[0])


def test_entry_order_and_selection(sparse):
    X, y = sparse.X_train, sparse.y_train
    lams = lasso_lambda_max(X, y) * np.geomspace(1, 0.05, 20)
    path, _ = lasso_path_by_lambda(X, y, lams)
    order = entry_order(lams, path)
    assert sorted(j for j, _ in order[:5]) == [14, 19, 22, 38, 43]
    assert all(a[1] >= b[1] for a, b in zip(order, order[1:], strict=False))
    precision, recall, n_sel = selection_path(path, sparse.coef)
    assert n_sel[0] == 0 and np.isnan(precision[0])
    assert recall[-1] == 1.0
    assert selection_scores([1.0, 0, 2.0, 0], [1.0, 1.0, 0, 0]) == (0.5, 0.5)
    lams_toy = np.array([3.0, 2.0, 1.0])
    toy = np.array([[0, 0, 0], [0, 1.0, 0], [2.0, 1.0, 0]])
    assert entry_order(lams_toy, toy) == [(1, 2.0), (0, 1.0)]


def test_ista_reaches_lasso_fit_with_exact_zeros_subgradient_does_not(sparse):
    X, y, lam = sparse.X_train, sparse.y_train, 0.1
    ref, b_ref = lasso_fit(X, y, lam)
    w_ista, b_ista = ista_lasso(X, y, lam, n_iter=3000)
    np.testing.assert_allclose(w_ista, ref, atol=1e-5)
    assert b_ista == pytest.approx(b_ref, abs=1e-5)
    assert count_zeros(w_ista) == count_zeros(ref)
    w_sub, b_sub = subgradient_lasso(X, y, lam, lr=0.01, n_iter=2000)
    exact, small = count_zeros(w_sub)
    assert exact == 0 and small > 0
    # subgradient gets near the optimum in cost, but not to it
    cost_ref = lasso_cost(X, y, ref, b_ref, lam)
    assert cost_ref <= lasso_cost(X, y, w_sub, b_sub, lam) <= cost_ref * 1.02


def test_lasso_step_size_is_one_over_the_largest_eigenvalue():
    # X = sqrt(n)·Q·diag(s) with orthonormal Q: XᵀX/n = diag(s²), so L = max s² = 4
    n, s = 30, np.array([0.5, 2.0, 1.5])
    X = np.sqrt(n) * orthonormal_design(n, 3, seed=3) * s
    assert lasso_step_size(X) == pytest.approx(1 / 4, rel=1e-12)
    # the formula is applied to X as given: XᵀX/n = (1 + 9)/2, but (1 + 1)/2 once centred
    assert lasso_step_size([[1.0], [3.0]]) == pytest.approx(1 / 5)
    assert lasso_step_size([[-1.0], [1.0]]) == pytest.approx(1.0)


def test_descent_defaults_to_the_step_size_of_the_centred_X(sparse):
    X, y, lam = sparse.X_train[:, :10], sparse.y_train, 0.1
    lr = lasso_step_size(X - X.mean(axis=0))
    for solver in (ista_lasso, subgradient_lasso):
        np.testing.assert_array_equal(solver(X, y, lam, n_iter=50)[0], solver(X, y, lam, lr=lr, n_iter=50)[0])


def test_lasso_cost_value():
    X = np.array([[1.0], [2.0]])
    assert lasso_cost(X, np.array([1.0, 1.0]), [1.0], 0.0, 0.5) == pytest.approx(0.25 + 0.5)


def test_count_zeros():
    assert count_zeros([0.0, 1e-4, -2e-3, 1.0]) == (1, 2)
    assert count_zeros([np.zeros((2, 2)), np.array([1e-5, 1.0])], tol=1e-3) == (4, 5)


@pytest.mark.parametrize("rho", [0.0, 0.3, 0.7, 1.0])
def test_elastic_net_matches_sklearn(sparse, rho):
    X, y = sparse.X_train[:, :20], sparse.y_train
    coef, b = elastic_net_fit(X, y, 0.2, rho, tol=1e-12)
    sk = ElasticNet(alpha=0.2, l1_ratio=rho, tol=1e-12, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(coef, sk.coef_, atol=1e-6)
    assert b == pytest.approx(sk.intercept_, abs=1e-6)
    if rho == 1.0:
        np.testing.assert_allclose(coef, lasso_fit(X, y, 0.2)[0], atol=1e-6)


def test_elastic_net_spreads_weight_over_copies():
    rng = np.random.default_rng(5)
    z = rng.standard_normal(200)
    X = np.column_stack([z, z + 0.01 * rng.standard_normal(200), rng.standard_normal(200)])
    y = 2 * z + 0.1 * rng.standard_normal(200)
    lasso, _ = lasso_fit(X, y, 0.1)
    enet, _ = elastic_net_fit(X, y, 0.2, 0.5)
    assert np.count_nonzero(lasso[:2]) == 1
    assert np.all(enet[:2] > 0.5)


@pytest.mark.parametrize("lam", [0.01, 0.1, 0.5])
def test_cross_check_sklearn_lasso_and_ridge(sparse, lam):
    X, y = sparse.X_train, sparse.y_train
    coef, b = lasso_fit(X, y, lam, tol=1e-10)
    sk = Lasso(alpha=lam, tol=1e-12, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(coef, sk.coef_, atol=1e-6)
    assert b == pytest.approx(sk.intercept_, abs=1e-6)
    assert np.array_equal(coef == 0, sk.coef_ == 0)
    coef, b = ridge_fit(X, y, lam * 100)
    sk = Ridge(alpha=lam * 100).fit(X, y)
    np.testing.assert_allclose(coef, sk.coef_, atol=1e-8)
    assert b == pytest.approx(sk.intercept_, abs=1e-8)


def test_standardize_uses_training_statistics():
    rng = np.random.default_rng(6)
    A, B = rng.normal(3, 5, (50, 3)), rng.normal(3, 5, (20, 3))
    A_s, B_s = standardize(A, B)
    np.testing.assert_allclose(A_s.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(A_s.std(0), 1)
    np.testing.assert_allclose(B_s, (B - A.mean(0)) / A.std(0))
    const = standardize(np.ones((4, 2)))[0]
    assert np.all(const == 0)


@pytest.mark.parametrize("call, name", [
    (lambda: ridge_orthonormal([1.0], -1), "lam"),
    (lambda: lasso_orthonormal([[1.0]], 1), "w_ols"),
    (lambda: orthonormal_design(3, 5), "p"),
    (lambda: ridge_from_ols(np.eye(3), [1.0, 2.0], 1), "gram"),
    (lambda: fit_uniform_scale([1.0, 2.0], [1.0]), "after"),
    (lambda: fit_uniform_scale([0.0, 0.0], [1.0, 1.0]), "before"),
    (lambda: fit_soft_threshold([1.0, np.nan], [1.0, 1.0]), "before"),
    (lambda: lasso_lambda_max(np.ones((3, 2)), np.ones(4)), "X and y"),
    (lambda: ridge_path_by_lambda(np.ones((3, 2)), np.ones(3), [-1.0]), "lams"),
    (lambda: lasso_path_by_lambda(np.ones((3, 2)), np.ones(3), [[1.0]]), "lams"),
    (lambda: lasso_path_by_lambda(np.ones((3, 2)), np.ones(3), [1.0], engine="R"), "engine"),
    (lambda: entry_order([1.0, 2.0], np.zeros((3, 2))), "path"),
    (lambda: selection_scores([1.0, 0.0], [1.0]), "true_coef"),
    (lambda: subgradient_lasso(np.ones((3, 2)), np.ones(3), 0.1, lr=0), "lr"),
    (lambda: ista_lasso(np.ones((3, 2)), np.ones(3), 0.1, n_iter=0), "n_iter"),
    (lambda: ista_lasso(np.ones((3, 2)), np.ones(3), 0.1), "X must not be all zeros"),
    (lambda: lasso_step_size(np.ones(3)), "X"),
    (lambda: count_zeros([1.0], tol=0), "tol"),
    (lambda: elastic_net_fit(np.ones((3, 2)), np.ones(3), 0.1, l1_ratio=1.5), "l1_ratio"),
    (lambda: elastic_net_fit(np.ones((3, 2)), np.ones(3), -0.1), "lam"),
    (lambda: standardize(np.ones((3, 2)), np.ones((3, 3))), "others[0]"),
    (lambda: lasso_cost(np.ones((3, 2)), np.ones(3), [1.0, 1.0], np.nan, 0.1), "intercept"),
])
def test_bad_input_names_the_argument(call, name):
    with pytest.raises(ValueError, match=name.replace("[", r"\[").replace("]", r"\]")):
        call()
