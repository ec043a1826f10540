"""What a check accepts as an answer, and which diagnoses it may claim (helpers/checks/core.py).

Only real numbers pass (``_as_array``); a diagnosis is claimed only when it explains the answers
of every test case (``_Cases``); a constant cannot pass a task whose right answers differ.
Each hole found in these checks has its regression test here.
"""

from __future__ import annotations

import datetime
from fractions import Fraction

import numpy as np
import pytest

from helpers import mse, ridge_fit
from helpers.checks import check_task
from helpers.checks.core import _Cases, _Fail


def _step(w, g, lr, lam, n):  # Task 03.2's right answer
    return (1 - lr * lam / n) * w - lr * g


def _message(task_id, fn):
    result = check_task(task_id, fn, quiet=True)
    assert not result.passed, result.message
    assert result.message.startswith(f"✗ Task {task_id} (") and len(result.message.splitlines()) <= 2
    assert "Traceback" not in result.message
    return result.message


# --------------------------------------------------------------------------------------------
# Only real numbers pass
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("wrong, expected", [
    (lambda *a: _step(*a) + np.array([0, 0, 1j]), "returned complex numbers (0.46+1j), not real numbers"),
    (lambda *a: _step(*a) + 0j, "returned complex numbers"),
    (lambda *a: [*_step(*a)[:2], complex(_step(*a)[2])], "a list holding complex numbers"),
    (lambda *a: [str(v) for v in _step(*a)], "returned text ('9.7"),
    (lambda *a: np.array([f"{v}" for v in _step(*a)]), "returned text"),
    (lambda *a: [*_step(*a)[:2], "0.46"], "a list holding text ('0.46')"),
    (lambda *a: [*_step(*a)[:2], True], "a list holding True/False values"),
    (lambda *a: _step(*a) > 0, "returned True/False values"),
    (lambda *a: [*_step(*a)[:2], None], "a list holding None"),
    (lambda *a: np.array([*_step(*a)[:2], None], dtype=object), "a NumPy array holding None"),
    (lambda *a: np.array([Fraction(1, 2)] * 3, dtype=object), "returned Fraction objects, not real numbers"),
    (lambda *a: {"w": _step(*a)}, "returned a dict, not real numbers"),
    (lambda *a: [[1.0, 2.0], [3.0]], "a list that is not an array of numbers"),
    (lambda *a: np.array([datetime.date(2024, 1, 1)] * 3), "returned a date, not real numbers"),
    (lambda *a: None, "returned None"),
])
def test_anything_but_real_numbers_fails_with_what_it_is(wrong, expected):
    assert expected in _message("03.2", wrong)


@pytest.mark.parametrize("right", [
    lambda *a: list(_step(*a)),
    lambda *a: tuple(float(v) for v in _step(*a)),
    lambda *a: _step(*a).astype(np.float32),
    lambda *a: [np.float64(v) for v in _step(*a)],
], ids=["list", "tuple", "float32", "NumPy scalars"])
def test_real_numbers_in_any_container_pass(right):
    assert check_task("03.2", right, quiet=True).passed


def test_integers_and_numpy_scalars_are_numbers():
    assert check_task("02.1", lambda w, lam: np.float32(lam * np.sum(np.square(w))), quiet=True).passed
    assert "same value, 1, on every test case" in _message("02.1", lambda w, lam: 1)  # a number, a wrong one


# --------------------------------------------------------------------------------------------
# Holes that let a wrong answer pass
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("constant, expected", [(1.0, "same value, 1, on every test case"),
                                               (1000.0, "same value, 1000, on every test case"),
                                               (0.01, "it picked the smallest λ on every data set")])
def test_a_constant_lambda_fails_cross_validation(constant, expected):
    assert expected in _message("02.4", lambda X, y, lambdas, k: constant)


def test_a_hard_coded_index_fails_cross_validation():
    assert "same value, 1, on every test case" in _message("02.4", lambda X, y, lambdas, k: lambdas[2])


def test_the_right_values_plus_one_complex_number_fail():
    assert "complex numbers (0.46+1j)" in _message("03.2", lambda *a: _step(*a) + np.array([0, 0, 1j]))


def test_a_list_of_strings_fails():
    assert "text ('9.7')" in _message("03.2", lambda *a: [f"{v:.6g}" for v in _step(*a)])


# --------------------------------------------------------------------------------------------
# Diagnoses: the right one, and none that is not established on every case
# --------------------------------------------------------------------------------------------

def _cv_with(scores):
    """A cross-validation that picks by ``scores(X, y, lam, folds)``, a list of fold errors."""
    def cv(X, y, lambdas, k):
        folds = np.array_split(np.arange(len(y)), k)
        means = [np.mean(scores(X, y, lam, folds)) for lam in lambdas]
        return lambdas[int(np.argmin(means))]
    return cv


def _fold_errors(X, y, lam, folds, fit=ridge_fit, swap=False):
    errors = []
    for fold in folds:
        rest = np.setdiff1d(np.arange(len(y)), fold)
        train, val = (fold, rest) if swap else (rest, fold)
        coef, b = fit(X[train], y[train], lam)
        errors.append(mse(y[val], X[val] @ coef + b))
    return errors


