"""Instant feedback for the assignment notebooks: ``check_task("03.2", weight_decay_step)``.

Every code task of ``assignments/NN_<topic>_assignment.ipynb`` has a checker here. A checker
runs the learner's function on a few fixed test cases, compares with reference values computed
here, and answers in one or two lines: passed, or what is wrong (wrong shape, wrong sign, a
factor of 2, a missing 1/n, near-zeros where exact zeros were expected, |w| where w² was meant,
...) followed by a hint. It never shows a traceback and never shows the solution.

Task ids are strings ``"LL.k"``: lesson ``LL`` (two digits), task ``k`` of that lesson's
assignment; ``"3.2"`` and ``(3, 2)`` are accepted too. Reasoning tasks have no checker (their
answers are compared with the solution notebook in ``assignments/solutions/``).

``check_task`` prints its message (prefixed with ✓ or ✗) and returns a :class:`CheckResult`,
which is true when the task passed and whose ``repr`` is the message; in a notebook the result
does not display a second time. Introduced in every assignment notebook.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from helpers.linear import mse as _mse
from helpers.linear import ridge_fit
from helpers.sparsity import lasso_step_size

__all__ = ["CHECKS", "CheckResult", "check_task", "is_done", "normalize_task_id"]

PASS, FAIL = "✓", "✗"


@dataclass(frozen=True)
class CheckResult:
    """Outcome of :func:`check_task`: ``bool(result)`` is ``passed``; ``repr`` is the message."""

    task_id: str
    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return self.message

    def _ipython_display_(self) -> None:
        """Show nothing: :func:`check_task` already printed the message."""


class _Fail(Exception):
    """A test case failed; ``what`` says what is wrong, ``hint`` what to look at."""

    def __init__(self, what: str, hint: str = ""):
        super().__init__(what)
        self.what, self.hint = what, hint


class _NotDone(Exception):
    """The learner's function still raises a stub's ``NotImplementedError`` (message kept)."""


# --------------------------------------------------------------------------------------------
# Calling the learner's code and comparing what it returns
# --------------------------------------------------------------------------------------------

def _one_line(text: str, limit: int = 120) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _call(fn, *args, **kwargs):
    """Call the learner's ``fn``; turn every exception into a one-line diagnosis."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as exc:
        raise _NotDone(str(exc)) from None
    except _Fail:
        raise
    except Exception as exc:  # the learner's bug, reported in one line
        kind = type(exc).__name__
        msg = _one_line(exc)
        hint = "Run your function on a small example in a new cell to see where it fails."
        if isinstance(exc, TypeError) and ("argument" in msg or "positional" in msg):
            hint = "Keep the function's signature exactly as given in the task."
        elif isinstance(exc, ValueError) and ("shape" in msg or "align" in msg or "broadcast" in msg):
            hint = "Check the shapes: print `X.shape`, `w.shape` and what you multiply."
        elif isinstance(exc, NameError):
            hint = "Run the Setup cell first, and use only names defined there or in your function."
        raise _Fail(f"your function raised {kind}: {msg}", hint) from None


def _as_array(got) -> np.ndarray:
    if got is None:
        raise _Fail("your function returned None.", "Add a `return` statement at the end.")
    try:
        return np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        raise _Fail(f"your function returned a {type(got).__name__}, not numbers.",
                    "Return a NumPy array (or a float), as the task says.") from None


def _close(a, b, rtol=1e-6, atol=1e-9) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _fmt(x) -> str:
    x = np.asarray(x, dtype=float)
    if x.ndim == 0:
        return f"{float(x):.4g}"
    flat = ", ".join(f"{v:.4g}" for v in x.ravel()[:4])
    return f"[{flat}{', …' if x.size > 4 else ''}]"


