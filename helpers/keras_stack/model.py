"""The model: :class:`StackedMLP`, ``K`` article networks trained together by one ``model.fit``.

Its forward pass (:meth:`StackedMLP.call`: each member's input noise and dropout in training), its
penalty, one training step (forward, backward, Adam with the proximal step, max-norm), in blocks of
steps inside one XLA call, and :meth:`StackedMLP.run`. The curves and early stopping are in
:mod:`helpers.keras_stack.early_stopping`, the measures in :mod:`helpers.keras_stack.readout`
(mixins of this class).
"""

from __future__ import annotations

from helpers.keras_env import import_keras

keras = import_keras()  # before anything else loads TensorFlow: no log noise

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from helpers._counts import check_int, check_size  # noqa: E402
from helpers._validate import check_array, check_bool, check_choice, check_float32, check_scalar  # noqa: E402
from helpers.keras_stack.config import CHUNK, CONTRACTIONS, FEEDS, StackConfig, stack_config  # noqa: E402
from helpers.keras_stack.early_stopping import _EarlyStopping  # noqa: E402
from helpers.keras_stack.layers import StackedDense, StackedProxAdam, _clipped_bce, _State  # noqa: E402
from helpers.keras_stack.randomness import member_dropout, member_input_noise  # noqa: E402
from helpers.keras_stack.readout import _Readout  # noqa: E402
from helpers.keras_stack.schedule import batch_schedule, step_blocks, steps_per_epoch  # noqa: E402
from helpers.keras_tools import HIDDEN, MAX_STEPS_PER_EXECUTION, glorot_kernel, reset_optimizer  # noqa: E402


class NonFiniteTraining(ValueError):
    """A run in which a member's loss or weights became NaN or infinite; ``member`` is its index."""

    def __init__(self, member: int, message: str):
        super().__init__(message)
        self.member = member


