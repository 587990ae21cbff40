"""The training loop: a task, a model and a sparsification strategy, with a snapshot at every
checkpoint.

Checkpoints are the state after attaching the strategy (epoch 0, before any optimizer step),
after every ``snapshot_every`` epochs, and after the last epoch. At each one the loop evaluates
the test set and hands the model to ``recorder.snapshot(step, epoch=..., metrics=...)`` with the
metrics ``loss`` (mean training loss of the epoch; absent at epoch 0), ``test_loss``, the task
metric under its name (e.g. ``accuracy``), ``sparsity`` and ``n_edges`` (of the sparsified
matrices). Optimizer: Adam; gradients are clipped to norm ``clip``.

Python API::

    from sparsetopo.training.loop import train
    result = train("seq-digits", "rnn", "gradual", sparsity=0.9, epochs=20, snapshot_every=1)
    result.history          # pandas DataFrame, one row per checkpoint
    result.final_metric     # test accuracy for seq-digits

Devices: ``device="auto"`` (CUDA when available, else CPU), ``"cpu"`` or ``"cuda"``. The model,
its masks and the strategy's buffers live on the device and every batch is moved there; the
Recorder copies weights to the CPU for the graph snapshots.

Own model, data and loss: ``train(None, None, "set", model_obj=net, data=(train_loader,
test_loader), loss_fn=torch.nn.functional.cross_entropy, metric_fn=..., metric_name=...)``.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd
import torch
from torch import nn

from sparsetopo.errors import InputError
from sparsetopo.training.models import (
    MODEL_NAMES,
    RECURRENT_MODELS,
    build_model,
    check_name,
    sparsifiable,
)
from sparsetopo.training.sparsify import STRATEGY_NAMES, Strategy, TrainingPlan, build_strategy
from sparsetopo.training.sparsify.base import refresh
from sparsetopo.training.tasks import TASK_NAMES, Task, build_task

Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
MetricFn = Callable[[torch.Tensor, torch.Tensor], float]

logger = logging.getLogger(__name__)


class SnapshotSink(Protocol):
    """Anything with the Recorder's ``snapshot`` method."""

    def snapshot(
        self, step: int, epoch: int | None = None, metrics: dict[str, float] | None = None
    ) -> Any: ...


@dataclass
class TrainResult:
    """Outcome of :func:`train`: the trained model (masks still attached), the strategy, one
    history row per checkpoint and the final test metric."""

    model: nn.Module
    strategy: Strategy
    history: pd.DataFrame
    metric_name: str
    final_metric: float
    final_sparsity: float
    seconds: float
    config: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary (what ``sparsetopo train --json`` prints)."""
        return {
            **self.config,
            "metric_name": self.metric_name,
            "final_metric": self.final_metric,
            "final_sparsity": self.final_sparsity,
            "n_edges": self.strategy.n_edges(),
            "n_weights": self.strategy.n_weights(),
            "checkpoints": len(self.history),
            "seconds": round(self.seconds, 3),
        }


DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``auto`` (or None) -> CUDA when available, else CPU; ``cpu``; ``cuda`` (checked).

    Raises
    ------
    InputError
        For an unknown name, or ``cuda`` on a machine without a CUDA device.
    """
    if isinstance(device, torch.device):
        return device
    name = (device or "auto").lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise InputError(f"--device {name}: no CUDA device found; use --device auto or cpu")
        return torch.device(name)
    if name == "cpu":
        return torch.device("cpu")
    raise InputError(f"unknown device {device!r}; use one of {', '.join(DEVICES)}")


def _evaluate(
    model: nn.Module, batches: Batches, loss_fn: LossFn, metric_fn: MetricFn,
    device: torch.device | None = None,
) -> tuple[float, float]:
    model.eval()
    outs, ys = [], []
    with torch.no_grad():
        for x, y in batches:
            if device is not None:
                x, y = x.to(device), y.to(device)
            outs.append(model(x))
            ys.append(y)
    model.train()
    if not outs:
        raise InputError("the evaluation data is empty; pass a non-empty test loader")
    out, y = torch.cat(outs), torch.cat(ys)
    return float(loss_fn(out, y)), float(metric_fn(out, y))


