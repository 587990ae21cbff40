"""Liu, Mocanu, Pechenizkiy et al. (ECML PKDD 2020): topological insights into sparse neural
networks (NNSTD).

Runs: SET-trained MLPs with 3 hidden layers on the digits task, one per seed, same
hyperparameters. Every pair of runs is compared with ``Store.compare`` (NNSTD and overlap of
the aligned snapshots, written back as NNSTD / OVERLAP relationships).

Claims: (1) similar accuracy (spread of a few points) with far-apart topologies (final NNSTD
between runs well above 0); (2) NNSTD between two runs grows from the first to the last epoch;
(3) the NNSTD heatmap between all runs' final topologies has every off-diagonal entry above 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from typing import ClassVar

import numpy as np

from sparsetopo.reproduce.base import Context, Paper, prefix_query
from sparsetopo.reproduce.report import Claim, figure_png, mean_sd, new_axes, new_figure
from sparsetopo.reproduce.runner import RunSpec
from sparsetopo.reproduce.verdict import combine, one_sample, paired

NAME = "liu2020"
#: mode -> (hidden, epochs, snapshot_every, sparsity, est. seconds per run)
SIZES: dict[str, tuple[int, int, int, float, float]] = {
    "tiny": (16, 2, 1, 0.8, 3.0),
    "quick": (128, 30, 5, 0.9, 17.0),
    "full": (1000, 200, 10, 0.96, 1500.0),
}
#: "well above 0": the final NNSTD between runs must exceed this.
NNSTD_MARGIN = 0.1
#: "a spread of a few points": the accuracy range over seeds must be below this.
ACC_SPREAD = 0.05

_NNSTD_QUERY = """// NNSTD between the aligned snapshots of every pair of runs
MATCH (a:Snapshot)-[n:NNSTD]->(b:Snapshot)
MATCH (ra:Run {run_id: a.run_id}), (rb:Run {run_id: b.run_id})
WHERE ra.name STARTS WITH $prefix AND rb.name STARTS WITH $prefix AND ra <> rb
RETURN ra.name AS run_a, rb.name AS run_b, a.epoch AS epoch, n.distance AS nnstd
ORDER BY run_a, run_b, epoch;"""

_ACC_QUERY = """// final accuracy of every run
MATCH (r:Run)-[:HAS_SNAPSHOT]->(s:Snapshot {complete: true})
WHERE r.name STARTS WITH $prefix
WITH r, s ORDER BY s.step DESC
WITH r, collect(s)[0] AS last
RETURN r.name AS run, last.accuracy AS accuracy, last.sparsity AS sparsity ORDER BY run;"""


class Liu2020(Paper):
    name = NAME
    title = "Liu et al. 2020 (ECML PKDD): SET MLPs, similar accuracy, different topologies"
    default_seeds: ClassVar[dict[str, int]] = {"tiny": 2, "quick": 5, "full": 10}

    def scale(self, mode: str) -> str:
        hidden, epochs, every, sparsity, _ = SIZES[mode]
        return (f"Scale: MLP 64-{hidden}-{hidden}-{hidden}-10 on the 8x8 digits (paper: MNIST, "
                f"1000 units per layer), SET at sparsity {sparsity:.0%}, {epochs} epochs, "
                f"snapshots every {every} epochs.")

    def runs(self, mode: str, seeds: Sequence[int]) -> list[RunSpec]:
        hidden, epochs, every, sparsity, est = SIZES[mode]
        return [RunSpec(NAME, "set", s, "digits", "set", "mlp",
                        train={"sparsity": sparsity, "epochs": epochs, "snapshot_every": every},
                        analyze={"motifs": False, "balance": False, "nnstd": True,
                                 "overlap": True},
                        mlp_hidden=(hidden, hidden, hidden), est_seconds=est)
                for s in seeds]

    def extra_seconds(self, mode: str, n_seeds: int) -> float:
        epochs, every = SIZES[mode][1], SIZES[mode][2]
        return n_seeds * (n_seeds - 1) / 2 * (epochs // every + 1) * 0.3 + 5

    def claims(self, ctx: Context) -> list[Claim]:
        names = [ctx.name(NAME, "set", s) for s in ctx.seeds]
        curves: dict[str, dict[str, list[float]]] = {}
        for a, b in combinations(names, 2):
            df = ctx.store.compare(a, b, write=True, workers=1)
            epochs = ctx.store.history(a)["epoch"].to_numpy(dtype=float)
            curves[f"{a} ~ {b}"] = {"epoch": epochs[: len(df)].tolist(),
                                    "nnstd": df["nnstd"].astype(float).tolist()}
        ctx.runner.extra("pairwise NNSTD", 0.0)
        acc = ctx.last(NAME, "set", "accuracy")
        final = [c["nnstd"][-1] for c in curves.values()]
        first = [c["nnstd"][0] for c in curves.values()]
        n = len(names)
        mat = np.zeros((n, n))
        for (i, j), c in zip(combinations(range(n), 2), curves.values(), strict=True):
            mat[i, j] = mat[j, i] = c["nnstd"][-1]
        q = [prefix_query(_NNSTD_QUERY, f"{ctx.prefix}-{NAME}-")]
        return [self._similar_but_far(ctx, acc, final, q),
                self._grows(curves, first, final, q),
                self._heatmap(ctx, mat, names, q)]

    def _similar_but_far(self, ctx: Context, acc: list[float], final: list[float],
                         q: list[str]) -> Claim:
        spread = float(np.nanmax(acc) - np.nanmin(acc)) if acc else float("nan")
        v_acc = one_sample([spread], ACC_SPREAD, "less", min_n=1,
                           what="accuracy range over seeds")
        v_far = one_sample(final, NNSTD_MARGIN, "greater", what="final NNSTD between runs",
                           over="run pairs")
        fig, (ax1, ax2) = new_axes(2, 4.0, 3.4, sharey=False)
        ax1.bar(range(len(acc)), acc)
        ax1.set_xticks(range(len(acc)), [f"s{s}" for s in ctx.seeds])
        ax1.set_ylim(max(0.0, min(acc) - 0.05) if acc else 0, 1)
        ax1.set_xlabel("seed")
        ax1.set_ylabel("final test accuracy")
        ax2.hist(final, bins=10, label="run pairs")
        ax2.axvline(NNSTD_MARGIN, ls="--", color="grey", label=f"margin {NNSTD_MARGIN}")
        ax2.set_xlabel("final NNSTD between runs")
        ax2.set_ylabel("run pairs")
        ax2.yaxis.get_major_locator().set_params(integer=True)  # counts: whole ticks
        ax2.legend(fontsize=8)
        return Claim(
            f"{NAME}-1",
            "Runs reach similar accuracy while their final topologies are far apart",
            "Liu et al. 2020, Sec. 5 / Fig. 4: accuracies within a few points, NNSTD between "
            "runs 0.36-0.43 at epoch 190 (MNIST, mean over layers)",
            f"accuracy {mean_sd(acc)} (range {spread:.3f}); final NNSTD {mean_sd(final)} over "
            f"{len(final)} run pairs",
            combine([v_acc, v_far], [f"accuracy range < {ACC_SPREAD}",
                                     f"NNSTD > {NNSTD_MARGIN}"],
                    f"accuracy range over seeds < {ACC_SPREAD}, and a one-sided t-test over "
                    f"run pairs of final NNSTD > {NNSTD_MARGIN}"),
            figure_png(fig), [prefix_query(_ACC_QUERY, f"{ctx.prefix}-{NAME}-"), *q],
            {"accuracy": acc, "accuracy_range": spread, "final_nnstd": final})

    def _grows(self, curves: dict[str, dict[str, list[float]]], first: list[float],
               final: list[float], q: list[str]) -> Claim:
        verdict = paired(final, first, "greater", what="NNSTD(last) - NNSTD(first)",
                         over="run pairs")
        fig, ax = new_figure(5.5, 3.4)
        for c in curves.values():
            ax.plot(c["epoch"], c["nnstd"], color="tab:blue", alpha=0.5)
        ax.set_xlabel("epoch")
        ax.set_ylabel("NNSTD between two runs")
        ax.set_title(f"one line per run pair ({len(curves)})", fontsize=9)
        return Claim(
            f"{NAME}-2", "NNSTD between two runs grows from the first to the last epoch",
            "Liu et al. 2020, Fig. 5 (NNSTD between runs over training epochs)",
            f"first {mean_sd(first)} -> last {mean_sd(final)} over {len(final)} run pairs",
            verdict, figure_png(fig), q, {"curves": curves})

    def _heatmap(self, ctx: Context, mat: np.ndarray, names: list[str], q: list[str]) -> Claim:
        off = mat[~np.eye(len(mat), dtype=bool)] if len(mat) > 1 else np.array([])
        # every pair must be beyond the margin: the smallest off-diagonal entry decides
        verdict = one_sample([float(off.min())] if len(off) else [], NNSTD_MARGIN, "greater",
                             min_n=1, what="smallest off-diagonal NNSTD")
        fig, ax = new_figure(5, 4.2)
        im = ax.imshow(mat, cmap="viridis", vmin=0)
        ax.set_xticks(range(len(names)), [f"s{s}" for s in ctx.seeds])
        ax.set_yticks(range(len(names)), [f"s{s}" for s in ctx.seeds])
        ax.set_xlabel("run (seed)")
        ax.set_ylabel("run (seed)")
        fig.colorbar(im, ax=ax, label="NNSTD (final epoch)")
        return Claim(
            f"{NAME}-3", "NNSTD heatmap: every pair of runs ends with a different topology",
            "Liu et al. 2020, Fig. 6 (NNSTD heatmap between independently trained SET MLPs)",
            f"off-diagonal NNSTD {mean_sd(off.tolist())}, min {off.min():.3f}" if len(off)
            else "n/a", verdict, figure_png(fig), q, {"matrix": mat.tolist(), "runs": names})
