"""Training reports progress to a callback or the log; it never prints."""

from __future__ import annotations

import logging

import pytest

pytest.importorskip("torch", reason="needs the [train] extra (pip install sparsetopo[train])")

from sparsetopo.training.loop import Trainer, TrainProgress  # noqa: E402


def _trainer() -> Trainer:
    return Trainer("digits", "mlp", "magnitude", sparsity=0.5, epochs=2, hidden=8, seed=0,
                   threads=1, device="cpu")


def test_callback_sees_every_step_and_the_checkpoints(capsys):
    events: list[TrainProgress] = []
    trainer = _trainer()
    result = trainer.run(progress=events.append)
    total = 2 * trainer.steps_per_epoch
    steps = [e.done for e in events]
    # one event before training, one per step, one after each of the 2 checkpoints
    assert len(events) == 1 + total + 2
    assert steps[0] == 0 and steps[-1] == total and steps == sorted(steps)
    assert all(e.total == total and e.metric_name == "accuracy" for e in events)
    # the last event carries the last checkpoint's figures
    assert events[-1].metric == pytest.approx(result.history["accuracy"].iloc[-1])
    assert capsys.readouterr().out == ""


def test_true_logs_about_every_tenth(caplog, capsys):
    trainer = _trainer()
    with caplog.at_level(logging.INFO, logger="sparsetopo.training.loop"):
        trainer.run(progress=True)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("training:")]
    total = 2 * trainer.steps_per_epoch
    assert 2 <= len(lines) <= 11
    assert lines[0].startswith(f"training: 0/{total} steps")
    assert lines[-1].startswith(f"training: {total}/{total} steps")
    assert capsys.readouterr().out == "" and capsys.readouterr().err == ""
