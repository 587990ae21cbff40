"""Verdicts from numbers: each claim of a reproduction is decided by one of these tests.

A verdict is ``holds``, ``does not hold`` or ``inconclusive`` with the reason. Every
:class:`Verdict` keeps the test's name, its exact inputs (``spec``) and the outcome that would
have refuted the claim (``refuted_by``), so :func:`evaluate` can recompute it from a
``claims.json`` alone: verdicts follow from the stored numbers, never from a hard-coded table.

Rules (alpha = 0.05 unless given). Every test can end either way on the data at hand:

- :func:`one_sample` / :func:`paired`: the claimed effect is ``d = x - threshold`` (direction
  ``greater``) or ``threshold - x`` (``less``); for paired data x is the per-seed difference
  ``a - b``. **Holds**: a one-sided t-test of mean d > 0 with p < alpha. **Does not hold**
  needs evidence of absence: a one-sided t-test that mean d < ``sesoi`` (the preset smallest
  effect of interest; 0 = an opposite-direction test) with p < alpha. Anything else is
  **inconclusive (underpowered)**, with the power of the test to detect ``sesoi`` (or, without
  one, the observed effect) at the observed spread and the n that would give 80 % power. Fewer
  than ``min_n`` values: inconclusive (underpowered). A single exact value (``min_n`` = 1, one
  value, e.g. the smallest entry of a matrix) is compared directly: beyond the threshold holds,
  otherwise does not hold.
- :func:`against_null`: Z-scores of one statistic against its null model, one per seed, with
  ``d = sign * Z``. Holds: median d > ``z_crit`` and a one-sided t-test of mean d > 0 with
  p < alpha. Does not hold: a one-sided t-test of mean d < ``z_crit`` with p < alpha (the
  effect, if any, is below the smallest one of interest, |Z| = z_crit). Otherwise
  inconclusive (underpowered) with power and n needed.
- :func:`profiles_shared`: mean pairwise Pearson r of significance profiles. Holds: mean r >=
  ``r_min`` and a permutation test (every profile's entries shuffled) with p < alpha. Does not
  hold: the one-sided (1 - alpha) jackknife upper bound of mean r (over profiles) is below
  r_min. Otherwise inconclusive.
- :func:`spread_within_null`: spread of profiles across seeds against their spread across
  null draws (the convergence claim). Holds: the across-seed spread is below the null's with a
  one-sided t-test over items; does not hold: it is above it; otherwise inconclusive.
- :func:`combine`: ``mode="all"`` (every part a necessary condition: any part that does not
  hold decides; else any inconclusive part) or ``mode="family"`` (parallel parts of one claim,
  e.g. seven motifs: holds when at least ``quorum`` parts hold, default ceil(3/4 of the parts),
  does not hold when so many fail that the quorum is out of reach, else inconclusive), so
  noise in one of seven parts cannot decide alone. The reason names the deciding parts.
- :func:`manipulated`: a verdict that rests on a manipulation (e.g. "balanced" vs "random"
  topologies) counts only when the manipulation check holds; otherwise **inconclusive
  (manipulation failed: why)**.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from sparsetopo.errors import InputError

HOLDS = "holds"
FAILS = "does not hold"
INCONCLUSIVE = "inconclusive"
OUTCOMES = (HOLDS, FAILS, INCONCLUSIVE)
DIRECTIONS = ("greater", "less")
MODES = ("all", "family")
#: Power a design should have to detect the smallest effect of interest (the n-needed target).
TARGET_POWER = 0.8


@dataclass
class Verdict:
    """The outcome of one test: ``outcome`` (:data:`OUTCOMES`), why, what was computed, and
    the outcome that would have refuted the claim."""

    outcome: str
    reason: str
    test: str
    stats: dict[str, Any] = field(default_factory=dict)
    spec: dict[str, Any] = field(default_factory=dict)
    parts: list[Verdict] = field(default_factory=list)
    refuted_by: str = ""

    @property
    def label(self) -> str:
        """``holds``, ``does not hold`` or ``inconclusive (why)``."""
        return f"{INCONCLUSIVE} ({self.reason})" if self.outcome == INCONCLUSIVE else self.outcome

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (what claims.json stores)."""
        return {"outcome": self.outcome, "label": self.label, "reason": self.reason,
                "test": self.test, "refuted_by": self.refuted_by, "stats": self.stats,
                "spec": self.spec, "parts": [p.to_dict() for p in self.parts]}


