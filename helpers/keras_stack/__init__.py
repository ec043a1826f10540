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

from helpers.keras_stack.config import (
    CHUNK,
    CLIP,
    CONTRACTIONS,
    FEEDS,
    FIELDS,
    MAX_SEED,
    PENALTIES,
    POINTS_PER_CALL,
    WEIGHTS,
    StackConfig,
    stack_config,
    stack_grid,
)
from helpers.keras_stack.layers import StackedDense, StackedProxAdam
from helpers.keras_stack.model import NonFiniteTraining, StackedMLP
from helpers.keras_stack.randomness import member_dropout, member_input_noise, member_normal, member_uniform
from helpers.keras_stack.schedule import batch_schedule, step_blocks, steps_per_epoch
from helpers.keras_stack.shards import StackShards

__all__ = [
    "CHUNK",
    "NonFiniteTraining",
    "CLIP",
    "CONTRACTIONS",
    "FEEDS",
    "FIELDS",
    "MAX_SEED",
    "PENALTIES",
    "POINTS_PER_CALL",
    "WEIGHTS",
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
