"""Weight decay made executable: the penalized cost, its gradient, the decay curve, the L2
conventions side by side, and Adam with an L2 penalty versus AdamW. Introduced in notebook 03.

Conventions. The *course* cost is the article's (and Nielsen's)

.. math:: C(w, b) = L_0(w, b) + \\frac{\\lambda}{2n}\\sum_i w_i^2,
    \\qquad L_0 = \\frac{1}{n}\\sum_{k=1}^n (x_k^\\top w + b - y_k)^2,

i.e. the data loss is the mean squared error over the ``n`` examples (what Keras's ``"mse"``
loss computes on a batch of ``n``) and the bias ``b`` is not penalized. For the Adam functions
the strength is given as ``weight_decay`` (the coefficient in front of ``w`` in the update);
as an L2 penalty that is :math:`\\frac{\\text{weight\\_decay}}{2}\\sum w^2`, Keras's
``l2(weight_decay / 2)``.

Everything here is NumPy only; the Keras counterparts live in :mod:`helpers.keras_decay`.
"""

from __future__ import annotations

import math

import numpy as np

from helpers._counts import check_int, check_iterations, check_size
from helpers._validate import check_array, check_choice, check_same_shape, check_scalar, check_xy, finite_result
from helpers.penalties import _decay_shrink, l2_grad

ADAM_MODES = ("none", "l2", "decoupled")


def _check_linear(X, y, w, b, w_name="w"):
    X, y = check_xy(X, y)
    w = check_array(w, w_name, ndim=1)
    if len(w) != X.shape[1]:
        raise ValueError(f"{w_name} must have one entry per column of X: {len(w)} != {X.shape[1]}")
    b = check_scalar(b, "b", min_value=None)
    return X, y, w, b


_LINEAR = ("X", "y", "w", "b")


@finite_result(*_LINEAR, action="compute the loss")
def linear_mse(X, y, w, b: float = 0.0) -> float:
    r"""Data loss :math:`L_0 = \frac1n\sum_k (x_k^\top w + b - y_k)^2` (Keras's ``"mse"``)."""
    X, y, w, b = _check_linear(X, y, w, b)
    return float(np.mean((X @ w + b - y) ** 2))


@finite_result(*_LINEAR, action="compute the gradient")
def linear_mse_grad(X, y, w, b: float = 0.0) -> tuple[np.ndarray, float]:
    r"""Gradient of :func:`linear_mse`: :math:`\frac2n X^\top r` and :math:`\frac2n\sum_k r_k`
    with residuals :math:`r = Xw + b - y`. Returns ``(grad_w, grad_b)``."""
    X, y, w, b = _check_linear(X, y, w, b)
    r = X @ w + b - y
    n = len(y)
    return 2.0 / n * (X.T @ r), float(2.0 / n * r.sum())


@finite_result(*_LINEAR, "lam", action="compute the cost")
def mse_plus_l2_over_2n(X, y, w, b: float, lam: float) -> float:
    r"""The article's (and Nielsen's) cost :math:`C = L_0 + \frac{\lambda}{2n}\sum_i w_i^2`, with
    :math:`L_0` the mean squared error of :func:`linear_mse` (bias not penalized)."""
    lam = check_scalar(lam, "lam")
    X, y, w, b = _check_linear(X, y, w, b)
    return linear_mse(X, y, w, b) + lam / (2 * len(y)) * float(np.sum(w**2))


@finite_result(*_LINEAR, "lam", action="compute the gradient")
def mse_plus_l2_over_2n_grad(X, y, w, b: float, lam: float) -> tuple[np.ndarray, float]:
    r"""Gradient of :func:`mse_plus_l2_over_2n`: :math:`\partial L_0/\partial w + \frac{\lambda}{n} w`
    for the weights (the penalty's part is :func:`helpers.l2_grad` with strength
    :math:`\lambda/(2n)`) and :math:`\partial L_0/\partial b` for the bias.
    Returns ``(grad_w, grad_b)``."""
    lam = check_scalar(lam, "lam")
    X, y, w, b = _check_linear(X, y, w, b)
    grad_w, grad_b = linear_mse_grad(X, y, w, b)
    return grad_w + l2_grad(w, lam / (2 * len(y))), grad_b


