"""Tests for helpers._validate and helpers._counts: the input rules, and the gaps they close."""

import math
import warnings

import numpy as np
import pytest

from helpers import lasso_fit, polynomial_features, ridge_fit, weight_decay_step
from helpers._counts import MAX_ELEMENTS, check_int, check_iterations, check_seed, check_size
from helpers._validate import (
    all_finite,
    check_array,
    check_bool,
    check_choice,
    check_scalar,
    finite_result,
)
from helpers.weight_decay import decay_curve, decay_half_life


@pytest.mark.parametrize("good, want", [(0.5, 0.5), (3, 3.0), (np.float32(0.25), 0.25), (np.int64(2), 2.0),
                                        (np.array(0.5), 0.5), (np.array(7), 7.0)])
def test_check_scalar_accepts_real_numbers_and_their_0d_arrays(good, want):
    assert check_scalar(good, "lam") == want


@pytest.mark.parametrize("bad", [True, np.bool_(False), np.array(True), "0.5", np.array("0.5"), 1 + 1j,
                                 np.array(1 + 1j), None, [0.5], np.array([0.5]), np.array(0.5, dtype=object)])
def test_check_scalar_refuses_what_is_not_a_real_number(bad):
    with pytest.raises(ValueError, match="lam must be a real number"):
        check_scalar(bad, "lam")


@pytest.mark.parametrize("bad", [math.nan, math.inf, 10**400])
def test_check_scalar_refuses_non_finite_and_ints_beyond_float64(bad):
    with pytest.raises(ValueError, match="lam must be finite"):
        check_scalar(bad, "lam")


def test_check_scalar_bounds():
    assert check_scalar(1.0, "l1_ratio", max_value=1.0) == 1.0
    with pytest.raises(ValueError, match="l1_ratio must be <= 1"):
        check_scalar(1.5, "l1_ratio", max_value=1.0)
    with pytest.raises(ValueError, match="tol must be > 0"):
        check_scalar(0.0, "tol", strict=True)


@pytest.mark.parametrize("good", [[1, 2], [1.5, -2.0], np.arange(3), np.array([1.0, 2.0], dtype=object),
                                  [2**70], np.float32([1, 2])])
def test_check_array_accepts_real_numbers(good):
    arr = check_array(good, "X")
    assert arr.dtype == np.float64
    np.testing.assert_array_equal(arr, np.asarray(good, dtype=float))


@pytest.mark.parametrize("bad, what", [
    (np.array([1 + 2j]), "complex numbers"), (np.array(["1", "2"]), "strings"), ([b"1"], "bytes"),
    (np.array([True, False]), "booleans"), ([1.0, None], "objects"), (np.array(["2020-01-01"], dtype="M8[D]"), "dates"),
])
def test_check_array_refuses_non_real_dtypes(bad, what):
    with pytest.raises(ValueError, match=f"X must hold real numbers, got {what}"):
        check_array(bad, "X")


@pytest.mark.parametrize("bad, match", [([[1.0, 2.0], [3.0]], "X must be an array of numbers"),
                                        ([10**400], "X holds values too large for float64")])
def test_check_array_refuses_ragged_and_huge(bad, match):
    with pytest.raises(ValueError, match=match):
        check_array(bad, "X")


def test_check_bool_accepts_only_bools():
    assert check_bool(True, "fit_intercept") is True
    assert check_bool(np.bool_(False), "fit_intercept") is False
    for bad in ("no", "False", 0, 1, 1.0, None, np.array([True])):
        with pytest.raises(ValueError, match="fit_intercept must be True or False"):
            check_bool(bad, "fit_intercept")


def test_check_choice():
    assert check_choice("l1", "kind", ("l1", "l2")) == "l1"
    for bad in ("L1", None, np.array(["l1"]), np.array([1, 2]), ["l1"]):
        with pytest.raises(ValueError, match="kind must be one of"):
            check_choice(bad, "kind", ("l1", "l2"))


def test_check_int_whole_numbers_in_bounds():
    assert check_int(3, "n") == 3 and check_int(3.0, "n") == 3 and check_int(np.array(4), "n") == 4
    for bad in (2.5, True, "3", math.inf, np.array(2.5)):
        with pytest.raises(ValueError, match="n must be"):
            check_int(bad, "n")
    with pytest.raises(ValueError, match=r"n must be a whole number >= 1 \(and below 2\*\*63\)"):
        check_int(10**400, "n", min_value=1)
    with pytest.raises(ValueError, match=r"k must be a whole number in \[2, 5\]"):
        check_int(6, "k", min_value=2, max_value=5)
    with pytest.raises(ValueError, match="seed"):
        check_seed(-1)
    with pytest.raises(ValueError, match="max_iter"):
        check_iterations(10**9, "max_iter")
    check_size(MAX_ELEMENTS, "n")
    with pytest.raises(ValueError, match="n is too large: the result would hold"):
        check_size(MAX_ELEMENTS + 1, "n")


