"""PyTorch Lightning integration (optional extra: ``pip install sparsetopo[lightning]``).

>>> trainer = lightning.Trainer(callbacks=[SparsetopoCallback(run="my-run")])  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

try:
    import lightning.pytorch as pl
except ImportError as exc:  # pragma: no cover - depends on the optional extra
    raise ImportError(
        "SparsetopoCallback needs PyTorch Lightning: pip install 'sparsetopo[lightning]'"
    ) from exc

from sparsetopo.ingest.recorder import Recorder


class SparsetopoCallback(pl.Callback):
    """Snapshot the LightningModule's wiring at the start of training and after every
    `every_n_epochs`-th epoch, with the logged metrics (``trainer.callback_metrics``).

    Keyword arguments other than ``run`` and ``every_n_epochs`` go to :class:`Recorder`. The
    module's ``example_input_array``, when set, is the Recorder's ``example_input``.
    The step recorded is the trainer's global step.
    """

    def __init__(self, run: str, every_n_epochs: int = 1, **recorder_options: Any) -> None:
        super().__init__()
        if every_n_epochs < 1:
            raise ValueError("every_n_epochs must be at least 1")
        self.run = run
        self.every_n_epochs = every_n_epochs
        self.recorder_options = recorder_options
        self.recorder: Recorder | None = None

    @staticmethod
    def _metrics(trainer: pl.Trainer) -> Mapping[str, float]:
        out = {}
        for key, value in trainer.callback_metrics.items():
            try:
                out[key] = float(value)
            except (TypeError, ValueError):
                continue
        return out

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.global_rank != 0:
            return
        options = dict(self.recorder_options)
        example = getattr(pl_module, "example_input_array", None)
        if example is not None:
            # Lightning's own convention for an example batch: lets torch.export trace models
            # torch.fx cannot (Hugging Face models, nn.TransformerEncoder)
            options.setdefault("example_input", example)
        self.recorder = Recorder(pl_module, run=self.run, **options)
        self.recorder.snapshot(trainer.global_step, epoch=trainer.current_epoch)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.recorder is None or (trainer.current_epoch + 1) % self.every_n_epochs:
            return
        step = max(trainer.global_step, (self.recorder.last_step or 0) + 1)
        self.recorder.snapshot(step, epoch=trainer.current_epoch + 1,
                               metrics=self._metrics(trainer))

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.recorder is not None:
            self.recorder.close()
            self.recorder = None

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                     exception: BaseException) -> None:
        if self.recorder is not None:
            self.recorder.close("failed")
            self.recorder = None
