"""Shared fixtures for ingest unit tests (no database)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

ZHANG = Path(__file__).resolve().parents[2] / "data" / "zhang2023-sparse-rnn" / "MNIST"


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    # other suites run concurrently on two cores
    torch.set_num_threads(1)
    torch.manual_seed(0)


@pytest.fixture
def zhang_dir() -> Path:
    return ZHANG / "pruning_n_150_p_0.05"
