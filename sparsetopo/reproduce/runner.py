"""The shared runner of a reproduction: train every planned run through the training loop with
the Recorder, skip runs already complete with the same configuration, analyse them with
``Store.analyze``, and report progress across the whole reproduction.

Run names are ``<prefix>-<paper>-<condition>-s<seed>``. The configuration of a run (everything in
its :class:`RunSpec` except the time estimate) is hashed into ``reproduce_key`` and stored in the
Run node's ``config_json``; a complete run with the same key is not trained again unless
``force``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sparsetopo.errors import InputError

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunSpec:
    """One training run of a reproduction.

    Parameters
    ----------
    paper, condition : str
        Name parts of the run.
    seed : int
        Training seed (data split, initialisation, strategy).
    task, strategy : str
        Registry names of :mod:`sparsetopo.training`.
    model : str
        A built-in model name, or ``"mlp"`` with ``mlp_hidden`` for a deeper MLP.
    train : dict
        Keyword options of :class:`sparsetopo.training.loop.Trainer` (sparsity, epochs,
        hidden, lr, strategy_options, ...).
    analyze : dict
        Keyword options of :meth:`sparsetopo.api.store.Store.analyze`.
    mlp_hidden : tuple of int, optional
        Hidden layer sizes of a custom :class:`~sparsetopo.training.models.MLP`.
    activation : str
        Activation of that MLP.
    record_epochs : tuple of int, optional
        Only the checkpoints at these epochs are stored (None: every checkpoint).
    rnn_nonlinearity : str, optional
        ``"relu"`` builds model ``rnn`` with a ReLU recurrence (default: the built-in tanh).
    est_seconds : float
        Estimated wall time of training plus analysis on this machine (progress, --full
        estimate); not part of the configuration key.
    """

    paper: str
    condition: str
    seed: int
    task: str
    strategy: str
    model: str = "rnn"
    train: dict[str, Any] = field(default_factory=dict)
    analyze: dict[str, Any] = field(default_factory=dict)
    mlp_hidden: tuple[int, ...] | None = None
    activation: str = "relu"
    record_epochs: tuple[int, ...] | None = None
    rnn_nonlinearity: str | None = None
    est_seconds: float = 10.0

    def name(self, prefix: str) -> str:
        """The stored run's name: ``<prefix>-<paper>-<condition>-s<seed>``."""
        return f"{prefix}-{self.paper}-{self.condition}-s{self.seed}"

    @property
    def epochs(self) -> int:
        return int(self.train.get("epochs", 1))

    def key(self) -> str:
        """Hash of the configuration (what decides whether a stored run can be reused)."""
        data = {k: v for k, v in asdict(self).items() if k != "est_seconds"}
        return hashlib.sha1(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass
class ProgressEvent:
    """What the runner is doing, for a progress display.

    ``kind``: "start" (a run begins: data and model are being prepared), "train" (an epoch
    finished), "analyze" (analysis of a run starts), "skip" (a
    complete run is reused), "done" (a run is finished), "extra" (other work, e.g. a derived
    run). ``done`` and ``total`` are estimated seconds of work: done / total is the fraction of
    the whole reproduction finished.
    """

    kind: str
    run: str
    index: int
    n_runs: int
    epoch: int = 0
    epochs: int = 0
    done: float = 0.0
    total: float = 0.0


ProgressFn = Callable[[ProgressEvent], None]


@dataclass
class RunOutcome:
    """What happened to one planned run."""

    spec: RunSpec
    name: str
    trained: bool
    seconds: float


class _Sink:
    """Forwards the chosen checkpoints to the Recorder and reports every epoch."""

    def __init__(self, recorder: Any, keep: set[int] | None, on_epoch: Callable[[int], None]):
        self.recorder, self.keep, self.on_epoch = recorder, keep, on_epoch

    def snapshot(
        self, step: int, epoch: int | None = None, metrics: dict[str, float] | None = None
    ) -> None:
        if self.keep is None or epoch in self.keep:
            self.recorder.snapshot(step, epoch=epoch, metrics=metrics)
        self.on_epoch(int(epoch or 0))


class Runner:
    """Trains, records and analyses the runs of a reproduction in one Store.

    Parameters
    ----------
    store : sparsetopo.api.store.Store
        Where runs are stored and analysed.
    prefix : str
        Run-name prefix.
    force : bool
        Retrain runs even when a complete run with the same configuration exists.
    progress : callable, optional
        Receives a :class:`ProgressEvent` at every epoch and run boundary.
    total_seconds : float
        Estimated seconds of all work (for the progress fraction).
    threads : int
        Torch threads while training.
    device : str
        ``auto``, ``cpu`` or ``cuda``: where models, batches and regularisers live (the graph
        snapshots are always read to the CPU). Not part of a run's configuration key.
    """

    def __init__(self, store: Any, prefix: str, force: bool = False,
                 progress: ProgressFn | None = None, total_seconds: float = 0.0,
                 threads: int = 1, device: str = "auto") -> None:
        self.store, self.prefix, self.force = store, prefix, force
        self.device = device
        self.progress, self.total, self.threads = progress, total_seconds, threads
        self.done = 0.0
        self.index = 0
        self.n_runs = 0
        self.outcomes: list[RunOutcome] = []

    def _emit(self, kind: str, run: str, epoch: int = 0, epochs: int = 0) -> None:
        if self.progress is not None:
            self.progress(ProgressEvent(kind, run, self.index, self.n_runs, epoch, epochs,
                                        min(self.done, self.total), self.total))

    def is_complete(self, spec: RunSpec) -> bool:
        """True when the store holds a complete run of this name with the same configuration."""
        from sparsetopo.graphstore.runs import find_run

        run = find_run(self.store.driver, spec.name(self.prefix), self.store.database)
        if run is None or run.get("status") != "complete":
            return False
        config = json.loads(run.get("config_json") or "{}")
        return bool(config.get("reproduce_key") == spec.key())

    def run_all(self, specs: Sequence[RunSpec]) -> list[RunOutcome]:
        """Train (unless complete) and analyse every spec, in order."""
        self.n_runs += len(specs)
        out = []
        for spec in specs:
            self.index += 1
            out.append(self.run_one(spec))
        return out

    def run_one(self, spec: RunSpec) -> RunOutcome:
        """Train (unless complete) and analyse one run."""
        name = spec.name(self.prefix)
        started = time.perf_counter()
        budget = spec.est_seconds
        train_share = 0.7 * budget
        trained = False
        before = self.done
        self._emit("start", name, 0, spec.epochs)
        if self.force or not self.is_complete(spec):
            self._train(spec, name, train_share)
            trained = True
        else:
            _log.info("run %s is complete with the same configuration; reusing it", name)
            self._emit("skip", name)
        self.done = before + train_share
        self._emit("analyze", name)
        self.store.analyze(name, seed=spec.seed, workers=1, **spec.analyze)
        self.done = before + budget
        seconds = time.perf_counter() - started
        self._emit("done", name)
        outcome = RunOutcome(spec, name, trained, seconds)
        self.outcomes.append(outcome)
        return outcome

    def _train(self, spec: RunSpec, name: str, share: float) -> None:
        import torch

        from sparsetopo.ingest.recorder import Recorder
        from sparsetopo.training.loop import Trainer
        from sparsetopo.training.models import MLP
        from sparsetopo.training.tasks import build_task

        options = dict(spec.train)
        model_obj: torch.nn.Module | None = None
        model_name: str | None = spec.model
        if spec.mlp_hidden is not None:
            if spec.model != "mlp":
                raise InputError(f"run {name}: mlp_hidden needs model 'mlp', not {spec.model!r}")
            task = build_task(spec.task, options.get("task_options"))
            torch.manual_seed(spec.seed)
            model_obj = MLP(task.n_in, list(spec.mlp_hidden), task.n_out, spec.activation)
            model_name = None
        elif spec.rnn_nonlinearity is not None:
            if spec.model != "rnn":
                raise InputError(f"run {name}: rnn_nonlinearity needs model 'rnn'")
            from sparsetopo.training.models import RecurrentNet

            task = build_task(spec.task, options.get("task_options"))
            torch.manual_seed(spec.seed)
            model_obj = RecurrentNet("rnn", task.n_in, int(options.get("hidden", task.hidden)),
                                     task.n_out, task.output, spec.rnn_nonlinearity)
        trainer = Trainer(spec.task, model_name, spec.strategy, seed=spec.seed,
                          threads=self.threads, model_obj=model_obj, device=self.device,
                          **options)
        config = {**trainer.config, "reproduce_key": spec.key(),
                  "reproduce": json.loads(json.dumps(asdict(spec), default=str))}
        keep = set(spec.record_epochs) if spec.record_epochs is not None else None
        start = self.done
        per_epoch = share / max(trainer.epochs, 1)

        def on_epoch(epoch: int) -> None:
            self.done = start + per_epoch * epoch
            self._emit("train", name, epoch, trainer.epochs)

        with warnings.catch_warnings():
            # the MLP's forward has a shape test torch.fx cannot trace; the extractor then
            # chains its Linear layers in registration order, which is this MLP's data flow
            warnings.filterwarnings("ignore", message="torch.fx could not trace MLP")
            recorder = Recorder(trainer.model, run=name, task=spec.task, strategy=spec.strategy,
                                model_name=spec.model, config=config, replace=True,
                                database=self.store.database)
        with recorder:
            trainer.run(recorder=_Sink(recorder, keep, on_epoch))
        _log.info("trained %s", name)

    def extra(self, label: str, seconds: float) -> None:
        """Account for work outside runs (derived runs, figures) in the progress."""
        self.done += seconds
        self._emit("extra", label)