def _compare(got, expected, *, case: str, variants=(), n: int | None = None,
             scalar: bool = False, shape_hint: str = "", hint: str = "",
             rtol: float = 1e-6, atol: float = 1e-9) -> np.ndarray:
    """Check ``got`` against ``expected``; raise :class:`_Fail` with the likeliest diagnosis.

    ``variants`` is a sequence of ``(wrong_value, what, hint)`` for known mistakes; after them,
    generic diagnoses are tried: a factor of 2 or 1/2, the wrong sign, a factor ``n`` or
    ``1/n`` (a missing or extra 1/n).
    """
    arr = _as_array(got)
    exp = np.asarray(expected, dtype=float)
    if scalar:
        if arr.size != 1:
            raise _Fail(f"it returned an array of shape {arr.shape} {case}; expected one number.",
                        shape_hint or "Reduce over the entries (np.sum / np.mean) to get a number.")
        arr = arr.reshape(())
    if arr.shape != exp.shape:
        raise _Fail(f"wrong shape {case}: got {arr.shape}, expected {exp.shape}.",
                    shape_hint or "Print the shapes of the arrays you combine.")
    if not np.all(np.isfinite(arr)):
        raise _Fail(f"it returned NaN or infinite values {case}.",
                    hint or "Look for a division by zero or a step that makes the values explode.")
    if _close(arr, exp, rtol, atol):
        return arr
    for wrong, what, why in variants:
        if _close(arr, wrong, rtol, atol):
            raise _Fail(what, why)
    if np.any(exp != 0):
        generic = [(2.0, "it is twice the expected value (a factor of 2)",
                    "Check where a 2 comes from: d(w²)/dw = 2w, and a ½ in front cancels it."),
                   (0.5, "it is half the expected value (a factor of 2)",
                    "Check where a 2 comes from: d(w²)/dw = 2w, and a ½ in front cancels it."),
                   (-1.0, "it has the wrong sign",
                    "Check each minus sign: descent moves against the gradient.")]
        if n is not None and n > 2:
            generic += [(float(n), f"it is {n} times the expected value (a missing 1/n)",
                         "Average over the n examples (divide the sum by n)."),
                        (1.0 / n, f"it is 1/{n} of the expected value (an extra 1/n)",
                         "Divide by n only where the formula says so.")]
        for factor, what, why in generic:
            if _close(arr, factor * exp, rtol, atol):
                raise _Fail(f"{what} {case}.", why)
    bad = np.flatnonzero(~np.isclose(arr, exp, rtol=rtol, atol=atol).ravel())
    i = int(bad[0]) if bad.size else 0
    where = ""
    if exp.size > 1:
        idx = tuple(int(j) for j in np.unravel_index(i, exp.shape))
        where = f" at index {idx[0] if len(idx) == 1 else idx}"
    raise _Fail(f"wrong value {case}{where}: expected {_fmt(exp.ravel()[i])}, "
                f"got {_fmt(arr.ravel()[i])}.", hint or "Compare your code with the formula line by line.")


def _check_exact_zeros(arr, expected, *, case: str) -> None:
    """Fail with the 'near-zeros' diagnosis when exact zeros were expected but not produced."""
    arr, expected = np.asarray(arr, dtype=float), np.asarray(expected, dtype=float)
    want_zero = expected == 0
    tiny = want_zero & (arr != 0) & (np.abs(arr) < 0.05)
    if tiny.any():
        k, example = int(tiny.sum()), float(np.abs(arr[tiny]).min())
        raise _Fail(f"{k} weights that should be exactly 0 are only near 0 (e.g. {example:.1e}) {case}.",
                    "A subgradient step only jitters around 0; a soft-thresholding (proximal) "
                    "step sets them to exactly 0.")


# --------------------------------------------------------------------------------------------
# Lesson 01: overfitting
# --------------------------------------------------------------------------------------------

def _check_01_1(fn):
    cases = [(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.5, 1.5, 3.0, 5.0])),
             (np.linspace(-1, 1, 7), np.linspace(-1, 1, 7) ** 3)]
    for y_true, y_pred in cases:
        err = y_true - y_pred
        expected = np.mean(err**2)
        case = f"for y_true={_fmt(y_true)}"
        got = _call(fn, y_true.copy(), y_pred.copy())
        _compare(got, expected, case=case, scalar=True, n=y_true.size,
                 shape_hint="Average the squared errors into one number (np.mean).",
                 variants=[
                     (np.sqrt(expected), "it returned the root of the MSE (RMSE).",
                      "Drop the square root: MSE is the mean of the squared errors."),
                     (np.mean(np.abs(err)), "it returned the mean absolute error (|e| instead of e²).",
                      "Square the errors instead of taking their absolute value."),
                     (np.sum(err**2), f"it returned the sum of squared errors: a missing 1/n (n={y_true.size}).",
                      "Take the mean (divide by n), not the sum."),
                 ])
    return "your MSE matches on 2 test cases."


