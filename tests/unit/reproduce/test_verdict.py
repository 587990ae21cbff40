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
    manipulated,
    n_needed,
    one_sample,
    paired,
    power_t,
    profiles_shared,
    spread_within_null,
)


def test_one_sample_holds_with_the_t_test_p_value() -> None:
    x = [0.9, 0.85, 0.88, 0.92]
    v = one_sample(x, 0.5, "greater")
    assert v.outcome == HOLDS
    # p of a one-sided one-sample t-test, computed with scipy directly
    expect = stats.ttest_1samp(np.array(x) - 0.5, 0.0, alternative="greater").pvalue
    assert v.stats["p"] == pytest.approx(expect)
    assert v.stats["mean"] == pytest.approx(np.mean(x))


def test_one_sample_wrong_side_needs_evidence_to_not_hold() -> None:
    # clearly on the wrong side (opposite-direction t-test p < 0.05): does not hold
    v = one_sample([0.4, 0.45, 0.42], 0.5, "greater")
    assert v.outcome == FAILS and "wrong side" in v.reason
    expect = stats.ttest_1samp(np.array([0.4, 0.45, 0.42]) - 0.5, 0.0, alternative="less").pvalue
    assert v.stats["p_absence"] == pytest.approx(expect)
    assert one_sample([0.6, 0.7, 0.65], 0.5, "less").outcome == FAILS


def test_point_estimate_on_the_wrong_side_with_p_034_is_underpowered() -> None:
    # mean -0.1 with sd 0.4 over 3 seeds: opposite-direction p = 0.35, not evidence of absence
    x = [-0.5, 0.2, 0.0]
    opp = stats.ttest_1samp(x, 0.0, alternative="less").pvalue
    assert 0.3 < opp < 0.4
    v = one_sample(x, 0.0, "greater", sesoi=0.05)
    assert v.outcome == INCONCLUSIVE
    assert v.label.startswith("inconclusive (underpowered: point estimate on the wrong side")
    # the power reported is the noncentral-t power to detect the smallest effect of interest
    sd, n = float(np.std(x, ddof=1)), 3
    tcrit = stats.t.ppf(0.95, n - 1)
    want = stats.nct.sf(tcrit, n - 1, 0.05 / (sd / np.sqrt(n)))
    assert v.stats["power"] == pytest.approx(want)
    assert v.stats["n_needed"] > 3 and "needed" in v.reason


def test_power_and_n_needed_match_a_brute_force_search() -> None:
    # power by simulation of the one-sided t-test (effect 0.5 sd, n = 10): about 0.44
    rng = np.random.default_rng(0)
    sims = rng.normal(0.5, 1.0, size=(20000, 10))
    p = stats.ttest_1samp(sims, 0.0, axis=1, alternative="greater").pvalue
    assert power_t(0.5, 1.0, 10) == pytest.approx(float(np.mean(p < 0.05)), abs=0.015)
    need = n_needed(0.5, 1.0)
    assert power_t(0.5, 1.0, need) >= 0.8 > power_t(0.5, 1.0, need - 1)


def test_equivalence_test_gives_evidence_of_absence() -> None:
    # right direction but tiny and tight: the effect is significantly below the sesoi 0.05
    v = one_sample([0.501, 0.503, 0.502, 0.5015], 0.5, "greater", sesoi=0.05)
    assert v.outcome in (HOLDS, FAILS)
    assert v.outcome == HOLDS  # a tiny but real effect still holds (p < 0.05) ...
    w = one_sample([0.49, 0.51, 0.5, 0.505], 0.5, "greater", sesoi=0.05)
    assert w.outcome == FAILS and "smallest effect of interest" in w.reason  # ... noise does not
    assert "below 0.55" in w.refuted_by


