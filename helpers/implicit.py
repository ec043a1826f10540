r"""Regularization without a penalty, in NumPy (lesson 06): early stopping, dropout, input noise.

* **Early stopping is a penalty in disguise** (Goodfellow, Bengio & Courville, *Deep Learning*,
  2016, §7.8). Linear least squares :math:`L(w) = \tfrac12\|y - Xw\|^2` (no intercept), gradient
  descent from :math:`w = 0` with step :math:`\eta`: in the eigenbasis of the Hessian
  :math:`X^\top X` (eigenvalues :math:`s_i`), after :math:`t` steps each coordinate of the
  least-squares solution is kept with the factor :math:`1 - (1 - \eta s_i)^t`
  (:func:`gd_least_squares`, :func:`gd_shrinkage`), while ridge regression,
  :math:`\|y - Xw\|^2 + \lambda\|w\|^2` (``helpers.ridge_fit``'s convention), keeps it with
  :math:`s_i / (s_i + \lambda)` (:func:`ridge_shrinkage`). The two agree where
  :math:`(1 - \eta s_i)^t \approx \lambda / (s_i + \lambda)`, roughly at :math:`\lambda \approx 1/(\eta t)`.
* **Inverted dropout** (:func:`inverted_dropout`): in training each unit is zeroed with
  probability :math:`p` and the survivors are divided by :math:`1 - p` (so each unit's expected
  value is unchanged); at inference nothing is dropped and nothing is scaled, as
  ``keras.layers.Dropout`` does.
* **Input noise is ridge in expectation** (Bishop, "Training with noise is equivalent to
  Tikhonov regularization", 1995): with :math:`E_{ij} \sim N(0, \sigma^2)`,
  :math:`\mathbb E\|y - (X + E)w\|^2 = \|y - Xw\|^2 + n\sigma^2\|w\|^2`, the ridge objective with
  :math:`\lambda = n\sigma^2` in the :math:`\|y - Xw\|^2 + \lambda\|w\|^2` convention.
  :func:`noisy_copies_least_squares` fits many noisy copies, :func:`noise_ridge_lambda` gives λ.
"""

from __future__ import annotations

import numpy as np

from helpers._counts import check_int, check_seed, check_size
from helpers._validate import check_array, check_bool, check_scalar, check_xy, finite_result

__all__ = ["METHOD_COLOR_KEYS", "gd_least_squares", "gd_shrinkage", "inverted_dropout", "method_color",
           "noise_ridge_lambda", "noisy_copies_least_squares", "ridge_shrinkage"]

# the single methods of lesson 06, each drawn in helpers.COLORS[its name] (one colour, one method)
METHOD_COLOR_KEYS = ("none", "l2", "l1", "prox", "early_stopping", "dropout", "noise", "jitter", "max_norm")

MAX_STEPS = 1_000_000


@finite_result("X", "y", "lr", action="run gradient descent",
               hint="use a step lr below 2 / (largest eigenvalue of XᵀX)")
def gd_least_squares(X, y, lr: float, steps) -> np.ndarray:
    r"""Gradient descent on :math:`\tfrac12\|y - Xw\|^2` from :math:`w = 0` (no intercept):
    :math:`w \leftarrow w - \eta X^\top(Xw - y)`. ``steps``: the step counts to record
    (increasing, ≥ 0); returns the weights after each, shape ``(len(steps), p)``. Lesson 06."""
    X, y = check_xy(X, y)
    lr = check_scalar(lr, "lr", strict=True)
    steps = check_array(steps, "steps", ndim=1)
    if steps.size == 0 or np.any(steps != np.round(steps)) or np.any(steps < 0) or np.any(np.diff(steps) <= 0):
        raise ValueError("steps must be increasing whole numbers >= 0")
    if steps[-1] > MAX_STEPS:
        raise ValueError(f"steps must be at most {MAX_STEPS:,}, got {steps[-1]:.0f}")
    check_size(steps.size * X.shape[1], "steps")
    w = np.zeros(X.shape[1])
    out, t = [], 0
    for target in steps.astype(int):
        for _ in range(target - t):
            w = w - lr * (X.T @ (X @ w - y))
        t = target
        out.append(w.copy())
    return np.array(out)


@finite_result("s", "lr", action="compute the shrinkage")
def gd_shrinkage(s, lr: float, t: int) -> np.ndarray:
    r"""Gradient descent's shrinkage :math:`(1 - \eta s)^t` of each eigen-direction after ``t``
    steps from 0 (the share of the least-squares coefficient *not yet* learned), for the
    eigenvalues ``s`` of :math:`X^\top X`. Lesson 06."""
    s = check_array(s, "s")
    lr = check_scalar(lr, "lr", strict=True)
    t = check_int(t, "t", max_value=MAX_STEPS)
    return (1.0 - lr * s) ** t


