"""Paths of the test data shipped in ``tests/data``."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"
#: The Zhang et al. 2023 sparse-RNN edge lists (MNIST; one folder per training run).
ZHANG = DATA / "zhang2023-sparse-rnn" / "MNIST"
