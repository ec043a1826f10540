"""Checks of assignment 04, *Compare L1 and L2*: Tasks 04.1 (soft-thresholding) and 04.2 (ISTA lasso)."""

from __future__ import annotations

import numpy as np

from helpers.checks.core import _call, _Cases, _check_exact_zeros, _Fail, task
from helpers.sparsity import lasso_step_size


@task("04.1", "soft-thresholding")
def _check_04_1(fn):
    z = np.array([-3.0, -0.5, 0.0, 0.2, 0.7, 1.0, 2.5])
    answers = _Cases(shape_hint="Return one value per entry of z.")
    for t in (0.7, 0.1):
        got = _call(fn, z.copy(), t)
        answers.add(got, np.sign(z) * np.maximum(np.abs(z) - t, 0.0), case=f"for t={t}", inputs={"z": z}, variants=[
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
    answers.verdict()
    for answer in answers.answers:
        _check_exact_zeros(answer.got, answer.expected, case=answer.case)
    return "your soft-thresholding matches S_t(z) = sign(z)·max(|z| − t, 0), exact zeros included."


def _lasso_data():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((50, 20))
    coef = np.zeros(20)
    coef[[2, 7, 11, 16]] = [2.0, -1.5, 1.0, -0.5]
    y = X @ coef + 0.5 * rng.standard_normal(50)
    return X, y


def _ista_ref(X, y, lam, lr, n_iter, mode="prox"):
    """``n_iter`` steps of ISTA from w = 0 (``mode="prox"``), or of a known mistake."""
    n = X.shape[0]
    w = np.zeros(X.shape[1])
    threshold = {"t=lam": lam, "t=2lr*lam": 2 * lr * lam}.get(mode, lr * lam)
    for _ in range(n_iter):
        grad = X.T @ (X @ w - y) / {"no 1/n": 1, "n-1": n - 1}.get(mode, n)
        if mode == "subgradient":
            w = w - lr * (grad + lam * np.sign(w))
            continue
        z = w + lr * grad if mode == "ascent" else w - lr * grad
        w = np.sign(z) * np.maximum(np.abs(z) - threshold, 0.0)
    return w


LASSO_CASES = ((0.1, 1), (0.3, 3), (0.1, 300))
"""(lam, n_iter) of the check's cases: one and three steps show a mistake before it blows up or
converges; 300 steps reach the exact zeros."""


def _lasso_neutral(cases):
    def neutral(answer):
        for a in cases.answers:
            if not np.all(np.isfinite(a.got)) or np.abs(a.got).max() > 1e3:
                raise _Fail(f"the weights blew up {a.case}.",
                            "Print w after each of the first steps: a step that is too large (is the gradient "
                            "divided by n?) or goes uphill (+ instead of −) makes them grow.")
            _check_exact_zeros(a.got, a.expected, case=a.case)
        return cases.wrong_value(answer)
    return neutral


@task("04.2", "a proximal-gradient lasso")
def _check_04_2(fn):
    X, y = _lasso_data()
    lr = lasso_step_size(X)
    answers = _Cases(rtol=1e-5, atol=1e-7, shape_hint="Return the weight vector: one entry per column of X.")
    answers.neutral = _lasso_neutral(answers)
    for lam, n_iter in LASSO_CASES:
        got = _call(fn, X.copy(), y.copy(), lam, lr, n_iter)

        def ref(mode="prox", steps=n_iter, lam=lam):
            return _ista_ref(X, y, lam, lr, steps, mode)

        answers.add(got, ref(), case=f"for lam={lam}, lr=1/L, n_iter={n_iter}", variants=[
            (ref("t=lam"), "it thresholds at λ instead of η·λ.",
             "The proximal step of η·λ‖w‖₁ is soft_threshold(z, lr * lam)."),
            (ref("t=2lr*lam"), "it thresholds at 2ηλ (a factor of 2).", "The threshold is lr * lam."),
            (ref("ascent"), "it steps uphill: the gradient step has the wrong sign.",
             "Gradient descent subtracts: z = w − lr · ∇."),
            (ref("no 1/n"), "the gradient is not divided by n: Xᵀ(Xw − y) instead of Xᵀ(Xw − y)/n.",
             "Divide the gradient by n: ∇ = Xᵀ(Xw − y)/n; the step 1/L assumes that 1/n."),
            (ref("n-1"), "the gradient divides by n − 1 instead of n.", "The gradient is Xᵀ(Xw − y)/n."),
            (ref("subgradient"), "it takes subgradient steps, w − η(∇ + λ·sign(w)): weights that should be "
             "exactly 0 only jitter near 0.", "Take the gradient step, then soft-threshold it: exact zeros."),
            (ref(steps=n_iter - 1), "it runs n_iter − 1 steps, one too few.", "Run exactly n_iter steps."),
            (ref(steps=n_iter + 1), "it runs n_iter + 1 steps, one too many.", "Run exactly n_iter steps."),
        ])
    answers.verdict()
    last = answers.answers[-1].got
    zeros = int(np.sum(last == 0))
    return f"your proximal-gradient lasso matches, with {zeros} of {last.size} weights exactly 0."
