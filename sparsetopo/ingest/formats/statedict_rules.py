"""The graph rules of docs/ingest-formats.md applied to a state dict, from names and shapes only.

A checkpoint holds no forward pass, so the rules that :class:`~sparsetopo.ingest.extract.ModelGraph`
reads off the traced graph are derived here from parameter names (the conventions of torch.nn
and Hugging Face) and shapes; what cannot be derived is an :class:`InputError` naming the file,
the parameter and the fix (record the live model through the Recorder, or ``mapping=``).

* token embeddings (``word_embeddings``, ``wte``, ``embed_tokens``, ``emb``, ...): one unit per
  vocabulary entry (group ``input``) to the embedding group, stored (vocab, dim);
* position / token-type embeddings (``position_embeddings``, ``wpe``, ``token_type_embeddings``,
  ...) and vectors (biases, norm scales): no edges;
* attention (a block holding q/k/v projections, a packed ``in_proj_weight`` or a GPT-2
  ``c_attn`` stored (in, 3 * out)): q, k, v read the residual stream, the output projection reads
  v and writes the stream; the block's other matrices are told apart by their widths: those
  reading the stream's width start the MLP (two of one width, gate and up, write one group), the
  one writing it back reads their group;
* heads outside the blocks read the stream, or the head stored just before them when their
  input width is that head's output width (pooler -> classifier); a head equal entry for entry
  to a token embedding is tied to it (``tied_to``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sparsetopo.errors import InputError
from sparsetopo.ingest.extract import ArchBuilder, MatrixRecipe
from sparsetopo.topology import LayerSpec

Shapes = Mapping[str, tuple[int, ...]]

_TOKEN_EMB = re.compile(
    r"^(wte|word_embeddings?|tok_embeddings?|token_embeddings?|embed_tokens|embeddings?|embed|emb"
    r"|shared)$"
)
_POSITION_EMB = re.compile(
    r"^(wpe|position_embeddings?|pos_embed(ding)?s?|pos_emb|embed_positions|token_type_embeddings?"
    r"|segment_embeddings?|type_embeddings?)$"
)
_ROLE_LEAVES = {
    "q": {"query", "q_proj", "q", "wq", "q_lin", "to_q"},
    "k": {"key", "k_proj", "k", "wk", "k_lin", "to_k"},
    "v": {"value", "v_proj", "v", "wv", "v_lin", "to_v"},
}
_O_LEAVES = {"out_proj", "o_proj", "out_lin", "o"}
_O_IN_ATTENTION = {"wo", "c_proj", "dense", "to_out"}
_GATE_LEAVES = {"gate_proj", "w1", "gate", "wi_0"}
_UP_LEAVES = {"up_proj", "w3", "up", "wi_1"}
_BLOCK = re.compile(r"^(.*?\.\d+)\.")
_FIX = ("record the live model through the Recorder (ModelGraph), or pass mapping={...} "
        "(docs/ingest-formats.md)")


def _module(key: str) -> str:
    return key[: -len(".weight")] if key.endswith(".weight") else key.rsplit(".", 1)[0]


def _leaf(key: str) -> str:
    return _module(key).rsplit(".", 1)[-1]


def is_token_embedding(key: str, shape: Sequence[int]) -> bool:
    """A 2-D ``*.weight`` whose module name is a token embedding's (docs/ingest-formats.md)."""
    return len(shape) == 2 and key.endswith(".weight") and bool(_TOKEN_EMB.match(_leaf(key)))


def is_position_embedding(key: str, shape: Sequence[int]) -> bool:
    """Position / token-type tables: indexed by position or segment, a bias, no edges."""
    return len(shape) >= 2 and bool(_POSITION_EMB.match(_leaf(key)))


@dataclass
class _Attention:
    block: str
    q: str = ""
    k: str = ""
    v: str = ""
    packed: str = ""  # in_proj_weight or c_attn.weight
    o: str = ""


@dataclass
class _Plan:
    conv1d: set[str] = field(default_factory=set)  # GPT-2 Conv1D: stored (in, out)
    attention: dict[str, _Attention] = field(default_factory=dict)  # by block


def _attention_role(key: str) -> str | None:
    leaf = _leaf(key)
    for role, leaves in _ROLE_LEAVES.items():
        if leaf in leaves:
            return role
    return None


