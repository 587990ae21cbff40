"""Small helpers shared by the tests that need torch (they check for it before importing this)."""

from __future__ import annotations

from typing import Any


def tensor(module: object, name: str) -> Any:
    """A module attribute as a Tensor (torch types them as Tensor | Module)."""
    import torch

    value = getattr(module, name)
    assert isinstance(value, torch.Tensor)
    return value
