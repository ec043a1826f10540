"""Checks of assignment 02, *Put a price on complexity*: Tasks 02.1 to 02.4 (penalty, cost, ridge, CV)."""

from __future__ import annotations

import numpy as np

from helpers.checks.core import _as_array, _call, _compare, _Fail, task
from helpers.linear import mse as _mse
from helpers.linear import ridge_fit


@task("02.1", "the L2 penalty")
def _check_02_1(fn):
    lam = 0.1
    cases = [np.array([3.0, -1.0, 0.5, 2.0]), np.array([[1.0, -2.0], [0.5, 4.0]])]
    for w in cases:
        case = f"for w of shape {w.shape}, lam={lam}"
        expected = lam * np.sum(w**2)
        got = _call(fn, w.copy(), lam)
        _compare(got, expected, case=case, scalar=True,
                 shape_hint="Sum over every entry of w (np.sum), so the penalty is one number.",
                 variants=[
                     (lam * np.sum(np.abs(w)), "it computed λΣ|w|, the L1 penalty.",
                      "The L2 penalty squares the weights: λΣw²."),
                     (lam * np.sqrt(np.sum(w**2)), "it computed λ‖w‖ (the norm, not its square).",
                      "Square the weights and sum them; do not take the square root."),
                     (np.sum(w**2), "the strength λ is missing.", "Multiply the sum by lam."),
                     (lam / 2 * np.sum(w**2), "it is half the expected value (a ½ in front).",
                      "This course's l2_penalty is Keras's convention: λΣw², no ½."),
                 ])
    return "your L2 penalty matches Keras's l2(lam) on a vector and a matrix."


def _cost_data():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((8, 3))
    w = np.array([1.5, -0.5, 2.0])
    y = X @ np.array([1.0, 0.0, 1.5]) + 0.2 * rng.standard_normal(8)
    return X, y, w


@task("02.2", "the penalized cost")
def _check_02_2(fn):
    X, y, w = _cost_data()
    n = X.shape[0]
    for lam in (0.1, 0.0):
        case = f"for lam={lam}"
        r = y - X @ w
        data, pen = np.mean(r**2), lam * np.sum(w**2)
        expected = data + pen
        got = _call(fn, X.copy(), y.copy(), w.copy(), lam)
        variants = [(np.sum(r**2) + pen, f"the data term is a sum, not a mean: a missing 1/n (n={n}).",
                     "Use the mean squared error: divide the sum of squared residuals by n."),
                    (data / 2 + pen, "the data term is half the MSE (a factor of 2).",
                     "Use the plain mean of the squared residuals, no ½."),
                    (np.mean(np.abs(r)) + pen, "the data term uses |residual| instead of residual².",
                     "Square the residuals."),
                    ]
        if lam:
            variants += [(data, "the penalty is missing.", "Add lam * Σw² to the data term."),
                         (data + lam * np.sum(np.abs(w)), "the penalty uses |w| instead of w².",
                          "The L2 penalty is λΣw²."),
                         (data + 2 * pen, "the penalty is twice λΣw² (a factor of 2).",
                          "The penalty is λΣw², no factor 2."),
                         (data + pen / 2, "the penalty is half of λΣw² (a factor of 2).",
                          "The penalty is λΣw², no ½ in this task."),
                         (data + pen / n, f"the penalty is divided by n={n}.",
                          "Only the data term is averaged over n here."),
                         (data - pen, "the penalty has the wrong sign.",
                          "A penalty is added to the cost.")]
        _compare(got, expected, case=case, scalar=True, variants=variants,
                 shape_hint="Average the squared residuals and add a number: the cost is a scalar.")
    return "your penalized cost (MSE + λΣw²) matches, with and without a penalty."


def _ridge_data():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((10, 4))
    y = X @ np.array([2.0, -1.0, 0.0, 0.5]) + 0.3 * rng.standard_normal(10)
    return X, y


def _ridge_ref(X, y, lam):
    return np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ y)


