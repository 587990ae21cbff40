"""The ingest tests draw their random weights from torch's global generator: seed it per test."""

from __future__ import annotations

import sys

import pytest


@pytest.fixture(autouse=True)
def _seeded_torch() -> None:
    torch = sys.modules.get("torch")  # imported by the test module when it needs it
    if torch is not None:
        torch.manual_seed(0)
