"""Checks of assignment 07, *Bias, variance and double descent*: Tasks 07.1 (bias², variance and the
expected test MSE), 07.2 (the measured test MSE and its standard error), 07.3 (the minimum-norm
solution) and 07.4 (gradient descent from zero)."""

from __future__ import annotations

from functools import partial

import numpy as np

from helpers.checks.core import _as_array, _call, _Cases, _Fail, _fmt, _fmt_pair, task
from helpers.checks.draws import drawn


def _fits_table(seed: int, n_sets: int, n_inputs: int, noise_sd: float):
    """Predictions of ``n_sets`` fits at ``n_inputs`` test inputs (with a systematic offset, so
    bias and variance are both clearly nonzero), the true values there, and fresh noisy targets."""
    rng = np.random.default_rng(seed)
    f_true = np.sin(np.linspace(0.3, 5.0, n_inputs))
    offset = np.linspace(-0.4, 0.6, n_inputs) * (1 + seed % 3)
    spread = rng.uniform(0.3, 2.0, n_inputs)
    preds = f_true + offset + 0.3 * rng.standard_normal((n_sets, n_inputs)) * spread
    y_test = f_true + noise_sd * rng.standard_normal((n_sets, n_inputs))
    return preds, f_true, y_test


BV_CASES = ((7, 40, 6, 0.5), (8, 25, 9, 0.3), (9, 60, 4, 1.2))
"""(seed, R, m, noise_sd) of the fixed data sets of Tasks 07.1 and 07.2: their answers differ, and so
does each known mistake from the others on at least one of them."""


def _bv_cases():
    """``(seed, R, m, noise_sd, words)``: the fixed data sets, then one drawn for this run."""
    rng, words = drawn()
    return [(*case, "") for case in BV_CASES] + [
        (int(rng.integers(1 << 30)), int(rng.integers(10, 80)), int(rng.integers(3, 12)),
         round(float(rng.uniform(0.1, 1.5)), 2), f", {words}")]


def _numbers(got, count: int, names: str, case: str) -> list:
    """The ``count`` results of a task that returns a tuple (or a list, or an array of that size)."""
    if isinstance(got, np.ndarray) and got.ndim == 1:
        got = list(got)
    if not isinstance(got, (tuple, list)) or len(got) != count:
        what = f"an array of shape {got.shape}" if isinstance(got, np.ndarray) else type(got).__name__
        raise _Fail(f"it returned {what} {case}; expected {count} numbers ({names}).",
                    f"End with `return {names}`.")
    return list(got)


def _part_neutral(cases: _Cases, part: str):
    """The neutral message of one of several returned numbers: which one, expected, got."""
    def neutral(answer):
        expected, got = (f"{float(v):.6g}" for v in (answer.expected, answer.got))
        return (f"the {part} is wrong {answer.case}: expected {expected}, got {got}.",
                "Compare that line of your code with the task's formula.")
    return neutral


_SQUARE = "Square the bias at each input, then average: np.mean((mean_fit - f_true) ** 2)."