def test_one_sample_noisy_right_direction_is_inconclusive() -> None:
    # mean 0.1 above the threshold, sd about 1: p is about 0.44
    v = one_sample([1.2, -0.9, 0.0], 0.0, "greater")
    assert v.outcome == INCONCLUSIVE and "p =" in v.label
    assert v.label.startswith("inconclusive (underpowered")
    assert v.stats["power"] is not None


def test_too_few_values_is_inconclusive_and_nan_is_dropped() -> None:
    v = one_sample([0.9, math.nan], 0.5, "greater")
    assert v.outcome == INCONCLUSIVE and v.stats["n"] == 1
    assert "only 1" in v.reason and v.stats["n_needed"] == 3


def test_one_value_beyond_the_threshold_holds_when_one_is_enough() -> None:
    assert one_sample([0.3], 0.1, "greater", min_n=1).outcome == HOLDS
    assert one_sample([0.05], 0.1, "greater", min_n=1).outcome == FAILS


def test_less_direction_and_zero_spread() -> None:
    assert one_sample([0.02, 0.02, 0.02], 0.1, "less").outcome == HOLDS
    assert one_sample([0.1, 0.1, 0.1], 0.1, "less", sesoi=0.01).outcome == FAILS


def test_paired_uses_differences_and_margin() -> None:
    a, b = [0.9, 0.8, 0.85], [0.5, 0.5, 0.52]
    assert paired(a, b, "greater").outcome == HOLDS
    # a margin of 0.5 is more than the effect (about 0.34), significantly
    assert paired(a, b, "greater", margin=0.5).outcome == FAILS
    # lower is better: errors of a below b
    assert paired([0.1, 0.12, 0.11], [0.3, 0.31, 0.29], "less").outcome == HOLDS
    assert paired([0.3, 0.31, 0.29], [0.1, 0.12, 0.11], "less").outcome == FAILS
    with pytest.raises(Exception, match="equal lengths"):
        paired([1.0], [1.0, 2.0])


def test_against_null_outcomes() -> None:
    assert against_null([5.0, 7.0, 6.0], "greater").outcome == HOLDS
    assert against_null([-5.0, -7.0, -6.0], "less").outcome == HOLDS
    # right sign, but consistently below the smallest effect of interest |Z| = 2: absent
    v = against_null([1.0, 0.8, 1.2], "greater")
    assert v.outcome == FAILS and "smallest effect of interest" in v.reason
    # opposite sign
    assert against_null([-3.0, -4.0, -2.5], "greater").outcome == FAILS
    # median just short of -2 with one seed far beyond: neither shown nor refuted
    u = against_null([-1.9, -2.2, -1.5, -9.0], "less")
    assert u.outcome == INCONCLUSIVE and u.reason.startswith("underpowered")
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
    # unrelated profiles: mean r near 0, the jackknife upper bound below 0.5
    rng = np.random.default_rng(4)
    noise = {k: rng.standard_normal(8).tolist() for k in "abcdefgh"}
    v2 = profiles_shared(noise, n_perm=500)
    assert v2.stats["mean_r"] < 0.5 and v2.stats["upper"] < 0.5
    assert v2.outcome == FAILS
    # three unrelated profiles cannot bound mean r below 0.5: underpowered
    v3 = profiles_shared({k: noise[k] for k in "abc"}, n_perm=200)
    assert v3.outcome == INCONCLUSIVE or v3.stats["upper"] < 0.5
    # one usable profile only (the other has no spread)
    assert profiles_shared({"a": [1, 2, 3], "b": [1, 1, 1]}).outcome == INCONCLUSIVE


def test_spread_within_null() -> None:
    rng = np.random.default_rng(1)
    base = rng.standard_normal(7)
    seeds = [base + 0.05 * rng.standard_normal(7) for _ in range(4)]
    null = [rng.standard_normal(7) for _ in range(30)]
    v = spread_within_null(seeds, null)
    assert v.outcome == HOLDS and v.stats["ratio"] < 0.2
    # seeds scattered far more than null draws: does not hold
    wide = [5 * rng.standard_normal(7) for _ in range(8)]
    assert spread_within_null(wide, null).outcome == FAILS
    assert spread_within_null(seeds[:1], null).outcome == INCONCLUSIVE