def _poly_predict_ref(x_train, y_train, x_new, degree, intercept=True):
    def design(x):
        cols = np.vander(x, degree + 1, increasing=True)
        return cols if intercept else cols[:, 1:]
    coef = np.linalg.lstsq(design(x_train), y_train, rcond=None)[0]
    return design(x_new) @ coef


def _check_01_2(fn):
    rng = np.random.default_rng(1)
    x_train = np.sort(rng.uniform(0, 1, 12))
    y_train = np.sin(2 * np.pi * x_train) + 0.3 * rng.standard_normal(12)
    x_new = np.linspace(0, 1, 9)
    for degree in (3, 5):
        case = f"for degree={degree}"
        expected = _poly_predict_ref(x_train, y_train, x_new, degree)
        got = _call(fn, x_train.copy(), y_train.copy(), x_new.copy(), degree)
        arr = _as_array(got)
        if arr.shape == (degree + 1,) or arr.shape == (degree,):
            raise _Fail(f"it returned {arr.size} numbers {case}: coefficients, not predictions.",
                        "Multiply the features of x_new by the coefficients and return that.")
        if arr.shape == x_train.shape:
            raise _Fail(f"it returned {arr.size} values {case}, one per training point.",
                        "Predict at x_new, not at x_train.")
        _compare(arr, expected, case=case, rtol=1e-5, atol=1e-6,
                 shape_hint="Return one prediction per entry of x_new.",
                 variants=[
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
    return "your polynomial fit predicts correctly for degrees 3 and 5."


# --------------------------------------------------------------------------------------------
# Lesson 02: the penalized cost
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# Lesson 03: weight decay
# --------------------------------------------------------------------------------------------

def _check_03_1(fn):
    lam = 0.05
    for w in (np.array([3.0, -2.0, 0.5, 0.0]), np.array([[1.0, -4.0], [2.5, 0.2]])):
        case = f"for w of shape {w.shape}, lam={lam}"
        expected = 2 * lam * w
        got = _call(fn, w.copy(), lam)
        _compare(got, expected, case=case,
                 shape_hint="The gradient has one entry per weight: same shape as w.",
                 variants=[
                     (lam * np.sign(w), "it is λ·sign(w), the gradient of the L1 penalty.",
                      "Differentiate λΣw², not λΣ|w|."),
                     (2 * lam * w**2, "it contains w² (the penalty itself, not its derivative).",
                      "d(λw²)/dw = 2λw."),
                 ])
    return "your gradient 2λw matches on a vector and a matrix."


def _wd_ref(w, g, lr, lam, n):
    return (1 - lr * lam / n) * w - lr * g


def _check_03_2(fn):
    w = np.array([10.0, -4.0, 0.5])
    g = np.array([1.0, -2.0, 0.3])
    for lr, lam, n in ((0.1, 2.0, 10), (0.5, 1.0, 4)):
        case = f"for lr={lr}, lam={lam}, n={n}"
        expected = _wd_ref(w, g, lr, lam, n)
        got = _call(fn, w.copy(), g.copy(), lr, lam, n)
        decay = 1 - lr * lam / n
        _compare(got, expected, case=case, shape_hint="Return the new weights: same shape as w.",
                 variants=[
                     ((1 - lr * lam) * w - lr * g, "the decay factor is 1 − ηλ: a missing 1/n.",
                      "With the penalty λ/(2n)·Σw², the factor is 1 − ηλ/n."),
                     ((1 - 2 * lr * lam / n) * w - lr * g, "the decay factor is 1 − 2ηλ/n (a factor of 2).",
                      "The ½ in λ/(2n)·Σw² cancels the 2 from the derivative: 1 − ηλ/n."),
                     ((1 - lr * lam / (2 * n)) * w - lr * g, "the decay factor is 1 − ηλ/(2n) (a factor of 2).",
                      "d/dw of λ/(2n)·w² is (λ/n)·w, so the factor is 1 − ηλ/n."),
                     ((1 + lr * lam / n) * w - lr * g, "the weights grow: the decay term has the wrong sign.",
                      "The factor must be slightly below 1: 1 − ηλ/n."),
                     (decay * w + lr * g, "the data gradient has the wrong sign (a step uphill).",
                      "Gradient descent subtracts η·∂L₀/∂w."),
                     (decay * (w - lr * g), "the decay also multiplies the data-gradient term.",
                      "Only w is multiplied: (1 − ηλ/n)·w − η·∂L₀/∂w."),
                     ((1 - lam / n) * w - lr * g, "the decay factor is missing the learning rate η.",
                      "The factor is 1 − ηλ/n."),
                     (w - lr * g, "there is no decay: that is the plain gradient step.",
                      "Multiply w by (1 − ηλ/n) first."),
                 ])
    return "your weight-decay step matches (1 − ηλ/n)·w − η·∂L₀/∂w on 2 test cases."


def _check_03_3(fn):
    for w0, lr, lam, n, steps in ((10.0, 0.1, 2.0, 10, 5), (-3.0, 0.5, 1.0, 4, 3)):
        case = f"for w0={w0}, steps={steps}"
        factor = 1 - lr * lam / n
        k = np.arange(steps + 1)
        expected = w0 * factor**k
        got = _call(fn, w0, lr, lam, n, steps)
        arr = _as_array(got)
        if arr.shape == (steps,):
            raise _Fail(f"it returned {steps} values {case}; expected {steps + 1}.",
                        "Include the starting value w0 first, then one value per step.")
        _compare(arr, expected, case=case,
                 shape_hint=f"Return a 1-D array of steps + 1 = {steps + 1} values, starting with w0.",
                 variants=[
                     (w0 * (1 - k * lr * lam / n), "the weight drops by the same amount each step "
                      "(a linear decrement, like the article's 10 → 9.8 → 9.6).",
                      "Each step multiplies the current weight by (1 − ηλ/n): a geometric sequence."),
                     (w0 * factor ** (k + 1), "every value is one step ahead.",
                      "The first value is w0 itself (0 steps)."),
                     (w0 * (1 - lr * lam) ** k, "the factor is 1 − ηλ: a missing 1/n.",
                      "The factor is 1 − ηλ/n."),
                 ])
    return "your sequence decays geometrically, w0·(1 − ηλ/n)^k."


# --------------------------------------------------------------------------------------------
# Lesson 04: L1 versus L2
# --------------------------------------------------------------------------------------------

def _check_04_1(fn):
    z = np.array([-3.0, -0.5, 0.0, 0.2, 0.7, 1.0, 2.5])
    for t in (0.7, 0.1):
        case = f"for t={t}"
        expected = np.sign(z) * np.maximum(np.abs(z) - t, 0.0)
        got = _call(fn, z.copy(), t)
        arr = _compare(got, expected, case=case, shape_hint="Return one value per entry of z.",
                       variants=[
                           (np.where(np.abs(z) > t, z, 0.0), "small entries become 0 but large ones "
                            "are not shrunk (hard thresholding).", "Also move the kept entries toward 0 by t."),
                           (np.maximum(np.abs(z) - t, 0.0), "negative inputs come out positive: the sign is lost.",
                            "Multiply by np.sign(z)."),
                           (z - t * np.sign(z), "entries smaller than t cross zero instead of stopping at 0.",
                            "Clip at 0: max(|z| − t, 0)."),
                           (np.maximum(z - t, 0.0), "negative entries are all set to 0.",
                            "Work with |z| and put the sign back."),
                           (np.sign(z) * np.maximum(np.abs(z) - 2 * t, 0.0), "it shrinks by 2t (a factor of 2).",
                            "Shrink by t."),
                       ])
        _check_exact_zeros(arr, expected, case=case)
    return "your soft-thresholding matches S_t(z) = sign(z)·max(|z| − t, 0), exact zeros included."


def _lasso_data():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((50, 20))
    coef = np.zeros(20)
    coef[[2, 7, 11, 16]] = [2.0, -1.5, 1.0, -0.5]
    y = X @ coef + 0.5 * rng.standard_normal(50)
    return X, y


def _ista_ref(X, y, lam, lr, n_iter, mode="prox"):
    n = X.shape[0]
    w = np.zeros(X.shape[1])
    for _ in range(n_iter):
        grad = X.T @ (X @ w - y) / n
        if mode == "prox":
            z = w - lr * grad
            w = np.sign(z) * np.maximum(np.abs(z) - lr * lam, 0.0)
        elif mode == "t=lam":
            z = w - lr * grad
            w = np.sign(z) * np.maximum(np.abs(z) - lam, 0.0)
        elif mode == "t=2lr*lam":
            z = w - lr * grad
            w = np.sign(z) * np.maximum(np.abs(z) - 2 * lr * lam, 0.0)
        elif mode == "subgradient":
            w = w - lr * (grad + lam * np.sign(w))
    return w


def _check_04_2(fn):
    X, y = _lasso_data()
    lam, n_iter = 0.1, 300
    lr = lasso_step_size(X)
    case = f"for lam={lam}, lr=1/L, n_iter={n_iter}"
    expected = _ista_ref(X, y, lam, lr, n_iter)
    got = _call(fn, X.copy(), y.copy(), lam, lr, n_iter)
    arr = _as_array(got)
    if arr.shape == expected.shape and (not np.all(np.isfinite(arr)) or np.abs(arr).max() > 1e3):
        raise _Fail(f"the weights blew up {case}.",
                    "Divide the gradient by n: ∇ = Xᵀ(Xw − y)/n; the step 1/L assumes that 1/n.")
    if arr.shape == expected.shape:
        _check_exact_zeros(arr, expected, case=case)
    _compare(arr, expected, case=case, rtol=1e-5, atol=1e-7,
             shape_hint="Return the weight vector: one entry per column of X.",
             variants=[
                 (_ista_ref(X, y, lam, lr, n_iter, "t=lam"), "it thresholds at λ instead of η·λ.",
                  "The proximal step of η·λ‖w‖₁ is soft_threshold(z, lr * lam)."),
                 (_ista_ref(X, y, lam, lr, n_iter, "t=2lr*lam"), "it thresholds at 2ηλ (a factor of 2).",
                  "The threshold is lr * lam."),
             ])
    zeros = int(np.sum(arr == 0))
    return f"your proximal-gradient lasso matches, with {zeros} of {arr.size} weights exactly 0."


# --------------------------------------------------------------------------------------------
# Lesson 05: the Keras experiment
# --------------------------------------------------------------------------------------------

def _keras():
    from helpers.keras_env import import_keras

    return import_keras()


def _reg_values(reg, keras):
    """(l1, l2) strengths of a Keras regularizer (``None`` -> (0, 0))."""
    if reg is None:
        return 0.0, 0.0
    cfg = reg.get_config() if hasattr(reg, "get_config") else {}
    return float(cfg.get("l1", 0.0) or 0.0), float(cfg.get("l2", 0.0) or 0.0)


def _check_05_1(fn):
    keras = _keras()
    for strength in (0.001, 0.0):
        case = f"for l1_strength={strength}"
        model = _call(fn, strength)
        if model is None:
            raise _Fail("your function returned None.", "End with `return model`.")
        if not isinstance(model, keras.Model):
            raise _Fail(f"it returned a {type(model).__name__}, not a Keras model.",
                        "Build a keras.Sequential([...]) and return it.")
        try:
            in_shape = tuple(model.inputs[0].shape)
        except Exception:  # a Sequential model without an Input has no inputs yet
            raise _Fail("the model has no defined input.",
                        "Start the model with keras.Input(shape=(2,)).") from None
        if in_shape != (None, 2):
            raise _Fail(f"the input shape is {in_shape[1:]}, expected (2,).",
                        "The moons have 2 features: keras.Input(shape=(2,)).")
        dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
        units = [layer.units for layer in dense]
        if units != [128, 128, 1]:
            raise _Fail(f"the Dense layers have units {units}, expected [128, 128, 1].",
                        "Two hidden Dense(128) layers, then Dense(1).")
        acts = [getattr(layer.activation, "__name__", str(layer.activation)) for layer in dense]
        if acts != ["relu", "relu", "sigmoid"]:
            raise _Fail(f"the activations are {acts}, expected ['relu', 'relu', 'sigmoid'].",
                        "relu on the hidden layers, sigmoid on the output (a probability).")
        regs = [_reg_values(layer.kernel_regularizer, keras) for layer in dense]
        if any(layer.bias_regularizer is not None and any(_reg_values(layer.bias_regularizer, keras))
               for layer in dense):
            raise _Fail("a bias is regularized.", "Only kernels are penalized: kernel_regularizer=...")
        if regs[2] != (0.0, 0.0):
            raise _Fail("the output layer is regularized too.",
                        "The article puts kernel_regularizer on the two hidden layers only.")
        for i, (l1, l2) in enumerate(regs[:2], start=1):
            if l2 and not l1:
                raise _Fail(f"hidden layer {i} uses an L2 penalty {case}.",
                            "Use keras.regularizers.l1(l1_strength).")
            if not np.isclose(l1, strength, rtol=1e-6, atol=1e-12) or l2:
                if strength and l1 == 0:
                    raise _Fail(f"hidden layer {i} has no L1 penalty {case}.",
                                "Pass kernel_regularizer=keras.regularizers.l1(l1_strength) to both hidden layers.")
                raise _Fail(f"hidden layer {i} has L1 strength {l1:g}, expected {strength:g} {case}.",
                            "Use keras.regularizers.l1(l1_strength) (the argument, not a constant).")
        if model.count_params() != 17025:
            raise _Fail(f"the model has {model.count_params()} parameters, expected 17025.",
                        "Check the layers: 2 → 128 → 128 → 1, all with biases.")
    return "your model is the article's: 2 → 128 relu → 128 relu → 1 sigmoid, l1 on the hidden kernels."


def _sparsity_model(keras):
    k1 = np.array([[0.5, -1e-4, 0.0, 0.02], [3e-4, -0.3, 0.0, 1.2], [-0.004, 0.0, 0.8, -2e-5]])
    k2 = np.array([[0.0, 0.3], [-5e-4, 0.0], [0.6, -0.0009], [0.01, -0.7]])
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(4), keras.layers.Dense(2)])
    model.set_weights([k1, np.zeros(4), k2, np.array([0.0, 0.1])])
    return model, [k1, k2], [np.zeros(4), np.array([0.0, 0.1])]