@task("07.1", "bias², variance and the expected test MSE")
def _check_07_1(fn):
    bias_cases = _Cases(scalar=True)
    var_cases = _Cases(scalar=True)
    total_cases = _Cases(scalar=True)
    bias_cases.neutral = _part_neutral(bias_cases, "bias² (first number)")
    var_cases.neutral = _part_neutral(var_cases, "variance (second number)")
    total_cases.neutral = _part_neutral(total_cases, "expected test MSE (third number)")
    for seed, R, m, noise_sd, more in _bv_cases():
        preds, f_true, _ = _fits_table(seed, R, m, noise_sd)
        case = f"for {R} fits at {m} inputs, noise_sd={noise_sd}{more}"
        got = _numbers(_call(fn, preds.copy(), f_true.copy(), noise_sd), 3, "bias2, variance, expected_mse", case)
        bias = preds.mean(axis=0) - f_true
        bias2, variance = np.mean(bias**2), np.mean(preds.var(axis=0))
        bias_cases.add(got[0], bias2, case=case, variants=[
            (np.mean(np.abs(bias)), "bias² is the mean of |bias|: the bias is not squared.", _SQUARE),
            (np.mean(bias), "bias² is the mean bias, not squared.", _SQUARE),
            (np.mean(bias) ** 2, "the bias was averaged over the inputs before squaring.",
             "Square first, then average over the inputs: errors of opposite sign must not cancel."),
            (np.mean((preds - f_true) ** 2), "bias² includes the variance: it compares each fit with the "
             "truth instead of the average fit.", "Average the fits over the training sets first (axis 0)."),
        ])
        var_cases.add(got[1], variance, case=case, n=R, variants=[
            (np.mean(preds.var(axis=0, ddof=1)), "the variance divides by R − 1 instead of R (the number of "
             "training sets).", "Use np.var(preds, axis=0) (ddof=0): then bias² + variance is exactly the mean "
             "of (fit − truth)², as in the lesson."),
            (np.mean(preds.std(axis=0)), "it returned the standard deviation, not the variance.",
             "Square the spread: np.var, not np.std."),
            (np.mean(preds.var(axis=1)), "the variance is taken across the test inputs (axis 1).",
             "Variance is across training sets: np.var(preds, axis=0), then average over the inputs."),
            (np.var(preds), "the variance is taken over all entries at once, so it mixes in how the fits "
             "vary across inputs.", "Take np.var(preds, axis=0) (across training sets), then the mean."),
        ])
        total_cases.add(got[2], bias2 + variance + noise_sd**2, case=case, variants=[
            (bias2 + variance, "the expected test MSE lacks the noise term.",
             "Add the noise variance noise_sd ** 2: no model predicts the noise of the test target."),
            (bias2 + variance + noise_sd, "the noise term is σ, not σ².",
             "The noise term is the variance of the test noise: noise_sd ** 2."),
            (np.sqrt(bias2) + variance + noise_sd**2, "it adds the bias, not the squared bias.",
             "expected MSE = bias² + variance + σ²."),
        ])
    for cases in (bias_cases, var_cases, total_cases):
        cases.verdict()
    return ("bias², variance (over training sets, divided by R) and bias² + variance + σ² all match, "
            "on a case drawn at random too.")


@task("07.2", "the measured test MSE and its standard error")
def _check_07_2(fn):
    mean_cases = _Cases(scalar=True)
    se_cases = _Cases(scalar=True)
    mean_cases.neutral = _part_neutral(mean_cases, "mean test MSE (first number)")
    se_cases.neutral = _part_neutral(se_cases, "standard error (second number)")
    for seed, R, m, noise_sd, more in _bv_cases():
        preds, _, y_test = _fits_table(seed, R, m, noise_sd)
        case = f"for {R} fits at {m} test inputs{more}"
        got = _numbers(_call(fn, preds.copy(), y_test.copy()), 2, "mean, se", case)
        sq = (y_test - preds) ** 2
        per_set = sq.mean(axis=1)
        mean, sd = per_set.mean(), per_set.std(ddof=1)
        mean_cases.add(got[0], mean, case=case, n=R, variants=[
            (np.sqrt(mean), "it returned the root of the MSE.", "Average the squared errors; no square root."),
            (np.mean(np.sqrt(per_set)), "it averaged each fit's root MSE.",
             "Average the squared errors; no square root."),
            (np.mean(np.abs(y_test - preds)), "it averaged absolute errors, not squared ones.", "Square the errors."),
        ])
        se_cases.add(got[1], sd / np.sqrt(R), case=case, n=R, variants=[
            (sd, "it returned the spread of one fit's test MSE, not the error of their mean.",
             "Divide the standard deviation over the training sets by √R."),
            (sd / R, "it divides the standard deviation by R instead of √R.",
             "The standard error of a mean of R independent values is sd/√R."),
            (sd**2 / R, "it returned a variance (sd²/R), not a standard error.", "Take the square root: sd/√R."),
            (per_set.std() / np.sqrt(R), "the standard deviation divides by R (np.std's default, ddof=0).",
             "The task asks for the sample standard deviation: np.std(per_fit, ddof=1) / √R."),
            (sq.std(ddof=1) / np.sqrt(sq.size), "it treats all R·m squared errors as independent.",
             "The unit that repeats is the training set: average each fit's errors first, then take "
             "their standard deviation / √R."),
        ])
    mean_cases.verdict()
    se_cases.verdict()
    return ("the mean test MSE and its standard error (the spread over the training sets divided by √R) "
            "match on 3 test cases and one drawn at random.")


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
    draw, words = drawn()
    rows, cols = int(draw.integers(3, 8)), int(draw.integers(8, 15))
    rank = int(draw.integers(2, rows + 1))  # a drawn wide F, of full rank or not
    lowrank = _matrix(rows, cols, np.sort(draw.uniform(0.5, 3.0, rank))[::-1], int(draw.integers(1 << 30)))
    return [("a 5×12 F (more features than points)", wide, rng.standard_normal(5)),
            ("a 12×5 F (fewer features than points)", tall, rng.standard_normal(12)),
            ("a 6×10 F with two identical rows", twin, rng.standard_normal(6)),
            (f"a {rows}×{cols} F of rank {rank}, {words}", lowrank, draw.standard_normal(rows))]


