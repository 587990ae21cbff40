"""Verdicts from numbers: each claim of a reproduction is decided by one of these tests.

A verdict is one of ``holds``, ``does not hold`` or ``inconclusive`` with the reason. Every
:class:`Verdict` keeps the test's name and exact inputs (``spec``), so :func:`evaluate` can
recompute it from a ``claims.json`` alone: verdicts follow from the stored numbers, never from
a hard-coded table.

Rules (alpha = 0.05 unless given):

- :func:`one_sample` / :func:`paired`: the claimed effect is ``d = x - threshold`` (direction
  ``greater``) or ``threshold - x`` (``less``); for paired data x is the per-seed difference
  ``a - b``. Fewer than ``min_n`` values: inconclusive. Mean effect <= 0 (the wrong side):
  does not hold. A single value (when ``min_n`` is 1) on the right side holds. Otherwise a
  one-sided one-sample t-test: p < alpha holds, else inconclusive.
- :func:`against_null`: Z-scores of one statistic against its null model, one per seed. The
  median Z on the wrong side of 0: does not hold; beyond ``z_crit`` on the claimed side and a
  one-sided t-test of the Z-scores against 0 with p < alpha (needs ``min_n`` seeds): holds;
  otherwise inconclusive.
- :func:`profiles_shared`: mean pairwise Pearson correlation of significance profiles against a
  permutation null (every profile's entries shuffled independently). Mean r >= ``r_min`` and
  p < alpha: holds; mean r < r_min and p >= alpha: does not hold; otherwise inconclusive.
- :func:`combine`: all parts hold -> holds; any part does not hold -> does not hold; else
  inconclusive.
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


@dataclass
class Verdict:
    """The outcome of one test: ``outcome`` (:data:`OUTCOMES`), why, and what was computed."""

    outcome: str
    reason: str
    test: str
    stats: dict[str, Any] = field(default_factory=dict)
    spec: dict[str, Any] = field(default_factory=dict)
    parts: list[Verdict] = field(default_factory=list)

    @property
    def label(self) -> str:
        """``holds``, ``does not hold`` or ``inconclusive (why)``."""
        return f"{INCONCLUSIVE} ({self.reason})" if self.outcome == INCONCLUSIVE else self.outcome

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (what claims.json stores)."""
        return {"outcome": self.outcome, "label": self.label, "reason": self.reason,
                "test": self.test, "stats": self.stats, "spec": self.spec,
                "parts": [p.to_dict() for p in self.parts]}


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


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def one_sample(
    values: Sequence[float], threshold: float = 0.0, direction: str = "greater",
    alpha: float = 0.05, min_n: int = 3, what: str = "value", over: str = "seeds",
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
        Significance level of the one-sided t-test.
    min_n : int
        Fewer finite values make the verdict inconclusive.
    what : str
        Name of the quantity, used in the reason.
    over : str
        What the values are one per (seeds, runs, run pairs), used in the test's name.

    Returns
    -------
    Verdict

    Examples
    --------
    >>> one_sample([0.8, 0.9, 0.85], 0.5).outcome
    'holds'
    """
    if direction not in DIRECTIONS:
        raise InputError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    spec = {"kind": "one_sample", "values": [float(v) for v in values], "threshold": threshold,
            "direction": direction, "alpha": alpha, "min_n": min_n, "what": what, "over": over}
    x = _clean(values)
    sign = 1.0 if direction == "greater" else -1.0
    rel = ">" if sign > 0 else "<"
    test = (f"{what} {rel} {_fmt(threshold)} (one value)" if min_n <= 1 and len(x) <= 1 else
            f"one-sided t-test of {what} {rel} {_fmt(threshold)} over {over}")
    stats: dict[str, Any] = {"n": len(x)}
    if len(x):
        stats.update(mean=float(x.mean()), sd=float(x.std(ddof=1)) if len(x) > 1 else 0.0,
                     min=float(x.min()), max=float(x.max()))
    if len(x) < min_n:
        return Verdict(INCONCLUSIVE, f"only {len(x)} value(s), need {min_n}", test, stats, spec)
    d = sign * (x - threshold)
    p = _t_greater(d)
    stats["p"] = p
    if float(d.mean()) <= 0:
        return Verdict(FAILS, f"mean {what} {_fmt(float(x.mean()))} is on the wrong side of "
                       f"{_fmt(threshold)}", test, stats, spec)
    if len(x) == 1:  # no spread to test: one value beyond the threshold is the whole claim
        return Verdict(HOLDS, f"{what} {_fmt(float(x[0]))} is beyond {_fmt(threshold)}", test,
                       stats, spec)
    if p < alpha:
        return Verdict(HOLDS, f"p = {_fmt(p)} < {alpha}", test, stats, spec)
    return Verdict(INCONCLUSIVE, f"right direction but p = {_fmt(p)} >= {alpha} with n = {len(x)}",
                   test, stats, spec)


def paired(
    a: Sequence[float], b: Sequence[float], direction: str = "greater", margin: float = 0.0,
    alpha: float = 0.05, min_n: int = 3, what: str = "difference", over: str = "seeds",
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
    alpha, min_n, what, over
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
    v = one_sample(diffs, threshold, direction, alpha, min_n, what, over)
    v.test = f"paired over {over}: " + v.test
    v.spec = {"kind": "paired", "a": [float(x) for x in a], "b": [float(x) for x in b],
              "direction": direction, "margin": margin, "alpha": alpha, "min_n": min_n,
              "what": what, "over": over}
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
        |median Z| needed.
    alpha, min_n, what
        As in :func:`one_sample`.

    Returns
    -------
    Verdict

    Examples
    --------
    >>> against_null([5.0, 7.0, 6.0]).outcome
    'holds'
    """
    if direction not in DIRECTIONS:
        raise InputError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    spec = {"kind": "against_null", "z": [float(v) for v in z], "direction": direction,
            "z_crit": z_crit, "alpha": alpha, "min_n": min_n, "what": what}
    x = _clean(z)
    sign = 1.0 if direction == "greater" else -1.0
    test = (f"{what} against the null model: median {'>' if sign > 0 else '<'} "
            f"{_fmt(sign * z_crit)} and one-sided t-test over seeds")
    stats: dict[str, Any] = {"n": len(x)}
    if not len(x):
        return Verdict(INCONCLUSIVE, "no finite Z-score (null with zero spread)", test, stats,
                       spec)
    med = float(np.median(x))
    stats.update(median=med, mean=float(x.mean()), min=float(x.min()), max=float(x.max()))
    if sign * med < 0:
        return Verdict(FAILS, f"median {what} {_fmt(med)} has the opposite sign", test, stats,
                       spec)
    if len(x) < min_n:
        return Verdict(INCONCLUSIVE, f"only {len(x)} seed(s), need {min_n}", test, stats, spec)
    p = _t_greater(sign * x)
    stats["p"] = p
    if sign * med > z_crit and p < alpha:
        return Verdict(HOLDS, f"median {what} {_fmt(med)}, p = {_fmt(p)}", test, stats, spec)
    return Verdict(INCONCLUSIVE, f"median {what} {_fmt(med)} not beyond {_fmt(sign * z_crit)} "
                   f"or p = {_fmt(p)} >= {alpha}", test, stats, spec)


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
        Mean correlation the claim needs.
    alpha : float
        Significance level of the permutation test.
    n_perm : int
        Permutations (entries of every profile shuffled independently).
    seed : int
        Seed of the permutations.

    Returns
    -------
    Verdict
        ``stats["pairs"]`` holds every pairwise r.

    Examples
    --------
    >>> profiles_shared({"a": [1, 2, 3, 4], "b": [1, 2, 3, 5], "c": [2, 3, 4, 6]}).outcome
    'holds'
    """
    spec = {"kind": "profiles_shared", "profiles": {k: [float(v) for v in p]
                                                     for k, p in profiles.items()},
            "r_min": r_min, "alpha": alpha, "n_perm": n_perm, "seed": seed}
    test = (f"mean pairwise Pearson r >= {r_min} and a permutation test ({n_perm} shuffles of "
            "the profile entries)")
    keep = {k: np.asarray(p, dtype=np.float64) for k, p in profiles.items()}
    keep = {k: p for k, p in keep.items() if np.isfinite(p).all() and p.std() > 0}
    names = sorted(keep)
    stats: dict[str, Any] = {"n": len(names)}
    if len(names) < 2:
        return Verdict(INCONCLUSIVE, f"only {len(names)} usable profile(s)", test, stats, spec)
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
    stats.update(mean_r=obs, min_r=float(min(stats["pairs"].values())), p=p)
    if obs >= r_min and p < alpha:
        return Verdict(HOLDS, f"mean r = {_fmt(obs)}, p = {_fmt(p)}", test, stats, spec)
    if obs < r_min and p >= alpha:
        return Verdict(FAILS, f"mean r = {_fmt(obs)} < {r_min}, p = {_fmt(p)}", test, stats, spec)
    return Verdict(INCONCLUSIVE, f"mean r = {_fmt(obs)}, p = {_fmt(p)}", test, stats, spec)


def combine(
    parts: Sequence[Verdict], names: Sequence[str] | None = None, test: str | None = None
) -> Verdict:
    """One verdict from several: all hold -> holds; any fails -> does not hold; else
    inconclusive (the reason names the parts).

    Parameters
    ----------
    parts : sequence of Verdict
        The sub-verdicts.
    names : sequence of str, optional
        A label per part (default: part 1, 2, ...).
    test : str, optional
        A short description of the tests (default: the parts' test names joined).

    Returns
    -------
    Verdict

    Examples
    --------
    >>> combine([one_sample([1, 1, 1]), one_sample([-1, -1, -1])]).outcome
    'does not hold'
    """
    if not parts:
        raise InputError("combine needs at least one verdict")
    labels = list(names) if names is not None else [f"part {i + 1}" for i in range(len(parts))]
    spec = {"kind": "combine", "parts": [p.spec for p in parts], "names": labels,
            "test": test}
    failed = [n for n, p in zip(labels, parts, strict=True) if p.outcome == FAILS]
    unsure = [n for n, p in zip(labels, parts, strict=True) if p.outcome == INCONCLUSIVE]
    if test is None:
        test = "; ".join(sorted({p.test for p in parts}))
    stats = {"holds": len(parts) - len(failed) - len(unsure), "fails": len(failed),
             "inconclusive": len(unsure)}
    if failed:
        outcome, reason = FAILS, "not met: " + ", ".join(failed)
    elif unsure:
        outcome, reason = INCONCLUSIVE, "undecided: " + ", ".join(unsure)
    else:
        outcome, reason = HOLDS, f"all {len(parts)} parts hold"
    return Verdict(outcome, reason, test, stats, spec, list(parts))


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
    if kind == "combine":
        return combine([evaluate(p) for p in args["parts"]], args["names"], args.get("test"))
    raise InputError(f"unknown verdict kind {kind!r}")
