"""Tests for helpers.keras_stack: K article networks in one fit, each exactly as if trained alone.

Tolerances (float32):

* **Equivalence with a network trained alone** (``keras.Sequential`` from
  ``helpers.keras_tools.build_mlp``, same initial weights, the same batches through
  ``train_on_batch``): the forward pass is bit-for-bit the same, but the gradients are summed in
  another order (batched matmul and a broadcast bias instead of ``MatMul`` and ``BiasAdd``), so they
  differ in the last bit. After 3 epochs the weights agree to about 3e-8 without the proximal step
  and to 5e-7 at worst with it (a weight that lands a rounding error from its threshold is zeroed in
  one run and not in the other). We assert ``atol=5e-6``, far below a real difference (one Adam step
  moves a weight by up to the learning rate, 1e-3).
* **Speed knobs** (XLA or not, einsum or matmul, gathered or materialized batches): XLA fuses
  elementwise ops and rounds differently; measured 1.3e-6 at worst (proximal member), asserted 1e-5.
* **Independence**: bit-for-bit when one member's λ, kind, seed, data, dropout rate or noise σ
  changes in the same stack. Each member's arithmetic touches only its own slices (batched
  matmuls, per-member reductions, elementwise Adam and threshold), the summed loss sends a gradient
  of exactly 1 to every member's term, and a rate, σ or λ of 0 leaves a member exactly unchanged.
  A member trained in a stack of 4 and alone (K = 1) agrees to 1e-9 (measured), not bit for bit
  (XLA compiles the K = 1 product differently); asserted 1e-6. The same holds for
  ``StackShards`` (stacks of 3 and 2 members in threads) against one stack of 5.
* **Evaluation against NumPy** (float64 forward pass from the member's float32 weights):
  probabilities to 1e-5, losses to 1e-5 relative.
"""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from helpers import load_moons_2d  # noqa: E402
from helpers.keras_stack import (  # noqa: E402
    CHUNK,
    StackedMLP,
    StackShards,
    batch_schedule,
    member_dropout,
    member_input_noise,
    member_normal,
    member_uniform,
    stack_config,
    stack_grid,
    step_blocks,
    steps_per_epoch,
)
from helpers.keras_tools import (  # noqa: E402
    binary_cross_entropy,
    build_mlp,
    reset_model,
    sparsity_counts,
)
from helpers.penalties import l1_penalty, l2_penalty  # noqa: E402

H = 16  # hidden units: the properties tested here do not need the article's 128
EQUIV_ATOL = 5e-6
KNOB_ATOL = 1e-5
KINDS = ["none", "l1", "l2", "prox"]
LAMS = [0.0, 1e-2, 1e-2, 1e-2]  # large enough that the penalties and the zeros matter in 3 epochs


@pytest.fixture(scope="module")
def moons():
    return load_moons_2d()


@pytest.fixture(scope="module")
def stack():
    """One compiled 4-member stack, reused (new settings and data do not retrace)."""
    return StackedMLP(4, H)


def per_member_sets(moons, n, members=4):
    """Member k's training set: n points starting at 50k of the validation split (overlapping)."""
    X = np.stack([moons.X_val[50 * k:50 * k + n] for k in range(members)])
    y = np.stack([moons.y_val[50 * k:50 * k + n] for k in range(members)])
    return X, y


def forward_numpy(weights, X):
    """P(class 1) of one member, float64, from its weights in Sequential order."""
    k1, b1, k2, b2, k3, b3 = (np.asarray(w, dtype=float) for w in weights)
    h = np.maximum(X @ k1 + b1, 0)
    h = np.maximum(h @ k2 + b2, 0)
    return 1 / (1 + np.exp(-(h @ k3 + b3)[:, 0]))


def test_batch_schedule_permutes_every_epoch_and_pads_the_last_batch():
    s = batch_schedule([3, 7], n=10, batch_size=4, epochs=2)
    assert s.shape == (6, 2, 4) and s.dtype == np.int32  # ceil(10 / 4) = 3 steps per epoch
    for k in range(2):
        for epoch in range(2):
            rows = s[3 * epoch:3 * epoch + 3, k]
            assert np.all(rows[:2] >= 0) and list(rows[2]).count(-1) == 2 and np.all(rows[2, :2] >= 0)
            assert sorted(rows[rows >= 0]) == list(range(10))
        assert not np.array_equal(s[:3, k], s[3:, k])  # a fresh permutation every epoch
    np.testing.assert_array_equal(s[:, 1], batch_schedule([7], n=10, batch_size=4, epochs=2)[:, 0])
    np.testing.assert_array_equal(batch_schedule([3, 7], 10, 4, steps=5), s[:5])
    small = batch_schedule([0], n=3, batch_size=32, epochs=2)  # every batch is the whole set
    assert small.shape == (2, 1, 32) and np.all(np.sort(small[:, 0, :3], axis=1) == [0, 1, 2])
    assert np.all(small[:, 0, 3:] == -1)
    assert steps_per_epoch(100, 32) == 4 and steps_per_epoch(96, 32) == 3
    with pytest.raises(ValueError, match="exactly one of epochs and steps"):
        batch_schedule([0], 10, 4)
    with pytest.raises(ValueError, match="epochs"):
        batch_schedule([0], 10, 4, epochs=0)


