"""helpers.lasso_selection: CV errors, the one-SE rule, AIC/BIC, nested CV, on the diabetes data."""

import numpy as np
import pytest
from sklearn.linear_model import LassoCV
from sklearn.model_selection import KFold
from sklearn.preprocessing import StandardScaler

from helpers import lasso_selection as ls


@pytest.fixture(scope="module")
def diabetes():
    X, y, names = ls.diabetes()
    return X, y, names


def test_diabetes_is_the_bundled_table(diabetes):
    X, y, names = diabetes
    assert X.shape == (442, 10) and names[2] == "bmi" and y.min() > 0


def test_cv_errors_agree_with_lassocv_when_scaling_is_not_an_issue(diabetes):
    X, y, _ = diabetes
    Xs = StandardScaler().fit_transform(X)  # standardized once: scaling inside folds then changes little
    alphas = np.logspace(-1, 1, 6)
    ours = ls.cv_errors(Xs, y, alphas, folds=5)
    ref = LassoCV(alphas=alphas, cv=KFold(5, shuffle=True, random_state=0), max_iter=100_000, tol=1e-8).fit(Xs, y)
    theirs = ref.mse_path_.mean(axis=1)[::-1]  # LassoCV orders alphas from large to small
    np.testing.assert_allclose(ours["mean"], theirs, rtol=0.02)


def test_one_standard_error_rule():
    alphas = np.array([0.1, 0.2, 0.4, 0.8, 1.6])
    mean = np.array([5.0, 4.0, 4.3, 4.9, 6.0])
    se = np.array([0.5, 0.5, 0.5, 0.5, 0.5])
    assert ls.one_standard_error(alphas, mean, se) == 0.4  # 4.3 <= 4.0 + 0.5 < 4.9: the largest is 0.4
    se2 = np.full(5, 0.2)
    assert ls.one_standard_error(alphas, mean, se2) == 0.2


def test_information_criteria_choose_a_positive_alpha(diabetes):
    X, y, _ = diabetes
    for criterion in ("aic", "bic"):
        assert ls.information_criterion_alpha(X, y, criterion) > 0


def test_nested_cv_returns_both_estimates(diabetes):
    X, y, _ = diabetes
    out = ls.nested_cv_error(X, y, np.logspace(-1, 1, 5), outer=3, inner=3)
    assert 2000 < out["nested"] < 4500 and 2000 < out["optimistic"] < 4500


@pytest.mark.parametrize("call, name", [
    (lambda: ls.cv_errors(np.ones((10, 2)), np.arange(10.0), [0.1, -1]), "alphas"),
    (lambda: ls.cv_errors(np.ones((10, 2)), np.arange(10.0), [0.1], folds=1), "folds"),
    (lambda: ls.one_standard_error([1, 2], [1, 2], [1]), "alphas, mean and se"),
    (lambda: ls.information_criterion_alpha(np.ones((3, 4)), np.arange(3.0)), "X"),
    (lambda: ls.information_criterion_alpha(np.ones((30, 2)), np.arange(30.0), "cv"), "criterion"),
    (lambda: ls.nested_cv_error(np.ones((10, 2)), np.arange(10.0), [0.1], outer=20), "outer"),
])
def test_bad_input_names_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()
