"""Checks of assignment 03, *Derive weight decay*: Tasks 03.1 to 03.3 (gradient, step, sequence)."""

from __future__ import annotations

import numpy as np

from helpers.checks.core import _as_array, _call, _Cases, _close, _Fail, task
from helpers.checks.draws import drawn


@task("03.1", "the gradient of the L2 penalty")
def _check_03_1(fn):
    answers = _Cases(shape_hint="The gradient has one entry per weight: same shape as w.")
    rng, words = drawn()
    shape = tuple(int(d) for d in rng.integers(2, 6, size=int(rng.integers(1, 3))))
    for w, lam, more in ((np.array([3.0, -2.0, 0.5, 0.0]), 0.05, ""), (np.array([[1.0, -4.0], [2.5, 0.2]]), 0.3, ""),
                         (rng.normal(0.0, 3.0, shape), round(float(rng.uniform(0.01, 2.0)), 3), f", {words}")):
        got = _call(fn, w.copy(), lam)
        answers.add(got, 2 * lam * w, case=f"for w of shape {w.shape}, lam={lam}{more}", inputs={"w": w}, variants=[
            (lam * np.sign(w), "it is λ·sign(w), the gradient of the L1 penalty.",
             "Differentiate λΣw², not λΣ|w|."),
            (2 * lam * w**2, "it contains w² (the penalty itself, not its derivative).",
             "d(λw²)/dw = 2λw."),
            (lam * w, "it is half the expected value: λw, without the 2 of d(w²)/dw = 2w.",
             "d(λw²)/dw = 2λw."),
        ])
    answers.verdict()
    return "your gradient 2λw matches on a vector, a matrix and weights drawn at random."


def _wd_ref(w, g, lr, lam, n):
    return (1 - lr * lam / n) * w - lr * g


@task("03.2", "one weight-decay step")
def _check_03_2(fn):
    answers = _Cases(shape_hint="Return the new weights: same shape as w.")
    rng, words = drawn()
    size = 3  # as the fixed cases: an answer of the wrong shape is named by them
    for w, g, lr, lam, n, more in (
            (np.array([10.0, -4.0, 0.5]), np.array([1.0, -2.0, 0.3]), 0.1, 2.0, 10, ""),
            (np.array([-3.0, 6.0, 1.5]), np.array([0.5, 1.0, -2.0]), 0.5, 1.0, 4, ""),
            (rng.normal(0.0, 5.0, size), rng.normal(0.0, 2.0, size), round(float(rng.uniform(0.01, 0.9)), 3),
             round(float(rng.uniform(0.1, 5.0)), 2), int(rng.integers(3, 200)), f", {words}")):
        got = _call(fn, w.copy(), g.copy(), lr, lam, n)
        decay = 1 - lr * lam / n
        answers.add(got, _wd_ref(w, g, lr, lam, n), case=f"for lr={lr}, lam={lam}, n={n}{more}",
                    inputs={"w": w, "grad_loss": g}, variants=[
            ((1 - lr * lam) * w - lr * g, "the decay factor is 1 − ηλ: a missing 1/n.",
             "With the penalty λ/(2n)·Σw², the factor is 1 − ηλ/n."),
            ((1 - 2 * lr * lam / n) * w - lr * g, "the decay factor is 1 − 2ηλ/n (a factor of 2).",
             "The ½ in λ/(2n)·Σw² cancels the 2 from the derivative: 1 − ηλ/n."),
            ((1 - lr * lam / (2 * n)) * w - lr * g, "the decay factor is 1 − ηλ/(2n) (a factor of 2).",
             "d/dw of λ/(2n)·w² is (λ/n)·w, so the factor is 1 − ηλ/n."),
            ((1 - lr * lam / (n - 1)) * w - lr * g, "the decay factor divides by n − 1 instead of n.",
             "The penalty is λ/(2n)·Σw², so the factor is 1 − ηλ/n."),
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
    answers.verdict()
    return "your weight-decay step matches (1 − ηλ/n)·w − η·∂L₀/∂w on 2 test cases and one drawn at random."


@task("03.3", "the decay sequence")
def _check_03_3(fn):
    answers = _Cases()
    rng, words = drawn()
    drawn_case = (round(float(rng.choice([-1, 1]) * rng.uniform(1.0, 20.0)), 2),
                  round(float(rng.uniform(0.05, 0.9)), 2), round(float(rng.uniform(0.5, 5.0)), 2),
                  int(rng.integers(5, 100)), int(rng.integers(2, 12)), f", {words}")
    for w0, lr, lam, n, steps, more in ((10.0, 0.1, 2.0, 10, 5, ""), (-3.0, 0.5, 1.0, 4, 3, ""), drawn_case):
        case = f"for w0={w0}, steps={steps}{more}"
        factor = 1 - lr * lam / n
        k = np.arange(steps + 1)
        expected = w0 * factor**k
        got = _call(fn, w0, lr, lam, n, steps)
        arr = _as_array(got)
        if _close(arr, expected[1:]):
            raise _Fail(f"it returned the {steps} values after each step {case}; the starting value w0 is missing.",
                        "Include the starting value w0 first, then one value per step.")
        if _close(arr, expected[:-1]):
            raise _Fail(f"it stops one step early {case}: {steps} values, expected {steps + 1}.",
                        "Return w0 and the value after each of the `steps` steps.")
        if _close(arr, w0 * factor ** np.arange(steps + 2)):
            raise _Fail(f"it runs one step too many {case}: {steps + 2} values, expected {steps + 1}.",
                        "Return w0 and the value after each of the `steps` steps.")
        answers.add(arr, expected, case=case, shape_hint=f"Return a 1-D array of steps + 1 = {steps + 1} values, "
                    "starting with w0.", variants=[
            (w0 * (1 - k * lr * lam / n), "the weight drops by the same amount each step "
             "(a linear decrement, like the article's 10 → 9.8 → 9.6).",
             "Each step multiplies the current weight by (1 − ηλ/n): a geometric sequence."),
            (w0 * factor ** (k + 1), "every value is one step ahead.",
             "The first value is w0 itself (0 steps)."),
            (w0 * (1 - lr * lam) ** k, "the factor is 1 − ηλ: a missing 1/n.",
             "The factor is 1 − ηλ/n."),
            (w0 * (1 - lr * lam / (n - 1)) ** k, "the factor divides by n − 1 instead of n.",
             "The factor is 1 − ηλ/n."),
            (w0 * (1 + lr * lam / n) ** k, "the weight grows: the factor is 1 + ηλ/n.",
             "Weight decay shrinks: the factor is 1 − ηλ/n."),
        ])
    answers.verdict()
    return "your sequence decays geometrically, w0·(1 − ηλ/n)^k, on a case drawn at random too."
