"""PyTorch checkpoints (.pt/.pth): a state_dict, or a dict holding one under "state_dict",
"model_state_dict", "model", "net" or "network". Loaded with ``weights_only=True``.

Architecture inference from names and shapes (in state-dict order):

* ``<m>.weight_ih_l{k}`` / ``<m>.weight_hh_l{k}``: RNN (1 gate), GRU (3: r, z, n) or LSTM
  (4: i, f, g, o), told apart by weight_hh's rows / columns.
* other 2-D ``*.weight``: linear layers chained in order; group = module prefix, the first
  layer reads ``"input"``. A linear layer reading an RNN's hidden group is a "readout".
* 3-D/4-D ``*.weight``: Conv1d/Conv2d, reduced to channel matrices (groups=1 assumed).
* prune buffers ``X_orig`` + ``X_mask`` are multiplied; ``mapping`` overrides inference.

>>> import tempfile, pathlib, torch
>>> p = pathlib.Path(tempfile.mkdtemp()) / "ckpt_epoch3.pt"
>>> torch.save({"model_state_dict": torch.nn.Linear(2, 3).state_dict()}, p)
>>> arch, layers, dropped = read_checkpoint(p)
>>> [(s.name, s.src_group, s.dst_group) for s in arch.layers]
[('weight', 'input', 'output')]
"""

from __future__ import annotations

import pickle
import re
import struct
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sparsetopo.errors import MissingExtraError

try:
    import torch
except ImportError as exc:  # torch is the optional [train] extra
    raise MissingExtraError("torch", "train", "reading .pt checkpoints") from exc

from sparsetopo.errors import InputError
from sparsetopo.ingest.extract import (
    GATES_BY_COUNT,
    ArchBuilder,
    MatrixRecipe,
    add_rnn_layers,
    as_float32_weights,
    matrix_edges,
    parse_mapping_entry,
    tensor_to_matrix,
)
from sparsetopo.ingest.formats.statedict_rules import (
    add_transformer,
    find_attention,
    is_position_embedding,
    is_token_embedding,
)
from sparsetopo.topology import Architecture, LayerEdges, LayerSpec

#: a module name ending like an embedding's, but neither a token nor a position table by name
_EMBEDDING_LIKE = re.compile(r"(emb|embed|embeds|embedding|embeddings)$", re.IGNORECASE)
STATE_KEYS = ("state_dict", "model_state_dict", "model", "net", "network")
_RNN_KEY = re.compile(
    r"^(?:(?P<prefix>.*)\.)?weight_(?P<which>ih|hh)_l(?P<k>\d+)(?P<rev>_reverse)?$"
)


def load_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Tensors of a checkpoint, in stored order. InputError for unreadable files."""
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, AttributeError, TypeError) as exc:
        raise InputError(
            f"{path}: refused by torch.load(weights_only=True): {_short_reason(exc)}. Save only "
            "tensors, e.g. torch.save({'state_dict': model.state_dict()}, path)."
        ) from exc
    except (RuntimeError, OSError, EOFError, ValueError, zipfile.BadZipFile, KeyError,
            IndexError, struct.error, UnicodeDecodeError, MemoryError) as exc:
        # a file that is not a checkpoint makes the unpickler fail in many ways
        raise InputError(
            f"{path}: not a readable PyTorch checkpoint ({type(exc).__name__}: {exc}); the "
            "file may be truncated or corrupt. Re-save it with torch.save."
        ) from exc
    state = _find_state(obj)
    if state is None:
        keys = ", ".join(map(str, obj)) if isinstance(obj, Mapping) else type(obj).__name__
        raise InputError(
            f"{path}: no state_dict found (top level: {keys}); expected a state_dict or a dict "
            f"with one under {', '.join(STATE_KEYS)}."
        )
    return state


def _short_reason(exc: BaseException) -> str:
    """torch's refusal message is a page long; keep the part that names the culprit."""
    text = str(exc)
    m = re.search(r"Unsupported global: GLOBAL (\S+)", text)
    if m:
        return f"it holds a pickled object of type {m.group(1)}"
    first = re.sub(r"\x1b\[[0-9;]*m", "", text).strip().splitlines()
    return first[0][:200] if first else type(exc).__name__


def _find_state(obj: Any) -> dict[str, torch.Tensor] | None:
    if isinstance(obj, Mapping):
        tensors = {str(k): v for k, v in obj.items() if isinstance(v, torch.Tensor)}
        if tensors and len(tensors) == len(obj):
            return tensors
        for key in STATE_KEYS:
            if key in obj:
                found = _find_state(obj[key])
                if found is not None:
                    return found
        if tensors:
            return tensors
    return None


