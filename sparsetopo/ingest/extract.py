"""Turn a live torch model into an :class:`~sparsetopo.topology.Architecture` plus, per snapshot,
the nonzero entries of every weight matrix.

>>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
>>> graph = ModelGraph(net)
>>> [(s.name, s.src_group, s.dst_group) for s in graph.architecture.layers]
[('0.weight', 'input', '0'), ('2.weight', '0', '2')]
>>> snap = graph.snapshot(step=0)
>>> snap.n_edges
20

How layers are found (see docs/ingest-formats.md for the long version):

* ``torch.fx`` traces the forward pass; a weighted module's output units form a neuron group
  named after the module, the model input is the group ``"input"``. Element-wise combination of
  two layer outputs (``fc2(h) + skip(x)``) makes them one group; an identity skip around a
  layer (``h + fc(h)``) keeps the layer's own group. A size change between producer and
  consumer (``flatten`` after a conv) gives the consumer a source group ``"<layer>.input"``
  (with a warning); ``torch.cat`` of groups gives a group named after the fx node.
* If tracing fails (data-dependent control flow), weighted modules are chained in execution
  order (when ``example_input`` is given) or registration order, with a warning.
* ``mapping={"param.name": ("src_group", "dst_group")}`` replaces detection entirely.

Orientation: captured matrices are (n_in, n_out); torch's (out, in) weights are transposed.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from sparsetopo.errors import InputError, MissingExtraError

try:
    import torch
    from torch import nn
except ImportError as exc:  # torch is the optional [train] extra
    raise MissingExtraError("torch", "train", "reading PyTorch models") from exc

from sparsetopo.ingest.matrices import (  # noqa: F401  (re-exported: the public names)
    MAX_NAME_LEN,
    MatrixRecipe,
    as_float32_weights,
    check_name,
    matrix_edges,
    select_layers,
)
from sparsetopo.topology import Architecture, GraphSnapshot, LayerEdges, LayerSpec

RNN_GATES: dict[str, tuple[str, ...]] = {
    "RNN": ("",),
    "GRU": ("r", "z", "n"),
    "LSTM": ("i", "f", "g", "o"),
}
#: Gate names by gate count, for state dicts that only tell us how many rows weight_hh has.
GATES_BY_COUNT: dict[int, tuple[str, ...]] = {1: ("",), 3: ("r", "z", "n"), 4: ("i", "f", "g", "o")}




# --------------------------------------------------------------------------------------------
# Tensor -> (n_in, n_out) matrix
# --------------------------------------------------------------------------------------------


def expansion_matrix(kv_units: int, units: int, head_dim: int) -> np.ndarray:
    """The constant (kv_units, units) 0/1 matrix of grouped-query attention: value feature
    ``(kv_head, d)`` feeds feature ``(head, d)`` of every query head sharing that kv head,
    ``kv_head = head // (heads / kv_heads)`` (the order of ``repeat_kv`` and ``enable_gqa``).

    >>> expansion_matrix(2, 4, 1).astype(int).tolist()
    [[1, 1, 0, 0], [0, 0, 1, 1]]
    """
    heads, kv_heads = units // head_dim, kv_units // head_dim
    share = heads // kv_heads
    out = np.zeros((kv_units, units), dtype=np.float32)
    for head in range(heads):
        kv = head // share
        for d in range(head_dim):
            out[kv * head_dim + d, head * head_dim + d] = 1.0
    return out


def reduce_conv_kernel(weight: torch.Tensor, groups: int = 1) -> torch.Tensor:
    """Reduce a conv weight (out, in/groups, *kernel) to an (in, out) channel matrix.

    weight(i -> o) = sum of the kernel entries (the filter's response to a constant input, so
    its sign is the net excitatory/inhibitory effect). The edge exists iff any entry is nonzero.
    A kernel whose nonzero entries cancel exactly (sum == 0) would vanish, so it gets the
    signed entry of largest magnitude instead: the edge stays, signed by its dominant tap.
    With ``groups > 1`` the matrix is block diagonal (channels only see their own group).

    >>> k = torch.tensor([[[1.0, -1.0], [2.0, 0.0]]])  # out=1, in=2, kernel 2
    >>> reduce_conv_kernel(k).tolist()
    [[1.0], [2.0]]
    """
    w = weight.detach()
    flat = w.reshape(w.shape[0], w.shape[1], -1)
    total = flat.sum(dim=-1)
    cancelled = (flat != 0).any(dim=-1) & (total == 0)
    if bool(cancelled.any()):
        idx = flat.abs().argmax(dim=-1, keepdim=True)
        dominant = flat.gather(-1, idx).squeeze(-1)
        total = torch.where(cancelled, dominant, total)
    out_ch, in_per_group = total.shape
    if groups == 1:
        return total.t()
    out_per_group = out_ch // groups
    full = torch.zeros(in_per_group * groups, out_ch, dtype=total.dtype, device=total.device)
    for g in range(groups):
        rows = slice(g * in_per_group, (g + 1) * in_per_group)
        cols = slice(g * out_per_group, (g + 1) * out_per_group)
        full[rows, cols] = total[cols].t()
    return full


def tensor_to_matrix(tensor: torch.Tensor, recipe: MatrixRecipe) -> np.ndarray:
    """Fresh float32 CPU numpy (n_in, n_out) matrix for ``recipe`` cut from ``tensor``.

    The result never aliases the model's storage (it is safe to keep while training goes on).
    It may be a transposed view of a fresh C-contiguous copy; that keeps capture at one memcpy.
    """
    t = tensor.detach()
    if t.is_complex():
        raise InputError(
            f"{recipe.param}: complex weights ({t.dtype}); sparsetopo stores real signed "
            "weights. Take the real part explicitly before saving."
        )
    if t.dtype in (torch.bfloat16, torch.float16) or not t.is_floating_point():
        t = t.to(torch.float32)  # exact for (b)float16 and small integers; numpy lacks bf16
    elif t.dtype == torch.float64:
        as_float32_weights(t.cpu().numpy().reshape(t.shape[0], -1), recipe.param)
    if recipe.how == "conv":
        t = reduce_conv_kernel(t, recipe.groups)
        return t.to(device="cpu", dtype=torch.float32, copy=True).numpy()
    if recipe.how == "vector":
        return t.reshape(1, -1).to(device="cpu", dtype=torch.float32, copy=True).numpy()
    if recipe.rows is not None:
        a, b = recipe.rows
        t = t[:, a:b] if recipe.how == "in_out" else t[a:b]
    # numpy's copy of a CPU tensor's buffer is ~50x faster than torch's .to(copy=True) here
    # (0.2 ms vs 10 ms per 1e6 weights), and capture() runs in the training thread.
    arr = np.array(t.cpu().numpy(), dtype=np.float32, copy=True)
    return arr if recipe.how == "in_out" else arr.T


# --------------------------------------------------------------------------------------------
# Effective parameters (prune masks, parametrizations)
# --------------------------------------------------------------------------------------------


def effective_parameter(module: nn.Module, name: str) -> torch.Tensor:
    """The value a parameter has in the forward pass.

    torch.nn.utils.prune: ``name_orig * name_mask`` (``module.name`` is only refreshed by the
    forward pre-hook, so it can be stale after an optimiser step). torch.nn.utils.parametrize:
    the parametrized value (reading the attribute runs the parametrization).
    """
    orig = getattr(module, name + "_orig", None)
    mask = getattr(module, name + "_mask", None)
    with torch.no_grad():
        if isinstance(orig, torch.Tensor) and isinstance(mask, torch.Tensor):
            return orig * mask
        value = getattr(module, name)
    if not isinstance(value, torch.Tensor):
        raise InputError(f"{name!r} of {type(module).__name__} is not a tensor.")
    return value


_PARAM_SUFFIX = re.compile(r"(_orig|_mask)$")


def effective_parameter_names(model: nn.Module) -> list[str]:
    """Parameter names as the forward pass sees them (prune/parametrize plumbing folded away)."""
    names: list[str] = []
    for mod_name, module in model.named_modules():
        local: list[str] = [n for n, _ in module.named_parameters(recurse=False)]
        local += [n for n, _ in module.named_buffers(recurse=False) if n.endswith("_mask")]
        parametrized = getattr(module, "parametrizations", None)
        if parametrized is not None:
            local += list(parametrized.keys())
        for n in local:
            clean = _PARAM_SUFFIX.sub("", n)
            full = f"{mod_name}.{clean}" if mod_name else clean
            if full not in names:
                names.append(full)
    return names


def _resolve_parameter(model: nn.Module, full: str) -> tuple[nn.Module, str] | None:
    mod_name, _, attr = full.rpartition(".")
    try:
        module = model.get_submodule(mod_name) if mod_name else model
    except AttributeError:
        return None
    if full in effective_parameter_names(model) and hasattr(module, attr):
        return module, attr
    return None


# --------------------------------------------------------------------------------------------
# Architecture builder
# --------------------------------------------------------------------------------------------


class ArchBuilder:
    """Collects layers while groups may still be merged; resolves names at the end."""

    def __init__(self) -> None:
        self.sizes: dict[str, int] = {}
        self.alias: dict[str, str] = {}
        self.order: list[str] = []
        self.layers: list[tuple[LayerSpec, MatrixRecipe]] = []
        #: attention roles of groups ("q", "k", "v"), found where the values meet
        self.roles: dict[str, str] = {}
        #: head width of a value group (needed to expand grouped-query attention)
        self.head_dim: dict[str, int] = {}
        #: sub-ranges of a layer's output group used as separate values (packed q/k/v)
        self.parts: dict[str, dict[tuple[int, int], str]] = {}
        self._expanded: dict[tuple[str, int], str] = {}
        #: roles of single layers (gate / up of a gated MLP) and the groups they write
        self.layer_roles: dict[str, str] = {}
        self.gated: set[str] = set()

    def find(self, group: str) -> str:
        while group in self.alias:
            group = self.alias[group]
        return group

    def touch(self, group: str, size: int | None = None) -> str:
        group = self.find(group)
        if group not in self.order:
            self.order.append(group)
        if size is not None:
            known = self.sizes.get(group)
            if known is not None and known != size:
                raise InputError(
                    f"neuron group {group!r} would have both {known} and {size} units; pass an "
                    "explicit mapping={'param.name': ('src_group', 'dst_group')}."
                )
            self.sizes[group] = size
        return group

    def consume(self, group: str, n_in: int, via: str) -> str:
        """Source group for a layer with n_in inputs reading ``group``; a new group when the
        units changed on the way (e.g. flatten of a conv output)."""
        group = self.find(group)
        known = self.sizes.get(group)
        if known is None or known == n_in:
            return self.touch(group, n_in)
        if (self.roles.get(group) == "v" and n_in % known == 0 and group in self.head_dim
                and known % self.head_dim[group] == 0):
            return self._expand(group, n_in)
        derived = self._unique(via)
        warnings.warn(
            f"{via!r} reads {n_in} units but group {group!r} has {known}; recording its sources "
            f"as a separate group {derived!r}.",
            stacklevel=4,
        )
        return self.touch(derived, n_in)

    def _expand(self, group: str, units: int) -> str:
        """Grouped-query attention: the value group (kv_heads x head_dim units) read by a layer
        of heads x head_dim inputs goes through a constant expansion layer (docs)."""
        key = (group, units)
        if key not in self._expanded:
            target = self.touch(self._unique(f"{group}.heads"), units)
            spec = LayerSpec(f"{group}.expand", group, target, self.sizes[group], units,
                             "attention", role="expand")
            recipe = MatrixRecipe("", "expand",
                                  expand=(self.sizes[group], units, self.head_dim[group]))
            self.add(spec, recipe)
            self._expanded[key] = target
        return self._expanded[key]

    def writers(self, group: str) -> list[LayerSpec]:
        group = self.find(group)
        return [spec for spec, _ in self.layers if self.find(spec.dst_group) == group]

    def part(self, group: str, start: int, stop: int) -> str:
        """Group of units start..stop-1 of a layer's output group (e.g. the k block of a
        packed q/k/v projection); the layer is split accordingly in :meth:`build`."""
        group = self.find(group)
        if start == 0 and stop == self.sizes.get(group):
            return group
        parts = self.parts.setdefault(group, {})
        if (start, stop) not in parts:
            parts[(start, stop)] = self.touch(self._unique(f"{group}[{start}:{stop}]"),
                                              stop - start)
        return parts[(start, stop)]

    def _unique(self, base: str) -> str:
        name, k = base, 1
        while name in self.sizes or name in self.order or name in self.alias:
            k += 1
            name = f"{base}_{k}"
        return name

    def add(self, spec: LayerSpec, recipe: MatrixRecipe) -> None:
        if any(s.name == spec.name for s, _ in self.layers):
            raise InputError(f"two layers named {spec.name!r}; give them distinct names.")
        self.touch(spec.src_group, spec.n_in)
        self.touch(spec.dst_group, spec.n_out)
        self.layers.append((spec, recipe))

    def reaches(self, a: str, b: str) -> bool:
        """True when some chain of layers leads from group a to group b."""
        a, b = self.find(a), self.find(b)
        seen, stack = {a}, [a]
        while stack:
            g = stack.pop()
            nexts = [self.find(p) for p in self.parts.get(g, {}).values()]
            nexts += [self.find(spec.dst_group) for spec, _ in self.layers
                      if self.find(spec.src_group) == g]
            for nxt in nexts:
                if nxt == b:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return False

    def merge(self, groups: list[str], node_name: str, concat: bool) -> str:
        """Group of a value computed element-wise from several groups."""
        distinct: list[str] = []
        for g in (self.find(g) for g in groups):
            if g not in distinct:
                distinct.append(g)
        if len(distinct) == 1:
            return distinct[0]
        if concat:
            return self.touch(self._unique(node_name))
        sizes = {self.sizes[g] for g in distinct if g in self.sizes}
        if len(sizes) > 1:
            return self.touch(self._unique(node_name))
        # x + f(x), x * gate(x): the same units. The upstream group (the residual stream)
        # keeps its name; the layers that wrote the others now write into it.
        upstream = [g for g in distinct
                    if not any(self.reaches(o, g) for o in distinct if o != g)]
        first = upstream[0] if upstream else distinct[0]
        for other in distinct:
            if other == first:
                continue
            self.alias[other] = first
            if other in self.sizes and first not in self.sizes:
                self.sizes[first] = self.sizes[other]
            for table in (self.roles, self.head_dim):
                if other in table and first not in table:
                    table[first] = table[other]  # type: ignore[assignment]
        return first

    def _split_parts(self) -> list[tuple[LayerSpec, MatrixRecipe]]:
        """Layers whose output group is used in parts become one layer per part."""
        rename: dict[str, str] = {}
        layers = list(self.layers)
        for group, parts in self.parts.items():
            size = self.sizes.get(group, 0)
            bounds = sorted(parts)
            covered = [b for b in bounds]
            tiles = all(a == (covered[i - 1][1] if i else 0) for i, (a, _) in enumerate(covered))
            writers = [spec.name for spec, _ in layers if self.find(spec.dst_group) == group]
            readers = [spec.name for spec, _ in layers if self.find(spec.src_group) == group]
            if not tiles or covered[-1][1] != size or len(writers) != 1 or readers:
                raise InputError(
                    f"the output of layer {writers[0] if writers else group!r} is used in parts "
                    f"({', '.join(f'{a}:{b}' for a, b in bounds)} of {size} units) that "
                    "sparsetopo cannot map to groups. Leave it out with layers=[...] (--layers) "
                    "or pass mapping=..."
                )
            out: list[tuple[LayerSpec, MatrixRecipe]] = []
            for spec, recipe in layers:
                if self.find(spec.dst_group) != group:
                    out.append((spec, recipe))
                    continue
                base = recipe.rows[0] if recipe.rows else 0
                for index, (a, b) in enumerate(bounds):
                    part = self.find(parts[(a, b)])
                    role = self.roles.get(part)
                    suffix = role or str(index)
                    rename[part] = f"{group}.{suffix}"
                    out.append((
                        replace(spec, name=f"{spec.name}.{suffix}", dst_group=part, n_out=b - a,
                                role=role, kind="attention" if role else spec.kind),
                        replace(recipe, rows=(base + a, base + b)),
                    ))
            layers = out
        for old, new in rename.items():
            if new not in self.sizes and new not in self.order:
                self.alias[old] = new
                self.sizes[new] = self.sizes[old]
                self.order[self.order.index(old)] = new
                if old in self.roles:
                    self.roles[new] = self.roles[old]
        return layers

    def build(self) -> tuple[Architecture, dict[str, MatrixRecipe]]:
        specs: list[LayerSpec] = []
        recipes: dict[str, MatrixRecipe] = {}
        for pos, (spec, recipe) in enumerate(self._split_parts()):
            src, dst = self.find(spec.src_group), self.find(spec.dst_group)
            role = spec.role or self.layer_roles.get(spec.name)
            if role is None and src in {self.find(g) for g in self.gated if g}:
                role = "down"
            elif role is None and self.roles.get(dst) in ("q", "k", "v"):
                role = self.roles[dst]
            elif role is None and (self.roles.get(src) == "v" or src.endswith(".heads")):
                role = "o"
            kind = "attention" if role in ("q", "k", "v", "o") and spec.kind == "linear" else spec.kind
            fixed = replace(spec, src_group=src, dst_group=dst, position=pos, role=role, kind=kind)
            specs.append(fixed)
            recipes[fixed.name] = recipe
        used = {s.src_group for s in specs} | {s.dst_group for s in specs}
        groups = {g: self.sizes[g] for g in self.order if g in used and g not in self.alias}
        for g in groups:
            check_name(g, "group")
        for s in specs:
            check_name(s.name, "layer")
        return Architecture(groups=groups, layers=tuple(specs)), recipes


def add_rnn_layers(
    builder: ArchBuilder,
    prefix: str,
    gates: tuple[str, ...],
    shapes: list[tuple[tuple[int, int], tuple[int, int]]],
    src_group: str,
    group_base: str | None = None,
) -> str:
    """Append the LayerSpecs of a (multi-layer) RNN/GRU/LSTM and return its last hidden group.

    shapes[k] = (weight_ih_l{k}.shape, weight_hh_l{k}.shape) in torch (out, in) layout.
    Layer k reads layer k-1's hidden group; one LayerSpec per gate, named "<param>.<gate>".
    ``prefix`` is the module path ("" for a bare RNN); hidden groups are named ``group_base``
    (default: prefix), with ".l<k>" appended when there are several layers.
    """
    base = group_base or prefix
    pre = f"{prefix}." if prefix else ""
    group = src_group
    for k, ((ih_rows, n_in), (hh_rows, hidden)) in enumerate(shapes):
        if ih_rows != hh_rows or hh_rows != hidden * len(gates):
            raise InputError(
                f"{prefix}: weight_ih_l{k} has {ih_rows} rows and weight_hh_l{k} {hh_rows}, "
                f"expected {len(gates)} gates x {hidden}; pass an explicit mapping."
            )
        hidden_group = base if len(shapes) == 1 else f"{base}.l{k}"
        src = builder.consume(group, n_in, f"{base}.input_l{k}")
        for which, source, kind, width in (
            ("ih", src, "input", n_in),
            ("hh", hidden_group, "recurrent", hidden),
        ):
            param = f"{pre}weight_{which}_l{k}"
            for gi, gate in enumerate(gates):
                name = f"{param}.{gate}" if gate else param
                spec = LayerSpec(name, source, hidden_group, width, hidden, kind, gate or None)
                rows = (gi * hidden, (gi + 1) * hidden) if gate else None
                builder.add(spec, MatrixRecipe(param, "out_in", rows))
        group = hidden_group
    return group


def _rnn_gates(module: nn.RNNBase) -> tuple[str, ...]:
    if module.bidirectional or (isinstance(module, nn.LSTM) and module.proj_size > 0):
        raise InputError(
            f"{type(module).__name__} with bidirectional=True or proj_size>0 is not detected "
            "automatically; pass mapping={'name.weight_hh_l0': ('src', 'dst'), ...}."
        )
    if module.mode in RNN_GATES:
        return RNN_GATES[module.mode]
    return RNN_GATES["RNN"]  # RNN_TANH / RNN_RELU


def _rnn_shapes(module: nn.RNNBase) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    shapes = []
    for k in range(module.num_layers):
        ih = effective_parameter(module, f"weight_ih_l{k}")
        hh = effective_parameter(module, f"weight_hh_l{k}")
        shapes.append(((int(ih.shape[0]), int(ih.shape[1])), (int(hh.shape[0]), int(hh.shape[1]))))
    return shapes


def _unsupported(module: nn.Module, name: str, model: nn.Module) -> InputError:
    params = ", ".join(effective_parameter_names(model)[:12])
    return InputError(
        f"module {name!r} ({type(module).__name__}) has weights sparsetopo cannot map to edges "
        "automatically. Leave it out with layers=[...] (--layers), or pass "
        f"mapping={{'param.name': ('src_group', 'dst_group')}}; parameters include: {params}"
    )


def _vector_params_only(module: nn.Module) -> bool:
    """True when every parameter of `module` is a vector or scalar: such parameters can only
    scale or shift units one by one (norms, PReLU), so the module carries no edges."""
    params = list(module.parameters())
    return all(p.dim() <= 1 for p in params)


def _add_module(
    builder: ArchBuilder, model: nn.Module, name: str, module: nn.Module, src: str, readout: bool
) -> str | None:
    """Add the layers of one weighted module reading ``src``; return its output group, or None
    when the module carries no edges (activations, norms)."""
    pre = f"{name}." if name else ""
    if isinstance(module, nn.Linear):
        w = effective_parameter(module, "weight")
        n_out, n_in = int(w.shape[0]), int(w.shape[1])
        group = name or "output"
        source = builder.consume(src, n_in, f"{group}.input")
        kind = "readout" if readout else "linear"
        builder.add(
            LayerSpec(f"{pre}weight", source, group, n_in, n_out, kind),
            MatrixRecipe(f"{pre}weight"),
        )
        return group
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        w = effective_parameter(module, "weight")
        n_out, n_in = int(w.shape[0]), int(w.shape[1]) * module.groups
        group = name or "output"
        source = builder.consume(src, n_in, f"{group}.input")
        builder.add(
            LayerSpec(f"{pre}weight", source, group, n_in, n_out, "conv"),
            MatrixRecipe(f"{pre}weight", "conv", groups=module.groups),
        )
        return group
    if isinstance(module, nn.RNNBase):
        return add_rnn_layers(
            builder, name, _rnn_gates(module), _rnn_shapes(module), src, name or "hidden"
        )
    if isinstance(module, nn.Embedding):
        return _add_embedding(builder, f"{pre}weight", name or "output", module.weight, src)
    if _vector_params_only(module):
        return None
    raise _unsupported(module, name, model)


def _add_embedding(
    builder: ArchBuilder, param: str, group: str, weight: torch.Tensor, tokens: str
) -> str:
    """A token embedding: one-hot tokens (one unit per vocabulary entry) -> embedding units."""
    n_in, n_out = int(weight.shape[0]), int(weight.shape[1])
    source = builder.consume(tokens, n_in, f"{group}.tokens")
    builder.add(LayerSpec(param, source, group, n_in, n_out, "embedding"),
                MatrixRecipe(param, "in_out"))
    return group


def _add_packed_attention(
    builder: ArchBuilder, prefix: str, param: str, width: int, sources: tuple[str, str, str]
) -> tuple[str, str, str]:
    """q, k and v layers cut from a packed (3 * width, width) in_proj_weight."""
    out = []
    for index, (role, src) in enumerate(zip(("q", "k", "v"), sources, strict=True)):
        group = f"{prefix}.{role}" if prefix else role
        source = builder.consume(src, width, f"{group}.input")
        builder.add(
            LayerSpec(f"{param}.{role}", source, group, width, width, "attention", role=role),
            MatrixRecipe(param, "out_in", (index * width, (index + 1) * width)),
        )
        builder.roles[builder.find(group)] = role
        out.append(group)
    return out[0], out[1], out[2]


def _add_mha(builder: ArchBuilder, name: str, module: nn.MultiheadAttention,
             sources: tuple[str, str, str]) -> str:
    """nn.MultiheadAttention: q, k, v projections, then the output projection reading v."""
    pre = f"{name}." if name else ""
    if module.in_proj_weight is not None:
        _, _, v = _add_packed_attention(builder, name, f"{pre}in_proj_weight", module.embed_dim,
                                        sources)
    else:
        v = ""
        for role, src, attr in zip(("q", "k", "v"), sources,
                                   ("q_proj_weight", "k_proj_weight", "v_proj_weight"),
                                   strict=True):
            w = effective_parameter(module, attr)
            group = f"{pre}{role}"
            source = builder.consume(src, int(w.shape[1]), f"{group}.input")
            builder.add(LayerSpec(f"{pre}{attr}", source, group, int(w.shape[1]),
                                  int(w.shape[0]), "attention", role=role),
                        MatrixRecipe(f"{pre}{attr}"))
            builder.roles[builder.find(group)] = role
            v = group
    builder.head_dim[builder.find(v)] = module.head_dim
    out = f"{pre}out_proj"
    w = effective_parameter(module.out_proj, "weight")
    source = builder.consume(v, int(w.shape[1]), f"{out}.input")
    builder.add(LayerSpec(f"{out}.weight", source, out, int(w.shape[1]), int(w.shape[0]),
                          "attention", role="o"), MatrixRecipe(f"{out}.weight"))
    return out


_WEIGHTED = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.RNNBase, nn.Embedding,
             nn.MultiheadAttention)


class _Tracer(torch.fx.Tracer):
    """torch.fx tracer whose leaves are the modules sparsetopo has rules for, and torch.nn
    modules without matrices (activations, pooling, norms); everything else is traced into."""

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        if isinstance(m, _WEIGHTED):
            return True
        if isinstance(m, nn.Sequential) or not m.__module__.startswith("torch.nn"):
            return False
        return _vector_params_only(m)


# --------------------------------------------------------------------------------------------
# Graph interpretation (torch.fx graphs and torch.export graphs share these rules)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Param:
    """A parameter flowing through the graph (rows: a block of it, e.g. ``w.chunk(3)[1]``)."""

    fqn: str
    rows: tuple[int, int] | None = None
    transposed: bool = False


@dataclass(frozen=True)
class _Pieces:
    """A tuple of groups (split of a layer's output) or parameter blocks, before getitem."""

    items: tuple[Any, ...]


_SHAPE_OPS = {"size", "sym_size", "dim", "numel", "sym_numel", "sym_stride", "stride",
              "shape", "_assert_tensor_metadata", "_assert_scalar", "sym_constrain_range_for_size",
              "ones", "zeros", "full", "arange", "empty", "ones_like", "zeros_like", "full_like",
              "empty_like", "rand", "randn", "rand_like", "randn_like", "tensor", "scalar_tensor",
              "eq", "ne", "lt", "gt", "le", "ge", "logical_and", "logical_or", "logical_not",
              "isnan", "isinf", "argmax", "argmin", "cumsum", "new_ones", "new_zeros",
              "new_full", "new_empty", "triu", "tril", "lift_fresh_copy", "_to_copy_bool"}
_MERGE_OPS = {"add", "sub", "mul", "div", "true_divide", "truediv", "iadd", "isub", "imul",
              "itruediv", "maximum", "minimum", "addcmul", "radd", "rmul", "rsub"}
_PASS_PARAM = {"contiguous", "clone", "detach", "to", "_to_copy", "alias", "type_as", "float"}
_CAT_OPS = {"cat", "concat", "concatenate", "stack", "hstack", "vstack"}
_PLAIN_CONV = {"conv1d", "conv2d", "conv3d"}
#: ops through which a matrix parameter is a constant added or laid out (class tokens, learned
#: position tables), not a map between units
_CONSTANT_SAFE = _MERGE_OPS | _CAT_OPS | {
    "expand", "expand_as", "view", "reshape", "unsqueeze", "squeeze", "flatten", "repeat",
    "slice", "getitem", "select", "index_select", "narrow", "unflatten", "broadcast_to",
    "where", "masked_fill", "copy", "layer_norm", "dropout", "size", "sym_size", "dim"}


def _op_name(node: torch.fx.Node) -> str:
    target = node.target
    if node.op == "call_method":
        name = str(target)
    elif isinstance(target, torch._ops.OpOverload):
        name = target._opname
    else:
        name = getattr(target, "__name__", str(target))
    name = name.strip("_") if name.startswith("__") else name
    return name[:-1] if name.endswith("_") and not name.startswith("_") else name


def _shape(node: Any) -> tuple[int, ...] | None:
    if not isinstance(node, torch.fx.Node):
        return None
    val = node.meta.get("val")
    if val is None:
        meta = node.meta.get("tensor_meta")
        shape = getattr(meta, "shape", None)
    else:
        shape = getattr(val, "shape", None)
    if shape is None:
        return None
    try:
        return tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        return None


class _Interpreter:
    """Walks a traced graph once, assigning each value a neuron group (or None for values that
    are not unit activations: shapes, masks, attention scores, positions)."""

    def __init__(self, model: nn.Module, builder: ArchBuilder) -> None:
        self.model = model
        self.b = builder
        self.env: dict[torch.fx.Node, Any] = {}
        self.inputs: set[str] = set()
        self.rnn_groups: set[str] = set()
        self.called: dict[str, str | None] = {}
        self.param_layers: dict[int, str] = {}  # id(parameter) -> first layer recorded from it

    # -- values -------------------------------------------------------------------------------
    def val(self, arg: Any) -> Any:
        return self.env.get(arg) if isinstance(arg, torch.fx.Node) else None

    def group(self, arg: Any) -> str | None:
        v = self.val(arg)
        return self.b.find(v) if isinstance(v, str) else None

    def groups_of(self, values: Iterable[Any]) -> list[str]:
        found: list[str] = []
        for v in values:
            if isinstance(v, (list, tuple)):
                found += self.groups_of(v)
            else:
                g = self.group(v)
                if g is not None:
                    found.append(g)
        return found

    def feature_dim(self, group: str, ndim: int) -> int:
        producers = self.b.writers(group)
        conv = any(p.kind == "conv" for p in producers)
        return 1 if conv and ndim >= 3 else ndim - 1

    def arg(self, node: torch.fx.Node, index: int, name: str, default: Any = None) -> Any:
        if len(node.args) > index:
            return node.args[index]
        return node.kwargs.get(name, default)

    # -- layers from parameters --------------------------------------------------------------
    def user_path(self, node: torch.fx.Node, fqn: str) -> str:
        """Path of the module that uses a parameter here (a tied parameter has one name in
        the traced graph but several users)."""
        stack = node.meta.get("nn_module_stack") or {}
        if stack:
            path = str(list(stack.values())[-1][0])
            path = re.sub(r"^L\['self'\]\.?", "", path)
            owner = fqn.rpartition(".")[0]
            # a parameter of a submodule used functionally (an nn.MultiheadAttention's
            # out_proj.weight) keeps its own module's name
            if path and not (owner == path or owner.startswith(path + ".")) and (
                    _resolve_parameter(self.model, f"{path}.{fqn.rpartition('.')[2]}")
                    is not None):
                return path
        return fqn.rpartition(".")[0]

    def tied(self, fqn: str) -> str | None:
        return self.param_layers.get(id(self.param_tensor_raw(fqn)))

    def param_tensor_raw(self, fqn: str) -> Any:
        resolved = _resolve_parameter(self.model, fqn)
        return getattr(*resolved) if resolved is not None else None

    def param_layer(self, node: torch.fx.Node, x: Any, w: _Param, layout: str,
                    kind: str = "linear", groups: int = 1) -> str:
        attr = w.fqn.rpartition(".")[2]
        module_path = self.user_path(node, w.fqn)
        tensor = self.param_tensor(w.fqn)
        tied = self.tied(w.fqn)
        name = f"{module_path}.{attr}" if module_path else attr
        group = module_path or w.fqn
        if name in {s.name for s, _ in self.b.layers}:
            warnings.warn(f"parameter {w.fqn!r} is used more than once by {module_path!r}; "
                          "its edges are recorded from the first use.", stacklevel=4)
            return self.b.find(group)
        if _resolve_parameter(self.model, name) is not None:
            w = _Param(name, w.rows)  # the user's own name for a tied parameter
        if w.rows is not None:
            name = f"{name}.{w.rows[0]}:{w.rows[1]}"
        if kind == "conv":
            n_out, n_in = int(tensor.shape[0]), int(tensor.shape[1]) * groups
            recipe = MatrixRecipe(w.fqn, "conv", groups=groups)
        else:
            if tensor.dim() != 2:
                raise InputError(f"parameter {w.fqn!r} of shape {tuple(tensor.shape)} is used as "
                                 "a matrix; leave it out with layers=[...] or pass mapping=...")
            n_out, n_in = int(tensor.shape[0]), int(tensor.shape[1])
            if layout == "in_out":
                n_in, n_out = n_out, n_in
            if w.rows is not None:
                n_out = w.rows[1] - w.rows[0]
                group = f"{group}[{w.rows[0]}:{w.rows[1]}]"
            recipe = MatrixRecipe(w.fqn, layout, w.rows)
        src = self.group(x) or "input"
        source = self.b.consume(src, n_in, f"{group}.input")
        if kind == "linear" and source in self.rnn_groups:
            kind = "readout"
        self.b.add(LayerSpec(name, source, group, n_in, n_out, kind, tied_to=tied), recipe)
        self.param_layers.setdefault(id(self.param_tensor_raw(w.fqn)), name)
        return group

    def param_tensor(self, fqn: str) -> torch.Tensor:
        resolved = _resolve_parameter(self.model, fqn)
        if resolved is None:
            raise InputError(f"cannot find parameter {fqn!r} in the model.")
        return effective_parameter(*resolved)

    def embedding(self, node: torch.fx.Node, indices: Any, w: _Param) -> str | None:
        tokens = self.group(indices)
        if tokens is None or tokens not in self.inputs:
            return None  # positions, token types: a per-position vector added, no edges
        group = self.user_path(node, w.fqn) or "output"
        name = f"{group}.{w.fqn.rpartition('.')[2]}"
        if name in {s.name for s, _ in self.b.layers}:
            return self.b.find(group)
        tied = self.tied(w.fqn)
        tensor = self.param_tensor(w.fqn)
        n_in, n_out = int(tensor.shape[0]), int(tensor.shape[1])
        source = self.b.consume(tokens, n_in, f"{group}.tokens")
        param = name if _resolve_parameter(self.model, name) is not None else w.fqn
        self.b.add(LayerSpec(name, source, group, n_in, n_out, "embedding", tied_to=tied),
                   MatrixRecipe(param, "in_out"))
        self.param_layers.setdefault(id(self.param_tensor_raw(w.fqn)), name)
        return group

    def packed(self, node: torch.fx.Node, x: Any, w: _Param) -> _Pieces:
        tensor = self.param_tensor(w.fqn)
        width = int(tensor.shape[1])
        src = self.group(x) or "input"
        q, k, v = _add_packed_attention(self.b, w.fqn.rpartition(".")[0], w.fqn, width,
                                        (src, src, src))
        return _Pieces((q, k, v))

    # -- attention ----------------------------------------------------------------------------
    def attend(self, q: Any, k: Any, v: Any) -> str | None:
        gq, gk, gv = self.group(q), self.group(k), self.group(v)
        for g, role in ((gq, "q"), (gk, "k"), (gv, "v")):
            if g is not None:
                self.b.roles.setdefault(g, role)
        shape = _shape(v)
        if gv is not None and shape:
            self.b.head_dim[gv] = shape[-1]
        return gv

    # -- one node -----------------------------------------------------------------------------
    def op(self, node: torch.fx.Node) -> Any:
        name = _op_name(node)
        args = node.args
        if name in _SHAPE_OPS:
            return None
        if name == "linear":
            w = self.val(self.arg(node, 1, "weight"))
            if isinstance(w, _Param):
                if w.fqn.endswith("in_proj_weight") and w.rows is None:
                    return self.packed(node, args[0], w)
                return self.param_layer(node, args[0], w, "out_in")
        if name == "addmm":
            w = self.val(args[2])
            if isinstance(w, _Param):
                return self.param_layer(node, args[1], w, "in_out")
        if name in ("matmul", "mm", "bmm"):
            a, b = self.val(args[0]), self.val(args[1])
            if isinstance(b, _Param):
                return self.param_layer(node, args[0], b, "out_in" if b.transposed else "in_out")
            if isinstance(a, _Param):
                self.refuse(node, a)
            ga, gb = self.group(args[0]), self.group(args[1])
            if ga is not None and gb is not None:
                self.attend(args[0], args[1], None)  # scores: positions x positions
                return None
            if gb is not None:
                return self.attend(None, None, args[1])  # weights @ values
            return None
        if name == "scaled_dot_product_attention":
            return self.attend(args[0], args[1], args[2])
        if name == "embedding":
            first, second = self.val(args[0]), self.val(args[1])
            if isinstance(first, _Param):  # aten.embedding(weight, indices)
                return self.embedding(node, args[1], first)
            if isinstance(second, _Param):  # F.embedding(indices, weight)
                return self.embedding(node, args[0], second)
        if name in _PLAIN_CONV or name == "convolution":
            w = self.val(args[1])
            if isinstance(w, _Param):
                index = 8 if name == "convolution" else 6
                groups = self.arg(node, index, "groups", 1)
                return self.param_layer(node, args[0], w, "conv", "conv", int(groups or 1))
        if name in ("lstm", "gru", "rnn_tanh", "rnn_relu"):
            return self.rnn(node)
        if name in ("split", "split_with_sizes", "chunk", "tensor_split", "unsafe_split"):
            return self.split(node, name)
        if name in ("getitem", "select"):
            return self.getitem(node, name)
        if name == "slice":
            base = self.group(args[0])
            return self.part(base, args[0], int(self.arg(node, 1, "dim", 0)),
                             self.arg(node, 2, "start", None), self.arg(node, 3, "end", None))
        if name in _CAT_OPS:
            return self.cat(node)
        if name == "where":
            return self.merge(node, list(args[1:3]))
        if name in ("masked_fill", "index_select", "gather", "scatter"):
            return self.val(args[0]) if isinstance(self.val(args[0]), str) else None
        if name in ("mul", "imul", "rmul"):
            self.gated(node)
        if name in _MERGE_OPS:
            return self.merge(node, list(args) + list(node.kwargs.values()))
        for v in [self.val(a) for a in args]:
            if isinstance(v, _Param) and self.param_tensor(v.fqn).dim() >= 2 and name in (
                    "einsum", "bilinear", "baddbmm", "conv_transpose1d", "conv_transpose2d"):
                self.refuse(node, v)
        for v in [self.val(a) for a in args]:
            if isinstance(v, _Param) and name not in _CONSTANT_SAFE and name not in _PASS_PARAM \
                    and name not in ("t", "transpose") and self.param_tensor(v.fqn).dim() >= 2:
                warnings.warn(
                    f"parameter {v.fqn!r} enters {name!r}, which sparsetopo does not map to "
                    f"edges; it is not recorded. Pass mapping={{'{v.fqn}': ('src_group', "
                    "'dst_group')} to record it.", stacklevel=5)
        first = self.val(args[0]) if args else None
        if isinstance(first, _Param):
            if name in ("t", "numpy_T", "T", "mT") or (name in ("transpose", "swapaxes") and {
                    int(a) % 2 for a in args[1:3] if isinstance(a, int)} == {0, 1}):
                return _Param(first.fqn, first.rows, not first.transposed)
            return first if name in _PASS_PARAM else None
        if isinstance(first, (str, _Pieces)):
            return first
        return None

    def gated(self, node: torch.fx.Node) -> None:
        """gate(x) * up(x) (SwiGLU, GEGLU): two layers reading the same group whose outputs
        are multiplied unit by unit; the operand that went through a nonlinearity is the gate."""
        operands = [a for a in node.args[:2] if isinstance(a, torch.fx.Node)]
        groups = [self.group(a) for a in operands]
        if len(operands) != 2 or None in groups or groups[0] == groups[1]:
            return
        writers = [self.b.writers(g) for g in groups if g is not None]
        if any(len(w) != 1 for w in writers):
            return
        (wa,), (wb,) = writers
        if self.b.find(wa.src_group) != self.b.find(wb.src_group):
            return
        active = [_activated(a) for a in operands]
        if active[0] == active[1]:
            return
        gate, up = (wa, wb) if active[0] else (wb, wa)
        self.b.layer_roles[gate.name] = "gate"
        self.b.layer_roles[up.name] = "up"
        self.b.gated.add(groups[0] or "")
        self.b.gated.add(groups[1] or "")

    def refuse(self, node: torch.fx.Node, w: _Param) -> None:
        raise InputError(
            f"parameter {w.fqn!r} is used by {_op_name(node)!r} in a way sparsetopo cannot map "
            f"to edges. Leave it out with layers=[...] (--layers) or pass mapping={{'{w.fqn}': "
            "('src_group', 'dst_group')}."
        )

    def merge(self, node: torch.fx.Node, values: list[Any]) -> str | None:
        groups = self.groups_of(values)
        return self.b.merge(groups, node.name, False) if groups else None

    def cat(self, node: torch.fx.Node) -> str | None:
        tensors = node.args[0] if node.args else node.kwargs.get("tensors", [])
        tensors = list(tensors) if isinstance(tensors, (list, tuple)) else [tensors]
        dim = int(self.arg(node, 1, "dim", 0))
        groups = self.groups_of(tensors)
        if not groups:
            return None
        shape = _shape(node)
        stack = _op_name(node) != "cat" and _op_name(node) not in ("concat", "concatenate")
        if shape is not None and not stack:
            ndim = len(shape)
            dim = dim % ndim
            if dim != self.feature_dim(groups[0], ndim):
                return self.b.merge(groups, node.name, False)  # more positions, same units
            parents = {self.b.find(g) for g in groups}
            if len(parents) == 1:
                return parents.pop()  # pieces of one group put back (rotary embeddings)
        elif dim == 0:
            return self.b.merge(groups, node.name, False)
        return self.b.merge(groups, node.name, True)

    def part(self, group: str | None, x: Any, dim: int, start: Any, stop: Any) -> str | None:
        if group is None:
            return None
        shape = _shape(x)
        if shape is None or not isinstance(start, (int, type(None))) or not isinstance(
                stop, (int, type(None))):
            return group
        width = shape[dim % len(shape)]
        if dim % len(shape) != self.feature_dim(group, len(shape)) or \
                width != self.b.sizes.get(group) or len(self.b.writers(group)) != 1:
            return group  # a slice of heads or positions: the same units
        a = 0 if start is None else (start + width if start < 0 else min(start, width))
        z = width if stop is None else (stop + width if stop < 0 else min(stop, width))
        return self.b.part(group, a, z)

    def split(self, node: torch.fx.Node, name: str) -> Any:
        x = node.args[0]
        base = self.val(x)
        sizes_arg = self.arg(node, 1, "split_size_or_sections", None)
        if sizes_arg is None:
            sizes_arg = self.arg(node, 1, "split_size", self.arg(node, 1, "chunks", 1))
        dim = int(self.arg(node, 2, "dim", 0))
        if isinstance(base, _Param):
            rows = int(self.param_tensor(base.fqn).shape[0])
            if dim != 0:
                return None
            bounds = _bounds(rows, sizes_arg, name == "chunk")
            return _Pieces(tuple(_Param(base.fqn, b) for b in bounds))
        if not isinstance(base, str):
            return base if isinstance(base, _Pieces) else None
        group = self.b.find(base)
        shape = _shape(x)
        if shape is None:
            return group
        width = shape[dim % len(shape)]
        bounds = _bounds(width, sizes_arg, name == "chunk")
        return _Pieces(tuple(self.part(group, x, dim, a, z) for a, z in bounds))

    def getitem(self, node: torch.fx.Node, name: str) -> Any:
        base = self.val(node.args[0])
        index = node.args[1] if name == "getitem" else node.args[2]
        if isinstance(base, _Pieces):
            if isinstance(index, int) and (name == "getitem" or node.args[1] == 0):
                return base.items[index]
            return None
        if isinstance(base, _Param):
            return None
        if not isinstance(base, str):
            return None
        if name == "getitem" and isinstance(index, (slice, tuple)):
            shape = _shape(node.args[0])
            items = index if isinstance(index, tuple) else (index,)
            if shape is not None and items and isinstance(items[-1], slice) and (
                    Ellipsis in items or len(items) == len(shape)):
                last = items[-1]
                return self.part(self.b.find(base), node.args[0], len(shape) - 1,
                                 last.start, last.stop)
        return self.b.find(base)

    def rnn(self, node: torch.fx.Node) -> str | None:
        params: Any = node.args[2] if len(node.args) > 2 else []
        fqns = [v.fqn for v in (self.val(p) for p in params) if isinstance(v, _Param)]
        if not fqns:
            return None
        prefix = fqns[0].rpartition(".")[0]
        module = self.model.get_submodule(prefix) if prefix else self.model
        if not isinstance(module, nn.RNNBase):
            raise InputError(f"{prefix!r}: recurrent weights outside an nn.RNN/GRU/LSTM module; "
                             "pass mapping=... or leave them out with layers=[...].")
        src = self.group(node.args[0]) or "input"
        if prefix in self.called:
            return self.called[prefix]
        out = add_rnn_layers(self.b, prefix, _rnn_gates(module), _rnn_shapes(module), src,
                             prefix or "hidden")
        self.rnn_groups.add(out)
        self.called[prefix] = out
        return out

    # -- fx call_module ----------------------------------------------------------------------
    def call_module(self, node: torch.fx.Node) -> Any:
        name = str(node.target)
        module = self.model.get_submodule(name)
        groups = self.groups_of(node.args[:1])
        src = self.b.merge(groups, node.name, False) if groups else "input"
        if name in self.called:
            if isinstance(module, _WEIGHTED):
                warnings.warn(
                    f"module {name!r} is called more than once; its shared weights are "
                    "recorded once, from its first call.",
                    stacklevel=4,
                )
            out = self.called[name]
            return out if out is not None else src
        if isinstance(module, nn.Embedding):
            token = groups[0] if groups and groups[0] in self.inputs else None
            out = None if token is None else _add_module(self.b, self.model, name, module, token,
                                                         False)
            self.called[name] = out
            return out
        if isinstance(module, nn.MultiheadAttention):
            def arg_group(i: int, key: str) -> str:
                g = self.groups_of([self.arg(node, i, key)])
                return g[0] if g else src
            out = _add_mha(self.b, name, module,
                           (arg_group(0, "query"), arg_group(1, "key"), arg_group(2, "value")))
            self.called[name] = out
            return out
        readout = isinstance(module, nn.Linear) and self.b.find(src) in self.rnn_groups
        out = _add_module(self.b, self.model, name, module, src, readout)
        if isinstance(module, nn.RNNBase) and out is not None:
            self.rnn_groups.add(out)
        self.called[name] = out
        return out if out is not None else (self.b.find(src) if groups else None)

    def run(self, graph: torch.fx.Graph, params: Mapping[str, str], user_inputs: list[str]) -> None:
        first = True
        for node in graph.nodes:
            if node.op == "placeholder":
                if node.name in params:
                    self.env[node] = _Param(params[node.name])
                elif node.name in user_inputs or not params:
                    g = "input" if first else f"input_{node.name}"
                    first = False
                    self.inputs.add(g)
                    self.env[node] = g
                else:
                    self.env[node] = None  # buffers, constants
            elif node.op == "get_attr":
                target = str(node.target)
                known = _resolve_parameter(self.model, target)
                self.env[node] = _Param(target) if known is not None else None
            elif node.op == "call_module":
                self.env[node] = self.call_module(node)
            elif node.op in ("call_function", "call_method"):
                self.env[node] = self.op(node)


_ACTIVATIONS = {"silu", "gelu", "relu", "sigmoid", "tanh", "hardsigmoid", "hardswish", "elu",
                "selu", "mish", "softplus", "leaky_relu", "relu6", "gelu_tanh", "swish"}


def _activated(node: torch.fx.Node) -> bool:
    """True when `node` is a nonlinearity of a value (a few unary steps back)."""
    for _ in range(4):
        name = _op_name(node).lower()
        if node.op == "call_module":
            name = str(node.target).rpartition(".")[2].lower()
        if any(name.startswith(a) for a in _ACTIVATIONS) or "act" in name:
            return True
        prev = node.args[0] if node.args else None
        if not isinstance(prev, torch.fx.Node) or prev.op in ("placeholder", "get_attr"):
            return False
        node = prev
    return False


def _bounds(width: int, sizes: Any, chunks: bool) -> list[tuple[int, int]]:
    if chunks:
        n = int(sizes)
        step = -(-width // n)
        sizes = step
    if isinstance(sizes, int):
        cuts = [*list(range(0, width, sizes)), width]
    else:
        cuts = [0]
        for size in sizes:
            cuts.append(cuts[-1] + int(size))
    return list(itertools.pairwise(cuts))


def _trace(model: nn.Module, builder: ArchBuilder, example: Any = None) -> None:
    tracer = _Tracer()
    graph = tracer.trace(model)
    if example is not None:
        gm = torch.fx.GraphModule(model, graph)
        args, kwargs = _example_args(example)
        with contextlib.suppress(Exception), torch.no_grad():
            from torch.fx.passes.shape_prop import ShapeProp

            ShapeProp(gm).propagate(*args, *kwargs.values())
    _Interpreter(model, builder).run(graph, {}, [])


def _example_args(example: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    if isinstance(example, Mapping):
        return (), dict(example)
    if isinstance(example, tuple):
        return example, {}
    return (example,), {}


def _export_trace(model: nn.Module, builder: ArchBuilder, example: Any) -> None:
    """Trace with torch.export (sees through Hugging Face and nn.Transformer code that fx
    cannot trace); its ATen graph goes through the same rules."""
    args, kwargs = _example_args(example)
    with warnings.catch_warnings(), torch.enable_grad():
        # grad enabled: nn.TransformerEncoderLayer and nn.MultiheadAttention then take their
        # plain path (linear, sdpa) instead of one fused kernel holding every weight
        warnings.simplefilter("ignore")
        program = torch.export.export(model, args, kwargs, strict=False)
    signature = program.graph_signature
    params = dict(signature.inputs_to_parameters)
    _Interpreter(model, builder).run(program.graph, params, list(signature.user_inputs))


def hf_example_input(model: nn.Module) -> dict[str, Any] | None:
    """A small input for a Hugging Face model built from its config (no tokenizer needed)."""
    config = getattr(model, "config", None)
    main = getattr(model, "main_input_name", None)
    if config is None or main is None:
        return None
    out: dict[str, Any] = {}
    if main == "input_ids" and getattr(config, "vocab_size", None):
        limit = int(getattr(config, "max_position_embeddings", 8) or 8)
        out["input_ids"] = torch.randint(0, int(config.vocab_size), (1, min(8, limit)))
    elif main == "pixel_values" and getattr(config, "image_size", None):
        size = config.image_size
        size = size if isinstance(size, (tuple, list)) else (size, size)
        out["pixel_values"] = torch.randn(1, int(getattr(config, "num_channels", 3)), *size)
    else:
        return None
    if getattr(config, "use_cache", None) is not None:
        import inspect

        sig = inspect.signature(model.forward).parameters
        if "use_cache" in sig or any(p.kind == p.VAR_KEYWORD for p in sig.values()):
            out["use_cache"] = False
    return out


def _guess_example(model: nn.Module) -> Any:
    """Token ids for a model whose first weighted module is an nn.Embedding."""
    for module in model.modules():
        if isinstance(module, nn.Embedding):
            return torch.randint(0, module.num_embeddings, (2, 8))
        if isinstance(module, _WEIGHTED):
            return None
    return None


def _leaf_weighted_modules(model: nn.Module, example_input: Any) -> list[str]:
    names = [n for n, m in model.named_modules() if isinstance(m, _WEIGHTED)]
    # the out_proj of an nn.MultiheadAttention belongs to it, not to the chain
    names = [n for n in names if not any(n.startswith(f"{o}.") for o in names if o != n)]
    if example_input is None:
        return names
    order: list[str] = []
    handles = []
    for n in names:

        def hook(_m: nn.Module, _a: Any, _o: Any, n: str = n) -> None:
            if n not in order:
                order.append(n)

        handles.append(model.get_submodule(n).register_forward_hook(hook))
    args, kwargs = _example_args(example_input)
    try:
        with torch.no_grad():
            model(*args, **kwargs)
    finally:
        for h in handles:
            h.remove()
    return order + [n for n in names if n not in order]


def _chain(model: nn.Module, builder: ArchBuilder, example_input: Any) -> None:
    """Last resort: weighted modules in execution (or registration) order. Modules that read
    the very same tensor (q, k and v of one attention) read the same group: parallel branches
    are never chained into a sequence."""
    for name, module in model.named_modules():
        if (
            name
            and not isinstance(module, _WEIGHTED)
            and not _vector_params_only(module)
            and any(True for _ in module.parameters(recurse=False))
        ):
            raise _unsupported(module, name, model)
    inputs: dict[str, int] = {}
    if example_input is not None:
        seen: list[torch.Tensor] = []

        def pre(mod_name: str) -> Any:
            def hook(_m: nn.Module, args: Any) -> None:
                t = args[0] if args and isinstance(args[0], torch.Tensor) else None
                if t is None or mod_name in inputs:
                    return
                for i, s in enumerate(seen):
                    if s is t:
                        inputs[mod_name] = i
                        return
                seen.append(t)
                inputs[mod_name] = len(seen) - 1
            return hook

        handles = [model.get_submodule(n).register_forward_pre_hook(pre(n))
                   for n in _leaf_weighted_modules(model, None)]
        args, kwargs = _example_args(example_input)
        try:
            with torch.no_grad():
                model(*args, **kwargs)
        finally:
            for h in handles:
                h.remove()
    group = "input"
    rnn_out: str | None = None
    source_of: dict[int, str] = {}
    for name in _leaf_weighted_modules(model, example_input):
        module = model.get_submodule(name)
        tensor = inputs.get(name)
        src = source_of.get(tensor, group) if tensor is not None else group
        if tensor is not None:
            source_of.setdefault(tensor, src)
        readout = isinstance(module, nn.Linear) and rnn_out is not None and src == rnn_out
        if isinstance(module, nn.MultiheadAttention):
            out: str | None = _add_mha(builder, name, module, (src, src, src))
        else:
            out = _add_module(builder, model, name, module, src, readout)
        if out is not None:
            if isinstance(module, nn.RNNBase):
                rnn_out = out
            group = out


def _from_mapping(model: nn.Module, mapping: Mapping[str, Any], builder: ArchBuilder) -> None:
    known = effective_parameter_names(model)
    for param, target in mapping.items():
        resolved = _resolve_parameter(model, param) if isinstance(param, str) else None
        if resolved is None:
            raise InputError(
                f"mapping names parameter {param!r}, which the model does not have. Its "
                f"parameters are: {', '.join(known)}"
            )
        src, dst, kind, layout = parse_mapping_entry(param, target)
        tensor = effective_parameter(*resolved)
        if tensor.dim() == 1:
            how, n_in, n_out = "vector", 1, int(tensor.shape[0])
        elif tensor.dim() == 2:
            how = layout
            n_out, n_in = (int(tensor.shape[0]), int(tensor.shape[1]))
            if layout == "in_out":
                n_in, n_out = n_out, n_in
        elif tensor.dim() in (3, 4):
            how, n_out, n_in = "conv", int(tensor.shape[0]), int(tensor.shape[1])
        else:
            raise InputError(
                f"mapping: {param!r} has shape {tuple(tensor.shape)}; only 1-D to "
                "4-D parameters can be recorded."
            )
        builder.add(LayerSpec(param, src, dst, n_in, n_out, kind), MatrixRecipe(param, how))


def parse_mapping_entry(param: str, target: Any) -> tuple[str, str, str, str]:
    """Normalise one mapping value to (src_group, dst_group, kind, layout).

    Accepted: ``("src", "dst")``, ``("src", "dst", "kind")``, or a dict with keys ``src``,
    ``dst`` and optional ``kind`` (default "custom") and ``layout`` ("out_in" = torch's
    (out, in), the default, or "in_out").

    >>> parse_mapping_entry("w", {"src": "a", "dst": "b", "layout": "in_out"})
    ('a', 'b', 'custom', 'in_out')
    """
    from sparsetopo.topology import LAYER_KINDS

    if isinstance(target, Mapping):
        src, dst = target.get("src"), target.get("dst")
        kind, layout = target.get("kind", "custom"), target.get("layout", "out_in")
    elif isinstance(target, (tuple, list)) and len(target) in (2, 3):
        src, dst = target[0], target[1]
        kind, layout = (target[2] if len(target) == 3 else "custom"), "out_in"
    else:
        raise InputError(
            f"mapping[{param!r}] = {target!r}; use ('src_group', 'dst_group'), "
            "('src_group', 'dst_group', 'kind') or {'src': ..., 'dst': ..., 'layout': 'in_out'}."
        )
    check_name(src, "source group", f"mapping[{param!r}]")
    check_name(dst, "target group", f"mapping[{param!r}]")
    if kind not in LAYER_KINDS:
        raise InputError(f"mapping[{param!r}]: kind {kind!r} is not one of {LAYER_KINDS}.")
    if layout not in ("out_in", "in_out"):
        raise InputError(f"mapping[{param!r}]: layout must be 'out_in' (torch) or 'in_out'.")
    return str(src), str(dst), str(kind), str(layout)


# --------------------------------------------------------------------------------------------
# ModelGraph
# --------------------------------------------------------------------------------------------


class ModelGraph:
    """A torch model seen as layers of signed weighted edges between neuron groups.

    ``capture()`` is the only part meant for the training thread: it copies each layer's
    effective weight to a float32 (n_in, n_out) numpy array. ``edges()`` turns a capture into
    sorted nonzero lists and can run elsewhere.

    >>> rnn = torch.nn.GRU(2, 3)
    >>> g = ModelGraph(rnn)
    >>> [s.name for s in g.architecture.layers][:2]
    ['weight_ih_l0.r', 'weight_ih_l0.z']
    """

    def __init__(
        self,
        model: nn.Module,
        mapping: dict | None = None,
        example_input: Any = None,
        layers: Iterable[str] | str | None = None,
    ) -> None:
        self.model = model
        #: Non-finite weights dropped by the last snapshot() (allow_nonfinite=True).
        self.last_dropped_nonfinite = 0
        #: How the architecture was found: "mapping", "module", "torch.fx", "torch.export",
        #: "execution order" or "registration order".
        self.traced_with = "mapping"
        builder = ArchBuilder()
        if mapping:
            _from_mapping(model, mapping, builder)
        elif isinstance(model, _WEIGHTED) and not isinstance(model, nn.MultiheadAttention):
            self.traced_with = "module"
            _add_module(builder, model, "", model, "input", False)
        else:
            builder = self._find_layers(model, example_input)
        if not builder.layers:
            raise InputError(
                f"found no Linear/Conv/RNN weights in {type(model).__name__}; pass "
                "mapping={'param.name': ('src_group', 'dst_group')}. Parameters: "
                + ", ".join(effective_parameter_names(model))
            )
        architecture, recipes = builder.build()
        if layers is not None:
            architecture, recipes = select_layers(architecture, recipes, layers)
        self.architecture, self._recipes = architecture, recipes
        self._params: dict[str, tuple[nn.Module, str]] = {}
        for recipe in self._recipes.values():
            if recipe.how == "expand":
                continue
            resolved = _resolve_parameter(model, recipe.param)
            if resolved is None:
                raise InputError(f"cannot find parameter {recipe.param!r} in the model.")
            self._params[recipe.param] = resolved
        self.architecture = self._mark_tied(self.architecture)

    def _mark_tied(self, arch: Architecture) -> Architecture:
        """A layer reading the same parameter (same block) as an earlier one is tied to it."""
        first: dict[tuple[int, Any], str] = {}
        specs = []
        for spec in arch.layers:
            recipe = self._recipes[spec.name]
            if recipe.how != "expand":
                key = (id(getattr(*self._params[recipe.param])), recipe.rows)
                if key in first and spec.tied_to is None:
                    spec = replace(spec, tied_to=first[key])
                first.setdefault(key, spec.name)
            specs.append(spec)
        return Architecture(groups=arch.groups, layers=tuple(specs))

    def _find_layers(self, model: nn.Module, example_input: Any) -> ArchBuilder:
        """torch.fx first (no input needed), then torch.export (Hugging Face models, models
        with untraceable control flow), then execution order, then registration order."""
        hf = any(c.__module__.startswith("transformers.") for c in type(model).__mro__)
        example = example_input
        if example is None:
            example = hf_example_input(model) if hf else _guess_example(model)
        failures: list[str] = []
        attempts: list[tuple[str, Any]] = []
        if not hf:
            attempts.append(("torch.fx", lambda b: _trace(model, b, example)))
        if example is not None:
            attempts.append(("torch.export", lambda b: _export_trace(model, b, example)))
        for how, attempt in attempts:
            builder = ArchBuilder()
            try:
                attempt(builder)
            except InputError:
                raise
            except Exception as exc:  # tracers raise many types for untraceable code
                failures.append(f"{how}: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
                                if str(exc) else f"{how}: {type(exc).__name__}")
                continue
            self.traced_with = how
            return builder
        how = "execution order" if example is not None else "registration order"
        warnings.warn(
            f"could not trace {type(model).__name__} ({'; '.join(failures)}); recording its "
            f"Linear/Conv/RNN/Embedding/attention modules in {how}. Pass example_input=... "
            "(so torch.export can trace it) or mapping=... if layers do not simply feed one "
            "another.",
            stacklevel=3,
        )
        self.traced_with = how
        builder = ArchBuilder()
        _chain(model, builder, example)
        return builder

    def capture(self) -> dict[str, np.ndarray]:
        """Fresh float32 (n_in, n_out) copies of every layer's effective weight."""
        tensors = {p: effective_parameter(m, a) for p, (m, a) in self._params.items()}
        return {
            name: expansion_matrix(*r.expand) if r.expand is not None
            else tensor_to_matrix(tensors[r.param], r)
            for name, r in self._recipes.items()
        }

    def edges(
        self, captured: dict[str, np.ndarray], allow_nonfinite: bool = False
    ) -> tuple[dict[str, LayerEdges], int]:
        """Nonzero edges per layer, sorted by (src, dst), and the count of dropped NaN/Inf."""
        out: dict[str, LayerEdges] = {}
        dropped = 0
        for spec in self.architecture.layers:
            edges, bad = matrix_edges(captured[spec.name], allow_nonfinite, f"layer {spec.name!r}")
            out[spec.name] = edges
            dropped += bad
        return out, dropped

    def snapshot(
        self,
        step: int = 0,
        epoch: int | None = None,
        metrics: dict | None = None,
        allow_nonfinite: bool = False,
    ) -> GraphSnapshot:
        """capture() + edges(). Dropped non-finite weights are counted in
        ``last_dropped_nonfinite`` and, when nonzero, in the metric ``nonfinite_dropped``."""
        layers, dropped = self.edges(self.capture(), allow_nonfinite)
        self.last_dropped_nonfinite = dropped
        m = dict(metrics or {})
        if dropped:
            m["nonfinite_dropped"] = float(dropped)
            warnings.warn(f"step {step}: dropped {dropped} NaN/Inf weight(s).", stacklevel=2)
        return GraphSnapshot(layers=layers, step=step, epoch=epoch, metrics=m)
