"""L1 versus L2: closed forms, regularization paths, exact zeros and feature selection.

Conventions (the same as :mod:`helpers.linear`, i.e. scikit-learn's):

* ridge: :math:`\\|y - Xw - b\\|^2 + \\lambda\\|w\\|^2` (a *sum* of squared errors,
  ``Ridge(alpha=lam)``);
* lasso: :math:`\\frac{1}{2n}\\|y - Xw - b\\|^2 + \\lambda\\|w\\|_1` (a *mean*, ``Lasso(alpha=lam)``);
* elastic net: :math:`\\frac{1}{2n}\\|y - Xw - b\\|^2 + \\lambda\\rho\\|w\\|_1
  + \\frac{\\lambda(1-\\rho)}{2}\\|w\\|^2` (``ElasticNet(alpha=lam, l1_ratio=rho)``).

The intercept :math:`b` is never penalized. The closed forms for orthonormal features state their
own convention. Everything here is introduced in notebook 04 (``04_l1_vs_l2.ipynb``);
``ridge_path_by_lambda`` is :func:`helpers.linear.ridge_path_by_lambda`, re-exported here.
"""

from __future__ import annotations

import numpy as np

from helpers._counts import check_int, check_iterations, check_seed, check_size
from helpers._validate import check_array, check_choice, check_pair, check_scalar, check_xy, finite_result
from helpers.linear import (
    STANDARDIZE,
    _center,
    _check_lams,
    coordinate_descent,
    lasso_fit,
    ridge_path_by_lambda,
)
from helpers.penalties import _soft_threshold, l1_penalty

__all__ = [
    "count_zeros",
    "elastic_net_fit",
    "entry_order",
    "fit_soft_threshold",
    "fit_uniform_scale",
    "ista_lasso",
    "lasso_cost",
    "lasso_lambda_max",
    "lasso_orthonormal",
    "lasso_path_by_lambda",
    "lasso_step_size",
    "orthonormal_design",
    "ridge_from_ols",
    "ridge_orthonormal",
    "ridge_path_by_lambda",
    "selection_path",
    "selection_scores",
    "standardize",
    "subgradient_lasso",
]


# --------------------------------------------------------------------------------------------
# Closed forms
# --------------------------------------------------------------------------------------------

def ridge_orthonormal(w_ols, lam: float) -> np.ndarray:
    r"""Ridge weights for orthonormal features: :math:`\hat w^{\rm ridge} = \hat w^{\rm OLS}/(1+\lambda)`.

    Convention: :math:`X^\top X = I` and the cost :math:`\|y - Xw\|^2 + \lambda\|w\|^2`
    (scikit-learn's ``Ridge(alpha=lam)``; the same factor follows from
    :math:`\tfrac12\|y-Xw\|^2 + \tfrac{\lambda}{2}\|w\|^2`). Every weight is scaled by the same
    factor, so no weight ever reaches 0.
    """
    w_ols = check_array(w_ols, "w_ols", ndim=1)
    lam = check_scalar(lam, "lam")
    return w_ols / (1.0 + lam)


def lasso_orthonormal(w_ols, lam: float) -> np.ndarray:
    r"""Lasso weights for orthonormal features: :math:`S_\lambda(\hat w^{\rm OLS})`.

    Convention: :math:`X^\top X = I` and the cost :math:`\tfrac12\|y - Xw\|^2 + \lambda\|w\|_1`,
    which is scikit-learn's ``Lasso(alpha=lam / n)`` (its data term is divided by ``n``). Every
    weight moves toward 0 by the same amount ``lam``; those with :math:`|w| \le \lambda` become 0.
    """
    w_ols = check_array(w_ols, "w_ols", ndim=1)
    lam = check_scalar(lam, "lam")
    return _soft_threshold(w_ols, lam)


def orthonormal_design(n: int, p: int, seed: int = 0) -> np.ndarray:
    r"""An ``n x p`` matrix with orthonormal columns (:math:`X^\top X = I`), from a seeded QR.

    ``n``, ``p`` and ``seed`` are whole numbers (``1 <= p <= n``, the matrix bounded in size)."""
    n = check_int(n, "n", min_value=1)
    p = check_int(p, "p", min_value=1)
    if p > n:
        raise ValueError(f"p must be <= n for orthonormal columns, got p={p} > n={n}")
    check_size(n * p, "n")
    rng = np.random.default_rng(check_seed(seed))
    q, r = np.linalg.qr(rng.standard_normal((n, p)))
    return q * np.sign(np.diag(r))  # fixed sign convention: deterministic across LAPACKs


