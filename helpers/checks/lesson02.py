"""Checks of assignment 02, *Put a price on complexity*: Tasks 02.1 to 02.4 (penalty, cost, ridge, CV)."""

from __future__ import annotations

import numpy as np

from helpers.checks.core import _as_array, _call, _Cases, _Fail, task
from helpers.checks.draws import drawn
from helpers.linear import mse as _mse
from helpers.linear import ridge_fit


@task("02.1", "the L2 penalty")
def _check_02_1(fn):
    answers = _Cases(scalar=True, shape_hint="Sum over every entry of w (np.sum), so the penalty is one number.")
    rng, words = drawn()
    lam_drawn = round(float(rng.uniform(0.05, 2.0)), 3)
    for w, lam, case in ((np.array([3.0, -1.0, 0.5, 2.0]), 0.1, ""), (np.array([[1.0, -2.0], [0.5, 4.0]]), 0.5, ""),
                         (rng.normal(0.0, 2.0, rng.integers(2, 8)), lam_drawn, f", {words}")):
        expected = lam * np.sum(w**2)
        got = _call(fn, w.copy(), lam)
        answers.add(got, expected, case=f"for w of shape {w.shape}, lam={lam}{case}", variants=[
            (lam * np.sum(np.abs(w)), "it computed λΣ|w|, the L1 penalty.",
             "The L2 penalty squares the weights: λΣw²."),
            (lam * np.sqrt(np.sum(w**2)), "it computed λ‖w‖ (the norm, not its square).",
             "Square the weights and sum them; do not take the square root."),
            (np.sum(w**2), "the strength λ is missing.", "Multiply the sum by lam."),
            (lam / 2 * np.sum(w**2), "it is half the expected value (a ½ in front).",
             "This course's l2_penalty is Keras's convention: λΣw², no ½."),
        ])
    answers.verdict()
    return "your L2 penalty matches Keras's l2(lam) on a vector, a matrix and a vector drawn at random."


def _cost_data():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((8, 3))
    w = np.array([1.5, -0.5, 2.0])
    y = X @ np.array([1.0, 0.0, 1.5]) + 0.2 * rng.standard_normal(8)
    return X, y, w


def _drawn_cost_data():
    """A cost case drawn for this run: ``(X, y, w, lam, words)``."""
    rng, words = drawn()
    n, p = int(rng.integers(6, 15)), int(rng.integers(2, 6))
    X = rng.standard_normal((n, p))
    y = X @ rng.normal(0.0, 1.5, p) + 0.3 * rng.standard_normal(n)
    return X, y, rng.normal(0.0, 1.5, p), round(float(rng.uniform(0.05, 1.0)), 3), f"n={n}, {words}"


@task("02.2", "the penalized cost")
def _check_02_2(fn):
    fixed = _cost_data()
    answers = _Cases(scalar=True,
                     shape_hint="Average the squared residuals and add a number: the cost is a scalar.")
    for X, y, w, lam, words in ((*fixed, 0.1, ""), (*fixed, 0.0, ""), _drawn_cost_data()):
        n = X.shape[0]
        r = y - X @ w
        data, pen = np.mean(r**2), lam * np.sum(w**2)
        got = _call(fn, X.copy(), y.copy(), w.copy(), lam)
        answers.add(got, data + pen, case=f"for lam={lam}" + (f", {words}" if words else ""), variants=[
            (np.sum(r**2) + pen, f"the data term is a sum, not a mean: a missing 1/n (n={n}).",
             "Use the mean squared error: divide the sum of squared residuals by n."),
            (np.sum(r**2) / (n - 1) + pen, f"the data term divides by n − 1 (n={n}), not by n.",
             "Use the mean squared error: the plain mean over the n residuals (np.mean)."),
            (data / 2 + pen, "the data term is half the MSE (a factor of 2).",
             "Use the plain mean of the squared residuals, no ½."),
            (np.mean(np.abs(r)) + pen, "the data term uses |residual| instead of residual².",
             "Square the residuals."),
            (data, "the penalty is missing.", "Add lam * Σw² to the data term."),
            (data + lam * np.sum(np.abs(w)), "the penalty uses |w| instead of w².", "The L2 penalty is λΣw²."),
            (data + 2 * pen, "the penalty is twice λΣw² (a factor of 2).", "The penalty is λΣw², no factor 2."),
            (data + pen / 2, "the penalty is half of λΣw² (a factor of 2).", "The penalty is λΣw², no ½ in this task."),
            (data + pen / n, f"the penalty is divided by n={n}.", "Only the data term is averaged over n here."),
            (data - pen, "the penalty has the wrong sign.", "A penalty is added to the cost."),
            (data + pen / (2 * n), f"the penalty is λ/(2n)·Σw² (n={n}): the article's convention, the one "
             "behind its factor 1 − ηλ/n.",
             "This task asks for the course's convention of lesson 02, MSE + λΣw²: no 1/(2n) on the penalty."),
            ((data + pen / n) / 2, f"the cost is (1/(2n))·(Σr² + λΣw²) (n={n}): the article's convention with "
             "a ½ on the squared error too.",
             "This task asks for the course's convention of lesson 02, MSE + λΣw²: the plain mean of the "
             "squared residuals plus λΣw²."),
        ])
    answers.verdict()
    return "your penalized cost (MSE + λΣw²) matches, with and without a penalty and on a case drawn at random."


