"""Small helpers shared by the ingest tests (imported by name; tests/ has no packages)."""

from __future__ import annotations

import torch


def tensor(module: object, name: str) -> torch.Tensor:
    """A module attribute as a Tensor (torch types them as Tensor | Module)."""
    value = getattr(module, name)
    assert isinstance(value, torch.Tensor)
    return value