@finite_result("gram", "w_ols", "lam", action="solve for the ridge weights",
               hint="gram must be XᵀX of centred data; rescale {name}")
def ridge_from_ols(gram, w_ols, lam: float) -> np.ndarray:
    r"""Ridge weights from the least-squares ones: :math:`(G + \lambda I)^{-1} G\,\hat w^{\rm OLS}`.

    ``gram`` is :math:`G = X^\top X` (centred data) and the cost is
    :math:`\|y - Xw\|^2 + \lambda\|w\|^2`, because :math:`X^\top y = G \hat w^{\rm OLS}`. With
    :math:`G = I` this is :func:`ridge_orthonormal`; with correlated features the shrinkage
    factor differs from weight to weight.
    """
    gram = check_array(gram, "gram", ndim=2)
    w_ols = check_array(w_ols, "w_ols", ndim=1)
    lam = check_scalar(lam, "lam")
    p = w_ols.size
    if gram.shape != (p, p):
        raise ValueError(f"gram must have shape ({p}, {p}), got {gram.shape}")
    return np.linalg.solve(gram + lam * np.eye(p), gram @ w_ols)


@finite_result("before", "after", action="fit a scale factor")
def fit_uniform_scale(before, after) -> tuple[float, float]:
    r"""Best single factor :math:`c` with ``after ≈ c * before`` (least squares).

    Returns ``(c, max_abs_error)``, :math:`c = \langle a, b\rangle / \|b\|^2`. A max error well
    above the rounding of ``after`` means no uniform rescaling (no orthonormal ridge) produced it.
    """
    before, after = check_pair(before, after, "before", "after", ndim=1)
    if not np.any(before):
        raise ValueError("before must not be all zeros")
    c = float(before @ after / (before @ before))
    return c, float(np.abs(c * before - after).max())


@finite_result("before", "after", action="fit a threshold")
def fit_soft_threshold(before, after) -> tuple[float, float]:
    r"""Best single threshold :math:`t \ge 0` with ``after ≈ S_t(before)`` (least squares, exact).

    :math:`\sum_i (S_t(b_i) - a_i)^2` is a quadratic in :math:`t` between consecutive values of
    :math:`|b_i|`; the minimizer of each piece is clipped to its interval and the best kept.
    Returns ``(t, max_abs_error)``.
    """
    before, after = check_pair(before, after, "before", "after", ndim=1)
    mags = np.abs(before)
    edges = np.unique(np.r_[0.0, mags])
    candidates = list(edges)
    for lo, hi in zip(edges, np.r_[edges[1:], np.inf], strict=True):
        active = mags > lo  # weights still nonzero for t in (lo, hi)
        if active.any():
            # d/dt sum (|b| - t - sign(b) a)^2 = 0  ->  t = mean(|b| - sign(b) a)
            t = float(np.mean(mags[active] - np.sign(before[active]) * after[active]))
            candidates.append(min(max(t, lo), hi))
    errors = [float(np.sum((_soft_threshold(before, t) - after) ** 2)) for t in candidates]
    t_best = float(candidates[int(np.argmin(errors))])
    return t_best, float(np.abs(_soft_threshold(before, t_best) - after).max())


# --------------------------------------------------------------------------------------------
# Paths and selection
# --------------------------------------------------------------------------------------------

@finite_result("X", "y", action="compute the correlations", hint=STANDARDIZE)
def lasso_lambda_max(X, y) -> float:
    r"""Smallest :math:`\lambda` at which the lasso sets every weight to 0:
    :math:`\max_j |x_j^\top (y - \bar y)|/n` on centred ``X`` (scikit-learn's ``alpha``)."""
    Xc, yc, _, _ = _center(*check_xy(X, y), True)
    return float(np.abs(Xc.T @ yc).max() / Xc.shape[0])


LASSO_ENGINES = ("numpy", "sklearn")