def _clean(values: Sequence[float] | np.ndarray) -> np.ndarray:
    x = np.asarray([float(v) for v in values], dtype=np.float64)
    return x[np.isfinite(x)]


def _t_greater(d: np.ndarray) -> float:
    """One-sided p of a one-sample t-test of mean(d) > 0 (0 or 1 when d has no spread)."""
    from scipy import stats

    sd = float(d.std(ddof=1)) if len(d) > 1 else 0.0
    if sd == 0.0:
        return 0.0 if float(d.mean()) > 0 else 1.0
    t = float(d.mean()) / (sd / math.sqrt(len(d)))
    return float(stats.t.sf(t, df=len(d) - 1))


def power_t(effect: float, sd: float, n: int, alpha: float = 0.05) -> float:
    """Power of a one-sided one-sample t-test at level ``alpha`` to detect a mean ``effect``
    with standard deviation ``sd`` from ``n`` values (noncentral t).

    Examples
    --------
    >>> round(power_t(1.0, 1.0, 10), 2)
    0.9
    """
    from scipy import stats

    if n < 2 or effect <= 0:
        return float("nan") if n < 2 else 0.0
    if sd <= 0:
        return 1.0
    tcrit = float(stats.t.ppf(1 - alpha, n - 1))
    return float(stats.nct.sf(tcrit, n - 1, effect / (sd / math.sqrt(n))))


def n_needed(effect: float, sd: float, alpha: float = 0.05, power: float = TARGET_POWER,
             n_max: int = 10_000) -> int | None:
    """Smallest n at which :func:`power_t` reaches ``power`` (None: not within ``n_max``).

    Examples
    --------
    >>> n_needed(1.0, 1.0)
    8
    """
    if effect <= 0 or not math.isfinite(sd):
        return None
    if sd <= 0:
        return 2
    lo, hi = 2, n_max
    if power_t(effect, sd, hi, alpha) < power:
        return None
    while lo < hi:  # power grows with n: bisect
        mid = (lo + hi) // 2
        if power_t(effect, sd, mid, alpha) >= power:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def _power_note(d: np.ndarray, effect: float, alpha: float, stats: dict[str, Any],
                target: str) -> str:
    """Power to detect ``effect`` and the n needed; stored in ``stats``; a short text."""
    n = len(d)
    sd = float(d.std(ddof=1)) if n > 1 else float("nan")
    if effect <= 0 or not math.isfinite(sd):
        stats.update(power=None, n_needed=None, power_effect=effect)
        return f"power unknown ({'no spread estimate' if n < 2 else 'no effect size'})"
    pw = power_t(effect, sd, n, alpha)
    need = n_needed(effect, sd, alpha)
    stats.update(power=pw, n_needed=need, power_effect=effect)
    need_s = f"n = {need} needed for {TARGET_POWER:.0%}" if need else "n > 10000 needed"
    return f"power {pw:.2f} to detect {target} {_fmt(effect)}; {need_s}"


def _decide(d: np.ndarray, alpha: float, sesoi: float | None, what: str, hold_extra: bool = True,
            hold_why: str = "") -> tuple[str, str, dict[str, Any]]:
    """The shared rule on effects d (claimed direction positive)."""
    st: dict[str, Any] = {}
    p = _t_greater(d)
    floor = sesoi if sesoi is not None else 0.0
    p_absent = _t_greater(floor - d) if len(d) > 1 else 1.0
    st.update(p=p, p_absence=p_absent, sesoi=sesoi)
    mean = float(d.mean())
    if p < alpha and hold_extra:
        return HOLDS, f"p = {_fmt(p)} < {alpha}{hold_why}", st
    if p_absent < alpha:
        if sesoi:
            why = (f"effect {_fmt(mean)} is below the smallest effect of interest "
                   f"{_fmt(floor)} (p = {_fmt(p_absent)})")
        else:
            why = f"{what} is on the wrong side (opposite-direction p = {_fmt(p_absent)})"
        return FAILS, why, st
    effect = sesoi if sesoi else abs(mean)
    note = _power_note(d, effect, alpha, st, "a smallest effect" if sesoi else
                       "the observed effect")
    side = "right direction" if mean > 0 else "point estimate on the wrong side"
    return INCONCLUSIVE, f"underpowered: {side}, p = {_fmt(p)}, n = {len(d)}; {note}", st