@finite_result("w", "eps", action="take differences", hint="rescale {name}, or check what f returns")
def finite_difference_grad(f, w, eps: float = 1e-6) -> np.ndarray:
    r"""Central-difference gradient :math:`\frac{f(w + \epsilon e_i) - f(w - \epsilon e_i)}{2\epsilon}`.

    ``f`` maps a 1-D float array to a real number. The error is :math:`O(\epsilon^2)` plus rounding
    of order :math:`10^{-16}/\epsilon`; ``eps=1e-6`` gives about 1e-9 on well-scaled problems.
    """
    if not callable(f):
        raise ValueError(f"f must be callable, got {f!r}")
    w = check_array(w, "w", ndim=1)
    eps = check_scalar(eps, "eps", strict=True)

    def value(at):
        return check_scalar(f(at), "f(w)", min_value=None)

    grad = np.empty_like(w)
    for i in range(len(w)):
        step = np.zeros_like(w)
        step[i] = eps
        grad[i] = (value(w + step) - value(w - step)) / (2 * eps)
    return grad


def decay_curve(w0, lr: float, lam: float, n: int, steps: int) -> np.ndarray:
    r"""Weights under weight decay alone (no data gradient): :math:`w_t = w_0 (1 - \eta\lambda/n)^t`.

    Returns an array of shape ``(steps + 1,) + np.shape(w0)`` for :math:`t = 0, \dots,` ``steps``:
    a geometric sequence, the same as applying :func:`helpers.weight_decay_step` with a zero
    gradient ``steps`` times. ``n`` is a count and :math:`\eta\lambda/n < 1`, so the factor
    :math:`1 - \eta\lambda/n` is in (0, 1] (the rule of :func:`helpers.weight_decay_step`).
    """
    w0 = check_array(w0, "w0")
    shrink = _decay_shrink(lr, lam, n)
    steps = check_int(steps, "steps")
    check_size((steps + 1) * w0.size, "steps")
    t = np.arange(steps + 1).reshape((-1,) + (1,) * w0.ndim)
    return w0 * (1.0 - shrink) ** t


def decay_half_life(lr: float, lam: float, n: int) -> float:
    r"""Steps for weight decay alone to halve a weight: :math:`\ln 2 / (-\ln(1 - \eta\lambda/n))`.

    For a small factor :math:`\eta\lambda/n` this is close to :math:`\ln 2\,n / (\eta\lambda)`.
    Returns ``inf`` when ``lr * lam == 0`` (nothing decays); the same rule for ``lr``, ``lam``
    and ``n`` as :func:`decay_curve`.
    """
    shrink = _decay_shrink(lr, lam, n)
    if shrink == 0.0:
        return math.inf
    half_life = math.log(2.0) / -math.log1p(-shrink)
    if not math.isfinite(half_life):
        raise ValueError(f"lr * lam / n = {shrink:g} is too small for a half-life within float64; "
                         "raise lr or lam")
    return half_life


