"""Curves, early stopping and snapshots, inside the training graph (lesson 06): a mixin of
:class:`helpers.keras_stack.StackedMLP`.

Every ``period`` steps each member's data loss on its training and validation sets is recorded
(the curves); with ``patience``, each member is early-stopped on its validation loss exactly as
``keras.callbacks.EarlyStopping`` would at that granularity, keeping its best weights and its
weights at the stop; ``snapshots`` keep chosen members' weights at every evaluation.
:meth:`_EarlyStopping.use_weights` switches a finished run's members to their final, best or
stopped weights.
"""

from __future__ import annotations

from helpers.keras_env import import_keras

keras = import_keras()  # before anything else loads TensorFlow: no log noise

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from helpers._validate import check_choice  # noqa: E402
from helpers.keras_stack.config import WEIGHTS  # noqa: E402


class _EarlyStopping:
    """The curves, early stopping, snapshots and weight switching of :class:`StackedMLP` (a mixin:
    it uses the model's ``state``, ``optimizer``, ``_weights`` and ``_compiled_losses``)."""

    def _record_curves(self):
        """Every ``period`` steps (after the update): each member's data loss on its whole
        training and validation set, into row ``step // period - 1`` of the curves."""
        s = self.state
        step = self.optimizer.iterations

        def record():
            index = step // s.period - 1
            row = tf.reshape(index, [1, 1])
            val = self._compiled_losses(s.X_val, s.y_val)
            s.curve_train.scatter_nd_update(row, self._compiled_losses(s.X, s.y)[None])
            s.curve_val.scatter_nd_update(row, val[None])
            tf.cond(s.patience > 0, lambda: self._early_stopping(index, val), lambda: tf.constant(False))
            tf.cond(tf.size(s.snap_members) > 0, lambda: self._snapshot(row), lambda: tf.constant(False))
            return tf.constant(True)

        due = tf.logical_and(s.period > 0, tf.math.floormod(step, tf.maximum(s.period, 1)) == 0)
        tf.cond(due, record, lambda: tf.constant(False))

    def _early_stopping(self, index, val):
        """``keras.callbacks.EarlyStopping(monitor=<validation data loss>, patience)`` per member,
        at evaluation ``index``: an improvement (strictly lower) keeps the weights as the best and
        resets the wait; otherwise the wait grows, and at ``patience`` evaluations the member
        stops: its weights are kept as "stopped" and nothing of it is recorded after. (Training
        itself goes on: a stopped member's later steps are simply not used.)"""
        s = self.state
        active = tf.logical_not(s.stopped)
        improved = tf.logical_and(active, val < s.best_val)
        wait = tf.where(improved, tf.zeros_like(s.wait), tf.where(active, s.wait + 1, s.wait))
        newly = tf.logical_and(active, wait >= s.patience)
        for w, best, stop in zip(self._weights(), s.best_weights, s.stop_weights, strict=True):
            shape = [-1] + [1] * (len(w.shape) - 1)
            w = tf.convert_to_tensor(w)
            best.assign(tf.where(tf.reshape(improved, shape), w, best))
            stop.assign(tf.where(tf.reshape(newly, shape), w, stop))
        s.best_val.assign(tf.where(improved, val, s.best_val))
        s.best_eval.assign(tf.where(improved, index, s.best_eval))
        s.stop_eval.assign(tf.where(newly, index, s.stop_eval))
        s.wait.assign(wait)
        s.stopped.assign(tf.logical_or(s.stopped, newly))
        return tf.constant(True)

    def _snapshot(self, row):
        """The weights of the members ``snap_members`` into row ``row`` of the snapshots."""
        s = self.state
        for w, snap in zip(self._weights(), s.snapshots, strict=True):
            snap.scatter_nd_update(row, tf.gather(tf.convert_to_tensor(w), s.snap_members)[None])
        return tf.constant(True)

    def use_weights(self, which: str = "final") -> None:
        """After a run with ``patience``: give every member its ``"final"`` weights (the end of the
        run), its ``"best"`` ones (lowest validation loss: ``restore_best_weights=True``) or those
        at its ``"stopped"`` epoch (``restore_best_weights=False``; the final weights for a member
        that never stopped). :meth:`measure`, :meth:`member_weights` and the rest then see them."""
        which = check_choice(which, "which", WEIGHTS)
        if self._final is None:
            raise ValueError("which: run the stack first (use_weights switches a finished run's weights)")
        if which != "final" and not int(self.state.patience.numpy()):
            raise ValueError(f"which={which!r} needs a run with patience (early stopping)")
        for k, (w, final) in enumerate(zip(self._weights(), self._final, strict=True)):
            if which == "final":
                w.assign(final)
            elif which == "best":
                w.assign(self.state.best_weights[k])
            else:
                stop = self.state.stop_weights[k].numpy()
                mask = self._stopped.reshape((-1,) + (1,) * (final.ndim - 1))
                w.assign(np.where(mask, stop, final))