@task("02.3", "ridge in closed form")
def _check_02_3(fn):
    X, y = _ridge_data()
    n = X.shape[0]
    for lam in (5.0, 0.5):
        case = f"for lam={lam}"
        expected = _ridge_ref(X, y, lam)
        got = _call(fn, X.copy(), y.copy(), lam)
        _compare(got, expected, case=case, shape_hint="Return one coefficient per column of X.",
                 variants=[
                     (_ridge_ref(X, y, 0.0), f"it returned the least-squares fit: λ has no effect {case}.",
                      "Add λ times the identity matrix to XᵀX."),
                     (_ridge_ref(X, y, n * lam), f"λ acts n={n} times stronger than it should.",
                      "This objective sums the squared errors (no 1/n): solve (XᵀX + λI) w = Xᵀy."),
                     (_ridge_ref(X, y, lam / n), f"λ acts n={n} times weaker than it should.",
                      "This objective sums the squared errors (no 1/n): solve (XᵀX + λI) w = Xᵀy."),
                     (_ridge_ref(X, y, 2 * lam), "λ is doubled (a factor of 2).",
                      "Setting the gradient of ‖y − Xw‖² + λ‖w‖² to 0 gives (XᵀX + λI) w = Xᵀy."),
                     (_ridge_ref(X, y, lam / 2), "λ is halved (a factor of 2).",
                      "Setting the gradient of ‖y − Xw‖² + λ‖w‖² to 0 gives (XᵀX + λI) w = Xᵀy."),
                     (np.linalg.solve(X.T @ X + lam, X.T @ y), "λ was added to every entry of XᵀX.",
                      "Add λ on the diagonal only: lam * np.eye(p)."),
                 ])
    return "your ridge solution matches (XᵀX + λI)⁻¹Xᵀy for two values of λ."


def _cv_scores(X, y, lambdas, k):
    folds = np.array_split(np.arange(X.shape[0]), k)
    scores = []
    for lam in lambdas:
        errs = []
        for val in folds:
            train = np.setdiff1d(np.arange(X.shape[0]), val)
            coef, b = ridge_fit(X[train], y[train], lam)
            errs.append(_mse(y[val], X[val] @ coef + b))
        scores.append(np.mean(errs))
    return np.array(scores)


def _cv_data():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((40, 15))
    coef = np.zeros(15)
    coef[:3] = [1.0, -0.8, 0.6]
    y = X @ coef + 1.0 * rng.standard_normal(40)
    return X, y


CV_LAMBDAS = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)


@task("02.4", "choose λ by cross-validation")
def _check_02_4(fn):
    X, y = _cv_data()
    lambdas = np.array(CV_LAMBDAS)
    scores = _cv_scores(X, y, lambdas, 5)
    best = float(lambdas[np.argmin(scores)])
    got = _call(fn, X.copy(), y.copy(), lambdas.copy(), 5)
    arr = _as_array(got)
    if arr.size != 1:
        raise _Fail(f"it returned {arr.size} numbers; expected the one chosen λ.",
                    "Return lambdas[np.argmin(mean_validation_errors)].")
    value = float(arr.reshape(()))
    if np.isclose(value, best):
        return f"your cross-validation picks λ = {best:g}, as it should on the check's data."
    if value == int(value) and 0 <= int(value) < lambdas.size and np.isclose(lambdas[int(value)], best):
        raise _Fail(f"it returned the position {int(value)} of the best λ, not the λ itself.",
                    "Return lambdas[best_index].")
    if np.isclose(value, lambdas[np.argmax(scores)]):
        raise _Fail("it picked the λ with the largest validation error.",
                    "Choose the λ whose mean validation error is smallest (argmin).")
    if np.isclose(value, lambdas.min()):
        raise _Fail(f"it picked the smallest λ ({value:g}), as the training error would.",
                    "Score each λ on the held-out fold only, then average over the k folds.")
    raise _Fail(f"it picked λ = {value:g}; 5-fold cross-validation on the check's data picks another λ.",
                "Folds: np.array_split(np.arange(n), k); fit on the rest, score MSE on the fold.")
