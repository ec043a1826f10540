"""Checks of assignment 03, *Derive weight decay*: Tasks 03.1 to 03.3 (gradient, step, sequence)."""

from __future__ import annotations

import numpy as np

from helpers.checks.core import _as_array, _call, _compare, _Fail, task


@task("03.1", "the gradient of the L2 penalty")
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


@task("03.2", "one weight-decay step")
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


@task("03.3", "the decay sequence")
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