def l2_equivalents(lam: float, n: int) -> dict[str, float]:
    r"""The course's :math:`\lambda` written in the other common L2 conventions.

    Each value gives the same plain-SGD update :math:`w \leftarrow (1 - \eta\lambda/n)w -
    \eta\,\partial L_0/\partial w` when the data loss :math:`L_0` is the mean over ``n``
    examples:

    - ``"course"``: :math:`\frac{\lambda}{2n}\sum w^2` (Nielsen's book, the article): ``lam``
    - ``"d2l"``: :math:`\frac{\lambda'}{2}\|w\|^2` (Dive into Deep Learning) added to *the
      course's* data loss: ``lam / n`` (the same step)
    - ``"d2l_own_loss"``: the same penalty added to D2L's own loss, the mean of
      :math:`\frac12(\hat y - y)^2`, which is half the course's mean squared error: ``lam / (2 n)``
      gives the same *minimizer* (``lam / n`` would give the same shrink factor but halve the
      data step, so neither the same update nor the same minimizer)
    - ``"keras_l2"``: Keras ``l2(c)`` = :math:`c\sum w^2`: ``lam / (2 n)``
    - ``"weight_decay"``: an optimizer's decoupled ``weight_decay`` applied as
      :math:`w \leftarrow w - \eta\,\mathrm{wd}\,w` (Keras 3 optimizers): ``lam / n``
    - ``"sklearn_ridge"``: scikit-learn's ``Ridge(alpha)``, :math:`\sum_k r_k^2 + \alpha\|w\|^2`
      (a sum, not a mean; also :func:`helpers.ridge_fit`): ``lam / 2``. This one is ``n`` times
      the course cost, so it has the same *minimizer*, not the same gradient step.
    - ``"sklearn_C"``: scikit-learn's ``LogisticRegression(C)`` (L2), :math:`\frac12\|w\|^2 +
      C\sum_k \ell_k` with :math:`L_0` the mean log-loss: ``1 / lam`` (divide by :math:`nC`;
      the same minimizer). A larger ``C`` is a weaker penalty.
    """
    lam = check_scalar(lam, "lam")
    n = check_int(n, "n", min_value=1)
    if lam == 0:
        raise ValueError("lam must be > 0: scikit-learn's C = 1/lam would be infinite")
    return {"course": lam, "d2l": lam / n, "d2l_own_loss": lam / (2 * n), "keras_l2": lam / (2 * n),
            "weight_decay": lam / n, "sklearn_ridge": lam / 2, "sklearn_C": 1 / lam}


def _check_adam(w, grad, m, v, t, lr, beta_1, beta_2, epsilon):
    w = check_array(w, "w")
    grad = check_array(grad, "grad")
    m = check_array(m, "m")
    v = check_array(v, "v")
    for arr, name in ((grad, "grad"), (m, "m"), (v, "v")):
        check_same_shape(w, arr, "w", name)
    if np.any(v < 0):
        raise ValueError("v must be >= 0 (a mean of squared gradients)")
    t = check_iterations(t, "t")
    lr = check_scalar(lr, "lr")
    betas = []
    for value, name in ((beta_1, "beta_1"), (beta_2, "beta_2")):
        value = check_scalar(value, name)
        if value >= 1.0:
            raise ValueError(f"{name} must be < 1, got {value!r}")
        betas.append(value)
    epsilon = check_scalar(epsilon, "epsilon")
    return w, grad, m, v, t, lr, betas[0], betas[1], epsilon


_ADAM = ("w", "grad", "m", "v", "lr", "epsilon")


@finite_result(*_ADAM, action="take the step")
def adam_update(w, grad, m, v, t: int, lr: float = 1e-3, beta_1: float = 0.9,
                beta_2: float = 0.999, epsilon: float = 1e-7):
    r"""One Adam step, written exactly as Keras 3 computes it. Returns ``(w, m, v)``.

    .. math::
        m \leftarrow \beta_1 m + (1-\beta_1) g,\quad v \leftarrow \beta_2 v + (1-\beta_2) g^2,\quad
        w \leftarrow w - \eta\,\frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t}\,\frac{m}{\sqrt{v} + \epsilon}

    with ``t`` counting from 1. (Keras puts :math:`\epsilon` on the un-corrected
    :math:`\sqrt v`, the "epsilon hat" of Kingma & Ba; the usual :math:`\hat m/(\sqrt{\hat v}+\epsilon)`
    differs only through :math:`\epsilon`.) Every step divides by :math:`\sqrt v`, so each
    coordinate moves by about :math:`\eta` whatever the size of its gradient.
    """
    return _adam_core(*_check_adam(w, grad, m, v, t, lr, beta_1, beta_2, epsilon))


def _adam_core(w, g, m, v, t, lr, beta_1, beta_2, epsilon):
    """Adam's arithmetic on already-checked inputs (the training loop calls this directly)."""
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g**2
    if epsilon == 0.0 and np.any(v == 0.0):
        raise ValueError("epsilon must be > 0 where v is 0 (m / sqrt(v) would be 0 / 0)")
    alpha = lr * math.sqrt(1 - beta_2**t) / (1 - beta_1**t)
    return w - alpha * m / (np.sqrt(v) + epsilon), m, v


