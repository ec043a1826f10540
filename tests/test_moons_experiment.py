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
    with pytest.raises(ValueError, match="stack"):
        run_design(StackedMLP(2, hidden=4), d, val, val, epochs=1)
