"""The penalty functions against closed forms and finite differences, and their input checks."""

import math

import numpy as np
import pytest

from helpers import (
    l1_grad,
    l1_penalty,
    l2_grad,
    l2_penalty,
    soft_threshold,
    weight_decay_step,
)

W = np.array([8.2, -5.1, 2.8, -0.9, 0.0])


def test_penalties_match_closed_forms():
    assert l1_penalty(W, 0.1) == pytest.approx(0.1 * 17.0)
    assert l2_penalty(W, 0.1) == pytest.approx(0.1 * (8.2**2 + 5.1**2 + 2.8**2 + 0.9**2))


def test_penalties_accept_a_list_of_arrays_like_model_get_weights():
    layers = [np.ones((2, 3)), -2 * np.ones(4)]
    assert l1_penalty(layers, 0.5) == pytest.approx(0.5 * (6 + 8))
    assert l2_penalty(layers, 0.5) == pytest.approx(0.5 * (6 + 16))
    assert l2_penalty([1.0, -2.0], 1.0) == pytest.approx(5.0)  # a plain list of numbers


def test_penalties_match_keras_regularizers():
    keras = pytest.importorskip("keras")
    w = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    assert float(keras.regularizers.l1(0.01)(w)) == pytest.approx(l1_penalty(w, 0.01), rel=1e-5)
    assert float(keras.regularizers.l2(0.01)(w)) == pytest.approx(l2_penalty(w, 0.01), rel=1e-5)


def _finite_difference(f, w, h=1e-6):
    grad = np.zeros_like(w)
    for i in range(w.size):
        e = np.zeros_like(w)
        e.flat[i] = h
        grad.flat[i] = (f(w + e) - f(w - e)) / (2 * h)
    return grad


def test_gradients_match_finite_differences():
    w = np.array([1.5, -0.3, 2.0])  # away from 0, where |w| is differentiable
    np.testing.assert_allclose(l2_grad(w, 0.7), _finite_difference(lambda v: l2_penalty(v, 0.7), w), rtol=1e-6)
    np.testing.assert_allclose(l1_grad(w, 0.7), _finite_difference(lambda v: l1_penalty(v, 0.7), w), rtol=1e-6)


def test_l1_subgradient_is_zero_at_zero():
    np.testing.assert_array_equal(l1_grad(np.array([0.0, 2.0, -3.0]), 0.5), [0.0, 0.5, -0.5])


def test_weight_decay_step_is_a_gradient_step_on_the_penalized_cost():
    rng = np.random.default_rng(1)
    w, g = rng.normal(size=5), rng.normal(size=5)
    lr, lam, n = 0.1, 2.0, 10
    # gradient of lam/(2n) sum w^2 is (lam/n) w
    expected = w - lr * (g + lam / n * w)
    np.testing.assert_allclose(weight_decay_step(w, g, lr, lam, n), expected, rtol=1e-14)


def test_weight_decay_without_data_gradient_is_geometric():
    w = np.array([10.0])
    seq = [w[0]]
    for _ in range(3):
        w = weight_decay_step(w, np.zeros(1), lr=0.1, lam=2.0, n=10)  # factor 1 - 0.02
        seq.append(w[0])
    np.testing.assert_allclose(seq, [10.0, 9.8, 9.604, 9.41192])


def test_soft_threshold_known_values_and_exact_zeros():
    out = soft_threshold(np.array([3.0, -3.0, 0.5, -0.5, 1.0]), 1.0)
    np.testing.assert_array_equal(out, [2.0, -2.0, 0.0, 0.0, 0.0])
    assert np.all(out[2:] == 0.0)


@pytest.mark.parametrize("bad", [-0.1, math.nan, math.inf, "0.1", None, True])
def test_bad_lam_names_the_argument(bad):
    for call in (lambda: l1_penalty(W, bad), lambda: l2_penalty(W, bad), lambda: l1_grad(W, bad),
                 lambda: l2_grad(W, bad), lambda: weight_decay_step(W, W, 0.1, bad, 10)):
        with pytest.raises(ValueError, match="lam"):
            call()


@pytest.mark.parametrize("bad", [-0.1, math.nan, math.inf])
def test_bad_lr_and_threshold_name_the_argument(bad):
    with pytest.raises(ValueError, match="lr"):
        weight_decay_step(W, W, bad, 0.1, 10)
    with pytest.raises(ValueError, match="t "):
        soft_threshold(W, bad)


@pytest.mark.parametrize("bad", [0, -3, math.nan])
def test_bad_n_names_the_argument(bad):
    with pytest.raises(ValueError, match="n "):
        weight_decay_step(W, W, 0.1, 0.1, bad)


def test_shape_mismatch_names_the_arguments():
    with pytest.raises(ValueError, match="grad_loss"):
        weight_decay_step(W, W[:3], 0.1, 0.1, 10)


@pytest.mark.parametrize("bad", [np.array([1.0, np.nan]), np.array([np.inf]), np.array([]), []])
def test_bad_weights_name_the_argument(bad):
    with pytest.raises(ValueError, match="weights|w"):
        l2_penalty(bad, 0.1)
    with pytest.raises(ValueError, match="w"):
        l2_grad(bad, 0.1)
    with pytest.raises(ValueError, match="z"):
        soft_threshold(bad, 0.1)
