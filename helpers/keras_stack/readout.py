"""Reading a trained stack: every member's predictions, weights and measures in one vectorized pass
(a mixin of :class:`helpers.keras_stack.StackedMLP`), and the checks of per-member inputs.
"""

from __future__ import annotations

from helpers.keras_env import import_keras

keras = import_keras()  # before anything else loads TensorFlow: no log noise

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from helpers._counts import check_int  # noqa: E402
from helpers._validate import check_array, check_scalar, check_xy  # noqa: E402
from helpers.keras_stack.config import CLIP, POINTS_PER_CALL, StackConfig  # noqa: E402


class _Readout:
    """Predictions, weights, measures and input checks of :class:`StackedMLP` (a mixin)."""

    def predict_members(self, X) -> np.ndarray:
        """P(class 1) of every member, ``(K, m)``, for points ``X`` shared ``(m, 2)`` or per
        member ``(K, m, 2)``; in graph calls of at most :data:`POINTS_PER_CALL` activations."""
        X = self._member_points(X, "X")
        if self._predict_fn is None:
            # one trace for any number of points (a retrace per shape would also log TensorFlow's
            # "triggered tf.function retracing" warning to stderr)
            spec = tf.TensorSpec((self.members, None, 2), tf.float32)
            self._predict_fn = tf.function(lambda x: self(x, training=False)[..., 0], input_signature=[spec])
        chunk = max(1, POINTS_PER_CALL // (self.members * self.hidden))
        parts = [self._predict_fn(tf.constant(X[:, i:i + chunk], dtype=tf.float32)).numpy()
                 for i in range(0, X.shape[1], chunk)]
        return np.concatenate(parts, axis=1).astype(float)

    def hidden_kernels(self) -> list[np.ndarray]:
        """The two stacked hidden kernels (the penalized weights): ``(K, 2, h)`` and ``(K, h, h)``."""
        return [self.hidden1.kernel.numpy(), self.hidden2.kernel.numpy()]

    def member_weights(self, k: int) -> list[np.ndarray]:
        """Member ``k``'s weights in ``keras.Sequential`` order (``[kernel1, bias1, ..., bias3]``),
        ready for ``set_weights`` of :func:`helpers.keras_tools.build_mlp`'s network."""
        k = check_int(k, "k", min_value=0, max_value=self.members - 1)
        return [w.numpy()[k] for layer in (self.hidden1, self.hidden2, self.out) for w in (layer.kernel, layer.bias)]

    def measure(self, X, y, *, grid=None, tol: float = 1e-3) -> dict:
        """Every member on ``(X, y)`` (shared or per member), in one vectorized pass. Arrays over members:

        * ``accuracy`` ``(K,)``: fraction of points with ``(p >= 0.5) == y``;
        * ``data_loss`` ``(K,)``: clipped mean cross-entropy, no penalty (module docstring);
        * ``penalty`` ``(K,)``: λΣ|w| (``"l1"``, ``"prox"``), λΣw² (``"l2"``) or 0, over both
          hidden kernels; ``objective`` = ``data_loss + penalty``;
        * ``zeros``, ``small`` ``(K, 2)``: per hidden layer, weights exactly 0 and with
          ``|w| < tol``; ``n_weights`` ``(2,)``: the kernels' sizes;
        * ``proba`` ``(K, m)``: P(class 1) on ``X``; with ``grid`` (points ``(G, 2)``, e.g. from
          :func:`helpers.keras_tools.grid_points`) also ``proba_grid`` ``(K, G)``.
        """
        tol = check_scalar(tol, "tol", strict=True)
        X, y = self._member_data(X, y, "X", "y", broadcast=False)
        p = self.predict_members(X)
        pc = np.clip(p, CLIP, 1 - CLIP)
        kernels = [k.astype(float) for k in self.hidden_kernels()]
        l1 = sum(np.abs(k).sum(axis=(1, 2)) for k in kernels)
        l2 = sum(np.square(k).sum(axis=(1, 2)) for k in kernels)
        c = self.config
        penalty = np.where(np.isin(c.kind, ("l1", "prox")), c.lam * l1, np.where(c.kind == "l2", c.lam * l2, 0.0))
        data_loss = -np.mean(y * np.log(pc) + (1 - y) * np.log(1 - pc), axis=-1)
        out = {"accuracy": np.mean((p >= 0.5) == (y == 1), axis=-1), "data_loss": data_loss,
               "penalty": penalty, "objective": data_loss + penalty,
               "zeros": np.stack([np.sum(k == 0, axis=(1, 2)) for k in kernels], axis=1),
               "small": np.stack([np.sum(np.abs(k) < tol, axis=(1, 2)) for k in kernels], axis=1),
               "n_weights": np.array([k[0].size for k in kernels]), "proba": p}
        if grid is not None:
            out["proba_grid"] = self.predict_members(grid)
        return out

    # ----------------------------------------------------------------------- input checks

    def _check_config(self, config) -> None:
        if not isinstance(config, StackConfig):
            raise ValueError(f"config must be a StackConfig (see stack_config), got {type(config).__name__}")
        if len(config) != self.members:
            raise ValueError(f"config must have {self.members} members, got {len(config)}")

    def _member_points(self, X, name: str) -> np.ndarray:
        X = check_array(X, name, ndim=(2, 3))
        if X.shape[-1] != 2:
            raise ValueError(f"{name} must have 2 columns (last axis), got shape {X.shape}")
        if X.ndim == 3 and X.shape[0] != self.members:
            raise ValueError(f"{name} must hold one set per member: shape ({self.members}, n, 2), got {X.shape}")
        if X.ndim == 2:
            X = np.broadcast_to(X, (self.members, *X.shape))
        return X.astype("float32")

    def _member_data(self, X, y, x_name: str, y_name: str, broadcast: bool = True):
        """Points and 0/1 labels, shared (``(n, 2)``, ``(n,)``) or per member (``(K, n, 2)``,
        ``(K, n)``); returned as float32 ``(K, n, 2)``, ``(K, n)`` (labels ``(n,)`` if shared and
        not ``broadcast``)."""
        X = self._member_points(X, x_name)
        y = check_array(y, y_name, ndim=(1, 2))
        if y.ndim == 2 and y.shape[0] != self.members:
            raise ValueError(f"{y_name} must hold one label vector per member: shape ({self.members}, n), "
                             f"got {y.shape}")
        check_xy(X[0], y if y.ndim == 1 else y[0], x_name, y_name)
        if not np.all((y == 0) | (y == 1)):
            raise ValueError(f"{y_name} must hold 0/1 labels")
        if broadcast:
            y = np.broadcast_to(y, X.shape[:2])
        return X, y.astype("float32")
