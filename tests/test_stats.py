"""Tests for helpers.stats: paired differences, interval formatting, nested choice of λ."""

import math

import numpy as np
import pytest

from helpers.stats import (
    MINUS,
    choose_by_validation,
    format_interval,
    paired_difference,
    take_chosen,
)

T_975_DF3 = 3.182446305284263  # Student t quantile 0.975 with 3 degrees of freedom (tables)
T_975_DF1 = 12.706204736174707
T_95_DF3 = 2.353363434801823  # quantile 0.95, 3 degrees of freedom (a 90% interval)


def test_paired_difference_against_closed_form():
    a = np.array([0.9, 0.8, 0.7, 0.6])
    b = a - np.array([1.0, 2.0, 3.0, 4.0]) / 100  # differences 0.01 .. 0.04
    r = paired_difference(a, b)
    sd = math.sqrt(((0.015) ** 2 + 0.005**2 + 0.005**2 + 0.015**2) / 3)
    half = T_975_DF3 * sd / 2
    assert r.mean == pytest.approx(0.025)
    assert r.sd == pytest.approx(sd)
    assert (r.low, r.high) == (pytest.approx(0.025 - half), pytest.approx(0.025 + half))
    assert r.n == 4 and r.confidence == 0.95
    r90 = paired_difference(a, b, confidence=0.90)
    assert r90.high - r90.mean == pytest.approx(T_95_DF3 * sd / 2)


def test_paired_difference_two_pairs_and_shared_offsets_cancel():
    r = paired_difference([1.0, 3.0], [0.0, 1.0])  # differences 1 and 2
    assert r.high - r.mean == pytest.approx(T_975_DF1 * math.sqrt(0.5) / math.sqrt(2))
    rng = np.random.default_rng(0)
    offsets = rng.normal(0, 10, 8)  # what the training sets share moves both methods alike
    d = rng.normal(0.01, 0.002, 8)
    shifted = paired_difference(offsets + d, offsets)
    plain = paired_difference(d, np.zeros(8))
    assert shifted.low == pytest.approx(plain.low) and shifted.high == pytest.approx(plain.high)


def test_paired_difference_rejects_bad_input():
    with pytest.raises(ValueError, match="at least 2"):
        paired_difference([0.5], [0.4])
    with pytest.raises(ValueError, match="b"):
        paired_difference([0.5, 0.6], [0.4])
    with pytest.raises(ValueError, match="confidence"):
        paired_difference([0.5, 0.6], [0.4, 0.5], confidence=1.0)
    with pytest.raises(ValueError, match="a"):
        paired_difference([0.5, np.nan], [0.4, 0.5])


def test_format_interval_three_decimals_with_signs():
    assert format_interval(0.007, -0.002, 0.016) == f"+0.007 [{MINUS}0.002, +0.016]"
    assert format_interval(-0.0091, -0.0152, -0.003) == f"{MINUS}0.009 [{MINUS}0.015, {MINUS}0.003]"
    assert format_interval(-0.0001, -0.004, 0.004) == f"+0.000 [{MINUS}0.004, +0.004]"  # no "−0.000"
    r = paired_difference([0.9, 0.8, 0.7, 0.6], [0.89, 0.78, 0.67, 0.56])
    assert str(r) == format_interval(r.mean, r.low, r.high)


def test_format_interval_never_shows_a_zero_width_interval():
    text = format_interval(0.0071, 0.00702, 0.00718)  # all three print as +0.007 at 3 decimals
    assert text == "+0.0071 [+0.0070, +0.0072]"  # one more decimal separates them
    assert format_interval(0.5, 0.5, 0.5) == "+0.500 [+0.500, +0.500]"  # a true zero width stays
    with pytest.raises(ValueError, match="low"):
        format_interval(0.0, 0.1, -0.1)
    with pytest.raises(ValueError, match="digits"):
        format_interval(0.0, -0.1, 0.1, digits=-1)


def test_choose_by_validation_is_nested():
    val = np.array([[0.80, 0.85, 0.84],
                    [0.90, 0.88, 0.90],   # tie: the first column wins
                    [0.70, 0.71, 0.75]])
    test = np.array([[0.1, 0.2, 0.3],
                     [0.4, 0.5, 0.6],
                     [0.7, 0.8, 0.9]])
    chosen = choose_by_validation(val)
    np.testing.assert_array_equal(chosen, [1, 0, 2])
    np.testing.assert_allclose(take_chosen(test, chosen), [0.2, 0.4, 0.9])
    # the test scores never change the choice
    np.testing.assert_array_equal(choose_by_validation(val), chosen)
    np.testing.assert_array_equal(choose_by_validation(-val, higher_is_better=False), chosen)


def test_choose_and_take_reject_bad_input():
    with pytest.raises(ValueError, match="val_scores"):
        choose_by_validation([0.1, 0.2])
    with pytest.raises(ValueError, match="chosen"):
        take_chosen(np.zeros((2, 3)), [0])
    with pytest.raises(ValueError, match="chosen"):
        take_chosen(np.zeros((2, 3)), [0, 3])
    with pytest.raises(ValueError, match="scores"):
        take_chosen(np.zeros(3), [0])


def test_format_interval_refuses_a_fractional_number_of_digits():
    import pytest

    with pytest.raises(ValueError, match="digits"):
        format_interval(0.1, 0.0, 0.2, digits=2.5)  # was truncated to 2 without a word


def test_bonferroni_splits_the_error_rate_over_the_family():
    from helpers.stats import bonferroni

    assert bonferroni(1) == pytest.approx(0.95) and bonferroni(10) == pytest.approx(0.995)
    assert bonferroni(4, confidence=0.9) == pytest.approx(0.975)
    d = np.array([0.01, 0.02, 0.0, 0.03, 0.015])
    narrow, wide = paired_difference(d, 0 * d), paired_difference(d, 0 * d, confidence=bonferroni(10))
    assert wide.low < narrow.low and wide.high > narrow.high and wide.mean == narrow.mean
    with pytest.raises(ValueError, match="m"):
        bonferroni(0)
    with pytest.raises(ValueError, match="confidence"):
        bonferroni(3, confidence=1.0)


def test_test_set_spread_is_the_spread_of_the_mean_difference_over_blocks():
    from helpers.stats import test_set_spread

    rng = np.random.default_rng(0)
    b = rng.uniform(0.8, 0.9, (20, 100))
    shift = 0.01 * rng.standard_normal(100)  # what each test block adds, the same for every set
    a = b + 0.003 + shift + 0.002 * rng.standard_normal((20, 100))
    spread = test_set_spread(a, b)
    assert spread == pytest.approx(np.std(shift + 0.002 * rng.standard_normal(100) / np.sqrt(20), ddof=1), rel=0.1)
    assert test_set_spread(b + 0.5, b) == pytest.approx(0.0, abs=1e-12)  # a constant difference: no spread
    with pytest.raises(ValueError, match="same shape"):
        test_set_spread(a, b[:, :5])
    with pytest.raises(ValueError, match="at least 2"):
        test_set_spread(a[:1], b[:1])
