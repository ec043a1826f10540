"""Checks of assignment 07, *Bias, variance and double descent*: Tasks 07.1 (bias², variance and the
expected test MSE), 07.2 (the measured test MSE and its standard error), 07.3 (the minimum-norm
solution) and 07.4 (gradient descent from zero)."""

from __future__ import annotations

import numpy as np

from helpers.checks.core import _as_array, _call, _compare, _Fail, _fmt, task


def _fits_table(seed: int = 7, n_sets: int = 40, n_inputs: int = 6):
    """Predictions of ``n_sets`` fits at ``n_inputs`` test inputs (with a systematic offset, so
    bias and variance are both clearly nonzero), the true values there, and fresh noisy targets."""
    rng = np.random.default_rng(seed)
    f_true = np.sin(np.linspace(0.3, 5.0, n_inputs))
    offset = np.linspace(-0.4, 0.6, n_inputs)
    preds = f_true + offset + rng.normal(0.0, 0.3, (n_sets, n_inputs)) * np.linspace(0.5, 2.0, n_inputs)
    y_test = f_true + 0.5 * rng.standard_normal((n_sets, n_inputs))
    return preds, f_true, y_test


def _numbers(got, count: int, names: str, case: str) -> list:
    """The ``count`` results of a task that returns a tuple (or a list, or an array of that size)."""
    if isinstance(got, np.ndarray) and got.ndim == 1:
        got = list(got)
    if not isinstance(got, (tuple, list)) or len(got) != count:
        raise _Fail(f"it returned {type(got).__name__} {case}; expected {count} numbers ({names}).",
                    f"End with `return {names}`.")
    return list(got)


@task("07.1", "bias², variance and the expected test MSE")
def _check_07_1(fn):
    for seed, noise_sd in ((7, 0.5), (8, 0.3)):
        preds, f_true, _ = _fits_table(seed)
        R = preds.shape[0]
        case = f"for {R} fits at {f_true.size} inputs, noise_sd={noise_sd}"
        got = _numbers(_call(fn, preds.copy(), f_true.copy(), noise_sd), 3, "bias2, variance, expected_mse", case)
        mean_fit = preds.mean(axis=0)
        bias = mean_fit - f_true
        bias2, variance = np.mean(bias**2), np.mean(preds.var(axis=0))
        _compare(got[0], bias2, case=f"(bias²) {case}", scalar=True, variants=[
            (np.mean(np.abs(bias)), "bias² is the mean of |bias|: the bias is not squared.",
             "Square the bias at each input, then average: np.mean((mean_fit - f_true) ** 2)."),
            (np.mean(bias), "bias² is the mean bias, not squared.",
             "Square the bias at each input, then average: np.mean((mean_fit - f_true) ** 2)."),
            (np.mean(bias) ** 2, "the bias was averaged over the inputs before squaring.",
             "Square first, then average over the inputs: errors of opposite sign must not cancel."),
            (np.mean((preds - f_true) ** 2), "bias² includes the variance: it compares each fit with the "
             "truth instead of the average fit.", "Average the fits over the training sets first (axis 0)."),
        ])
        _compare(got[1], variance, case=f"(variance) {case}", scalar=True, variants=[
            (np.mean(preds.var(axis=0, ddof=1)), f"the variance divides by R − 1 = {R - 1} instead of R = {R}.",
             "Use np.var(preds, axis=0) (ddof=0): then bias² + variance is exactly the mean of "
             "(fit − truth)², as in the lesson."),
            (np.mean(preds.std(axis=0)), "it returned the standard deviation, not the variance.",
             "Square the spread: np.var, not np.std."),
            (np.mean(preds.var(axis=1)), "the variance is taken across the test inputs (axis 1).",
             "Variance is across training sets: np.var(preds, axis=0), then average over the inputs."),
            (np.var(preds), "the variance is taken over all entries at once, so it mixes in how the fits "
             "vary across inputs.", "Take np.var(preds, axis=0) (across training sets), then the mean."),
        ])
        total = bias2 + variance + noise_sd**2
        _compare(got[2], total, case=f"(expected test MSE) {case}", scalar=True, variants=[
            (bias2 + variance, "the expected test MSE lacks the noise term.",
             "Add the noise variance noise_sd ** 2: no model predicts the noise of the test target."),
            (bias2 + variance + noise_sd, "the noise term is σ, not σ².",
             "The noise term is the variance of the test noise: noise_sd ** 2."),
            (np.sqrt(bias2) + variance + noise_sd**2, "it adds the bias, not the squared bias.",
             "expected MSE = bias² + variance + σ²."),
        ])
    return "bias², variance (over training sets, divided by R) and bias² + variance + σ² all match."


