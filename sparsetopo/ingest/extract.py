"""Turn a live torch model into an :class:`~sparsetopo.topology.Architecture` plus, per snapshot,
the nonzero entries of every weight matrix.

>>> from sparsetopo.errors import MissingExtraError

try:
    import torch
except ImportError as exc:  # torch is the optional [train] extra
    raise MissingExtraError("torch", "train", "reading PyTorch models") from exc
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

import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from sparsetopo.errors import InputError
from sparsetopo.topology import Architecture, GraphSnapshot, LayerEdges, LayerSpec

RNN_GATES: dict[str, tuple[str, ...]] = {
    "RNN": ("",),
    "GRU": ("r", "z", "n"),
    "LSTM": ("i", "f", "g", "o"),
}
#: Gate names by gate count, for state dicts that only tell us how many rows weight_hh has.
GATES_BY_COUNT: dict[int, tuple[str, ...]] = {1: ("",), 3: ("r", "z", "n"), 4: ("i", "f", "g", "o")}

# Modules whose parameters act element-wise, so they keep unit identity and carry no edges.
_ELEMENTWISE_PARAM_MODULES: tuple[type[nn.Module], ...] = (
    nn.modules.batchnorm._BatchNorm,
    nn.modules.instancenorm._InstanceNorm,
    nn.LayerNorm,
    nn.GroupNorm,
    nn.PReLU,
)
_CONCAT_FUNCS = {torch.cat, torch.concat, torch.stack, torch.hstack, torch.vstack}
MAX_NAME_LEN = 200


# --------------------------------------------------------------------------------------------
# Tensor -> (n_in, n_out) matrix
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MatrixRecipe:
    """How one layer's (n_in, n_out) matrix is cut from a torch parameter.

    param:  effective parameter name ("fc1.weight", "rnn.weight_hh_l0").
    how:    "out_in" (torch layout, transposed), "in_out" (stored as is), "conv" (kernel
            reduced, see :func:`reduce_conv_kernel`) or "vector" (a 1-D parameter read as one
            source unit feeding every target, i.e. a bias turned into edges).
    rows:   (start, stop) of the torch rows to keep (one gate of a GRU/LSTM), or None.
    groups: conv ``groups`` (channels connect only within their group).
    """

    param: str
    how: str = "out_in"
    rows: tuple[int, int] | None = None
    groups: int = 1


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
        t = t[recipe.rows[0] : recipe.rows[1]]
    # numpy's copy of a CPU tensor's buffer is ~50x faster than torch's .to(copy=True) here
    # (0.2 ms vs 10 ms per 1e6 weights), and capture() runs in the training thread.
    arr = np.array(t.cpu().numpy(), dtype=np.float32, copy=True)
    return arr if recipe.how == "in_out" else arr.T


_F32 = np.finfo(np.float32)


def as_float32_weights(matrix: np.ndarray, where: str = "layer") -> np.ndarray:
    """`matrix` as the float32 weights that will be stored, checked after the cast.

    A finite value that overflows float32 (``|w| > 3.4e38``) or a nonzero value that
    underflows to 0 (``|w| < 1.4e-45``) would be stored as Inf, or as an edge without a sign;
    both raise. Complex and non-numeric matrices raise too.

    Parameters
    ----------
    matrix : array_like
        Any real numeric matrix (float16/32/64, integers, booleans).
    where : str
        Names the file or layer in error messages.

    Returns
    -------
    numpy.ndarray
        float32 (the input itself when it already is float32).

    Raises
    ------
    InputError
        Complex or non-numeric dtype, or values outside float32's range.

    Examples
    --------
    >>> as_float32_weights(np.array([[0.5, 0.0]])).dtype
    dtype('float32')
    """
    arr = np.asarray(matrix)
    if arr.dtype.kind == "c":
        raise InputError(
            f"{where}: complex weights ({arr.dtype}); sparsetopo stores real signed weights. "
            "Save the real part (np.real) or whatever real quantity you mean, explicitly."
        )
    if arr.dtype.kind not in "fiub":
        raise InputError(f"{where}: weights of dtype {arr.dtype} are not numbers.")
    if arr.dtype == np.float32:
        return arr
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        m = arr.astype(np.float32)
    if arr.dtype.kind == "f" and arr.dtype.itemsize > 4:
        finite = np.isfinite(arr)
        overflow = finite & ~np.isfinite(m)
        if overflow.any():
            i, j = (int(v[0]) for v in np.nonzero(overflow.reshape(arr.shape[0], -1)))
            raise InputError(
                f"{where}: weight {float(arr.reshape(arr.shape[0], -1)[i, j])!r} at (src={i}, dst={j}) "
                f"is outside the float32 range (|w| <= {float(_F32.max):.3g}) in which weights "
                "are stored; rescale the weights."
            )
        underflow = (arr != 0) & finite & (m == 0)
        if underflow.any():
            i, j = (int(v[0]) for v in np.nonzero(underflow.reshape(arr.shape[0], -1)))
            raise InputError(
                f"{where}: weight {float(arr.reshape(arr.shape[0], -1)[i, j])!r} at (src={i}, dst={j}) "
                f"is nonzero but below float32's smallest magnitude "
                f"({float(_F32.smallest_subnormal):.2g}), so it would be stored as 0; set "
                f"{int(underflow.sum())} such weight(s) to 0 (remove the edges) or rescale."
            )
    return m


def matrix_edges(
    matrix: np.ndarray, allow_nonfinite: bool = False, where: str = "layer"
) -> tuple[LayerEdges, int]:
    """Nonzero entries of an (n_in, n_out) matrix, sorted by (src, dst), and the number of
    non-finite entries dropped (only when ``allow_nonfinite``; otherwise they raise).

    >>> e, dropped = matrix_edges(np.array([[0.0, 2.0], [np.nan, 0.0]]), allow_nonfinite=True)
    >>> e.src.tolist(), e.dst.tolist(), e.w.tolist(), dropped
    ([0], [1], [2.0], 1)
    """
    m = as_float32_weights(matrix, where)
    dropped = 0
    if not np.isfinite(m).all():
        bad = ~np.isfinite(m)
        dropped = int(bad.sum())
        if not allow_nonfinite:
            i, j = (int(v[0]) for v in np.nonzero(bad))
            raise InputError(
                f"{where}: {dropped} NaN/Inf weight(s), first at (src={i}, dst={j}). "
                "Fix the training run, or pass allow_nonfinite=True (--allow-nonfinite) to "
                "drop them and report the count."
            )
        m = np.where(bad, np.float32(0), m)
    src, dst = np.nonzero(m)  # row-major over logical indices, so sorted by (src, dst)
    return LayerEdges(src, dst, m[src, dst]), dropped


def check_name(name: object, what: str, where: str = "") -> str:
    """Group/layer names must be non-empty printable strings of at most 200 characters.

    Quotes, backticks or Cypher-looking text are fine: names only ever travel as parameters.
    """
    prefix = f"{where}: " if where else ""
    if not isinstance(name, str) or not name:
        raise InputError(f"{prefix}{what} name must be a non-empty string, got {name!r}.")
    if len(name) > MAX_NAME_LEN:
        raise InputError(
            f"{prefix}{what} name is {len(name)} characters long ({name[:40]!r}...); "
            f"shorten it to at most {MAX_NAME_LEN}."
        )
    if not name.isprintable():
        raise InputError(
            f"{prefix}{what} name {name!r} contains non-printable characters (newline, tab, "
            "control codes); rename it."
        )
    return name


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
        derived = self._unique(via)
        warnings.warn(
            f"{via!r} reads {n_in} units but group {group!r} has {known}; recording its sources "
            f"as a separate group {derived!r}.",
            stacklevel=4,
        )
        return self.touch(derived, n_in)

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
            for spec, _ in self.layers:
                if self.find(spec.src_group) == g:
                    nxt = self.find(spec.dst_group)
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
        # an identity skip (h + f(h)) adds nothing new: keep the downstream group
        kept = [g for g in distinct if not any(self.reaches(g, o) for o in distinct if o != g)]
        first = kept[0]
        for other in kept[1:]:
            if self.sizes.get(other) not in (None, self.sizes.get(first)):
                return self.touch(self._unique(node_name))
            self.alias[other] = first
            if other in self.sizes and first not in self.sizes:
                self.sizes[first] = self.sizes[other]
        return first

    def build(self) -> tuple[Architecture, dict[str, MatrixRecipe]]:
        specs: list[LayerSpec] = []
        recipes: dict[str, MatrixRecipe] = {}
        for pos, (spec, recipe) in enumerate(self.layers):
            fixed = replace(
                spec,
                src_group=self.find(spec.src_group),
                dst_group=self.find(spec.dst_group),
                position=pos,
            )
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
    params = ", ".join(effective_parameter_names(model))
    return InputError(
        f"module {name!r} ({type(module).__name__}) has weights sparsetopo cannot map to edges "
        f"automatically. Pass mapping={{'param.name': ('src_group', 'dst_group')}}; the model's "
        f"parameters are: {params}"
    )


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
    if isinstance(module, (nn.Conv1d, nn.Conv2d)):
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
    if isinstance(module, _ELEMENTWISE_PARAM_MODULES):
        return None
    if any(True for _ in module.parameters(recurse=False)) or any(
        True for _ in module.parameters()
    ):
        raise _unsupported(module, name, model)
    return None


_WEIGHTED = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.RNNBase)


def _node_groups(values: Iterable[Any], env: Mapping[Any, str | None]) -> list[str]:
    found: list[str] = []

    def visit(v: Any) -> None:
        if isinstance(v, torch.fx.Node):
            g = env.get(v)
            if g is not None:
                found.append(g)
        elif isinstance(v, (list, tuple)):
            for x in v:
                visit(x)
        elif isinstance(v, dict):
            for x in v.values():
                visit(x)

    for v in values:
        visit(v)
    return found


def _trace(model: nn.Module, builder: ArchBuilder) -> None:
    graph = torch.fx.symbolic_trace(model).graph
    env: dict[torch.fx.Node, str | None] = {}
    produced_by_rnn: set[str] = set()
    called: dict[str, str | None] = {}
    placeholders = [n for n in graph.nodes if n.op == "placeholder"]
    for node in graph.nodes:
        if node.op == "placeholder":
            env[node] = "input" if node is placeholders[0] else f"input_{node.name}"
        elif node.op == "get_attr":
            value = _get_attr(model, str(node.target))
            if isinstance(value, torch.Tensor) and value.dim() >= 2:
                raise InputError(
                    f"the forward pass uses parameter {node.target!r} directly (not through a "
                    "Linear/Conv/RNN module); pass mapping={'"
                    f"{node.target}': ('src_group', 'dst_group')}} to record it."
                )
            env[node] = None
        elif node.op == "call_module":
            name = str(node.target)
            module = model.get_submodule(name)
            groups = _node_groups(node.args[:1], env)
            src = builder.merge(groups, node.name, False) if groups else "input"
            if name in called:
                if isinstance(module, _WEIGHTED):
                    warnings.warn(
                        f"module {name!r} is called more than once; its shared weights are "
                        "recorded once, from its first call.",
                        stacklevel=3,
                    )
                out = called[name]
                env[node] = out if out is not None else src
                continue
            readout = isinstance(module, nn.Linear) and builder.find(src) in produced_by_rnn
            out = _add_module(builder, model, name, module, src, readout)
            if isinstance(module, nn.RNNBase) and out is not None:
                produced_by_rnn.add(out)
            called[name] = out
            env[node] = out if out is not None else src
        elif node.op in ("call_function", "call_method"):
            groups = _node_groups(list(node.args) + list(node.kwargs.values()), env)
            concat = node.target in _CONCAT_FUNCS or node.target in ("cat", "stack")
            env[node] = builder.merge(groups, node.name, concat) if groups else None


def _get_attr(model: nn.Module, target: str) -> Any:
    obj: Any = model
    for part in target.split("."):
        obj = getattr(obj, part)
    return obj


def _leaf_weighted_modules(model: nn.Module, example_input: torch.Tensor | None) -> list[str]:
    names = [n for n, m in model.named_modules() if isinstance(m, _WEIGHTED)]
    if example_input is None:
        return names
    order: list[str] = []
    handles = []
    for n in names:

        def hook(_m: nn.Module, _a: Any, _o: Any, n: str = n) -> None:
            if n not in order:
                order.append(n)

        handles.append(model.get_submodule(n).register_forward_hook(hook))
    try:
        with torch.no_grad():
            model(example_input)
    finally:
        for h in handles:
            h.remove()
    return order + [n for n in names if n not in order]


def _chain(model: nn.Module, builder: ArchBuilder, example_input: torch.Tensor | None) -> None:
    for name, module in model.named_modules():
        if (
            name
            and not isinstance(module, _WEIGHTED + _ELEMENTWISE_PARAM_MODULES)
            and any(True for _ in module.parameters(recurse=False))
        ):
            raise _unsupported(module, name, model)
    group = "input"
    rnn_out: str | None = None
    for name in _leaf_weighted_modules(model, example_input):
        module = model.get_submodule(name)
        readout = isinstance(module, nn.Linear) and rnn_out is not None and group == rnn_out
        out = _add_module(builder, model, name, module, group, readout)
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
        example_input: torch.Tensor | None = None,
    ) -> None:
        self.model = model
        #: Non-finite weights dropped by the last snapshot() (allow_nonfinite=True).
        self.last_dropped_nonfinite = 0
        builder = ArchBuilder()
        if mapping:
            _from_mapping(model, mapping, builder)
        elif isinstance(model, _WEIGHTED):
            _add_module(builder, model, "", model, "input", False)
        else:
            try:
                _trace(model, builder)
            except InputError:
                raise
            except Exception as exc:  # fx raises many types for untraceable code
                how = "execution order" if example_input is not None else "registration order"
                warnings.warn(
                    f"torch.fx could not trace {type(model).__name__} ({type(exc).__name__}: "
                    f"{exc}); chaining its Linear/Conv/RNN modules in {how}. Pass mapping=... "
                    "if layers do not simply feed one another.",
                    stacklevel=2,
                )
                builder = ArchBuilder()
                _chain(model, builder, example_input)
        if not builder.layers:
            raise InputError(
                f"found no Linear/Conv/RNN weights in {type(model).__name__}; pass "
                "mapping={'param.name': ('src_group', 'dst_group')}. Parameters: "
                + ", ".join(effective_parameter_names(model))
            )
        self.architecture, self._recipes = builder.build()
        self._params: dict[str, tuple[nn.Module, str]] = {}
        for recipe in self._recipes.values():
            resolved = _resolve_parameter(model, recipe.param)
            if resolved is None:
                raise InputError(f"cannot find parameter {recipe.param!r} in the model.")
            self._params[recipe.param] = resolved

    def capture(self) -> dict[str, np.ndarray]:
        """Fresh float32 (n_in, n_out) copies of every layer's effective weight."""
        tensors = {p: effective_parameter(m, a) for p, (m, a) in self._params.items()}
        return {name: tensor_to_matrix(tensors[r.param], r) for name, r in self._recipes.items()}

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
