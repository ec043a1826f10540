"""Checks of assignment 04, *Compare L1 and L2*: Tasks 04.1 (soft-thresholding) and 04.2 (ISTA lasso)."""

from __future__ import annotations

import numpy as np

from helpers.checks.core import _as_array, _call, _check_exact_zeros, _compare, _Fail, task
from helpers.sparsity import lasso_step_size


@task("04.1", "soft-thresholding")
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

@task("04.2", "a proximal-gradient lasso")
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
