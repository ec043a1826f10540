r"""Comparing two methods over resampled training sets, and choosing λ without the test set.

Lesson 05 trains each method on the same ``S`` training sets (resampled from the same source) and
scores each trained model on one test set. The methods are then compared **paired**, set by set:
the per-set differences :math:`d_s = a_s - b_s` remove what the sets share (an easy or a hard
sample helps both methods), so the interval of the mean difference is much narrower than the two
methods' own spreads suggest.

* :func:`paired_difference`: mean of :math:`d` and its Student-t confidence interval,
  :math:`\bar d \pm t_{1-\alpha/2,\,S-1}\, s_d/\sqrt S` (:math:`s_d` the sample standard
  deviation, ddof = 1).
* :func:`format_interval`: ``"+0.007 [−0.002, +0.016]"``, with enough decimals that the interval
  is never shown as "± 0.00".
* :func:`choose_by_validation` / :func:`take_chosen`: nested selection of λ: for each training set,
  the λ with the best *validation* score is chosen, and only then is its *test* score read; the
  test set never chooses.
* :func:`bonferroni`: the confidence of each interval in a **family** of ``m`` comparisons read
  together (a table), so that all ``m`` hold at once with the stated confidence: ``1 − (1 − c)/m``.
* :func:`test_set_spread`: how much the *choice of the test set* moves a paired difference, from
  the scores of both methods on many disjoint test blocks. The interval of
  :func:`paired_difference` treats the test set as fixed; on a small test set that leaves out an
  uncertainty of about this size (issue 25; lesson 05 measures it).

No TensorFlow here (``from helpers.stats import paired_difference``); scipy supplies the t quantile.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy import stats as _scipy_stats

from helpers._counts import check_int
from helpers._validate import check_array, check_pair, check_scalar, finite_result

MINUS = "\u2212"  # typographic minus sign, as in "−0.002"


class PairedDifference(NamedTuple):
    """Mean of the paired differences ``a - b``, its confidence interval ``[low, high]``, the
    number of pairs ``n``, the sample standard deviation of the differences ``sd`` (ddof=1) and
    the confidence level."""

    mean: float
    low: float
    high: float
    n: int
    sd: float
    confidence: float

    def __str__(self) -> str:
        return format_interval(self.mean, self.low, self.high)


def paired_difference(a, b, confidence: float = 0.95) -> PairedDifference:
    r"""Mean of ``a - b`` over paired scores and its Student-t confidence interval.

    ``a[s]`` and ``b[s]`` are the scores of methods A and B trained on the same training set
    ``s`` (and scored on the same test set). With :math:`d = a - b` and :math:`S` pairs:
    :math:`\bar d \pm t_{(1+c)/2,\,S-1}\; s_d / \sqrt{S}`, where :math:`s_d` is the sample standard
    deviation (ddof = 1) and :math:`c` the ``confidence``. Needs at least 2 pairs. The interval
    assumes the differences are independent draws (one per training set), roughly normal or
    numerous. Lesson 05.
    """
    a, b = check_pair(a, b, "a", "b", ndim=1)
    confidence = check_scalar(confidence, "confidence", strict=True)
    if confidence >= 1:
        raise ValueError(f"confidence must be < 1, got {confidence!r}")
    n = a.size
    if n < 2:
        raise ValueError(f"a and b must hold at least 2 paired scores, got {n}")
    d = a - b
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    half = float(_scipy_stats.t.ppf((1 + confidence) / 2, df=n - 1)) * sd / math.sqrt(n)
    return PairedDifference(mean, mean - half, mean + half, n, sd, confidence)


def _signed(value: float, digits: int) -> str:
    text = f"{value:+.{digits}f}"
    if float(text) == 0.0:  # "-0.000" and "+0.000" both read as 0: show it unsigned-plus
        text = f"+{abs(value):.{digits}f}"
    return text.replace("-", MINUS)


def format_interval(mean: float, low: float, high: float, digits: int = 3, max_digits: int = 8) -> str:
    """``"+0.007 [−0.002, +0.016]"``: signed mean and interval with ``digits`` decimals.

    If ``low`` and ``high`` would print the same at ``digits`` decimals (an interval narrower than
    the rounding), more decimals are used, up to ``max_digits``, so an interval that exists is
    never shown with zero width. Uses the minus sign "−" (U+2212).
    """
    mean = check_scalar(mean, "mean", min_value=None)
    low = check_scalar(low, "low", min_value=None)
    high = check_scalar(high, "high", min_value=None)
    digits = check_int(digits, "digits", min_value=0, max_value=15)
    max_digits = check_int(max_digits, "max_digits", min_value=digits, max_value=15)
    if low > high:
        raise ValueError(f"low must be <= high, got {low!r} > {high!r}")
    while digits < max_digits and low < high and _signed(low, digits) == _signed(high, digits):
        digits += 1
    return f"{_signed(mean, digits)} [{_signed(low, digits)}, {_signed(high, digits)}]"


def choose_by_validation(val_scores, *, higher_is_better: bool = True) -> np.ndarray:
    """Index of the best λ for each training set: ``val_scores`` has one row per training set and
    one column per λ (validation scores only). Ties go to the first (lowest-index) column.
    Returns an int array of length ``n_sets``. Pair with :func:`take_chosen`. Lesson 05.
    """
    v = check_array(val_scores, "val_scores", ndim=2)
    return np.argmax(v, axis=1) if higher_is_better else np.argmin(v, axis=1)


def take_chosen(scores, chosen) -> np.ndarray:
    """``scores[s, chosen[s]]`` for every training set ``s``: e.g. the test score of the λ that
    the validation set chose (``scores`` shaped like :func:`choose_by_validation`'s input)."""
    scores = check_array(scores, "scores", ndim=2)
    chosen = check_array(chosen, "chosen", ndim=1)
    if chosen.size != scores.shape[0]:
        raise ValueError(f"chosen must have one index per row of scores: {chosen.size} != {scores.shape[0]}")
    if np.any(chosen != np.round(chosen)) or np.any(chosen < 0) or np.any(chosen >= scores.shape[1]):
        raise ValueError(f"chosen must hold column indices in [0, {scores.shape[1]})")
    return scores[np.arange(scores.shape[0]), chosen.astype(int)]


def bonferroni(m: int, confidence: float = 0.95) -> float:
    r"""The confidence of each of ``m`` intervals read as one family (a table of comparisons), so
    that the probability that *all* of them cover their true differences is at least
    ``confidence`` (Bonferroni): :math:`1 - (1 - c)/m`, e.g. 0.995 for ten 95% comparisons. Pass it
    as ``paired_difference(..., confidence=bonferroni(m))``. Lesson 05."""
    m = check_int(m, "m", min_value=1, max_value=10_000)
    confidence = check_scalar(confidence, "confidence", strict=True)
    if confidence >= 1:
        raise ValueError(f"confidence must be < 1, got {confidence!r}")
    return 1 - (1 - confidence) / m


@finite_result("a_blocks", "b_blocks", action="compare")
def test_set_spread(a_blocks, b_blocks) -> float:
    r"""The standard deviation, over test blocks, of the mean paired difference: ``a_blocks[s, j]``
    and ``b_blocks[s, j]`` are the scores of methods A and B trained on training set ``s``,
    measured on test block ``j`` (disjoint blocks of equal size drawn from the same generator).
    For each block, :math:`\bar d_j = \frac1S\sum_s (a_{sj} - b_{sj})`; the result is
    :math:`\mathrm{sd}_j(\bar d_j)` (ddof = 1): the standard error that using *one* block as the
    test set adds to the paired difference, which :func:`paired_difference` on that block does not
    count. Needs at least 2 training sets and 2 blocks. Lesson 05."""
    a = check_array(a_blocks, "a_blocks", ndim=2)
    b = check_array(b_blocks, "b_blocks", ndim=2)
    if a.shape != b.shape:
        raise ValueError(f"a_blocks and b_blocks must have the same shape, got {a.shape} and {b.shape}")
    if a.shape[0] < 2 or a.shape[1] < 2:
        raise ValueError(f"a_blocks must hold at least 2 training sets (rows) and 2 blocks (columns), got {a.shape}")
    return float((a - b).mean(axis=0).std(ddof=1))
