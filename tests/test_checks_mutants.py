"""Every code task fails a family of wrong answers, each with the message it deserves.

The family is built from each task's reference solution (the function of its solution notebook,
as ``tests/test_checks.py`` reads it): the **generic** mutants wrap it (the first answer returned
for ever, the wrong sign, a factor 2 or ½, the first argument returned unchanged, the right
answer plus a little noise); the **task-specific** ones add n − 1 for n and an off-by-one in a
loop or an index, where the task has them. ``EXPECTED`` says, for every task and mutant, the
words its message must contain: the specific diagnosis where one is established, else the
neutral "wrong value" or the observed fact (a wrong shape, a constant). A task registered in
``helpers.checks`` without its family fails ``test_every_task_has_its_mutants``.
"""

from __future__ import annotations

import re

import nbformat
import numpy as np
import pytest
from test_checks import _model, _task_function

from coursekit import assignments
from helpers import mse, ridge_fit
from helpers.checks import CHECKS, check_task

GENERIC = ("constant", "sign flip", "factor 2", "factor ½", "input unchanged", "noise")
SPECIFIC_KINDS = ("n − 1", "off-by-one")
ON_ARGUMENT = {"05.1"}
"""Tasks whose answer is not a number (a Keras model): their generic mutants change the argument."""


def _generic(name: str, ref, on_argument: bool = False):
    """The generic mutant ``name`` of the reference solution ``ref``."""
    if name == "constant":
        first: list = []

        def constant(*args):
            if not first:
                first.append(ref(*args))
            return first[0]
        return constant
    if name == "input unchanged":
        return lambda *args: args[0]
    factor = {"sign flip": -1.0, "factor 2": 2.0, "factor ½": 0.5, "noise": 1.0 + 1e-4}[name]
    if on_argument:
        return lambda first, *rest: ref(factor * first, *rest)
    if name == "noise":
        def noisy(*args):
            out = np.asarray(ref(*args), dtype=float)
            wiggle = np.random.default_rng(0).standard_normal(out.shape)
            return out + 1e-4 * (1.0 + np.abs(out)) * wiggle
        return noisy
    return lambda *args: factor * np.asarray(ref(*args), dtype=float)


def _cv_scores(X, y, lambdas, k, folds_used=None):
    folds = np.array_split(np.arange(len(y)), k)
    scores = []
    for lam in lambdas:
        errors = []
        for fold in folds[:folds_used]:
            rest = np.setdiff1d(np.arange(len(y)), fold)
            coef, b = ridge_fit(X[rest], y[rest], lam)
            errors.append(mse(y[fold], X[fold] @ coef + b))
        scores.append(np.mean(errors))
    return np.array(scores)


def _ista(X, y, lam, lr, n_iter, n_div=None):
    n = X.shape[0] if n_div is None else n_div
    w = np.zeros(X.shape[1])
    for _ in range(n_iter):
        z = w - lr * X.T @ (X @ w - y) / n
        w = np.sign(z) * np.maximum(np.abs(z) - lr * lam, 0.0)
    return w


def _soft_but_last(z, t):
    out = np.asarray(z, dtype=float).copy()
    for i in range(len(out) - 1):  # the loop stops one entry short
        out[i] = np.sign(out[i]) * max(abs(out[i]) - t, 0.0)
    return out


def _dense_kernels(model, skip_last=False):
    layers = model.layers[:-1] if skip_last else model.layers
    return np.concatenate([layer.kernel.numpy().ravel() for layer in layers])


def _first_unpenalized(X, y, lam):
    eye = np.eye(X.shape[1])
    eye[0, 0] = 0.0
    return np.linalg.solve(X.T @ X + lam * eye, X.T @ y)


def _first_unchanged(out, h):
    out = np.array(out, dtype=float)
    out.flat[0] = np.asarray(h, dtype=float).flat[0]  # the loop over units starts one too late
    return out


def _one_index_lower(lams, mean, se):
    """The one-standard-error rule, but it takes the λ one place below the right one."""
    best = np.argmin(mean)
    right = int(np.flatnonzero(mean <= mean[best] + se[best]).max())
    return lams[max(right - 1, 0)]