def _rel(direction: str) -> tuple[float, str, str]:
    if direction not in DIRECTIONS:
        raise InputError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    return (1.0, ">", "<=") if direction == "greater" else (-1.0, "<", ">=")


def one_sample(
    values: Sequence[float], threshold: float = 0.0, direction: str = "greater",
    alpha: float = 0.05, min_n: int = 3, what: str = "value", over: str = "seeds",
    sesoi: float | None = None,
) -> Verdict:
    """Is the mean of ``values`` beyond ``threshold`` in ``direction``? (module docstring).

    Parameters
    ----------
    values : sequence of float
        One number per seed (or per run pair); NaN values are dropped.
    threshold : float
        The value the claim must beat.
    direction : {"greater", "less"}
        Claimed side of the threshold.
    alpha : float
        Significance level of the one-sided t-tests.
    min_n : int
        Fewer finite values make the verdict inconclusive (underpowered).
    what : str
        Name of the quantity, used in the reason.
    over : str
        What the values are one per (seeds, runs, run pairs), used in the test's name.
    sesoi : float, optional
        Smallest effect of interest beyond the threshold (default 0: "does not hold" then needs
        a significant effect in the opposite direction).

    Returns
    -------
    Verdict

    Examples
    --------
    >>> one_sample([0.8, 0.9, 0.85], 0.5).outcome
    'holds'
    >>> one_sample([0.52, 0.49, 0.51], 0.5, sesoi=0.1).outcome
    'does not hold'
    """
    sign, rel, opp = _rel(direction)
    if sesoi is not None and sesoi < 0:
        raise InputError(f"sesoi must be >= 0, got {sesoi}")
    spec = {"kind": "one_sample", "values": [float(v) for v in values], "threshold": threshold,
            "direction": direction, "alpha": alpha, "min_n": min_n, "what": what, "over": over,
            "sesoi": sesoi}
    x = _clean(values)
    exact = min_n <= 1 and len(x) == 1
    bound = threshold + sign * (sesoi or 0.0)
    test = (f"{what} {rel} {_fmt(threshold)} (one exact value)" if exact else
            f"one-sided t-tests over {over}: mean {what} {rel} {_fmt(threshold)} (holds); "
            f"mean {what} {'<' if sign > 0 else '>'} {_fmt(bound)} (does not hold)")
    refuted = (f"{what} {opp} {_fmt(threshold)}" if exact else
               f"mean {what} significantly {'below' if sign > 0 else 'above'} {_fmt(bound)} "
               f"(one-sided p < {alpha})")
    stats: dict[str, Any] = {"n": len(x)}
    if len(x):
        stats.update(mean=float(x.mean()), sd=float(x.std(ddof=1)) if len(x) > 1 else 0.0,
                     min=float(x.min()), max=float(x.max()))
    if len(x) < min_n or (len(x) < 2 and not exact):
        need = max(min_n, 2)
        return Verdict(INCONCLUSIVE, f"underpowered: only {len(x)} value(s), need at least "
                       f"{need}", test, {**stats, "n_needed": need}, spec, refuted_by=refuted)
    d = sign * (x - threshold)
    if exact:
        ok = float(d[0]) > 0
        return Verdict(HOLDS if ok else FAILS,
                       f"{what} {_fmt(float(x[0]))} is {'beyond' if ok else 'not beyond'} "
                       f"{_fmt(threshold)}", test, stats, spec, refuted_by=refuted)
    outcome, reason, st = _decide(d, alpha, sesoi, f"mean {what}")
    stats.update(st)
    return Verdict(outcome, reason, test, stats, spec, refuted_by=refuted)