@task("07.2", "the measured test MSE and its standard error")
def _check_07_2(fn):
    preds, _, y_test = _fits_table(9)
    R, m = preds.shape
    case = f"for {R} fits at {m} test inputs"
    got = _numbers(_call(fn, preds.copy(), y_test.copy()), 2, "mean, se", case)
    per_set = np.mean((y_test - preds) ** 2, axis=1)
    mean, sd = per_set.mean(), per_set.std(ddof=1)
    _compare(got[0], mean, case=f"(the mean) {case}", scalar=True, variants=[
        (np.sqrt(mean), "it returned the root of the MSE.", "Average the squared errors; no square root."),
        (np.mean(np.sqrt(per_set)), "it averaged each fit's root MSE.", "Average the squared errors; no square root."),
        (np.mean(np.abs(y_test - preds)), "it averaged absolute errors, not squared ones.", "Square the errors."),
    ])
    arr = _as_array(got[1])
    if arr.size == 1 and np.isclose(float(arr.reshape(())), sd / np.sqrt(R), rtol=0.02):
        return (f"the mean test MSE and its standard error (the spread over the {R} training sets "
                f"divided by √{R}) match.")
    all_sq = ((y_test - preds) ** 2).ravel()
    _compare(got[1], sd / np.sqrt(R), case=f"(the standard error) {case}", scalar=True, rtol=0.02, variants=[
        (sd, "it returned the spread of one fit's test MSE, not the error of their mean.",
         f"Divide the standard deviation over the training sets by √R (R = {R})."),
        (sd / R, f"it divides the standard deviation by R = {R} instead of √R.",
         "The standard error of a mean of R independent values is sd/√R."),
        (sd**2 / R, "it returned a variance (sd²/R), not a standard error.", "Take the square root: sd/√R."),
        (all_sq.std(ddof=1) / np.sqrt(all_sq.size), f"it treats all {R}·{m} squared errors as independent.",
         "The unit that repeats is the training set: average each fit's errors first, then take "
         "their standard deviation / √R."),
    ])
    raise _Fail(f"unexpected {case}.")  # pragma: no cover - _compare raises first