def _zero_first(a):
    a = np.array(a, dtype=float)
    a.flat[0] = 0.0
    return a


def _decompose_ddof1(preds, f_true, noise_sd):
    bias2 = np.mean((preds.mean(axis=0) - f_true) ** 2)
    variance = np.mean(preds.var(axis=0, ddof=1))
    return bias2, variance, bias2 + variance + noise_sd**2


def _measured_over(preds, y_test, divide=None, skip=0):
    per_fit = np.mean((y_test - preds) ** 2, axis=1)[skip:]
    mean = per_fit.sum() / (per_fit.size if divide is None else divide(per_fit.size))
    return mean, per_fit.std(ddof=1) / np.sqrt(per_fit.size)


def _min_norm_but_last(F, y):
    w = np.zeros(F.shape[1])
    w[:-1] = np.linalg.lstsq(F[:, :-1], y, rcond=None)[0]  # the last feature left out
    return w


def _gd(F, y, lr, n_steps, divide=1.0):
    w = np.zeros(F.shape[1])
    for _ in range(n_steps):
        w = w - lr * F.T @ (F @ w - y) / divide
    return w


SPECIFIC = {  # task -> {mutant name: function of (reference solution, keras module)}
    "01.1": {"n − 1": lambda ref, keras: lambda a, b: np.sum((a - b) ** 2) / (len(a) - 1),
             "off-by-one": lambda ref, keras: lambda a, b: np.mean(((a - b) ** 2)[1:])},
    "01.2": {"off-by-one": lambda ref, keras: lambda xt, yt, xn, d: ref(xt, yt, xn, d - 1),
             "off-by-one up": lambda ref, keras: lambda xt, yt, xn, d: ref(xt, yt, xn, d + 1)},
    "02.1": {"off-by-one": lambda ref, keras: lambda w, lam: lam * np.sum(np.ravel(w)[1:] ** 2)},
    "02.2": {"n − 1": lambda ref, keras: lambda X, y, w, lam: np.sum((y - X @ w) ** 2) / (len(y) - 1)
             + lam * np.sum(w**2),
             "off-by-one": lambda ref, keras: lambda X, y, w, lam: np.mean((y - X @ w)[1:] ** 2) + lam * np.sum(w**2),
             "article λ/(2n)": lambda ref, keras: lambda X, y, w, lam: np.mean((y - X @ w) ** 2)
             + lam / (2 * len(y)) * np.sum(w**2),
             "article ½": lambda ref, keras: lambda X, y, w, lam: (np.sum((y - X @ w) ** 2) + lam * np.sum(w**2))
             / (2 * len(y))},
    "02.3": {"off-by-one": lambda ref, keras: _first_unpenalized},
    "02.4": {"off-by-one": lambda ref, keras: lambda X, y, lams, k: lams[np.argmin(_cv_scores(X, y, lams, k, k - 1))],
             "off-by-one index": lambda ref, keras: lambda X, y, lams, k:
             lams[min(int(np.argmin(_cv_scores(X, y, lams, k))) + 1, len(lams) - 1)]},
    "03.1": {"off-by-one": lambda ref, keras: lambda w, lam: _zero_first(ref(w, lam))},
    "03.2": {"n − 1": lambda ref, keras: lambda w, g, lr, lam, n: ref(w, g, lr, lam, n - 1)},
    "03.3": {"n − 1": lambda ref, keras: lambda w0, lr, lam, n, steps: ref(w0, lr, lam, n - 1, steps),
             "off-by-one": lambda ref, keras: lambda w0, lr, lam, n, steps: ref(w0, lr, lam, n, steps - 1),
             "off-by-one up": lambda ref, keras: lambda w0, lr, lam, n, steps: ref(w0, lr, lam, n, steps + 1)},
    "04.1": {"off-by-one": lambda ref, keras: _soft_but_last},
    "04.2": {"n − 1": lambda ref, keras: lambda X, y, lam, lr, n_iter: _ista(X, y, lam, lr, n_iter, len(y) - 1),
             "off-by-one": lambda ref, keras: lambda X, y, lam, lr, n_iter: ref(X, y, lam, lr, n_iter - 1),
             "off-by-one up": lambda ref, keras: lambda X, y, lam, lr, n_iter: ref(X, y, lam, lr, n_iter + 1)},
    "04.5": {"n − 1": lambda ref, keras: lambda lam, n, penalty: ref(lam, n - 1, penalty)},
    "04.6": {"off-by-one": lambda ref, keras: _one_index_lower},
    "05.1": {"off-by-one": lambda ref, keras: _model(keras, units=(129, 128, 1))},
    "06.1": {"off-by-one": lambda ref, keras: lambda h, rate, keep, training:
             _first_unchanged(ref(h, rate, keep, training), h)},
    "06.2": {"off-by-one": lambda ref, keras: lambda losses, patience: ref(losses, patience) - 1},
    "06.3": {"n − 1": lambda ref, keras: lambda X, y, sigma:
             np.linalg.solve(X.T @ X + (len(y) - 1) * sigma**2 * np.eye(X.shape[1]), X.T @ y)},
    "05.2": {"n − 1": lambda ref, keras: lambda m, tol: np.sum(np.abs(_dense_kernels(m)) < tol)
             / (_dense_kernels(m).size - 1),
             "off-by-one": lambda ref, keras: lambda m, tol: np.mean(np.abs(_dense_kernels(m, skip_last=True)) < tol)},
    "07.1": {"n − 1": lambda ref, keras: _decompose_ddof1,
             "off-by-one": lambda ref, keras: lambda preds, f_true, sd: ref(preds[1:], f_true, sd)},
    "07.2": {"n − 1": lambda ref, keras: lambda preds, y_test: _measured_over(preds, y_test, lambda r: r - 1),
             "off-by-one": lambda ref, keras: lambda preds, y_test: _measured_over(preds, y_test, skip=1)},
    "07.3": {"off-by-one": lambda ref, keras: _min_norm_but_last},
    "07.4": {"n − 1": lambda ref, keras: lambda F, y, lr, n_steps: _gd(F, y, lr, n_steps, F.shape[0] - 1),
             "off-by-one": lambda ref, keras: lambda F, y, lr, n_steps: ref(F, y, lr, max(n_steps - 1, 0)),
             "off-by-one up": lambda ref, keras: lambda F, y, lr, n_steps: ref(F, y, lr, n_steps + 1)},
}