def _ista(sign):
    def lasso(X, y, lam, lr, n_iter):
        w = np.zeros(X.shape[1])
        for _ in range(n_iter):
            z = w + sign * lr * X.T @ (X @ w - y) / len(y)
            w = np.sign(z) * np.maximum(np.abs(z) - lr * lam, 0.0)
        return w
    return lasso


def _kernels(model):
    return np.concatenate([layer.kernel.numpy().ravel() for layer in model.layers])


@pytest.mark.parametrize("task_id, wrong, expected, not_claimed", [
    ("01.1", lambda a, b: np.sum((a - b) ** 2) / (len(a) - 1), "by n − 1 (n=4), not by n", "mean absolute error"),
    ("04.2", _ista(+1), "it steps uphill: the gradient step has the wrong sign", "Divide the gradient by n"),
    ("05.2", lambda model, tol: 1.0, "same value, 1, on every test case", "twice"),
    ("02.4", _cv_with(lambda X, y, lam, folds: _fold_errors(X, y, lam, folds[:1])),
     "it scores each λ on the first fold only", "training error"),
    ("02.4", _cv_with(lambda X, y, lam, folds: _fold_errors(X, y, lam, folds[-1:])),
     "it scores each λ on the last fold only", "training error"),
    ("02.4", _cv_with(lambda X, y, lam, folds: _fold_errors(X, y, lam, folds, swap=True)),
     "the roles are swapped", "training error"),
    ("02.4", _cv_with(lambda X, y, lam, folds: _fold_errors(
        X, y, lam, folds, fit=lambda X, y, lam: ridge_fit(X, y, lam, fit_intercept=False))),
     "it fits without an intercept", "training error"),
    ("02.4", lambda X, y, lambdas, k: lambdas[0], "smallest λ on every data set", "first fold"),
    ("05.2", lambda model, tol: np.mean(np.abs(_kernels(model)) <= tol), "it counts |w| ≤ tol", "wrong value"),
])
def test_misdiagnoses_are_fixed(task_id, wrong, expected, not_claimed):
    message = _message(task_id, wrong)
    assert expected in message and not_claimed not in message, message


@pytest.mark.parametrize("task_id, wrong, not_claimed, said", [
    # the mean absolute error on the first case only (where it equals SSE/(n − 1)), something else after
    ("01.1", lambda a, b: np.mean(np.abs(a - b)) if len(a) == 4 else 0.123, "mean absolute error",
     "wrong value for y_true=[1, 2, 3, 4]: expected 0.375, got 0.5."),
    # twice the right fraction on the first tolerance only
    ("05.2", lambda model, tol: 1.0 if tol == 1e-3 else 0.3, "twice", "wrong value for tol=0.001"),
    # the smallest λ on the first data set only (as the training error would), the right λ elsewhere
    ("02.4", lambda X, y, lambdas, k: 0.01 if k == 8 else 1.0 if np.all(np.diff(X[:, 0]) >= 0) else 10.0,
     "training error", "it picked λ = 0.01 on data set 1 of 3 (k=8); cross-validation picks another λ there."),
    # the ascent on one step, the right answer after three, not converged after 300
    ("04.2", lambda X, y, lam, lr, n_iter: _ista(+1 if n_iter == 1 else -1)(X, y, lam, lr, min(n_iter, 3)),
     "uphill", "should be exactly 0 are only near 0"),
])
def test_a_diagnosis_that_fits_one_case_only_is_not_claimed(task_id, wrong, not_claimed, said):
    message = _message(task_id, wrong)
    assert not_claimed not in message and said in message, message


def _judge(cases, got):
    answers = _Cases(scalar=True)
    for (expected, variants), value in zip(cases, got, strict=True):
        answers.add(value, expected, case=f"for x={expected}", variants=variants)
    answers.verdict()


def test_two_known_mistakes_that_fit_equally_are_both_left_unclaimed():
    same = [(1.0, [(2.0, "mistake A.", "a"), (2.0, "mistake B.", "b")]),
            (3.0, [(6.0, "mistake A.", "a"), (6.0, "mistake B.", "b")])]
    with pytest.raises(_Fail, match="wrong value for x=1.0: expected 1, got 2"):
        _judge(same, [2.0, 6.0])
    different = [(1.0, [(2.0, "mistake A.", "a"), (2.0, "mistake B.", "b")]),
                 (3.0, [(6.0, "mistake A.", "a"), (7.0, "mistake B.", "b")])]
    with pytest.raises(_Fail, match="mistake B"):
        _judge(different, [2.0, 7.0])


def test_a_variant_may_coincide_with_the_right_answer_on_some_cases():
    cases = [(1.0, [(1.0, "no penalty.", "")]), (3.0, [(2.0, "no penalty.", "")])]
    with pytest.raises(_Fail, match="no penalty"):
        _judge(cases, [1.0, 2.0])
    _judge(cases, [1.0, 3.0])  # right everywhere: passes


