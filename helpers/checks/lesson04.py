"""Checks of assignment 04, *Compare L1 and L2*: Tasks 04.1 (soft-thresholding), 04.2 (ISTA lasso),
04.5 (scikit-learn's C for a λ) and 04.6 (the one-standard-error rule)."""

from __future__ import annotations

import numpy as np

from helpers.checks.core import _call, _Cases, _check_exact_zeros, _Fail, task
from helpers.checks.draws import drawn
from helpers.sparsity import lasso_step_size


@task("04.1", "soft-thresholding")
def _check_04_1(fn):
    fixed = np.array([-3.0, -0.5, 0.0, 0.2, 0.7, 1.0, 2.5])
    rng, words = drawn()
    t_drawn = round(float(rng.uniform(0.05, 1.5)), 3)
    z_drawn = np.concatenate([rng.uniform(-4.0, 4.0, 4), [t_drawn, -t_drawn, 0.0]])
    answers = _Cases(shape_hint="Return one value per entry of z.")
    for z, t, more in ((fixed, 0.7, ""), (fixed, 0.1, ""), (rng.permutation(z_drawn), t_drawn, f", z {words}")):
        got = _call(fn, z.copy(), t)
        answers.add(got, np.sign(z) * np.maximum(np.abs(z) - t, 0.0), case=f"for t={t}{more}", inputs={"z": z},
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
    answers.verdict()
    for answer in answers.answers:
        _check_exact_zeros(answer.got, answer.expected, case=answer.case)
    return ("your soft-thresholding matches S_t(z) = sign(z)·max(|z| − t, 0), exact zeros included, on a case "
            "drawn at random too.")


def _lasso_data(seed=5, n=50):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 20))
    coef = np.zeros(20)
    coef[[2, 7, 11, 16]] = [2.0, -1.5, 1.0, -0.5]
    y = X @ coef + 0.5 * rng.standard_normal(n)
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
"""(lam, n_iter) of the check's fixed cases: one and three steps show a mistake before it blows up or
converges; 300 steps reach the exact zeros. A case drawn for each run follows (other data, λ, steps)."""


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
    rng, words = drawn()
    cases = [(X, y, lam, n_iter, "") for lam, n_iter in LASSO_CASES]
    X_drawn, y_drawn = _lasso_data(int(rng.integers(1 << 30)), int(rng.integers(30, 80)))
    cases.append((X_drawn, y_drawn, round(float(rng.uniform(0.05, 0.5)), 3), int(rng.integers(2, 200)),
                  f", data {words}"))
    answers = _Cases(rtol=1e-5, atol=1e-7, shape_hint="Return the weight vector: one entry per column of X.")
    answers.neutral = _lasso_neutral(answers)
    for X, y, lam, n_iter, more in cases:
        lr = lasso_step_size(X)
        got = _call(fn, X.copy(), y.copy(), lam, lr, n_iter)

        def ref(mode="prox", steps=n_iter, lam=lam, X=X, y=y, lr=lr):
            return _ista_ref(X, y, lam, lr, steps, mode)

        answers.add(got, ref(), case=f"for lam={lam}, lr=1/L, n_iter={n_iter}{more}", variants=[
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
    last = answers.answers[len(LASSO_CASES) - 1].got
    zeros = int(np.sum(last == 0))
    return (f"your proximal-gradient lasso matches, with {zeros} of {last.size} weights exactly 0, and on data "
            "drawn at random.")


C_CASES = ((0.01, 569, "l2"), (0.01, 569, "l1"), (0.5, 20, "l2"), (2e-3, 1000, "l1"))


@task("04.5", "scikit-learn's C for a λ")
def _check_04_5(fn):
    answers = _Cases(scalar=True, shape_hint="Return one number: the C to pass to LogisticRegression.")
    rng, words = drawn()
    cases = [(lam, n, penalty, "") for lam, n, penalty in C_CASES]
    cases.append((float(f"{10 ** rng.uniform(-4, 0):.3g}"), int(rng.integers(10, 5000)), str(rng.choice(["l1", "l2"])),
                  f", {words}"))
    for lam, n, penalty, more in cases:
        got = _call(fn, lam, n, penalty)
        factor = 2.0 if penalty == "l2" else 1.0
        variants = [  # the same mistakes, in the same order, for every case
            (lam, "it returns λ itself: C is an inverse strength, on a sum of losses.",
             "Divide scikit-learn's cost by n·C and match it term by term with the course's."),
            (1.0 / lam, "it returns 1/λ: the n is missing (scikit-learn sums the losses, the course averages them).",
             "Match a sum of n losses to a mean: C = 1/(nλ) for L1."),
            (1.0 / (factor * lam), "the n is missing (scikit-learn sums the losses, the course averages them).",
             "Match a sum of n losses to a mean: one more factor n in the denominator."),
            (1.0 / (n * lam), "it gives L2 the L1 answer 1/(nλ): scikit-learn's L2 term is ½‖w‖², hence a factor 2.",
             "With ½‖w‖² + C·Σℓ, dividing by n·C gives λ = 1/(2nC)."),
            (1.0 / (2 * n * lam), "it gives L1 the L2 answer 1/(2nλ): scikit-learn's L1 term ‖w‖₁ has no ½.",
             "For L1, C = 1/(nλ)."),
            (1.0 / (factor * (n - 1) * lam), "it divides by n − 1 instead of n.",
             "The course's mean is over all n points: C = 1/(nλ) for L1, 1/(2nλ) for L2."),
            (1.0 / ((3.0 - factor) * n * lam), "the two penalties are swapped: 1/(2nλ) belongs to L2, 1/(nλ) to L1.",
             "The ½ in front of ‖w‖² is why L2 gets the 2."),
        ]
        answers.add(got, 1.0 / (factor * n * lam), case=f"for lam={lam}, n={n}, penalty={penalty!r}{more}",
                    variants=variants)
    answers.verdict()
    return "your C matches: 1/(2nλ) for L2, 1/(nλ) for L1, on a case drawn at random too."


SE_CASES = (
    (np.array([0.1, 0.2, 0.4, 0.8, 1.6]), np.array([5.0, 4.0, 4.3, 4.9, 6.0]), np.full(5, 0.5)),
    (np.array([0.01, 0.1, 1.0, 10.0]), np.array([2.0, 1.9, 2.05, 3.0]), np.array([0.1, 0.2, 0.1, 0.1])),
    (np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.2, 1.5]), np.array([0.05, 0.05, 0.05])),
    (np.array([0.5, 1.0, 2.0, 4.0, 8.0]), np.array([3.0, 2.0, 2.1, 2.2, 4.0]), np.full(5, 0.3)),
    (np.array([0.5, 1.0, 2.0, 4.0, 8.0]), np.array([3.0, 2.0, 2.25, 2.5, 4.0]), np.full(5, 0.5)),
)
"""(lams, mean, se) of the fixed cases. In the last, λ = 4's mean is exactly one standard error above
the minimum (2.5 = 2.0 + 0.5, exact in binary): "at most" keeps it, "<" does not."""