def _is_output_projection(key: str) -> bool:
    module = _module(key)
    parts = module.split(".")
    if parts[-1] in _O_LEAVES:
        return True
    return parts[-1] in _O_IN_ATTENTION and any("att" in p for p in parts[:-1])


def find_attention(shapes: Shapes, path: Path) -> _Plan:
    """Blocks holding an attention, and the GPT-2 Conv1D (in, out) parameters."""
    plan = _Plan()
    c_attn = [k for k, s in shapes.items() if k.endswith("c_attn.weight") and len(s) == 2]
    if any(shapes[k][1] == 3 * shapes[k][0] for k in c_attn):
        plan.conv1d = {k for k, s in shapes.items() if len(s) == 2 and k.endswith(".weight")
                       and _leaf(k) in ("c_attn", "c_proj", "c_fc")}
    for key, shape in shapes.items():
        if len(shape) != 2:
            continue
        m = _BLOCK.match(key)
        packed = key.endswith("in_proj_weight") or (key in plan.conv1d and _leaf(key) == "c_attn")
        role = None if packed or not key.endswith(".weight") else _attention_role(key)
        if not (packed or role):
            continue
        if m is None:
            raise InputError(
                f"{path}: attention projection {key!r} is not inside a numbered block "
                f"('<stack>.<i>.'), so its residual stream cannot be derived; {_FIX}."
            )
        att = plan.attention.setdefault(m.group(1), _Attention(m.group(1)))
        slot = "packed" if packed else str(role)
        if getattr(att, slot) or (packed and att.q) or (not packed and att.packed):
            raise InputError(
                f"{path}: block {m.group(1)!r} holds more than one attention ({key!r} and "
                f"{getattr(att, slot) or att.packed or att.q!r}; cross-attention reads another "
                f"stream that names and shapes do not tell); {_FIX}."
            )
        setattr(att, slot, key)
    for block, att in plan.attention.items():
        if not att.packed and not (att.q and att.k and att.v):
            missing = [r for r in "qkv" if not getattr(att, r)]
            raise InputError(
                f"{path}: block {block!r} has attention projections "
                f"{', '.join(getattr(att, r) for r in 'qkv' if getattr(att, r))} but no "
                f"{'/'.join(missing)} projection found by name; {_FIX}."
            )
    return plan


def _shape_in_out(key: str, shape: Sequence[int], plan: _Plan) -> tuple[int, int, str]:
    """(n_in, n_out, recipe how) of a 2-D weight."""
    if key in plan.conv1d:
        return int(shape[0]), int(shape[1]), "in_out"
    return int(shape[1]), int(shape[0]), "out_in"


