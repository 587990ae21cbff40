"""`sparsetopo demo`: the main job end to end, on the managed local Neo4j by default."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import typer

from sparsetopo.cli.common import console, err_console, friendly_errors, print_json, print_table
from sparsetopo.cli.progress import training_bar

# Columns of the history table: (stored property, header)
_COLUMNS = (
    ("step", "step"),
    ("epoch", "epoch"),
    ("strategy_sparsity", "W_hh sparsity"),
    ("accuracy", "accuracy"),
    ("ffl_balance", "FFL balance"),
    ("ffl_balance_null", "sign-shuffled null"),
    ("ffl_balance_z", "z"),
    ("overlap_prev_jaccard", "overlap w/ prev"),
    ("nnstd_to_first", "NNSTD to first"),
)



@friendly_errors
def demo(
    run: str = typer.Option("demo-seq-digits", "--run", help="Run name (replaced if it exists)."),
    epochs: int = typer.Option(20, help="Training epochs (one snapshot per epoch)."),
    sparsity: float = typer.Option(0.9, help="Final fraction of zero recurrent weights."),
    hidden: int = typer.Option(64, help="Hidden units of the RNN."),
    n_null: int = typer.Option(100, "--n-null", help="Null-model samples per snapshot."),
    seed: int = typer.Option(0, help="Random seed (data split, init, null models)."),
    plots: Path = typer.Option(Path("sparsetopo-plots"), help="Where to write the PNGs."),
    as_json: bool = typer.Option(False, "--json", help="Print the history as JSON at the end."),
) -> None:
    """The main job end to end: train a pruned RNN, snapshot it, analyse, show the history.

    Trains a small RNN on sequential digits with gradual magnitude pruning, snapshots every
    checkpoint into Neo4j, analyses every snapshot (FFL balance against its sign-shuffled null,
    motif Z-scores, edge overlap, NNSTD), prints the history table, writes plots and prints the
    two Browser commands that open the guide on this run. Takes well under a minute on two CPU cores.

    **Example**: `sparsetopo demo --epochs 10 --n-null 50`
    """
    from sparsetopo.api.store import Store
    from sparsetopo.ingest.recorder import Recorder
    from sparsetopo.server.process import ManagedServer
    from sparsetopo.training.loop import Trainer

    started = time.perf_counter()
    store = Store.connect()
    try:
        err_console.rule("1/3 train and snapshot")
        trainer = Trainer("seq-digits", "rnn", "gradual", sparsity=sparsity, epochs=epochs,
                          snapshot_every=1, seed=seed, hidden=hidden, threads=1)
        with Recorder(trainer.model, run=run, task="seq-digits", strategy="gradual",
                      model_name="rnn", config=trainer.config, replace=True) as recorder, \
                training_bar() as bar:
            result = trainer.run(recorder=recorder, progress=bar or False)
        err_console.print(
            f"trained: {result.metric_name} {result.final_metric:.3f} at sparsity "
            f"{result.final_sparsity:.3f}, {len(result.history)} snapshots in run [bold]{run}[/]"
        )

        err_console.rule("2/3 analyse every snapshot")
        report = store.analyze(run, n_null=n_null, seed=seed, progress=True)
        err_console.print(f"analysed {len(report.computed)} snapshots and {report.pairs} "
                          f"snapshot pairs in {report.seconds:.1f} s")

        err_console.rule("3/3 history")
        history = store.history(run).reset_index()
        rows = [{header: _clean(r.get(key)) for key, header in _COLUMNS}
                for r in history.to_dict("records")]
        if as_json:
            print_json(rows)
        else:
            print_table(rows, [h for _, h in _COLUMNS], title=f"run {run}")
        paths = store.plot(run, plots / run)
        console.print("plots:")
        for path in paths:
            console.print(f"  {path}")
        last_step = int(history["step"].iloc[-1])
        recurrent = [s.name for s in store.architecture(run).layers if s.kind == "recurrent"]
    finally:
        store.close()

    server = ManagedServer()
    managed = store.info is not None and store.info.managed
    where = server.browser_url if managed else "your Neo4j Browser"
    guide = f"{server.browser_assets_url}guide.html" if managed else "GUIDE_URL (docs/browser.md)"
    console.print(f"\nNeo4j Browser: {where} (user neo4j, `sparsetopo server password`)",
                  highlight=False)
    console.print("Run these two commands there; the guide holds every query, one click each:",
                  highlight=False)
    console.print(f"  :param run => '{run}'\n  :play {guide}", markup=False, highlight=False,
                  soft_wrap=True)
    console.print(f"(layer {recurrent[0] if recurrent else '-'}, last step {last_step}; "
                  "docs/browser.md)", highlight=False)
    console.print(f"\ndone in {time.perf_counter() - started:.0f} s. Next: `sparsetopo history "
                  f"{run}`, `sparsetopo query --list`, `sparsetopo plot {run}`.")

def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


#: The commands of this module; sparsetopo.cli.main merges them into the root app (add_typer).
app = typer.Typer()
register(app)