def _resolve_model(
    task: Task | None, model: str | None, model_obj: nn.Module | None, hidden: int,
    sample_x: torch.Tensor,
) -> tuple[nn.Module, str]:
    if model_obj is not None:
        return model_obj, model or type(model_obj).__name__
    if task is None:
        raise InputError("without a task, pass your own model as model_obj=")
    name = check_name("model", model or task.default_model, MODEL_NAMES)
    if name in RECURRENT_MODELS and sample_x.dim() != 3:
        raise InputError(
            f"task {task.name!r} gives flat vectors, which model {name!r} cannot read; use mlp, "
            "or a sequential task such as seq-digits"
        )
    n_in = int(sample_x[0].numel()) if name == "mlp" else int(sample_x.shape[-1])
    return build_model(name, n_in, hidden, task.n_out, task.output), name


class Trainer:
    """A prepared training run: data loaded, model built, strategy attached (so ``model`` already
    carries its masks and can be handed to a Recorder before :meth:`run`).

    Arguments are those of :func:`train`, without ``recorder`` and ``progress``.
    """

    def __init__(
        self,
        task: str | None = "seq-digits",
        model: str | None = None,
        strategy: str = "gradual",
        *,
        sparsity: float = 0.9,
        epochs: int | None = None,
        snapshot_every: int = 1,
        seed: int = 0,
        lr: float | None = None,
        hidden: int | None = None,
        batch_size: int | None = None,
        scope: str | None = None,
        clip: float = 1.0,
        strategy_options: dict[str, Any] | None = None,
        task_options: dict[str, Any] | None = None,
        model_obj: nn.Module | None = None,
        data: tuple[Batches, Batches] | None = None,
        loss_fn: LossFn | None = None,
        metric_fn: MetricFn | None = None,
        metric_name: str | None = None,
        higher_is_better: bool | None = None,
        threads: int | None = None,
        device: str | torch.device | None = None,
    ) -> None:
        self.started = time.perf_counter()
        self.device = resolve_device(device)
        if threads is not None and threads < 1:
            raise InputError(f"threads must be >= 1, got {threads}")
        # these models are small: one intra-op thread is usually fastest, and much faster than
        # two when other processes share the two cores. Applied only while run() trains, and
        # restored after, so that building a Trainer changes no global torch state.
        self.threads = threads
        if task is not None:
            check_name("task", task, TASK_NAMES)
        check_name("strategy", strategy, STRATEGY_NAMES)
        task_obj = build_task(task, task_options) if task is not None else None
        if task_obj is None and (data is None or loss_fn is None or model_obj is None):
            raise InputError(
                "without a built-in task pass model_obj=, data=(train, test) and loss_fn=; "
                f"or use one of the tasks: {', '.join(TASK_NAMES)}"
            )
        n_epochs = epochs if epochs is not None else (task_obj.epochs if task_obj else 10)
        if n_epochs < 1 or snapshot_every < 1:
            raise InputError(
                f"epochs and snapshot_every must be >= 1 (got {n_epochs}, {snapshot_every})"
            )
        hidden_size = hidden if hidden is not None else (task_obj.hidden if task_obj else 64)
        rate = lr if lr is not None else (task_obj.lr if task_obj else 1e-3)
        bs = batch_size if batch_size is not None else (task_obj.batch_size if task_obj else 32)
        if rate <= 0 or bs < 1:
            raise InputError(f"lr must be > 0 and batch_size >= 1 (got {rate}, {bs})")

        torch.manual_seed(seed)
        if data is not None:
            self.train_batches, self.test_batches = data
        else:
            assert task_obj is not None
            self.train_batches, self.test_batches = task_obj.data(seed).loaders(bs, seed)
        sample_x = next(iter(self.train_batches))[0]
        self.model, model_label = _resolve_model(task_obj, model, model_obj, hidden_size, sample_x)
        # before the strategy attaches: masks and regulariser buffers follow the weights
        self.model.to(self.device)

        loss = loss_fn or (task_obj.loss if task_obj else None)
        assert loss is not None
        self.loss: LossFn = loss
        task_metric = task_obj is not None and metric_fn is None and loss_fn is None
        metric: MetricFn | None = task_obj.score if task_obj is not None and task_metric else metric_fn
        if metric is None:
            metric = lambda out, y: float(loss(out, y))  # noqa: E731
        self.metric: MetricFn = metric
        default_name = task_obj.metric if task_obj is not None and task_metric else "loss"
        self.metric_name = metric_name or default_name
        if higher_is_better is None:
            higher_is_better = bool(task_obj.higher_is_better) if task_obj and task_metric else False
        self.higher_is_better = higher_is_better

        self.steps_per_epoch = sum(1 for _ in self.train_batches)
        self.epochs, self.snapshot_every, self.clip = n_epochs, snapshot_every, clip
        plan = TrainingPlan(epochs=n_epochs, steps_per_epoch=self.steps_per_epoch, lr=rate)
        self.strategy = build_strategy(strategy, sparsity, seed=seed, options=strategy_options)
        self.targets = sparsifiable(self.model, scope)
        self.strategy.attach(self.targets, plan)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=rate)
        self.config: dict[str, Any] = {
            "task": task, "model": model_label, "strategy": strategy, "sparsity": sparsity,
            "epochs": n_epochs, "snapshot_every": snapshot_every, "seed": seed, "lr": rate,
            "hidden": hidden_size, "batch_size": bs, "scope": scope or "default",
            "sparsified": [t.label for t in self.targets],
            "strategy_options": strategy_options or {}, "task_options": task_options or {},
            "metric": self.metric_name, "higher_is_better": self.higher_is_better,
            "device": self.device.type,
        }
        self.step = 0
        self.rows: list[dict[str, Any]] = []

    def checkpoint(
        self, epoch: int, train_loss: float | None, recorder: SnapshotSink | None
    ) -> dict[str, float]:
        """Evaluate, record a history row and hand the model to ``recorder``."""
        test_loss, value = _evaluate(self.model, self.test_batches, self.loss, self.metric,
                                     self.device)
        for t in self.targets:
            refresh(t)
        metrics = {
            "test_loss": test_loss, self.metric_name: value,
            "sparsity": self.strategy.sparsity(), "n_edges": float(self.strategy.n_edges()),
        }
        if train_loss is not None:
            metrics = {"loss": train_loss, **metrics}
        self.rows.append({"step": self.step, "epoch": epoch, **metrics})
        if recorder is not None:
            # The store computes graph-wide sparsity and n_edges itself (over every recorded
            # layer); the strategy's own figure covers only the matrices it sparsifies.
            stored = {k: v for k, v in metrics.items() if k not in ("sparsity", "n_edges")}
            stored["strategy_sparsity"] = metrics["sparsity"]
            recorder.snapshot(self.step, epoch=epoch, metrics=stored)
        return metrics

    def run(self, recorder: SnapshotSink | None = None,
            progress: bool | TrainProgressCallback = False) -> TrainResult:
        """Train for the configured epochs, snapshotting every checkpoint. Call once.

        ``progress``: a callable receiving :class:`TrainProgress` events, True for log lines
        (INFO, every tenth of the steps) or False.
        """
        if self.rows:
            raise InputError("this Trainer has already run; create a new one")
        net, strat, mname = self.model, self.strategy, self.metric_name
        bar = _Reporter(progress, self.epochs * self.steps_per_epoch, mname)
        with _torch_threads(self.threads):
            last = self.checkpoint(0, None, recorder)
            bar.update(0, last["test_loss"], last[mname], last["sparsity"])
            net.train()
            for epoch in range(1, self.epochs + 1):
                total, count = 0.0, 0
                for x, y in self.train_batches:
                    x, y = x.to(self.device), y.to(self.device)
                    self.optimizer.zero_grad(set_to_none=True)
                    batch_loss = self.loss(net(x), y)
                    penalty = strat.penalty()
                    objective = batch_loss + penalty if penalty is not None else batch_loss
                    if not torch.isfinite(objective):
                        raise InputError(
                            f"the loss became {objective.item()} at step {self.step + 1}; lower "
                            "the learning rate (--lr) or the strategy's regularisation"
                        )
                    objective.backward()
                    if self.clip > 0:
                        nn.utils.clip_grad_norm_(net.parameters(), self.clip)
                    self.optimizer.step()
                    self.step += 1
                    strat.after_step(self.step)
                    total += batch_loss.item() * len(x)
                    count += len(x)
                    bar.update(1, total / count, last[mname], strat.sparsity())
                strat.on_epoch_end(epoch)
                if epoch % self.snapshot_every == 0 or epoch == self.epochs:
                    last = self.checkpoint(epoch, total / max(count, 1), recorder)
                    bar.update(0, total / max(count, 1), last[mname], last["sparsity"])
        history = pd.DataFrame(self.rows)
        return TrainResult(
            model=net, strategy=strat, history=history, metric_name=mname,
            final_metric=float(history[mname].iloc[-1]), final_sparsity=strat.sparsity(),
            seconds=time.perf_counter() - self.started, config=self.config,
        )