def add_transformer(
    builder: ArchBuilder,
    shapes: Shapes,
    path: Path,
    plan: _Plan,
    same_tensor: Callable[[str, str], bool],
) -> None:
    """All layers of a transformer state dict (a block with an attention was found)."""
    keys = [k for k, s in shapes.items() if len(s) >= 2]
    blocks: dict[str, list[str]] = {}
    for key in keys:
        m = _BLOCK.match(key)
        if m is not None:
            blocks.setdefault(m.group(1), []).append(key)
    embeddings = [k for k in keys if is_token_embedding(k, shapes[k]) and k not in plan.conv1d]
    stream = "input"
    for key in embeddings:
        vocab, dim = (int(x) for x in shapes[key])
        group = _module(key)
        builder.add(LayerSpec(key, "input", group, vocab, dim, "embedding"),
                    MatrixRecipe(key, "in_out"))
        if stream == "input":
            stream = group
    first_block = min((keys.index(b[0]) for b in blocks.values() if b), default=len(keys))
    for key in keys[:first_block]:
        # patch embeddings and other convs in front of the blocks: a chain from the input
        if len(shapes[key]) in (3, 4) and key.endswith(".weight") and key not in embeddings:
            n_out, n_in = int(shapes[key][0]), int(shapes[key][1])
            src = builder.consume("input" if stream == "input" else stream, n_in,
                                  f"{_module(key)}.input")
            builder.add(LayerSpec(key, src, _module(key), n_in, n_out, "conv"),
                        MatrixRecipe(key, "conv"))
            stream = _module(key)
    width = _stream_width(plan, shapes)
    for block, members in blocks.items():
        att = plan.attention.get(block)
        if att is None:
            raise InputError(
                f"{path}: block {block!r} ({members[0]!r}, ...) holds no attention projection "
                f"found by name, so what reads the residual stream cannot be derived; {_FIX}."
            )
        _add_block(builder, shapes, path, plan, att, members, stream, width)
    previous: tuple[str, int] | None = None
    for key in keys:
        m = _BLOCK.match(key)
        if m is not None and m.group(1) in blocks:
            previous = None
            continue
        if (key in embeddings or is_position_embedding(key, shapes[key])
                or not key.endswith(".weight") or len(shapes[key]) != 2):
            if len(shapes[key]) in (3, 4) and keys.index(key) >= first_block \
                    and key.endswith(".weight"):
                raise InputError(
                    f"{path}: conv weight {key!r} outside the transformer blocks; {_FIX}.")
            continue
        n_in, n_out, how = _shape_in_out(key, shapes[key], plan)
        src = previous[0] if previous is not None and previous[1] == n_in else stream
        if builder.sizes.get(builder.find(src)) != n_in:
            raise InputError(
                f"{path}: {key!r} reads {n_in} units but the residual stream has "
                f"{builder.sizes.get(builder.find(stream))}; {_FIX}.")
        tied = next((e for e in embeddings if shapes[e] == shapes[key] and same_tensor(e, key)),
                    None)
        builder.add(LayerSpec(key, src, _module(key), n_in, n_out, "linear", tied_to=tied),
                    MatrixRecipe(key, how))
        previous = (_module(key), n_out)


def _stream_width(plan: _Plan, shapes: Shapes) -> int:
    att = next(iter(plan.attention.values()))
    if att.packed:
        return int(shapes[att.packed][0 if att.packed in plan.conv1d else 1])
    return _shape_in_out(att.q, shapes[att.q], plan)[0]


def _add_block(
    builder: ArchBuilder,
    shapes: Shapes,
    path: Path,
    plan: _Plan,
    att: _Attention,
    members: list[str],
    stream: str,
    width: int,
) -> None:
    if builder.sizes.get(builder.find(stream), width) != width:
        raise InputError(
            f"{path}: block {att.block!r} reads {width} units but the stream "
            f"{stream!r} has {builder.sizes[builder.find(stream)]}; {_FIX}.")
    builder.touch(stream, width)
    used = set()
    if att.packed:
        n_in, n_out3, how = _shape_in_out(att.packed, shapes[att.packed], plan)
        if n_out3 != 3 * n_in:
            raise InputError(
                f"{path}: packed projection {att.packed!r} has shape {tuple(shapes[att.packed])}; "
                f"expected q, k and v of {n_in} units each; {_FIX}.")
        base = _module(att.packed) if how == "in_out" else att.packed.rsplit(".", 1)[0]
        groups = {}
        for index, role in enumerate("qkv"):
            group = f"{base}.{role}"
            builder.add(LayerSpec(f"{att.packed}.{role}", stream, group, n_in, n_in, "attention",
                                  role=role),
                        MatrixRecipe(att.packed, how, (index * n_in, (index + 1) * n_in)))
            groups[role] = group
        value, v_width = groups["v"], n_in
        used.add(att.packed)
        q_width = n_in
    else:
        q_width = 0
        value, v_width = "", 0
        for role in "qkv":
            key = getattr(att, role)
            n_in, n_out, how = _shape_in_out(key, shapes[key], plan)
            if n_in != width:
                raise InputError(
                    f"{path}: {role} projection {key!r} reads {n_in} units, the stream has "
                    f"{width}; {_FIX}.")
            builder.add(LayerSpec(key, stream, _module(key), n_in, n_out, "attention", role=role),
                        MatrixRecipe(key, how))
            used.add(key)
            if role == "q":
                q_width = n_out
            if role == "v":
                value, v_width = _module(key), n_out
    outs = [k for k in members if k not in used and len(shapes[k]) == 2
            and k.endswith(".weight") and _is_output_projection(k)]
    if len(outs) != 1:
        raise InputError(
            f"{path}: block {att.block!r}: {'no' if not outs else 'several'} attention output "
            f"projection(s) found by name ({', '.join(outs) or 'out_proj, o_proj, '}"
            f"{'' if outs else 'attention.output.dense, attn.c_proj'}); {_FIX}.")
    o_key = outs[0]
    n_in, n_out, how = _shape_in_out(o_key, shapes[o_key], plan)
    if n_in != v_width:
        if n_in == q_width and v_width < q_width:
            raise InputError(
                f"{path}: {att.v or att.packed!r} has {v_width} units and "
                f"{o_key!r} reads {n_in}: grouped-query attention, whose head count is not "
                "stored in a state dict; record the live model through the Recorder "
                "(ModelGraph), which adds the expansion layer, or pass mapping={...}.")
        raise InputError(
            f"{path}: output projection {o_key!r} reads {n_in} units but the value projection "
            f"writes {v_width}; {_FIX}.")
    if n_out != width:
        raise InputError(
            f"{path}: output projection {o_key!r} writes {n_out} units, the stream has "
            f"{width}; {_FIX}.")
    builder.add(LayerSpec(o_key, value, stream, n_in, n_out, "attention", role="o"),
                MatrixRecipe(o_key, how))
    used.add(o_key)
    _add_mlp(builder, shapes, path, plan, [k for k in members if k not in used], stream, width)


