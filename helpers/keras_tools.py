"""Keras tools for notebook 05: the article's network, fast training, proximal L1, measurements.

The measurements (:func:`predict_proba`, :func:`data_loss`, :func:`sparsity_counts`,
:func:`decision_grid`, :func:`weight_hist`, ...) live in :mod:`helpers.keras_measures` and are
importable from here too.

Importing this module imports TensorFlow/Keras (quietly, through :mod:`helpers.keras_env`), which
is why ``helpers/__init__.py`` does not import it: notebooks do
``from helpers.keras_tools import ...`` explicitly.

Conventions (the same as Keras):

* ``keras.regularizers.l1(lam)`` adds :math:`\\lambda\\sum|w|` and ``l2(lam)`` adds
  :math:`\\lambda\\sum w^2` (no 1/2, no 1/n) to the *mean* binary cross-entropy, once per
  regularized kernel. Only the two hidden kernels are penalized (as in the article); biases and
  the output layer are not.
* The ``loss`` that ``fit``/``evaluate`` report includes the penalty; :func:`data_loss` is the
  binary cross-entropy alone.

Speed. The article trains with ``model.fit(X, y, epochs=E, batch_size=32, validation_data=...)``.
On 100 examples that is ~4 tiny steps per epoch, each paying Python and callback overhead, plus an
evaluation on the validation set after every epoch. :func:`fit_fast` runs exactly the same
optimization (same epochs, same batch size 32, the examples reshuffled every epoch) as one
repeated ``tf.data`` pipeline inside a single ``fit`` call with a large ``steps_per_execution``
(the loop runs inside one TensorFlow graph) and evaluates once at the end. :class:`ModelPool`
keeps one compiled model per kind and re-initializes it for every (seed, λ) run, so the graph
is traced once instead of once per run.
"""

from __future__ import annotations

from helpers.keras_env import import_keras

keras = import_keras()  # before anything else loads TensorFlow: no log noise

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import ops  # noqa: E402

from helpers._counts import check_int, check_iterations, check_seed, check_size  # noqa: E402
from helpers._validate import (  # noqa: E402
    check_bool,
    check_choice,
    check_float32,
    check_scalar,
)
from helpers.keras_measures import (  # noqa: E402, F401 (the measurements: lessons import them from here)
    HIDDEN,
    _check_inputs,
    _check_model,
    _check_moons,
    accuracy,
    binary_cross_entropy,
    data_loss,
    decision_grid,
    grid_points,
    hidden_kernels,
    hist_edges,
    mean_std,
    predict_proba,
    sparsity_counts,
    weight_hist,
)

ARTICLE_LAMBDA = 0.001
PENALTIES = ("none", "l1", "l2", "prox")
MAX_STEPS_PER_EXECUTION = 1_000_000


def _check_penalty(penalty: str) -> str:
    return check_choice(penalty, "penalty", PENALTIES)


class TunablePenalty(keras.regularizers.Regularizer):
    r"""``l1``/``l2`` penalty whose strength is a Keras variable, so it can change without retracing.

    ``kind="l1"``: :math:`\lambda\sum|w|`; ``kind="l2"``: :math:`\lambda\sum w^2` (the values of
    ``keras.regularizers.l1(lam)`` / ``l2(lam)``). Used by :class:`ModelPool` for λ sweeps.
    """

    def __init__(self, kind: str, lam: float):
        self.kind = check_choice(kind, "kind", ("l1", "l2"))
        self.lam = keras.Variable(check_float32(check_scalar(lam, "lam"), "lam"), trainable=False,
                                  dtype="float32",
                                  name=f"{kind}_strength")

    def __call__(self, x):
        size = ops.abs(x) if self.kind == "l1" else ops.square(x)
        return self.lam * ops.sum(size)

    def get_config(self):
        return {"kind": self.kind, "lam": float(self.lam.numpy())}