def _check_decay_step(w, grad_loss, weight_decay):
    weight_decay = check_scalar(weight_decay, "weight_decay")
    w = check_array(w, "w")
    grad_loss = check_array(grad_loss, "grad_loss")
    check_same_shape(w, grad_loss, "w", "grad_loss")
    return w, grad_loss, weight_decay


@finite_result("w", "grad_loss", "m", "v", "lr", "weight_decay", action="take the step")
def adam_l2_update(w, grad_loss, m, v, t: int, lr: float, weight_decay: float, **adam_kwargs):
    r"""Adam on the penalized loss :math:`L_0 + \frac{\text{wd}}{2}\sum w^2` (Keras ``l2(wd/2)``).

    The penalty's gradient :math:`\text{wd}\,w` joins the data gradient *before* Adam's
    division by :math:`\sqrt v`, so it is rescaled coordinate by coordinate: the "L2" variant
    of Loshchilov & Hutter (2019). Returns ``(w, m, v)``.
    """
    w, grad_loss, weight_decay = _check_decay_step(w, grad_loss, weight_decay)
    return adam_update(w, grad_loss + weight_decay * w, m, v, t, lr, **adam_kwargs)


@finite_result("w", "grad_loss", "m", "v", "lr", "weight_decay", action="take the step")
def adamw_update(w, grad_loss, m, v, t: int, lr: float, weight_decay: float, **adam_kwargs):
    r"""AdamW: decoupled weight decay :math:`w \leftarrow w - \eta\,\text{wd}\,w`, then an Adam
    step on the data gradient alone (the order Keras 3 uses; the gradient is taken at the
    weights before the decay). The decay is never divided by :math:`\sqrt v`: every weight
    shrinks by the same factor :math:`1 - \eta\,\text{wd}` per step. Returns ``(w, m, v)``.
    """
    w, grad_loss, weight_decay = _check_decay_step(w, grad_loss, weight_decay)
    lr = check_scalar(lr, "lr")
    return adam_update(w - lr * weight_decay * w, grad_loss, m, v, t, lr, **adam_kwargs)


@finite_result("X", "y", "w0", "lr", "weight_decay", action="train", hint="lower lr, or rescale {name}")
def train_linear_adam(X, y, w0, steps: int, lr: float, weight_decay: float = 0.0,
                      mode: str = "decoupled", **adam_kwargs) -> np.ndarray:
    """Full-batch Adam on the linear model ``X @ w`` (no bias) with the MSE data loss.

    ``mode`` is ``"none"`` (no penalty), ``"l2"`` (:func:`adam_l2_update`) or ``"decoupled"``
    (:func:`adamw_update`). Returns the weights after every step, shape ``(steps + 1, d)``
    (row 0 is ``w0``). Deterministic: no data shuffling, no noise.
    """
    mode = check_choice(mode, "mode", ADAM_MODES)
    X, y, w, _ = _check_linear(X, y, w0, 0.0, w_name="w0")
    steps = check_iterations(steps, "steps", min_value=0)
    check_size((steps + 1) * w.size, "steps")
    weight_decay = check_scalar(weight_decay, "weight_decay")
    m, v = np.zeros_like(w), np.zeros_like(w)
    # Check the Adam settings once (same defaults as adam_update), then run the bare arithmetic.
    settings = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, **adam_kwargs}
    _, _, _, _, _, lr, beta_1, beta_2, epsilon = _check_adam(w, w, m, v, 1, lr, **settings)
    gram, xty = X.T @ X * (2.0 / len(y)), X.T @ y * (2.0 / len(y))
    out = np.empty((steps + 1, len(w)))
    out[0] = w
    for t in range(1, steps + 1):
        grad = gram @ w - xty  # = (2/n) X^T (X w - y)
        if mode == "l2":
            grad = grad + weight_decay * w
        elif mode == "decoupled":
            w = w - lr * weight_decay * w
        w, m, v = _adam_core(w, grad, m, v, t, lr, beta_1, beta_2, epsilon)
        out[t] = w
    return out
