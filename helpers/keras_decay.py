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

from helpers._counts import check_iterations
from helpers._validate import check_array, check_float32, check_scalar, check_xy, finite_result
from helpers.keras_env import import_keras


def _regularizer(value, name: str, keras):
    """``None``, a Keras regularizer, or what ``keras.regularizers.get`` understands (``"l2"``)."""
    if value is None:
        return None
    try:
        return keras.regularizers.get(value)
    except (ValueError, TypeError):
        raise ValueError(f"{name} must be None, a keras regularizer or its name, got {value!r}") from None


def _checked_xy(model, X, y):
    """``X`` (one column per input of ``model``) and ``y`` as float32, ``y`` as a column."""
    from helpers.keras_tools import _check_inputs

    X, y = check_xy(X, y)
    return _check_inputs(model, X), check_float32(y, "y").reshape(-1, 1)


def linear_model(kernel, bias: float | None = 0.0, kernel_regularizer=None,
                 bias_regularizer=None):
    """A ``keras.Model``: ``Input(shape=(d,))`` -> ``Dense(1)`` with the given initial weights.

    ``kernel`` is a 1-D array of ``d`` weights; ``bias=None`` builds the layer without a bias.
    The regularizers are passed to ``Dense`` unchanged.
    """
    keras = import_keras()

    kernel = check_float32(check_array(kernel, "kernel", ndim=1), "kernel")
    use_bias = bias is not None
    weights = [kernel.reshape(-1, 1)]
    if use_bias:
        weights.append(np.array([check_float32(check_scalar(bias, "bias", min_value=None), "bias")]))
    layer = keras.layers.Dense(1, use_bias=use_bias,
                               kernel_regularizer=_regularizer(kernel_regularizer, "kernel_regularizer", keras),
                               bias_regularizer=_regularizer(bias_regularizer, "bias_regularizer", keras))
    inputs = keras.Input(shape=(len(kernel),))
    model = keras.Model(inputs, layer(inputs))
    layer.set_weights(weights)
    return model


def train_full_batch(model, X, y, optimizer, steps: int = 1) -> list[np.ndarray]:
    """Compile ``model`` with ``loss="mse"`` and take ``steps`` full-batch steps.

    Returns the layer's weights (``[kernel, bias]`` flattened to 1-D float64, or ``[kernel]``)
    after every step: a list of ``steps`` entries, each a list of arrays.
    """
    X, y = _checked_xy(model, X, y)
    steps = check_iterations(steps, "steps")
    model.compile(optimizer=optimizer, loss="mse")
    out = []
    for _ in range(steps):
        model.train_on_batch(X, y)
        out.append([np.asarray(w, dtype=float).ravel() for w in model.layers[-1].get_weights()])
    return out


@finite_result("X", "y", action="compute the loss", hint="rescale {name}")
def data_loss_and_penalty(model, X, y) -> tuple[float, float]:
    """The two parts of what Keras reports as ``loss``: the compiled ``"mse"`` on the model's
    predictions (``keras.losses.MeanSquaredError``) and the penalty ``sum(model.losses)``."""
    keras = import_keras()

    X, y = _checked_xy(model, X, y)
    y_pred = model(X, training=False)
    data_loss = float(keras.losses.MeanSquaredError()(y, y_pred))
    penalty = float(sum(float(loss) for loss in model.losses))
    return data_loss, penalty