@finite_result("s", "lam", action="compute the shrinkage")
def ridge_shrinkage(s, lam: float) -> np.ndarray:
    r"""Ridge's shrinkage :math:`\lambda / (s + \lambda)` of each eigen-direction, for the
    eigenvalues ``s`` ≥ 0 of :math:`X^\top X` and λ > 0 in the :math:`\|y - Xw\|^2 + \lambda\|w\|^2`
    convention (ridge keeps the share :math:`s / (s + \lambda)`). Lesson 06."""
    s = check_array(s, "s")
    if np.any(s < 0):
        raise ValueError("s must hold eigenvalues >= 0")
    lam = check_scalar(lam, "lam", strict=True)
    return lam / (s + lam)


def inverted_dropout(h, rate: float, rng, training: bool = True) -> np.ndarray:
    r"""Inverted dropout of the activations ``h``: in training, each entry is kept with
    probability :math:`1 - p` (``rate`` = p) and divided by :math:`1 - p`, else set to 0, so
    :math:`\mathbb E[\text{out}] = h`; with ``training=False`` the identity (``h`` unchanged).
    ``rng`` a ``numpy.random.Generator`` (or a seed). As ``keras.layers.Dropout``. Lesson 06."""
    h = check_array(h, "h")
    rate = check_scalar(rate, "rate")
    if rate >= 1:
        raise ValueError(f"rate must be < 1, got {rate!r}")
    training = check_bool(training, "training")
    if not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(check_seed(rng, "rng"))
    if not training or rate == 0:
        return h.copy()
    keep = rng.random(h.shape) >= rate
    return np.where(keep, h / (1.0 - rate), 0.0)


def noise_ridge_lambda(n: int, sigma: float) -> float:
    r"""The ridge λ that Gaussian input noise of standard deviation σ gives, in expectation, for
    linear least squares on ``n`` points: :math:`\lambda = n\sigma^2` in the
    :math:`\|y - Xw\|^2 + \lambda\|w\|^2` convention (Bishop 1995). Lesson 06."""
    n = check_int(n, "n", min_value=1, max_value=10**9)
    sigma = check_scalar(sigma, "sigma", max_value=1e100)
    return float(n * sigma**2)


@finite_result("X", "y", "sigma", action="fit the noisy copies")
def noisy_copies_least_squares(X, y, sigma: float, copies: int, seed: int = 0) -> np.ndarray:
    r"""Least squares (no intercept) on ``copies`` copies of the data, each with its own
    Gaussian noise of standard deviation ``sigma`` added to every input:
    :math:`\min_w \sum_c \|y - (X + E_c)w\|^2`. As ``copies`` grows it tends to the ridge
    solution with λ = :func:`noise_ridge_lambda` ``(n, σ)``. Lesson 06."""
    X, y = check_xy(X, y)
    sigma = check_scalar(sigma, "sigma")
    copies = check_int(copies, "copies", min_value=1, max_value=100_000)
    check_size(copies * X.size, "copies")
    rng = np.random.default_rng(check_seed(seed, "seed"))
    p = X.shape[1]
    gram, moment = np.zeros((p, p)), np.zeros(p)
    for _ in range(copies):  # one copy at a time: the normal equations summed over copies
        Xc = X + sigma * rng.standard_normal(X.shape)
        gram += Xc.T @ Xc
        moment += Xc.T @ y
    return np.linalg.lstsq(gram, moment, rcond=None)[0]


def method_color(method) -> str:
    """The colour (``helpers.COLORS``) of a single method of lesson 06: ``method`` is a key of
    :data:`METHOD_COLOR_KEYS` (``"early_stopping"``, ``"jitter"``, ...) or a
    :class:`helpers.moons_experiment.Method` with at most one regularizer (its penalty kind, or
    its dropout, noise or max-norm). A combination of two methods has no colour of its own (the
    lesson draws combinations in black), so it raises ``ValueError``: the course's rule is one
    colour, one method."""
    from helpers.moons_experiment import Method
    from helpers.plots import COLORS

    if isinstance(method, str):
        if method not in METHOD_COLOR_KEYS:
            raise ValueError(f"method must be one of {sorted(METHOD_COLOR_KEYS)} or a Method, got {method!r}")
        return COLORS[method]
    if not isinstance(method, Method):
        raise ValueError(f"method must be a method name or a Method, got {type(method).__name__}")
    used = ([method.kind] if method.kind != "none" else []) + \
        [name for name in ("dropout", "noise", "max_norm") if getattr(method, name)]
    if len(used) > 1:
        raise ValueError(f"method must use one regularizer to have a colour, got {method} ({' + '.join(used)})")
    return COLORS[used[0] if used else "none"]