_PINV = "np.linalg.pinv(F) @ y or np.linalg.lstsq(F, y, rcond=None)[0]"

MIN_NORM_RTOL = 1e-5
"""Task 07.3's stated tolerance: ``w`` passes when it fits the data as well as F⁺y and is no longer
than F⁺y, each to a relative 1e-5: ‖F(w − F⁺y)‖ ≤ 1e-5·‖y‖ and ‖w‖ ≤ (1 + 1e-5)·‖F⁺y‖. That is the
task's definition (the smallest ‖w‖ among the minimizers of ‖Fw − y‖²) to that precision. Ridge with
a tiny λ, the λ → 0 limit of lesson 07, is the minimum-norm solution to that precision and passes:
solving (FᵀF + λI)w = Fᵀy with λ = 1e-12 on the 5×12 F with a singular value of 1e-3 moves the fit
by 2e-7·‖y‖ and shortens w by 1e-6 (relative), while rounding adds a part of 3e-4·‖F⁺y‖ in F's null
space, which lengthens w by only 3e-8 (a null-space part counts to second order). λ = 1e-11 passes
too; λ = 1e-10 moves that fit by 2e-5·‖y‖, and with λ = 1e-13 rounding lengthens w by 3e-5 on the F
with two identical rows: both fail, with the digits that show it. Whatever passes is within about
5e-3·‖F⁺y‖ of F⁺y (sqrt(2e-5)) in F's null space and fits as well as F⁺y to 1e-5·‖y‖."""
_RTOL = f"{MIN_NORM_RTOL:.0e}".replace("e-0", "e-")  # "1e-5", as the messages print it


def _min_norm_verdict(F, y, w, w_plus):
    """(kind, numbers) of one answer of Task 07.3: kind is None (right to :data:`MIN_NORM_RTOL`),
    "enormous", "less well" (the fit) or "longer" (the norm); numbers are what its message prints."""
    if not np.all(np.isfinite(w)):
        return "enormous", {"norm": np.inf}
    norm, norm_plus = float(np.linalg.norm(w)), float(np.linalg.norm(w_plus))
    if norm > 1e3 * max(1.0, norm_plus):
        return "enormous", {"norm": norm}
    y_norm, fit_gap = float(np.linalg.norm(y)), float(np.linalg.norm(F @ (w - w_plus)))
    if fit_gap > MIN_NORM_RTOL * y_norm:
        return "less well", {"fit_gap": fit_gap, "y_norm": y_norm}
    if norm > (1 + MIN_NORM_RTOL) * norm_plus:
        _, s, Vt = np.linalg.svd(F)
        rank = int(np.sum(s > np.finfo(float).eps * max(F.shape) * s[0]))
        unseen = float(np.linalg.norm(Vt[rank:] @ w))  # the part of w in F's null space
        return "longer", {"norm": norm, "norm_plus": norm_plus, "unseen": unseen}
    return None, {}


def _within_tolerance(F, y, w_plus, w) -> bool:
    return _min_norm_verdict(F, y, w, w_plus)[0] is None