@finite_result("X", "y", "lams", action="fit", hint=STANDARDIZE)
def lasso_path_by_lambda(X, y, lams, *, engine: str = "numpy", tol: float = 1e-6,
                         max_iter: int = 10_000) -> tuple[np.ndarray, np.ndarray]:
    r"""Lasso fits (scikit-learn's ``Lasso`` cost) for each ``lam`` in ``lams``, warm-started.

    The fits run from the largest λ down, each starting at the previous solution (what makes a
    path fast: the next solution is close). ``engine="numpy"`` uses the course's own
    :func:`helpers.lasso_fit` (the lesson's code); ``"sklearn"`` the same objective in
    scikit-learn's compiled coordinate descent, for collinear designs that need many thousands
    of sweeps (lesson 02's polynomial features); tests check both agree. Returns
    ``(coefs, intercepts)`` aligned with ``lams`` (any order): ``coefs`` has one *row per λ*,
    shape ``(len(lams), n_features)`` (scikit-learn's ``lasso_path`` returns the transpose), with
    exact zeros. ``engine="sklearn"`` needs every λ > 0 (``Lasso`` does not handle ``alpha=0``).
    """
    lams = _check_lams(lams)
    X, y = check_xy(X, y)
    engine = check_choice(engine, "engine", LASSO_ENGINES)
    tol = check_scalar(tol, "tol", strict=True)
    max_iter = check_iterations(max_iter, "max_iter")
    if engine == "sklearn" and np.any(lams == 0):
        raise ValueError("lams must be > 0 with engine='sklearn' (scikit-learn's Lasso does not "
                         "handle alpha=0); use engine='numpy'")
    coefs, intercepts = np.empty((lams.size, X.shape[1])), np.empty(lams.size)
    if engine == "sklearn":
        from sklearn.linear_model import Lasso

        model = Lasso(alpha=1.0, warm_start=True, tol=tol, max_iter=max_iter, selection="cyclic")
    coef = None
    for i in np.argsort(lams, kind="stable")[::-1]:
        if engine == "sklearn":
            model.set_params(alpha=float(lams[i])).fit(X, y)
            coef, intercept = model.coef_.copy(), float(model.intercept_)
        else:
            coef, intercept = lasso_fit(X, y, float(lams[i]), tol=tol, max_iter=max_iter, coef_init=coef)
        coefs[i], intercepts[i] = coef, intercept
    coefs[coefs == 0.0] = 0.0  # normalize -0.0
    return coefs, intercepts


def entry_order(lams, path) -> list[tuple[int, float]]:
    r"""The order in which the lasso admits features as :math:`\lambda` decreases.

    For each feature that is nonzero somewhere on ``path`` (shape ``(len(lams), p)``), the
    largest ``lam`` at which it is nonzero. Returns ``[(feature, lam_enter), ...]`` sorted from
    the first feature admitted to the last (ties broken by feature index).
    """
    lams = _check_lams(lams)
    path = check_array(path, "path", ndim=2)
    if path.shape[0] != lams.size:
        raise ValueError(f"path must have one row per lam: {path.shape[0]} != {lams.size}")
    entries = []
    for j in range(path.shape[1]):
        active = path[:, j] != 0
        if active.any():
            entries.append((j, float(lams[active].max())))
    return sorted(entries, key=lambda e: (-e[1], e[0]))


def selection_scores(coef, true_coef) -> tuple[float, float]:
    r"""Precision and recall of the selected set :math:`\{j: w_j \ne 0\}` against the true support.

    precision = (true features selected) / (features selected), recall = (true features
    selected) / (true features). Precision is ``nan`` when nothing is selected; recall is
    ``nan`` when the truth has no nonzero.
    """
    coef, true_coef = check_pair(coef, true_coef, "coef", "true_coef", ndim=1)
    return _selection_scores(coef, true_coef)


def _selection_scores(coef, true_coef) -> tuple[float, float]:
    selected, truth = coef != 0, true_coef != 0
    hits = int(np.sum(selected & truth))
    precision = hits / selected.sum() if selected.any() else float("nan")
    recall = hits / truth.sum() if truth.any() else float("nan")
    return float(precision), float(recall)


