"""helpers.checks: every solution passes, every stub fails kindly, typical mistakes are named.

The reference answers are taken from the solution notebooks themselves (the code between the
``### BEGIN SOLUTION`` / ``### END SOLUTION`` markers), and the stubs from the learner notebooks
that ``coursekit.assignments`` generates from them, so the tests follow the notebooks.
"""

from __future__ import annotations

import pkgutil
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import nbformat
import numpy as np
import pytest

import helpers.checks
from coursekit import assignments
from helpers.checks import CHECKS, CheckResult, check_task, is_done, normalize_task_id, task

CHECK_CALL = re.compile(r'check_task\("(\d\d\.\d+)",\s*(\w+)\)')
ROOT = Path(__file__).resolve().parents[1]
CODE_TASK = re.compile(r"^## Task (\d\d\.\d+) · Code\b", re.MULTILINE)


@cache
def _namespace(lesson: str, learner: bool) -> tuple[dict, dict[str, str]]:
    """Execute a notebook's imports and task functions; returns (namespace, {task id: name})."""
    (path,) = assignments.SOLUTIONS.glob(f"{lesson}_*_solution.ipynb")
    nb = nbformat.read(path, as_version=4)
    if learner:
        nb = assignments.learner_notebook(nb, path.name)
    sources = [c.source for c in nb.cells if c.cell_type == "code"]
    setup_lines = [line for line in sources[0].splitlines()
                   if line.startswith(("import ", "from ", "os.environ"))]
    ns: dict = {}
    exec("\n".join(setup_lines), ns)  # imports only: no plot defaults, no seeds
    for src in sources:
        if src.lstrip().startswith("def "):
            exec(src, ns)
    calls = dict(CHECK_CALL.findall("\n".join(sources)))
    return ns, calls


def _task_function(task_id: str, learner: bool = False):
    ns, calls = _namespace(task_id[:2], learner)
    return ns[calls[task_id]]


def test_every_checked_task_is_in_a_solution_notebook_and_back():
    in_notebooks = set()
    for path in assignments.solution_paths():
        text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
        in_notebooks |= {task_id for task_id, _ in CHECK_CALL.findall(text)}
    assert in_notebooks == set(CHECKS)


def test_every_code_task_has_a_checker_and_every_checker_a_code_task():
    code_tasks = set()
    for path in assignments.solution_paths():
        cells = nbformat.read(path, as_version=4).cells
        code_tasks |= {t for c in cells if c.cell_type == "markdown" for t in CODE_TASK.findall(c.source)}
    assert len(code_tasks) >= len(assignments.solution_paths())  # the headings were found
    assert sorted(code_tasks - set(CHECKS)) == [], "code tasks without a checker"
    assert sorted(set(CHECKS) - code_tasks) == [], "checkers without a '## Task NN.k · Code' heading"


def test_each_lesson_module_registers_its_own_tasks_in_order():
    lesson_modules = {f"helpers.checks.{m.name}" for m in pkgutil.iter_modules(helpers.checks.__path__)
                      if m.name.startswith("lesson")}
    owners = {checker.__module__ for _, checker in CHECKS.values()}
    assert owners == lesson_modules
    for task_id, (_, checker) in CHECKS.items():
        assert checker.__module__ == f"helpers.checks.lesson{task_id[:2]}", task_id
    assert list(CHECKS) == sorted(CHECKS, key=lambda t: tuple(map(int, t.split("."))))


@pytest.mark.parametrize("same_id", ["04.2", "4.2", (4, 2)])
def test_registering_a_task_twice_raises(same_id):
    before = dict(CHECKS)
    with pytest.raises(ValueError, match=r"'04\.2' is registered twice.*lesson04\._check_04_2"):
        task(same_id, "another lasso")(lambda fn: "passed")
    assert CHECKS == before