def paired(
    a: Sequence[float], b: Sequence[float], direction: str = "greater", margin: float = 0.0,
    alpha: float = 0.05, min_n: int = 3, what: str = "difference", over: str = "seeds",
    sesoi: float | None = None,
) -> Verdict:
    """Paired over seeds: is ``a - b`` beyond ``margin`` in ``direction``? (module docstring).

    Parameters
    ----------
    a, b : sequence of float
        Equal-length per-seed values (pairs with a NaN are dropped).
    direction : {"greater", "less"}
        ``greater``: a > b + margin; ``less``: a < b - margin.
    margin : float
        Minimum effect the claim needs.
    alpha, min_n, what, over, sesoi
        As in :func:`one_sample`.

    Returns
    -------
    Verdict

    Examples
    --------
    >>> paired([0.9, 0.8, 0.85], [0.5, 0.5, 0.52]).outcome
    'holds'
    """
    if len(a) != len(b):
        raise InputError(f"paired test needs equal lengths (got {len(a)} and {len(b)})")
    diffs = [float(x) - float(y) for x, y in zip(a, b, strict=True)]
    threshold = margin if direction == "greater" else -margin
    v = one_sample(diffs, threshold, direction, alpha, min_n, what, over, sesoi)
    v.test = f"paired over {over}: " + v.test
    v.spec = {"kind": "paired", "a": [float(x) for x in a], "b": [float(x) for x in b],
              "direction": direction, "margin": margin, "alpha": alpha, "min_n": min_n,
              "what": what, "over": over, "sesoi": sesoi}
    return v


def against_null(
    z: Sequence[float], direction: str = "greater", z_crit: float = 2.0, alpha: float = 0.05,
    min_n: int = 3, what: str = "Z",
) -> Verdict:
    """Z-scores against a null model, one per seed (module docstring).

    Parameters
    ----------
    z : sequence of float
        Z-scores (NaN, e.g. a null with zero spread, are dropped).
    direction : {"greater", "less"}
        ``greater``: over-represented; ``less``: under-represented.
    z_crit : float
        |median Z| needed, and the smallest effect of interest of the absence test.
    alpha, min_n, what
        As in :func:`one_sample`.

    Returns
    -------
    Verdict

    Examples
    --------
    >>> against_null([5.0, 7.0, 6.0]).outcome
    'holds'
    >>> against_null([-5.0, -7.0, -6.0]).outcome
    'does not hold'
    """
    sign, rel, _ = _rel(direction)
    spec = {"kind": "against_null", "z": [float(v) for v in z], "direction": direction,
            "z_crit": z_crit, "alpha": alpha, "min_n": min_n, "what": what}
    x = _clean(z)
    test = (f"{what} against the null model over seeds: median {rel} {_fmt(sign * z_crit)} and "
            f"a one-sided t-test of mean {rel} 0 (holds); a one-sided t-test of mean "
            f"{'below' if sign > 0 else 'above'} {_fmt(sign * z_crit)} (does not hold)")
    refuted = (f"mean {what} significantly {'below' if sign > 0 else 'above'} "
               f"{_fmt(sign * z_crit)} over seeds (one-sided p < {alpha})")
    stats: dict[str, Any] = {"n": len(x)}
    if not len(x):
        return Verdict(INCONCLUSIVE, "no finite Z-score (null with zero spread)", test, stats,
                       spec, refuted_by=refuted)
    med = float(np.median(x))
    stats.update(median=med, mean=float(x.mean()), min=float(x.min()), max=float(x.max()))
    if len(x) < max(min_n, 2):
        need = max(min_n, 2)
        return Verdict(INCONCLUSIVE, f"underpowered: only {len(x)} seed(s), need {need}", test,
                       {**stats, "n_needed": need}, spec, refuted_by=refuted)
    outcome, reason, st = _decide(sign * x, alpha, z_crit, f"median {what}",
                                  hold_extra=sign * med > z_crit,
                                  hold_why=f", median {what} {_fmt(med)}")
    stats.update(st)
    if outcome == INCONCLUSIVE and sign * med <= z_crit and st["p"] < alpha:
        reason = (f"underpowered: median {what} {_fmt(med)} not beyond {_fmt(sign * z_crit)} "
                  f"though p = {_fmt(st['p'])}; " + reason.split("; ", 1)[-1])
    return Verdict(outcome, reason, test, stats, spec, refuted_by=refuted)