def _matrix(rows: int, cols: int, singular_values, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    k = len(singular_values)
    U = np.linalg.qr(rng.standard_normal((rows, k)))[0]
    V = np.linalg.qr(rng.standard_normal((cols, k)))[0]
    return U @ np.diag(singular_values) @ V.T


def _min_norm_cases():
    rng = np.random.default_rng(10)
    wide = _matrix(5, 12, [3.0, 2.0, 1.0, 0.5, 1e-3], 11)  # p > n, one small (but real) singular value
    tall = rng.standard_normal((12, 5))  # p < n: the ordinary least-squares fit
    twin = rng.standard_normal((6, 10))
    twin[1] = twin[0]  # two identical rows with different targets: F Fᵀ is singular
    return [("a 5×12 F (more features than points)", wide, rng.standard_normal(5)),
            ("a 12×5 F (fewer features than points)", tall, rng.standard_normal(12)),
            ("a 6×10 F with two identical rows", twin, rng.standard_normal(6))]


@task("07.3", "the minimum-norm solution")
def _check_07_3(fn):
    for name, F, y in _min_norm_cases():
        case = f"for {name}"
        expected = np.linalg.pinv(F) @ y
        try:
            got = fn(F.copy(), y.copy())
        except np.linalg.LinAlgError as exc:
            raise _Fail(f"your function raised LinAlgError ({exc}) {case}.",
                        "F Fᵀ (or Fᵀ F) is singular here; np.linalg.pinv(F) @ y or "
                        "np.linalg.lstsq(F, y, rcond=None)[0] work for every shape.") from None
        except Exception:
            got = _call(fn, F.copy(), y.copy())  # the usual one-line diagnosis
        arr = _as_array(got)
        if arr.shape != expected.shape:
            raise _Fail(f"wrong shape {case}: got {arr.shape}, expected {expected.shape}.",
                        "Return one weight per column of F.")
        if not np.all(np.isfinite(arr)) or np.linalg.norm(arr) > 1e3 * max(1.0, np.linalg.norm(expected)):
            raise _Fail(f"the weights are enormous (‖w‖ = {_fmt(np.linalg.norm(arr))}) {case}.",
                        "A singular value that is 0 up to rounding was inverted. Use np.linalg.pinv(F) @ y "
                        "or np.linalg.lstsq(F, y, rcond=None)[0]: their cutoff treats it as 0.")
        if np.allclose(arr, expected, rtol=1e-6, atol=1e-8):
            continue
        residual, best = np.linalg.norm(F @ arr - y), np.linalg.norm(F @ expected - y)
        if residual > best + 1e-6 * max(1.0, np.linalg.norm(y)):
            close = np.linalg.norm(arr - expected) < 0.5 * np.linalg.norm(expected)
            raise _Fail(f"{'close to the minimum-norm solution, but it' if close else 'it'} fits the data "
                        f"less well than least squares can {case}.",
                        "Likely: a ridge λ > 0, or an rcond cutoff that drops real singular values (one here is "
                        "1e-3 of the largest), or Fᵀ(FFᵀ)⁻¹y where F has fewer columns than rows. "
                        "np.linalg.pinv(F) @ y and np.linalg.lstsq(F, y, rcond=None)[0] fit every shape.")
        raise _Fail(f"it fits the data, but ‖w‖ = {_fmt(np.linalg.norm(arr))} is larger than the minimum "
                    f"{_fmt(np.linalg.norm(expected))} {case}: w has a part that F cannot see (its null space).",
                    "Use np.linalg.pinv(F) @ y (or lstsq(F, y, rcond=None)). Other exact fits, such as solving "
                    "FᵀF w = Fᵀy when F has more columns than rows, or a square sub-system padded with zeros, "
                    "add a null-space part.")
    return "your minimum-norm solution matches F⁺y for wide, tall and rank-deficient F."


def _gd_ref(F, y, lr, n_steps, scale=1.0, sign=1.0):
    w = np.zeros(F.shape[1])
    for _ in range(n_steps):
        w = w - sign * lr * scale * F.T @ (F @ w - y)
    return w


@task("07.4", "gradient descent from zero")
def _check_07_4(fn):
    rng = np.random.default_rng(12)
    F, y = rng.standard_normal((6, 15)), rng.standard_normal(6)
    lr = 0.5 / np.linalg.norm(F, 2) ** 2
    n = F.shape[0]
    got0 = _as_array(_call(fn, F.copy(), y.copy(), lr, 0))
    if got0.shape == (15,) and np.allclose(got0, _gd_ref(F, y, lr, 1)):
        raise _Fail("with n_steps=0 it took one step: it takes one step too many.", "Run exactly n_steps steps.")
    if got0.shape == (15,) and np.any(got0 != 0):
        raise _Fail("after 0 steps it did not return zeros: it does not start from w = 0.",
                    "Start with w = np.zeros(F.shape[1]): the start decides which exact fit you reach.")
    for n_steps in (1, 25):
        case = f"after {n_steps} step{'s' if n_steps > 1 else ''} with lr={lr:.3g}"
        _compare(_call(fn, F.copy(), y.copy(), lr, n_steps), _gd_ref(F, y, lr, n_steps), case=case,
                 rtol=1e-8, atol=1e-10, shape_hint="Return the weight vector: one entry per column of F.",
                 variants=[
                     (_gd_ref(F, y, lr, n_steps, scale=1 / n), f"the gradient is divided by n = {n}.",
                      "This task's loss is ½‖Fw − y‖² (a sum): the gradient is Fᵀ(Fw − y), no 1/n."),
                     (_gd_ref(F, y, lr, n_steps, scale=2.0), "the step is twice as large (a factor of 2).",
                      "The loss has a ½: its gradient is Fᵀ(Fw − y), not 2Fᵀ(Fw − y)."),
                     (_gd_ref(F, y, lr, n_steps, sign=-1.0), "it steps uphill (the sign of the gradient).",
                      "w ← w − lr · Fᵀ(Fw − y)."),
                     (_gd_ref(F, y, lr, n_steps + 1), "it takes one step too many.", "Run exactly n_steps steps."),
                     (_gd_ref(F, y, lr, max(n_steps - 1, 0)), "it takes one step too few.",
                      "Run exactly n_steps steps."),
                 ])
    w = _as_array(_call(fn, F.copy(), y.copy(), 1 / np.linalg.norm(F, 2) ** 2, 5000))
    w_plus = np.linalg.pinv(F) @ y
    if np.linalg.norm(w - w_plus) > 1e-8 * np.linalg.norm(w_plus):  # pragma: no cover - the steps were right
        raise _Fail("the steps are right, but 5000 of them did not reach F⁺y.", "Please report this.")
    return "your steps are right, and 5000 of them from zero reach the minimum-norm F⁺y (to 1e-8)."