def test_stack_config_and_grid():
    c = stack_config(KINDS, LAMS, [4, 5, 6, 7], dropout=0.1)
    assert len(c) == 4 and c.dropout.tolist() == [0.1] * 4
    np.testing.assert_array_equal(c.lam_of("l2"), np.float32([0, 0, 1e-2, 0]))
    assert c.select(kind="prox").tolist() == [False, False, False, True]
    assert len(stack_config(members=3)) == 3
    g = stack_grid([("none", 0), ("l1", 1e-3)], seeds=range(3))
    assert g.kind.tolist() == ["none"] * 3 + ["l1"] * 3 and g.seed.tolist() == [0, 1, 2] * 2
    assert g.lam.tolist() == [0, 0, 0, 1e-3, 1e-3, 1e-3]


@pytest.mark.parametrize("kwargs, match", [
    (dict(kind=["none", "l3"]), "kind"),
    (dict(kind="l1", lam=-1.0), "lam"),
    (dict(kind="none", lam=0.1), "lam must be 0"),
    (dict(seed=1.5), "seed"),
    (dict(seed=-1), "seed"),
    (dict(dropout=1.0), "dropout"),
    (dict(noise=-0.1), "noise"),
    (dict(max_norm=-1.0), "max_norm"),
    (dict(kind=["l1", "l2"], seed=[1, 2, 3]), "same length"),
    (dict(lam=[[0.1]]), "lam"),
])
def test_stack_config_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        stack_config(**kwargs)