def profiles_shared(
    profiles: Mapping[str, Sequence[float]], r_min: float = 0.5, alpha: float = 0.05,
    n_perm: int = 2000, seed: int = 0,
) -> Verdict:
    """Are significance profiles shared? Mean pairwise Pearson r against a permutation null.

    Parameters
    ----------
    profiles : mapping of str to sequence of float
        Condition -> profile (equal lengths; profiles with NaN or no spread are dropped).
    r_min : float
        Mean correlation the claim needs (also the smallest effect of interest).
    alpha : float
        Significance level of the permutation test and of the jackknife bound.
    n_perm : int
        Permutations (entries of every profile shuffled independently).
    seed : int
        Seed of the permutations.

    Returns
    -------
    Verdict
        ``stats["pairs"]`` holds every pairwise r, ``stats["upper"]`` the jackknife bound.

    Examples
    --------
    >>> profiles_shared({"a": [1, 2, 3, 4], "b": [1, 2, 3, 5], "c": [2, 3, 4, 6]}).outcome
    'holds'
    """
    from scipy import stats as sps

    spec = {"kind": "profiles_shared", "profiles": {k: [float(v) for v in p]
                                                     for k, p in profiles.items()},
            "r_min": r_min, "alpha": alpha, "n_perm": n_perm, "seed": seed}
    test = (f"mean pairwise Pearson r >= {r_min} and a permutation test ({n_perm} shuffles of "
            f"the profile entries) (holds); a one-sided {1 - alpha:.0%} jackknife upper bound "
            f"of mean r below {r_min} (does not hold)")
    refuted = f"the {1 - alpha:.0%} upper bound of the mean pairwise r below {r_min}"
    keep = {k: np.asarray(p, dtype=np.float64) for k, p in profiles.items()}
    keep = {k: p for k, p in keep.items() if np.isfinite(p).all() and p.std() > 0}
    names = sorted(keep)
    stats: dict[str, Any] = {"n": len(names)}
    if len(names) < 2:
        return Verdict(INCONCLUSIVE, f"underpowered: only {len(names)} usable profile(s)",
                       test, stats, spec, refuted_by=refuted)
    mat = np.stack([keep[k] for k in names])

    def mean_r(m: np.ndarray) -> float:
        c = np.atleast_2d(np.corrcoef(m))
        iu = np.triu_indices(len(m), 1)
        return float(np.nanmean(c[iu]))

    c = np.atleast_2d(np.corrcoef(mat))
    stats["pairs"] = {f"{a} ~ {b}": float(c[i, j]) for (i, a), (j, b)
                      in combinations(list(enumerate(names)), 2)}
    obs = mean_r(mat)
    rng = np.random.default_rng(seed)
    null = np.empty(n_perm)
    for i in range(n_perm):
        null[i] = mean_r(np.stack([rng.permutation(row) for row in mat]))
    p = float((1 + np.sum(null >= obs - 1e-12)) / (n_perm + 1))
    k = len(names)
    upper = float("inf")
    if k >= 3:
        loo = np.array([mean_r(np.delete(mat, i, axis=0)) for i in range(k)])
        se = math.sqrt((k - 1) / k * float(np.sum((loo - loo.mean()) ** 2)))
        upper = obs + float(sps.t.ppf(1 - alpha, k - 1)) * se
        stats["jackknife_se"] = se
    stats.update(mean_r=obs, min_r=float(min(stats["pairs"].values())), p=p, upper=upper)
    if obs >= r_min and p < alpha:
        return Verdict(HOLDS, f"mean r = {_fmt(obs)}, p = {_fmt(p)}", test, stats, spec,
                       refuted_by=refuted)
    if upper < r_min:
        return Verdict(FAILS, f"mean r = {_fmt(obs)}, upper bound {_fmt(upper)} < {r_min}",
                       test, stats, spec, refuted_by=refuted)
    return Verdict(INCONCLUSIVE, f"underpowered: mean r = {_fmt(obs)} (p = {_fmt(p)}), upper "
                   f"bound {_fmt(upper)} includes {r_min} with {k} profiles", test, stats, spec,
                   refuted_by=refuted)


