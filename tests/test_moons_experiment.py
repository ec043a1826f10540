"""helpers.moons_experiment: training sets, the member layout, reading results back, tuning on validation."""

import numpy as np
import pytest

from helpers.data import make_moons_2d
from helpers.moons_experiment import Results, design, run_design, training_sets


def test_training_sets_are_draws_of_the_generator_with_an_optional_first():
    X, y = training_sets(3, n=20, first_seed=7)
    assert X.shape == (3, 20, 2) and y.shape == (3, 20)
    X1, y1 = make_moons_2d(20, noise=0.3, seed=8)
    np.testing.assert_array_equal(X[1], X1)
    np.testing.assert_array_equal(y[1], y1)
    first = (np.zeros((20, 2)), np.ones(20))
    X, y = training_sets(3, n=20, first=first, first_seed=7)
    assert not X[0].any() and y[0].all()
    with pytest.raises(ValueError, match="first"):
        training_sets(2, n=20, first=(np.zeros((5, 2)), np.ones(5)))
    with pytest.raises(ValueError, match="n_sets"):
        training_sets(0)


def _design():
    X, y = training_sets(3, n=12)
    return design([("none", 0.0), ("l1", 1e-3), ("l2", 1e-3)], X, y)


def test_members_are_laid_out_set_major_with_the_set_as_seed():
    d = _design()
    cfg = d.config()
    assert d.members == len(cfg) == 9
    assert list(cfg.kind[:3]) == ["none", "l1", "l2"] and list(cfg.seed) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    X, y = d.member_data()
    np.testing.assert_array_equal(X[4], d.X[1])  # member 4 = method 1 on set 1
    assert d.index("l2", 0.001) == 2
    with pytest.raises(ValueError, match="kind and lam"):
        d.index("l2", 0.01)
    with pytest.raises(ValueError, match="methods"):
        design([("bogus", 0.1)], d.X, d.y)
    with pytest.raises(ValueError, match="X must be 3-D"):
        design([("none", 0.0)], d.X[0], d.y[0])


def test_results_read_back_by_method_and_tune_on_validation_only():
    d = design([("none", 0.0), ("l2", 1e-4), ("l2", 1e-2)], *training_sets(3, n=12))
    acc = {split: np.arange(9, dtype=float) + offset for split, offset in (("train", 0), ("val", 10), ("test", 20))}
    # validation prefers λ = 1e-4 on sets 0 and 2, 1e-2 on set 1
    acc["val"] = np.array([0, 0.9, 0.1, 0, 0.2, 0.8, 0, 0.5, 0.5])
    measures = {split: {"accuracy": a, "data_loss": -a, "objective": a, "penalty": 0 * a}
                for split, a in acc.items()}
    r = Results(d, measures)
    np.testing.assert_array_equal(r.get("test", "accuracy", "l2", 1e-2), [22, 25, 28])
    values, chosen = r.tuned("l2", [1e-4, 1e-2])
    np.testing.assert_array_equal(chosen, [1e-4, 1e-2, 1e-4])  # set 2: a tie goes to the smaller λ
    np.testing.assert_array_equal(values, [21, 25, 27])  # test values at the λ validation chose
    assert r.member("l2", 1e-2, s=1) == 5
    with pytest.raises(ValueError, match="split"):
        r.get("holdout", "accuracy", "none", 0.0)


def test_run_design_trains_and_measures_every_member():
    from helpers.keras_stack import StackedMLP

    d = _design()
    stack = StackedMLP(d.members, hidden=4)
    val = make_moons_2d(30, noise=0.3, seed=5)
    r = run_design(stack, d, val, val, epochs=2)
    for split in ("train", "val", "test"):
        assert r.measures[split]["accuracy"].shape == (9,)
    assert r.get("train", "penalty", "none", 0.0).max() == 0 < r.get("train", "penalty", "l1", 1e-3).min()
    assert [k.shape for k in r.kernels] == [(9, 2, 4), (9, 4, 4)]
    pooled = run_design([StackedMLP(4, hidden=4), StackedMLP(4, hidden=4)], d, val, val, epochs=2)  # 3 parts
    for split in ("train", "val", "test"):
        np.testing.assert_allclose(pooled.measures[split]["accuracy"], r.measures[split]["accuracy"])
    for a, b in zip(pooled.kernels, r.kernels, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="stack"):
        run_design(StackedMLP(2, hidden=4), d, val, val, epochs=1)