def _check_05_2(fn):
    keras = _keras()
    model, kernels, biases = _sparsity_model(keras)
    flat = np.concatenate([k.ravel() for k in kernels])
    every = np.concatenate([flat] + biases)
    for tol in (1e-3, 1e-2):
        case = f"for tol={tol:g}"
        expected = np.mean(np.abs(flat) < tol)
        got = _call(fn, model, tol)
        _compare(got, expected, case=case, scalar=True,
                 shape_hint="Return one fraction for the whole model.",
                 variants=[
                     (np.mean(np.abs(every) < tol), "the biases are counted too.",
                      "Count kernel weights only: the layers' .kernel, not every array of get_weights()."),
                     (100 * expected, "it returned a percentage.", "Return a fraction between 0 and 1."),
                     (np.sum(np.abs(flat) < tol), "it returned a count.",
                      "Divide by the number of kernel weights to get a fraction."),
                     (np.mean(flat == 0), "it counts exact zeros only.",
                      "Count the weights with |w| < tol."),
                 ])
    return "your sparsity measure counts kernel weights with |w| < tol, as a fraction."


# --------------------------------------------------------------------------------------------
# The registry and the entry point
# --------------------------------------------------------------------------------------------

CHECKS: dict[str, tuple[str, Callable]] = {
    "01.1": ("mean squared error", _check_01_1),
    "01.2": ("polynomial fit and predict", _check_01_2),
    "02.1": ("the L2 penalty", _check_02_1),
    "02.2": ("the penalized cost", _check_02_2),
    "02.3": ("ridge in closed form", _check_02_3),
    "02.4": ("choose λ by cross-validation", _check_02_4),
    "03.1": ("the gradient of the L2 penalty", _check_03_1),
    "03.2": ("one weight-decay step", _check_03_2),
    "03.3": ("the decay sequence", _check_03_3),
    "04.1": ("soft-thresholding", _check_04_1),
    "04.2": ("a proximal-gradient lasso", _check_04_2),
    "05.1": ("the article's regularized Keras model", _check_05_1),
    "05.2": ("the sparsity of a model", _check_05_2),
}
"""Task id -> (short title, checker). Checkers return the success text or raise ``_Fail``."""