class ProxAdam(keras.optimizers.Adam):
    r"""Adam followed by an exact L1 proximal step (soft-thresholding) on selected kernels.

    After Adam's update of a kernel :math:`w`, every entry is soft-thresholded,

    .. math:: w_i \leftarrow \mathrm{sign}(w_i)\max(|w_i| - \lambda\,d_i,\ 0),
              \qquad d_i = \frac{\alpha_t}{\sqrt{v_i} + \epsilon},

    where :math:`\alpha_t = \eta\sqrt{1-\beta_2^t}/(1-\beta_1^t)` and :math:`v_i` are Adam's own
    step size and second-moment estimate, so :math:`d_i` is the step Adam takes per unit of
    (first-moment) gradient on coordinate *i*. With plain gradient descent :math:`d_i = \eta`
    and this is textbook proximal gradient (ISTA). With Adam the step is diagonal-preconditioned,
    and the proximal operator of :math:`\lambda\sum|w|` in that metric is soft-thresholding at
    :math:`\lambda d_i`, not at :math:`\eta\lambda` (which would be far too small, because Adam
    divides by :math:`\sqrt{v}`). The L1 term is *not* in the loss; it only enters here, so
    entries that reach 0 stay exactly 0 until the data gradient is strong enough to pull them out.

    ``prox_layers`` names the layers whose ``kernel`` is thresholded (default: the two hidden
    layers; ``None``: every variable). Introduced in notebook 05.
    """

    def __init__(self, l1: float = ARTICLE_LAMBDA, prox_layers=HIDDEN, **kwargs):
        l1 = check_float32(check_scalar(l1, "l1"), "l1")
        if prox_layers is not None:
            if not isinstance(prox_layers, (list, tuple)) or not all(isinstance(p, str) for p in prox_layers):
                raise ValueError(f"prox_layers must be a list of layer names or None, got {prox_layers!r}")
            prox_layers = tuple(prox_layers)
        super().__init__(**kwargs)
        self.l1 = l1
        self.prox_layers = prox_layers
        self._prox_indices: set[int] = set()

    def build(self, variables):
        super().build(variables)
        if self.prox_layers is None:
            self._prox_indices = set(range(len(variables)))
            return
        suffixes = tuple(f"{name}/kernel" for name in self.prox_layers)
        self._prox_indices = {i for i, v in enumerate(variables) if v.path.endswith(suffixes)}

    def update_step(self, gradient, variable, learning_rate):
        super().update_step(gradient, variable, learning_rate)
        if self._get_variable_index(variable) not in self._prox_indices:
            return
        strength = self.prox_strength(variable)
        if strength is not None:
            self.soft_threshold(variable, strength, learning_rate)

    def prox_strength(self, variable):
        """λ of ``variable``'s proximal step, or ``None`` to skip it: here ``l1`` (``None`` if 0).

        A subclass may return a tensor that broadcasts against ``variable`` (one λ per slice,
        e.g. per member of :class:`helpers.keras_stack.StackedMLP`)."""
        return None if self.l1 == 0.0 else self.l1

    def soft_threshold(self, variable, strength, learning_rate) -> None:
        """Soft-threshold ``variable`` in place at ``strength`` · d_i, right after Adam's update of
        it in this step (d_i as in the class docstring, from this step's α_t and v)."""
        dtype = variable.dtype
        local_step = ops.cast(self.iterations + 1, dtype)
        alpha = (ops.cast(learning_rate, dtype)
                 * ops.sqrt(1 - ops.power(ops.cast(self.beta_2, dtype), local_step))
                 / (1 - ops.power(ops.cast(self.beta_1, dtype), local_step)))
        v = self._velocities[self._get_variable_index(variable)]
        threshold = strength * alpha / (ops.sqrt(v) + self.epsilon)
        self.assign(variable, ops.sign(variable) * ops.maximum(ops.abs(variable) - threshold, 0.0))

    def get_config(self):
        config = super().get_config()
        layers = None if self.prox_layers is None else list(self.prox_layers)
        config.update({"l1": self.l1, "prox_layers": layers})
        return config


def build_mlp(penalty: str = "none", lam: float = ARTICLE_LAMBDA, *, hidden: int = 128,
              learning_rate: float = 1e-3, tunable: bool = False,
              steps_per_execution: int = MAX_STEPS_PER_EXECUTION) -> keras.Model:
    """The article's network, compiled: Dense(128, relu) → Dense(128, relu) → Dense(1, sigmoid).

    ``penalty``: ``"none"`` (model 1), ``"l1"`` (model 2: ``keras.regularizers.l1(lam)`` on both
    hidden kernels), ``"l2"`` (``keras.regularizers.l2(lam)``, i.e. λΣw², on both hidden
    kernels), or ``"prox"`` (no penalty in the loss; :class:`ProxAdam` soft-thresholds both hidden
    kernels after each step). ``tunable=True`` uses :class:`TunablePenalty` so :func:`set_lambda`
    can change λ without recompiling. Loss: binary cross-entropy; optimizer: Adam(``learning_rate``).
    Weights are initialized from Keras's global seed (``keras.utils.set_random_seed``).
    """
    penalty = _check_penalty(penalty)
    lam = check_float32(check_scalar(lam, "lam"), "lam")
    hidden = check_int(hidden, "hidden", min_value=1)
    check_size(hidden * hidden, "hidden")
    learning_rate = check_float32(check_scalar(learning_rate, "learning_rate", strict=True), "learning_rate")
    tunable = check_bool(tunable, "tunable")
    steps_per_execution = check_int(steps_per_execution, "steps_per_execution", min_value=1,
                                    max_value=MAX_STEPS_PER_EXECUTION)
    if penalty in ("l1", "l2"):
        make = {"l1": keras.regularizers.l1, "l2": keras.regularizers.l2}[penalty]
        reg = TunablePenalty(penalty, lam) if tunable else make(lam)
    else:
        reg = None
    model = keras.Sequential([
        keras.Input(shape=(2,)),
        keras.layers.Dense(hidden, activation="relu", kernel_regularizer=reg, name="hidden1"),
        keras.layers.Dense(hidden, activation="relu", kernel_regularizer=reg, name="hidden2"),
        keras.layers.Dense(1, activation="sigmoid", name="output"),
    ], name=f"mlp_{penalty}")
    if penalty == "prox":
        optimizer = ProxAdam(l1=lam, learning_rate=learning_rate)
    else:
        optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"],
                  steps_per_execution=steps_per_execution, jit_compile=False)
    return model


