"""Mackey, Schizas, Deighton, Boothe Jr., Maroulas (2024): geometric (moduli) regularisation of
RNNs for path integration, with global magnitude pruning to 90 %.

Runs: RNNs on the navigation task with the moduli strategy (global L1 magnitude pruning ramped
to 90 % of the recurrent matrix) and the regulariser of :mod:`sparsetopo.training.sparsify.
moduli` (the authors' definitions). The conditions are the authors' (their
navigation/README.txt): ``torus-square``, ``torus-dog``, ``klein-dog``, ``sphere-dog``,
``circle-dog``, ``torus6-dog`` (geometric), ``l1`` (standard R = 1), ``none`` (no regulariser)
and ``torus-dog-permuted`` (the same R with its N^2 entries shuffled). Every DoG condition runs
with ``invert`` (their README: the DoG was implemented backwards, run it with
``--invert True``). Quick mode runs a subset (torus-square, torus-dog, klein-dog, l1, none,
permuted); full mode runs all nine, and all nine again at 98 % sparsity.

Claims: (1) every geometric regulariser gives a lower decoded position error at 90 % sparsity
than L1 and than no regulariser (a family of paired tests, decided by a quorum); (2) the
permuted regulariser is worse than the unpermuted one; (3, full mode) at 98 % sparsity every
condition fails (error far above the 90 % geometric errors).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from sparsetopo.queries.reproduce import MACKEY2024_ERROR as _ERROR_QUERY
from sparsetopo.reproduce.base import Context, Paper, prefix_query
from sparsetopo.reproduce.report import Claim, figure_png, mean_sd, new_figure
from sparsetopo.reproduce.runner import RunSpec
from sparsetopo.reproduce.verdict import combine, one_sample, paired

NAME = "mackey2024"
SPARSITY = 0.9
HIGH_SPARSITY = 0.98
#: their regulariser weight (navigation/main.py)
LAM = 0.1
DOG: dict[str, Any] = {"function": "dog", "invert": True}
GEOMETRIC: dict[str, dict[str, Any]] = {
    "torus-square": {"manifold": "torus", "function": "square"},
    "torus-dog": {"manifold": "torus", **DOG},
    "klein-dog": {"manifold": "klein", **DOG},
    "sphere-dog": {"manifold": "sphere", **DOG},
    "circle-dog": {"manifold": "circle", **DOG},
    "torus6-dog": {"manifold": "torus6", **DOG},
}
QUICK_GEOMETRIC = ("torus-square", "torus-dog", "klein-dog")
BASELINES: dict[str, dict[str, Any]] = {
    "l1": {"function": "standard"},
    "none": {"lam": 0.0},
}
PERMUTED = ("torus-dog-permuted", {"manifold": "torus", **DOG, "permute": True})
#: Their Table (decoded position error in cm at 90 % sparsity, mean (sd) over 5 seeds).
PAPER_90: dict[str, tuple[float, float]] = {
    "torus-dog": (6.29, 1.17), "klein-dog": (5.89, 0.58), "circle-dog": (25.95, 33.92),
    "sphere-dog": (69.12, 12.06), "torus6-dog": (14.52, 5.84), "torus-square": (24.19, 34.50),
    "l1": (72.96, 20.30), "none": (78.64, 12.64), "torus-dog-permuted": (9.66, 0.30),
}
#: Smallest error difference of interest, as a fraction of the unregularised error.
SESOI_FRACTION = 0.1
#: "fails": the mean error at 98 % must exceed this multiple of the best 90 % geometric error.
FAIL_FACTOR = 2.0
#: mode -> (hidden, epochs, snapshot_every, task options, lr, batch, est. seconds per run)
SIZES: dict[str, tuple[int, int, int, dict[str, Any], float | None, int | None, float]] = {
    "tiny": (16, 2, 1, {"n_train": 300, "n_test": 100}, None, None, 4.0),
    "quick": (64, 12, 4, {"n_train": 3000}, None, None, 15.0),
    # their navigation settings: 4096 ReLU units, 512 place cells, 50-step trajectories,
    # batch 200, learning rate 1e-4, 30 epochs
    "full": (4096, 30, 10, {"n_place": 512, "steps": 50, "n_train": 20000, "n_test": 2000},
             1e-4, 200, 3600.0),
}


class Mackey2024(Paper):
    name = NAME
    title = "Mackey et al. 2024: moduli regularisation for sparse path-integrating RNNs"

    def scale(self, mode: str) -> str:
        hidden, epochs, _, opts, _lr, _batch, _ = SIZES[mode]
        return (f"Scale: ReLU RNN hidden {hidden} (paper: 4096), {epochs} epochs (paper: 30), "
                f"{opts.get('n_train', 4000)} training paths of {opts.get('steps', 20)} steps "
                f"(paper: 50), {opts.get('n_place', 64)} place cells (paper: 512), lambda "
                f"{LAM} (paper: 0.1), global magnitude pruning to {SPARSITY:.0%} of the "
                f"recurrent matrix, DoG inverted as in the authors' runs; conditions "
                f"{', '.join(self.conditions(mode))}; errors in box widths (the paper "
                "reports cm).")

    def conditions(self, mode: str = "full") -> dict[str, dict[str, Any]]:
        geo = GEOMETRIC if mode == "full" else {k: GEOMETRIC[k] for k in QUICK_GEOMETRIC}
        return {**geo, **BASELINES, PERMUTED[0]: PERMUTED[1]}

    def geometric(self, mode: str) -> list[str]:
        return [c for c in self.conditions(mode) if c in GEOMETRIC]

    def sources(self) -> list[str]:
        return [
            "Position errors at 90 % and 98 % sparsity (mean (sd) over 5 seeds): the "
            "authors' tables, mackeynations/Moduli-regularizers navigation/Graphs/"
            "Tables.ipynb, and the paper's Table 1.",
            "Conditions and the DoG inversion (--invert True for every DoG run): "
            "navigation/README.txt; sizes and training settings (4096 units, 512 place cells, "
            "ReLU, 50 steps, batch 200, lr 1e-4, regulariser weight 0.1, 30 epochs, 90 % "
            "global pruning, 5 seeds): navigation/main.py and navigation/trainer.py; "
            "regulariser definitions: navigation/regularizer.py.",
        ]

    def not_covered(self, mode: str) -> list[str]:
        out = ["The paper's other tasks (adding problem, EEG, speech, word prediction).",
               "Place-cell difference-of-Gaussians tuning and the authors' trajectory "
               "generator (ours: Gaussian place code, random walks in the unit box).",
               "Topological data analysis of the trained networks (TDA.ipynb)."]
        if mode != "full":
            out.insert(0, "The sphere-, circle- and 6-torus-DoG conditions, the 4096-unit "
                       "networks and the 98 % sparsity claim: only in --full.")
        return out

    def runs(self, mode: str, seeds: Sequence[int], data_dir: str | None = None) -> list[RunSpec]:
        hidden, epochs, every, task_options, lr, batch, est = SIZES[mode]
        levels = (SPARSITY, HIGH_SPARSITY) if mode == "full" else (SPARSITY,)
        out = []
        for level in levels:
            for cond, opts in self.conditions(mode).items():
                label = cond if level == SPARSITY else f"{cond}-98"
                for s in seeds:
                    train: dict[str, Any] = {
                        "sparsity": level, "epochs": epochs, "hidden": hidden,
                        "snapshot_every": every, "task_options": task_options,
                        "strategy_options": {"lam": LAM, **opts}}
                    if lr is not None:
                        train["lr"] = lr
                    if batch is not None:
                        train["batch_size"] = batch
                    out.append(RunSpec(
                        NAME, label, s, "navigation", "moduli", "rnn", train=train,
                        analyze={"motifs": False, "balance": True, "nnstd": False,
                                 "overlap": True, "n_null": 10},
                        rnn_nonlinearity="relu", est_seconds=est))
        return out

    def claims(self, ctx: Context) -> list[Claim]:
        conds = self.conditions(ctx.mode)
        err = {c: ctx.last(NAME, c, "position_error") for c in conds}
        sparsity = {c: ctx.last(NAME, c, "strategy_sparsity") for c in conds}
        q = [prefix_query(_ERROR_QUERY, f"{ctx.prefix}-{NAME}-")]
        out = [self._geometric(ctx.mode, err, sparsity, q), self._permuted(err, q)]
        if ctx.mode == "full":
            err98 = {c: ctx.last(NAME, f"{c}-98", "position_error") for c in conds}
            out.append(self._high(err, err98, q))
        return out

    def _geometric(self, mode: str, err: dict[str, list[float]],
                   sparsity: dict[str, list[float]], q: list[str]) -> Claim:
        parts, names = [], []
        sesoi = SESOI_FRACTION * float(np.nanmean(err["none"]))
        for g in self.geometric(mode):
            for b in BASELINES:
                parts.append(paired(err[g], err[b], "less", what=f"error({g}) - error({b})",
                                    sesoi=sesoi))
                names.append(f"{g} < {b}")
        fig, ax = new_figure(7.5, 3.6)
        conds = [*self.geometric(mode), *BASELINES]
        for i, c in enumerate(conds):
            ax.scatter([i] * len(err[c]), err[c], color="k", s=12, zorder=3)
            ax.bar(i, np.nanmean(err[c]), 0.6,
                   color="tab:green" if c in GEOMETRIC else "tab:grey")
        ax.set_xticks(range(len(conds)), conds, rotation=20, fontsize=8)
        ax.set_xlabel("regulariser (bars: mean; dots: one seed each)")
        ax.set_ylabel(f"decoded position error at {SPARSITY:.0%}\n(box widths)")
        ours = "; ".join(f"{c} {mean_sd(err[c])}" for c in conds)
        paper = "; ".join(f"{c} {PAPER_90[c][0]} ({PAPER_90[c][1]})" for c in conds)
        return Claim(
            f"{NAME}-1",
            "A geometric regulariser gives a much lower decoded position error at 90 % sparsity "
            "than plain L1 or no regulariser",
            f"Mackey et al. 2024, Table 1 (cm, mean (sd) over 5 seeds): {paper}",
            ours,
            combine(parts, names, "each geometric vs each baseline, paired over seeds: "
                    "one-sided t-tests of error(geometric) - error(baseline) < 0 (holds) and "
                    f"of a difference smaller than {SESOI_FRACTION:.0%} of the unregularised "
                    "error (does not hold)", mode="family"),
            figure_png(fig), q,
            {"error": err, "recurrent_sparsity": sparsity, "paper_cm": PAPER_90,
             "sesoi": sesoi})

    def _permuted(self, err: dict[str, list[float]], q: list[str]) -> Claim:
        base, perm = err["torus-dog"], err[PERMUTED[0]]
        sesoi = SESOI_FRACTION * float(np.nanmean(err["none"]))
        verdict = paired(perm, base, "greater", what="error(permuted) - error(torus-dog)",
                         sesoi=sesoi)
        fig, ax = new_figure(4.5, 3.4)
        for a, b in zip(base, perm, strict=True):
            ax.plot([0, 1], [a, b], color="grey", marker="o")
        ax.set_xticks([0, 1], ["torus DoG", "torus DoG, R permuted"])
        ax.set_ylabel("decoded position error (box widths)")
        ax.set_title("paired over seeds")
        p_perm, p_base = PAPER_90[PERMUTED[0]], PAPER_90["torus-dog"]
        return Claim(
            f"{NAME}-2", "The regulariser with its entries randomly permuted is worse than "
            "unpermuted",
            f"Mackey et al. 2024, Table 1: permuted torus DoG {p_perm[0]} ({p_perm[1]}) cm vs "
            f"torus DoG {p_base[0]} ({p_base[1]}) cm at 90 % sparsity",
            f"permuted {mean_sd(perm)} vs unpermuted {mean_sd(base)}", verdict,
            figure_png(fig), q, {"torus-dog": base, "permuted": perm})

    def _high(self, err: dict[str, list[float]], err98: dict[str, list[float]],
              q: list[str]) -> Claim:
        best = min(float(np.nanmean(err[g])) for g in GEOMETRIC)
        bound = FAIL_FACTOR * best
        parts = [one_sample(err98[c], bound, "greater", what=f"error at 98 % ({c})",
                            sesoi=0.0) for c in err98]
        fig, ax = new_figure(7.5, 3.6)
        conds = list(err98)
        for i, c in enumerate(conds):
            ax.scatter([i] * len(err98[c]), err98[c], color="k", s=12, zorder=3)
            ax.bar(i, np.nanmean(err98[c]), 0.6, color="tab:red")
        ax.axhline(bound, ls="--", color="grey", label=f"{FAIL_FACTOR} x best error at 90 %")
        ax.set_xticks(range(len(conds)), conds, rotation=20, fontsize=8)
        ax.legend(fontsize=8)
        return Claim(
            f"{NAME}-3", "At 98 % sparsity every condition fails",
            "Mackey et al. 2024, tables at 98 % sparsity (navigation/Graphs/Tables.ipynb): "
            "every condition far above its 90 % error",
            "; ".join(f"{c} {mean_sd(err98[c])}" for c in conds),
            combine(parts, [f"{c} fails" for c in conds],
                    f"per condition, one-sided t-test over seeds of error at 98 % > "
                    f"{FAIL_FACTOR} x the best geometric error at 90 % ({bound:.3g})",
                    mode="family"),
            figure_png(fig), q, {"error_98": err98, "bound": bound})
