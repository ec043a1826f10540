"""The stacked layers: ``K`` copies of a Dense layer as one ``(K, in, out)`` kernel
(:class:`StackedDense`), Adam with the proximal L1 step per member (:class:`StackedProxAdam`),
and the per-run state kept beside Keras's weights (``_State``: settings, data, curves, early
stopping, snapshots).
"""

from __future__ import annotations

from helpers.keras_env import import_keras

keras = import_keras()  # before anything else loads TensorFlow: no log noise

import tensorflow as tf  # noqa: E402

from helpers._validate import check_scalar  # noqa: E402
from helpers.keras_stack.config import CLIP, CONTRACTIONS  # noqa: E402
from helpers.keras_tools import HIDDEN, ProxAdam  # noqa: E402


class StackedDense(keras.layers.Layer):
    """``K`` independent ``Dense`` layers: ``(K, batch, in) → (K, batch, units)``.

    Kernel ``(K, in, units)``, bias ``(K, units)``; member k computes
    ``activation(x[k] @ kernel[k] + bias[k])``, like ``keras.layers.Dense``. The kernels start at
    zero: :meth:`StackedMLP.reset` draws each member's from its seed. ``contraction="matmul"``
    uses ``keras.ops.matmul`` instead of ``keras.ops.einsum`` (the same product; benchmarked).
    """

    def __init__(self, members: int, units: int, activation=None, *, contraction: str = "einsum", **kwargs):
        super().__init__(**kwargs)
        self.members = int(check_scalar(members, "members", min_value=1))
        self.units = int(check_scalar(units, "units", min_value=1))
        self.activation = keras.activations.get(activation)
        if contraction not in CONTRACTIONS:
            raise ValueError(f"contraction must be one of {CONTRACTIONS}, got {contraction!r}")
        self.contraction = contraction

    def build(self, input_shape):
        fan_in = int(input_shape[-1])
        self.kernel = self.add_weight(shape=(self.members, fan_in, self.units), initializer="zeros",
                                      name="kernel")
        self.bias = self.add_weight(shape=(self.members, self.units), initializer="zeros", name="bias")

    def call(self, x):
        if self.contraction == "einsum":
            z = keras.ops.einsum("kbi,kio->kbo", x, self.kernel)
        else:
            z = keras.ops.matmul(x, self.kernel)
        # keras.activations.sigmoid keeps the logit, so the loss is computed from it, as for Dense.
        return self.activation(keras.ops.add(z, self.bias[:, None, :]))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)


class StackedProxAdam(ProxAdam):
    """:class:`helpers.keras_tools.ProxAdam` with one λ per member: after Adam's update, the
    stacked hidden kernels are soft-thresholded at ``strength[k]`` · d_i, member by member
    (``strength[k] = 0`` leaves member k exactly as plain Adam moved it)."""

    def __init__(self, strength, **kwargs):
        super().__init__(l1=0.0, prox_layers=HIDDEN, **kwargs)
        self.strength = strength

    def prox_strength(self, variable):
        return self.strength[:, None, None]


class _State:
    """The stack's per-run state outside Keras's weights: per-member settings, the training and
    validation data, the evaluation schedule and the curves. Plain ``tf.Variable`` objects (the
    data ones without a fixed shape), so new settings and data of any ``n`` need no retracing."""

    def __init__(self, members: int):
        def per_member(dtype):
            return tf.Variable(tf.zeros([members], dtype), trainable=False)

        def free(shape, dtype=tf.float32):
            return tf.Variable(tf.zeros([0 if d is None else d for d in shape], dtype),
                               shape=tf.TensorShape(shape), trainable=False)

        self.lam_l1, self.lam_l2, self.lam_prox = (per_member(tf.float32) for _ in range(3))
        self.loss_sum = per_member(tf.float32)  # each member's loss summed over the run's steps
        self.dropout, self.noise, self.max_norm = (per_member(tf.float32) for _ in range(3))
        self.seed = per_member(tf.int64)
        self.X, self.y = free([members, None, 2]), free([members, None])
        self.X_val, self.y_val = free([members, None, 2]), free([members, None])
        self.period = tf.Variable(tf.constant(0, tf.int64), trainable=False)  # steps between evaluations
        self.curve_train, self.curve_val = free([None, members]), free([None, members])
        # early stopping (patience in evaluations; 0: off), as keras.callbacks.EarlyStopping
        self.patience = tf.Variable(tf.constant(0, tf.int64), trainable=False)
        self.best_val = per_member(tf.float32)
        self.wait, self.best_eval, self.stop_eval = (per_member(tf.int64) for _ in range(3))
        self.stopped = tf.Variable(tf.zeros([members], tf.bool), trainable=False)
        self.snap_members = free([None], tf.int32)  # members whose weights are kept at every evaluation
        self.best_weights: list[tf.Variable] = []  # filled by add_weights (the layers' shapes)
        self.stop_weights: list[tf.Variable] = []
        self.snapshots: list[tf.Variable] = []

    def add_weights(self, weights) -> None:
        """Copies of the model's weights: the best (early stopping), at the stop, and snapshots."""
        for w in weights:
            shape = tuple(w.shape)
            self.best_weights.append(tf.Variable(tf.zeros(shape), trainable=False))
            self.stop_weights.append(tf.Variable(tf.zeros(shape), trainable=False))
            self.snapshots.append(tf.Variable(tf.zeros((0, 0, *shape[1:])), trainable=False,
                                              shape=tf.TensorShape([None, None, *shape[1:]])))


def _clipped_bce(y, p, axis):
    """Mean cross-entropy with ``p`` clipped to [CLIP, 1 - CLIP], over ``axis`` (TensorFlow)."""
    p = tf.clip_by_value(p, CLIP, 1.0 - CLIP)
    return -tf.reduce_mean(y * tf.math.log(p) + (1.0 - y) * tf.math.log(1.0 - p), axis=axis)
