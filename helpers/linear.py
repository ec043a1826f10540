"""Linear models fitted from scratch: ridge (closed form) and lasso (coordinate descent).

Both follow scikit-learn's objectives so they can be cross-checked against ``Ridge`` and
``Lasso``; the intercept is never penalized. Introduced in notebooks 02 and 04; notebook 07 adds
the ridge path along λ (down to the minimum-norm solution at λ = 0).
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from helpers._counts import check_int, check_iterations, check_size
from helpers._validate import check_array, check_bool, check_pair, check_scalar, check_xy, finite_result
from helpers.penalties import _soft_threshold

__all__ = ["ConvergenceWarning", "center", "coordinate_descent", "lasso_fit", "lasso_kkt_violation",
           "mse", "polynomial_features", "ridge_fit", "ridge_path_by_lambda",
           "ridge_prediction_matrix"]


STANDARDIZE = "standardize the features (helpers.sparsity.standardize) or rescale {name}"


@finite_result("X", "y", action="centre", hint=STANDARDIZE)
def center(X, y, fit_intercept: bool = True):
    r"""Centred data for a model whose intercept is not penalized: ``(Xc, yc, x_mean, y_mean)``.

    With an unpenalized intercept :math:`b`, minimizing over :math:`b` first gives
    :math:`b = \bar y - \bar x^\top w`, and what is left is the same problem for :math:`w` on
    :math:`X_c = X - \bar x`, :math:`y_c = y - \bar y`. ``fit_intercept=False`` returns the data
    unchanged (and zero means). The one place the course centres data.
    """
    X, y = check_xy(X, y)
    return _center(X, y, check_bool(fit_intercept, "fit_intercept"))


def _center(X, y, fit_intercept: bool):
    """:func:`center` on checked input (the fitting functions call it)."""
    if fit_intercept:
        x_mean, y_mean = X.mean(axis=0), float(y.mean())
        return X - x_mean, y - y_mean, x_mean, y_mean
    return X, y, np.zeros(X.shape[1]), 0.0


def _kkt_violation(grad, coef, l1: float, l2: float = 0.0) -> np.ndarray:
    r"""Per-coordinate violation of the optimality conditions of
    :math:`\frac{1}{2n}\|y - Xw\|^2 + l_1\|w\|_1 + \frac{l_2}{2}\|w\|^2`, with
    :math:`g = X^\top (y - Xw)/n`: :math:`|g_j - l_2 w_j - l_1\mathrm{sign}(w_j)|` where
    :math:`w_j \ne 0`, :math:`\max(|g_j| - l_1, 0)` where :math:`w_j = 0`."""
    return np.where(coef != 0, np.abs(grad - l2 * coef - l1 * np.sign(coef)),
                    np.maximum(np.abs(grad) - l1, 0.0))


@finite_result("X", "y", "lam", action="fit", hint=STANDARDIZE)
def ridge_fit(X, y, lam: float, fit_intercept: bool = True) -> tuple[np.ndarray, float]:
    r"""Ridge regression: minimize :math:`\|y - Xw - b\|^2 + \lambda\|w\|^2`.

    scikit-learn's ``Ridge(alpha=lam)`` objective: a *sum* (not a mean) of squared errors, and
    the intercept :math:`b` is not penalized. Solved in closed form,
    :math:`w = (X_c^\top X_c + \lambda I)^{-1} X_c^\top y_c` on centred data; with
    ``lam == 0`` the minimum-norm least-squares solution. Returns ``(coef, intercept)``.
    Introduced in notebook 02.
    """
    X, y = check_xy(X, y)
    lam = check_scalar(lam, "lam")
    fit_intercept = check_bool(fit_intercept, "fit_intercept")
    Xc, yc, x_mean, y_mean = _center(X, y, fit_intercept)
    if lam == 0.0:
        coef = np.linalg.lstsq(Xc, yc, rcond=None)[0]
    else:
        p = X.shape[1]
        coef = np.linalg.solve(Xc.T @ Xc + lam * np.eye(p), Xc.T @ yc)
    intercept = float(y_mean - x_mean @ coef) if fit_intercept else 0.0
    return coef, intercept


def _check_lams(lams) -> np.ndarray:
    """A 1-D array of penalty strengths, each >= 0."""
    lams = check_array(lams, "lams", ndim=1)
    if np.any(lams < 0):
        raise ValueError("lams must be >= 0")
    return lams


def _ridge_gains(Xc, lams):
    r"""SVD of centred data and the ridge gains: ``(U, gains, Vt)`` with ``gains[i] = s/(s²+λ_i)``.

    At λ = 0 the gain is :math:`1/s`, and 0 for singular values at or below ``np.linalg.lstsq``'s
    cutoff :math:`\varepsilon\max(n, p)\,s_{\max}` (they count as 0): the minimum-norm solution.
    ``lams`` is checked (:func:`_check_lams`).
    """
    U, s, Vt = np.linalg.svd(Xc, full_matrices=False)
    kept = s > np.finfo(float).eps * max(Xc.shape) * (s[0] if s.size else 0.0)
    s_safe = np.where(kept, s, 1.0)
    lam = lams[:, None]
    gains = np.where(lam == 0.0, np.where(kept, 1.0 / s_safe, 0.0), s_safe / (s_safe**2 + lam))
    return U, np.where(kept, gains, 0.0), Vt


@finite_result("X", "y", "lams", action="fit", hint=STANDARDIZE)
def ridge_path_by_lambda(X, y, lams, fit_intercept: bool = True) -> tuple[np.ndarray, np.ndarray]:
    r"""Ridge fits (the cost of :func:`ridge_fit`) for every λ in ``lams`` from one SVD.

    Minimizes :math:`\|y - Xw - b\|^2 + \lambda\|w\|^2` (a *sum* of squared errors; the intercept
    is not penalized, and with ``fit_intercept=False`` there is none, so every weight is
    penalized). With the SVD :math:`X_c = U\,\mathrm{diag}(s)\,V^\top` of the centred data,
    :math:`w(\lambda) = V\,\mathrm{diag}\bigl(s/(s^2+\lambda)\bigr)\,U^\top y_c`; at ``λ = 0`` this is
    the minimum-norm least-squares solution :math:`X_c^+ y_c` with ``np.linalg.lstsq``'s cutoff
    (singular values at or below :math:`\varepsilon\max(n, p)\,s_{\max}` count as 0), the limit of
    :math:`w(\lambda)` as λ → 0. Returns ``(coefs, intercepts)`` aligned with ``lams``: one *row
    per λ*, shape ``(len(lams), n_features)`` (scikit-learn's path functions return the transpose,
    one column per α). Notebooks 04 (the ridge path) and 07 (double descent).
    """
    X, y = check_xy(X, y)
    lams = _check_lams(lams)
    fit_intercept = check_bool(fit_intercept, "fit_intercept")
    check_size(lams.size * X.shape[1], "lams")
    Xc, yc, x_mean, y_mean = _center(X, y, fit_intercept)
    U, gains, Vt = _ridge_gains(Xc, lams)
    coefs = (gains * (U.T @ yc)) @ Vt
    intercepts = y_mean - coefs @ x_mean if fit_intercept else np.zeros(len(coefs))
    return coefs, intercepts


@finite_result("X", "X_new", "lam", action="fit", hint=STANDARDIZE)
def ridge_prediction_matrix(X, X_new, lam: float, fit_intercept: bool = True) -> np.ndarray:
    r"""The matrix :math:`H` with ``H @ y`` = the predictions at ``X_new`` of :func:`ridge_fit` on ``(X, y)``.

    Ridge is linear in the targets (a *linear smoother*): for every ``y``,
    :math:`\hat y(X_{new}) = H y` with
    :math:`H = \tfrac{1}{n}\mathbf 1\mathbf 1^\top + (X_{new} - \bar x)\,V D U^\top`,
    :math:`D = \mathrm{diag}\bigl(s/(s^2+\lambda)\bigr)`
    (the first term only with an intercept; SVD of the centred :math:`X_c`; at λ = 0 the
    minimum-norm least-squares fit, as :func:`ridge_path_by_lambda`). Shape
    ``(len(X_new), len(X))``. Notebook 07 draws hundreds of training sets at the same inputs:
    one product per set instead of one fit.
    """
    X = check_array(X, "X", ndim=2)
    X_new = check_array(X_new, "X_new", ndim=2)
    if X_new.shape[1] != X.shape[1]:
        raise ValueError(f"X_new must have {X.shape[1]} columns like X, got {X_new.shape[1]}")
    lam = check_scalar(lam, "lam")
    fit_intercept = check_bool(fit_intercept, "fit_intercept")
    check_size(X_new.shape[0] * X.shape[0], "X_new")
    n = X.shape[0]
    x_mean = X.mean(axis=0) if fit_intercept else np.zeros(X.shape[1])
    U, gains, Vt = _ridge_gains(X - x_mean, np.array([lam]))
    H = ((X_new - x_mean) @ Vt.T * gains[0]) @ U.T
    return H + 1.0 / n if fit_intercept else H


@finite_result("X", "y", "coef", "intercept", action="compute the optimality conditions",
               hint=STANDARDIZE)
def lasso_kkt_violation(X, y, coef, intercept, lam) -> float:
    r"""Largest violation of the lasso optimality (KKT) conditions, 0 at the exact minimizer.

    With :math:`g_j = x_j^\top (y - Xw - b)/n`: :math:`g_j = \lambda\,\mathrm{sign}(w_j)` where
    :math:`w_j \ne 0` and :math:`|g_j| \le \lambda` where :math:`w_j = 0`.
    """
    X, y = check_xy(X, y)
    coef = check_array(coef, "coef", ndim=1)
    if coef.shape != (X.shape[1],):
        raise ValueError(f"coef must have one entry per column of X: {coef.size} != {X.shape[1]}")
    intercept = check_scalar(intercept, "intercept", min_value=None)
    lam = check_scalar(lam, "lam")
    grad = X.T @ (y - X @ coef - intercept) / X.shape[0]
    return float(_kkt_violation(grad, coef, lam).max(initial=0.0))


@finite_result("X", "y", "lam", "coef_init", action="fit", hint=STANDARDIZE)
def lasso_fit(X, y, lam: float, fit_intercept: bool = True, *, tol: float = 1e-8,
              max_iter: int = 10_000, coef_init=None) -> tuple[np.ndarray, float]:
    r"""Lasso: minimize :math:`\frac{1}{2n}\|y - Xw - b\|^2 + \lambda\|w\|_1` by coordinate descent.

    scikit-learn's ``Lasso(alpha=lam)`` objective; the intercept is not penalized. Each
    coordinate update is an exact soft-thresholding step, so coefficients that belong at 0 are
    exactly 0.0 (not merely small). Iterates until the largest violation of the optimality
    conditions (:func:`lasso_kkt_violation`) is at most ``tol`` times
    :math:`\max(1, \|y_c\|_\infty)`; warns with :class:`ConvergenceWarning` if ``max_iter``
    sweeps are not enough. ``coef_init`` warm-starts the descent (useful along a path of
    ``lam`` values). Returns ``(coef, intercept)``. Coordinate descent slows down when
    nonzero coefficients belong to nearly collinear features (each sweep then moves them only a
    little); a looser ``tol`` (1e-6) keeps such fits fast. Introduced in notebook 04.
    """
    lam = check_scalar(lam, "lam")
    return coordinate_descent(X, y, lam, 0.0, fit_intercept, tol=tol, max_iter=max_iter,
                              coef_init=coef_init, caller="lasso_fit")


@finite_result("X", "y", "l1", "l2", "coef_init", action="fit", hint=STANDARDIZE)
def coordinate_descent(X, y, l1: float, l2: float, fit_intercept: bool = True, *, tol: float = 1e-8,
                       max_iter: int = 10_000, coef_init=None, caller: str = "coordinate_descent"):
    r"""Minimize :math:`\frac{1}{2n}\|y - Xw - b\|^2 + l_1\|w\|_1 + \frac{l_2}{2}\|w\|^2`.

    The shared solver behind :func:`lasso_fit` (``l2 = 0``) and
    :func:`helpers.sparsity.elastic_net_fit`. Coordinate update
    :math:`w_j = S_{l_1}(z_j) / (G_{jj} + l_2)` with :math:`G = X_c^\top X_c / n`; stops when the
    largest violation of the optimality conditions, :math:`|g_j - l_2 w_j - l_1\mathrm{sign}(w_j)|`
    for :math:`w_j \ne 0` and :math:`\max(|g_j| - l_1, 0)` for :math:`w_j = 0` (with
    :math:`g = X_c^\top r / n`), is at most ``tol`` times :math:`\max(1, \|y_c\|_\infty)`.
    Returns ``(coef, intercept)``.
    """
    X, y = check_xy(X, y)
    l1 = check_scalar(l1, "l1")
    l2 = check_scalar(l2, "l2")
    fit_intercept = check_bool(fit_intercept, "fit_intercept")
    tol = check_scalar(tol, "tol", strict=True)
    max_iter = check_iterations(max_iter, "max_iter")
    if not isinstance(caller, str):
        raise ValueError(f"caller must be a function's name, got {caller!r}")
    n, p = X.shape
    Xc, yc, x_mean, y_mean = _center(X, y, fit_intercept)
    gram = Xc.T @ Xc / n
    corr = Xc.T @ yc / n
    diag = np.diag(gram).copy()
    if coef_init is None:
        coef = np.zeros(p)
    else:
        coef = check_array(coef_init, "coef_init", ndim=1).copy()
        if coef.shape != (p,):
            raise ValueError(f"coef_init must have shape ({p},), got {coef.shape}")
    threshold = tol * max(1.0, float(np.abs(yc).max()))
    # grad = corr - gram @ coef (the data part of -dC/dw) is kept up to date after every change.
    grad = corr - gram @ coef
    for _sweep in range(max_iter):
        for j in range(p):
            if diag[j] + l2 == 0.0:
                coef[j] = 0.0
                continue
            old = coef[j]
            new = float(_soft_threshold(grad[j] + diag[j] * old, l1)) / (diag[j] + l2)
            if new != old:
                grad -= gram[:, j] * (new - old)
                coef[j] = new
        viol = _kkt_violation(grad, coef, l1, l2)
        viol[diag + l2 == 0.0] = 0.0
        if viol.max(initial=0.0) <= threshold:
            break
    else:
        warnings.warn(
            f"{caller} stopped after max_iter={max_iter} sweeps before the optimality "
            f"conditions met tol={tol:g}; raise max_iter or standardize X",
            ConvergenceWarning, stacklevel=3)
    coef[coef == 0.0] = 0.0  # normalize -0.0
    intercept = float(y_mean - x_mean @ coef) if fit_intercept else 0.0
    return coef, intercept


@finite_result("x", action="raise to the power degree", hint="rescale x to about [-1, 1] or lower degree")
def polynomial_features(x, degree: int) -> np.ndarray:
    """Columns ``x, x**2, ..., x**degree`` of a 1-D input (no constant column). Notebook 01.

    ``degree`` is a whole number >= 1, and the result (``len(x) * degree`` numbers) is bounded.
    """
    x = check_array(x, "x", ndim=1)
    degree = check_int(degree, "degree", min_value=1)
    check_size(x.size * degree, "degree")
    return np.vander(x, degree + 1, increasing=True)[:, 1:]


@finite_result("y_true", "y_pred", action="square the errors")
def mse(y_true, y_pred) -> float:
    """Mean squared error :math:`\\frac{1}{n}\\sum (y - \\hat y)^2`."""
    y_true, y_pred = check_pair(y_true, y_pred, "y_true", "y_pred", ndim=1)
    return float(np.mean((y_true - y_pred) ** 2))
