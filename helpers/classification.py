r"""Penalized logistic regression: scikit-learn's ``C`` against the course's λ, and L1 on real data.

**Conventions.** The course writes a penalized classification cost as the *mean* log-loss plus
λ times the penalty, with the intercept not penalized:

.. math:: J(w, b) = \frac1n\sum_{i=1}^n \ell(y_i, w\cdot x_i + b) + \lambda\,\Omega(w),
   \qquad \ell(y, z) = \log(1 + e^{z}) - y z,\ y \in \{0, 1\}.

scikit-learn's ``LogisticRegression`` puts the strength on the data term instead, with a *sum*:
``½‖w‖² + C·Σ ℓ`` for L2 and ``‖w‖₁ + C·Σ ℓ`` for L1. Dividing by ``n·C`` gives the course's
form, so the two have the same minimizer when

* L2: :math:`C = 1/(2n\lambda)` (the ½ in front of ‖w‖² is why the 2 appears);
* L1: :math:`C = 1/(n\lambda)`.

A larger ``C`` is a *weaker* penalty. ``SVC`` and ``LinearSVC`` use ``C`` the same way.

The L1 path uses the ``liblinear`` solver, which gives exact zeros. liblinear treats the
intercept as the weight of an extra constant feature of value ``intercept_scaling`` and
penalizes it like the others; with ``intercept_scaling=100`` (the default here) that penalty on
the intercept is 100 times weaker (for L1) and negligible on standardized data. Lesson 04.
"""

from __future__ import annotations

import warnings

import numpy as np

from helpers._counts import check_int, check_seed
from helpers._validate import check_array, check_choice, check_scalar, check_xy, finite_result

PENALTIES = ("l1", "l2")


def c_for_lambda(lam: float, n: int, penalty: str = "l2") -> float:
    """scikit-learn's ``C`` that minimizes the same cost as the course's λ (module docstring):
    ``1 / (2nλ)`` for L2, ``1 / (nλ)`` for L1, on ``n`` training points."""
    lam = check_scalar(lam, "lam", strict=True)
    n = check_int(n, "n", min_value=1)
    penalty = check_choice(penalty, "penalty", PENALTIES)
    return _finite_inverse((2.0 if penalty == "l2" else 1.0) * n * lam, "lam")


def lambda_for_c(C: float, n: int, penalty: str = "l2") -> float:
    """The course's λ for scikit-learn's ``C`` (the inverse of :func:`c_for_lambda`)."""
    C = check_scalar(C, "C", strict=True)
    n = check_int(n, "n", min_value=1)
    penalty = check_choice(penalty, "penalty", PENALTIES)
    return _finite_inverse((2.0 if penalty == "l2" else 1.0) * n * C, "C")


def _finite_inverse(value: float, name: str) -> float:
    """``1 / value``, or a ValueError naming ``name`` when that overflows (a ``value`` of 1e-320 gives inf)."""
    inverse = 1.0 / value if value else float("inf")
    if not np.isfinite(inverse) or inverse == 0.0:
        raise ValueError(f"{name} must be larger: its inverse overflows ({name} × n = {value:.3g})")
    return inverse


def _log_loss_terms(y, z):
    return np.logaddexp(0.0, z) - y * z


def logistic_cost(X, y, w, b: float, lam: float, penalty: str = "l2") -> float:
    """The course's penalized logistic cost: mean log-loss of labels ``y`` (0/1) at logits
    ``X @ w + b``, plus ``lam`` times ``Σw²`` (``"l2"``) or ``Σ|w|`` (``"l1"``); ``b`` unpenalized."""
    X, y = check_xy(X, y)
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("y must hold labels 0 and 1")
    w = check_array(w, "w", ndim=1)
    if w.size != X.shape[1]:
        raise ValueError(f"w must have one weight per column of X: {w.size} != {X.shape[1]}")
    b = check_scalar(b, "b", min_value=None)
    lam = check_scalar(lam, "lam")
    penalty = check_choice(penalty, "penalty", PENALTIES)
    with np.errstate(over="ignore", invalid="ignore"):
        data = float(np.mean(_log_loss_terms(y, X @ w + b)))
    if not np.isfinite(data):
        raise ValueError("X and w give logits too large to evaluate: rescale X or w")
    reg = float(np.sum(w**2)) if penalty == "l2" else float(np.sum(np.abs(w)))
    return data + lam * reg


