"""helpers.classification: C against λ, the direct minimization, the L1 path on real data."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from helpers import classification as c


@pytest.fixture(scope="module")
def cancer():
    X, y, names = c.breast_cancer()
    return StandardScaler().fit_transform(X), y, names


def test_breast_cancer_is_the_bundled_table(cancer):
    X, y, names = cancer
    assert X.shape == (569, 30) and len(names) == 30 and set(np.unique(y)) == {0.0, 1.0}


@pytest.mark.parametrize("penalty, factor", [("l2", 2.0), ("l1", 1.0)])
def test_c_and_lambda_are_inverse(penalty, factor):
    C = c.c_for_lambda(0.01, 500, penalty)
    assert C == pytest.approx(1 / (factor * 500 * 0.01))
    assert c.lambda_for_c(C, 500, penalty) == pytest.approx(0.01)


@pytest.mark.parametrize("lam", [0.001, 0.01, 0.1])
def test_sklearn_C_gives_the_course_minimizer_for_l2(cancer, lam):
    X, y, _ = cancer
    w, b = c.fit_logistic_l2(X, y, lam)
    model = LogisticRegression(C=c.c_for_lambda(lam, len(y)), tol=1e-10, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(model.coef_.ravel(), w, atol=1e-5)
    assert model.intercept_[0] == pytest.approx(b, abs=1e-5)
    # and the forgotten factor 2 is a different model
    off = LogisticRegression(C=1 / (len(y) * lam), tol=1e-10, max_iter=100_000).fit(X, y)
    assert np.abs(off.coef_.ravel() - w).max() > 1e-3


def test_sklearn_C_gives_the_course_minimizer_for_l1(cancer):
    """L1, C = 1/(nλ): liblinear's solution has a course cost no higher than nearby points'."""
    X, y, _ = cancer
    lam = 0.01
    w_path = c.l1_logistic_path(X, y, [c.c_for_lambda(lam, len(y), "l1")], intercept_scaling=1000.0)[0]
    model = LogisticRegression(C=c.c_for_lambda(lam, len(y), "l1"), l1_ratio=1.0, solver="liblinear",
                               intercept_scaling=1000.0, tol=1e-8, max_iter=100_000).fit(X, y)
    b = model.intercept_[0]
    cost = c.logistic_cost(X, y, w_path, b, lam, "l1")
    rng = np.random.default_rng(0)
    for _ in range(20):
        dw = 1e-3 * rng.standard_normal(w_path.size)
        assert c.logistic_cost(X, y, w_path + dw, b, lam, "l1") >= cost - 1e-9


def test_l1_path_has_exact_zeros_and_grows(cancer):
    X, y, _ = cancer
    Cs = np.logspace(-3, 1, 9)
    path = c.l1_logistic_path(X, y, Cs)
    kept = (path != 0).sum(axis=1)
    assert path.shape == (9, 30) and kept[0] == 0 and kept[-1] > 15
    assert np.all(np.diff(kept) >= -2)  # roughly more features as C grows (not exactly monotone)


def test_cv_accuracy_path(cancer):
    X, y, _ = cancer
    out = c.cv_accuracy_path(X, y, [0.001, 0.1, 1.0], folds=5)
    assert out["mean"][0] == pytest.approx(np.mean(y), abs=0.01)  # no feature: the majority class
    assert out["mean"][2] > 0.95 and np.all(out["se"] >= 0) and out["features"][0] == 0


def test_logistic_cost_matches_a_direct_formula():
    X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.0, -1.0]])
    y = np.array([1.0, 0.0, 1.0])
    w, b = np.array([0.3, -0.2]), 0.1
    p = 1 / (1 + np.exp(-(X @ w + b)))
    data = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert c.logistic_cost(X, y, w, b, 0.5) == pytest.approx(data + 0.5 * np.sum(w**2))
    assert c.logistic_cost(X, y, w, b, 0.5, "l1") == pytest.approx(data + 0.5 * np.sum(np.abs(w)))


@pytest.mark.parametrize("call, name", [
    (lambda: c.c_for_lambda(0, 10), "lam"), (lambda: c.c_for_lambda(1, 2.5), "n"),
    (lambda: c.lambda_for_c(1, 10, "l3"), "penalty"),
    (lambda: c.logistic_cost(np.ones((2, 2)), [0, 2], [1, 1], 0, 1), "y"),
    (lambda: c.l1_logistic_path(np.ones((4, 2)), [0, 1, 0, 1], [1, -1]), "Cs"),
    (lambda: c.cv_accuracy_path(np.ones((4, 2)), [0, 0, 0, 0], [1]), "y"),
])
def test_bad_input_names_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_issue_26_bad_inputs_get_a_clear_value_error():
    """Before: c_for_lambda(1e-320, 10) returned inf; fit_logistic_l2 fitted one-class labels (an
    intercept of -33); cv_accuracy_path with a one-sample class said "folds must be a whole number in
    [2, 1]"."""
    import pytest

    from helpers.classification import c_for_lambda, cv_accuracy_path, fit_logistic_l2, lambda_for_c

    with pytest.raises(ValueError, match=r"lam must be larger"):
        c_for_lambda(1e-320, 10)
    with pytest.raises(ValueError, match=r"C must be larger"):
        lambda_for_c(1e-320, 10)
    X = np.arange(12.0).reshape(6, 2)
    with pytest.raises(ValueError, match=r"y must hold both classes"):
        fit_logistic_l2(X, np.zeros(6), 0.1)
    y = np.array([0, 0, 0, 0, 0, 1.0])
    with pytest.raises(ValueError, match=r"y must hold at least 2 samples of each class .* class 1 has 1"):
        cv_accuracy_path(X, y, [1.0], folds=2)