NOT_APPLICABLE = {  # task -> the specific kinds it has no place for, and why
    "01.2": {"n − 1": "no mean over n in a least-squares fit's predictions"},
    "02.1": {"n − 1": "a sum, no n"},
    "02.3": {"n − 1": "this objective sums the errors: no n"},
    "02.4": {"n − 1": "the mean over folds of equal size picks the same λ as their sum"},
    "03.1": {"n − 1": "no n"},
    "03.2": {"off-by-one": "one step: no loop, no index"},
    "04.1": {"n − 1": "no n"},
    "04.5": {"off-by-one": "a formula: no loop, no index"},
    "04.6": {"n − 1": "no mean over n: the CV means and standard errors are given"},
    "05.1": {"n − 1": "a model, no n"},
    "06.1": {"n − 1": "no n"},
    "06.2": {"n − 1": "no mean over n: an epoch is chosen"},
    "06.3": {"off-by-one": "a closed form: no loop, no index"},
    "07.3": {"n − 1": "a linear solve: no mean over n"},
}

NEUTRAL = "wrong value"
EXPECTED = {  # task -> {mutant: words its message must contain}
    "01.1": {"constant": "same value, 0.375, on every test case", "sign flip": "wrong sign on every test case",
             "factor 2": "twice the expected value", "factor ½": "half the expected value",
             "input unchanged": "expected one number", "noise": "expected 0.375, got 0.37502",
             "n − 1": "by n − 1 (n=4), not by n", "off-by-one": NEUTRAL},
    "01.2": {"constant": "same values", "sign flip": "wrong sign", "factor 2": "twice the expected value",
             "factor ½": "half the expected value", "input unchanged": "wrong shape for degree=3: got (12,)",
             "noise": NEUTRAL, "off-by-one": "fits degree 2 instead of 3",
             "off-by-one up": "fits degree 4 instead of 3"},
    "02.1": {"constant": "same value", "sign flip": "wrong sign", "factor 2": "twice the expected value",
             "factor ½": "half the expected value (a ½ in front)", "input unchanged": "expected one number",
             "noise": NEUTRAL, "off-by-one": NEUTRAL},
    "02.2": {"constant": "same value", "sign flip": "wrong sign", "factor 2": "twice the expected value",
             "factor ½": "half the expected value", "input unchanged": "expected one number", "noise": NEUTRAL,
             "n − 1": "the data term divides by n − 1 (n=8)", "off-by-one": NEUTRAL,
             "article λ/(2n)": "the article's convention", "article ½": "the article's convention with a ½"},
    "02.3": {"constant": "same values", "sign flip": "wrong sign", "factor 2": "twice the expected value",
             "factor ½": "half the expected value", "input unchanged": "wrong shape for lam=5.0: got (10, 4)",
             "noise": NEUTRAL, "off-by-one": NEUTRAL},
    "02.4": {"constant": "same value, 100, on every test case", "sign flip": "returned -100 on data set 1 of 3",
             "factor 2": "returned 200 on data set 1 of 3", "factor ½": "not one of the λ values",
             "input unchanged": "expected the one chosen λ", "noise": "not one of the λ values",
             "off-by-one": "leaves the last fold out", "off-by-one index": "it picked λ = 1000 on data set 1 of 3"},
    "03.1": {"constant": "wrong shape", "sign flip": "wrong sign", "factor 2": "twice the expected value",
             "factor ½": "half the expected value: λw", "input unchanged": "argument `w` unchanged",
             "noise": NEUTRAL, "off-by-one": NEUTRAL},
    "03.2": {"constant": "same values", "sign flip": "wrong sign", "factor 2": "twice the expected value",
             "factor ½": "half the expected value", "input unchanged": "argument `w` unchanged", "noise": NEUTRAL,
             "n − 1": "divides by n − 1 instead of n"},
    "03.3": {"constant": "wrong shape for w0=-3.0", "sign flip": "wrong sign", "factor 2": "twice the expected value",
             "factor ½": "half the expected value", "input unchanged": "wrong shape for w0=10.0",
             "noise": NEUTRAL, "n − 1": "divides by n − 1 instead of n", "off-by-one": "stops one step early",
             "off-by-one up": "one step too many"},
    "04.1": {"constant": "same values", "sign flip": "wrong sign", "factor 2": "twice the expected value",
             "factor ½": "half the expected value", "input unchanged": "argument `z` unchanged", "noise": NEUTRAL,
             "off-by-one": "wrong value for t=0.7 at index 6"},
    "04.2": {"constant": "same values", "sign flip": "wrong sign", "factor 2": "twice the expected value",
             "factor ½": "half the expected value", "input unchanged": "wrong shape",
             "noise": "should be exactly 0 are only near 0", "n − 1": "divides by n − 1 instead of n",
             "off-by-one": "n_iter − 1 steps", "off-by-one up": "n_iter + 1 steps"},
    "04.5": {"constant": "same value, 0.08787, on every test case", "sign flip": "wrong sign",
             "factor 2": "twice the expected value", "factor ½": "half the expected value",
             "input unchanged": "it returns λ itself", "noise": NEUTRAL, "n − 1": "divides by n − 1 instead of n"},
    "04.6": {"constant": "same value, 0.4, on every test case", "sign flip": "wrong sign",
             "factor 2": "twice the expected value", "factor ½": "half the expected value",
             "input unchanged": "expected one number", "noise": NEUTRAL, "off-by-one": NEUTRAL},
    "05.1": {"constant": "L1 strength 0.001, expected 0 for l1_strength=0.0", "sign flip": "non-negative",
             "factor 2": "L1 strength 0.002, expected 0.001", "factor ½": "L1 strength 0.0005, expected 0.001",
             "input unchanged": "a float, not a Keras model", "noise": "L1 strength 0.0010001, expected 0.001",
             "off-by-one": "units [129, 128, 1]"},
    "05.2": {"constant": "same value, 0.5, on every test case", "sign flip": "wrong sign",
             "factor 2": "twice the expected value", "factor ½": "half the expected value",
             "input unchanged": "a Sequential, not real numbers", "noise": NEUTRAL,
             "n − 1": "divides by n − 1 instead of n", "off-by-one": NEUTRAL},
    "06.1": {"constant": "same values", "sign flip": "wrong sign", "factor 2": "twice the expected value",
             "factor ½": "half the expected value", "input unchanged": "argument `h` unchanged", "noise": NEUTRAL,
             "off-by-one": "wrong value for rate=0.2, training=True at index (0, 0)"},
    "06.2": {"constant": "same value, 3, on every test case", "sign flip": "expected 3, got -3",
             "factor 2": "expected 3, got 6", "factor ½": "expected 3, got 1.5",
             "input unchanged": "expected one number",
             "noise": "expected 3, got 3.0001", "off-by-one": "counts epochs from 0"},
    "06.3": {"constant": "wrong shape", "sign flip": "wrong sign", "factor 2": "twice the expected value",
             "factor ½": "half the expected value", "input unchanged": "wrong shape for n=12, sigma=0.3: got (12, 3)",
             "noise": NEUTRAL, "n − 1": "λ = (n − 1)σ² instead of nσ²"},
    "07.1": {"constant": "same value", "sign flip": "wrong sign", "factor 2": "twice the expected value",
             "factor ½": "half the expected value", "input unchanged": "an array of shape (40, 6)",
             "noise": "the bias² (first number) is wrong", "n − 1": "divides by R − 1 instead of R",
             "off-by-one": "the bias² (first number) is wrong"},
    "07.2": {"constant": "same value", "sign flip": "wrong sign", "factor 2": "twice the expected value",
             "factor ½": "half the expected value", "input unchanged": "an array of shape (40, 6)",
             "noise": "the mean test MSE (first number) is wrong", "n − 1": "divides by n − 1 instead of n",
             "off-by-one": "the mean test MSE (first number) is wrong"},
    "07.3": {"constant": "wrong shape", "sign flip": "wrong sign", "factor 2": "twice the expected value",
             "factor ½": "half the expected value", "input unchanged": "wrong shape",
             "noise": "fits the data less well than least squares can", "off-by-one": NEUTRAL},
    "07.4": {"constant": "wrong shape", "sign flip": "wrong sign", "factor 2": "twice the expected value",
             "factor ½": "half the expected value", "input unchanged": "wrong shape",
             "noise": "did not return zeros", "n − 1": NEUTRAL, "off-by-one": "one step too few",
             "off-by-one up": "one step too many"},
}