def _add_mlp(
    builder: ArchBuilder,
    shapes: Shapes,
    path: Path,
    plan: _Plan,
    rest: list[str],
    stream: str,
    width: int,
) -> None:
    """The block's other matrices, told apart by width: readers of the stream, then the one
    writing back into it."""
    matrices = [k for k in rest if len(shapes[k]) == 2 and k.endswith(".weight")]
    others = [k for k in rest if k not in matrices and len(shapes[k]) > 2
              and not is_position_embedding(k, shapes[k])]
    if others:
        raise InputError(f"{path}: {others[0]!r} (shape {tuple(shapes[others[0]])}) inside a "
                         f"transformer block has no rule on import; {_FIX}.")
    readers, writers = [], []
    for key in matrices:
        n_in, n_out, how = _shape_in_out(key, shapes[key], plan)
        if n_in == width and n_out != width:
            readers.append((key, n_out, how))
        elif n_out == width and n_in != width:
            writers.append((key, n_in, how))
        else:
            raise InputError(
                f"{path}: {key!r} ({n_in} -> {n_out} units) in a block whose stream has {width} "
                "units: whether it reads or writes the stream cannot be told from shapes; "
                f"{_FIX}.")
    by_width: dict[int, list[tuple[str, str]]] = {}
    for key, n_out, how in readers:
        by_width.setdefault(n_out, []).append((key, how))
    for n_out, group_keys in by_width.items():
        if len(group_keys) > 2:
            raise InputError(
                f"{path}: {', '.join(k for k, _ in group_keys)} all read the stream and write "
                f"{n_out} units; {_FIX}.")
        roles: dict[str, str | None] = {k: None for k, _ in group_keys}
        if len(group_keys) == 2:
            for key, _ in group_keys:
                leaf = _leaf(key)
                roles[key] = "gate" if leaf in _GATE_LEAVES else "up" if leaf in _UP_LEAVES \
                    else None
            if sorted(r or "" for r in roles.values()) != ["gate", "up"]:
                raise InputError(
                    f"{path}: {group_keys[0][0]!r} and {group_keys[1][0]!r} both read the stream "
                    f"and write {n_out} units; a gated MLP is recognised by the names "
                    f"gate_proj/up_proj (w1/w3); {_FIX}.")
            group_keys.sort(key=lambda kh: roles[kh[0]] != "gate")
        group = _module(group_keys[0][0])
        for key, how in group_keys:
            builder.add(LayerSpec(key, stream, group, width, n_out, "linear", role=roles[key]),
                        MatrixRecipe(key, how))
        if len(group_keys) == 2:
            builder.gated.add(group)
        by_width[n_out] = [(group, "")]
    for key, n_in, how in writers:
        source = by_width.get(n_in)
        if not source:
            raise InputError(
                f"{path}: {key!r} reads {n_in} units, which no matrix of its block writes from "
                f"the stream; {_FIX}.")
        builder.add(LayerSpec(key, source[0][0], stream, n_in, width, "linear"),
                    MatrixRecipe(key, how))