def _ridge_data():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((10, 4))
    y = X @ np.array([2.0, -1.0, 0.0, 0.5]) + 0.3 * rng.standard_normal(10)
    return X, y


def _ridge_ref(X, y, lam):
    return np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ y)


@task("02.3", "ridge in closed form")
def _check_02_3(fn):
    X_fixed, y_fixed = _ridge_data()
    rng, words = drawn()
    X_drawn = rng.standard_normal((int(rng.integers(8, 16)), X_fixed.shape[1]))
    y_drawn = X_drawn @ rng.normal(0.0, 1.5, X_fixed.shape[1]) + 0.3 * rng.standard_normal(X_drawn.shape[0])
    lam_drawn = round(float(rng.uniform(0.2, 8.0)), 2)
    answers = _Cases(shape_hint="Return one coefficient per column of X.")
    for X, y, lam, case in ((X_fixed, y_fixed, 5.0, "for lam=5.0"), (X_fixed, y_fixed, 0.5, "for lam=0.5"),
                            (X_drawn, y_drawn, lam_drawn, f"for lam={lam_drawn}, n={X_drawn.shape[0]}, {words}")):
        n = X.shape[0]
        got = _call(fn, X.copy(), y.copy(), lam)
        answers.add(got, _ridge_ref(X, y, lam), case=case, variants=[
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
    answers.verdict()
    return "your ridge solution matches (XᵀX + λI)⁻¹Xᵀy for two values of λ and on a case drawn at random."


def _cv_errors(X, y, lambdas, k, order=None):
    """Mean-squared errors of ridge_fit per λ: ``(validation, swapped, no_intercept, training)``.

    ``validation[i, j]``: fit on all folds but fold j, scored on fold j (the task);
    ``swapped[i, j]``: fit on fold j, scored on the others; ``no_intercept[i, j]``: as the task
    without an intercept; ``training[i]``: fit and scored on all the data. ``order``: the rows in
    another order before they are split into folds (shuffled folds); in order when None.
    """
    n = X.shape[0]
    folds = np.array_split(np.arange(n) if order is None else np.asarray(order), k)
    validation, swapped, no_intercept = (np.zeros((len(lambdas), k)) for _ in range(3))
    training = np.zeros(len(lambdas))
    for i, lam in enumerate(lambdas):
        for j, val in enumerate(folds):
            rest = np.setdiff1d(np.arange(n), val)
            coef, b = ridge_fit(X[rest], y[rest], lam)
            validation[i, j] = _mse(y[val], X[val] @ coef + b)
            if order is not None:
                continue
            coef, b = ridge_fit(X[val], y[val], lam)
            swapped[i, j] = _mse(y[rest], X[rest] @ coef + b)
            coef, _ = ridge_fit(X[rest], y[rest], lam, fit_intercept=False)
            no_intercept[i, j] = _mse(y[val], X[val] @ coef)
        coef, b = ridge_fit(X, y, lam)
        training[i] = _mse(y, X @ coef + b)
    return validation, swapped, no_intercept, training


def _cv_data(seed, noise, sort=False):
    """40 rows, 15 features (3 that matter), an intercept of 3; ``sort``: rows in the order of the
    first feature, so that folds taken in order differ from shuffled ones."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((40, 15))
    coef = np.zeros(15)
    coef[:3] = [1.0, -0.8, 0.6]
    y = X @ coef + 3.0 + noise * rng.standard_normal(40)
    if sort:
        rows = np.argsort(X[:, 0])
        X, y = X[rows], y[rows]
    return X, y


CV_LAMBDAS = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)
CV_CASES = ((19, 3.0, 8, False), (22, 1.0, 4, False), (22, 1.0, 4, True))
"""(seed, noise, k, sorted rows) of the check's fixed data sets: their right λ differ (100, 10, 1),
each beats the next best by at least 7 % of its score, and so does each known mistake differ from
the others and from the right answer on at least one of them. Folds taken in another order pick
the right λ on the first two (in 98 % of shuffles) and λ = 10 on the third, the second one's rows
sorted by their first feature (in 98 %)."""

MARGIN, PERMS = 1.1, 10
"""A drawn data set is kept when its right λ beats the next by 10 % and ten shuffled orders of its
rows pick it too: shuffled folds then pick it in about 97 % of shuffles (measured over 300)."""

SHUFFLE = np.random.default_rng(0).permutation(40)
"""The shuffled order that stands for any: on the check's data sets nearly every shuffle picks alike."""


def _drawn_cv_case(lambdas, tries: int = 40):
    """``(X, y, k, words)``: a data set drawn for this run whose right λ is clear (see :data:`MARGIN`),
    so that shuffled folds, which the fixed data sets name, are not blamed for it."""
    rng, words = drawn()
    for _ in range(tries):
        seed, noise, k = int(rng.integers(1 << 30)), float(rng.choice([1.0, 2.0, 3.0])), int(rng.choice([4, 5, 8]))
        X, y = _cv_data(seed, noise)
        scores = _cv_errors(X, y, lambdas, k)[0].mean(axis=1)
        best, (first, second) = np.argmin(scores), np.sort(scores)[:2]
        if second >= MARGIN * first and all(
                np.argmin(_cv_errors(X, y, lambdas, k, rng.permutation(40))[0].mean(axis=1)) == best
                for _ in range(PERMS)):
            break
    return X, y, k, words


_ALL_FOLDS = "Average the validation MSE over all k folds, then pick the λ with the smallest average."


def _cv_neutral(lambdas):
    def neutral(answer):
        value = float(answer.got)
        if not np.any(np.isclose(value, lambdas)):
            return (f"it returned {value:g} {answer.case}, which is not one of the λ values given.",
                    "Return one entry of lambdas: the one with the smallest mean validation error.")
        return (f"it picked λ = {value:g} {answer.case}; cross-validation picks another λ there.",
                "Folds in order: np.array_split(np.arange(n), k), no shuffling; fit on the other folds, "
                "score the MSE on the held-out one, average over the k folds.")
    return neutral


@task("02.4", "choose λ by cross-validation")
def _check_02_4(fn):
    lambdas = np.array(CV_LAMBDAS)
    answers = _Cases(scalar=True, neutral=_cv_neutral(lambdas), generic=False)
    cases = [(*_cv_data(seed, noise, sort), k, f"on data set {number} of {len(CV_CASES)} (k={k}"
              + (", rows sorted by their first feature)" if sort else ")"))
             for number, (seed, noise, k, sort) in enumerate(CV_CASES, start=1)]
    X, y, k, words = _drawn_cv_case(lambdas)
    cases.append((X, y, k, f"on a data set {words} (k={k})"))
    for X, y, k, case in cases:
        validation, swapped, no_intercept, training = _cv_errors(X, y, lambdas, k)
        scores = validation.mean(axis=1)
        best = int(np.argmin(scores))
        got = _call(fn, X.copy(), y.copy(), lambdas.copy(), k)
        arr = _as_array(got)
        if arr.size != 1:
            raise _Fail(f"it returned {arr.size} numbers {case}; expected the one chosen λ.",
                        "Return the one entry of lambdas whose mean validation error is smallest.")
        answers.add(arr.reshape(()), lambdas[best], case=case, variants=[
            (best, f"it returned the position {best} of the best λ {case}, not the λ itself.",
             "Return lambdas[best_index]."),
            (lambdas[np.argmax(scores)], "it picked the λ with the largest validation error.",
             "Choose the λ whose mean validation error is smallest (argmin)."),
            (lambdas[np.argmin(training)], "it picked the smallest λ on every data set, as the training "
             "error would.", "Score each λ on the held-out fold only, then average over the k folds."),
            (lambdas[np.argmin(validation[:, 0])], "it scores each λ on the first fold only.", _ALL_FOLDS),
            (lambdas[np.argmin(validation[:, -1])], "it scores each λ on the last fold only.",
             _ALL_FOLDS + " Keep each fold's error (append it), do not overwrite it."),
            (lambdas[np.argmin(validation[:, :-1].mean(axis=1))], "it leaves the last fold out: k − 1 folds "
             "instead of k.", "Loop over all k folds of np.array_split(np.arange(n), k)."),
            (lambdas[np.argmin(swapped.mean(axis=1))], "it fits on one fold and scores on the other k − 1: "
             "the roles are swapped.", "Fit on the k − 1 other folds, score the MSE on the held-out fold."),
            (lambdas[np.argmin(no_intercept.mean(axis=1))], "it fits without an intercept.",
             "Use ridge_fit, which fits an intercept (Task 02.3's closed form has none)."),
            (lambdas[np.argmin(_cv_errors(X, y, lambdas, k, SHUFFLE[: len(y)])[0].mean(axis=1))],
             "it picks what folds in another order (shuffled) pick: on data set 3, whose rows are sorted, "
             "the order of the folds decides.",
             "Take the folds in order, np.array_split(np.arange(n), k), without shuffling, as the task says."),
        ])
    answers.verdict()
    first = answers.answers[0].expected
    return (f"your cross-validation picks λ = {float(first):g}, as it should on the check's data, "
            "and the right λ on a data set drawn at random.")