def set_lambda(model: keras.Model, lam: float) -> None:
    """Set λ of a model built with ``tunable=True`` (or the L1 strength of a ``"prox"`` model)."""
    _check_model(model)
    lam = check_float32(check_scalar(lam, "lam"), "lam")
    if isinstance(model.optimizer, ProxAdam):
        # A Python float read at trace time: changing it requires a retrace, which we force.
        model.optimizer.l1 = lam
        model.train_function = None
        return
    regs = {id(layer.kernel_regularizer): layer.kernel_regularizer for layer in model.layers
            if getattr(layer, "kernel_regularizer", None) is not None}
    tunable = [r for r in regs.values() if isinstance(r, TunablePenalty)]
    if not tunable:
        raise ValueError("model must be built with tunable=True and penalty 'l1' or 'l2'")
    for reg in tunable:
        reg.lam.assign(lam)


def reset_model(model: keras.Model, seed: int) -> None:
    """Re-initialize ``model`` as if freshly built with seed ``seed``; clear the optimizer state.

    Kernels: Glorot-uniform (Keras's default) drawn with ``seed``; biases: zeros; Adam's moments
    and step counter: zeros. The compiled training graph is kept, so the next ``fit`` does not
    retrace.
    """
    _check_model(model)
    seed = check_seed(seed)
    if not all(hasattr(layer, "kernel") and getattr(layer, "bias", None) is not None
               for layer in model.layers):
        raise ValueError("model must have Dense layers with biases only (a build_mlp model)")
    for i, layer in enumerate(model.layers):
        layer.kernel.assign(glorot_kernel(seed, i, layer.kernel.shape))
        layer.bias.assign(np.zeros(layer.bias.shape, dtype="float32"))
    reset_optimizer(model.optimizer)


MAX_INIT_SEED = 1_999_999  # seed * 1000 + layer stays below 2**31


def glorot_kernel(seed: int, layer: int, shape) -> np.ndarray:
    """The initial kernel of layer ``layer`` (0-based) of a network initialized with ``seed``:
    Glorot-uniform (Keras's default for ``Dense``, limits ±sqrt(6 / (fan_in + fan_out))) drawn
    with ``GlorotUniform(seed=seed * 1000 + layer)``. The same seed gives the same kernel in every
    process (:func:`reset_model`, :class:`helpers.keras_stack.StackedMLP`)."""
    seed = check_int(seed, "seed", max_value=MAX_INIT_SEED)
    layer = check_int(layer, "layer", max_value=999)
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__len__") or len(shape) != 2:
        raise ValueError(f"shape must be a kernel's (fan_in, fan_out), got {shape!r}")
    shape = tuple(check_int(d, "shape", min_value=1) for d in shape)
    check_size(shape[0] * shape[1], "shape")
    init = keras.initializers.GlorotUniform(seed=seed * 1000 + layer)
    return np.asarray(init(shape), dtype="float32")


def reset_optimizer(optimizer) -> None:
    """Zero an optimizer's state (Adam's moments, the step counter), keeping its learning rate."""
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise ValueError(f"optimizer must be a Keras optimizer, got {type(optimizer).__name__}")
    if optimizer.built:
        for var in optimizer.variables:
            if var is not optimizer._learning_rate:
                var.assign(np.zeros(var.shape, dtype=var.dtype))


