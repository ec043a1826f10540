r"""Choosing the lasso's λ on real data: cross-validation, the one-standard-error rule, AIC/BIC,
and an honest (nested) estimate of the chosen model's error. Lesson 04.

**Convention**: scikit-learn's lasso, the one used here, minimizes
:math:`\frac{1}{2n}\lVert y - Xw - b\rVert^2 + \alpha\lVert w\rVert_1` (``alpha`` is its λ; the
intercept is not penalized). Features are standardized inside every fit (a ``Pipeline``), so a
validation fold never informs the scaling of its own training.

**Why the cross-validated error of the chosen λ is optimistic**: the same folds that *measure*
the error also *chose* λ as the one with the lowest error, so its CV error is the minimum of
noisy estimates and tends to be low. Nested cross-validation repeats the whole choice inside
each outer training fold and scores it on the outer test fold, which never took part in the
choice; its mean is an honest estimate of the procedure's error.
"""

from __future__ import annotations

import numpy as np

from helpers._counts import check_int, check_seed
from helpers._validate import check_array, check_choice, check_xy, finite_result


def _standardized(model):
    """``model`` on standardized features (the scaling is fitted inside each fold)."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), model)


def _pipeline(alpha: float = 1.0):
    from sklearn.linear_model import Lasso

    return _standardized(Lasso(alpha=alpha, max_iter=100_000, tol=1e-8))


def _check_alphas(alphas) -> np.ndarray:
    alphas = check_array(alphas, "alphas", ndim=1)
    if np.any(alphas <= 0):
        raise ValueError("alphas must hold values > 0")
    return alphas


def _check_folds(folds, name: str, n: int) -> int:
    return check_int(folds, name, min_value=2, max_value=min(50, n))


def _search(alphas, folds: int, seed: int):
    from sklearn.model_selection import GridSearchCV, KFold

    return GridSearchCV(_pipeline(), {"lasso__alpha": alphas}, cv=KFold(folds, shuffle=True, random_state=seed),
                        scoring="neg_mean_squared_error", error_score="raise")


@finite_result("X", "y", action="cross-validate the lasso")
def cv_errors(X, y, alphas, folds: int = 10, seed: int = 0) -> dict[str, np.ndarray]:
    """``folds``-fold cross-validated mean squared error of the standardized lasso for each
    ``alpha``: ``{"mean", "se"}`` over ``alphas`` (``se``: standard deviation of the fold errors /
    sqrt(folds)). The folds are shuffled with ``seed``."""
    X, y = check_xy(X, y)
    alphas = _check_alphas(alphas)
    folds = _check_folds(folds, "folds", len(y))
    seed = check_seed(seed)
    search = _search(alphas, folds, seed).fit(X, y)
    errors = -np.array([search.cv_results_[f"split{i}_test_score"] for i in range(folds)])
    return {"mean": errors.mean(axis=0), "se": errors.std(axis=0, ddof=1) / np.sqrt(folds)}


def one_standard_error(alphas, mean, se) -> float:
    """The one-standard-error rule: the *largest* ``alpha`` (the simplest model) whose mean CV
    error is within one standard error of the minimum (``mean[best] + se[best]``)."""
    alphas = _check_alphas(alphas)
    mean = check_array(mean, "mean", ndim=1)
    se = check_array(se, "se", ndim=1)
    if not alphas.size == mean.size == se.size:
        raise ValueError(f"alphas, mean and se must have the same length: {alphas.size}, {mean.size}, {se.size}")
    if np.any(se < 0):
        raise ValueError("se must hold values >= 0")
    best = int(np.argmin(mean))
    return float(alphas[mean <= mean[best] + se[best]].max())


@finite_result("X", "y", action="compute the information criterion")
def information_criterion_alpha(X, y, criterion: str = "bic") -> float:
    """The ``alpha`` that ``LassoLarsIC`` chooses by ``"aic"`` or ``"bic"`` on standardized
    features (one fit on all the data, no folds: it estimates the noise variance from the
    least-squares fit, so it needs more points than features)."""
    from sklearn.linear_model import LassoLarsIC

    X, y = check_xy(X, y)
    criterion = check_choice(criterion, "criterion", ("aic", "bic"))
    if X.shape[0] <= X.shape[1] + 1:
        raise ValueError(f"X must have more rows than columns + 1 for {criterion}, got shape {X.shape}")
    model = _standardized(LassoLarsIC(criterion=criterion)).fit(X, y)
    return float(model[-1].alpha_)


@finite_result("X", "y", action="cross-validate the lasso")
def nested_cv_error(X, y, alphas, outer: int = 5, inner: int = 5, seed: int = 0) -> dict[str, float]:
    """Honest and optimistic error of "choose ``alpha`` by ``inner``-fold CV, refit":
    ``{"nested": mean squared error on the ``outer`` test folds (each choice made without them),
    "optimistic": the inner CV's own best error, averaged over the outer folds}``."""
    from sklearn.model_selection import KFold, cross_validate

    X, y = check_xy(X, y)
    alphas = _check_alphas(alphas)
    outer = _check_folds(outer, "outer", len(y))
    inner = _check_folds(inner, "inner", len(y) - -(-len(y) // outer))
    seed = check_seed(seed)
    out = cross_validate(_search(alphas, inner, seed), X, y, cv=KFold(outer, shuffle=True, random_state=seed + 1),
                         scoring="neg_mean_squared_error", return_estimator=True, error_score="raise")
    return {"nested": float(-out["test_score"].mean()),
            "optimistic": float(np.mean([-est.best_score_ for est in out["estimator"]]))}


def diabetes():
    """scikit-learn's bundled diabetes data (442 × 10, shipped inside the package: no download),
    unscaled: ``(X, y, feature_names)``; ``y`` is a disease-progression score one year later."""
    from sklearn.datasets import load_diabetes

    data = load_diabetes(scaled=False)
    return data.data, data.target.astype(float), list(data.feature_names)
