r"""K copies of the article's network trained together by one ``model.fit`` (lesson 05's engine).

One Keras run of the article's network costs about a second, so a lesson can afford only a
handful. :class:`StackedMLP` holds ``K`` independent copies ("members") of the article's network
2 → Dense(h, relu) → Dense(h, relu) → Dense(1, sigmoid) as stacked kernels of shape
``(K, in, out)``: each layer computes ``einsum("kbi,kio->kbo", x, kernel) + bias`` on inputs of
shape ``(K, batch, in)`` (:class:`StackedDense`). One ``fit`` call trains all members, each one
exactly as if it were trained alone, because

* **the loss is the sum of the members' losses**, each member's loss being *its own* mean binary
  cross-entropy over *its own* batch plus *its own* penalty, so the gradient of the sum with
  respect to member k's weights is the gradient of member k's loss (the other terms do not
  depend on them);
* **Adam is per coordinate** (its moments, its step size and, for ``"prox"``, the threshold are
  elementwise), so each member follows exactly its own Adam trajectory.

Per member (a :class:`StackConfig`, built by :func:`stack_config`):

* ``seed``: the initial weights, Glorot-uniform kernels and zero biases drawn exactly as
  :func:`helpers.keras_tools.reset_model` draws them for that seed (so they depend on the seed
  only, never on ``K`` or on the other members), the batch order (a fresh permutation of the
  member's training set every epoch, from ``numpy.random.default_rng(seed)``; see
  :func:`batch_schedule`) and the random numbers of dropout and input noise;
* ``kind`` and ``lam`` (λ), the penalty, on the two **hidden kernels only** (biases and the
  output layer are never penalized):

  - ``"none"``: no penalty (λ must be 0);
  - ``"l1"``: :math:`\lambda\sum|w|` over both hidden kernels, added to the loss (as Keras's
    ``kernel_regularizer=l1(λ)`` on both hidden layers);
  - ``"l2"``: :math:`\lambda\sum w^2` (Keras's ``l2(λ)``: no 1/2, no 1/n), added to the loss;
  - ``"prox"``: nothing in the loss; after each Adam step the member's hidden kernels are
    soft-thresholded at :math:`\lambda d_i` (Adam's per-coordinate step), exactly as
    :class:`helpers.keras_tools.ProxAdam` does (the same code: :meth:`ProxAdam.soft_threshold`);
    the objective it minimizes is the L1 one, data loss + :math:`\lambda\sum|w|`;
* ``dropout``: a rate ``r`` in [0, 1) applied after each hidden ReLU during training (inverted
  dropout, as ``keras.layers.Dropout``: kept activations are divided by ``1 - r``; identity at
  inference; ``r = 0`` leaves the member exactly as without dropout);
* ``noise``: a standard deviation σ ≥ 0 of Gaussian noise added to the inputs during training
  (as ``keras.layers.GaussianNoise``; identity at inference).
* ``max_norm``: c > 0 constrains each hidden unit's incoming weight vector (a column of each
  hidden kernel) to norm ≤ c after every step, as ``kernel_constraint=keras.constraints.MaxNorm(c)``
  on both hidden layers (0: no constraint).

Early stopping (``run(..., every=, patience=)``, lesson 06): each member is watched on its
validation data loss at every evaluation, as ``keras.callbacks.EarlyStopping`` would; the stack
keeps each member's best weights and its weights at the stop, and :meth:`StackedMLP.use_weights`
switches to them after the run (all members train for the whole run; a stopped member's later
steps are just not used).

Training data: member k trains on ``X[k]`` (shape ``(n, 2)``) and ``y[k]``; all members of one
run share ``n``. Batches hold ``batch_size`` points; when ``batch_size`` does not divide ``n``
the last batch of each epoch is partial, as in Keras (with ``n < batch_size`` every batch is the
whole set): it is padded to the fixed batch shape and the padding is masked out of the mean, so
its gradient is exactly the mean over its real points. (One batch shape for every ``n``: a new
``n`` does not retrace the training step.) The index arrays reach the graph through ``tf.data``
in blocks of up to ``chunk`` steps (:func:`step_blocks`, 40 by default); the points of a block are
gathered from the training set, which the model holds in a variable, and the block's steps run
inside **one** XLA call (a ``tf.while_loop`` over the steps). The curves are recorded between
blocks: a block never straddles an evaluation. Indices take 15 MB for 100 members × 1200 steps
instead of 50 MB of materialized ``(steps, K, batch, 2)`` batches, labels and masks;
``bench/bench_stack.py`` measures both, and one step per XLA call (``chunk=1``), which pays
Keras's loop, the gather and the call's overhead (about 1-2 ms) at every step.

Conventions of the reported numbers:

* The ``loss`` that Keras reports during ``fit`` is the **sum over members** of (mean batch
  cross-entropy + penalty): it includes the penalties (as Keras's own ``loss`` does) and is not
  comparable between runs of different ``K``. Read per-member numbers from :meth:`StackedMLP.measure`.
* The training loss is Keras's binary cross-entropy (computed from the output layer's logit, as
  Keras does for a sigmoid output). The **data loss** that :meth:`StackedMLP.measure` and the
  curves report is :func:`helpers.keras_tools.binary_cross_entropy`'s: the mean over the points
  of :math:`-[y\log p + (1-y)\log(1-p)]` with ``p`` clipped to ``[1e-7, 1 - 1e-7]`` (the two
  agree unless a point is predicted wrong with probability above 1 - 1e-7).
* The **objective** is data loss + penalty, as the member's kind defines it (``"prox"``: the L1
  penalty).

Speed (``bench/bench_stack.py``, 2-core AVX-512 CPU, otherwise idle, 1-minute load 1.1-2.1):
100 article networks, 300 epochs (1200 steps) each, in one stack: 10.7-10.9 s including
building, tracing and the XLA compilation of the steps (about 3 s), 7.2 s for each later run (no
retracing for new settings, data or ``n``); on two stacks of 20 that take parts of 20 in turn
(:class:`StackShards`, as lessons 05 and 06 do): 10.8 s, then 6.1 s; as four shards of 25,
5.5 s per run once their four compilations are paid. ``fit_fast`` one network at a time takes
0.31-0.45 s each (33-41 s for 100); the straightforward ``fit`` with ``validation_data`` about
30 s each. Blocks of 40 steps per XLA call instead of one step per call: a stack of 20 trains
300 epochs in 1.1 s instead of 1.5-2.1 s (for 100 members the step itself dominates, and the
difference is within the noise). The stack is compute-bound (the 128×128 layer's three batched
products are ~0.3 GFLOP per step for K = 100). ``bench/bench_floor.py`` measures the floor: a
minimal stacked Adam loop with none of the engine's features costs 0.061 s of one core per
network, so on 2 cores no stacked engine can train more than about 8 times as many networks per
second as ``fit_fast`` (0.25 s per network without a penalty, idle); three quarters of that floor
(0.047-0.053 s) are the 128 × 128 layer's three batched products alone, at 71-80 GFLOP/s on one
core, arithmetic no correct engine can skip. Recording the curves every
10 epochs (train + 500 validation points) adds about 60 ms of CPU per evaluation.

Lesson 05 (see :class:`StackedMLP` for a call).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from helpers.keras_env import import_keras

keras = import_keras()  # before anything else loads TensorFlow: no log noise

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from helpers._counts import check_int, check_seed, check_size  # noqa: E402
from helpers._validate import check_array, check_bool, check_choice, check_scalar, check_xy  # noqa: E402
from helpers.keras_tools import (  # noqa: E402
    HIDDEN,
    MAX_STEPS_PER_EXECUTION,
    PENALTIES,
    ProxAdam,
    glorot_kernel,
    reset_optimizer,
)

MAX_SEED = 2_000_000  # seed * 1000 + layer must stay a 32-bit integer (helpers.keras_tools.glorot_kernel)
CLIP = 1e-7  # probability clipping of the data loss (Keras's epsilon, helpers.keras_tools.binary_cross_entropy)
POINTS_PER_CALL = 2**22  # inference: at most this many hidden activations (K * points * h) per graph call
CONTRACTIONS = ("einsum", "matmul")
FIELDS = ("kind", "lam", "seed", "dropout", "noise", "max_norm")
WEIGHTS = ("final", "best", "stopped")  # which weights measure() sees after an early-stopping run
FEEDS = ("indices", "batches")
CHUNK = 40  # gradient steps per XLA call (a block of the schedule; see step_blocks)


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class StackConfig:
    """What makes each of the ``K`` members different; arrays of length ``K`` (see :func:`stack_config`)."""

    kind: np.ndarray
    lam: np.ndarray
    seed: np.ndarray
    dropout: np.ndarray
    noise: np.ndarray
    max_norm: np.ndarray

    def __len__(self) -> int:
        return len(self.kind)

    def lam_of(self, kind: str) -> np.ndarray:
        """λ of the members of ``kind``, 0 for the others (float32, the precision of training)."""
        return np.where(self.kind == kind, self.lam, 0.0).astype("float32")

    def take(self, index) -> StackConfig:
        """The members at ``index`` (integer indices, repeats allowed), in that order."""
        return StackConfig(*(getattr(self, f)[index] for f in FIELDS))

    def select(self, **equal) -> np.ndarray:
        """Boolean mask of the members whose fields equal the given values, e.g. ``select(kind="l1")``."""
        mask = np.ones(len(self), dtype=bool)
        for name, value in equal.items():
            if name not in FIELDS:
                raise ValueError(f"select() got an unknown field {name!r}")
            mask &= getattr(self, name) == value
        return mask


def stack_config(kind="none", lam=0.0, seed=0, dropout=0.0, noise=0.0, max_norm=0.0, *,
                 members: int | None = None) -> StackConfig:
    """Per-member settings: each argument is one value for all members or a sequence of ``K``.

    ``kind`` in ``("none", "l1", "l2", "prox")``; ``lam`` λ ≥ 0 (0 for ``"none"``); ``seed`` an
    integer in [0, 2 000 000); ``dropout`` a rate in [0, 1); ``noise`` σ ≥ 0; ``max_norm`` the
    largest norm c > 0 of each hidden unit's incoming weights, or 0 for no constraint.
    ``members`` fixes ``K`` when every argument is a single value. Conventions: module docstring.
    """
    fields = {"kind": kind, "lam": lam, "seed": seed, "dropout": dropout, "noise": noise, "max_norm": max_norm}
    lengths = {name: len(v) for name, v in fields.items() if np.ndim(v) == 1}
    for name, v in fields.items():
        if np.ndim(v) > 1:
            raise ValueError(f"{name} must be one value or a 1-D sequence, got shape {np.shape(v)}")
    if members is not None:
        lengths["members"] = int(check_scalar(members, "members", min_value=1))
    sizes = set(lengths.values())
    if len(sizes) > 1:
        raise ValueError(f"per-member arguments must have the same length, got {lengths}")
    k = sizes.pop() if sizes else 1
    if k == 0:
        empty = [name for name, size in lengths.items() if size == 0]
        raise ValueError(f"{' and '.join(empty)} must not be empty: a stack needs at least one member")
    kinds = np.broadcast_to(np.asarray(kind, dtype=object), (k,)).astype(str)
    for value in set(kinds):
        if value not in PENALTIES:
            raise ValueError(f"kind must be one of {PENALTIES}, got {value!r}")
    lam = np.broadcast_to(check_array(lam, "lam", ndim=(0, 1)), (k,)).copy()
    if np.any(lam < 0):
        raise ValueError(f"lam must be >= 0, got {lam[lam < 0][0]!r}")
    if np.any((kinds == "none") & (lam != 0)):
        raise ValueError("lam must be 0 for the members of kind 'none'")
    seeds = np.broadcast_to(check_array(seed, "seed", ndim=(0, 1)), (k,))
    if np.any(seeds != np.round(seeds)) or np.any(seeds < 0) or np.any(seeds >= MAX_SEED):
        raise ValueError(f"seed must hold integers in [0, {MAX_SEED}), got {seed!r}")
    dropout = np.broadcast_to(check_array(dropout, "dropout", ndim=(0, 1)), (k,)).copy()
    if np.any(dropout < 0) or np.any(dropout >= 1):
        raise ValueError(f"dropout must hold rates in [0, 1), got {dropout.tolist()!r}")
    noise = np.broadcast_to(check_array(noise, "noise", ndim=(0, 1)), (k,)).copy()
    if np.any(noise < 0):
        raise ValueError(f"noise must hold standard deviations >= 0, got {noise.tolist()!r}")
    max_norm = np.broadcast_to(check_array(max_norm, "max_norm", ndim=(0, 1)), (k,)).copy()
    if np.any(max_norm < 0):
        raise ValueError(f"max_norm must hold norms > 0 (or 0: no constraint), got {max_norm.tolist()!r}")
    return StackConfig(kind=kinds, lam=lam, seed=seeds.astype(np.int64), dropout=dropout, noise=noise,
                       max_norm=max_norm)


def stack_grid(runs, seeds) -> StackConfig:
    """Every ``(kind, lam)`` of ``runs`` with every seed of ``seeds``, run-major: member
    ``i * len(seeds) + j`` is run ``i`` with seed ``seeds[j]``. E.g. lesson 05's table:
    ``stack_grid([("none", 0), ("l1", 1e-3), ("l2", 1e-3), ("prox", 1e-3)], range(5))``."""
    if isinstance(runs, (str, bytes)) or not hasattr(runs, "__iter__"):
        raise ValueError(f"runs must be a sequence of (kind, lam) pairs, got {runs!r}")
    runs = list(runs)
    for i, run in enumerate(runs):
        if not isinstance(run, (tuple, list)) or len(run) != 2:
            raise ValueError(f"runs[{i}] must be a (kind, lam) pair, got {run!r}")
        check_choice(run[0], f"runs[{i}] kind", PENALTIES)
        check_scalar(run[1], f"runs[{i}] lam")
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise ValueError(f"seeds must be a sequence of integers, got {seeds!r}")
    seeds = [check_seed(s, "seeds") for s in seeds]
    if not runs or not seeds:
        raise ValueError("runs and seeds must not be empty")
    kinds = [kind for kind, _ in runs for _ in seeds]
    lams = [lam for _, lam in runs for _ in seeds]
    return stack_config(kinds, lams, seeds * len(runs))


# --------------------------------------------------------------------------- batches


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Keras's number of batches per epoch: ``ceil(n / batch_size)`` (the last one may be partial)."""
    n = check_int(n, "n", min_value=1, max_value=10**7)
    batch_size = check_int(batch_size, "batch_size", min_value=1, max_value=10**6)
    return -(-n // batch_size)


def batch_schedule(seeds, n: int, batch_size: int = 32, *, epochs: int | None = None,
                   steps: int | None = None) -> np.ndarray:
    """Every member's batches, as indices into its training set: an int32 array of shape
    ``(steps, K, batch_size)``, ``-1`` marking the padding of a partial batch (the last of each
    epoch when ``batch_size`` does not divide ``n``; every batch when ``n < batch_size``).

    Member k's order comes from ``numpy.random.default_rng(seeds[k])`` alone: a fresh
    permutation of ``range(n)`` every epoch, cut into batches of ``batch_size`` in order (the
    epoch's last batch holds the remainder), as ``model.fit(..., shuffle=True)`` does. Give
    ``epochs`` (steps = epochs · ceil(n / batch_size)) or ``steps`` (a fixed number of gradient
    steps, possibly ending inside an epoch).
    """
    seeds = check_array(seeds, "seeds", ndim=1)
    if seeds.size == 0:
        raise ValueError("seeds must hold one seed per member, got none")
    seeds = np.array([check_seed(s, "seeds") for s in seeds], dtype=np.int64)
    spe = steps_per_epoch(n, batch_size)
    n, width = int(n), int(batch_size)
    if (epochs is None) == (steps is None):
        raise ValueError("give exactly one of epochs and steps")
    if epochs is not None:
        steps = check_int(epochs, "epochs", min_value=1, max_value=10**6) * spe
    steps = check_int(steps, "steps", min_value=1, max_value=10**7)
    check_size(-(-steps // spe) * spe * width * len(seeds), "steps")
    n_epochs = -(-steps // spe)
    out = np.full((n_epochs, spe * width, len(seeds)), -1, dtype=np.int32)
    base = np.broadcast_to(np.arange(n, dtype=np.int32), (n_epochs, n))
    for k, seed in enumerate(seeds):
        out[:, :n, k] = np.random.default_rng(int(seed)).permuted(base, axis=1)
    # Within an epoch the batches are consecutive slices of `width`; only the last holds padding.
    return out.reshape(n_epochs * spe, width, len(seeds))[:steps].transpose(0, 2, 1).copy()


def step_blocks(schedule, period: int = 0, chunk: int = CHUNK):
    """Cut a :func:`batch_schedule` ``(steps, K, batch)`` into blocks of at most ``chunk`` steps
    that never straddle a multiple of ``period`` (0: no evaluations), so the curves are recorded
    between blocks exactly where they are due. Returns ``blocks`` ``(n_blocks, chunk, K, batch)``
    (rows past a block's count filled with -1) and ``counts`` ``(n_blocks,)`` int32."""
    schedule = check_array(schedule, "schedule", ndim=3)
    if schedule.size == 0 or np.any(schedule != np.round(schedule)) or schedule.min() < -1:
        raise ValueError("schedule must be a non-empty (steps, K, batch) array of indices >= -1 "
                         "(see batch_schedule)")
    period = check_int(period, "period", min_value=0)
    chunk = check_int(chunk, "chunk", min_value=1, max_value=10**6)
    steps = len(schedule)
    spans, start = [], 0
    while start < steps:
        end = min(start + chunk, steps)
        if period:
            end = min(end, (start // period + 1) * period)
        spans.append((start, end))
        start = end
    blocks = np.full((len(spans), chunk, *schedule.shape[1:]), -1, dtype=np.int32)
    for i, (a, b) in enumerate(spans):
        blocks[i, : b - a] = schedule[a:b]
    return blocks, np.array([b - a for a, b in spans], dtype=np.int32)


# --------------------------------------------------------------------------- random numbers


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


# --------------------------------------------------------------------------- layers and optimizer


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


# --------------------------------------------------------------------------- the model


class StackedMLP(keras.Model):
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
        learning_rate = check_scalar(learning_rate, "learning_rate", strict=True)
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
        k = int(check_scalar(k, "k"))
        if k >= self.members:
            raise ValueError(f"k must be < {self.members}, got {k}")
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


# --------------------------------------------------------------------------- shards on several cores


class StackShards:
    """Several :class:`StackedMLP` ("shards") used as one stack of ``members`` networks, trained
    side by side in ``workers`` threads. Build the shards once and reuse them for any number of
    members: each one compiles its steps once, and a new run with other settings or data does
    not retrace (:class:`StackedMLP`)::

        pool = [StackedMLP(20) for _ in range(2)]   # 2 compilations, once
        big = StackShards(pool, members=240)        # a run of 240 members: 12 parts of 20
        small = StackShards(pool, members=70)       # later, 70: parts of 20, 20, 20 and 10

    Without ``members``, the shards hold exactly the sum of their sizes, one part each. With
    ``members``, the members are cut into **parts** of a shard's size and each shard trains its
    parts one after the other, the shards side by side (a short last part is padded with copies
    of its last member, whose results are dropped). After every part its weights are kept, so :meth:`measure`,
    :meth:`use_weights` and :meth:`hidden_kernels` see every member, whichever part it was in.

    Why shards (``bench/bench_stack.py``, 2-core AVX-512 CPU, article networks, 300 epochs): a
    stack's per-network cost grows with its size (its Adam state outgrows the caches: 16-28
    members cost about 0.05 s per network on two cores, 100 members 0.07 s, 240 members about
    twice that), and XLA does not always spread one large stack over both cores; shards in two
    threads keep both busy (100 networks as four shards of 25: 5.5 s per run instead of 7.2 s;
    on two shards of 20 taking parts in turn: 6.1 s). Each shard compiles its own steps (about
    3 s of CPU), so reuse a few small shards for many parts rather than building many.

    The same interface as :class:`StackedMLP` for what :func:`helpers.moons_experiment.run_design`
    uses (``members``, :meth:`run`, :meth:`measure`, :meth:`use_weights`, :meth:`hidden_kernels`),
    with every array over members in the caller's order, whichever shard trained a member
    (:meth:`run` deals the members to the parts grouped by what their training needs). Each
    member's training depends only on its own settings and data (module docstring), so shards
    give the same networks as one stack, up to float32 rounding (XLA may order a sum
    differently for another ``K``; ``tests/test_keras_stack.py``).
    """

    def __init__(self, stacks, workers: int = 2, members: int | None = None):
        if isinstance(stacks, StackedMLP) or not isinstance(stacks, (list, tuple)) or not stacks \
                or not all(isinstance(stack, StackedMLP) for stack in stacks):
            raise ValueError(f"stacks must be a non-empty list of StackedMLP, got {stacks!r}")
        if len({id(stack) for stack in stacks}) != len(stacks):
            raise ValueError("stacks must be distinct StackedMLP (a shard cannot train two parts at once)")
        self.stacks = list(stacks)
        self.workers = check_int(workers, "workers", min_value=1, max_value=64)
        capacity = sum(stack.members for stack in self.stacks)
        self.members = capacity if members is None else check_int(members, "members", min_value=1,
                                                                   max_value=100_000)
        # parts: (shard, first, stop) over the members in run order; each goes to the shard that
        # would finish it first, so equal shards take turns and each shard's parts run in turn
        load, self.plan, start = [0] * len(self.stacks), [], 0
        while start < self.members:
            i = min(range(len(self.stacks)), key=lambda j: (load[j] + self.stacks[j].members, j))
            stop = min(start + self.stacks[i].members, self.members)
            self.plan.append((i, start, stop))
            load[i] += self.stacks[i].members
            start = stop
        self._order = np.arange(self.members)  # member k trains in position _order.argsort()[k] (see run)
        self._config = None  # the last run's config, in run order
        self._kept = []  # per part: {"final": weights, "best": ..., "stopped": ...} (real members only)
        self._which = "final"

    # ----------------------------------------------------------------------- parts

    def _rows(self, p: int) -> np.ndarray:
        """Part ``p``'s members in run order, the last one repeated up to its shard's size."""
        i, first, stop = self.plan[p]
        return np.minimum(np.arange(first, first + self.stacks[i].members), stop - 1)

    def _member_value(self, value, ndim_per_member: int):
        """``value`` in run order when it is per member (``ndim_per_member`` dimensions), else ``None``."""
        if value is None or np.ndim(value) != ndim_per_member:
            return None
        value = np.asarray(value)
        if len(value) != self.members:
            raise ValueError(f"per-member arrays must have {self.members} members, got shape {value.shape}")
        return value[self._order]

    def _part_value(self, value, ordered, p: int):
        """What part ``p``'s shard gets of ``value``: its members' rows (padded), or the shared value."""
        return value if ordered is None else ordered[self._rows(p)]

    def _each_part(self, call) -> list:
        """``call(p, stack)`` for every part, each shard's parts in turn, the shards in threads;
        the results in part order."""
        def shard(i):
            return [(p, call(p, self.stacks[i])) for p, plan in enumerate(self.plan) if plan[0] == i]

        used = sorted({i for i, _, _ in self.plan})
        if self.workers == 1 or len(used) == 1:
            results = [shard(i) for i in used]
        else:
            with ThreadPoolExecutor(min(self.workers, len(used))) as pool:
                results = list(pool.map(shard, used))
        return [result for _, result in sorted((item for r in results for item in r), key=lambda item: item[0])]

    def _joined(self, parts, axis: int = 0) -> np.ndarray:
        """The parts' per-member arrays (real members only) as one, in the members' order."""
        return np.take(np.concatenate(parts, axis=axis), np.argsort(self._order), axis=axis)

    def _real(self, p: int, value, axis: int = 0):
        """Part ``p``'s real members of a per-member array of its (padded) shard."""
        _, first, stop = self.plan[p]
        return np.take(value, np.arange(stop - first), axis=axis)

    # ----------------------------------------------------------------------- public API

    def run(self, config: StackConfig, X, y, *, snapshots=None, X_val=None, y_val=None, **kwargs) -> dict:
        """:meth:`StackedMLP.run` of every part; returns the same dict, over all members.

        The members are dealt to the parts grouped by what their training needs: first those
        without dropout, input noise or max-norm, so a part with none of those members skips
        that work (a stack draws dropout masks for all its members when one of them needs them)."""
        if not isinstance(config, StackConfig) or len(config) != self.members:
            raise ValueError(f"config must be a StackConfig of {self.members} members (see stack_config)")
        order = np.lexsort((config.max_norm > 0, config.noise > 0, config.dropout > 0))  # stable
        position = np.argsort(order)
        snap = None
        if snapshots is not None:
            snap = check_array(snapshots, "snapshots", ndim=1)
            if snap.size == 0 or np.any(snap != np.round(snap)) or snap.min() < 0 or snap.max() >= self.members:
                raise ValueError(f"snapshots must hold member indices in [0, {self.members})")
            snap = position[snap.astype(int)]  # in run order
        self._order, self._kept = order, []  # a failed run leaves nothing to measure
        data = [(value, self._member_value(value, nd)) for value, nd in ((X, 3), (y, 2), (X_val, 3), (y_val, 2))]
        self._config = config.take(order)

        def train(p, stack):
            _, first, stop = self.plan[p]
            mine = None if snap is None else snap[(snap >= first) & (snap < stop)] - first
            X_p, y_p, X_val_p, y_val_p = (self._part_value(v, o, p) for v, o in data)
            out = stack.run(self._config.take(self._rows(p)), X_p, y_p, X_val=X_val_p, y_val=y_val_p,
                            snapshots=mine if mine is not None and mine.size else None, **kwargs)
            kept = {"final": [self._real(p, w.numpy()) for w in stack._weights()]}
            if "stopped" in out:
                for which in ("best", "stopped"):
                    stack.use_weights(which)
                    kept[which] = [self._real(p, w.numpy()) for w in stack._weights()]
                stack.use_weights("final")
            return out, kept

        results = self._each_part(train)
        outs = [out for out, _ in results]
        self._kept = [kept for _, kept in results]
        self._which = "final"
        out = {key: outs[0][key] for key in ("steps", "epochs", "curve_epochs") if key in outs[0]}
        out["member_loss"] = self._joined([self._real(p, o["member_loss"]) for p, o in enumerate(outs)])
        out["loss"] = float(out["member_loss"].sum())  # Keras's loss is a sum over members
        for key, axis in (("curve_train", 1), ("curve_val", 1), ("best_epoch", 0), ("stop_epoch", 0), ("stopped", 0)):
            if key in outs[0]:
                out[key] = None if outs[0][key] is None else self._joined(
                    [self._real(p, o[key], axis) for p, o in enumerate(outs)], axis=axis)
        if snap is not None:  # every part's snapshots, back in the order asked for
            rows = {}
            for p, o in enumerate(outs):
                _, first, stop = self.plan[p]
                for j, member in enumerate(snap[(snap >= first) & (snap < stop)]):
                    rows[int(member)] = [array[:, j] for array in o["snapshots"]]
            n_weights = len(rows[int(snap[0])])
            out["snapshots"] = [np.stack([rows[int(m)][w] for m in snap], axis=1) for w in range(n_weights)]
        return out

    def use_weights(self, which: str = "final") -> None:
        """As :meth:`StackedMLP.use_weights`, for every member of the last run."""
        which = check_choice(which, "which", WEIGHTS)
        if not self._kept:
            raise ValueError("which: run the stack first (use_weights switches a finished run's weights)")
        if which not in self._kept[0]:
            raise ValueError(f"which={which!r} needs a run with patience (early stopping)")
        self._which = which

    def measure(self, X, y, *, grid=None, tol: float = 1e-3) -> dict:
        """:meth:`StackedMLP.measure` of every part (its weights loaded into its shard), arrays over all members."""
        if not self._kept:
            raise ValueError("X: run the stack first (measure reads a finished run's networks)")
        data = [(value, self._member_value(value, nd)) for value, nd in ((X, 3), (y, 2))]

        def measure(p, stack):
            for var, value in zip(stack._weights(), self._kept[p][self._which], strict=True):
                var.assign(value[self._rows(p) - self.plan[p][1]])
            stack.config = self._config.take(self._rows(p))
            got = stack.measure(*(self._part_value(v, o, p) for v, o in data), grid=grid, tol=tol)
            return {key: value if key == "n_weights" else self._real(p, value) for key, value in got.items()}

        outs = self._each_part(measure)
        return {key: outs[0][key] if key == "n_weights" else self._joined([o[key] for o in outs]) for key in outs[0]}

    def hidden_kernels(self) -> list[np.ndarray]:
        """The two stacked hidden kernels over all members, as :meth:`StackedMLP.hidden_kernels`."""
        if not self._kept:
            raise ValueError("run the stack first (hidden_kernels reads a finished run's networks)")
        return [self._joined([kept[self._which][index] for kept in self._kept]) for index in (0, 2)]


__all__ = [
    "StackConfig",
    "StackShards",
    "StackedDense",
    "StackedMLP",
    "StackedProxAdam",
    "batch_schedule",
    "member_dropout",
    "member_input_noise",
    "member_normal",
    "member_uniform",
    "stack_config",
    "stack_grid",
    "step_blocks",
    "steps_per_epoch",
]
