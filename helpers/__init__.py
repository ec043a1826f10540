"""helpers: the tested code behind the regularization course.

Import by name, e.g. ``from helpers import l2_penalty, ridge_fit``. Importing this package has
no side effects (no plot settings, no seeds, no TensorFlow); call :func:`helpers.setup` for the
course's plot defaults. Keras utilities live in :mod:`helpers.keras_tools` (imported on demand).
"""

from helpers.data import (
    DataFileError,
    Dataset,
    load_curve_1d,
    load_moons_2d,
    load_sparse_100,
    true_curve,
    verify_data,
)
from helpers.linear import (
    ConvergenceWarning,
    lasso_fit,
    lasso_kkt_violation,
    mse,
    polynomial_features,
    ridge_fit,
)
from helpers.penalties import (
    l1_grad,
    l1_penalty,
    l2_grad,
    l2_penalty,
    soft_threshold,
    weight_decay_step,
)
from helpers.plots import COLORS, setup

__all__ = [
    "COLORS",
    "ConvergenceWarning",
    "DataFileError",
    "Dataset",
    "l1_grad",
    "l1_penalty",
    "l2_grad",
    "l2_penalty",
    "lasso_fit",
    "lasso_kkt_violation",
    "load_curve_1d",
    "load_moons_2d",
    "load_sparse_100",
    "mse",
    "polynomial_features",
    "ridge_fit",
    "setup",
    "soft_threshold",
    "true_curve",
    "verify_data",
    "weight_decay_step",
]