def test_combine_all_names_the_deciding_part() -> None:
    h = one_sample([1, 1, 1])
    f = one_sample([-1, -1, -1])
    i = one_sample([1.2, -0.9, 0.0])
    assert combine([h, h]).outcome == HOLDS
    assert combine([h, i]).outcome == INCONCLUSIVE
    v = combine([h, i, f], ["x", "y", "z"])
    assert v.outcome == FAILS and v.reason == "decided by z"
    assert v.stats["decided_by"] == ["z"]


def test_combine_family_noise_in_one_of_seven_parts_does_not_decide() -> None:
    h = against_null([5.0, 7.0, 6.0])
    noisy = against_null([-1.9, -2.2, -1.5, -9.0], "less")
    f = against_null([-3.0, -4.0, -2.5])
    names = [f"m{i}" for i in range(7)]
    v = combine([h] * 6 + [noisy], names, mode="family")
    assert v.outcome == HOLDS and "m6" in v.reason and "6 of 7" in v.reason
    # a single failing part does not decide either
    assert combine([h] * 6 + [f], names, mode="family").outcome == HOLDS
    # two of seven refuted: the quorum of 6 is out of reach
    w = combine([h] * 5 + [f, f], names, mode="family")
    assert w.outcome == FAILS and w.stats["decided_by"] == ["m5", "m6"]
    # 5 hold, 2 undecided: inconclusive
    assert combine([h] * 5 + [noisy, noisy], names, mode="family").outcome == INCONCLUSIVE
    # in mode "all" the same noisy part keeps the claim undecided
    assert combine([h] * 6 + [noisy], names).outcome == INCONCLUSIVE


def test_failed_manipulation_is_inconclusive_with_the_reason() -> None:
    effect = paired([0.97, 0.96, 0.95], [0.90, 0.91, 0.90], "greater")
    assert effect.outcome == HOLDS
    # "balanced" runs ended less balanced than "random" ones: the check does not hold
    check = paired([0.52, 0.55, 0.59], [0.57, 0.65, 0.70], "greater", margin=0.1,
                   what="balance(balanced) - balance(random)")
    v = manipulated(effect, check, "raising the FFL balance")
    assert v.outcome == INCONCLUSIVE
    assert v.label.startswith("inconclusive (manipulation failed: raising the FFL balance")
    ok = manipulated(effect, paired([0.9, 0.88, 0.91], [0.5, 0.52, 0.49], "greater"), "x")
    assert ok.outcome == HOLDS and ok.parts[0].outcome == HOLDS


@pytest.mark.parametrize("verdict", [
    one_sample([0.9, 0.85, 0.88], 0.5),
    paired([0.1, 0.12, 0.11], [0.3, 0.31, 0.29], "less"),
    against_null([1.0, 0.8, 1.2]),
    profiles_shared({"a": [1, 2, 3, 4], "b": [1, 2, 3, 5], "c": [2, 3, 4, 6]}, n_perm=200),
    combine([one_sample([1, 1, 1]), against_null([-3.0, -4.0, -2.5])]),
    combine([against_null([5.0, 7.0, 6.0])] * 3 + [against_null([1.0, 0.4, 1.9])],
            mode="family"),
    one_sample([-0.5, 0.2, 0.0], sesoi=0.05),
    spread_within_null([[1, 0, 0], [0.9, 0.1, 0]], [[1, 0, 0], [0, 1, 0], [0, 0, 1]]),
    manipulated(one_sample([1, 1, 1]), one_sample([-1, -1, -1]), "x"),
])
def test_evaluate_recomputes_from_the_spec(verdict) -> None:
    again = evaluate(verdict.spec)
    assert again.outcome == verdict.outcome
    assert again.label == verdict.label