def test_initial_weights_depend_on_the_seed_only(stack):
    stack.reset(stack_config(seed=[5, 0, 9, 2]))
    alone = StackedMLP(1, H)
    alone.reset(stack_config(seed=[0]))
    reference = build_mlp("none", hidden=H)
    reset_model(reference, 0)
    for a, b, c in zip(stack.member_weights(1), alone.member_weights(0), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    assert not np.array_equal(stack.member_weights(0)[2], stack.member_weights(1)[2])
    assert np.all(stack.member_weights(2)[1] == 0)


def test_each_member_matches_the_network_trained_alone(stack, moons):
    """none, l1, l2 (penalty in the loss) and prox (against ProxAdam), with a partial last batch
    (n = 90: batches of 32, 32, 26), each member on its own data, 3 epochs."""
    X, y = per_member_sets(moons, 90)
    config = stack_config(KINDS, LAMS, [11, 12, 13, 14])
    stack.run(config, X, y, epochs=3)
    schedule = batch_schedule(config.seed, 90, 32, epochs=3)
    assert sorted(set((schedule[:, 0] >= 0).sum(axis=1))) == [26, 32]
    for k, (kind, lam) in enumerate(zip(KINDS, LAMS, strict=True)):
        alone = build_mlp(kind, lam, hidden=H, steps_per_execution=1)
        reset_model(alone, int(config.seed[k]))
        for rows in schedule[:, k]:
            batch = rows[rows >= 0]
            alone.train_on_batch(X[k, batch].astype("float32"), y[k, batch].astype("float32"))
        for ours, theirs in zip(stack.member_weights(k), alone.get_weights(), strict=True):
            np.testing.assert_allclose(ours, theirs, rtol=0, atol=EQUIV_ATOL, err_msg=kind)
    zeros = stack.measure(X[0], y[0])["zeros"]
    assert zeros[3].sum() > 0 and zeros[:3].sum() == 0  # only the proximal member has exact zeros


def test_a_training_set_smaller_than_a_batch_is_one_padded_batch(stack, moons):
    X, y = per_member_sets(moons, 20)
    config = stack_config(KINDS, LAMS, [11, 12, 13, 14])
    stack.run(config, X, y, epochs=4)
    alone = build_mlp("l1", LAMS[1], hidden=H, steps_per_execution=1)
    reset_model(alone, 12)
    for rows in batch_schedule(config.seed, 20, 32, epochs=4)[:, 1]:
        assert np.sum(rows >= 0) == 20
        alone.train_on_batch(X[1, rows[rows >= 0]].astype("float32"), y[1, rows[rows >= 0]].astype("float32"))
    for ours, theirs in zip(stack.member_weights(1), alone.get_weights(), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=EQUIV_ATOL)


def test_changing_one_member_leaves_the_others_bit_for_bit(stack, moons):
    X, y = per_member_sets(moons, 100)
    base = dict(kind=KINDS, lam=LAMS, seed=[1, 2, 3, 4], dropout=[0.0] * 4, noise=[0.0] * 4)

    def train(X=X, **change):
        settings = {name: list(value) for name, value in base.items()}
        for name, value in change.items():
            settings[name][2] = value
        stack.run(stack_config(**settings), X, y, epochs=3)
        return [stack.member_weights(k) for k in range(4)]

    before = train()
    X_other = X.copy()
    X_other[2] = moons.X_test[:100]
    for change in (dict(lam=0.1), dict(kind="prox"), dict(seed=99), dict(X=X_other),
                   dict(dropout=0.3), dict(noise=0.2)):
        after = train(**change)
        assert not np.array_equal(after[2][2], before[2][2]), change
        for k in (0, 1, 3):
            for a, b in zip(after[k], before[k], strict=True):
                np.testing.assert_array_equal(a, b, err_msg=f"member {k} changed with {change}")


def test_a_member_trains_the_same_alone_and_in_a_stack(stack, moons):
    X, y = per_member_sets(moons, 100)
    stack.run(stack_config(KINDS, LAMS, [1, 2, 3, 4], dropout=[0, 0, 0.2, 0]), X, y, epochs=2)
    alone = StackedMLP(1, H)
    alone.run(stack_config("l2", 1e-2, 3, dropout=0.2), X[2], y[2], epochs=2)
    for a, b in zip(stack.member_weights(2), alone.member_weights(0), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


def test_dropout_is_inverted_in_training_and_absent_at_inference(stack, moons):
    h = np.ones((3, 64, 128), dtype="float32")
    out = member_dropout(h, np.float32([0.0, 0.5, 0.2]), np.int64([0, 1, 2]), 7, salt=1).numpy()
    np.testing.assert_array_equal(out[0], h[0])  # rate 0: unchanged
    for k, rate in ((1, 0.5), (2, 0.2)):
        assert set(np.unique(out[k])) == {0.0, np.float32(1 / (1 - rate))}
        assert abs(np.mean(out[k] == 0) - rate) < 0.03  # 8192 draws: sd below 0.006
        assert abs(out[k].mean() - 1.0) < 0.05  # inverted scaling keeps the mean
    alone = member_dropout(h[:1], np.float32([0.5]), np.int64([1]), 7, salt=1).numpy()
    np.testing.assert_array_equal(alone[0], out[1])  # the mask depends on the member's seed only
    other_step = member_dropout(h, np.float32([0.0, 0.5, 0.2]), np.int64([0, 1, 2]), 8, salt=1).numpy()
    assert not np.array_equal(other_step[1], out[1])
    # in the model: training draws masks, inference is the plain network
    X, y = per_member_sets(moons, 100)
    config = stack_config(seed=[1, 2, 3, 4], dropout=[0.0, 0.5, 0.5, 0.0])
    stack.run(config, X, y, epochs=1)
    x = np.broadcast_to(moons.X_test[:64], (4, 64, 2)).astype("float32")
    train_p = stack(x, training=True).numpy()[..., 0]
    infer_p = stack(x, training=False).numpy()[..., 0]
    np.testing.assert_array_equal(train_p[[0, 3]], infer_p[[0, 3]])
    assert np.abs(train_p[1] - infer_p[1]).max() > 1e-3
    for k in range(4):
        np.testing.assert_allclose(infer_p[k], forward_numpy(stack.member_weights(k), x[k]), atol=1e-5)


def test_input_noise_is_gaussian_per_member_and_training_only(stack, moons):
    x = np.zeros((2, 5000, 2), dtype="float32")
    out = member_input_noise(x, np.float32([0.0, 0.3]), np.int64([0, 1]), 3).numpy()
    np.testing.assert_array_equal(out[0], x[0])
    z = out[1].ravel() / 0.3
    assert abs(z.mean()) < 0.05 and abs(z.std() - 1) < 0.03
    assert abs(np.mean(np.abs(z) < 1) - 0.6827) < 0.02  # normal, not just unit variance
    assert abs(np.corrcoef(out[1, :, 0], out[1, :, 1])[0, 1]) < 0.05
    u = member_uniform(np.int64([0, 1]), 0, 5, [10000]).numpy()
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    assert abs(np.corrcoef(u[0], u[1])[0, 1]) < 0.05  # members draw independently
    assert member_normal(np.int64([4]), 0, 1, [3]).shape == (1, 3)
    X, y = per_member_sets(moons, 100)
    stack.run(stack_config(seed=[1, 2, 3, 4], noise=[0.0, 0.5, 0.0, 0.0]), X, y, epochs=1)
    xb = np.broadcast_to(moons.X_test[:64], (4, 64, 2)).astype("float32")
    noisy, clean = stack(xb, training=True).numpy(), stack(xb, training=False).numpy()
    np.testing.assert_array_equal(noisy[[0, 2, 3]], clean[[0, 2, 3]])
    assert np.abs(noisy[1] - clean[1]).max() > 1e-3


def test_measure_matches_a_numpy_computation_per_member(stack, moons):
    X, y = per_member_sets(moons, 100)
    config = stack_config(KINDS, LAMS, [1, 2, 3, 4])
    stack.run(config, X, y, epochs=2)
    kernel = stack.hidden2.kernel.numpy()
    kernel[1, :3, 0] = 0.0  # exact zeros and near-zeros in member 1
    kernel[1, 3:5, 0] = 5e-4
    stack.hidden2.kernel.assign(kernel)
    grid = np.array([[0.0, 0.0], [1.0, -0.5], [-1.0, 1.0]])
    m = stack.measure(moons.X_test, moons.y_test, grid=grid, tol=1e-3)
    assert m["n_weights"].tolist() == [2 * H, H * H]
    for k, (kind, lam) in enumerate(zip(KINDS, LAMS, strict=True)):
        weights = stack.member_weights(k)
        p = forward_numpy(weights, moons.X_test)
        np.testing.assert_allclose(m["proba"][k], p, atol=1e-5)
        np.testing.assert_allclose(m["proba_grid"][k], forward_numpy(weights, grid), atol=1e-5)
        assert m["data_loss"][k] == pytest.approx(binary_cross_entropy(moons.y_test, p), rel=1e-5)
        near_half = np.sum(np.abs(p - 0.5) < 1e-5)
        assert abs(m["accuracy"][k] - np.mean((p >= 0.5) == moons.y_test)) <= near_half / p.size
        kernels = [weights[0], weights[2]]
        penalty = {"none": 0.0, "l1": l1_penalty(kernels, lam), "l2": l2_penalty(kernels, lam),
                   "prox": l1_penalty(kernels, lam)}[kind]
        assert m["penalty"][k] == pytest.approx(penalty, rel=1e-6)
        assert m["objective"][k] == pytest.approx(m["data_loss"][k] + penalty, rel=1e-6)
        counts = sparsity_counts(kernels, tol=1e-3)
        assert m["zeros"][k].tolist() == [c["zero"] for c in counts]
        assert m["small"][k].tolist() == [c["small"] for c in counts]
    assert m["zeros"][1, 1] >= 3 and m["small"][1, 1] >= 5
    per_member = stack.measure(X, y)  # one set per member
    p0 = forward_numpy(stack.member_weights(0), X[0])
    assert per_member["data_loss"][0] == pytest.approx(binary_cross_entropy(y[0], p0), rel=1e-5)


def test_keras_loss_is_the_sum_of_member_losses_with_penalties(stack, moons):
    X, y = per_member_sets(moons, 100)
    config = stack_config(KINDS, LAMS, [1, 2, 3, 4])
    stack.reset(config)
    start = [stack.member_weights(k) for k in range(4)]
    batch = batch_schedule(config.seed, 100, 32, steps=1)[0]
    expected = 0.0
    for k, (kind, lam) in enumerate(zip(KINDS, LAMS, strict=True)):
        xb, yb = X[k, batch[k]], y[k, batch[k]]
        w = start[k]
        h = np.maximum(np.maximum(xb @ w[0] + w[1], 0) @ w[2] + w[3], 0)
        z = (h @ w[4] + w[5])[:, 0]
        expected += np.mean(np.logaddexp(0, z) - yb * z)  # cross-entropy from the logit, as Keras
        expected += {"l1": l1_penalty([w[0], w[2]], lam), "l2": l2_penalty([w[0], w[2]], lam)}.get(kind, 0.0)
    assert stack.run(config, X, y, steps=1)["loss"] == pytest.approx(expected, rel=1e-5)


def test_curves_record_the_data_loss_every_few_epochs(stack, moons):
    X, y = per_member_sets(moons, 100)
    config = stack_config(KINDS, LAMS, [1, 2, 3, 4])
    run = stack.run(config, X, y, epochs=4, X_val=moons.X_test, y_val=moons.y_test, every=2)
    assert run["curve_epochs"].tolist() == [2, 4] and run["curve_train"].shape == (2, 4)
    for row, epochs in enumerate((2, 4)):
        stack.run(config, X, y, epochs=epochs)
        np.testing.assert_allclose(run["curve_train"][row], stack.measure(X, y)["data_loss"], rtol=1e-5)
        np.testing.assert_allclose(run["curve_val"][row], stack.measure(moons.X_test, moons.y_test)["data_loss"],
                                   rtol=1e-5)
    assert run["curve_train"][1].mean() < run["curve_train"][0].mean()
    no_val = stack.run(config, X, y, steps=10, every=1)  # 4 steps per epoch: evaluated after 4 and 8
    assert no_val["curve_val"] is None and no_val["curve_train"].shape == (2, 4)
    assert no_val["epochs"] == 2.5 and no_val["steps"] == 10
    assert "curve_train" not in stack.run(config, X, y, epochs=1)


def test_speed_knobs_train_the_same_networks(stack, moons):
    """einsum vs matmul, XLA vs none, indices gathered in the graph vs materialized batches."""
    X, y = per_member_sets(moons, 90)
    config = stack_config(KINDS, LAMS, [1, 2, 3, 4], dropout=[0, 0, 0.1, 0], noise=[0, 0.1, 0, 0])
    stack.run(config, X, y, epochs=2)
    other = StackedMLP(4, H, jit_compile=False, contraction="matmul", steps_per_execution=5, chunk=3)
    other.run(config, X, y, epochs=2, feed="batches")
    for k in range(4):
        for a, b in zip(stack.member_weights(k), other.member_weights(k), strict=True):
            np.testing.assert_allclose(a, b, rtol=0, atol=KNOB_ATOL)


def test_blocks_of_steps_give_the_same_run_whatever_their_size(moons):
    """One step per XLA call (chunk=1), blocks of 3 and the default block: same weights, curves
    and early-stopping epochs, and Keras's reported loss is the same mean over the steps."""
    X, y = per_member_sets(moons, 90)
    config = stack_config(KINDS, LAMS, [1, 2, 3, 4], dropout=[0, 0, 0.1, 0], noise=[0, 0.1, 0, 0])
    runs, stacks = [], []
    for chunk in (1, 3, CHUNK):
        stacks.append(StackedMLP(4, H, chunk=chunk))
        runs.append(stacks[-1].run(config, X, y, epochs=6, X_val=moons.X_val, y_val=moons.y_val, every=2,
                                   patience=2))
    for run, stack in zip(runs[1:], stacks[1:], strict=True):
        np.testing.assert_allclose(run["curve_val"], runs[0]["curve_val"], rtol=1e-5)
        np.testing.assert_array_equal(run["best_epoch"], runs[0]["best_epoch"])
        assert run["loss"] == pytest.approx(runs[0]["loss"], rel=1e-5)
        for k in range(4):
            for a, b in zip(stack.member_weights(k), stacks[0].member_weights(k), strict=True):
                np.testing.assert_allclose(a, b, rtol=0, atol=KNOB_ATOL)


def test_shards_train_more_members_than_they_hold_in_parts(moons):
    """Two shards of 2 for 7 members: parts of 2, 2, 2 and 1 (padded), each shard's in turn; the
    same networks, curves, early stopping, snapshots and measures as one stack of 7."""
    X, y = per_member_sets(moons, 40, members=7)
    config = stack_config(KINDS + ["l2", "none", "l1"], LAMS + [1e-3, 0.0, 1e-3], [1, 2, 3, 4, 5, 6, 7],
                          dropout=[0, 0, 0.2, 0, 0, 0, 0.1], noise=[0.1, 0, 0, 0, 0, 0, 0])
    kwargs = dict(epochs=12, X_val=moons.X_test[:200], y_val=moons.y_test[:200], every=4, patience=4,
                  snapshots=[6, 0, 3, 0])
    one = StackedMLP(7, H)
    parts = StackShards([StackedMLP(2, H), StackedMLP(2, H)], members=7)
    assert parts.members == 7 and [i for i, _, _ in parts.plan] == [0, 1, 0, 1]
    runs = [one.run(config, X, y, **kwargs), parts.run(config, X, y, **kwargs)]
    assert runs[1].keys() == runs[0].keys()
    for key in ("curve_train", "curve_val", "member_loss"):
        np.testing.assert_allclose(runs[1][key], runs[0][key], rtol=1e-5, err_msg=key)
    for key in ("best_epoch", "stop_epoch", "stopped", "curve_epochs"):
        np.testing.assert_array_equal(runs[1][key], runs[0][key])
    assert runs[1]["loss"] == pytest.approx(runs[0]["loss"], rel=1e-5)
    for a, b in zip(runs[1]["snapshots"], runs[0]["snapshots"], strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    for which in ("stopped", "best", "final"):
        one.use_weights(which)
        parts.use_weights(which)
        m1, m2 = one.measure(X, y, grid=moons.X_val[:50]), parts.measure(X, y, grid=moons.X_val[:50])
        for key in m1:
            np.testing.assert_allclose(m2[key], m1[key], rtol=1e-5, atol=1e-6, err_msg=f"{which}: {key}")
        for a, b in zip(parts.hidden_kernels(), one.hidden_kernels(), strict=True):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    parts.run(config, X, y, epochs=2)
    with pytest.raises(ValueError, match="which"):
        parts.use_weights("best")  # no early stopping in that run
    fresh = StackShards([StackedMLP(2, H)], members=3)
    for call in (lambda: fresh.use_weights("final"), lambda: fresh.measure(X[:3], y[:3]), fresh.hidden_kernels):
        with pytest.raises(ValueError, match="run the stack first"):
            call()
    with pytest.raises(ValueError, match="members"):
        StackShards([StackedMLP(2, H)], members=0)


def test_step_blocks_cut_the_schedule_at_every_evaluation():
    schedule = batch_schedule([3, 7], n=10, batch_size=4, epochs=7)  # 21 steps, (21, 2, 4)
    for period, chunk in ((0, 5), (6, 4), (6, 40), (3, 1), (0, 100)):
        blocks, counts = step_blocks(schedule, period, chunk)
        assert blocks.shape == (len(counts), chunk, 2, 4) and counts.dtype == np.int32
        assert np.all((counts >= 1) & (counts <= chunk)) and counts.sum() == len(schedule)
        np.testing.assert_array_equal(np.concatenate([b[:c] for b, c in zip(blocks, counts, strict=True)]), schedule)
        assert all(np.all(b[c:] == -1) for b, c in zip(blocks, counts, strict=True))
        ends = np.cumsum(counts)
        if period:  # every evaluation falls at the end of a block
            assert set(range(period, len(schedule) + 1, period)) <= set(ends.tolist())
    for bad, match in (((schedule[0], 0, 4), "schedule"), ((schedule, -1, 4), "period"), ((schedule, 0, 0), "chunk")):
        with pytest.raises(ValueError, match=match):
            step_blocks(*bad)


def test_bad_input_names_the_argument(stack, moons):
    X, y = moons.X_train, moons.y_train
    config = stack_config(members=4)
    cases = [
        (lambda: StackedMLP(0), "members"),
        (lambda: StackedMLP(2, contraction="dot"), "contraction"),
        (lambda: StackedMLP(2, chunk=0), "chunk"),
        (lambda: stack.reset(stack_config(members=3)), "config must have 4 members"),
        (lambda: stack.reset({"kind": "none"}), "config"),
        (lambda: stack.run(config, X[:, :1], y, epochs=1), "X"),
        (lambda: stack.run(config, X, y[:-1], epochs=1), "y"),
        (lambda: stack.run(config, X, y + 1, epochs=1), "y"),
        (lambda: stack.run(config, np.stack([X] * 3), y, epochs=1), "X"),
        (lambda: stack.run(config, X, np.stack([y] * 3), epochs=1), "y"),
        (lambda: stack.run(config, X, y, epochs=1, X_val=X[:, :1], y_val=y), "X_val"),
        (lambda: stack.run(config, X, y, epochs=2, every=3), "every"),
        (lambda: stack.run(config, X, y), "epochs"),
        (lambda: stack.run(config, X, y, epochs=1, feed="tensors"), "feed"),
        (lambda: stack.measure(X, y, tol=0), "tol"),
        (lambda: stack.predict_members(np.zeros((3, 3))), "X"),
        (lambda: stack.member_weights(4), "k"),
    ]
    for call, match in cases:
        with pytest.raises(ValueError, match=match):
            call()


def test_max_norm_matches_keras_maxnorm_on_the_hidden_kernels(stack, moons):
    """A member with max_norm = c trains as a Sequential network whose hidden layers have
    kernel_constraint=keras.constraints.MaxNorm(c) (applied after each Adam step); c = 0: none."""
    X, y = per_member_sets(moons, 90)
    config = stack_config(["none", "l2", "none", "none"], [0, 1e-2, 0, 0], [11, 12, 13, 14],
                          max_norm=[0.0, 0.5, 0.3, 0.0])
    stack.run(config, X, y, epochs=3)
    schedule = batch_schedule(config.seed, 90, 32, epochs=3)
    for k in (1, 2):
        alone = build_mlp(str(config.kind[k]), float(config.lam[k]), hidden=H, steps_per_execution=1)
        for layer in alone.layers[:2]:
            layer.kernel_constraint = keras.constraints.MaxNorm(float(config.max_norm[k]))
            layer.kernel.constraint = layer.kernel_constraint
        reset_model(alone, int(config.seed[k]))
        for rows in schedule[:, k]:
            batch = rows[rows >= 0]
            alone.train_on_batch(X[k, batch].astype("float32"), y[k, batch].astype("float32"))
        for ours, theirs in zip(stack.member_weights(k), alone.get_weights(), strict=True):
            np.testing.assert_allclose(ours, theirs, rtol=0, atol=EQUIV_ATOL)
        norms = [np.linalg.norm(w[k], axis=0) for w in stack.hidden_kernels()]  # per hidden unit
        assert max(n.max() for n in norms) <= config.max_norm[k] + 1e-6
        assert max(n.max() for n in norms) > 0.9 * config.max_norm[k]  # the constraint was active
    unconstrained = stack.member_weights(3)
    stack.run(stack_config(["none", "l2", "none", "none"], [0, 1e-2, 0, 0], [11, 12, 13, 14]), X, y, epochs=3)
    for a, b in zip(unconstrained, stack.member_weights(3), strict=True):
        np.testing.assert_array_equal(a, b)  # c = 0 is no constraint, bit for bit


def test_early_stopping_keeps_the_best_and_the_stopped_weights(stack, moons):
    """The best weights are those of the evaluation with the lowest validation loss (a run of
    that many epochs ends with them); a member stops after `patience` epochs without improvement."""
    X, y = per_member_sets(moons, 20)
    config = stack_config(KINDS, [0, 1e-3, 1e-3, 1e-3], [1, 2, 3, 4])
    X_val, y_val = moons.X_test[:300], moons.y_test[:300]
    run = stack.run(config, X, y, epochs=300, X_val=X_val, y_val=y_val, every=5, patience=10, snapshots=[0, 2])
    curve = run["curve_val"]
    for k in range(4):
        first_stop = None
        best, wait = np.inf, 0
        for i, v in enumerate(curve[:, k]):  # keras.callbacks.EarlyStopping's rule, one evaluation at a time
            wait += 1
            if v < best:
                best, best_i, wait = v, i, 0
            elif wait >= 2:
                first_stop = i
                break
        assert run["stopped"][k] == (first_stop is not None)
        assert run["best_epoch"][k] == 5 * (best_i + 1)
        assert run["stop_epoch"][k] == (5 * (first_stop + 1) if first_stop is not None else 300)
    assert run["stopped"][2] and not run["stopped"].all()  # measured: member 2 stops at epoch 215
    final = [stack.member_weights(k) for k in range(4)]
    snaps = run["snapshots"]
    assert snaps[0].shape == (60, 2, 2, H) and snaps[5].shape == (60, 2, 1)
    for a, b in zip(final[2], [s[-1, 1] for s in snaps], strict=True):
        np.testing.assert_array_equal(a, b)  # the last snapshot is the final weights
    stack.use_weights("best")
    best_loss = stack.measure(X_val, y_val)["data_loss"]
    seen = np.arange(60)[:, None] < run["stop_epoch"] // 5  # the evaluations before each member stopped
    np.testing.assert_allclose(best_loss, np.where(seen, curve, np.inf).min(axis=0), rtol=1e-5)
    k = 2
    for a, b in zip(stack.member_weights(k), [s[run["best_epoch"][k] // 5 - 1, 1] for s in snaps], strict=True):
        np.testing.assert_array_equal(a, b)
    stack.use_weights("stopped")
    stopped_loss = stack.measure(X_val, y_val)["data_loss"]
    np.testing.assert_allclose(stopped_loss[k], curve[run["stop_epoch"][k] // 5 - 1, k], rtol=1e-5)
    stack.use_weights("final")
    for a, b in zip(stack.member_weights(1), final[1], strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="patience"):
        stack.run(config, X, y, epochs=10, X_val=X_val, y_val=y_val, every=5, patience=7)
    with pytest.raises(ValueError, match="patience"):
        stack.run(config, X, y, epochs=10, every=5, patience=5)
    stack.run(config, X, y, epochs=1)
    with pytest.raises(ValueError, match="which"):
        stack.use_weights("best")


def test_shards_in_threads_train_the_same_networks_as_one_stack(stack, moons):
    """StackShards: every array over members in the whole stack's order, whatever the shards."""
    X, y = per_member_sets(moons, 40, members=5)
    config = stack_config(KINDS + ["l2"], LAMS + [1e-3], [1, 2, 3, 4, 5], dropout=[0, 0, 0.2, 0, 0],
                          noise=[0.1, 0, 0, 0, 0])  # grouped: members 1, 3, 4 first, then 2 and 0
    X_val, y_val = moons.X_test[:200], moons.y_test[:200]
    kwargs = dict(epochs=20, X_val=X_val, y_val=y_val, every=5, patience=5, snapshots=[4, 0, 3])
    one = StackedMLP(5, H)
    shards = StackShards([StackedMLP(3, H), StackedMLP(2, H)])
    assert shards.members == 5
    runs = [one.run(config, X, y, **kwargs), shards.run(config, X, y, **kwargs)]
    for key in ("curve_train", "curve_val"):
        np.testing.assert_allclose(runs[1][key], runs[0][key], rtol=1e-5)
    for key in ("best_epoch", "stop_epoch", "stopped", "curve_epochs"):
        np.testing.assert_array_equal(runs[1][key], runs[0][key])
    assert runs[1]["loss"] == pytest.approx(runs[0]["loss"], rel=1e-5)
    for a, b in zip(runs[1]["snapshots"], runs[0]["snapshots"], strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    for which in ("best", "final"):
        one.use_weights(which)
        shards.use_weights(which)
        m1 = one.measure(moons.X_test, moons.y_test, grid=X_val)
        m2 = shards.measure(moons.X_test, moons.y_test, grid=X_val)
        assert m1.keys() == m2.keys()
        for key in m1:
            np.testing.assert_allclose(m2[key], m1[key], rtol=1e-5, atol=1e-6, err_msg=key)
    for a, b in zip(shards.hidden_kernels(), one.hidden_kernels(), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    per_member = shards.measure(X, y)["accuracy"]  # per-member points go to their own shard
    np.testing.assert_allclose(per_member, one.measure(X, y)["accuracy"])
    np.testing.assert_allclose(runs[1]["member_loss"], runs[0]["member_loss"], rtol=1e-5)
    assert runs[0]["member_loss"].sum() == pytest.approx(runs[0]["loss"], rel=1e-5)
    for bad in (one, [], [one, one], [one, "stack"]):
        with pytest.raises(ValueError, match="stacks"):
            StackShards(bad)
    with pytest.raises(ValueError, match="config"):
        shards.run(stack_config("none", 0.0, [1, 2]), X, y, epochs=1)
    with pytest.raises(ValueError, match="snapshots"):
        shards.run(config, X, y, snapshots=[5], **{k: v for k, v in kwargs.items() if k != "snapshots"})


def test_a_run_that_overflows_stops_with_the_member_and_what_to_lower():
    """Issue 26: StackedMLP(2, hidden=8, learning_rate=1e300) or stack_config("l2", 1e39) trained
    without an error, and measure() then reported accuracy 0.5 with NaN probabilities."""
    from helpers.keras_stack import NonFiniteTraining

    with pytest.raises(ValueError, match="learning_rate"):
        StackedMLP(2, hidden=4, learning_rate=1e300)
    with pytest.raises(ValueError, match="lam"):
        stack_config("l2", 1e39, seed=[0, 1])
    data = load_moons_2d()
    stack = StackedMLP(2, hidden=4, learning_rate=1e30)
    overflow = r"member 0 \(none, lam=0, seed=0\).*Lower learning_rate \(here 1e\+30\)"
    with pytest.raises(NonFiniteTraining, match=overflow):
        stack.run(stack_config(seed=[0, 1]), data.X_train, data.y_train, epochs=2)
    with pytest.raises(ValueError, match="k"):
        stack.member_weights(0.5)  # was truncated to member 0