@finite_result("a", "b", action="multiply")
def _product(a, b):
    return np.asarray(a, dtype=float) * np.asarray(b, dtype=float)


@finite_result("c", action="call the inner one")
def _outer(c):
    return _product(c, c)


def test_finite_result_names_the_most_extreme_argument():
    np.testing.assert_array_equal(_product([2.0], [3.0]), [6.0])
    with pytest.raises(ValueError, match=r"^b: values too large to multiply \(overflow\); rescale b$"):
        _product([2.0], [1e308])
    with pytest.raises(ValueError, match=r"^c: values too large to call the inner one"):
        _outer([1e200])  # the outer call names its own argument, never the inner a or b


def test_finite_result_turns_a_non_finite_result_and_no_warning_into_the_error():
    @finite_result("x", action="take a log")
    def log_of(x):
        return np.log(np.asarray(x, dtype=float))

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"^x: values too small to take a log \(division by zero\)"):
            log_of([0.0])


def test_all_finite():
    assert all_finite((1.0, np.ones(2), {"a": [3]}, "text", None, np.array([True])))
    assert not all_finite([np.array([1.0, np.nan])])
    assert not all_finite({"a": math.inf})


# --------------------------------------------------------------------------------------------
# The gaps of issue 12 ("Validation to the stated rule"), one by one
# --------------------------------------------------------------------------------------------

X = np.random.default_rng(0).normal(size=(20, 3))
Y = X @ np.array([1.0, -2.0, 0.5])


def test_0d_arrays_as_lambda():
    assert ridge_fit(X, Y, np.array(0.5))[1] == ridge_fit(X, Y, 0.5)[1]
    for bad in (np.array(True), np.array("0.5")):
        with pytest.raises(ValueError, match="lam must be a real number"):
            ridge_fit(X, Y, bad)


def test_complex_and_string_arrays_are_refused():
    with pytest.raises(ValueError, match="X must hold real numbers, got complex"):
        ridge_fit(X + 1j, Y, 0.1)
    with pytest.raises(ValueError, match="w must hold real numbers, got strings"):
        weight_decay_step(np.array(["1.0"]), [0.0], 0.1, 0.1, 10)


def test_fit_intercept_must_be_a_bool():
    with pytest.raises(ValueError, match="fit_intercept must be True or False, got 'no'"):
        ridge_fit(X, Y, 0.1, fit_intercept="no")
    with pytest.raises(ValueError, match="fit_intercept"):
        lasso_fit(X, Y, 0.1, fit_intercept=0)


def test_weight_decay_step_and_decay_curve_share_one_rule():
    message = r"lr \* lam / n must be < 1 so that the decay factor 1 - lr \* lam / n is in \(0, 1\]"
    with pytest.raises(ValueError, match=message):
        weight_decay_step([1.0], [0.0], lr=1, lam=100, n=1)
    with pytest.raises(ValueError, match=message):
        decay_curve([1.0], lr=1, lam=100, n=1, steps=3)
    with pytest.raises(ValueError, match=message):
        decay_half_life(lr=1, lam=100, n=1)
    step = weight_decay_step([1.0], [0.0], lr=0.5, lam=1.0, n=2)
    np.testing.assert_allclose(step, decay_curve([1.0], 0.5, 1.0, 2, 1)[1])


def test_counts_are_whole_numbers():
    with pytest.raises(ValueError, match="n must be a whole number, got 2.5"):
        weight_decay_step([1.0], [0.0], 0.1, 0.1, n=2.5)
    np.testing.assert_allclose(weight_decay_step([1.0], [0.0], 0.1, 0.1, n=2.0), [0.995])


@pytest.mark.parametrize("fit", [ridge_fit, lasso_fit])
def test_overflow_names_the_input_not_an_internal_variable(fit):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning on the way
        with pytest.raises(ValueError, match=r"^X: values too large to fit \(overflow\); standardize the features"):
            fit(X * 1e200, Y, 0.1)


def test_sizes_are_bounded():
    with pytest.raises(ValueError, match="degree is too large: the result would hold 3,000,000,000 numbers"):
        polynomial_features(np.ones(3), 10**9)
    with pytest.raises(ValueError, match="x: values too large to raise to the power degree"):
        polynomial_features(np.full(3, 10.0), 400)
