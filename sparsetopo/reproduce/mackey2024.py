"""Mackey, Cheng, Gong, Pfaff, Wang (2024): geometric (moduli) regularisation of RNNs for path
integration, with global magnitude pruning to 90 %.

Runs: tanh RNNs on the navigation task with the moduli strategy (global L1 magnitude pruning
ramped to 90 % of the recurrent matrix) and the regulariser of :mod:`sparsetopo.training.
sparsify.moduli` (the authors' definitions): ``torus-dog``, ``klein-square``, ``torus-square``
(geometric), ``l1`` (standard R = 1), ``none`` (lam = 0) and ``torus-dog-permuted`` (the same R
with its N^2 entries shuffled).

Claims: (1) every geometric regulariser gives a lower decoded position error at 90 % sparsity
than L1 and than no regulariser (paired over seeds); (2) the permuted regulariser is worse than
the unpermuted one (paired over seeds).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from sparsetopo.reproduce.base import Context, Paper, prefix_query
from sparsetopo.reproduce.report import Claim, figure_png, mean_sd, new_figure
from sparsetopo.reproduce.runner import RunSpec
from sparsetopo.reproduce.verdict import combine, paired

NAME = "mackey2024"
SPARSITY = 0.9
LAM = 0.01
GEOMETRIC: dict[str, dict[str, Any]] = {
    "torus-dog": {"manifold": "torus", "function": "dog"},
    "klein-square": {"manifold": "klein", "function": "square"},
    "torus-square": {"manifold": "torus", "function": "square"},
}
BASELINES: dict[str, dict[str, Any]] = {
    "l1": {"function": "standard"},
    "none": {"lam": 0.0},
}
PERMUTED = ("torus-dog-permuted", {"manifold": "torus", "function": "dog", "permute": True})
#: mode -> (hidden, epochs, snapshot_every, task options, est. seconds per run)
SIZES: dict[str, tuple[int, int, int, dict[str, Any], float]] = {
    "tiny": (16, 2, 1, {"n_train": 300, "n_test": 100}, 4.0),
    "quick": (64, 12, 4, {"n_train": 3000}, 15.0),
    "full": (256, 100, 10, {}, 2400.0),
}

_ERROR_QUERY = """// decoded position error (box widths) of every run at its last snapshot
MATCH (r:Run)-[:HAS_SNAPSHOT]->(s:Snapshot {complete: true})
WHERE r.name STARTS WITH $prefix
WITH r, s ORDER BY s.step DESC
WITH r, collect(s)[0] AS last
RETURN r.name AS run, last.position_error AS position_error,
       last.strategy_sparsity AS recurrent_sparsity
ORDER BY run;"""


class Mackey2024(Paper):
    name = NAME
    title = "Mackey et al. 2024: moduli regularisation for sparse path-integrating RNNs"

    def scale(self, mode: str) -> str:
        hidden, epochs, _, opts, _ = SIZES[mode]
        return (f"Scale: RNN hidden {hidden} (paper: larger networks trained much longer), "
                f"{epochs} epochs, {opts.get('n_train', 4000)} training paths, lambda {LAM}, "
                f"global magnitude pruning to {SPARSITY:.0%} of the recurrent matrix; errors in "
                "box widths (the paper reports cm).")

    def conditions(self) -> dict[str, dict[str, Any]]:
        return {**GEOMETRIC, **BASELINES, PERMUTED[0]: PERMUTED[1]}

    def runs(self, mode: str, seeds: Sequence[int]) -> list[RunSpec]:
        hidden, epochs, every, task_options, est = SIZES[mode]
        out = []
        for cond, opts in self.conditions().items():
            for s in seeds:
                out.append(RunSpec(
                    NAME, cond, s, "navigation", "moduli", "rnn",
                    train={"sparsity": SPARSITY, "epochs": epochs, "hidden": hidden,
                           "snapshot_every": every, "task_options": task_options,
                           "strategy_options": {"lam": LAM, **opts}},
                    analyze={"motifs": False, "balance": True, "nnstd": False, "overlap": True,
                             "n_null": 10},
                    est_seconds=est))
        return out

    def claims(self, ctx: Context) -> list[Claim]:
        err = {c: ctx.last(NAME, c, "position_error") for c in self.conditions()}
        sparsity = {c: ctx.last(NAME, c, "strategy_sparsity") for c in self.conditions()}
        q = [prefix_query(_ERROR_QUERY, f"{ctx.prefix}-{NAME}-")]
        return [self._geometric(err, sparsity, q), self._permuted(ctx, err, q)]

    def _geometric(self, err: dict[str, list[float]], sparsity: dict[str, list[float]],
                   q: list[str]) -> Claim:
        parts, names = [], []
        for g in GEOMETRIC:
            for b in BASELINES:
                parts.append(paired(err[g], err[b], "less", what=f"error({g}) - error({b})"))
                names.append(f"{g} < {b}")
        fig, ax = new_figure(6.5, 3.6)
        conds = [*GEOMETRIC, *BASELINES]
        for i, c in enumerate(conds):
            ax.scatter([i] * len(err[c]), err[c], color="k", s=12, zorder=3)
            ax.bar(i, np.nanmean(err[c]), 0.6,
                   color="tab:green" if c in GEOMETRIC else "tab:grey")
        ax.set_xticks(range(len(conds)), conds, rotation=20, fontsize=8)
        ax.set_xlabel("regulariser (bars: mean; dots: one seed each)")
        ax.set_ylabel(f"decoded position error at {SPARSITY:.0%}\n(box widths)")
        ours = "; ".join(f"{c} {mean_sd(err[c])}" for c in conds)
        return Claim(
            f"{NAME}-1",
            "A geometric regulariser gives a much lower decoded position error at 90 % sparsity "
            "than plain L1 or no regulariser",
            "Mackey et al. 2024, Table 1 / Fig. 3: 5.4-5.8 cm (torus DoG, Klein bottle, torus "
            "square) vs 75-82 cm (L1, none) at 90 % sparsity",
            ours,
            combine(parts, names, "each geometric vs each baseline, paired over seeds: "
                    "one-sided t-test of error(geometric) - error(baseline) < 0"),
            figure_png(fig), q,
            {"error": err, "recurrent_sparsity": sparsity})

    def _permuted(self, ctx: Context, err: dict[str, list[float]], q: list[str]) -> Claim:
        base, perm = err["torus-dog"], err[PERMUTED[0]]
        verdict = paired(perm, base, "greater", what="error(permuted) - error(torus-dog)")
        fig, ax = new_figure(4.5, 3.4)
        for a, b in zip(base, perm, strict=True):
            ax.plot([0, 1], [a, b], color="grey", marker="o")
        ax.set_xticks([0, 1], ["torus DoG", "torus DoG, R permuted"])
        ax.set_ylabel("decoded position error (box widths)")
        ax.set_title("paired over seeds")
        return Claim(
            f"{NAME}-2", "The regulariser with its entries randomly permuted is worse than "
            "unpermuted",
            "Mackey et al. 2024, Sec. 4 (permuted-regulariser control)",
            f"permuted {mean_sd(perm)} vs unpermuted {mean_sd(base)}", verdict,
            figure_png(fig), q, {"torus-dog": base, "permuted": perm})