def selection_path(path, true_coef) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`selection_scores` along a path: arrays ``(precision, recall, n_selected)``."""
    path = check_array(path, "path", ndim=2)
    true_coef = check_array(true_coef, "true_coef", ndim=1)
    if true_coef.size != path.shape[1]:
        raise ValueError(f"true_coef must have one entry per column of path: {true_coef.size} != "
                         f"{path.shape[1]}")
    scores = np.array([_selection_scores(row, true_coef) for row in path])
    return scores[:, 0], scores[:, 1], (path != 0).sum(axis=1)


# --------------------------------------------------------------------------------------------
# Exact zeros versus near zeros: subgradient and proximal (ISTA) descent
# --------------------------------------------------------------------------------------------

@finite_result("X", "y", "coef", "intercept", "lam", action="compute the cost", hint=STANDARDIZE)
def lasso_cost(X, y, coef, intercept: float, lam: float) -> float:
    r"""The lasso cost :math:`\frac{1}{2n}\|y - Xw - b\|^2 + \lambda\|w\|_1` (``Lasso(alpha=lam)``)."""
    X, y = check_xy(X, y)
    coef = check_array(coef, "coef", ndim=1)
    if coef.shape != (X.shape[1],):
        raise ValueError(f"coef must have one entry per column of X: {coef.size} != {X.shape[1]}")
    intercept = check_scalar(intercept, "intercept", min_value=None)
    lam = check_scalar(lam, "lam")
    resid = y - X @ coef - intercept
    return float(resid @ resid / (2 * X.shape[0])) + l1_penalty(coef, lam)


@finite_result("X", action="compute the step size", hint=STANDARDIZE)
def lasso_step_size(X) -> float:
    r"""The step size :math:`\eta = 1/L` of gradient descent on :math:`\frac{1}{2n}\|y - Xw\|^2`.

    :math:`L` is the largest eigenvalue of :math:`X^\top X/n` (the Lipschitz constant of that
    gradient); with :math:`\eta = 1/L`, ISTA never increases the lasso cost. The formula is
    applied to ``X`` as given: :func:`ista_lasso` and :func:`subgradient_lasso` pass the centred
    :math:`X_c = X - \bar x` (they fit an intercept), so their default is :math:`1/L` with
    :math:`L` the largest eigenvalue of :math:`X_c^\top X_c/n`; assignment 04
    (``04_l1_vs_l2_assignment.ipynb``, no intercept) calls it on its ``X`` for Task 04.2 and its check.
    """
    X = check_array(X, "X", ndim=2)
    lipschitz = np.linalg.eigvalsh(X.T @ X / X.shape[0]).max()
    if not lipschitz > 0:
        raise ValueError("X must not be all zeros (after centring, in ista_lasso and subgradient_lasso): "
                         "the largest eigenvalue of XᵀX/n is 0, so there is no step 1/L")
    return float(1.0 / lipschitz)


def _prepare_descent(X, y, lam, lr, n_iter):
    Xc, yc, x_mean, y_mean = _center(*check_xy(X, y), True)
    lam = check_scalar(lam, "lam")
    n_iter = check_iterations(n_iter, "n_iter")
    lr = lasso_step_size(Xc) if lr is None else check_scalar(lr, "lr", strict=True)
    return Xc, yc, x_mean, y_mean, lam, lr, n_iter


@finite_result("X", "y", "lam", "lr", action="fit", hint="lower lr, or " + STANDARDIZE)
def subgradient_lasso(X, y, lam: float, lr: float | None = None,
                      n_iter: int = 2000) -> tuple[np.ndarray, float]:
    r"""Plain (sub)gradient descent on the lasso cost, as an autodiff framework would do it.

    .. math:: w \leftarrow w - \eta\left(-\tfrac1n X^\top(y - Xw) + \lambda\,\mathrm{sign}(w)\right)

    on centred data (the intercept is then :math:`\bar y - \bar x^\top w`, unpenalized). The
    step almost never lands exactly on 0, so weights that belong at 0 end up oscillating around
    it with size about :math:`\eta\lambda`: small, but not zero. ``lr`` defaults to
    :math:`1/L`, :math:`L` the largest eigenvalue of :math:`X_c^\top X_c/n`. Starts at 0.
    """
    Xc, yc, x_mean, y_mean, lam, lr, n_iter = _prepare_descent(X, y, lam, lr, n_iter)
    n = Xc.shape[0]
    coef = np.zeros(Xc.shape[1])
    for _ in range(n_iter):
        grad = -Xc.T @ (yc - Xc @ coef) / n + lam * np.sign(coef)
        coef = coef - lr * grad
    return coef, float(y_mean - x_mean @ coef)


@finite_result("X", "y", "lam", "lr", action="fit", hint="lower lr, or " + STANDARDIZE)
def ista_lasso(X, y, lam: float, lr: float | None = None,
               n_iter: int = 2000) -> tuple[np.ndarray, float]:
    r"""Proximal gradient descent (ISTA) on the lasso cost: a gradient step on the data term,
    then soft-thresholding, the proximal operator of :math:`\eta\lambda\|w\|_1`:

    .. math:: w \leftarrow S_{\eta\lambda}\!\left(w + \tfrac{\eta}{n} X^\top (y - Xw)\right)

    Every weight whose gradient step lands in :math:`[-\eta\lambda, \eta\lambda]` is set to
    exactly 0. ``lr`` defaults to :math:`1/L` (which guarantees the cost never increases).
    Centred data, unpenalized intercept; starts at 0.
    """
    Xc, yc, x_mean, y_mean, lam, lr, n_iter = _prepare_descent(X, y, lam, lr, n_iter)
    n = Xc.shape[0]
    coef = np.zeros(Xc.shape[1])
    for _ in range(n_iter):
        coef = _soft_threshold(coef + lr * Xc.T @ (yc - Xc @ coef) / n, lr * lam)
    coef[coef == 0.0] = 0.0  # normalize -0.0
    return coef, float(y_mean - x_mean @ coef)


def count_zeros(w, tol: float = 1e-3) -> tuple[int, int]:
    """``(number of weights exactly 0, number with |w| < tol)`` over one array or a list of arrays."""
    tol = check_scalar(tol, "tol", strict=True)
    if isinstance(w, (list, tuple)) and w and np.ndim(w[0]) > 0:
        w = np.concatenate([np.ravel(check_array(a, f"w[{i}]")) for i, a in enumerate(w)])
    w = np.ravel(check_array(w, "w"))
    return int(np.sum(w == 0)), int(np.sum(np.abs(w) < tol))


# --------------------------------------------------------------------------------------------
# Elastic net and scaling
# --------------------------------------------------------------------------------------------

@finite_result("X", "y", "lam", "coef_init", action="fit", hint=STANDARDIZE)
def elastic_net_fit(X, y, lam: float, l1_ratio: float = 0.5, *, tol: float = 1e-8,
                    max_iter: int = 10_000, coef_init=None) -> tuple[np.ndarray, float]:
    r"""Elastic net by coordinate descent; scikit-learn's ``ElasticNet(alpha=lam, l1_ratio=rho)``:

    .. math:: \frac{1}{2n}\|y - Xw - b\|^2 + \lambda\rho\|w\|_1 + \frac{\lambda(1-\rho)}{2}\|w\|^2

    Each coordinate update is :math:`w_j = S_{\lambda\rho}(z_j) / (G_{jj} + \lambda(1-\rho))`,
    so exact zeros survive from the L1 part while the L2 part spreads weight over correlated
    features. ``l1_ratio=1`` is the lasso, ``0`` is ridge with penalty :math:`n\lambda` in
    ``Ridge``'s convention. Intercept unpenalized. Solved by
    :func:`helpers.linear.coordinate_descent` (the lasso's solver), which stops on the optimality
    conditions at ``tol``. Returns ``(coef, intercept)``.
    """
    lam = check_scalar(lam, "lam")
    rho = check_scalar(l1_ratio, "l1_ratio", max_value=1.0)
    return coordinate_descent(X, y, lam * rho, lam * (1 - rho), tol=tol, max_iter=max_iter,
                              coef_init=coef_init, caller="elastic_net_fit")


@finite_result("X_train", "others", action="standardize")
def standardize(X_train, *others) -> list[np.ndarray]:
    r"""Scale every column to mean 0 and standard deviation 1 using the *training* statistics.

    Returns ``[X_train_std, *others_std]``; constant columns are left centred (divided by 1).
    Fit the scaling on the training set only, then apply it to validation/test sets.
    """
    X_train = check_array(X_train, "X_train", ndim=2)
    mean, scale = X_train.mean(axis=0), X_train.std(axis=0)
    scale = np.where(scale == 0, 1.0, scale)
    out = [(X_train - mean) / scale]
    for i, X in enumerate(others):
        X = check_array(X, f"others[{i}]", ndim=2)
        if X.shape[1] != X_train.shape[1]:
            raise ValueError(f"others[{i}] must have {X_train.shape[1]} columns, got {X.shape[1]}")
        out.append((X - mean) / scale)
    return out