@pytest.fixture(scope="module")
def keras():
    from helpers.keras_env import import_keras

    return import_keras()


def _mutant(task_id: str, name: str, keras):
    ref = _task_function(task_id)
    if name in GENERIC:
        return _generic(name, ref, on_argument=task_id in ON_ARGUMENT)
    return SPECIFIC[task_id][name](ref, keras)


def _solution_lines() -> list[str]:
    """The lines of every solution's code between the markers (at least 12 characters)."""
    lines = []
    for path in assignments.solution_paths():
        for cell in nbformat.read(path, as_version=4).cells:
            inside = re.findall(rf"{assignments.BEGIN}\n(.*?){assignments.END}", cell.source, re.DOTALL)
            lines += [line.strip() for block in inside for line in block.splitlines() if len(line.strip()) >= 12]
    return lines


SOLUTION_LINES = _solution_lines()


@pytest.mark.parametrize("task_id", list(CHECKS))
def test_every_task_has_its_mutants(task_id):
    expected = EXPECTED.get(task_id, {})
    assert set(GENERIC) <= set(expected), f"Task {task_id} lacks generic mutants: {set(GENERIC) - set(expected)}"
    specific = SPECIFIC.get(task_id, {})
    for kind in SPECIFIC_KINDS:
        assert kind in specific or kind in NOT_APPLICABLE.get(task_id, {}), \
            f"Task {task_id}: add a {kind!r} mutant to SPECIFIC, or say in NOT_APPLICABLE why it has none"
    assert set(expected) == set(GENERIC) | set(specific), f"Task {task_id}: EXPECTED and the mutants differ"