def test_a_task_with_its_own_tolerance_decides_what_is_right():
    """``add(..., right=...)``: the task's stated criterion replaces closeness to the expected value."""
    def judged(got, right):
        answers = _Cases(scalar=True)
        answers.add(got, 1.0, case="for x=1", right=right)
        answers.verdict()

    judged(1.001, lambda w: abs(w - 1.0) <= 1e-2)  # not close to 1e-6, right by the task's tolerance
    with pytest.raises(_Fail, match="wrong value for x=1"):
        judged(1.0, lambda w: False)


def test_cases_with_different_variant_lists_are_a_checker_bug():
    with pytest.raises(RuntimeError, match="different numbers of variants"):
        _judge([(1.0, [(2.0, "a.", "")]), (3.0, [])], [2.0, 5.0])


# --------------------------------------------------------------------------------------------
# Lesson 06: each known mistake is named
# --------------------------------------------------------------------------------------------

def _dropout_with(train, infer=lambda h, rate, keep: h):
    return lambda h, rate, keep, training: train(h, rate, keep) if training else infer(h, rate, keep)


def _epoch_rule(ties_improve=False, extra_wait=0):
    def restored(losses, patience):
        best, best_epoch, wait = np.inf, 0, 0
        for epoch, loss in enumerate(losses, start=1):
            wait += 1
            if loss < best or (ties_improve and loss == best):
                best, best_epoch, wait = loss, epoch, 0
            elif wait >= patience + extra_wait:
                break
        return best_epoch
    return restored


def _noise_ridge(lam_of, center=False):
    def fit(X, y, sigma):
        if center:
            X, y = X - X.mean(axis=0), y - y.mean()
        return np.linalg.solve(X.T @ X + lam_of(len(y), sigma) * np.eye(X.shape[1]), X.T @ y)
    return fit


@pytest.mark.parametrize("task_id, wrong, expected", [
    ("06.1", _dropout_with(lambda h, rate, keep: h * keep), "does not divide the survivors by 1 − rate"),
    ("06.1", _dropout_with(lambda h, rate, keep: h * keep * (1 - rate)), "multiplies the survivors by 1 − rate"),
    ("06.1", _dropout_with(lambda h, rate, keep: h * keep / (1 - rate), lambda h, rate, keep: h * keep / (1 - rate)),
     "drops units at inference too"),
    ("06.1", _dropout_with(lambda h, rate, keep: h * keep / (1 - rate), lambda h, rate, keep: h / (1 - rate)),
     "scales at inference too"),
    ("06.1", _dropout_with(lambda h, rate, keep: h * ~keep / (1 - rate)), "zeroes the units that keep=True marks"),
    ("06.2", lambda losses, patience: int(np.argmin(losses)) + 1, "lowest loss of the whole history"),
    ("06.2", _epoch_rule(ties_improve=True), "counts an equal loss as an improvement"),
    ("06.2", _epoch_rule(extra_wait=1), "waits one epoch more than patience"),
    ("06.3", _noise_ridge(lambda n, s: s**2), "λ = σ², without the factor n"),
    ("06.3", _noise_ridge(lambda n, s: n * s), "λ = nσ, not nσ²"),
    ("06.3", _noise_ridge(lambda n, s: 0.0), "least squares, with no penalty"),
    ("06.3", _noise_ridge(lambda n, s: n * s**2, center=True), "centres the data"),
])
def test_lesson_06_mistakes_are_named(task_id, wrong, expected):
    message = _message(task_id, wrong)
    assert expected in message, message


def _keras_restores(losses, patience):
    """The epoch (from 1) whose weights the installed Keras's EarlyStopping(restore_best_weights=True)
    ends with, driven as ``fit`` drives it: each epoch's weights are the epoch's number."""
    from helpers.keras_env import import_keras

    keras = import_keras()
    model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1, use_bias=False)])
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    stopper.set_model(model)
    model.stop_training = False
    stopper.on_train_begin()
    for epoch, loss in enumerate(losses):
        model.set_weights([np.full((1, 1), epoch + 1.0)])
        stopper.on_epoch_end(epoch, {"val_loss": loss})
        if model.stop_training:
            break
    stopper.on_train_end()
    return int(model.get_weights()[0][0, 0])


def test_the_early_stopping_rule_of_06_2_is_the_installed_keras(monkeypatch):
    """Keras 3 restores the best epoch at the end of training, stopped early or not (issue 25)."""
    from helpers.checks import draws
    from helpers.checks.lesson06 import _HISTORIES, _drawn_full_run, _drawn_history, _restored_epoch

    histories = list(_HISTORIES)
    for seed in range(10):
        monkeypatch.setattr(draws, "SEED", seed)
        histories += [_drawn_history()[:2], _drawn_full_run()[:2]]
    for losses, patience in histories:
        assert _restored_epoch(losses, patience) == _keras_restores(losses, patience), (losses, patience)
    ran_to_the_end = [h for h in histories if _restored_epoch(*h, only_if_stopped=True) == len(h[0])]
    assert any(_keras_restores(*h) < len(h[0]) for h in ran_to_the_end), "no case tells Keras 3 from tf.keras 2"
