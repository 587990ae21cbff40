"""safetensors checkpoints (``model.safetensors``, as written by Hugging Face ``save_pretrained``
or ``safetensors.torch.save_file``): the tensors are read without pickle and go through the same
architecture inference as .pt state dicts (:mod:`sparsetopo.ingest.formats.torch_ckpt`).

A safetensors file keeps no module order, so tensors are taken in natural name order
(``layers.2`` before ``layers.10``); pass ``mapping`` when that is not the data flow.
Half-precision tensors (float16, bfloat16) are widened to float32.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sparsetopo.errors import InputError, MissingExtraError
from sparsetopo.topology import Architecture, LayerEdges

try:
    import torch
    from safetensors import SafetensorError
    from safetensors.torch import load_file
except ImportError as exc:  # the optional [safetensors] extra (and torch)
    raise MissingExtraError("safetensors", "safetensors", "reading .safetensors checkpoints") from exc

from sparsetopo.ingest.extract import matrix_edges, tensor_to_matrix
from sparsetopo.ingest.formats.torch_ckpt import effective_tensors, infer_architecture


def _natural(key: str) -> list[Any]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", key)]


def load_safetensors(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a .safetensors file in natural name order; InputError when unreadable."""
    try:
        raw = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise InputError(
            f"{path}: not a readable safetensors file ({type(exc).__name__}: {exc}); the file "
            "may be truncated or corrupt. Re-save it with safetensors.torch.save_file."
        ) from exc
    out = {}
    for key in sorted(raw, key=_natural):
        t = raw[key]
        out[key] = t.float() if t.is_floating_point() and t.dtype != torch.float64 else t
    return out


def read_safetensors(
    path: Path, mapping: Mapping[str, Any] | None = None, allow_nonfinite: bool = False
) -> tuple[Architecture, dict[str, LayerEdges], int]:
    """One snapshot from one .safetensors file: (architecture, edges per layer, dropped)."""
    tensors = effective_tensors(load_safetensors(path), path)
    arch, recipes = infer_architecture(tensors, path, mapping)
    layers: dict[str, LayerEdges] = {}
    dropped = 0
    for spec in arch.layers:
        matrix = tensor_to_matrix(tensors[recipes[spec.name].param], recipes[spec.name])
        layers[spec.name], bad = matrix_edges(matrix, allow_nonfinite, f"{path} ({spec.name})")
        dropped += bad
    return arch, layers, dropped
