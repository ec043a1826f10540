r"""Bias, variance and noise of a learner, measured by Monte Carlo. Notebook 07 (``07_bias_variance``).

For a test input :math:`x_0` with target :math:`y_0 = f(x_0) + \varepsilon`,
:math:`\varepsilon \sim \mathcal N(0, \sigma^2)` independent of the training set :math:`D`, the
expected squared error of the fit :math:`\hat f_D` splits into three parts:

.. math::

    \mathbb E_{D,\varepsilon}\bigl[(y_0 - \hat f_D(x_0))^2\bigr]
    = \underbrace{\bigl(f(x_0) - \bar f(x_0)\bigr)^2}_{\text{bias}^2}
    + \underbrace{\mathbb E_D\bigl[(\hat f_D(x_0) - \bar f(x_0))^2\bigr]}_{\text{variance}}
    + \underbrace{\sigma^2}_{\text{noise}},
    \qquad \bar f(x_0) = \mathbb E_D\,\hat f_D(x_0).

The estimates here average over the ``R`` training sets drawn (one row of ``preds`` each) and
over the test inputs (one column each). The variance divides by ``R`` (``ddof=0``), which makes
:math:`\widehat{\text{bias}^2} + \widehat{\text{variance}}` *exactly* the mean over training sets
of :math:`(f(x_0) - \hat f_D(x_0))^2`; the price is that :math:`\widehat{\text{bias}^2}` is too
large by :math:`\text{variance}/R` on average (the mean fit :math:`\bar f` is itself estimated).
The noise is the generator's :math:`\sigma^2`, known here, not estimated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers._counts import check_size
from helpers._validate import check_array, check_pair, check_scalar, finite_result
from helpers.linear import ridge_prediction_matrix
from helpers.overfitting import _standardized_poly

__all__ = ["Decomposition", "bias_variance", "decompose", "exact_bias_variance",
           "polynomial_prediction_matrix"]


def _check_preds(preds, f_true):
    preds = check_array(preds, "preds", ndim=2)
    f_true = check_array(f_true, "f_true", ndim=1)
    if preds.shape[1] != f_true.size:
        raise ValueError(f"preds must have one column per entry of f_true ({f_true.size}), "
                         f"got shape {preds.shape}")
    if preds.shape[0] < 2:
        raise ValueError(f"preds must have at least 2 rows (training sets), got {preds.shape[0]}")
    return preds, f_true


@finite_result("preds", "f_true", action="average", hint="rescale {name}")
def bias_variance(preds, f_true) -> tuple[float, float]:
    r"""Squared bias and variance of a learner from its fits to ``R`` training sets.

    ``preds[r, j]`` is the prediction at test input :math:`x_j` of the model fitted to training
    set ``r``; ``f_true[j]`` is :math:`f(x_j)`. With :math:`\bar f_j = \frac1R\sum_r` ``preds[r, j]``:
    bias² :math:`= \frac1m\sum_j (\bar f_j - f(x_j))^2` (squared *before* averaging over inputs) and
    variance :math:`= \frac1m\sum_j \frac1R\sum_r (\text{preds}_{rj} - \bar f_j)^2` (over training
    sets, ``ddof=0``; see the module docstring). Returns ``(bias2, variance)``. Notebook 07.
    """
    preds, f_true = _check_preds(preds, f_true)
    mean_fit = preds.mean(axis=0)
    return float(np.mean((mean_fit - f_true) ** 2)), float(np.mean(preds.var(axis=0)))


@dataclass(frozen=True)
class Decomposition:
    """One learner's bias², variance and noise, their sum, and the measured expected test MSE.

    ``measured`` is the mean over training sets of each fit's MSE on its own fresh noisy test
    targets and ``measured_se`` its Monte Carlo standard error (standard deviation over the
    training sets / √R). ``gap_se`` is the standard error of ``measured - total`` (over the same
    training sets), the yardstick for "the parts add up".
    """

    bias2: float
    variance: float
    noise: float
    measured: float
    measured_se: float
    gap_se: float

    @property
    def total(self) -> float:
        """bias² + variance + noise: the expected test MSE the decomposition predicts."""
        return self.bias2 + self.variance + self.noise


@finite_result("preds", "f_true", "noise_sd", "y_test", action="average", hint="rescale {name}")
def decompose(preds, f_true, noise_sd: float, y_test) -> Decomposition:
    r"""Bias², variance and noise of a learner, and its expected test MSE measured directly.

    ``preds`` (``R × m``) and ``f_true`` as in :func:`bias_variance`; ``noise_sd`` is the
    generator's σ (the noise term is σ²); ``y_test[r]`` holds fresh noisy targets
    :math:`f(x_j) + \varepsilon_{rj}` at the same test inputs, one row per training set, drawn
    independently of it. The measured expected test MSE is
    :math:`\frac1R\sum_r \frac1m\sum_j (y_{rj} - \text{preds}_{rj})^2`. Notebook 07.
    """
    preds, f_true = _check_preds(preds, f_true)
    noise = check_scalar(noise_sd, "noise_sd") ** 2
    preds, y_test = check_pair(preds, y_test, "preds", "y_test")
    bias2, variance = bias_variance(preds, f_true)
    per_set = np.mean((y_test - preds) ** 2, axis=1)
    gap = per_set - np.mean((f_true - preds) ** 2, axis=1) - noise
    root_r = np.sqrt(preds.shape[0])
    return Decomposition(bias2, variance, noise, float(per_set.mean()),
                         float(per_set.std(ddof=1) / root_r), float(gap.std(ddof=1) / root_r))


@finite_result("H", "f_train", "f_test", "noise_sd", action="multiply", hint="rescale {name}")
def exact_bias_variance(H, f_train, f_test, noise_sd: float) -> tuple[float, float]:
    r"""Closed-form bias² and variance of a linear smoother :math:`\hat f(x_0) = H y` at fixed inputs.

    With training targets :math:`y = f_{train} + \varepsilon`, :math:`\varepsilon \sim \mathcal
    N(0, \sigma^2 I)`: the mean fit is :math:`H f_{train}`, so bias² :math:`= \frac1m\|H f_{train}
    - f_{test}\|^2` and variance :math:`= \frac{\sigma^2}{m}\sum_{j,i} H_{ji}^2`. What the Monte
    Carlo estimates of :func:`bias_variance` converge to (the tests check they do). Notebook 07.
    """
    H = check_array(H, "H", ndim=2)
    f_train = check_array(f_train, "f_train", ndim=1)
    f_test = check_array(f_test, "f_test", ndim=1)
    if H.shape != (f_test.size, f_train.size):
        raise ValueError(f"H must have shape (len(f_test), len(f_train)) = {(f_test.size, f_train.size)}, "
                         f"got {H.shape}")
    sigma2 = check_scalar(noise_sd, "noise_sd") ** 2
    return float(np.mean((H @ f_train - f_test) ** 2)), float(sigma2 * np.mean(np.sum(H**2, axis=1)))


@finite_result("x_train", "x_test", "lam", action="fit", hint="rescale {name}")
def polynomial_prediction_matrix(x_train, x_test, degree: int, lam: float = 0.0) -> np.ndarray:
    r"""``H`` with ``H @ y`` = the degree-``degree`` polynomial fit's predictions at ``x_test``.

    The fit of notebooks 01 and 02: standardized powers :math:`z_j = (x^j - \mu_j)/\sigma_j`
    (statistics of ``x_train``), an unpenalized intercept and the ridge cost
    :math:`\sum_i (y_i - \hat y_i)^2 + \lambda\|w\|^2` of :func:`helpers.ridge_fit` (``lam = 0``:
    least squares). One matrix serves every training set with the inputs ``x_train``
    (:func:`helpers.linear.ridge_prediction_matrix`). Notebook 07.
    """
    x_train = check_array(x_train, "x_train", ndim=1)
    x_test = check_array(x_test, "x_test", ndim=1)
    lam = check_scalar(lam, "lam")
    check_size(x_test.size * x_train.size, "x_test")
    Z, mean, std = _standardized_poly(x_train, degree, None, None, "x_train")
    return ridge_prediction_matrix(Z, _standardized_poly(x_test, degree, mean, std, "x_test")[0], lam)