def spread_within_null(
    seed_profiles: Sequence[Sequence[float]], null_profiles: Sequence[Sequence[float]],
    alpha: float = 0.05, what: str = "significance profile",
) -> Verdict:
    """Do networks of different seeds converge? Their profiles' spread against the null's.

    Parameters
    ----------
    seed_profiles : sequence of sequence of float
        One profile per seed (items in the same order).
    null_profiles : sequence of sequence of float
        One profile per null draw, computed the same way.
    alpha : float
        Significance level.
    what : str
        Name of the profiles.

    Returns
    -------
    Verdict
        ``stats["ratio"]``: geometric mean of sd(seeds) / sd(null draws) over items.

    Notes
    -----
    Per item k, ``s_k = sd over seeds`` and ``n_k = sd over null draws``;
    ``d_k = log(n_k / s_k)``. Holds: one-sided t-test of mean d > 0 (seeds agree more than null
    draws do); does not hold: mean d < 0 significantly; else inconclusive (underpowered).

    Examples
    --------
    >>> spread_within_null([[1, 0, 0], [0.9, 0.1, 0], [1, 0.05, 0.02]],
    ...                    [[1, 0, 0], [0, 1, 0], [0, 0, 1], [-1, 0, 0]]).outcome
    'holds'
    """
    spec = {"kind": "spread_within_null",
            "seed_profiles": [[float(v) for v in p] for p in seed_profiles],
            "null_profiles": [[float(v) for v in p] for p in null_profiles],
            "alpha": alpha, "what": what}
    test = (f"per item, log(sd over null draws / sd over seeds) of the {what}: one-sided "
            "t-tests over items (> 0 holds, < 0 does not hold)")
    refuted = f"the {what}s of different seeds spread significantly more than null draws do"
    s = np.asarray(seed_profiles, dtype=float)
    n = np.asarray(null_profiles, dtype=float)
    stats: dict[str, Any] = {"n_seeds": len(s), "n_null": len(n)}
    if s.ndim != 2 or n.ndim != 2 or len(s) < 2 or len(n) < 2 or s.shape[1] != n.shape[1]:
        return Verdict(INCONCLUSIVE, "underpowered: need at least 2 seeds and 2 null draws of "
                       "equal length", test, stats, spec, refuted_by=refuted)
    ss, ns = np.nanstd(s, axis=0, ddof=1), np.nanstd(n, axis=0, ddof=1)
    ok = np.isfinite(ss) & np.isfinite(ns) & (ss > 0) & (ns > 0)
    d = np.log(ns[ok] / ss[ok])
    stats.update(items=int(ok.sum()), sd_seeds=ss.tolist(), sd_null=ns.tolist(),
                 ratio=float(np.exp(-d.mean())) if len(d) else float("nan"))
    if len(d) < 2:
        return Verdict(INCONCLUSIVE, "underpowered: fewer than 2 items with spread", test,
                       stats, spec, refuted_by=refuted)
    outcome, reason, st = _decide(d, alpha, None, "the seeds' spread")
    stats.update(st)
    return Verdict(outcome, reason, test, stats, spec, refuted_by=refuted)


def combine(
    parts: Sequence[Verdict], names: Sequence[str] | None = None, test: str | None = None,
    mode: str = "all", quorum: int | None = None,
) -> Verdict:
    """One verdict from several (module docstring); the reason names the deciding parts.

    Parameters
    ----------
    parts : sequence of Verdict
        The sub-verdicts.
    names : sequence of str, optional
        A label per part (default: part 1, 2, ...).
    test : str, optional
        A short description of the tests (default: the parts' test names joined).
    mode : {"all", "family"}
        ``all``: every part is necessary; ``family``: parallel parts, decided by a quorum.
    quorum : int, optional
        Parts that must hold in a family (default ceil(3/4 of the parts)).

    Returns
    -------
    Verdict
        ``stats["decided_by"]`` names the deciding parts.

    Examples
    --------
    >>> combine([one_sample([1, 1, 1]), one_sample([-1, -1, -1])]).outcome
    'does not hold'
    """
    if not parts:
        raise InputError("combine needs at least one verdict")
    if mode not in MODES:
        raise InputError(f"mode must be one of {MODES}, got {mode!r}")
    labels = list(names) if names is not None else [f"part {i + 1}" for i in range(len(parts))]
    m = len(parts)
    q = quorum if quorum is not None else (math.ceil(0.75 * m) if mode == "family" else m)
    if not 1 <= q <= m:
        raise InputError(f"quorum must be between 1 and {m}, got {q}")
    spec = {"kind": "combine", "parts": [p.spec for p in parts], "names": labels,
            "test": test, "mode": mode, "quorum": quorum}
    held = [n for n, p in zip(labels, parts, strict=True) if p.outcome == HOLDS]
    failed = [n for n, p in zip(labels, parts, strict=True) if p.outcome == FAILS]
    unsure = [n for n, p in zip(labels, parts, strict=True) if p.outcome == INCONCLUSIVE]
    if test is None:
        test = "; ".join(sorted({p.test for p in parts}))
    if mode == "family":
        test += f" (family of {m}: holds when {q} hold)"
    stats: dict[str, Any] = {"holds": len(held), "fails": len(failed),
                             "inconclusive": len(unsure), "quorum": q, "mode": mode}
    if mode == "all":
        refuted = "any part refuted: " + " | ".join(
            f"{n}: {p.refuted_by}" for n, p in zip(labels, parts, strict=True) if p.refuted_by)
        if failed:
            outcome, reason, deciders = FAILS, "decided by " + ", ".join(failed), failed
        elif unsure:
            worst = next(p.reason for p in parts if p.outcome == INCONCLUSIVE)
            outcome, deciders = INCONCLUSIVE, unsure
            reason = ("underpowered: " if worst.startswith("underpowered") else "") + \
                "undecided: " + ", ".join(unsure)
        else:
            outcome, reason, deciders = HOLDS, f"all {m} parts hold", held
    else:
        refuted = (f"more than {m - q} of the {m} parts refuted, each by its own test "
                   "(see the parts)")
        if len(held) >= q:
            rest = failed + unsure
            outcome, deciders = HOLDS, held
            reason = f"{len(held)} of {m} parts hold (quorum {q})" + (
                f"; not deciding alone: {', '.join(rest)}" if rest else "")
        elif len(failed) > m - q:
            outcome, deciders = FAILS, failed
            reason = f"{len(failed)} of {m} parts do not hold ({', '.join(failed)})"
        else:
            outcome, deciders = INCONCLUSIVE, unsure
            reason = (f"underpowered: {len(held)} of {m} parts hold, quorum {q}; undecided: "
                      + ", ".join(unsure))
    stats["decided_by"] = deciders
    return Verdict(outcome, reason, test, stats, spec, list(parts), refuted_by=refuted)