def _drawn_se_case():
    """A case drawn for this run, with a λ whose mean is exactly one standard error above the minimum
    (multiples of 1/8, exact in binary) and a larger λ beyond it."""
    rng, words = drawn()
    size = int(rng.integers(5, 9))
    lams = np.round(np.sort(rng.choice(np.geomspace(1e-3, 1e3, 61), size, replace=False)), 6)
    best = int(rng.integers(0, size - 2))
    se = rng.integers(1, 9, size) / 8
    mean = 4.0 + rng.integers(1, 17, size) / 8
    mean[best] = 4.0
    tie = int(rng.integers(best + 1, size - 1))
    mean[tie] = mean[best] + se[best]
    mean[tie + 1:] = mean[best] + se[best] + rng.integers(1, 9, size - tie - 1) / 8
    mean[best + 1:tie] = np.minimum(mean[best + 1:tie], mean[best] + se[best] + 1 / 8)
    return lams, mean, se, f", {words}"


@task("04.6", "the one-standard-error rule")
def _check_04_6(fn):
    answers = _Cases(scalar=True, shape_hint="Return one λ: an element of lams.")
    for lams, mean, se, more in [(*case, "") for case in SE_CASES] + [_drawn_se_case()]:
        got = _call(fn, lams.copy(), mean.copy(), se.copy())
        best = int(np.argmin(mean))
        within = lams[mean <= mean[best] + se[best]]
        variants = [
            (lams[best], "it returns the λ of the minimum CV error, not the simplest model within one "
             "standard error of it.", "Among the λ with mean ≤ mean[best] + se[best], take the largest."),
            (within.min(), "it takes the smallest λ within one standard error: the rule wants the largest "
             "(the simplest model).", "Take the largest λ of those within one standard error."),
            (lams[mean <= mean[best] + np.max(se)].max(), "it uses the largest standard error, not the one "
             "at the minimum.", "The threshold is mean[best] + se[best]."),
            (lams[mean < mean[best] + se[best]].max(), "it keeps only the λ strictly below the threshold: a mean "
             "exactly one standard error above the minimum counts too (\"within\", at most).",
             "Keep the λ with mean <= mean[best] + se[best] (≤, not <)."),
        ]
        answers.add(got, within.max(), case=f"for lams={lams.tolist()}{more}", variants=variants)
    answers.verdict()
    return ("your one-standard-error rule picks the simplest λ within one standard error of the minimum, ties "
            "and a case drawn at random included.")