def test_methods_carry_dropout_noise_and_max_norm_and_pairs_still_work():
    from helpers.moons_experiment import Method, method

    X, y = training_sets(2, n=12)
    d = design([("none", 0.0), Method(dropout=0.3), Method("l2", 1e-3, noise=0.1), Method(max_norm=2.0)], X, y)
    cfg = d.config()
    assert list(cfg.dropout[:4]) == [0, 0.3, 0, 0] and list(cfg.noise[:4]) == [0, 0, 0.1, 0]
    assert list(cfg.max_norm[:4]) == [0, 0, 0, 2.0] and list(cfg.kind[:4]) == ["none", "none", "l2", "none"]
    assert d.index(Method(dropout=0.3)) == d.index("none", dropout=0.3) == 1 and d.index("none", 0.0) == 0
    assert str(Method("l2", 1e-3, noise=0.1)) == "L2 λ=0.001 + noise σ 0.1" and str(Method()) == "none"
    assert method(("l1", 1e-3)) == Method("l1", 1e-3)
    with pytest.raises(ValueError, match="dropout"):
        design([Method(dropout=1.5)], X, y)
    with pytest.raises(ValueError, match="repeat"):
        design([("none", 0.0), Method()], X, y)
    with pytest.raises(ValueError, match="lam must be 0"):
        method("none", 0.1)


def test_jittered_sets_append_noisy_copies_with_the_same_labels():
    from helpers.moons_experiment import jittered_sets

    X, y = training_sets(2, n=10)
    Xa, ya = jittered_sets(X, y, copies=3, sigma=0.1, seed=0)
    assert Xa.shape == (2, 40, 2) and ya.shape == (2, 40)
    np.testing.assert_array_equal(Xa[:, :10], X)
    for c in range(1, 4):
        np.testing.assert_array_equal(ya[:, 10 * c:10 * (c + 1)], y)
        jitter = Xa[:, 10 * c:10 * (c + 1)] - X
        assert 0.05 < jitter.std() < 0.15
    np.testing.assert_array_equal(jittered_sets(X, y, 0, 0.1)[0], X)


def test_choose_picks_any_method_on_validation_and_reads_early_stopped_weights():
    from helpers.moons_experiment import Method

    d = design([Method(), Method(dropout=0.1), Method(dropout=0.5)], *training_sets(2, n=12))
    val = np.array([0.5, 0.7, 0.6, 0.9, 0.1, 0.2])  # set 0 prefers dropout 0.1, set 1 no dropout
    measures = {split: {"accuracy": val + (10 if split == "test" else 0), "data_loss": val, "objective": val,
                        "penalty": 0 * val} for split in ("train", "val", "test")}
    best = {split: {k: v - 1 for k, v in m.items()} for split, m in measures.items()}
    r = Results(d, measures, {"best": best})
    values, chosen = r.choose([Method(), Method(dropout=0.1), Method(dropout=0.5)])
    np.testing.assert_array_equal(chosen, [1, 0])
    np.testing.assert_array_equal(values, [10.7, 10.9])
    np.testing.assert_array_equal(r.get("test", "accuracy", Method(dropout=0.5), weights="best"), [9.6, 9.2])
    with pytest.raises(ValueError, match="weights"):
        r.get("test", "accuracy", Method(), weights="stopped")
    r.run = {"best_epoch": np.array([10, 20, 30, 40, 50, 60]), "curve_val": np.arange(12.0).reshape(2, 6)}
    np.testing.assert_array_equal(r.run_values("best_epoch", "none", dropout=0.5), [30, 60])
    assert r.run_values("curve_val", Method()).shape == (2, 2)
    with pytest.raises(ValueError, match="key"):
        r.run_values("nothing", Method())