@finite_result("X", action="fit the logistic model")
def fit_logistic_l2(X, y, lam: float) -> tuple[np.ndarray, float]:
    """Minimize :func:`logistic_cost` with the L2 penalty directly (SciPy's L-BFGS on the exact
    gradient, tolerance 1e-10): the reference that :func:`c_for_lambda` is checked against.
    Returns ``(w, b)``."""
    from scipy.optimize import minimize

    X, y = check_xy(X, y)
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("y must hold labels 0 and 1")
    if np.all(y == y[0]):
        raise ValueError(f"y must hold both classes, 0 and 1 (all {len(y)} labels are {y[0]:g}: the intercept "
                         "would run off towards infinity)")
    lam = check_scalar(lam, "lam", strict=True)
    n, p = X.shape

    def cost_and_grad(theta):
        w, b = theta[:p], theta[p]
        z = X @ w + b
        prob = 0.5 * (1.0 + np.tanh(0.5 * z))  # the sigmoid, without overflow
        r = (prob - y) / n
        cost = np.mean(_log_loss_terms(y, z)) + lam * w @ w
        return cost, np.concatenate([X.T @ r + 2 * lam * w, [r.sum()]])

    result = minimize(cost_and_grad, np.zeros(p + 1), jac=True, method="L-BFGS-B",
                      options={"gtol": 1e-10, "ftol": 1e-15, "maxiter": 10_000})
    if not np.all(np.isfinite(result.x)):
        raise ValueError("X gives a cost that cannot be minimized in floating point: rescale X")
    return result.x[:p], float(result.x[p])


def _l1_pipeline(C: float, intercept_scaling: float):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    # liblinear shuffles the coordinates: a fixed random_state makes the path reproducible
    model = LogisticRegression(C=C, l1_ratio=1.0, solver="liblinear", intercept_scaling=intercept_scaling,
                               random_state=0, tol=1e-6, max_iter=10_000)
    return make_pipeline(StandardScaler(), model)


def _fit_quietly(model, X, y):
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def _check_cs(Cs) -> np.ndarray:
    Cs = check_array(Cs, "Cs", ndim=1)
    if np.any(Cs <= 0):
        raise ValueError("Cs must hold values > 0")
    return Cs


def _check_labels(X, y):
    X, y = check_xy(X, y)
    if not np.all((y == 0) | (y == 1)) or np.unique(y).size < 2:
        raise ValueError("y must hold labels 0 and 1, both present")
    return X, y


@finite_result("X", action="fit the logistic model")
def l1_logistic_path(X, y, Cs, intercept_scaling: float = 100.0) -> np.ndarray:
    """Coefficients of L1 logistic regression on standardized features for each ``C`` of ``Cs``:
    an array ``(len(Cs), n_features)`` (rows follow ``Cs``; scikit-learn's ``lasso_path`` puts
    features first). Standardization is fitted inside the pipeline; coefficients are per
    standard deviation of each feature. Exact zeros come from liblinear's coordinate descent."""
    X, y = _check_labels(X, y)
    Cs = _check_cs(Cs)
    intercept_scaling = check_scalar(intercept_scaling, "intercept_scaling", strict=True, max_value=1e6)
    coefs = [_fit_quietly(_l1_pipeline(C, intercept_scaling), X, y)[-1].coef_.ravel() for C in Cs]
    return np.array(coefs)


@finite_result("X", action="cross-validate the logistic model")
def cv_accuracy_path(X, y, Cs, folds: int = 5, seed: int = 0, intercept_scaling: float = 100.0
                     ) -> dict[str, np.ndarray]:
    """Stratified ``folds``-fold cross-validated accuracy of the L1 pipeline of
    :func:`l1_logistic_path` for each ``C``: ``{"mean", "se", "features"}``, arrays over ``Cs``
    (``se``: standard deviation over folds / sqrt(folds); ``features``: mean number of nonzero
    coefficients over the folds' models). The folds are shuffled with ``seed``."""
    from sklearn.model_selection import StratifiedKFold, cross_validate

    X, y = _check_labels(X, y)
    Cs = _check_cs(Cs)
    smallest = int(min(np.bincount(y.astype(int), minlength=2)))
    if smallest < 2:
        raise ValueError(f"y must hold at least 2 samples of each class for stratified folds; class "
                         f"{int(np.argmin(np.bincount(y.astype(int), minlength=2)))} has {smallest}")
    folds = check_int(folds, "folds", min_value=2, max_value=min(50, smallest))
    seed = check_seed(seed)
    intercept_scaling = check_scalar(intercept_scaling, "intercept_scaling", strict=True, max_value=1e6)
    split = StratifiedKFold(folds, shuffle=True, random_state=seed)
    mean, se, kept = [], [], []
    for C in Cs:
        out = cross_validate(_l1_pipeline(C, intercept_scaling), X, y, cv=split, scoring="accuracy",
                             return_estimator=True, error_score="raise")
        scores = out["test_score"]
        mean.append(scores.mean())
        se.append(scores.std(ddof=1) / np.sqrt(folds))
        kept.append(np.mean([np.count_nonzero(est[-1].coef_) for est in out["estimator"]]))
    return {"mean": np.array(mean), "se": np.array(se), "features": np.array(kept)}


def breast_cancer():
    """scikit-learn's bundled Wisconsin breast-cancer data (569 × 30, shipped inside the package:
    no download): ``(X, y, feature_names)``, ``y = 1`` for benign."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    return data.data, data.target.astype(float), list(data.feature_names)