def _min_norm_neutral(cases: _Cases, verdicts: list):
    """What the wrong answers of Task 07.3 have in common, when one observation covers them all."""
    def neutral(answer):
        failing = [(a, v) for a, v in zip(cases.answers, verdicts, strict=True) if not cases._right(a)]
        kinds = {v[0] for _, v in failing}
        (first, (_, numbers)) = failing[0]
        if kinds == {"enormous"}:
            return (f"the weights are enormous (‖w‖ = {_fmt(numbers['norm'])}) {first.case}.",
                    f"A singular value that is 0 up to rounding was inverted. Use {_PINV}: their cutoff "
                    "treats it as 0.")
        if kinds == {"less well"}:
            return (f"it fits the data less well than least squares can {first.case}: ‖F(w − F⁺y)‖ = "
                    f"{numbers['fit_gap']:.2g}, where the check allows {_RTOL}·‖y‖ = "
                    f"{MIN_NORM_RTOL * numbers['y_norm']:.2g}.",
                    "Likely: a ridge λ that is not tiny, or an rcond cutoff that drops real singular values (one "
                    f"here is 1e-3 of the largest), or Fᵀ(FFᵀ)⁻¹y where F has fewer columns than rows. {_PINV} "
                    "fit every shape.")
        if kinds == {"longer"}:
            got, want = _fmt_pair(numbers["norm_plus"], numbers["norm"])
            unseen = numbers["unseen"]
            what = (f": w has a part of length {unseen:.2g} that F cannot see (its null space)"
                    if unseen**2 >= 0.5 * (numbers["norm"] ** 2 - numbers["norm_plus"] ** 2) else "")
            return (f"it fits the data, but ‖w‖ = {want} is larger than the minimum {got} {first.case} (by "
                    f"{numbers['norm'] / numbers['norm_plus'] - 1:.1e} relative; the check allows "
                    f"{_RTOL}){what}.",
                    f"Use {_PINV}. Other exact fits, such as solving FᵀF w = Fᵀy when F has more columns than "
                    "rows, a square sub-system padded with zeros, or ridge with a λ so small that rounding "
                    "dominates, add a null-space part.")
        return cases.wrong_value(answer)
    return neutral


@task("07.3", "the minimum-norm solution")
def _check_07_3(fn):
    """Task 07.3, judged to the stated tolerance :data:`MIN_NORM_RTOL`: the fit and the length of w
    against F⁺y's, each to a relative 1e-5 (ridge with λ = 1e-12 passes)."""
    answers = _Cases(shape_hint="Return one weight per column of F.")
    verdicts: list[tuple[str | None, dict]] = []  # per case: what is off (if anything), with its numbers
    answers.neutral = _min_norm_neutral(answers, verdicts)
    for name, F, y in _min_norm_cases():
        case = f"for {name}"
        expected = np.linalg.pinv(F) @ y
        try:
            got = _call(fn, F.copy(), y.copy())
        except _Fail as fail:
            if "LinAlgError" in fail.what:
                raise _Fail(f"{fail.what.rstrip('.')} {case}.",
                            f"F Fᵀ (or Fᵀ F) is singular here; {_PINV} work for every shape.") from None
            raise
        answers.add(got, expected, case=case, right=partial(_within_tolerance, F, y, expected), variants=[
            (np.linalg.lstsq(F, y, rcond=1e-2)[0], "its cutoff drops a real singular value (1e-3 of the "
             "largest): rcond is too large.", f"Keep the default cutoff: {_PINV}."),
        ])
        verdicts.append(_min_norm_verdict(F, y, answers.answers[-1].got, expected))
    answers.verdict()
    return ("your minimum-norm solution matches F⁺y for wide, tall and rank-deficient F, and one drawn at random "
            f"(its fit and its length, each to a relative {_RTOL}).")


def _gd_ref(F, y, lr, n_steps, scale=1.0):
    w = np.zeros(F.shape[1])
    for _ in range(n_steps):
        w = w - lr * scale * F.T @ (F @ w - y)
    return w