def test_run_design_with_early_stopping_measures_three_readouts_and_keeps_snapshots():
    from helpers.keras_stack import StackedMLP
    from helpers.moons_experiment import Method, predict_stacked

    d = design([Method(), Method(dropout=0.3)], *training_sets(2, n=20))
    stack = StackedMLP(d.members, hidden=4)
    val = make_moons_2d(60, noise=0.3, seed=5)
    r = run_design(stack, d, val, val, epochs=20, every=5, patience=5, snapshots=[0, 3], grid=val[0][:7])
    assert set(r.readouts) == {"final", "best", "stopped"} and r.run["best_epoch"].shape == (4,)
    best_val = r.get("val", "data_loss", Method(), weights="best")
    curve = r.run_values("curve_val", Method())  # (4 evaluations, 2 sets)
    seen = np.arange(4)[:, None] < r.run_values("stop_epoch", Method()) // 5  # evaluations before the stop
    np.testing.assert_allclose(best_val, np.where(seen, curve, np.inf).min(axis=0), rtol=1e-5)
    assert np.all(best_val <= r.get("val", "data_loss", Method()) + 1e-6)
    snaps = r.run["snapshots"]
    assert snaps[0].shape == (4, 2, 2, 4)
    last = predict_stacked([w[-1] for w in snaps], val[0][:7])
    np.testing.assert_allclose(last, r.measures["test"]["proba_grid"][[0, 3]], atol=1e-5)
    with pytest.raises(ValueError, match="weights"):
        predict_stacked(snaps[:3], val[0])


def test_a_large_test_set_is_measured_in_chunks_with_the_same_numbers_and_per_block(monkeypatch):
    from helpers import moons_experiment as me
    from helpers.keras_stack import StackedMLP

    d = _design()
    stack = StackedMLP(d.members, hidden=4)
    val = make_moons_2d(30, noise=0.3, seed=5)
    test = me.large_test_set(400, seed=3)
    np.testing.assert_array_equal(test[0], make_moons_2d(400, noise=0.3, seed=3)[0])
    whole = run_design(stack, d, val, test, epochs=2, more_tests={"shipped": val})
    assert "accuracy_blocks" not in whole.measures["test"] and "proba" in whole.measures["test"]
    monkeypatch.setattr(me, "CHUNK", 150)  # 400 points: chunks of 150, 150 and 100
    monkeypatch.setattr(me, "BLOCK", 50)
    chunked = run_design(stack, d, val, test, epochs=2, more_tests={"shipped": val},
                         progress="tiny experiment")
    for metric in ("accuracy", "data_loss", "objective"):
        np.testing.assert_allclose(chunked.get("test", metric, "l1", 1e-3), whole.get("test", metric, "l1", 1e-3),
                                   rtol=1e-6)
    blocks = chunked.blocks("l1", 1e-3)
    assert blocks.shape == (3, 8) and "proba" not in chunked.measures["test"]
    np.testing.assert_allclose(blocks.mean(axis=1), chunked.get("test", "accuracy", "l1", 1e-3), rtol=1e-9)
    np.testing.assert_array_equal(chunked.get("shipped", "accuracy", "none"), whole.get("val", "accuracy", "none"))
    with pytest.raises(ValueError, match="blocks"):
        chunked.blocks("none", split="val")
    with pytest.raises(ValueError, match="more_tests"):
        run_design(stack, d, val, test, epochs=1, more_tests={"val": val})
    with pytest.raises(ValueError, match="readouts"):
        run_design(stack, d, val, test, epochs=1, readouts="best")


def test_run_design_measures_only_the_readouts_asked_for():
    from helpers.keras_stack import StackedMLP
    from helpers.moons_experiment import Method

    d = design([Method(), Method(dropout=0.3)], *training_sets(2, n=20))
    val = make_moons_2d(60, noise=0.3, seed=5)
    r = run_design(StackedMLP(d.members, hidden=4), d, val, val, epochs=10, every=5, patience=5, readouts=["best"])
    assert set(r.readouts) == {"final", "best"}
    with pytest.raises(ValueError, match="weights"):
        r.get("test", "accuracy", Method(), weights="stopped")


def test_the_shards_report_each_part_as_it_finishes():
    from helpers.keras_stack import StackedMLP, StackShards

    d = _design()  # 9 members: parts of 4, 4 and 1
    calls = []
    shards = StackShards([StackedMLP(4, hidden=4), StackedMLP(4, hidden=4)], members=d.members)
    shards.run(d.config(), *d.member_data(), epochs=1, progress=lambda done, total: calls.append((done, total)))
    assert sorted(calls) == [(1, 3), (2, 3), (3, 3)]
