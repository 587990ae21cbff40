"""The transformers Trainer callback's metric names and argument checks (no server, no training)."""

from __future__ import annotations

import pytest

from tests.support.extras import requires

requires("transformers")

from sparsetopo.ingest.callbacks.huggingface import (
    SparsetopoTrainerCallback,
    metric_name,
)


def test_metric_names():
    assert metric_name("eval/accuracy") == "eval_accuracy"
    assert metric_name("step") == "train_step"
    with pytest.raises(ValueError):
        SparsetopoTrainerCallback(run="x", every_n_steps=0)
