"""helpers: the code the course's lessons import. Open any module to see how a result is computed.

Import by name, e.g. ``from helpers import l2_penalty, ridge_fit``. Importing this package has no
side effects (no plot settings, no seeds, no TensorFlow); call :func:`helpers.setup` once for the
course's plot defaults. Which module holds which lesson's tools:

=======  ==========================================================================================
lesson   modules
=======  ==========================================================================================
all      ``data`` (the datasets and their loaders), ``plots`` (colours, :func:`setup`), ``checks``
         (``check_task`` for the assignments), ``penalties`` and ``linear`` (L1/L2 penalties, least
         squares, ridge and lasso from scratch: the names this package itself exports), ``blit``
         (how the widgets redraw fast)
00       ``environment`` (is everything installed and intact?)
01       ``overfitting`` (polynomial fits, learning curves, the degree/size/noise widget)
02       ``penalized_path`` (fits along λ, the λ explorer)
03       ``weight_decay`` (the decay rule and its conventions), ``keras_decay`` (the same in Keras),
         ``classification`` (logistic regression: scikit-learn's C against λ)
04       ``sparsity`` (closed forms, lasso paths, exact zeros), ``geometry`` (the diamond and the
         disk), ``lasso_selection`` (choosing λ on real data), ``classification`` (L1 on real data)
05       ``keras_tools`` (the article's network, fast training, proximal L1, measures),
         ``keras_stack`` (hundreds of networks in one ``fit``: the engine, a package read in order),
         ``moons_experiment`` (resampled training sets, every method on each), ``stats`` (paired
         differences, their intervals, a family's Bonferroni level), ``progress`` (a bar for long
         cells), ``keras_widgets`` (the λ explorer)
06       ``implicit`` (early stopping, dropout and noise in NumPy), the same Keras modules as 05
         (``keras_widgets``: the epoch explorer)
07       ``bias_variance`` (bias² + variance + noise), ``double_descent`` (random features, the
         p/λ explorer)
=======  ==========================================================================================

``_validate`` and ``_counts`` hold the input checks every helper shares (a ``ValueError`` that names
the argument). The course's machinery (lesson registry, JupyterLab's server side, the layout check,
the website, the browser driver) is a separate package, ``coursekit``, which no lesson imports.
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