def manipulated(verdict: Verdict, check: Verdict, manipulation: str) -> Verdict:
    """A verdict that counts only if its manipulation took place (module docstring).

    Parameters
    ----------
    verdict : Verdict
        The verdict of the claim itself.
    check : Verdict
        The manipulation check (e.g. final balance of "balanced" runs > that of "random" ones).
    manipulation : str
        What the manipulation was meant to do, for the reason.

    Returns
    -------
    Verdict
        ``verdict`` (with the check as its first part) when the check holds, else
        inconclusive (manipulation failed: ...).

    Examples
    --------
    >>> v = manipulated(one_sample([1, 1, 1]), one_sample([-1, -1, -1]), "balance raised")
    >>> v.label.startswith("inconclusive (manipulation failed")
    True
    """
    spec = {"kind": "manipulated", "verdict": verdict.spec, "check": check.spec,
            "manipulation": manipulation}
    test = f"manipulation check ({check.test}), then {verdict.test}"
    stats = {**verdict.stats, "manipulation": check.outcome}
    if check.outcome != HOLDS:
        return Verdict(INCONCLUSIVE, f"manipulation failed: {manipulation} was not shown "
                       f"({check.outcome}: {check.reason})", test, stats, spec, [check, verdict],
                       refuted_by=verdict.refuted_by)
    return Verdict(verdict.outcome, verdict.reason, test, stats, spec, [check, verdict],
                   refuted_by=verdict.refuted_by)


def evaluate(spec: Mapping[str, Any]) -> Verdict:
    """Recompute a verdict from its ``spec`` (as stored in claims.json).

    Parameters
    ----------
    spec : mapping
        ``Verdict.spec``.

    Returns
    -------
    Verdict

    Raises
    ------
    InputError
        For an unknown test kind.
    """
    kind = spec.get("kind")
    args = {k: v for k, v in spec.items() if k != "kind"}
    if kind == "one_sample":
        return one_sample(**args)
    if kind == "paired":
        return paired(**args)
    if kind == "against_null":
        return against_null(**args)
    if kind == "profiles_shared":
        return profiles_shared(**args)
    if kind == "spread_within_null":
        return spread_within_null(**args)
    if kind == "combine":
        return combine([evaluate(p) for p in args["parts"]], args["names"], args.get("test"),
                       args.get("mode", "all"), args.get("quorum"))
    if kind == "manipulated":
        return manipulated(evaluate(args["verdict"]), evaluate(args["check"]),
                           args["manipulation"])
    raise InputError(f"unknown verdict kind {kind!r}")