@pytest.mark.parametrize("task_id, name", [(t, m) for t in EXPECTED for m in EXPECTED[t]],
                         ids=[f"{t}-{m}" for t in EXPECTED for m in EXPECTED[t]])
def test_mutant_fails_with_its_message(task_id, name, keras):
    result = check_task(task_id, _mutant(task_id, name, keras), quiet=True)
    message = result.message
    assert not result.passed, f"Task {task_id}: the {name!r} mutant passed: {message}"
    assert message.startswith(f"✗ Task {task_id} (")
    assert EXPECTED[task_id][name] in message, message
    assert "Traceback" not in message and len(message.splitlines()) <= 2, message
    assert not [line for line in SOLUTION_LINES if line in message], message


def test_the_reference_solutions_pass_and_their_messages_are_one_line():
    for task_id in CHECKS:
        result = check_task(task_id, _task_function(task_id), quiet=True)
        assert result.passed and len(result.message.splitlines()) == 1, result.message


# --------------------------------------------------------------------------------------------
# Wrong answers that passed once (issues 25 and 26), each with the message it gets now
# --------------------------------------------------------------------------------------------

def _article(keras, strength, extra=(), split_activation=False, **dense):
    """The article's model, optionally with layers after its output or other Dense arguments."""
    L, reg = keras.layers, (keras.regularizers.l1(strength) if strength else None)
    if split_activation:  # Dense + Activation("relu"): the same model, written otherwise
        hidden = [layer for _ in range(2) for layer in (L.Dense(128, kernel_regularizer=reg), L.Activation("relu"))]
    else:
        hidden = [L.Dense(128, activation="relu", kernel_regularizer=reg, **dense) for _ in range(2)]
    return keras.Sequential([keras.Input(shape=(2,)), *hidden, L.Dense(1, activation="sigmoid"), *extra])