@contextlib.contextmanager
def _torch_threads(threads: int | None) -> Iterator[None]:
    """Use ``threads`` intra-op threads inside the block, and restore torch's setting after."""
    if threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def train(
    task: str | None = "seq-digits",
    model: str | None = None,
    strategy: str = "gradual",
    *,
    recorder: SnapshotSink | None = None,
    progress: bool | TrainProgressCallback = False,
    **options: Any,
) -> TrainResult:
    """Train ``model`` on ``task`` while ``strategy`` sparsifies it; snapshot every checkpoint.

    task / model / strategy: registry names (tasks: digits, seq-digits, adding, mackey-glass,
    navigation, inverse-control; models: mlp, rnn, ctrnn, gru, lstm, default = the task's;
    strategies: magnitude, iterative, gradual, narang, set, deepr, moduli, balanced, dense).

    Keyword options (see :class:`Trainer`): ``sparsity`` (0.9; target fraction of zero weights
    among the sparsified matrices), ``epochs``, ``snapshot_every`` (1), ``seed`` (0), ``lr``,
    ``hidden``, ``batch_size`` (task defaults), ``scope`` ("recurrent" = the recurrent matrix,
    default for recurrent models; "all" = every weight matrix, default for the MLP), ``clip``
    (gradient norm, 1.0; 0 disables), ``strategy_options`` / ``task_options`` (dicts),
    ``model_obj`` / ``data`` = (train, test) batches / ``loss_fn`` / ``metric_fn`` /
    ``metric_name`` / ``higher_is_better`` to bring your own model, data, loss and metric;
    ``threads`` (None = leave torch's setting; 1 is fastest for the built-in sizes); ``device``
    ("auto", "cpu" or "cuda"; default auto).

    recorder: optional object with ``snapshot(step, epoch=, metrics=)`` (the Neo4j Recorder);
    progress: a callable receiving :class:`TrainProgress` events (``sparsetopo train`` draws a
    bar with them), True for log lines (INFO) or False.
    """
    return Trainer(task, model, strategy, **options).run(recorder=recorder, progress=progress)


