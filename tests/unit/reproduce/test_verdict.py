"""The verdict logic on fabricated numbers: each outcome of each test, decided by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sparsetopo.reproduce.verdict import (
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    against_null,
    combine,
    evaluate,
    one_sample,
    paired,
    profiles_shared,
)


def test_one_sample_holds_with_the_t_test_p_value() -> None:
    x = [0.9, 0.85, 0.88, 0.92]
    v = one_sample(x, 0.5, "greater")
    assert v.outcome == HOLDS
    # p of a one-sided one-sample t-test, computed with scipy directly
    expect = stats.ttest_1samp(np.array(x) - 0.5, 0.0, alternative="greater").pvalue
    assert v.stats["p"] == pytest.approx(expect)
    assert v.stats["mean"] == pytest.approx(np.mean(x))


def test_one_sample_wrong_side_does_not_hold() -> None:
    v = one_sample([0.4, 0.45, 0.42], 0.5, "greater")
    assert v.outcome == FAILS and "wrong side" in v.reason
    assert one_sample([0.6, 0.7, 0.65], 0.5, "less").outcome == FAILS


def test_one_sample_noisy_right_direction_is_inconclusive() -> None:
    # mean 0.1 above the threshold, sd about 1: p is about 0.44
    v = one_sample([1.2, -0.9, 0.0], 0.0, "greater")
    assert v.outcome == INCONCLUSIVE and "p =" in v.label
    assert v.label.startswith("inconclusive (")


def test_too_few_values_is_inconclusive_and_nan_is_dropped() -> None:
    v = one_sample([0.9, math.nan], 0.5, "greater")
    assert v.outcome == INCONCLUSIVE and v.stats["n"] == 1
    assert "only 1" in v.reason


def test_one_value_beyond_the_threshold_holds_when_one_is_enough() -> None:
    assert one_sample([0.3], 0.1, "greater", min_n=1).outcome == HOLDS
    assert one_sample([0.05], 0.1, "greater", min_n=1).outcome == FAILS


def test_less_direction_and_zero_spread() -> None:
    assert one_sample([0.02, 0.02, 0.02], 0.1, "less").outcome == HOLDS
    assert one_sample([0.1, 0.1, 0.1], 0.1, "less").outcome == FAILS  # on the threshold


def test_paired_uses_differences_and_margin() -> None:
    a, b = [0.9, 0.8, 0.85], [0.5, 0.5, 0.52]
    assert paired(a, b, "greater").outcome == HOLDS
    # a margin of 0.5 is more than the effect (about 0.34): wrong side
    assert paired(a, b, "greater", margin=0.5).outcome == FAILS
    # lower is better: errors of a below b
    assert paired([0.1, 0.12, 0.11], [0.3, 0.31, 0.29], "less").outcome == HOLDS
    assert paired([0.3, 0.31, 0.29], [0.1, 0.12, 0.11], "less").outcome == FAILS
    with pytest.raises(Exception, match="equal lengths"):
        paired([1.0], [1.0, 2.0])


def test_against_null_outcomes() -> None:
    assert against_null([5.0, 7.0, 6.0], "greater").outcome == HOLDS
    assert against_null([-5.0, -7.0, -6.0], "less").outcome == HOLDS
    # right sign but median 1.0 < 2: not significant against the null
    v = against_null([1.0, 0.8, 1.2], "greater")
    assert v.outcome == INCONCLUSIVE and "not beyond" in v.reason
    # opposite sign
    assert against_null([-3.0, -4.0, -2.5], "greater").outcome == FAILS
    # a null with zero spread gives NaN Z everywhere
    assert against_null([math.nan, math.nan], "greater").outcome == INCONCLUSIVE
    # strong but only two seeds
    assert against_null([9.0, 8.0], "greater").outcome == INCONCLUSIVE


def test_profiles_shared_outcomes() -> None:
    same = {"a": [1, 2, 3, 4, 5, 6], "b": [1.1, 2.0, 3.2, 3.9, 5.1, 6.2],
            "c": [0.9, 2.1, 2.8, 4.2, 4.9, 6.1]}
    v = profiles_shared(same, n_perm=500)
    assert v.outcome == HOLDS
    r_ab = float(np.corrcoef(same["a"], same["b"])[0, 1])
    assert v.stats["pairs"]["a ~ b"] == pytest.approx(r_ab)
    # unrelated profiles: mean r near 0, not significant
    rng = np.random.default_rng(4)
    noise = {k: rng.standard_normal(8).tolist() for k in "abcd"}
    v2 = profiles_shared(noise, n_perm=500)
    assert v2.stats["mean_r"] < 0.5
    assert v2.outcome == FAILS
    # one usable profile only (the other has no spread)
    assert profiles_shared({"a": [1, 2, 3], "b": [1, 1, 1]}).outcome == INCONCLUSIVE


def test_combine_rules() -> None:
    h = one_sample([1, 1, 1])
    f = one_sample([-1, -1, -1])
    i = one_sample([1.2, -0.9, 0.0])
    assert combine([h, h]).outcome == HOLDS
    assert combine([h, i]).outcome == INCONCLUSIVE
    assert combine([h, i, f], ["x", "y", "z"]).outcome == FAILS
    assert combine([h, i, f], ["x", "y", "z"]).reason == "not met: z"


@pytest.mark.parametrize("verdict", [
    one_sample([0.9, 0.85, 0.88], 0.5),
    paired([0.1, 0.12, 0.11], [0.3, 0.31, 0.29], "less"),
    against_null([1.0, 0.8, 1.2]),
    profiles_shared({"a": [1, 2, 3, 4], "b": [1, 2, 3, 5], "c": [2, 3, 4, 6]}, n_perm=200),
    combine([one_sample([1, 1, 1]), against_null([-3.0, -4.0, -2.5])]),
])
def test_evaluate_recomputes_from_the_spec(verdict) -> None:
    again = evaluate(verdict.spec)
    assert again.outcome == verdict.outcome
    assert again.label == verdict.label