def _early_stop(losses, patience):  # `if wait >= patience - 1: break`
    best, best_epoch, wait = np.inf, 0, 0
    for epoch, loss in enumerate(losses, start=1):
        if loss < best:
            best, best_epoch, wait = loss, epoch, 0
        else:
            wait += 1
            if wait >= patience - 1:
                break
    return best_epoch


def _restore_only_after_a_stop(losses, patience):  # tf.keras 2: the last epoch unless training stopped
    best, best_epoch, wait = np.inf, 0, 0
    for epoch, loss in enumerate(losses, start=1):
        if loss < best:
            best, best_epoch, wait = loss, epoch, 0
        else:
            wait += 1
            if wait >= patience:
                return best_epoch
    return len(losses)


def _gd_capped(F, y, lr, n_steps, cap=1000):
    w = np.zeros(F.shape[1])
    for _ in range(min(n_steps, cap)):
        w = w - lr * F.T @ (F @ w - y)
    return w


def _shuffled_cv(X, y, lambdas, k):
    from sklearn.model_selection import KFold

    scores = [np.mean([mse(y[val], X[val] @ coef + b)
                       for train, val in KFold(k, shuffle=True, random_state=0).split(X)
                       for coef, b in [ridge_fit(X[train], y[train], lam)]]) for lam in lambdas]
    return lambdas[int(np.argmin(scores))]


def _noise_and_dropout(keras, strength):
    """Issue 25: GaussianNoise(0.2) on the input and Dropout(0.5) after each hidden layer."""
    L, reg = keras.layers, (keras.regularizers.l1(strength) if strength else None)
    hidden = [layer for _ in range(2) for layer in (L.Dense(128, activation="relu", kernel_regularizer=reg),
                                                     L.Dropout(0.5))]
    return keras.Sequential([keras.Input(shape=(2,)), L.GaussianNoise(0.2), *hidden, L.Dense(1, activation="sigmoid")])


