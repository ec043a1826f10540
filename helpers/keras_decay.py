"""Keras counterparts of :mod:`helpers.weight_decay`: tiny linear models trained for a few
full-batch steps, so notebook 03 can check every L2 convention against Keras 3 itself.

Keras (and TensorFlow) is imported on first use, quietly, through :mod:`helpers.keras_env`.
Conventions: Keras's ``"mse"`` loss is the mean over the batch, so with ``batch_size = n`` it is
the course's :math:`L_0`; ``l2(c)`` adds :math:`c\\sum w^2`; an optimizer's ``weight_decay=wd``
applies :math:`w \\leftarrow w - \\eta\\,\\mathrm{wd}\\,w` to every trainable variable (biases
included) before the gradient step.
"""

from __future__ import annotations

import numpy as np

from helpers._validate import check_array, check_scalar
from helpers.keras_env import import_keras


def linear_model(kernel, bias: float | None = 0.0, kernel_regularizer=None,
                 bias_regularizer=None):
    """A ``keras.Model``: ``Input(shape=(d,))`` -> ``Dense(1)`` with the given initial weights.

    ``kernel`` is a 1-D array of ``d`` weights; ``bias=None`` builds the layer without a bias.
    The regularizers are passed to ``Dense`` unchanged.
    """
    keras = import_keras()

    kernel = check_array(kernel, "kernel", ndim=1)
    use_bias = bias is not None
    layer = keras.layers.Dense(1, use_bias=use_bias, kernel_regularizer=kernel_regularizer,
                               bias_regularizer=bias_regularizer)
    inputs = keras.Input(shape=(len(kernel),))
    model = keras.Model(inputs, layer(inputs))
    weights = [kernel.reshape(-1, 1)]
    if use_bias:
        weights.append(np.array([check_scalar(bias, "bias", min_value=None)]))
    layer.set_weights(weights)
    return model


def train_full_batch(model, X, y, optimizer, steps: int = 1) -> list[np.ndarray]:
    """Compile ``model`` with ``loss="mse"`` and take ``steps`` full-batch steps.

    Returns the layer's weights (``[kernel, bias]`` flattened to 1-D float64, or ``[kernel]``)
    after every step: a list of ``steps`` entries, each a list of arrays.
    """
    X = check_array(X, "X", ndim=2).astype("float32")
    y = check_array(y, "y", ndim=1).astype("float32").reshape(-1, 1)
    steps = int(check_scalar(steps, "steps", min_value=1))
    model.compile(optimizer=optimizer, loss="mse")
    out = []
    for _ in range(steps):
        model.train_on_batch(X, y)
        out.append([np.asarray(w, dtype=float).ravel() for w in model.layers[-1].get_weights()])
    return out


def data_loss_and_penalty(model, X, y) -> tuple[float, float]:
    """The two parts of what Keras reports as ``loss``: the compiled ``"mse"`` on the model's
    predictions (``keras.losses.MeanSquaredError``) and the penalty ``sum(model.losses)``."""
    keras = import_keras()

    X = check_array(X, "X", ndim=2).astype("float32")
    y = check_array(y, "y", ndim=1).astype("float32").reshape(-1, 1)
    y_pred = model(X, training=False)
    data_loss = float(keras.losses.MeanSquaredError()(y, y_pred))
    penalty = float(sum(float(loss) for loss in model.losses))
    return data_loss, penalty
