"""The library reports progress to a callback; it never draws or prints itself."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from sparsetopo.api.analyze import run_tasks
from sparsetopo.api.executors import LocalExecutor
from sparsetopo.api.notebook import LogProgress, progress_callback
from sparsetopo.api.plan import AnalysisOptions, ProgressEvent, SnapshotTask, plan_analysis
from sparsetopo.topology import Architecture, LayerSpec


def _tasks(k: int) -> list[SnapshotTask]:
    arch = Architecture({"input": 4, "out": 3}, (LayerSpec("fc", "input", "out", 4, 3),))
    plan = plan_analysis(arch)
    rng = np.random.default_rng(0)
    out = []
    for seq in range(k):
        m = rng.normal(size=(4, 3)) * (rng.random((4, 3)) < 0.6)
        src, dst = np.nonzero(m)
        out.append(SnapshotTask(plan, AnalysisOptions(motifs=False), seq,
                                {"fc": (src.astype(np.int32), dst.astype(np.int32),
                                        m[src, dst].astype(np.float32))}))
    return out


def test_callback_gets_start_and_one_event_per_task(capsys):
    events: list[ProgressEvent] = []
    # resolved tasks read nothing: no driver
    results = run_tasks(_tasks(3), LocalExecutor(1), None, None, None,  # type: ignore[arg-type]
                        events.append, "analyze x")
    assert len(results) == 3
    assert [(e.done, e.total) for e in events] == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert {e.label for e in events} == {"analyze x"}
    assert capsys.readouterr().out == ""


def test_progress_true_outside_jupyter_logs(caplog):
    cb = progress_callback(True)
    assert isinstance(cb, LogProgress)
    with caplog.at_level(logging.INFO, logger="sparsetopo.progress"):
        for done in range(4):
            cb(ProgressEvent("analyze x", done, 3))
    assert "analyze x: 3/3" in caplog.text
    assert progress_callback(False) is None
    with pytest.raises(TypeError):
        progress_callback("yes")  # type: ignore[arg-type]
