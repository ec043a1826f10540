"""Per-member random numbers inside the compiled training step: dropout masks and input noise that
depend only on a member's seed and the step (never on ``K`` or on the other members), so a member
draws the same numbers whatever stack it trains in.
"""

from __future__ import annotations

from helpers.keras_env import import_keras

keras = import_keras()  # before anything else loads TensorFlow: no log noise

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

_GOLDEN = 0x9E3779B9


def _mix32(x):
    """A 32-bit integer hash (Wellons's "lowbias32"), elementwise on uint32 tensors."""
    x = tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, tf.constant(16, tf.uint32)))
    x = x * tf.constant(0x7FEB352D, tf.uint32)
    x = tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, tf.constant(15, tf.uint32)))
    x = x * tf.constant(0x846CA68B, tf.uint32)
    return tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, tf.constant(16, tf.uint32)))


def member_uniform(seeds, step, salt: int, shape):
    """Uniform numbers in [0, 1), float32, shape ``(K, *shape)``: row k depends only on
    ``seeds[k]``, ``step`` and ``salt`` (a counter-based hash, no state), so a member's dropout
    masks and input noise are the same whatever ``K`` and the other members are."""
    seeds = tf.cast(seeds, tf.uint32)
    step = tf.cast(step, tf.uint32)
    key = _mix32(_mix32(seeds * tf.constant(_GOLDEN, tf.uint32) + tf.constant(salt, tf.uint32)) + step)
    size = tf.reduce_prod(shape)
    index = tf.reshape(tf.range(size, dtype=tf.int32), tf.concat([[1], shape], axis=0))
    key = tf.reshape(key, tf.concat([[-1], tf.ones_like(shape)], axis=0))
    bits = _mix32(_mix32(tf.bitwise.bitwise_xor(tf.cast(index, tf.uint32), key)) + key)
    return tf.cast(tf.bitwise.right_shift(bits, tf.constant(8, tf.uint32)), tf.float32) * (2.0 ** -24)


def member_normal(seeds, step, salt: int, shape):
    """Standard normal numbers (Box–Muller from two :func:`member_uniform` draws), shape ``(K, *shape)``."""
    u1 = 1.0 - member_uniform(seeds, step, 2 * salt + 1, shape)  # in (0, 1]: finite log
    u2 = member_uniform(seeds, step, 2 * salt + 2, shape)
    return tf.sqrt(-2.0 * tf.math.log(u1)) * tf.cos((2.0 * np.pi) * u2)


def member_dropout(h, rates, seeds, step, salt: int):
    """Inverted dropout of ``h`` ``(K, batch, units)`` at member k's rate ``rates[k]``: each entry
    is kept with probability ``1 - r`` and divided by ``1 - r`` (so its expectation is unchanged),
    else set to 0, as ``keras.layers.Dropout`` does in training. ``r = 0`` returns the member's
    ``h`` unchanged, bit for bit; when every rate is 0 nothing is drawn. The draws depend on
    ``seeds[k]``, ``step`` and ``salt`` only (:func:`member_uniform`). Training only: the model
    skips it at inference."""
    rate = tf.cast(rates, h.dtype)[:, None, None]

    def drop():
        keep = member_uniform(seeds, step, 100 + salt, tf.shape(h)[1:]) >= rate
        return tf.where(keep, h / (1.0 - rate), tf.zeros_like(h))

    return tf.cond(tf.reduce_any(rates > 0), drop, lambda: h)


def member_input_noise(x, sigmas, seeds, step):
    """``x`` ``(K, batch, 2)`` plus Gaussian noise of standard deviation ``sigmas[k]`` for member
    k (``keras.layers.GaussianNoise`` in training). σ = 0 returns the member's ``x`` unchanged,
    bit for bit; when every σ is 0 nothing is drawn. Training only."""
    sigma = tf.cast(sigmas, x.dtype)[:, None, None]
    return tf.cond(tf.reduce_any(sigmas > 0),
                   lambda: x + sigma * member_normal(seeds, step, 0, tf.shape(x)[1:]),
                   lambda: x)