@dataclass(frozen=True)
class TrainProgress:
    """Progress of a training run, sent to a progress callback.

    ``done`` of ``total`` optimiser steps are taken; ``loss`` is the running training loss of
    the epoch, ``metric`` the task metric (called ``metric_name``) at the last checkpoint and
    ``sparsity`` the strategy's current fraction of zero weights.
    """

    done: int
    total: int
    loss: float
    metric: float
    sparsity: float
    metric_name: str


#: A callable receiving every :class:`TrainProgress` (the CLI draws a bar with it).
TrainProgressCallback = Callable[[TrainProgress], None]


class _Reporter:
    """Send training progress to a callback, to the log (``True``, every tenth), or nowhere."""

    def __init__(self, progress: bool | TrainProgressCallback, total: int,
                 metric_name: str) -> None:
        self.callback = progress if callable(progress) else None
        self.log = progress is True
        self.total, self.metric_name, self.done, self._logged = total, metric_name, 0, -1

    def update(self, advance: int, loss: float, metric: float, sparsity: float) -> None:
        self.done += advance
        event = TrainProgress(self.done, self.total, loss, metric, sparsity, self.metric_name)
        if self.callback is not None:
            self.callback(event)
        elif self.log:
            tenth = 10 * self.done // max(self.total, 1)
            if tenth != self._logged:
                self._logged = tenth
                logger.info("training: %d/%d steps, loss %.4f, %s %.4f, sparsity %.3f",
                            self.done, self.total, loss, self.metric_name, metric, sparsity)
