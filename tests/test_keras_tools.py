"""Tests for helpers.keras_tools: builders, proximal Adam, fast training, measurements."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from helpers import load_moons_2d  # noqa: E402
from helpers.keras_tools import (  # noqa: E402
    ModelPool,
    ProxAdam,
    TunablePenalty,
    accuracy,
    binary_cross_entropy,
    build_mlp,
    data_loss,
    decision_grid,
    fit_fast,
    grid_points,
    hidden_kernels,
    hist_edges,
    mean_std,
    predict_proba,
    reset_model,
    set_lambda,
    sparsity_counts,
    weight_hist,
)


@pytest.fixture(scope="module")
def moons():
    return load_moons_2d()


def test_build_mlp_architecture_and_regularizers():
    model = build_mlp("l1", 0.001)
    assert [layer.units for layer in model.layers] == [128, 128, 1]
    assert [layer.activation.__name__ for layer in model.layers] == ["relu", "relu", "sigmoid"]
    assert model.layers[0].kernel.shape == (2, 128)
    regs = [layer.kernel_regularizer for layer in model.layers]
    assert isinstance(regs[0], keras.regularizers.L1) and regs[2] is None
    assert float(regs[0].l1) == pytest.approx(0.001)
    assert isinstance(build_mlp("none").optimizer, keras.optimizers.Adam)
    assert isinstance(build_mlp("prox").optimizer, ProxAdam)


def test_penalty_values_match_keras_convention():
    w = np.array([[1.0, -2.0], [0.5, 0.0]], dtype="float32")
    assert float(TunablePenalty("l1", 0.1)(w)) == pytest.approx(0.1 * 3.5)
    assert float(TunablePenalty("l2", 0.1)(w)) == pytest.approx(0.1 * 5.25)
    assert float(keras.regularizers.l2(0.1)(w)) == pytest.approx(0.1 * 5.25)


def test_model_loss_includes_penalty_and_data_loss_excludes_it(moons):
    keras.utils.set_random_seed(0)
    model = build_mlp("l1", 0.01)
    X, y = moons.X_train[:20], moons.y_train[:20]
    total = model.evaluate(X.astype("float32"), y.astype("float32"), verbose=0, return_dict=True)
    pen = 0.01 * sum(np.abs(k).sum() for k in hidden_kernels(model))
    assert total["loss"] == pytest.approx(data_loss(model, X, y) + pen, rel=1e-4)


def test_set_lambda_changes_penalty_without_new_regularizer():
    model = build_mlp("l2", 0.001, tunable=True)
    set_lambda(model, 0.5)
    assert float(model.layers[0].kernel_regularizer.lam.numpy()) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="tunable"):
        set_lambda(build_mlp("l2", 0.001), 0.1)
    with pytest.raises(ValueError, match="lam"):
        set_lambda(model, -1.0)


def test_prox_adam_step_is_adam_then_soft_threshold():
    # One step on a single kernel, checked against Adam's formulas written out in NumPy.
    lam, lr, b1, b2, eps = 0.02, 0.1, 0.9, 0.999, 1e-7
    w0 = np.array([[0.25, -0.02], [0.5, -0.5]], dtype="float32")
    g = np.array([[0.1, 0.2], [-0.3, 0.05]], dtype="float32")
    var = keras.Variable(w0, name="kernel")
    opt = ProxAdam(l1=lam, prox_layers=None, learning_rate=lr)
    opt.apply_gradients([(g, var)])
    m, v = (1 - b1) * g, (1 - b2) * g**2
    alpha = lr * np.sqrt(1 - b2) / (1 - b1)
    adam = w0 - alpha * m / (np.sqrt(v) + eps)
    threshold = lam * alpha / (np.sqrt(v) + eps)  # per entry, so not helpers.soft_threshold
    expected = np.sign(adam) * np.maximum(np.abs(adam) - threshold, 0)
    assert np.sum(expected == 0) == 1  # 0.25 - 0.1 = 0.15 is below its threshold 0.2
    np.testing.assert_allclose(var.numpy(), expected, rtol=1e-5, atol=1e-7)


def test_prox_model_gives_exact_zeros_and_l1_gives_none(moons):
    assert ProxAdam().prox_layers == ("hidden1", "hidden2")
    pool = ModelPool(moons, epochs=20)
    prox = sparsity_counts(pool.run("prox", 0.01, seed=1)["kernels"])
    l1 = sparsity_counts(pool.run("l1", 0.01, seed=1)["kernels"])
    assert sum(s["zero"] for s in prox) > 1000
    assert sum(s["zero"] for s in l1) == 0


def test_pool_runs_are_reproducible_and_reset(moons):
    pool = ModelPool(moons, epochs=10)
    a = pool.run("none", seed=3, grid=grid_points(n=5)[2])
    pool.run("none", seed=4)
    b = pool.run("none", seed=3, grid=grid_points(n=5)[2])
    np.testing.assert_allclose(a["kernels"][1], b["kernels"][1], atol=1e-6)
    assert a["proba_grid"].shape == (25,)
    assert {"acc_train", "acc_val", "acc_test", "loss_train", "loss_test"} <= set(a)


def test_reset_model_matches_fresh_glorot_and_zero_optimizer(moons):
    model = build_mlp("none")
    fit_fast(model, moons.X_train, moons.y_train, epochs=2)
    reset_model(model, 7)
    k = model.layers[1].kernel.numpy()
    limit = np.sqrt(6 / (128 + 128))
    assert np.abs(k).max() <= limit and np.abs(k).max() > 0.9 * limit
    assert np.all(model.layers[1].bias.numpy() == 0)
    assert int(model.optimizer.iterations.numpy()) == 0
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(1e-3)


def test_fit_fast_runs_epochs_times_steps(moons):
    model = build_mlp("none")
    fit_fast(model, moons.X_train, moons.y_train, epochs=3, batch_size=32)
    assert int(model.optimizer.iterations.numpy()) == 3 * 4  # ceil(100 / 32) = 4 steps per epoch


def test_fit_fast_rejects_bad_input(moons):
    model = build_mlp("none")
    with pytest.raises(ValueError, match="epochs"):
        fit_fast(model, moons.X_train, moons.y_train, epochs=0)
    with pytest.raises(ValueError, match="y"):
        fit_fast(model, moons.X_train, moons.y_train[:-1], epochs=1)
    with pytest.raises(ValueError, match="X"):
        fit_fast(model, moons.X_train[:, :1], moons.y_train, epochs=1)
    with pytest.raises(ValueError, match="penalty"):
        build_mlp("l3")
    with pytest.raises(ValueError, match="lam"):
        build_mlp("l1", -0.1)


def test_bce_and_accuracy_known_values():
    y = np.array([1.0, 0.0])
    p = np.array([0.8, 0.4])
    assert binary_cross_entropy(y, p) == pytest.approx(-(np.log(0.8) + np.log(0.6)) / 2)
    assert accuracy(y, p) == 1.0
    assert accuracy(y, np.array([0.3, 0.6])) == 0.0
    with pytest.raises(ValueError, match="p"):
        accuracy(y, np.array([0.5]))


def test_sparsity_counts():
    k = [np.array([0.0, 1e-4, -5e-4, 0.2]), np.zeros((2, 2))]
    s = sparsity_counts(k, tol=1e-3)
    assert s[0] == {"n": 4, "small": 3, "frac_small": 0.75, "zero": 1}
    assert s[1]["zero"] == 4
    with pytest.raises(ValueError, match="tol"):
        sparsity_counts(k, tol=0)
    with pytest.raises(ValueError, match="kernels"):
        sparsity_counts([])


def test_grid_points_and_decision_grid():
    xx, yy, pts = grid_points((0, 1), (0, 2), n=3)
    assert xx.shape == (3, 3) and pts.shape == (9, 2)
    np.testing.assert_allclose(pts[1], [0.5, 0.0])
    with pytest.raises(ValueError, match="xlim"):
        grid_points((1, 0), (0, 1))
    model = build_mlp("none")
    _, _, proba = decision_grid(model, n=4)
    assert proba.shape == (4, 4) and np.all((proba >= 0) & (proba <= 1))
    assert predict_proba(model, pts).shape == (9,)


def test_hist_edges_and_weight_hist():
    edges = hist_edges(0.5, 5)
    np.testing.assert_allclose(edges, [-0.5, -0.3, -0.1, 0.1, 0.3, 0.5])
    counts = weight_hist([np.array([0.0, 0.0, 0.2]), np.array([9.0])], edges)
    np.testing.assert_array_equal(counts, [0, 0, 2, 1, 1])
    with pytest.raises(ValueError, match="n_bins"):
        hist_edges(1.0, 4)


def test_mean_std():
    assert mean_std([1.0, 3.0]) == (2.0, pytest.approx(np.sqrt(2)))
    assert mean_std([5.0]) == (5.0, 0.0)
    with pytest.raises(ValueError, match="values"):
        mean_std([])
