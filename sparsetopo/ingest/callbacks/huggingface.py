"""Hugging Face ``transformers`` integration (optional extra: ``pip install
'sparsetopo[huggingface]'``).

>>> from transformers import Trainer                                         # doctest: +SKIP
>>> trainer = Trainer(model=model, args=args, train_dataset=data,            # doctest: +SKIP
...                   callbacks=[SparsetopoTrainerCallback(run="my-run")])
>>> trainer.train()                                                          # doctest: +SKIP
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

try:
    from transformers import TrainerCallback
except ImportError as exc:  # pragma: no cover - depends on the optional extra
    raise ImportError(
        "SparsetopoTrainerCallback needs transformers: pip install 'sparsetopo[huggingface]'"
    ) from exc

from sparsetopo.graphstore.runs import RESERVED
from sparsetopo.ingest.recorder import Recorder

_BAD = re.compile(r"[^A-Za-z0-9_]+")


def metric_name(key: str) -> str:
    """A Trainer log key as a snapshot property name: ``eval/loss`` -> ``eval_loss``; names
    sparsetopo reserves (``epoch``, ``step``, ...) get a ``train_`` prefix.

    >>> metric_name("eval/loss"), metric_name("epoch")
    ('eval_loss', 'train_epoch')
    """
    name = _BAD.sub("_", str(key)).strip("_") or "metric"
    return f"train_{name}" if name in RESERVED else name


class SparsetopoTrainerCallback(TrainerCallback):  # type: ignore[misc]
    """Snapshot a ``transformers.Trainer``'s model into a sparsetopo run.

    A snapshot is taken when training starts (step 0), then every ``every_n_steps`` optimizer
    steps when given, else at the end of every ``every_n_epochs``-th epoch, with the latest logged
    values (loss, learning rate, evaluation metrics) as snapshot metrics. The step recorded is
    the Trainer's ``global_step``. Only the main process records.

    Parameters
    ----------
    run : str
        Run name (see :class:`~sparsetopo.ingest.recorder.Recorder`).
    every_n_epochs : int
        Snapshot after every n-th epoch (ignored when ``every_n_steps`` is set).
    every_n_steps : int, optional
        Snapshot every n optimizer steps instead.
    **recorder_options
        Passed to :class:`~sparsetopo.ingest.recorder.Recorder` (``task``, ``strategy``,
        ``mapping``, ``connection``, ...).

    Raises
    ------
    ValueError
        When ``every_n_epochs`` or ``every_n_steps`` is below 1.

    Examples
    --------
    >>> cb = SparsetopoTrainerCallback(run="tiny-hf", every_n_steps=10, task="toy")  # doctest: +SKIP
    """

    def __init__(self, run: str, every_n_epochs: int = 1, every_n_steps: int | None = None,
                 **recorder_options: Any) -> None:
        if every_n_epochs < 1:
            raise ValueError("every_n_epochs must be at least 1")
        if every_n_steps is not None and every_n_steps < 1:
            raise ValueError("every_n_steps must be at least 1")
        self.run = run
        self.every_n_epochs = every_n_epochs
        self.every_n_steps = every_n_steps
        self.recorder_options = recorder_options
        self.recorder: Recorder | None = None
        self._metrics: dict[str, float] = {}
        self._epochs_done = 0

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None,
                       **kwargs: Any) -> None:
        if not state.is_world_process_zero or model is None:
            return
        options = dict(self.recorder_options)
        options.setdefault("model_name", type(model).__name__)
        self.recorder = Recorder(model, run=self.run, **options)
        self._snapshot(state, epoch=0)

    def on_log(self, args: Any, state: Any, control: Any, logs: Mapping[str, Any] | None = None,
               **kwargs: Any) -> None:
        for key, value in (logs or {}).items():
            try:
                number = float(value)
            except (TypeError, ValueError):
                continue
            if math.isfinite(number) or key.endswith("loss"):
                self._metrics[metric_name(key)] = number

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.recorder is not None and self.every_n_steps and \
                state.global_step % self.every_n_steps == 0:
            self._snapshot(state, epoch=self._epochs_done)

    def on_epoch_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._epochs_done += 1
        if self.recorder is None or self.every_n_steps or self._epochs_done % self.every_n_epochs:
            return
        self._snapshot(state, epoch=self._epochs_done)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.recorder is not None:
            self.recorder.close()
            self.recorder = None

    def _snapshot(self, state: Any, epoch: int) -> None:
        assert self.recorder is not None
        last = self.recorder.last_step
        step = int(state.global_step)
        if last is not None and step <= last:
            return  # already recorded at this step (e.g. an epoch ending on a step snapshot)
        self.recorder.snapshot(step, epoch=epoch, metrics=dict(self._metrics))