def effective_tensors(state: Mapping[str, torch.Tensor], path: Path) -> dict[str, torch.Tensor]:
    """Fold prune buffers (X_orig * X_mask -> X); refuse parametrizations (their function is
    not in the file)."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if ".parametrizations." in key:
            raise InputError(
                f"{path}: {key!r} belongs to a torch.nn.utils.parametrize parametrization, "
                "whose function is not stored in a checkpoint. Call "
                "parametrize.remove_parametrizations(...) before saving, or snapshot the live "
                "model with ModelGraph."
            )
        if key.endswith("_mask") and key[: -len("_mask")] + "_orig" in state:
            continue
        if key.endswith("_orig") and key[: -len("_orig")] + "_mask" in state:
            base = key[: -len("_orig")]
            mask = state[base + "_mask"]
            if mask.shape != value.shape:
                raise InputError(
                    f"{path}: {base}_mask has shape {tuple(mask.shape)} but {key} has "
                    f"{tuple(value.shape)}."
                )
            out[base] = value * mask
            continue
        out[key] = value
    return out


def infer_architecture(
    tensors: Mapping[str, torch.Tensor], path: Path, mapping: Mapping[str, Any] | None = None
) -> tuple[Architecture, dict[str, MatrixRecipe]]:
    builder = ArchBuilder()
    if mapping:
        _mapped(builder, tensors, mapping, path)
    else:
        _inferred(builder, tensors, path)
    if not builder.layers:
        raise InputError(
            f"{path}: no weight matrices found (tensors: {', '.join(tensors)}); pass "
            "mapping={'param.name': ('src_group', 'dst_group')}."
        )
    return builder.build()


def _mapped(
    builder: ArchBuilder,
    tensors: Mapping[str, torch.Tensor],
    mapping: Mapping[str, Any],
    path: Path,
) -> None:
    for param, target in mapping.items():
        if param not in tensors:
            raise InputError(
                f"{path}: mapping names {param!r}, which the checkpoint does not hold. It has: "
                f"{', '.join(tensors)}"
            )
        src, dst, kind, layout = parse_mapping_entry(param, target)
        t = tensors[param]
        if t.dim() == 1:
            how, n_in, n_out = "vector", 1, int(t.shape[0])
        elif t.dim() == 2:
            how, n_out, n_in = layout, int(t.shape[0]), int(t.shape[1])
            if layout == "in_out":
                n_in, n_out = n_out, n_in
        elif t.dim() in (3, 4):
            how, n_out, n_in = "conv", int(t.shape[0]), int(t.shape[1])
        else:
            raise InputError(f"{path}: {param!r} has shape {tuple(t.shape)}; cannot map it.")
        builder.add(LayerSpec(param, src, dst, n_in, n_out, kind), MatrixRecipe(param, how))


def _same_tensor(tensors: Mapping[str, torch.Tensor]) -> Any:
    def same(a: str, b: str) -> bool:
        x, y = tensors[a], tensors[b]
        return x.shape == y.shape and (x.data_ptr() == y.data_ptr() or bool(torch.equal(x, y)))

    return same


def _check_embedding_names(shapes: Mapping[str, tuple[int, ...]], path: Path) -> None:
    for key, shape in shapes.items():
        leaf = key[: -len(".weight")].rsplit(".", 1)[-1] if key.endswith(".weight") else ""
        if (len(shape) == 2 and _EMBEDDING_LIKE.search(leaf) and not is_token_embedding(key, shape)
                and not is_position_embedding(key, shape)):
            raise InputError(
                f"{path}: {key!r} looks like an embedding, but its name does not tell a token "
                "embedding (word_embeddings, wte, embed_tokens, emb) from a position or "
                "token-type table (no edges); record the live model through the Recorder "
                "(ModelGraph), or pass mapping={...}."
            )


def _inferred(builder: ArchBuilder, tensors: Mapping[str, torch.Tensor], path: Path) -> None:
    shapes = {k: tuple(int(x) for x in t.shape) for k, t in tensors.items()}
    _check_embedding_names(shapes, path)
    plan = find_attention(shapes, path)
    if plan.attention:
        add_transformer(builder, shapes, path, plan, _same_tensor(tensors))
        return
    same = _same_tensor(tensors)
    embeddings: list[str] = []
    group = "input"
    rnn_groups: set[str] = set()
    done_rnn: set[str] = set()
    for key, t in tensors.items():
        m = _RNN_KEY.match(key)
        if m:
            if m.group("rev"):
                raise InputError(
                    f"{path}: {key!r} is a bidirectional RNN weight, which is not inferred "
                    "automatically; pass mapping={...}."
                )
            prefix = m.group("prefix") or ""
            if prefix in done_rnn:
                continue
            done_rnn.add(prefix)
            group = _add_rnn(builder, tensors, prefix, group, path)
            rnn_groups.add(group)
            continue
        if not key.endswith("weight") or t.dim() < 2 or is_position_embedding(key, shapes[key]):
            continue
        prefix = key[: -len("weight")].rstrip(".")
        name = prefix or "output"
        if t.dim() == 2 and is_token_embedding(key, shapes[key]):
            vocab, dim = shapes[key]
            builder.add(LayerSpec(key, "input", name, vocab, dim, "embedding"),
                        MatrixRecipe(key, "in_out"))
            embeddings.append(key)
        elif t.dim() == 2:
            n_out, n_in = int(t.shape[0]), int(t.shape[1])
            src = builder.consume(group, n_in, f"{name}.input")
            kind = "readout" if builder.find(src) in rnn_groups else "linear"
            tied = next((e for e in embeddings if same(e, key)), None)
            builder.add(LayerSpec(key, src, name, n_in, n_out, kind, tied_to=tied),
                        MatrixRecipe(key))
        elif t.dim() in (3, 4):
            n_out, n_in = int(t.shape[0]), int(t.shape[1])
            src = builder.consume(group, n_in, f"{name}.input")
            builder.add(LayerSpec(key, src, name, n_in, n_out, "conv"), MatrixRecipe(key, "conv"))
        else:
            continue
        group = name


def _add_rnn(
    builder: ArchBuilder, tensors: Mapping[str, torch.Tensor], prefix: str, src: str, path: Path
) -> str:
    pre = f"{prefix}." if prefix else ""
    shapes = []
    k = 0
    while f"{pre}weight_ih_l{k}" in tensors or f"{pre}weight_hh_l{k}" in tensors:
        ih, hh = tensors.get(f"{pre}weight_ih_l{k}"), tensors.get(f"{pre}weight_hh_l{k}")
        if ih is None or hh is None or ih.dim() != 2 or hh.dim() != 2:
            raise InputError(
                f"{path}: {pre}weight_ih_l{k} and {pre}weight_hh_l{k} must both be 2-D tensors."
            )
        shapes.append(((int(ih.shape[0]), int(ih.shape[1])), (int(hh.shape[0]), int(hh.shape[1]))))
        k += 1
    rows, hidden = shapes[0][1]
    gates = GATES_BY_COUNT.get(rows // hidden) if hidden and rows % hidden == 0 else None
    if gates is None:
        raise InputError(
            f"{path}: {pre}weight_hh_l0 has shape ({rows}, {hidden}); expected 1, 3 or 4 gates "
            "(RNN, GRU, LSTM) stacked on rows. Pass mapping={...} for other cells."
        )
    return add_rnn_layers(builder, prefix, gates, shapes, src, prefix or "hidden")


def read_checkpoint(
    path: Path, mapping: Mapping[str, Any] | None = None, allow_nonfinite: bool = False
) -> tuple[Architecture, dict[str, LayerEdges], int]:
    """One snapshot from one checkpoint file."""
    tensors = effective_tensors(load_state_dict(path), path)
    arch, recipes = infer_architecture(tensors, path, mapping)
    layers: dict[str, LayerEdges] = {}
    dropped = 0
    for spec in arch.layers:
        param = recipes[spec.name].param
        tensor = tensors[param]
        if tensor.is_complex():
            raise InputError(
                f"{path}: {param} holds complex weights ({tensor.dtype}); sparsetopo stores real "
                "signed weights. Save the real part explicitly (tensor.real)."
            )
        if tensor.dtype == torch.float64:
            as_float32_weights(tensor.detach().numpy().reshape(tensor.shape[0], -1),
                               f"{path} ({param})")
        matrix = tensor_to_matrix(tensors[recipes[spec.name].param], recipes[spec.name])
        layers[spec.name], bad = matrix_edges(matrix, allow_nonfinite, f"{path} ({spec.name})")
        dropped += bad
    return arch, layers, dropped