ONCE_PASSED = {
    ("05.1", "ignores its argument"): (lambda keras: lambda s: _article(keras, 0.001 if s else 0.0),
                                       "L1 strength 0.001, expected"),
    ("05.1", "Dropout(0.9) after the output"): (lambda keras: lambda s: _article(keras, s, [keras.layers.Dropout(0.9)]),
                                                "in training differ from those in inference"),
    ("05.1", "Lambda(1 − x) after the output"): (
        lambda keras: lambda s: _article(keras, s, [keras.layers.Lambda(lambda x: 1 - x)]), "predictions are inverted"),
    ("05.1", "tanh after the output"): (lambda keras: lambda s: _article(keras, s, [keras.layers.Activation("tanh")]),
                                        "differ from the article's model"),
    ("05.1", "activity_regularizer"): (
        lambda keras: lambda s: _article(keras, s, activity_regularizer=keras.regularizers.l1(0.01)),
        "a penalty on the activations too"),
    ("05.1", "zeros initializer"): (lambda keras: lambda s: _article(keras, s, kernel_initializer="zeros"),
                                    "all its weights equal"),
    ("05.1", "NonNeg constraint"): (
        lambda keras: lambda s: _article(keras, s, kernel_constraint=keras.constraints.NonNeg()), "has a constraint"),
    ("05.1", "GaussianNoise and two Dropout"): (
        lambda keras: lambda s: _noise_and_dropout(keras, s), "(GaussianNoise, Dropout, Dropout act in training only)"),
    ("06.2", "stops one epoch early"): (lambda keras: _early_stop, "it stops one epoch early"),
    ("06.2", "tf.keras 2: restores only after a stop"): (
        lambda keras: _restore_only_after_a_stop, "only when training stopped early and keeps the last epoch"),
    ("07.4", "at most 1000 steps"): (lambda keras: _gd_capped, "after 1500 steps"),
    ("07.4", "the pseudo-inverse past 100 steps"): (
        lambda keras: lambda F, y, lr, n: np.linalg.pinv(F) @ y if n > 100 else _gd_capped(F, y, lr, n),
        "after 1500 steps"),
    ("04.6", "< for at most"): (
        lambda keras: lambda lams, mean, se: lams[mean < mean.min() + se[np.argmin(mean)]].max(),
        "strictly below the threshold"),
    ("02.4", "shuffled folds"): (lambda keras: _shuffled_cv, "folds in another order (shuffled)"),
}


@pytest.mark.parametrize("task_id, name", list(ONCE_PASSED), ids=[f"{t}-{n}" for t, n in ONCE_PASSED])
def test_answers_that_once_passed_fail_with_their_message(task_id, name, keras):
    build, expected = ONCE_PASSED[task_id, name]
    message = check_task(task_id, build(keras), quiet=True).message
    assert message.startswith(f"✗ Task {task_id} (") and expected in message, message
    assert len(message.splitlines()) <= 2, message


def _nested(keras, strength):
    reg = keras.regularizers.l1(strength) if strength else None
    block = keras.Sequential([keras.layers.Dense(128, activation="relu", kernel_regularizer=reg) for _ in range(2)])
    return keras.Sequential([keras.Input(shape=(2,)), block, keras.layers.Dense(1, activation="sigmoid")])


def _functional(keras, strength, regularizer=None):
    """The article's model through the functional API, with ``regularizer(strength)`` on the hidden kernels."""
    reg = (regularizer or keras.regularizers.l1)(strength) if strength else None
    x = inputs = keras.Input(shape=(2,))
    for _ in range(2):
        x = keras.layers.Dense(128, kernel_regularizer=reg)(x)
        x = keras.layers.ReLU()(x)
    return keras.Model(inputs, keras.layers.Activation("sigmoid")(keras.layers.Dense(1)(x)))


def _l1_function(keras):
    return lambda s: lambda w: s * keras.ops.sum(keras.ops.abs(w))  # a regularizer written as a function


EQUIVALENT = {  # the article's model written otherwise: 05.1 judges what it computes, so each passes
    "Dense + Activation": lambda keras: lambda s: _article(keras, s, split_activation=True),
    "a nested Sequential": lambda keras: lambda s: _nested(keras, s),
    "functional, ReLU layers": lambda keras: lambda s: _functional(keras, s),
    "L1 as a function": lambda keras: lambda s: _functional(keras, s, _l1_function(keras)),
    "Dropout(0.0)": lambda keras: lambda s: _article(keras, s, [keras.layers.Dropout(0.0)]),
}


@pytest.mark.parametrize("name", list(EQUIVALENT))
def test_the_article_model_written_otherwise_passes(name, keras):
    result = check_task("05.1", EQUIVALENT[name](keras), quiet=True)
    assert result.passed, result.message