def test_importing_checks_registers_every_lesson_without_keras():
    code = ("import sys, helpers.checks as c; print(len(c.CHECKS)); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('keras', 'tensorflow')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=ROOT).stdout.split("\n")  # -c puts the working directory first on sys.path
    assert out[:2] == [str(len(CHECKS)), "[]"]


@pytest.mark.parametrize("task_id", list(CHECKS))
def test_solution_passes(task_id):
    result = check_task(task_id, _task_function(task_id), quiet=True)
    assert result.passed, result.message
    assert result.message.startswith("✓ Task " + task_id)


@pytest.mark.parametrize("task_id", list(CHECKS))
def test_stub_fails_with_the_friendly_message(task_id, capsys):
    result = check_task(task_id, _task_function(task_id, learner=True))
    out = capsys.readouterr().out
    assert not result.passed
    assert f"✗ Task {task_id} is not done yet" in out
    assert "NotImplementedError` line" in out
    assert "Traceback" not in out and len(out.strip().splitlines()) <= 2


def test_a_task_that_calls_an_unfinished_task_names_it():
    def lasso_ista(X, y, lam, lr, n_iter):
        raise NotImplementedError("Task 04.1: your code here")  # as the stub of soft_threshold

    result = check_task("04.2", lasso_ista, quiet=True)
    assert "waits for Task 04.1" in result.message


# --------------------------------------------------------------------------------------------
# Typical wrong answers get their specific diagnosis
# --------------------------------------------------------------------------------------------

def _soft(z, t):
    return np.sign(z) * np.maximum(np.abs(z) - t, 0.0)


def _ista(update):
    def lasso(X, y, lam, lr, n_iter):
        w = np.zeros(X.shape[1])
        for _ in range(n_iter):
            w = update(X, y, w, lam, lr)
        return w
    return lasso


def _cv(pick):
    def cv(X, y, lambdas, k):
        from helpers import mse, ridge_fit

        folds = np.array_split(np.arange(len(y)), k)
        val, train = [], []
        for lam in lambdas:
            errs = []
            for fold in folds:
                rest = np.setdiff1d(np.arange(len(y)), fold)
                c, b = ridge_fit(X[rest], y[rest], lam)
                errs.append(mse(y[fold], X[fold] @ c + b))
            val.append(np.mean(errs))
            c, b = ridge_fit(X, y, lam)
            train.append(mse(y, X @ c + b))
        return pick(np.asarray(lambdas), np.array(val), np.array(train))
    return cv


def _bv(bias2=lambda mean_fit, f: np.mean((mean_fit - f) ** 2), var=lambda p: np.mean(p.var(axis=0)),
        noise=lambda sd: sd**2):
    """A Task 07.1 answer built from its three parts (the right ones unless replaced)."""
    def decompose(preds, f_true, noise_sd):
        b, v = bias2(preds.mean(axis=0), f_true), var(preds)
        return b, v, b + v + noise(noise_sd)
    return decompose


def _per_fit(preds, y_test):
    return np.mean((y_test - preds) ** 2, axis=1)


def _every_singular_value_inverted(F, y):
    """F⁺y with no cutoff: every singular value inverted, a tiny one included (a tiny epsilon keeps an
    exact zero from dividing by zero). ``lstsq(rcond=0)`` was this mutant, but whether LAPACK returns
    the twin-row matrix's zero singular value as exactly 0 (then it is dropped, and the answer is
    right) or as 1e-17 depends on the CPU."""
    U, s, Vt = np.linalg.svd(F, full_matrices=False)
    return Vt.T @ ((U.T @ y) / (s + 1e-300))


def _padded(F, y):
    """An exact fit that is not the smallest: least squares on the first n columns, zeros elsewhere."""
    n, p = F.shape
    if p <= n:
        return np.linalg.lstsq(F, y, rcond=None)[0]
    w = np.zeros(p)
    w[:n] = np.linalg.lstsq(F[:, :n], y, rcond=None)[0]
    return w


def _gd(scale=1.0, start=0.0, extra=0):
    """A Task 07.4 answer: gradient steps scaled by ``scale``, from ``start``, ``extra`` steps too many."""
    def gd(F, y, lr, n_steps):
        w = np.full(F.shape[1], start)
        for _ in range(n_steps + extra):
            w = w - scale * lr * F.T @ (F @ w - y)
        return w
    return gd


WRONG = {
    "01.1": [
        (lambda a, b: np.sum((a - b) ** 2), "missing 1/n"),
        (lambda a, b: np.sqrt(np.mean((a - b) ** 2)), "RMSE"),
        (lambda a, b: np.mean(np.abs(a - b)), "|e| instead of e²"),
        (lambda a, b: (a - b) ** 2, "expected one number"),
        (lambda a, b: None, "returned None"),
    ],
    "01.2": [
        (lambda xt, yt, xn, d: np.vander(xn, d + 1, increasing=True)[:, 1:]
         @ np.linalg.lstsq(np.vander(xt, d + 1, increasing=True)[:, 1:], yt, rcond=None)[0],
         "no intercept"),
        (lambda xt, yt, xn, d: np.polyfit(xt, yt, d), "coefficients for degree=3, not predictions"),
        (lambda xt, yt, xn, d: np.polyval(np.polyfit(xt, yt, d - 1), xn), "fits degree"),
        (lambda xt, yt, xn, d: np.polyval(np.polyfit(xt, yt, d), xt), "predictions at the 12 training points"),
    ],
    "02.1": [
        (lambda w, lam: lam * np.sum(np.abs(w)), "L1 penalty"),
        (lambda w, lam: lam / 2 * np.sum(w**2), "half"),
        (lambda w, lam: 2 * lam * np.sum(w**2), "twice"),
        (lambda w, lam: lam * np.linalg.norm(w), "the norm, not its square"),
        (lambda w, lam: lam * w**2, "expected one number"),
    ],
    "02.2": [
        (lambda X, y, w, lam: np.sum((y - X @ w) ** 2) + lam * np.sum(w**2), "missing 1/n"),
        (lambda X, y, w, lam: np.mean((y - X @ w) ** 2), "penalty is missing"),
        (lambda X, y, w, lam: np.mean((y - X @ w) ** 2) + lam * np.sum(np.abs(w)), "|w| instead of w²"),
        (lambda X, y, w, lam: np.mean((y - X @ w) ** 2) / 2 + lam * np.sum(w**2), "half the MSE"),
    ],
    "02.3": [
        (lambda X, y, lam: np.linalg.lstsq(X, y, rcond=None)[0], "λ has no effect"),
        (lambda X, y, lam: np.linalg.solve(X.T @ X / len(y) + lam * np.eye(X.shape[1]), X.T @ y / len(y)),
         "times stronger"),
        (lambda X, y, lam: np.linalg.solve(X.T @ X + lam, X.T @ y), "every entry"),
        (lambda X, y, lam: (X.T @ X + lam * np.eye(X.shape[1])) @ X.T @ y, "wrong value"),
    ],
    "02.4": [
        (_cv(lambda lams, val, train: int(np.argmin(val))), "position"),
        (_cv(lambda lams, val, train: lams[np.argmax(val)]), "largest validation error"),
        (_cv(lambda lams, val, train: lams[np.argmin(train)]), "as the training error would"),
        (_cv(lambda lams, val, train: val), "expected the one chosen λ"),
    ],
    "03.1": [
        (lambda w, lam: lam * w, "half the expected value"),
        (lambda w, lam: -2 * lam * w, "wrong sign"),
        (lambda w, lam: lam * np.sign(w), "L1 penalty"),
        (lambda w, lam: 2 * lam * np.sum(w), "wrong shape"),
    ],
    "03.2": [
        (lambda w, g, lr, lam, n: (1 - lr * lam) * w - lr * g, "missing 1/n"),
        (lambda w, g, lr, lam, n: (1 - lr * lam / n) * w + lr * g, "wrong sign"),
        (lambda w, g, lr, lam, n: (1 - 2 * lr * lam / n) * w - lr * g, "factor of 2"),
        (lambda w, g, lr, lam, n: w - lr * g, "no decay"),
        (lambda w, g, lr, lam, n: (1 - lr * lam / n) * (w - lr * g), "also multiplies"),
        (lambda w, g, lr, lam, n: (1 + lr * lam / n) * w - lr * g, "weights grow"),
    ],
    "03.3": [
        (lambda w0, lr, lam, n, s: w0 * (1 - np.arange(s + 1) * lr * lam / n), "linear decrement"),
        (lambda w0, lr, lam, n, s: w0 * (1 - lr * lam / n) ** np.arange(1, s + 1), "Include the starting value"),
        (lambda w0, lr, lam, n, s: w0 * (1 - lr * lam / n) ** np.arange(1, s + 2), "one step ahead"),
    ],
    "04.1": [
        (lambda z, t: np.where(np.abs(z) > t, z, 0.0), "hard thresholding"),
        (lambda z, t: np.maximum(np.abs(z) - t, 0.0), "sign is lost"),
        (lambda z, t: z - t * np.sign(z), "cross zero"),
        (lambda z, t: np.sign(z) * np.maximum(np.abs(z) - 2 * t, 0.0), "2t"),
    ],
    "04.2": [
        (_ista(lambda X, y, w, lam, lr: w - lr * (X.T @ (X @ w - y) / len(y) + lam * np.sign(w))),
         "only jitter near 0"),
        (_ista(lambda X, y, w, lam, lr: _soft(w - lr * X.T @ (X @ w - y), lr * lam)), "not divided by n"),
        (_ista(lambda X, y, w, lam, lr: _soft(w - lr * X.T @ (X @ w - y) / len(y), lam)),
         "instead of η·λ"),
        (lambda X, y, lam, lr, n_iter: np.zeros(X.shape[1] + 1), "wrong shape"),
    ],
    "07.1": [
        (_bv(var=lambda p: np.mean(p.var(axis=0, ddof=1))), "R − 1"),
        (_bv(bias2=lambda m, f: np.mean(np.abs(m - f))), "not squared"),
        (_bv(bias2=lambda m, f: np.mean(m - f) ** 2), "before squaring"),
        (_bv(bias2=lambda m, f: np.mean(m - f)), "not squared"),
        (_bv(var=lambda p: np.mean(p.var(axis=1))), "across the test inputs"),
        (_bv(var=lambda p: np.mean(p.std(axis=0))), "standard deviation"),
        (_bv(noise=lambda sd: 0.0), "lacks the noise term"),
        (_bv(noise=lambda sd: sd), "σ, not σ²"),
        (lambda p, f, sd: {"bias2": 0.0}, "expected 3 numbers"),
    ],
    "07.2": [
        (lambda p, y: (_per_fit(p, y).mean(), _per_fit(p, y).std(ddof=1) / len(p)), "instead of √R"),
        (lambda p, y: (_per_fit(p, y).mean(), _per_fit(p, y).std(ddof=1)), "spread of one fit"),
        (lambda p, y: (_per_fit(p, y).mean(), ((y - p) ** 2).std(ddof=1) / np.sqrt(p.size)), "as independent"),
        (lambda p, y: (np.sqrt(_per_fit(p, y).mean()), 0.1), "root of the MSE"),
        (lambda p, y: _per_fit(p, y).mean(), "expected 2 numbers"),
    ],
    "07.3": [
        (lambda F, y: np.linalg.solve(F.T @ F + 1e-8 * np.eye(F.shape[1]), F.T @ y), "ridge λ"),
        (lambda F, y: np.linalg.lstsq(F, y, rcond=1e-2)[0], "rcond"),
        (lambda F, y: F.T @ np.linalg.solve(F @ F.T, y), "LinAlgError"),
        (_every_singular_value_inverted, "enormous"),
        (_padded, "null space"),
        (lambda F, y: np.linalg.lstsq(F, y, rcond=None)[0][:-1], "wrong shape"),
    ],
    "07.4": [
        (lambda F, y, lr, n_steps: _gd(scale=1 / len(y))(F, y, lr, n_steps), "divided by n"),
        (_gd(scale=2.0), "factor of 2"),
        (_gd(scale=-1.0), "uphill"),
        (_gd(start=0.1), "does not start from w = 0"),
        (_gd(extra=1), "one step too many"),
    ],
}


def test_the_minimum_norm_check_names_a_singular_system():
    def via_inverse(F, y):  # F Fᵀ is exactly singular for the check's F with two identical rows
        return F.T @ np.linalg.solve(F @ F.T, y) if F.shape[0] == 6 else np.linalg.pinv(F) @ y

    result = check_task("07.3", via_inverse, quiet=True)
    assert not result.passed and "LinAlgError" in result.message and "pinv" in result.message, result.message


@pytest.mark.parametrize("task_id, wrong, diagnosis",
                         [(t, fn, d) for t, cases in WRONG.items() for fn, d in cases])
def test_typical_mistakes_get_their_diagnosis(task_id, wrong, diagnosis):
    result = check_task(task_id, wrong, quiet=True)
    assert not result.passed
    assert diagnosis in result.message, result.message
    assert "Traceback" not in result.message
    assert len(result.message.splitlines()) <= 2


def test_the_factor_of_2_hints_of_03_1_never_mention_a_half():
    """Issue 18: 03.1's penalty λΣw² has no ½, so no hint of it may say that a ½ cancels the 2."""
    for wrong in (lambda w, lam: lam * w, lambda w, lam: 4 * lam * w):
        message = check_task("03.1", wrong, quiet=True).message
        assert "factor of 2" in message or "half" in message, message
        assert "½" not in message, message


@pytest.fixture(scope="module")
def keras():
    from helpers.keras_env import import_keras

    return import_keras()


def _model(keras, units=(128, 128, 1), reg=("l1", "l1", None), shape=(2,), strength=None):
    def build(l1_strength):
        value = l1_strength if strength is None else strength
        make = {"l1": keras.regularizers.l1, "l2": keras.regularizers.l2}
        layers = [keras.Input(shape=shape)]
        for u, r, act in zip(units, reg, ("relu", "relu", "sigmoid"), strict=True):
            kr = make[r](value) if r and value else None
            layers.append(keras.layers.Dense(u, activation=act, kernel_regularizer=kr))
        return keras.Sequential(layers)
    return build


def test_keras_model_mistakes(keras):
    cases = [
        (_model(keras, reg=("l2", "l2", None)), "L2 penalty"),
        (_model(keras, reg=("l1", "l1", "l1")), "output layer"),
        (_model(keras, reg=("l1", None, None)), "hidden layer 2 has no L1 penalty"),
        (_model(keras, units=(64, 64, 1)), "units"),
        (_model(keras, shape=(3,)), "input shape"),
        (_model(keras, strength=0.01), "expected 0.001"),
        (lambda s: "model", "not a Keras model"),
    ]
    for build, diagnosis in cases:
        result = check_task("05.1", build, quiet=True)
        assert not result.passed and diagnosis in result.message, result.message


def test_sparsity_mistakes(keras):
    def weights(model):
        return np.concatenate([w.ravel() for w in model.get_weights()])

    def kernels(model):
        return np.concatenate([layer.kernel.numpy().ravel() for layer in model.layers])

    cases = [
        (lambda m, tol: np.mean(np.abs(weights(m)) < tol), "biases"),
        (lambda m, tol: 100 * np.mean(np.abs(kernels(m)) < tol), "percentage"),
        (lambda m, tol: np.sum(np.abs(kernels(m)) < tol), "count"),
        (lambda m, tol: np.mean(kernels(m) == 0), "exact zeros only"),
    ]
    for fn, diagnosis in cases:
        result = check_task("05.2", fn, quiet=True)
        assert not result.passed and diagnosis in result.message, result.message


# --------------------------------------------------------------------------------------------
# The check_task contract
# --------------------------------------------------------------------------------------------

def test_result_prints_once_and_reads_as_the_message(capsys):
    result = check_task("03.1", lambda w, lam: 2 * lam * np.asarray(w))
    assert isinstance(result, CheckResult) and bool(result) is True
    assert capsys.readouterr().out == repr(result) + "\n"
    assert result._ipython_display_() is None  # the notebook does not show it a second time


def test_learner_exceptions_become_one_line(capsys):
    def broken(w, lam):
        return w @ np.ones(7)  # a shape bug

    result = check_task("02.1", broken)
    out = capsys.readouterr().out
    assert not result and "raised ValueError" in out and "Hint:" in out
    assert "Traceback" not in out and len(out.strip().splitlines()) == 2


def test_wrong_signature_is_named():
    result = check_task("03.2", lambda w, g: w, quiet=True)
    assert "raised TypeError" in result.message and "signature" in result.message


@pytest.mark.parametrize("obj, expected", [(None, "expects your function"),
                                           (np.zeros(3), "expects your function")])
def test_not_a_function(obj, expected):
    assert expected in check_task("03.1", obj, quiet=True).message


def test_unknown_and_malformed_task_ids():
    assert "has no automatic check" in check_task("01.3", print, quiet=True).message
    assert "must look like" in check_task("three", print, quiet=True).message


@pytest.mark.parametrize("given", ["03.2", "3.2", " 03.2 ", (3, 2), ("03", "2")])
def test_normalize_task_id(given):
    assert normalize_task_id(given) == "03.2"


@pytest.mark.parametrize("bad", ["3", "03-2", "a.b", (3,), None])
def test_normalize_task_id_rejects(bad):
    with pytest.raises(ValueError, match="task_id"):
        normalize_task_id(bad)


def test_is_done_skips_quietly(capsys):
    def stub(w, lam):
        raise NotImplementedError("Task 03.1: your code here")

    assert is_done("03.1", stub) is False
    assert "Skipped until Task 03.1 passes" in capsys.readouterr().out
    assert is_done("03.1", lambda w, lam: 2 * lam * np.asarray(w)) is True
    assert capsys.readouterr().out == ""
