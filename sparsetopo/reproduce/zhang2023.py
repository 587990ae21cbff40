"""Zhang, Moore, Yan, Li (Commun. Phys. 2023): structural balance of sparse RNNs.

Runs: vanilla tanh RNNs on seq-digits (seq-MNIST in full mode when ``--data-dir`` holds it)
and mackey-glass, sparsified to 95 % of the recurrent matrix by gradual magnitude pruning
(``prune``), SET and Deep R; plus RNNs on fixed topologies annealed to FFL balance 0.9
(``balanced``) or left random (``random``, same density and sign counts: the same annealer with
target 0), whose weights keep their signs while training (``fix_signs``) so that the
manipulation survives training.

Balance is the paper-mode ratio (``ffl_balance_paper``: the unweighted mean of the per-class
ratios, as in the authors' code), which is what their published values (about 0.90 pruning,
0.60 SET on MNIST) measure.

Claims: (1) FFL balance rises during sparsification and ends above its sign-shuffled null (a
family of per-strategy tests, decided by a quorum); (2) the significance profile of the 8
signed FFL classes (Z against sign-shuffled networks, unit length) is shared across tasks and
strategies; (3) balanced topologies train better than random ones, paired over seeds -- only if
the manipulation check (final balance of "balanced" runs above that of "random" runs by 0.1)
holds, else inconclusive (manipulation failed).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sparsetopo.queries.reproduce import ZHANG2023_BALANCE as _BALANCE_QUERY
from sparsetopo.queries.reproduce import ZHANG2023_METRIC as _METRIC_QUERY
from sparsetopo.reproduce.base import Context, Paper, band, prefix_query
from sparsetopo.reproduce.report import Claim, figure_png, mean_sd, new_axes, new_figure
from sparsetopo.reproduce.runner import RunSpec
from sparsetopo.reproduce.verdict import combine, manipulated, paired, profiles_shared

NAME = "zhang2023"
STRATEGIES: dict[str, tuple[str, dict[str, object]]] = {"prune": ("gradual", {}), "set": ("set", {}), "deepr": ("deepr", {})}
#: mode -> (tasks, hidden, epochs, snapshot_every, est. seconds per run, n_null for the profile)
SIZES: dict[str, tuple[tuple[str, ...], int, int, int, float, int]] = {
    "tiny": (("seq-digits",), 32, 2, 1, 4.0, 10),
    "quick": (("seq-digits", "mackey-glass"), 64, 10, 2, 12.0, 100),
    # their MNIST runs: 150 hidden units, 95 % sparsity
    "full": (("seq-digits", "mackey-glass", "adding"), 150, 100, 1, 400.0, 1000),
}
SPARSITY = 0.95
#: Smallest balance change of interest (rise, margin over the null).
BALANCE_SESOI = 0.02
#: Smallest accuracy difference of interest (balanced vs random).
ACC_SESOI = 0.01
#: The manipulation check: balanced runs must end this much more balanced than random ones.
MANIPULATION_MARGIN = 0.1
#: The balance ratio the claims use (see the module docstring).
BALANCE = "ffl_balance_paper"
FFL_CLASSES = ("+++", "++-", "+-+", "+--", "-++", "-+-", "--+", "---")


class Zhang2023(Paper):
    name = NAME
    title = "Zhang et al. 2023 (Commun. Phys.): structural balance in sparse RNNs"

    def _tasks(self, mode: str, data_dir: str | None) -> list[tuple[str, str, dict[str, object]]]:
        """(label, registry task, task options): seq-MNIST replaces seq-digits when present."""
        from sparsetopo.training.tasks.mnist import has_mnist

        out: list[tuple[str, str, dict[str, object]]] = []
        for t in SIZES[mode][0]:
            if t == "seq-digits" and mode == "full" and has_mnist(data_dir):
                out.append((t, "seq-mnist", {"data_dir": str(data_dir)}))
            else:
                out.append((t, t, {}))
        return out

    def data_note(self, mode: str, data_dir: str | None) -> str | None:
        from sparsetopo.training.tasks.mnist import has_mnist

        if mode == "full" and has_mnist(data_dir):
            return f"Data: sequential MNIST from {data_dir} (the paper's dataset)."
        if mode == "full":
            return ("Data: no MNIST IDX files in --data-dir, so the built-in 8x8 digits fed row "
                    "by row substitute sequential MNIST.")
        return "Data: the built-in 8x8 digits fed row by row, in place of sequential MNIST."

    def sources(self) -> list[str]:
        return [
            "Balance values (about 0.90 after pruning, 0.60 after SET, null 0.5, MNIST, 150 "
            "units, 95 % sparsity): the paper's Fig. 2 and the authors' repository "
            "XinjieZhang/sparse-RNNs (the paper-mode ratio of its balance analysis: the "
            "unweighted mean of the per-class balanced fractions).",
            "Signed FFL significance profiles: the paper's Fig. 3; balanced vs random "
            "topologies: the paper's Fig. 5.",
        ]

    def not_covered(self, mode: str) -> list[str]:
        out = ["The Neural-ODE / continuous-time RNN claim (the same balance patterns in "
               "CT-RNNs and Neural ODEs) is not tested: no run trains a CT-RNN or Neural ODE "
               "here (the ctrnn model exists; a reproduction of that claim is future work).",
               "Their other tasks and the 2- and 4-node motif analyses beyond the signed FFLs.",
               "Deep R's exact hyperparameters (ours: the library's defaults)."]
        if mode != "full":
            out.insert(0, "Sequential MNIST and 150 hidden units: only in --full (with "
                       "--data-dir).")
        return out

    def scale(self, mode: str) -> str:
        tasks, hidden, epochs, every, _, n_null = SIZES[mode]
        return (f"Scale: RNN hidden {hidden} (paper: 150 on MNIST), {epochs} epochs, "
                f"tasks {', '.join(tasks)}, recurrent sparsity {SPARSITY:.0%}, snapshot every "
                f"{every} epoch(s), {n_null} sign-shuffled networks per significance profile.")

    def runs(self, mode: str, seeds: Sequence[int], data_dir: str | None = None) -> list[RunSpec]:
        _tasks, hidden, epochs, every, est, _n_null = SIZES[mode]
        analyze = {"motifs": False, "balance": True, "nnstd": False, "overlap": True,
                   "n_null": 20}
        out = []
        tasks = self._tasks(mode, data_dir)
        for label, task, topts in tasks:
            for cond, (strategy, opts) in STRATEGIES.items():
                for s in seeds:
                    out.append(RunSpec(
                        NAME, f"{label}-{cond}", s, task, strategy, "rnn",
                        train={"sparsity": SPARSITY, "epochs": epochs, "hidden": hidden,
                               "snapshot_every": every, "strategy_options": opts,
                               "task_options": topts},
                        analyze=analyze, est_seconds=est))
        label, task, topts = tasks[0]
        for cond, target in (("balanced", 0.9), ("random", 0.0)):
            for s in seeds:
                out.append(RunSpec(
                    NAME, f"{label}-{cond}", s, task, "balanced", "rnn",
                    train={"sparsity": SPARSITY, "epochs": epochs, "hidden": hidden,
                           "snapshot_every": epochs, "task_options": topts,
                           "strategy_options": {"target_balance": target,
                                                "fix_signs": True}},
                    analyze=analyze, est_seconds=est * 0.7))
        return out

    def extra_seconds(self, mode: str, n_seeds: int) -> float:
        tasks, _, _, _, _, n_null = SIZES[mode]
        return len(tasks) * len(STRATEGIES) * n_seeds * n_null * 0.01 + 5

    def claims(self, ctx: Context) -> list[Claim]:
        tasks = SIZES[ctx.mode][0]
        return [self._balance(ctx, tasks), self._profiles(ctx, tasks), self._annealed(ctx)]

    # ---------------------------------------------------------------- claim 1
    def _balance(self, ctx: Context, tasks: Sequence[str]) -> Claim:
        fig, plt_axes = new_axes(len(tasks))
        parts, names, data = [], [], {}
        ours = []
        for cond in STRATEGIES:
            first, last, null = [], [], []
            for ti, task in enumerate(tasks):
                curves = []
                epochs_x = None
                for s in ctx.seeds:
                    h = ctx.history(NAME, f"{task}-{cond}", s)
                    b = h[BALANCE].to_numpy(dtype=float)
                    first.append(b[0])
                    last.append(b[-1])
                    null.append(float(h["ffl_balance_null"].to_numpy(dtype=float)[-1]))
                    curves.append(b)
                    epochs_x = h["epoch"].to_numpy(dtype=float)
                assert epochs_x is not None
                band(plt_axes[ti], epochs_x, curves, cond)
                plt_axes[ti].set_title(task)
                plt_axes[ti].set_xlabel("epoch")
            data[cond] = {"first": first, "last": last, "null": null}
            parts.append(paired(last, first, "greater", what=f"{cond}: last - first balance",
                                over="runs", sesoi=BALANCE_SESOI))
            names.append(f"{cond} rises")
            parts.append(paired(last, null, "greater", margin=0.05,
                                what=f"{cond}: last balance - null", over="runs",
                                sesoi=BALANCE_SESOI))
            names.append(f"{cond} > null + 0.05")
            ours.append(f"{cond} {mean_sd(last, 2)} vs null {np.nanmean(null):.2f} "
                        f"(start {np.nanmean(first):.2f})")
        for ax in plt_axes:
            ax.axhline(0.5, ls="--", color="grey", label="sign-shuffled null (~0.5)")
        plt_axes[0].set_ylabel("FFL balance ratio (paper mode)")
        fig.legend(*plt_axes[-1].get_legend_handles_labels(), loc="outside right center",
                   fontsize=8, title="strategy (mean ± 1 SD over seeds)", title_fontsize=8)
        return Claim(
            f"{NAME}-1",
            "FFL balance rises during sparsification and ends well above its sign-shuffled null",
            "Zhang et al. 2023, Fig. 2 (balance over sparsification): MNIST pruning ends near "
            "0.90, SET near 0.60, null 0.50",
            "; ".join(ours),
            combine(parts, names, "per strategy, paired over runs (tasks x seeds), one-sided "
                    "t-tests of the paper-mode balance: last - first > 0, and last - its "
                    "sign-shuffled null (the exact expectation) > 0.05", mode="family"),
            figure_png(fig),
            [prefix_query(_BALANCE_QUERY, f"{ctx.prefix}-{NAME}-")], data)

    # ---------------------------------------------------------------- claim 2
    def _profiles(self, ctx: Context, tasks: Sequence[str]) -> Claim:
        from sparsetopo.analysis import motif_zscores

        n_null = SIZES[ctx.mode][5]
        profiles: dict[str, list[float]] = {}
        per_seed: dict[str, list[list[float]]] = {}
        for task in tasks:
            for cond in STRATEGIES:
                label = f"{task}/{cond}"
                vecs = []
                for s in ctx.seeds:
                    g = ctx.store.snapshot(ctx.name(NAME, f"{task}-{cond}", s))
                    df = motif_zscores(g, "signed_triads", null="sign_shuffle", n=n_null, seed=s)
                    z = np.array([df.loc[f"030T:{c}", "z"] if f"030T:{c}" in df.index
                                  else np.nan for c in FFL_CLASSES], dtype=float)
                    z = np.nan_to_num(z)
                    zn = float(np.linalg.norm(z))
                    vecs.append(z / zn if zn > 0 else z)
                per_seed[label] = [v.tolist() for v in vecs]
                mean = np.mean(vecs, axis=0)
                norm = float(np.linalg.norm(mean))
                profiles[label] = (mean / norm if norm > 0 else mean).tolist()
        ctx.runner.extra("significance profiles", 0.0)
        verdict = profiles_shared(profiles, r_min=0.5, seed=0)
        fig, (ax, ax2) = new_axes(2, 5.0, 4.0, sharey=False)
        x = np.arange(len(FFL_CLASSES))
        labels = list(profiles)
        # the heatmap names each profile by its number (long names overlap there); the legend
        # says which number is which
        for k, (label, p) in enumerate(profiles.items(), start=1):
            ax.plot(x, p, marker="o", label=f"{k}: {label}")
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xticks(x, [f"FFL {c}" for c in FFL_CLASSES], rotation=45, fontsize=8)
        ax.set_xlabel("signed FFL class")
        ax.set_ylabel("normalised Z (significance profile)")
        fig.legend(*ax.get_legend_handles_labels(), loc="outside right center", fontsize=7,
                   title="task-strategy profile", title_fontsize=7)
        # the pairwise correlations the verdict averages, as a matrix
        corr = np.corrcoef(np.array([profiles[k] for k in labels]))
        im = ax2.imshow(corr, cmap="RdBu_r", vmin=-1, vmax=1)
        if len(labels) <= 8:  # values in the cells while they stay legible
            for i in range(len(labels)):
                for j in range(len(labels)):
                    ax2.text(j, i, f"{corr[i, j]:.2f}", ha="center", va="center", fontsize=7)
        numbers = [str(k) for k in range(1, len(labels) + 1)]
        ax2.set_xticks(range(len(labels)), numbers, fontsize=7)
        ax2.set_yticks(range(len(labels)), numbers, fontsize=7)
        ax2.set_xlabel("profile")
        ax2.set_ylabel("profile")
        ax2.set_title("pairwise Pearson r", fontsize=9)
        fig.colorbar(im, ax=ax2, fraction=0.046, label="Pearson r")
        pairs = verdict.stats.get("pairs", {})
        ours = (f"mean pairwise r = {verdict.stats.get('mean_r', float('nan')):.2f}, min "
                f"{verdict.stats.get('min_r', float('nan')):.2f} over {len(pairs)} pairs of "
                f"{len(profiles)} task/strategy profiles")
        query = ("# notebook: the profile of one run (Z of the 8 signed FFL classes vs "
                 "sign-shuffled networks)\n"
                 "from sparsetopo.analysis import motif_zscores\n"
                 f"g = store.snapshot('{ctx.name(NAME, f'{tasks[0]}-prune', ctx.seeds[0])}')\n"
                 f"df = motif_zscores(g, 'signed_triads', null='sign_shuffle', n={n_null}, "
                 f"seed={ctx.seeds[0]})\n"
                 "z = df.filter(like='030T:', axis=0)['z']; z / (z ** 2).sum() ** 0.5")
        return Claim(
            f"{NAME}-2",
            "The signed-FFL significance profile is shared across tasks and strategies",
            "Zhang et al. 2023, Fig. 3 (signed motif significance profiles across tasks and "
            "sparsification strategies)",
            ours, verdict, figure_png(fig), [query],
            {"profiles": profiles, "per_seed": per_seed, "pairs": pairs})

    # ---------------------------------------------------------------- claim 3
    def _annealed(self, ctx: Context) -> Claim:
        bal = ctx.last(NAME, "seq-digits-balanced", "accuracy")
        rnd = ctx.last(NAME, "seq-digits-random", "accuracy")
        bal_b = ctx.last(NAME, "seq-digits-balanced", BALANCE)
        rnd_b = ctx.last(NAME, "seq-digits-random", BALANCE)
        effect = paired(bal, rnd, "greater", what="accuracy(balanced) - accuracy(random)",
                        sesoi=ACC_SESOI)
        check = paired(bal_b, rnd_b, "greater", margin=MANIPULATION_MARGIN,
                       what="final balance(balanced) - balance(random)")
        verdict = manipulated(effect, check, "the balanced runs ending more balanced than the "
                              f"random ones by more than {MANIPULATION_MARGIN}")
        fig, ax = new_figure(4.5, 3.4)
        for a, b in zip(rnd, bal, strict=True):
            ax.plot([0, 1], [a, b], color="grey", marker="o")
        ax.set_xticks([0, 1], [f"random\n(final balance {np.nanmean(rnd_b):.2f})",
                               f"balanced\n(final balance {np.nanmean(bal_b):.2f})"])
        ax.set_ylabel("seq-digits test accuracy")
        ax.set_title("paired over seeds")
        return Claim(
            f"{NAME}-3",
            "RNNs on balanced topologies perform better than on random topologies of the same "
            "density and sign counts",
            "Zhang et al. 2023, Fig. 5 (annealed balanced vs random topologies)",
            f"balanced {mean_sd(bal)} vs random {mean_sd(rnd)}; final balance "
            f"{mean_sd(bal_b, 2)} vs {mean_sd(rnd_b, 2)}", verdict, figure_png(fig),
            [prefix_query(_METRIC_QUERY, f"{ctx.prefix}-{NAME}-seq-digits-")],
            {"balanced": bal, "random": rnd, "balance_balanced": bal_b,
             "balance_random": rnd_b})
