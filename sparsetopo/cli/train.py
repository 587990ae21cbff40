"""`sparsetopo train`: train a built-in model on a built-in task under a sparsification strategy,
snapshotting every checkpoint into Neo4j (or not, with --no-store)."""

from __future__ import annotations

import importlib
import json
import sys
import time
from enum import Enum
from pathlib import Path
from typing import Any

import typer

from sparsetopo.cli.common import console, friendly_errors, parse_pairs
from sparsetopo.cli.progress import training_bar
from sparsetopo.errors import InputError

# Python 3.10 has no TOML reader in the standard library; JSON configs still work there.
tomllib: Any = importlib.import_module("tomllib") if sys.version_info >= (3, 11) else None

HELP = """Train a sparse network and snapshot its wiring at every checkpoint.

**Names**

* tasks: digits, seq-digits, adding, mackey-glass, navigation, inverse-control, mnist,
  seq-mnist (MNIST-style IDX files from --data-dir)
* models: mlp, rnn, ctrnn, gru, lstm, transformer (default: the task's own)
* strategies: magnitude (one-shot), iterative (Zahn 15..99 %), gradual (Zhu & Gupta cubic),
  narang (threshold ramp), set, deepr, moduli, balanced, dense (no sparsification)

**Task defaults** (used when --model, --epochs, --hidden, --lr, --batch-size are not given)

| task | model | epochs | hidden | lr | batch size |
|---|---|---|---|---|---|
| digits | mlp | 20 | 64 | 3e-3 | 32 |
| seq-digits | rnn | 20 | 64 | 1e-2 | 32 |
| adding | gru | 20 | 64 | 1e-2 | 64 |
| mackey-glass | rnn | 20 | 64 | 5e-3 | 32 |
| navigation | rnn | 20 | 128 | 3e-3 | 64 |
| inverse-control | mlp | 30 | 128 | 3e-3 | 64 |
| mnist | mlp | 20 | 1000 | 1e-3 | 128 |
| seq-mnist | rnn | 20 | 150 | 1e-3 | 128 |

**What --sparsity counts**: the fraction of zero weights among the matrices the strategy
sparsifies. Recurrent models (rnn, ctrnn, gru, lstm): the recurrent hidden-to-hidden matrix
only, unless --scope all. mlp, transformer: every weight matrix (hidden layers, attention
projections and readout). Biases are
never sparsified.

Checkpoints: the start (epoch 0), every --snapshot-every epochs and the last epoch. Each goes
through the Recorder into Neo4j with its metrics (loss, test_loss, task metric, sparsity,
n_edges); --no-store trains without a database.

**Examples**

* `sparsetopo train --task seq-digits --model rnn --strategy gradual --sparsity 0.9 --epochs 20 --run demo`
* `sparsetopo train --task adding --strategy set -o zeta=0.2 --no-store --json`
* `sparsetopo train --config run.toml` (same keys as the flags, e.g. `task = "seq-digits"`,
  `sparsity = 0.9` and a table `[strategy_options]` with `zeta = 0.3`; flags win)
"""

class Device(str, Enum):
    """Where training runs (``--device``)."""

    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


#: Config-file keys (TOML or JSON) and the train() keyword each one feeds.
CONFIG_KEYS = (
    "task", "model", "strategy", "sparsity", "epochs", "snapshot_every", "run", "seed", "lr",
    "hidden", "batch_size", "scope", "strategy_options", "task_options", "store", "threads",
    "device",
)
DEFAULTS: dict[str, Any] = {
    "task": "seq-digits", "strategy": "gradual", "sparsity": 0.9, "snapshot_every": 1, "seed": 0,
    "store": True,
}


