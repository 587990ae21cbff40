"""Liu, Mocanu, Matavalam, Pei, Pechenizkiy (ECML PKDD 2020): topological insights into sparse
neural networks (NNSTD).

Design (their Figure 4): one sparse network, then more networks each made by changing 1 % of
the connections of the previous one (``set`` runs: SET with ``topology_seed`` fixed and
``perturb_steps`` = the seed), all trained with SET and the same hyperparameters. Every pair of
``set`` runs is compared with ``Store.compare`` (NNSTD and overlap of the aligned snapshots,
written back as NNSTD / OVERLAP relationships). Baselines on the same data and seeds: ``dense``
(no sparsification) and ``static`` (the same sparse start, never rewired: SET with zeta 0).

Claims: (1) runs reach similar accuracy while their topologies end far apart: final NNSTD
between runs above their starting NNSTD by at least 0.05; (2) the NNSTD between consecutive
networks of the chain grows from the first to the last epoch (Figure 4); (3) every pair of
runs ends farther apart than any pair started (the NNSTD heatmaps of Figure 4); (4) SET is at
least as accurate as the dense network; (5) SET is more accurate than the static sparse one.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from typing import ClassVar

import numpy as np

from sparsetopo.queries.reproduce import LIU2020_ACCURACY as _ACC_QUERY
from sparsetopo.queries.reproduce import LIU2020_NNSTD as _NNSTD_QUERY
from sparsetopo.reproduce.base import Context, Paper, prefix_query
from sparsetopo.reproduce.report import Claim, figure_png, mean_sd, new_axes, new_figure
from sparsetopo.reproduce.runner import RunSpec
from sparsetopo.reproduce.verdict import combine, one_sample, paired

NAME = "liu2020"
#: mode -> (hidden, epochs, snapshot_every, sparsity, est. seconds per run)
SIZES: dict[str, tuple[int, int, int, float, float]] = {
    "tiny": (16, 2, 1, 0.8, 3.0),
    "quick": (128, 30, 5, 0.9, 17.0),
    # their Figure 4: 784-784-784-784-10 SET MLPs at about 0.6 % density, 200 epochs
    "full": (784, 200, 10, 0.994, 1500.0),
}
#: The start topology every run of the chain is derived from.
TOPOLOGY_SEED = 1000
#: Fraction of the connections changed between consecutive networks (their Figure 4).
PERTURB = 0.01
#: "a spread of a few points": the accuracy range over seeds must be below this.
ACC_SPREAD = 0.05
#: Smallest NNSTD growth of interest (their curves grow by about 0.17).
NNSTD_SESOI = 0.05
#: Smallest accuracy difference of interest (one point).
ACC_SESOI = 0.01


class Liu2020(Paper):
    name = NAME
    title = "Liu et al. 2020 (ECML PKDD): SET MLPs, similar accuracy, different topologies"
    default_seeds: ClassVar[dict[str, int]] = {"tiny": 2, "quick": 5, "full": 10}

    def scale(self, mode: str) -> str:
        hidden, epochs, every, sparsity, _ = SIZES[mode]
        return (f"Scale: MLP in-{hidden}-{hidden}-{hidden}-10 (paper: MNIST, "
                f"784-784-784-784-10), SET at sparsity {sparsity:.1%}, {epochs} epochs, "
                f"snapshots every {every} epochs; networks form a chain, each {PERTURB:.0%} of "
                "its connections away from the previous one (paper's Figure 4 design); dense "
                "and static-sparse baselines.")

    def _task(self, mode: str, data_dir: str | None) -> tuple[str, dict[str, object]]:
        from sparsetopo.training.tasks.mnist import has_mnist

        if mode == "full" and has_mnist(data_dir):
            return "mnist", {"data_dir": str(data_dir)}
        return "digits", {}

    def data_note(self, mode: str, data_dir: str | None) -> str | None:
        task, _ = self._task(mode, data_dir)
        if task == "mnist":
            return f"Data: MNIST from {data_dir} (the paper's dataset)."
        if mode == "full":
            return ("Data: no MNIST IDX files in --data-dir, so the built-in 8x8 digits "
                    "substitute MNIST (784 inputs become 64).")
        return "Data: the built-in 8x8 digits (scikit-learn), in place of MNIST."

    def sources(self) -> list[str]:
        return [
            "NNSTD at epochs 0 and 190 (about 0.18-0.21 -> 0.36-0.38, mean over layers): "
            "recomputed from the authors' uploaded topologies, "
            "Shiweiliuiiiiiii/Sparse_Topology_Distance topo/e5_s0_w<k>/epoch_<e>/"
            "weight_l<l>.npz (test accuracies in topo/e5_s0_w<k>/testacc.txt); the distance "
            "itself from sparse_topology_distance.py.",
            "Design (one network, then networks each changing 1 % of the previous one's "
            "connections; SET on 784-784-784-784-10 MLPs): the paper's Figure 4 and the "
            "repository's README.md / Figure4.png.",
        ]

    def not_covered(self, mode: str) -> list[str]:
        out = ["Fashion-MNIST, CIFAR-10 and the other datasets and architectures of the paper.",
               "NNSTD between networks trained from independent random starts beyond the "
               "chain's (the chain's far ends are the most independent starts here).",
               "The graph-edit-distance analysis per layer (only the mean over layers is "
               "compared)."]
        if mode != "full":
            out.insert(0, "MNIST and the paper's sizes (784 units per layer, 0.6 % density, "
                       "200 epochs): only in --full.")
        return out

    def runs(self, mode: str, seeds: Sequence[int], data_dir: str | None = None) -> list[RunSpec]:
        hidden, epochs, every, sparsity, est = SIZES[mode]
        task, task_options = self._task(mode, data_dir)
        out = []
        for s in seeds:
            chain = {"topology_seed": TOPOLOGY_SEED, "perturb_steps": int(s),
                     "perturb_fraction": PERTURB}
            out.append(RunSpec(NAME, "set", s, task, "set", "mlp",
                               train={"sparsity": sparsity, "epochs": epochs,
                                      "snapshot_every": every, "strategy_options": chain,
                                      "task_options": task_options},
                               analyze={"motifs": False, "balance": False, "nnstd": True,
                                        "overlap": True},
                               mlp_hidden=(hidden, hidden, hidden), est_seconds=est))
        for cond, strategy, opts, share in (
                ("static", "set", {"zeta": 0.0}, 0.8), ("dense", "dense", {}, 0.9)):
            for s in seeds:
                chain = {"topology_seed": TOPOLOGY_SEED, "perturb_steps": int(s),
                         "perturb_fraction": PERTURB} if cond == "static" else {}
                out.append(RunSpec(NAME, cond, s, task, strategy, "mlp",
                                   train={"sparsity": sparsity if cond == "static" else 0.0,
                                          "epochs": epochs, "snapshot_every": epochs,
                                          "strategy_options": {**opts, **chain},
                                          "task_options": task_options},
                                   analyze={"motifs": False, "balance": False, "nnstd": False,
                                            "overlap": False},
                                   mlp_hidden=(hidden, hidden, hidden),
                                   record_epochs=(epochs,), est_seconds=est * share))
        return out

    def extra_seconds(self, mode: str, n_seeds: int) -> float:
        epochs, every = SIZES[mode][1], SIZES[mode][2]
        return n_seeds * (n_seeds - 1) / 2 * (epochs // every + 1) * 0.3 + 5

    def claims(self, ctx: Context) -> list[Claim]:
        names = [ctx.name(NAME, "set", s) for s in ctx.seeds]
        curves: dict[str, dict[str, list[float]]] = {}
        n = len(names)
        first_m, final_m = np.zeros((n, n)), np.zeros((n, n))
        consecutive: list[str] = []
        for i, j in combinations(range(n), 2):
            a, b = names[i], names[j]
            df = ctx.store.compare(a, b, write=True, workers=1)
            epochs = ctx.store.history(a)["epoch"].to_numpy(dtype=float)
            key = f"{a} ~ {b}"
            curves[key] = {"epoch": epochs[: len(df)].tolist(),
                           "nnstd": df["nnstd"].astype(float).tolist()}
            first_m[i, j] = first_m[j, i] = curves[key]["nnstd"][0]
            final_m[i, j] = final_m[j, i] = curves[key]["nnstd"][-1]
            if j == i + 1:
                consecutive.append(key)
        ctx.runner.extra("pairwise NNSTD", 0.0)
        acc = ctx.last(NAME, "set", "accuracy")
        iu = np.triu_indices(n, 1)
        first, final = first_m[iu].tolist(), final_m[iu].tolist()
        q = [prefix_query(_NNSTD_QUERY, f"{ctx.prefix}-{NAME}-set-")]
        return [self._similar_but_far(ctx, acc, first, final, q),
                self._grows(curves, consecutive, q),
                self._heatmap(ctx, first_m, final_m, names, q),
                *self._baselines(ctx, acc)]

    def _similar_but_far(self, ctx: Context, acc: list[float], first: list[float],
                         final: list[float], q: list[str]) -> Claim:
        spread = float(np.nanmax(acc) - np.nanmin(acc)) if acc else float("nan")
        v_acc = one_sample([spread], ACC_SPREAD, "less", min_n=1,
                           what="accuracy range over seeds")
        v_far = paired(final, first, "greater", what="final - starting NNSTD between runs",
                       over="run pairs", sesoi=NNSTD_SESOI)
        fig, (ax1, ax2) = new_axes(2, 4.0, 3.4, sharey=False)
        ax1.bar(range(len(acc)), acc)
        ax1.set_xticks(range(len(acc)), [f"s{s}" for s in ctx.seeds])
        ax1.set_ylim(max(0.0, min(acc) - 0.05) if acc else 0, 1)
        ax1.set_xlabel("network of the chain")
        ax1.set_ylabel("final test accuracy")
        ax2.scatter(first, final, s=14)
        lim = max([*first, *final, 0.1])
        ax2.plot([0, lim], [0, lim], ls="--", color="grey", lw=0.8, label="no change")
        ax2.set_xlabel("NNSTD at the start")
        ax2.set_ylabel("NNSTD at the end")
        ax2.legend(fontsize=8)
        return Claim(
            f"{NAME}-1",
            "Runs reach similar accuracy while their topologies end far apart",
            "Liu et al. 2020, Sec. 5 / Figure 4: accuracies within a few points; NNSTD between "
            "runs from about 0.18-0.21 at epoch 0 to 0.36-0.38 at epoch 190 (MNIST)",
            f"accuracy {mean_sd(acc)} (range {spread:.3f}); NNSTD between runs "
            f"{mean_sd(first)} at the start -> {mean_sd(final)} at the end over "
            f"{len(final)} run pairs",
            combine([v_acc, v_far], [f"accuracy range < {ACC_SPREAD}",
                                     "NNSTD grows by more than "
                                     f"{NNSTD_SESOI} from the similar starts"],
                    f"accuracy range over seeds < {ACC_SPREAD} (exact), and paired over run "
                    "pairs: final - starting NNSTD > 0"),
            figure_png(fig), [prefix_query(_ACC_QUERY, f"{ctx.prefix}-{NAME}-"), *q],
            {"accuracy": acc, "accuracy_range": spread, "first_nnstd": first,
             "final_nnstd": final})

    def _grows(self, curves: dict[str, dict[str, list[float]]], consecutive: list[str],
               q: list[str]) -> Claim:
        first = [curves[k]["nnstd"][0] for k in consecutive]
        last = [curves[k]["nnstd"][-1] for k in consecutive]
        verdict = paired(last, first, "greater", what="NNSTD(last) - NNSTD(first)",
                         over="consecutive pairs", sesoi=NNSTD_SESOI)
        fig, ax = new_figure(5.5, 3.4)
        for k, c in curves.items():
            ax.plot(c["epoch"], c["nnstd"], color="tab:blue" if k in consecutive else "grey",
                    alpha=0.7 if k in consecutive else 0.3)
        ax.set_xlabel("epoch")
        ax.set_ylabel("NNSTD between two runs")
        ax.set_title("blue: consecutive networks of the chain", fontsize=9)
        return Claim(
            f"{NAME}-2", "NNSTD between networks that start 1 % apart grows during training",
            "Liu et al. 2020, Figure 4 (NNSTD between consecutive networks over training "
            "epochs: about 0.18-0.21 at epoch 0, 0.36-0.38 at epoch 190)",
            f"first {mean_sd(first)} -> last {mean_sd(last)} over {len(last)} consecutive "
            "pairs",
            verdict, figure_png(fig), q, {"curves": curves, "consecutive": consecutive})

    def _heatmap(self, ctx: Context, first_m: np.ndarray, final_m: np.ndarray,
                 names: list[str], q: list[str]) -> Claim:
        off = ~np.eye(len(final_m), dtype=bool)
        lo_end = float(final_m[off].min()) if off.any() else float("nan")
        hi_start = float(first_m[off].max()) if off.any() else float("nan")
        # every pair must end farther apart than any pair started: one exact comparison
        verdict = one_sample([lo_end] if off.any() else [], hi_start, "greater", min_n=1,
                             what="smallest final NNSTD between runs")
        fig, (ax1, ax2) = new_axes(2, 4.4, 4.0, sharey=False)
        vmax = float(max(final_m.max(), first_m.max(), 1e-9))
        for ax, m, t in ((ax1, first_m, "epoch 0"), (ax2, final_m, "last epoch")):
            im = ax.imshow(m, cmap="viridis", vmin=0, vmax=vmax)
            ax.set_xticks(range(len(names)), [f"s{s}" for s in ctx.seeds])
            ax.set_yticks(range(len(names)), [f"s{s}" for s in ctx.seeds])
            ax.set_title(t, fontsize=9)
            ax.set_xlabel("run (seed)")
            ax.set_ylabel("run (seed)")
        fig.colorbar(im, ax=ax2, label="NNSTD")
        return Claim(
            f"{NAME}-3", "Every pair of runs ends farther apart than any pair started "
            "(NNSTD heatmaps)",
            "Liu et al. 2020, Figure 4 (NNSTD heatmaps between the networks at epoch 0 and "
            "at the end of training)",
            f"smallest final NNSTD {lo_end:.3f} vs largest starting NNSTD {hi_start:.3f}"
            if off.any() else "n/a", verdict, figure_png(fig), q,
            {"first": first_m.tolist(), "final": final_m.tolist(), "runs": names})

    def _baselines(self, ctx: Context, acc: list[float]) -> list[Claim]:
        dense = ctx.last(NAME, "dense", "accuracy")
        static = ctx.last(NAME, "static", "accuracy")
        q = [prefix_query(_ACC_QUERY, f"{ctx.prefix}-{NAME}-")]
        out = []
        for cid, other, label, stmt, paper in (
                (4, dense, "dense", "SET reaches at least the accuracy of the dense network",
                 "Liu et al. 2020, abstract and Sec. 5: sparse networks trained with adaptive "
                 "sparse connectivity match or outperform their dense counterparts"),
                (5, static, "static sparse", "SET (rewiring) is more accurate than the same "
                 "sparse topology kept fixed",
                 "Liu et al. 2020, Sec. 2-3 (via Mocanu et al. 2018): adaptive sparse "
                 "connectivity outperforms static sparse connectivity")):
            if cid == 4:
                v = paired(acc, other, "greater", margin=-ACC_SESOI,
                           what=f"accuracy(SET) - accuracy({label})", sesoi=ACC_SESOI)
            else:
                v = paired(acc, other, "greater", what=f"accuracy(SET) - accuracy({label})",
                           sesoi=ACC_SESOI)
            fig, ax = new_figure(4.5, 3.4)
            for a, b in zip(other, acc, strict=True):
                ax.plot([0, 1], [a, b], color="grey", marker="o")
            ax.set_xticks([0, 1], [label, "SET"])
            ax.set_ylabel("final test accuracy")
            ax.set_title("paired over seeds")
            out.append(Claim(f"{NAME}-{cid}", stmt, paper,
                             f"SET {mean_sd(acc)} vs {label} {mean_sd(other)}", v,
                             figure_png(fig), q, {"set": acc, label: other}))
        return out