def normalize_task_id(task_id) -> str:
    """``"3.2"``, ``"03.2"`` or ``(3, 2)`` -> ``"03.2"``; ``ValueError`` naming ``task_id`` otherwise."""
    if isinstance(task_id, tuple) and len(task_id) == 2:
        lesson, number = task_id
    else:
        match = re.fullmatch(r"\s*(\d{1,2})\.(\d{1,2})\s*", str(task_id))
        if not match:
            raise ValueError(f"task_id must look like '03.2' or (3, 2), got {task_id!r}")
        lesson, number = match.groups()
    try:
        return f"{int(lesson):02d}.{int(number)}"
    except (TypeError, ValueError):
        raise ValueError(f"task_id must look like '03.2' or (3, 2), got {task_id!r}") from None


def _run(task_id, obj) -> CheckResult:
    try:
        tid = normalize_task_id(task_id)
    except ValueError as exc:
        return CheckResult(str(task_id), False, f"{FAIL} {exc}.")
    if tid not in CHECKS:
        known = ", ".join(CHECKS)
        return CheckResult(tid, False, f"{FAIL} Task {tid} has no automatic check (reasoning "
                           f"tasks are compared with the solution notebook).\n  Checked tasks: {known}.")
    title, checker = CHECKS[tid]
    if not callable(obj):
        return CheckResult(tid, False, f"{FAIL} Task {tid} expects your function, got "
                           f"{type(obj).__name__}.\n  Hint: pass the function itself, without "
                           "parentheses: check_task(\"…\", my_function).")
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            success = checker(obj)
    except _NotDone as stub:
        other = re.match(r"Task (\d\d\.\d+)\b", str(stub))
        if other and other.group(1) != tid:
            return CheckResult(tid, False, f"{FAIL} Task {tid} waits for Task {other.group(1)}: "
                               f"your function calls code of Task {other.group(1)}, not done yet.")
        return CheckResult(tid, False, f"{FAIL} Task {tid} is not done yet: replace the "
                           "`raise NotImplementedError` line with your code.")
    except _Fail as fail:
        text = f"{FAIL} Task {tid} ({title}): {fail.what}"
        if fail.hint:
            text += f"\n  Hint: {fail.hint}"
        return CheckResult(tid, False, text)
    except Exception as exc:  # a bug in a checker must not show a traceback either
        return CheckResult(tid, False, f"{FAIL} Task {tid}: the check itself failed "
                           f"({type(exc).__name__}: {_one_line(exc)}). Please report this.")
    return CheckResult(tid, True, f"{PASS} Task {tid} passed: {success}")


def check_task(task_id, obj, *, quiet: bool = False) -> CheckResult:
    """Run the test cases of task ``task_id`` on the learner's ``obj`` and print the verdict.

    ``task_id`` is ``"LL.k"`` (e.g. ``"03.2"``); ``obj`` is the learner's function. Prints one
    or two lines (``✓ ...`` or ``✗ ... Hint: ...``) unless ``quiet``, and returns a
    :class:`CheckResult` (true when passed). Exceptions raised by the learner's code, including
    the stub's ``NotImplementedError``, become a one-line message, never a traceback.
    """
    result = _run(task_id, obj)
    if not quiet:
        print(result.message)
    return result


def is_done(task_id, obj) -> bool:
    """True when ``obj`` passes task ``task_id``; otherwise prints that the cell is skipped.

    For cells that use the learner's function (e.g. to train the model of Task 05.1): guard
    them with ``if is_done("05.1", build_model):`` so the notebook runs top to bottom before
    the task is done.
    """
    result = _run(task_id, obj)
    if not result:
        print(f"(Skipped until Task {result.task_id} passes its check.)")
    return result.passed
