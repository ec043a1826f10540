"""Checks of assignment 01, *Watch a model overfit*: Tasks 01.1 (MSE) and 01.2 (polynomial fit)."""

from __future__ import annotations

import numpy as np

from helpers.checks.core import _as_array, _call, _Cases, _close, _Fail, _fmt, task
from helpers.checks.draws import drawn


@task("01.1", "mean squared error")
def _check_01_1(fn):
    rng, words = drawn()
    y_drawn = rng.normal(0.0, 2.0, rng.integers(3, 12))
    cases = [(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.5, 1.5, 3.0, 5.0]), None),
             (np.linspace(-1, 1, 7), np.linspace(-1, 1, 7) ** 3, None),
             (y_drawn, y_drawn + rng.normal(0.0, 1.0, y_drawn.size), f"for {y_drawn.size} values {words}")]
    answers = _Cases(scalar=True, shape_hint="Average the squared errors into one number (np.mean).")
    for y_true, y_pred, case in cases:
        err = y_true - y_pred
        n = y_true.size
        expected = np.mean(err**2)
        got = _call(fn, y_true.copy(), y_pred.copy())
        answers.add(got, expected, case=case or f"for y_true={_fmt(y_true)}", n=n, variants=[
            (np.sqrt(expected), "it returned the root of the MSE (RMSE).",
             "Drop the square root: MSE is the mean of the squared errors."),
            (np.mean(np.abs(err)), "it returned the mean absolute error (|e| instead of e²).",
             "Square the errors instead of taking their absolute value."),
            (np.sum(err**2), f"it returned the sum of squared errors: a missing 1/n (n={n}).",
             "Take the mean (divide by n), not the sum."),
            (np.sum(err**2) / (n - 1), f"it divides the sum of squared errors by n − 1 (n={n}), not by n.",
             "The MSE is the plain mean over the n errors (np.mean); n − 1 belongs to the sample variance."),
        ])
    answers.verdict()
    return "your MSE matches on 3 test cases, one of them drawn at random."


def _poly_predict_ref(x_train, y_train, x_new, degree, intercept=True):
    def design(x):
        cols = np.vander(x, degree + 1, increasing=True)
        return cols if intercept else cols[:, 1:]
    coef = np.linalg.lstsq(design(x_train), y_train, rcond=None)[0]
    return design(x_new) @ coef


def _poly_data(rng, n_train: int, n_new: int):
    x_train = np.sort(rng.uniform(0, 1, n_train))
    y_train = np.sin(2 * np.pi * x_train) + 0.3 * rng.standard_normal(n_train)
    return x_train, y_train, np.sort(rng.uniform(0, 1, n_new))


@task("01.2", "polynomial fit and predict")
def _check_01_2(fn):
    x_train, y_train, _ = _poly_data(np.random.default_rng(1), 12, 0)
    x_new = np.linspace(0, 1, 9)
    rng, words = drawn()
    n_train, degree = int(rng.integers(10, 20)), int(rng.integers(2, 5))
    cases = [(x_train, y_train, x_new, 3, "for degree=3"), (x_train, y_train, x_new, 5, "for degree=5"),
             (*_poly_data(rng, n_train, x_new.size), degree,
              f"for degree={degree}, {n_train} training points {words}")]
    answers = _Cases(rtol=1e-5, atol=1e-6, shape_hint="Return one prediction per entry of x_new.")
    for x_train, y_train, x_new, degree, case in cases:
        expected = _poly_predict_ref(x_train, y_train, x_new, degree)
        got = _call(fn, x_train.copy(), y_train.copy(), x_new.copy(), degree)
        arr = _as_array(got)
        coef = np.linalg.lstsq(np.vander(x_train, degree + 1, increasing=True), y_train, rcond=None)[0]
        if any(_close(arr, c, 1e-5, 1e-6) for c in (coef, coef[::-1])):
            raise _Fail(f"it returned the {arr.size} coefficients {case}, not predictions.",
                        "Multiply the features of x_new by the coefficients and return that.")
        if _close(arr, _poly_predict_ref(x_train, y_train, x_train, degree), 1e-5, 1e-6):
            raise _Fail(f"it returned predictions at the {arr.size} training points {case}, not at x_new.",
                        "Predict at x_new, not at x_train.")
        answers.add(arr, expected, case=case, inputs={"x_new": x_new}, variants=[
            (_poly_predict_ref(x_train, y_train, x_new, degree, intercept=False),
             f"the fit has no intercept {case}.",
             "polynomial_features has no constant column: add a column of ones."),
            (_poly_predict_ref(x_train, y_train, x_new, degree - 1),
             f"it fits degree {degree - 1} instead of {degree}.",
             "Use powers x¹ … x^degree plus a constant column."),
            (_poly_predict_ref(x_train, y_train, x_new, degree + 1),
             f"it fits degree {degree + 1} instead of {degree}.",
             "Use powers x¹ … x^degree plus a constant column."),
        ])
    answers.verdict()
    return "your polynomial fit predicts correctly for degrees 3 and 5 and on a case drawn at random."