def _gd_cases():
    """(F, y, lr, n_steps, words): wide and tall F, step sizes of 0.5/s² and 0.9/s², 0 to 25 steps;
    then many steps on an F with one slow direction (singular value 1/60 of the largest), where
    neither the iterate after 1000 steps nor F⁺y is the answer yet; last a case drawn for this run."""
    rng = np.random.default_rng(12)
    wide, tall = rng.standard_normal((6, 15)), rng.standard_normal((9, 4))
    slow = _matrix(4, 10, [3.0, 2.0, 1.0, 0.05], 13)
    out = []
    for F, fraction, n_steps in ((wide, 0.5, 0), (wide, 0.5, 1), (tall, 0.9, 3), (wide, 0.5, 25), (slow, 0.9, 1500)):
        out.append((F, rng.standard_normal(F.shape[0]), fraction / np.linalg.norm(F, 2) ** 2, n_steps, ""))
    draw, words = drawn()
    rows, cols = (int(draw.integers(3, 7)), int(draw.integers(8, 14)))[:: 1 if draw.random() < 0.5 else -1]
    k = min(rows, cols)
    singular_values = [*np.sort(draw.uniform(0.3, 3.0, k - 1))[::-1], draw.uniform(0.02, 0.1)]  # one slow direction
    F = _matrix(rows, cols, singular_values, int(draw.integers(1 << 30)))
    fraction = round(float(draw.uniform(0.3, 0.95)), 2)
    out.append((F, draw.standard_normal(rows), fraction / np.linalg.norm(F, 2) ** 2, int(draw.integers(150, 3000)),
                f", {words}"))
    return out


def _gd_neutral(cases: _Cases):
    def neutral(answer):
        start = cases.answers[0]  # the case with n_steps=0
        if start.got.shape == start.expected.shape and np.any(start.got != 0):
            return ("after 0 steps it did not return zeros: it does not start from w = 0.",
                    "Start from the zero vector, one 0 per column of F: the start decides which exact fit you reach.")
        return cases.wrong_value(answer)
    return neutral


@task("07.4", "gradient descent from zero")
def _check_07_4(fn):
    answers = _Cases(rtol=1e-8, atol=1e-10, shape_hint="Return the weight vector: one entry per column of F.")
    answers.neutral = _gd_neutral(answers)
    cases = _gd_cases()
    for F, y, lr, n_steps, words in cases:
        n = F.shape[0]
        case = f"for a {F.shape[0]}×{F.shape[1]} F after {n_steps} step{'' if n_steps == 1 else 's'}{words}"
        got = _call(fn, F.copy(), y.copy(), lr, n_steps)
        answers.add(got, _gd_ref(F, y, lr, n_steps), case=case, variants=[
            (_gd_ref(F, y, lr, n_steps, scale=1 / n), "the gradient is divided by n (the number of rows of F).",
             "This task's loss is ½‖Fw − y‖² (a sum): the gradient is Fᵀ(Fw − y), no 1/n."),
            (_gd_ref(F, y, lr, n_steps, scale=2.0), "the step is twice as large (a factor of 2).",
             "The loss has a ½: its gradient is Fᵀ(Fw − y), not 2Fᵀ(Fw − y)."),
            (_gd_ref(F, y, lr, n_steps, scale=-1.0), "it steps uphill (the sign of the gradient).",
             "w ← w − lr · Fᵀ(Fw − y)."),
            (_gd_ref(F, y, lr, n_steps + 1), "it takes one step too many.", "Run exactly n_steps steps."),
            (_gd_ref(F, y, lr, max(n_steps - 1, 0)), "it takes one step too few.", "Run exactly n_steps steps."),
        ])
    answers.verdict()
    F, y, _, _, _ = cases[0]
    w = _as_array(_call(fn, F.copy(), y.copy(), 1 / np.linalg.norm(F, 2) ** 2, 5000))
    w_plus = np.linalg.pinv(F) @ y
    if np.linalg.norm(w - w_plus) > 1e-8 * np.linalg.norm(w_plus):  # pragma: no cover - the steps were right
        raise _Fail("the steps are right, but 5000 of them did not reach F⁺y.", "Please report this.")
    return ("your steps are right (on a case drawn at random too), and 5000 of them from zero reach the "
            "minimum-norm F⁺y (to 1e-8).")