def fit_fast(model: keras.Model, X, y, epochs: int, *, batch_size: int = 32, seed: int = 0):
    """Train for ``epochs`` epochs in one ``fit`` call: a repeated ``tf.data`` pipeline, no
    per-epoch validation, the whole loop in one graph execution (``steps_per_execution``).

    Same optimization as ``model.fit(X, y, epochs=epochs, batch_size=batch_size,
    shuffle=True)``: every epoch visits each example once, in a fresh random order (seeded by
    ``seed``), in batches of ``batch_size``. Returns the ``History``.
    """
    _check_model(model)
    X, y = _check_moons(X, y)
    epochs = check_iterations(epochs, "epochs")
    batch_size = check_int(batch_size, "batch_size", min_value=1)
    ds = (tf.data.Dataset.from_tensor_slices((X, y))
          .shuffle(len(X), seed=check_seed(seed), reshuffle_each_iteration=True)
          .batch(batch_size)
          .repeat(epochs))
    return model.fit(ds, epochs=1, shuffle=False, verbose=0)


def fit_plain(model: keras.Model, X, y, epochs: int, X_val, y_val, *, batch_size: int = 32):
    """The straightforward way (the baseline of ``bench/bench_keras.py``): ``model.fit(X, y,
    epochs=epochs, batch_size=batch_size, validation_data=(X_val, y_val), verbose=0)``.

    Use a model compiled with ``steps_per_execution=1`` for a faithful baseline.
    """
    _check_model(model)
    X, y = _check_moons(X, y)
    X_val, y_val = _check_moons(X_val, y_val, "X_val", "y_val")
    epochs = check_iterations(epochs, "epochs")
    batch_size = check_int(batch_size, "batch_size", min_value=1)
    return model.fit(X, y, epochs=epochs, batch_size=batch_size,
                     validation_data=(X_val, y_val), verbose=0)


class ModelPool:
    """One compiled model per penalty kind, re-initialized for each run (no retracing).

    ``pool.run(penalty, lam, seed)`` trains the article's network for ``epochs`` epochs with
    :func:`fit_fast` on ``data`` (a :class:`helpers.Dataset`) and returns a dict with the train,
    validation and test accuracy, the data loss (no penalty) on train and test, the hidden kernels,
    and, if ``grid`` is given (output of :func:`grid_points`), P(class 1) on the grid.
    Runs are deterministic given ``seed`` (initial weights and shuffling). Notebook 05.
    """

    def __init__(self, data, epochs: int, *, batch_size: int = 32, learning_rate: float = 1e-3):
        parts = [f"{xy}_{part}" for part in ("train", "val", "test") for xy in ("X", "y")]
        if any(getattr(data, part, None) is None for part in parts):
            raise ValueError(f"data must be a helpers.Dataset with {', '.join(parts)} "
                             f"(e.g. load_moons_2d()), got {type(data).__name__}")
        for part in ("train", "val", "test"):
            _check_moons(getattr(data, f"X_{part}"), getattr(data, f"y_{part}"), f"data.X_{part}",
                         f"data.y_{part}")
        self.data = data
        self.epochs = check_iterations(epochs, "epochs")
        self.batch_size = check_int(batch_size, "batch_size", min_value=1)
        self.learning_rate = check_float32(check_scalar(learning_rate, "learning_rate", strict=True),
                                           "learning_rate")
        self.models: dict[str, keras.Model] = {}

    def model(self, penalty: str, lam: float = ARTICLE_LAMBDA) -> keras.Model:
        """The pooled model for ``penalty``, with its λ set to ``lam``."""
        penalty = _check_penalty(penalty)
        if penalty not in self.models:
            self.models[penalty] = build_mlp(penalty, lam, tunable=True,
                                             learning_rate=self.learning_rate)
        model = self.models[penalty]
        if penalty == "prox":
            if model.optimizer.l1 != lam:
                set_lambda(model, lam)
        elif penalty != "none":
            set_lambda(model, lam)
        return model

    def run(self, penalty: str, lam: float = ARTICLE_LAMBDA, seed: int = 0, grid=None) -> dict:
        model = self.model(penalty, lam)
        reset_model(model, seed)
        d = self.data
        fit_fast(model, d.X_train, d.y_train, self.epochs, batch_size=self.batch_size, seed=seed)
        out = {"penalty": penalty, "lam": lam, "seed": seed}
        for part in ("train", "val", "test"):
            X, y = getattr(d, f"X_{part}"), getattr(d, f"y_{part}")
            p = predict_proba(model, X)
            out[f"acc_{part}"] = accuracy(y, p)
            out[f"loss_{part}"] = binary_cross_entropy(y, p)
        out["kernels"] = hidden_kernels(model)
        if grid is not None:
            out["proba_grid"] = predict_proba(model, grid)
        return out