def load_config(path: Path) -> dict[str, Any]:
    """Read a TOML (.toml) or JSON file of train settings; unknown keys are an error."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(f"cannot read config file {path}: {exc.strerror}; check the path") from exc
    if path.suffix.lower() != ".json" and tomllib is None:
        raise InputError("TOML config files need Python >= 3.11; use a .json config file")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, ValueError) as exc:
        raise InputError(f"config file {path} is not valid {path.suffix[1:] or 'TOML'}: {exc}") from exc
    if not isinstance(data, dict):
        raise InputError(f"config file {path} must hold a table/object of settings")
    data = {k.replace("-", "_"): v for k, v in data.items()}
    unknown = sorted(set(data) - set(CONFIG_KEYS))
    if unknown:
        raise InputError(
            f"unknown key(s) {', '.join(unknown)} in {path}; valid keys: {', '.join(CONFIG_KEYS)}"
        )
    return data


def merge_settings(config: dict[str, Any], cli: dict[str, Any]) -> dict[str, Any]:
    """Defaults, overridden by the config file, overridden by flags given on the command line."""
    merged = dict(DEFAULTS)
    merged.update(config)
    for key, value in cli.items():
        if key in ("strategy_options", "task_options"):
            merged[key] = {**merged.get(key, {}), **value}
        elif value is not None:
            merged[key] = value
    return merged


def run_training(settings: dict[str, Any], *, progress: bool) -> dict[str, Any]:
    """Train with merged ``settings``; store through the Recorder unless ``store`` is false."""
    from sparsetopo.training.loop import Trainer

    keys = ("sparsity", "epochs", "snapshot_every", "seed", "lr", "hidden", "batch_size", "scope",
            "strategy_options", "task_options", "threads", "device")
    kwargs = {k: settings[k] for k in keys if settings.get(k) is not None}
    trainer = Trainer(settings["task"], settings.get("model"), settings["strategy"], **kwargs)
    run = settings.get("run") or (
        f"{settings['task']}-{trainer.config['model']}-{settings['strategy']}-"
        f"s{settings['seed']}-{time.strftime('%Y%m%d-%H%M%S')}"
    )
    if not settings.get("store", True):
        with training_bar(progress) as bar:
            result = trainer.run(progress=bar or False)
        return {"run": run, "stored": False, **result.summary()}
    from sparsetopo.ingest.recorder import Recorder  # needs the database: import only when storing

    with Recorder(
        trainer.model, run=run, task=settings["task"], strategy=settings["strategy"],
        model_name=str(trainer.config["model"]), config=trainer.config,
    ) as recorder, training_bar(progress) as bar:
        result = trainer.run(recorder=recorder, progress=bar or False)
    return {"run": run, "stored": True, **result.summary()}


def register(app: typer.Typer) -> None:
    """Add the ``train`` command to ``app``."""

    @app.command("train", help=HELP, no_args_is_help=False)
    @friendly_errors
    def train_command(
        task: str = typer.Option(None, "--task", "-t", help="Task name (default seq-digits)."),
        model: str = typer.Option(None, "--model", "-m", help="Model name (default: the task's)."),
        strategy: str = typer.Option(None, "--strategy", "-s", help="Strategy (default gradual)."),
        sparsity: float = typer.Option(
            None, "--sparsity", help="Target fraction of zero sparsified weights (default 0.9)."
        ),
        epochs: int = typer.Option(None, "--epochs", "-e", help="Epochs (default: the task's, see the table above)."),
        snapshot_every: int = typer.Option(
            None, "--snapshot-every", "-k", help="Snapshot every K epochs (default 1)."
        ),
        run: str = typer.Option(None, "--run", "-r", help="Run name (default: generated)."),
        seed: int = typer.Option(None, "--seed", help="Random seed (default 0)."),
        lr: float = typer.Option(None, "--lr", help="Adam learning rate (default: the task's)."),
        hidden: int = typer.Option(None, "--hidden", help="Hidden units (default: the task's, see the table above)."),
        batch_size: int = typer.Option(None, "--batch-size", help="Minibatch size (default: the task's, see the table above)."),
        scope: str = typer.Option(
            None, "--scope", help="Which matrices to sparsify: recurrent or all."
        ),
        option: list[str] = typer.Option(
            [], "--option", "-o", help="Strategy option key=value, repeatable (e.g. zeta=0.2)."
        ),
        task_option: list[str] = typer.Option(
            [], "--task-option", help="Task option key=value, repeatable (e.g. length=50)."
        ),
        config: Path = typer.Option(
            None, "--config", "-c", help="TOML or JSON file with the same keys as the flags."
        ),
        store: bool = typer.Option(
            None, "--store/--no-store", help="Snapshot into Neo4j (default) or train only."
        ),
        json_out: bool = typer.Option(False, "--json", help="Print a JSON summary for scripts."),
        progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar."),
        threads: int = typer.Option(
            1, "--threads", help="Torch CPU threads (1 is fastest for the built-in model sizes)."
        ),
        device: Device = typer.Option(
            None, "--device", help="auto (CUDA when available, the default), cpu or cuda: "
            "where the model, batches and regularisers live; snapshots are read to the CPU.",
        ),
    ) -> None:
        file_settings = load_config(config) if config is not None else {}
        cli = {
            "task": task, "model": model, "strategy": strategy, "sparsity": sparsity,
            "epochs": epochs, "snapshot_every": snapshot_every, "run": run, "seed": seed,
            "lr": lr, "hidden": hidden, "batch_size": batch_size, "scope": scope,
            "store": store, "strategy_options": parse_pairs(option, "--option"),
            "task_options": parse_pairs(task_option, "--task-option"),
            "threads": threads, "device": device.value if device is not None else None,
        }
        settings = merge_settings(file_settings, cli)
        summary = run_training(settings, progress=progress and not json_out)
        if json_out:
            typer.echo(json.dumps(summary, default=str))
            return
        console.print(
            f"run [bold]{summary['run']}[/bold]: {summary['metric_name']} = "
            f"{summary['final_metric']:.4f}, sparsity = {summary['final_sparsity']:.4f} "
            f"({summary['n_edges']} of {summary['n_weights']} weights kept), "
            f"{summary['checkpoints']} checkpoints, {summary['seconds']:.1f} s"
            + ("" if summary["stored"] else " (not stored)")
        )


#: The commands of this module; sparsetopo.cli.main merges them into the root app (add_typer).
app = typer.Typer()
register(app)