def _hidden(keras, activation):
    """The article's model with another activation on its hidden layers."""
    def build(s):
        reg = keras.regularizers.l1(s) if s else None
        hidden = [keras.layers.Dense(128, activation=activation, kernel_regularizer=reg) for _ in range(2)]
        return keras.Sequential([keras.Input(shape=(2,)), *hidden, keras.layers.Dense(1, activation="sigmoid")])
    return build


COMPUTES_OTHERWISE = {  # models with the article's weights that compute something else, and their diagnosis
    "tanh hidden": (lambda keras: _hidden(keras, "tanh"), "the hidden layers use tanh, not relu"),
    "linear hidden": (lambda keras: _hidden(keras, None), "the hidden layers have no activation"),
    "softmax output": (lambda keras: lambda s: _article(keras, s, [keras.layers.Softmax()]),
                       "they are all 1: a softmax over one unit"),
    "l1_l2": (lambda keras: lambda s: _functional(keras, s, lambda c: keras.regularizers.l1_l2(l1=c, l2=c)),
              "(an L2 part too?)"),
    "L2 as a function": (lambda keras: lambda s: _functional(keras, s, lambda c: lambda w: c * keras.ops.sum(w * w)),
                         "hidden layer 1 uses an L2 penalty"),
    "L1 not summed": (lambda keras: lambda s: _functional(keras, s, lambda c: lambda w: c * keras.ops.abs(w)),
                      "a regularizer returned an array of shape (2, 128), not one number"),
    "GaussianNoise alone": (lambda keras: lambda s: _article(keras, s, [keras.layers.GaussianNoise(0.2)]),
                            "(GaussianNoise acts in training only)"),
}


@pytest.mark.parametrize("name", list(COMPUTES_OTHERWISE))
def test_a_model_that_computes_something_else_is_named(name, keras):
    build, expected = COMPUTES_OTHERWISE[name]
    message = check_task("05.1", build(keras), quiet=True).message
    assert message.startswith("✗ Task 05.1 (") and expected in message, message
    assert len(message.splitlines()) <= 2, message


def _ridge(lam):
    return lambda F, y: np.linalg.solve(F.T @ F + lam * np.eye(F.shape[1]), F.T @ y)


@pytest.mark.parametrize("lam", [1e-12, 1e-11])
def test_ridge_with_a_tiny_lambda_is_the_minimum_norm_solution_to_the_stated_tolerance(lam):
    """Issue 25: ridge at λ = 1e-12 (lesson 07's λ → 0 limit) was told "‖w‖ = 476.2 is larger than the
    minimum 476.2 … null space"; it is F⁺y to 07.3's stated relative tolerance 1e-5, and passes."""
    for fn in (_ridge(lam), lambda F, y: ridge_fit(F, y, lam, fit_intercept=False)[0]):
        result = check_task("07.3", fn, quiet=True)
        assert result.passed and "each to a relative 1e-5" in result.message, result.message


def _plus_unseen(fraction):
    """F⁺y plus a part of ``fraction``·‖F⁺y‖ in F's null space, where F has one (more columns than rows)."""
    def fn(F, y):
        w = np.linalg.pinv(F) @ y
        return w + fraction * np.linalg.norm(w) * np.linalg.svd(F)[2][-1] if F.shape[0] < F.shape[1] else w
    return fn


@pytest.mark.parametrize("wrong, expected", [
    (_ridge(1e-10), "‖F(w − F⁺y)‖ = 4.8e-05, where the check allows 1e-5·‖y‖ = 2.6e-05"),  # the penalty shows
    (_plus_unseen(0.01), "‖w‖ = 476.3 is larger than the minimum 476.2 for a 5×12 F (more features than points) "
     "(by 5.0e-05 relative; the check allows 1e-5): w has a part of length 4.8 that F cannot see"),
], ids=["ridge 1e-10", "1% in the null space"])
def test_answers_beyond_the_tolerance_of_07_3_fail_with_digits_that_show_the_difference(wrong, expected):
    message = check_task("07.3", wrong, quiet=True).message
    assert message.startswith("✗ Task 07.3 (") and expected in message, message


def test_a_null_space_part_within_the_tolerance_of_07_3_passes():
    result = check_task("07.3", _plus_unseen(0.001), quiet=True)  # lengthens w by 5e-7 < 1e-5
    assert result.passed, result.message