class StackedMLP(_EarlyStopping, _Readout, keras.Model):
    """``K`` article networks (2 → h relu → h relu → 1 sigmoid) trained together; see the module
    docstring for what each member owns and every convention. Adam(``learning_rate``), binary
    cross-entropy, batches of ``batch_size``.

    Build once, then run and measure as often as needed (new settings or data do not retrace)::

        stack = StackedMLP(20)                      # compiled; jit_compile=True (XLA) by default
        config = stack_grid([("none", 0), ("l1", 1e-3), ("l2", 1e-3), ("prox", 1e-3)], range(5))
        run = stack.run(config, data.X_train, data.y_train, epochs=300,
                        X_val=data.X_val, y_val=data.y_val, every=10)   # curves (30, 20)
        scores = stack.measure(data.X_test, data.y_test, grid=grid)     # arrays over members
        scores["accuracy"][config.select(kind="l1")]

    ``X``/``y`` may be one training set for all members (``(n, 2)``, ``(n,)``) or one per member
    (``(K, n, 2)``, ``(K, n)``). ``jit_compile``, ``chunk`` (gradient steps per XLA call, in blocks
    that :func:`step_blocks` cuts), ``steps_per_execution`` (blocks per graph execution; default:
    the whole run in one) and ``contraction`` are speed knobs measured by ``bench/bench_stack.py``;
    none changes the networks beyond float32 rounding.
    """

    def __init__(self, members: int, hidden: int = 128, *, learning_rate: float = 1e-3,
                 batch_size: int = 32, jit_compile: bool = True,
                 steps_per_execution: int = MAX_STEPS_PER_EXECUTION, contraction: str = "einsum",
                 chunk: int = CHUNK, name: str = "stacked_mlp"):
        super().__init__(name=name)
        self.members = check_int(members, "members", min_value=1, max_value=100_000)
        self.hidden = check_int(hidden, "hidden", min_value=1, max_value=100_000)
        check_size(self.members * self.hidden * self.hidden, "hidden")
        self.batch_size = check_int(batch_size, "batch_size", min_value=1, max_value=10**6)
        learning_rate = check_float32(check_scalar(learning_rate, "learning_rate", strict=True), "learning_rate")
        steps_per_execution = check_int(steps_per_execution, "steps_per_execution", min_value=1)
        self.chunk = check_int(chunk, "chunk", min_value=1, max_value=10**6)
        jit_compile = check_bool(jit_compile, "jit_compile")
        contraction = check_choice(contraction, "contraction", CONTRACTIONS)
        self.hidden1 = StackedDense(self.members, self.hidden, "relu", contraction=contraction, name=HIDDEN[0])
        self.hidden2 = StackedDense(self.members, self.hidden, "relu", contraction=contraction, name=HIDDEN[1])
        self.out = StackedDense(self.members, 1, "sigmoid", contraction=contraction, name="output")
        self.state = _State(self.members)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.build((self.members, None, 2))
        # Keras runs the loop; the update inside each step is our own XLA function (train_step).
        self.compile(optimizer=StackedProxAdam(self.state.lam_prox, learning_rate=learning_rate),
                     steps_per_execution=steps_per_execution, jit_compile=False)
        self.optimizer.build(self.trainable_variables)
        self._compiled_steps = tf.function(self._steps, jit_compile=bool(jit_compile))
        self._compiled_losses = tf.function(self._data_losses, jit_compile=bool(jit_compile),
                                            reduce_retracing=True)
        self._predict_fn = None
        self.state.add_weights(self._weights())
        self._final = None  # the weights at the end of the last run (see use_weights)
        self.reset(stack_config(seed=np.arange(self.members)))

    def _weights(self):
        """The stacked weights in ``keras.Sequential`` order: kernel1, bias1, kernel2, ..., bias3."""
        return [w for layer in (self.hidden1, self.hidden2, self.out) for w in (layer.kernel, layer.bias)]

    def build(self, input_shape):
        self.hidden1.build(input_shape)
        self.hidden2.build((*input_shape[:-1], self.hidden))
        self.out.build((*input_shape[:-1], self.hidden))
        self.built = True

    @property
    def metrics(self):
        return [self.loss_tracker]

    # ----------------------------------------------------------------------- forward pass

    def call(self, x, training=False):
        """``x``: ``(K, batch, 2)`` → P(class 1), ``(K, batch, 1)``. With ``training=True``: each
        member's input noise and dropout, drawn for the optimizer's current step."""
        s = self.state
        step = self.optimizer.iterations
        if training:
            x = member_input_noise(x, s.noise, s.seed, step)
        h = self.hidden1(x)
        if training:
            h = member_dropout(h, s.dropout, s.seed, step, salt=1)
        h = self.hidden2(h)
        if training:
            h = member_dropout(h, s.dropout, s.seed, step, salt=2)
        return self.out(h)

    def penalty(self):
        """Per member, ``(K,)``: λ₁Σ|w| + λ₂Σw² over both hidden kernels, the part of the loss
        that Keras's ``l1``/``l2`` regularizers add (0 for ``"none"`` and ``"prox"``)."""
        # One fused elementwise pass per kernel; its gradient λ₁·sign(w) + λ₂·(2w) is, for each
        # member, exactly the gradient of Keras's l1(λ₁) or l2(λ₂) (the other λ being 0).
        lam_l1, lam_l2 = self.state.lam_l1[:, None, None], self.state.lam_l2[:, None, None]
        return sum(tf.reduce_sum(lam_l1 * tf.abs(w) + lam_l2 * tf.square(w), axis=(1, 2))
                   for w in (self.hidden1.kernel, self.hidden2.kernel))

    def _data_losses(self, X, y):
        """Per member, ``(K,)``: the clipped mean cross-entropy on ``X``, ``y`` (inference mode)."""
        p = self(X, training=False)[..., 0]
        return _clipped_bce(y, p, axis=1)

    # ----------------------------------------------------------------------- one training step

    def train_step(self, data):
        """Up to ``CHUNK`` Adam steps of every member: ``data`` is ``(indices, count)``, a
        ``(CHUNK, K, batch)`` block of :func:`batch_schedule` rows (gathered here from the stored
        training sets) of which the first ``count`` are steps, or, for the benchmark's
        ``feed="batches"``, the batches themselves ``(x, y, mask, count)``. The steps run inside
        one XLA-compiled function (:meth:`_steps`) whose shapes do not depend on ``n``; the gather
        and the curves' evaluation stay outside it (inside, XLA slowed every step by the size of
        the evaluation data, and every new ``n`` would recompile it)."""
        s = self.state
        if len(data) == 4:
            xb, yb, mask, count = data
        else:
            rows, count = data
            safe = tf.transpose(tf.maximum(rows, 0), [1, 0, 2])  # (K, CHUNK, batch)
            xb = tf.transpose(tf.gather(s.X, safe, batch_dims=1), [1, 0, 2, 3])
            yb = tf.transpose(tf.gather(s.y, safe, batch_dims=1), [1, 0, 2])
            mask = rows >= 0
        total = self._compiled_steps(xb, yb, tf.cast(mask, tf.float32), count)  # (K,)
        s.loss_sum.assign_add(total)
        self._record_curves()
        steps = tf.cast(count, tf.float32)
        self.loss_tracker.update_state(tf.reduce_sum(total) / steps, sample_weight=steps)
        return {"loss": self.loss_tracker.result()}

    def _steps(self, xb, yb, mask, count):
        """The first ``count`` steps of a block, one :meth:`_update` each; returns each member's
        sum of its losses over them, ``(K,)``."""
        def body(t, total):
            return t + 1, total + self._update(xb[t], yb[t], mask[t])

        start = (tf.constant(0, count.dtype), tf.zeros([self.members]))
        return tf.while_loop(lambda t, _: t < count, body, start)[1]

    def _update(self, xb, yb, mask):
        """Forward, backward and Adam (with the proximal step) on batches ``(K, batch, 2)``;
        returns each member's loss ``(K,)``: its mean batch cross-entropy (over its unmasked
        points) plus its penalty. The gradient is taken of their sum."""
        with tf.GradientTape() as tape:
            p = self(xb, training=True)
            bce = keras.losses.binary_crossentropy(yb[..., None], p)  # (K, batch), from the logit
            batch_loss = tf.reduce_sum(bce * mask, axis=1) / tf.reduce_sum(mask, axis=1)
            member_loss = batch_loss + self.penalty()
            loss = tf.reduce_sum(member_loss)
        weights = self.trainable_weights
        self.optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights, strict=True))
        c = self.state.max_norm
        tf.cond(tf.reduce_any(c > 0), self._apply_max_norm, lambda: tf.constant(False))
        return member_loss

    def _apply_max_norm(self):
        """``keras.constraints.MaxNorm(c)`` on both hidden kernels, after the optimizer's step (as
        Keras applies constraints): each hidden unit's incoming weight vector (a column of the
        kernel) is rescaled by ``min(norm, c) / (1e-7 + norm)``; members with ``c = 0`` unchanged."""
        c = self.state.max_norm[:, None, None]
        for kernel in (self.hidden1.kernel, self.hidden2.kernel):
            w = tf.convert_to_tensor(kernel)
            norms = tf.sqrt(tf.reduce_sum(tf.square(w), axis=1, keepdims=True))
            desired = tf.clip_by_value(norms, 0.0, c)
            kernel.assign(tf.where(c > 0, w * (desired / (keras.config.epsilon() + norms)), w))
        return tf.constant(True)

    # ----------------------------------------------------------------------- public API

    def reset(self, config: StackConfig) -> None:
        """Take ``config`` (one entry per member) and start over: each member's initial weights
        from its seed (:func:`helpers.keras_tools.glorot_kernel`, zero biases), Adam's state zeroed."""
        self._check_config(config)
        s = self.state
        s.lam_l1.assign(config.lam_of("l1"))
        s.lam_l2.assign(config.lam_of("l2"))
        s.lam_prox.assign(config.lam_of("prox"))
        s.dropout.assign(config.dropout.astype("float32"))
        s.noise.assign(config.noise.astype("float32"))
        s.max_norm.assign(config.max_norm.astype("float32"))
        s.best_val.assign(np.full(self.members, np.inf, "float32"))
        for var in (s.wait, s.best_eval, s.stop_eval):
            var.assign(np.zeros(self.members, "int64"))
        s.stopped.assign(np.zeros(self.members, bool))
        s.loss_sum.assign(np.zeros(self.members, "float32"))
        s.seed.assign(config.seed)
        for i, layer in enumerate((self.hidden1, self.hidden2, self.out)):
            shape = tuple(layer.kernel.shape[1:])
            layer.kernel.assign(np.stack([glorot_kernel(seed, i, shape) for seed in config.seed]))
            layer.bias.assign(np.zeros(layer.bias.shape, dtype="float32"))
        reset_optimizer(self.optimizer)
        self.config = config
        self._final = None

    def _check_finite(self, config: StackConfig) -> None:
        """After a run: a member whose loss or weights became NaN or infinite (a learning rate or a λ
        too large: the steps overflowed) stops everything with a ValueError naming it and what to
        lower, rather than measures that would silently read as a coin toss."""
        bad = ~np.isfinite(self.state.loss_sum.numpy())
        for w in self._weights():
            values = w.numpy()
            bad |= ~np.isfinite(values.reshape(values.shape[0], -1)).all(axis=1)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise NonFiniteTraining(
                k, f"member {k} ({config.kind[k]}, lam={config.lam[k]:g}, seed={config.seed[k]}) ended its training "
                   f"with a loss or weights that are not finite numbers ({int(bad.sum())} of {self.members} members "
                   f"did): its steps overflowed. Lower learning_rate (here {float(self.optimizer.learning_rate):g}) "
                   "or the member's lam.")

    def run(self, config: StackConfig, X, y, *, epochs: int | None = None, steps: int | None = None,
            X_val=None, y_val=None, every: int | None = None, patience: int | None = None,
            snapshots=None, feed: str = "indices") -> dict:
        """Reset to ``config`` and train every member in one ``fit`` call.

        ``epochs`` (of ``ceil(n / batch_size)`` steps) or ``steps`` (a fixed number of gradient
        steps). With ``every``, each member's data loss on its whole training set and on the
        validation set (``X_val``, ``y_val``: shared or per member) is recorded after every
        ``every`` epochs, inside the training graph. Returns a dict: ``steps``, ``epochs`` (may
        be fractional with ``steps``), ``loss`` (Keras's reported loss: the sum over members of
        batch data loss + penalty, averaged over the run's steps), ``member_loss`` ``(K,)`` (each
        member's part of it: its batch loss + penalty averaged over the steps) and, with ``every``,
        ``curve_epochs`` ``(n_evals,)``, ``curve_train`` and ``curve_val`` ``(n_evals, K)``
        (``curve_val`` is ``None`` without validation data).

        ``patience`` (epochs, a multiple of ``every``; needs validation data): early stopping of
        every member on its validation data loss, checked at each evaluation, exactly as
        ``keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience)`` would at that
        granularity (for a penalized member Keras's ``val_loss`` would include the penalty; this is
        the data loss alone). Adds ``best_epoch`` (the evaluation with the lowest validation loss),
        ``stop_epoch`` (when the member stopped, or the last epoch) and ``stopped`` (bool), arrays
        over members; then :meth:`use_weights` switches between the final weights, the best ones
        (``restore_best_weights=True``) and those at the stop (``restore_best_weights=False``).

        ``snapshots`` (member indices): those members' weights at every evaluation, returned as
        ``snapshots``, a list in ``keras.Sequential`` order of arrays ``(n_evals, S, ...)``.
        """
        if feed not in FEEDS:
            raise ValueError(f"feed must be one of {FEEDS}, got {feed!r}")
        self._check_config(config)
        X, y = self._member_data(X, y, "X", "y")
        n = X.shape[1]
        has_val = X_val is not None or y_val is not None
        if has_val:
            X_val, y_val = self._member_data(X_val, y_val, "X_val", "y_val")
        else:
            X_val, y_val = np.zeros((self.members, 0, 2), "float32"), np.zeros((self.members, 0), "float32")
        schedule = batch_schedule(config.seed, n, self.batch_size, epochs=epochs, steps=steps)
        spe = steps_per_epoch(n, self.batch_size)
        n_evals = 0
        if every is not None:
            every = check_int(every, "every", min_value=1, max_value=10**6)
            n_evals = len(schedule) // (every * spe)
            if n_evals == 0:
                raise ValueError(f"every must be at most the number of whole epochs, got {every}")
        patience_evals = 0
        if patience is not None:
            patience = check_int(patience, "patience", min_value=1, max_value=10**6)
            if not n_evals or not has_val:
                raise ValueError("patience needs every and validation data (X_val, y_val)")
            if patience % every:
                raise ValueError(f"patience must be a multiple of every ({every}), got {patience}")
            patience_evals = patience // every
        snap = np.zeros(0, "int32")
        if snapshots is not None:
            snap = check_array(snapshots, "snapshots", ndim=1)
            if not n_evals or snap.size == 0 or np.any(snap != np.round(snap)) or snap.min() < 0 \
                    or snap.max() >= self.members:
                raise ValueError(f"snapshots must hold member indices in [0, {self.members}) and needs every")
            snap = snap.astype("int32")
            check_size(n_evals * snap.size * sum(int(np.prod(w.shape[1:])) for w in self._weights()), "snapshots")
        self.reset(config)
        s = self.state
        for var, value in ((s.X, X), (s.y, y), (s.X_val, X_val), (s.y_val, y_val)):
            var.assign(value)
        s.period.assign(every * spe if n_evals else 0)
        blank = np.full((max(n_evals, 1), self.members), np.nan, "float32")  # XLA: never 0 rows
        s.curve_train.assign(blank)
        s.curve_val.assign(blank)
        s.patience.assign(patience_evals)
        s.snap_members.assign(snap)
        for w, var in zip(self._weights(), s.snapshots, strict=True):
            var.assign(np.zeros((max(n_evals, 1), max(snap.size, 1), *w.shape[1:]), "float32"))
        blocks, counts = step_blocks(schedule, every * spe if n_evals else 0, self.chunk)
        if feed == "indices":
            ds = tf.data.Dataset.from_tensor_slices((blocks, counts))
        else:
            safe, mask = np.maximum(blocks, 0), blocks >= 0
            rows = np.arange(self.members)[None, None, :, None]
            ds = tf.data.Dataset.from_tensor_slices((X[rows, safe], y[rows, safe], mask, counts))
        history = self.fit(ds, epochs=1, verbose=0, shuffle=False)
        self._check_finite(config)
        out = {"steps": len(schedule), "epochs": len(schedule) / spe, "loss": float(history.history["loss"][-1]),
               "member_loss": s.loss_sum.numpy().astype(float) / len(schedule)}
        if n_evals:
            out["curve_epochs"] = every * np.arange(1, n_evals + 1)
            out["curve_train"] = s.curve_train.numpy().astype(float)
            out["curve_val"] = s.curve_val.numpy().astype(float) if has_val else None
        self._final = [w.numpy() for w in self._weights()]
        if patience_evals:
            stopped = s.stopped.numpy()
            out["best_epoch"] = every * (s.best_eval.numpy() + 1)
            out["stop_epoch"] = np.where(stopped, every * (s.stop_eval.numpy() + 1), every * n_evals)
            out["stopped"] = stopped
            self._stopped = stopped
        if snap.size:
            out["snapshots"] = [var.numpy() for var in s.snapshots]
        return out
