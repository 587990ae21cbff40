"""Monte Carlo standard error of Z-scores: the delta-method formula against brute force."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from sparsetopo.analysis import SignedGraph, motif_zscores, zscore_se
from sparsetopo.analysis.zscores import MIN_NULL_SAMPLES, warn_few_null_samples


def _z(samples: np.ndarray, x: float) -> np.ndarray:
    """Z of each row of samples (reps, n) by definition (ddof=1)."""
    return (x - samples.mean(axis=1)) / samples.std(axis=1, ddof=1)


@pytest.mark.parametrize(("dist", "x", "rel"), [
    ("normal", 2.0, 0.07), ("normal", 6.0, 0.07),
    ("gamma", 3.0, 0.2), ("gamma", -0.5, 0.2), ("gamma", 8.0, 0.2), ("poisson", 9.0, 0.2)])
def test_se_matches_the_spread_of_z_over_repeated_null_draws(dist, x, rel):
    rng = np.random.default_rng(7)
    n, reps = 60, 20_000

    def draw(size):
        if dist == "normal":
            return rng.normal(0.0, 1.0, size)
        if dist == "gamma":  # skewed (skewness 1.41, kurtosis 6)
            return rng.gamma(2.0, 1.0, size)
        return rng.poisson(4.0, size).astype(float)

    brute = _z(draw((reps, n)), x).std()  # the true sampling SD of Z with n null samples
    # the estimate from ONE set of n samples scatters; its median over many sets is on target
    estimates = [float(zscore_se(draw(n), x)) for _ in range(300)]
    assert np.median(estimates) == pytest.approx(brute, rel=rel)
    # with the population's moments (from a huge sample) it is closer still
    population = float(zscore_se(draw(400_000), x)) * np.sqrt((400_000 - 4) / (n - 4))
    assert population == pytest.approx(brute, rel=0.06)


def test_normal_null_formula_and_shapes():
    rng = np.random.default_rng(1)
    vals = rng.normal(10.0, 2.0, size=(200_000, 2))
    se = zscore_se(vals, np.array([10.0, 14.0]))  # Z = 0 and Z = 2
    assert se.shape == (2,)
    assert se * np.sqrt(200_000 - 4) == pytest.approx([1.0, np.sqrt(3.0)], rel=0.02)


def test_undefined_z_has_no_se():
    assert np.isnan(zscore_se(np.ones(50), 2.0))  # sd = 0
    assert np.isnan(zscore_se(np.array([1.0, 2.0, np.nan]), 2.0))  # < 4 finite samples


def test_motif_zscores_reports_z_se_that_shrinks_with_n():
    rng = np.random.default_rng(0)
    pairs = {(int(a), int(b)) for a, b in rng.integers(0, 30, (200, 2)) if a != b}
    src, dst = np.array(sorted(pairs)).T
    g = SignedGraph.from_edges(src, dst, rng.choice([-1.0, 1.0], len(src)))
    few = motif_zscores(g, "triads", null="switching", n=20, seed=0)
    many = motif_zscores(g, "triads", null="switching", n=320, seed=0)
    ok = few["z_se"].notna() & many["z_se"].notna()
    assert ok.sum() >= 5
    # SE ~ 1/sqrt(n): 16 times the samples, about a quarter of the error
    ratio = (many.loc[ok, "z_se"] / few.loc[ok, "z_se"]).median()
    assert 0.15 < ratio < 0.4


def test_few_samples_warn(caplog):
    with caplog.at_level(logging.WARNING, logger="sparsetopo.analysis.zscores"):
        assert warn_few_null_samples(MIN_NULL_SAMPLES) is None
        message = warn_few_null_samples(5)
    assert message is not None and "--n-null" in message and "1.73" in message
    assert message in caplog.text
