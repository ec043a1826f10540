"""Penalties, their gradients and the update rules built from them.

Convention (the same as Keras's ``keras.regularizers.l1`` / ``l2``): the penalty is
``lam * sum(|w|)`` or ``lam * sum(w**2)``: no 1/2 and no 1/n. Where a formula uses the other
common convention, its docstring says so. Each docstring says where the course uses the function.
"""

from __future__ import annotations

import numpy as np

from helpers._counts import check_int
from helpers._validate import check_array, check_same_shape, check_scalar, check_weights, finite_result


@finite_result("weights", "lam", action="sum the penalty")
def l1_penalty(weights, lam: float) -> float:
    r"""L1 (lasso) penalty :math:`\lambda \sum_i |w_i|`, Keras's ``l1(lam)``.

    ``weights`` is one array or a list of arrays (e.g. the kernels of several layers); the sum
    runs over all of them. The L1 term of :func:`helpers.sparsity.lasso_cost` (notebook 04's
    lasso); tests check it against Keras's ``l1``.
    """
    lam = check_scalar(lam, "lam")
    return lam * float(sum(np.abs(w).sum() for w in check_weights(weights)))


@finite_result("weights", "lam", action="sum the penalty")
def l2_penalty(weights, lam: float) -> float:
    r"""L2 (ridge) penalty :math:`\lambda \sum_i w_i^2`, Keras's ``l2(lam)`` (no 1/2, no 1/n).

    ``weights`` is one array or a list of arrays. Notebook 02 prices the two fits of the
    two-students section with it (:math:`\|w\|^2` is ``l2_penalty(w, 1.0)``); notebook 03 checks its
    table of L2 conventions against it. Learners write it in task 02.1.
    """
    lam = check_scalar(lam, "lam")
    return lam * float(sum(np.square(w).sum() for w in check_weights(weights)))


def l1_grad(w, lam: float) -> np.ndarray:
    r"""A subgradient of :math:`\lambda \sum |w_i|`: :math:`\lambda\,\mathrm{sign}(w)`.

    At :math:`w_i = 0` it returns 0 (any value in :math:`[-\lambda, \lambda]` is a valid
    subgradient there). The step that :func:`helpers.sparsity.subgradient_lasso` follows
    (notebook 04: near-zeros, not zeros).
    """
    lam = check_scalar(lam, "lam")
    return lam * np.sign(check_array(w, "w"))


@finite_result("w", "lam", action="compute the gradient")
def l2_grad(w, lam: float) -> np.ndarray:
    r"""Gradient of :math:`\lambda \sum w_i^2`: :math:`2 \lambda w`.

    The penalty's part of :func:`helpers.weight_decay.mse_plus_l2_over_2n_grad` (notebook 03, with
    strength :math:`\lambda/(2n)`); learners write it in task 03.1."""
    lam = check_scalar(lam, "lam")
    return 2.0 * lam * check_array(w, "w")


def _decay_shrink(lr, lam, n) -> float:
    r"""The checked :math:`\eta\lambda/n` of weight decay: ``lr`` and ``lam`` >= 0, ``n`` a count
    >= 1, and :math:`\eta\lambda/n < 1`, so the factor :math:`1 - \eta\lambda/n` that multiplies
    the weights each step is in (0, 1] (a factor <= 0 would flip their signs, not decay them).
    The one rule behind :func:`weight_decay_step` and :mod:`helpers.weight_decay`'s decay curve."""
    lr = check_scalar(lr, "lr")
    lam = check_scalar(lam, "lam")
    n = check_int(n, "n", min_value=1)
    shrink = lr * lam / n
    if not shrink < 1.0:
        raise ValueError(f"lr * lam / n must be < 1 so that the decay factor 1 - lr * lam / n is in "
                         f"(0, 1] (got {shrink:g}); lower lr or lam")
    return shrink


@finite_result("w", "grad_loss", "lr", action="take the step")
def weight_decay_step(w, grad_loss, lr: float, lam: float, n: int) -> np.ndarray:
    r"""One gradient-descent step on :math:`C = L_0 + \frac{\lambda}{2n}\sum w^2`.

    .. math:: w \leftarrow \left(1 - \frac{\eta\lambda}{n}\right) w - \eta\,\frac{\partial L_0}{\partial w}

    This is the article's (and Nielsen's) convention: the penalty is :math:`\lambda/(2n)`
    times the sum of squares, added to a data loss :math:`L_0` averaged over ``n`` examples.
    In Keras's convention the same step is ``kernel_regularizer=l2(lam / (2 * n))`` with plain
    SGD, or ``SGD(weight_decay=lam / n)``. Introduced in notebook 03.

    ``n`` is a count (a whole number >= 1), and :math:`\eta\lambda/n` must be < 1: the factor
    :math:`1 - \eta\lambda/n` is then in (0, 1], a decay (the same rule as
    :func:`helpers.weight_decay.decay_curve`).
    """
    w = check_array(w, "w")
    grad_loss = check_array(grad_loss, "grad_loss")
    check_same_shape(w, grad_loss, "w", "grad_loss")
    lr = check_scalar(lr, "lr")
    shrink = _decay_shrink(lr, lam, n)
    return (1.0 - shrink) * w - lr * grad_loss


def soft_threshold(z, t: float) -> np.ndarray:
    r"""Soft-thresholding :math:`S_t(z) = \mathrm{sign}(z)\max(|z| - t, 0)`.

    The proximal operator of :math:`t\sum|z_i|`: it sets every entry with :math:`|z_i| \le t`
    to exactly 0 and moves the rest toward 0 by ``t``. Introduced in notebook 04.
    """
    return _soft_threshold(check_array(z, "z"), check_scalar(t, "t"))


def _soft_threshold(z, t):
    """:func:`soft_threshold` on checked input (solvers call it in their loops)."""
    return np.sign(z) * np.maximum(np.abs(z) - t, 0.0)
