"""The typed objects of the analyze path.

What is analysed (the plan and its parts), the tasks that compute it, the results they return,
and the progress events a caller can draw.

The plan is derived once from a run's :class:`~sparsetopo.topology.Architecture` and works for
any group graph (definitions in ``docs/analysis.md``, "Analysis of any architecture"):

* **model**: the whole-model neuron graph, every unit of every group a distinct node and every
  layer's edges between them (a :class:`~sparsetopo.analysis.SignedGraph`); triad census,
  signed census and FFL balance.
* **chain**: every *maximal chain* of feed-forward layers (:func:`maximal_chains`) as a
  :class:`~sparsetopo.analysis.LayeredGraph`; Zahn's layered motifs and 4-cycle balance.
* **recurrent**: every recurrent layer (``src_group == dst_group``, each gate of a gated RNN
  and each layer of a multi-layer RNN) as a SignedGraph.
* **layer**: per-layer bookkeeping (edge counts, overlap, NNSTD) for every layer.

Two shapes keep the analysis they have always had, so that stored results of old runs keep
their meaning: one feed-forward chain through every layer (an MLP: the chain is the primary and
only part) and exactly one recurrent layer (a vanilla RNN: that layer, with its single input and
readout layer in the NNSTD matching). Every other architecture gets all parts, and the model
graph is the *primary* part, whose statistics are the snapshot's headline properties.

Everything here is picklable plain data, so tasks and results cross process boundaries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from sparsetopo.errors import InputError
from sparsetopo.topology import Architecture, LayerSpec

__all__ = [
    "AnalysisOptions",
    "AnalysisPlan",
    "Edges",
    "GraphPart",
    "PairResult",
    "PairTask",
    "PartResult",
    "ProgressCallback",
    "ProgressEvent",
    "SnapshotRef",
    "SnapshotResult",
    "SnapshotTask",
    "is_recurrent",
    "maximal_chains",
    "model_offsets",
    "plan_analysis",
]

#: Plain edges of one snapshot: layer name -> (src, dst, w) arrays.
Edges = dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]

#: Part kinds.
PART_KINDS = ("model", "chain", "recurrent", "layer")


def is_recurrent(spec: LayerSpec) -> bool:
    """Whether a layer maps a group onto itself (a cycle within one group)."""
    return spec.src_group == spec.dst_group


@dataclass(frozen=True)
class GraphPart:
    """One analysed graph of a snapshot.

    Attributes
    ----------
    name : str
        ``"model"``, ``"chain:<first layer>"``, ``"recurrent:<layer>"`` or ``"layer:<layer>"``.
    kind : str
        One of ``PART_KINDS``.
    layers : tuple of str
        Its layers: every layer (model), the chain in data-flow order, or the one layer.
    sizes : tuple of int
        ``(n,)`` for a recurrent layer and the model graph (total units); ``(n_0, ..., n_L)``
        for a chain and a single layer.
    input_layer, readout_layer : str or None
        For the recurrent part of the legacy RNN shape: its single input and readout layer
        (they join the NNSTD matching).
    """

    name: str
    kind: str
    layers: tuple[str, ...]
    sizes: tuple[int, ...]
    input_layer: str | None = None
    readout_layer: str | None = None

    @property
    def signed(self) -> bool:
        """Whether the part is analysed as a SignedGraph (model, recurrent) or layered."""
        return self.kind in ("model", "recurrent")


@dataclass(frozen=True)
class AnalysisPlan:
    """What ``analyze`` computes for every snapshot of one run.

    Attributes
    ----------
    parts : tuple of GraphPart
        The analysed graphs (the primary first).
    primary : str
        Name of the part whose statistics are stored as the snapshot's properties.
    shapes : dict of str to (int, int)
        ``(n_in, n_out)`` of every layer.
    layer_order : tuple of str
        Every layer in the architecture's order (per-layer results use it).
    groups : dict of str to int
        Neuron groups (name -> units), in the architecture's order.
    group_of : dict of str to (str, str)
        Layer -> (src_group, dst_group).
    legacy : bool
        True for the two shapes analysed as before (one chain, or one recurrent layer), and for
        ``layer=`` plans.
    """

    parts: tuple[GraphPart, ...]
    primary: str
    shapes: dict[str, tuple[int, int]] = field(default_factory=dict)
    layer_order: tuple[str, ...] = ()
    groups: dict[str, int] = field(default_factory=dict)
    group_of: dict[str, tuple[str, str]] = field(default_factory=dict)
    legacy: bool = True

    def part(self, name: str) -> GraphPart:
        """Return the part called ``name`` (InputError listing the parts otherwise)."""
        for p in self.parts:
            if p.name == name:
                return p
        raise InputError(
            f"unknown part {name!r}; this plan has: {', '.join(p.name for p in self.parts)}"
        )

    @property
    def primary_part(self) -> GraphPart:
        """The part whose statistics are the snapshot's headline properties."""
        return self.part(self.primary)

    @property
    def balance_marker(self) -> str:
        """``analysis_balance`` value saying the balance of this plan is stored."""
        return "v1" if self.legacy else f"v2:{self.primary}"


def model_offsets(groups: Mapping[str, int]) -> dict[str, int]:
    """Node id of unit 0 of every group in the whole-model neuron graph.

    Groups are numbered in the architecture's order, units of a group consecutively.

    Examples
    --------
    >>> model_offsets({"input": 3, "h": 4, "out": 2})
    {'input': 0, 'h': 3, 'out': 7}
    """
    out: dict[str, int] = {}
    total = 0
    for name, size in groups.items():
        out[name] = total
        total += int(size)
    return out


def maximal_chains(arch: Architecture) -> list[tuple[LayerSpec, ...]]:
    """Split the feed-forward layers of an architecture into maximal chains.

    Parameters
    ----------
    arch : Architecture
        Any groups and layers.

    Returns
    -------
    list of tuple of LayerSpec
        Every chain in data-flow order; chains ordered by the position of their first layer.
        Every feed-forward layer is in exactly one chain.

    Notes
    -----
    Count, for every group, the feed-forward layers (``src_group != dst_group``) writing it
    (in-degree) and reading it (out-degree). A group *links* when both degrees are 1: its only
    writer and its only reader follow each other. A maximal chain is a maximal sequence of
    feed-forward layers ``L1, ..., Lk`` in which ``Li.dst_group == L(i+1).src_group`` is a
    linking group for every i: the unbranched runs of the group graph (the unitigs of genome
    assembly). A chain starts at a layer whose source group does not link and ends at a layer
    whose target group does not link; a ring of linking groups (a cycle with no way in or out)
    is one chain starting at its layer of lowest position. A residual block's convolutions form
    a chain between the residual group and itself; a downsampling projection, an attention
    query projection or a layer into a group that many layers write is a chain of its own.

    Examples
    --------
    >>> from sparsetopo.topology import LayerSpec as L
    >>> arch = Architecture({"x": 4, "a": 3, "y": 4},
    ...                     (L("c1", "x", "a", 4, 3, position=0),
    ...                      L("c2", "a", "y", 3, 4, position=1),
    ...                      L("skip", "x", "y", 4, 4, position=2)))
    >>> [[s.name for s in c] for c in maximal_chains(arch)]
    [['c1', 'c2'], ['skip']]
    """
    ff = sorted((s for s in arch.layers if not is_recurrent(s)), key=lambda s: s.position)
    indeg: dict[str, int] = {}
    outdeg: dict[str, int] = {}
    for s in ff:
        indeg[s.dst_group] = indeg.get(s.dst_group, 0) + 1
        outdeg[s.src_group] = outdeg.get(s.src_group, 0) + 1

    def links(group: str) -> bool:
        return indeg.get(group, 0) == 1 and outdeg.get(group, 0) == 1

    reader = {s.src_group: s for s in ff if links(s.src_group)}
    used: set[str] = set()
    chains: list[tuple[LayerSpec, ...]] = []

    def walk(first: LayerSpec) -> tuple[LayerSpec, ...]:
        chain = [first]
        used.add(first.name)
        cur = first
        while links(cur.dst_group):
            nxt = reader[cur.dst_group]
            if nxt.name in used:
                break
            chain.append(nxt)
            used.add(nxt.name)
            cur = nxt
        return tuple(chain)

    for s in ff:  # chains with a start
        if s.name not in used and not links(s.src_group):
            chains.append(walk(s))
    for s in ff:  # rings of linking groups
        if s.name not in used:
            chains.append(walk(s))
    chains.sort(key=lambda c: c[0].position)
    return chains


def _sizes(chain: tuple[LayerSpec, ...]) -> tuple[int, ...]:
    return (chain[0].n_in, *(s.n_out for s in chain))


def _layer_parts(arch: Architecture) -> list[GraphPart]:
    return [GraphPart(f"layer:{s.name}", "layer", (s.name,), (s.n_in, s.n_out))
            for s in arch.layers]


def plan_analysis(arch: Architecture, layer: str | None = None) -> AnalysisPlan:
    """Choose the analysed graphs of an architecture (rules in the module docstring).

    Parameters
    ----------
    arch : Architecture
        The run's groups and layers.
    layer : str or None
        Analyse this one layer only (a recurrent part, or a one-layer chain).

    Returns
    -------
    AnalysisPlan
        The plan.

    Raises
    ------
    InputError
        If the run has no layers, or ``layer`` is not one of them (the message lists them).

    Examples
    --------
    >>> from sparsetopo.topology import LayerSpec as L
    >>> arch = Architecture({"in": 2, "h": 3},
    ...                     (L("w_ih", "in", "h", 2, 3, position=0),
    ...                      L("w_hh.i", "h", "h", 3, 3, "recurrent", "i", 1),
    ...                      L("w_hh.f", "h", "h", 3, 3, "recurrent", "f", 1)))
    >>> [p.name for p in plan_analysis(arch).parts]
    ['model', 'chain:w_ih', 'recurrent:w_hh.i', 'recurrent:w_hh.f', 'layer:w_ih', 'layer:w_hh.i', 'layer:w_hh.f']
    """
    if not arch.layers:
        raise InputError("the run has no layers to analyse")
    shapes = {s.name: (s.n_in, s.n_out) for s in arch.layers}
    common: dict[str, Any] = dict(
        shapes=shapes,
        layer_order=tuple(s.name for s in arch.layers),
        groups=dict(arch.groups),
        group_of={s.name: (s.src_group, s.dst_group) for s in arch.layers},
    )
    layer_parts = _layer_parts(arch)
    if layer is not None:
        names = [s.name for s in arch.layers]
        if layer not in names:
            raise InputError(
                f"unknown layer {layer!r} (--layer); this run's layers: {', '.join(names)}"
            )
        spec = next(s for s in arch.layers if s.name == layer)
        if is_recurrent(spec):
            part = GraphPart(f"recurrent:{spec.name}", "recurrent", (spec.name,), (spec.n_in,))
        else:
            part = GraphPart(f"chain:{spec.name}", "chain", (spec.name,), (spec.n_in, spec.n_out))
        only = [p for p in layer_parts if p.layers == (spec.name,)]
        return AnalysisPlan((part, *only), part.name, **common)

    recurrent = [s for s in arch.layers if is_recurrent(s)]
    chains = maximal_chains(arch)
    if len(recurrent) == 1:
        rec = recurrent[0]
        group = rec.src_group
        inputs = [s for s in arch.layers if s.dst_group == group and not is_recurrent(s)]
        readouts = [s for s in arch.layers if s.src_group == group and not is_recurrent(s)]
        others = [s for s in arch.layers if s is not rec and s not in inputs and s not in readouts]
        if len(inputs) <= 1 and len(readouts) <= 1 and not others:
            part = GraphPart(
                f"recurrent:{rec.name}", "recurrent", (rec.name,), (rec.n_in,),
                inputs[0].name if inputs else None, readouts[0].name if readouts else None,
            )
            return AnalysisPlan((part, *layer_parts), part.name, **common)
    if not recurrent and len(chains) == 1 and len(chains[0]) == len(arch.layers):
        chain = chains[0]
        part = GraphPart(f"chain:{chain[0].name}", "chain", tuple(s.name for s in chain),
                         _sizes(chain))
        return AnalysisPlan((part, *layer_parts), part.name, **common)

    model = GraphPart("model", "model", tuple(s.name for s in arch.layers),
                      (sum(arch.groups.values()),))
    parts = [model]
    parts += [GraphPart(f"chain:{c[0].name}", "chain", tuple(s.name for s in c), _sizes(c))
              for c in chains]
    parts += [GraphPart(f"recurrent:{s.name}", "recurrent", (s.name,), (s.n_in,))
              for s in recurrent]
    return AnalysisPlan((*parts, *layer_parts), model.name, legacy=False, **common)


@dataclass(frozen=True)
class AnalysisOptions:
    """What analyze computes.

    Attributes
    ----------
    motifs : bool
        Compute motif Z-scores.
    balance : bool
        Compute the balance statistics (and the exact sign-shuffle Z of the FFL balance).
    null : str or None
        Null model of the motif Z-scores; None picks "switching" (signed graphs: the model
        graph and recurrent layers) or "layer_switching" (chains).
    n_null : int
        Null samples per snapshot.
    seed : int
        Base seed; snapshot ``seq`` uses ``seed + seq``.
    """

    motifs: bool = True
    balance: bool = True
    null: str | None = None
    n_null: int = 100
    seed: int = 0

    def null_model(self, part: GraphPart | AnalysisPlan) -> str:
        """Return the null model used for a part (``null``, or the default for its kind)."""
        if isinstance(part, AnalysisPlan):
            part = part.primary_part
        if self.null is not None:
            return self.null
        return "switching" if part.signed else "layer_switching"

    def motif_spec(self, plan: AnalysisPlan) -> str:
        """Return the spec recorded on the snapshot (``analysis_motifs``).

        A different spec means the motif Z-scores are recomputed.
        """
        spec = f"{self.null_model(plan)}:n={self.n_null}:seed={self.seed}"
        return spec if plan.legacy else f"{spec}:plan=v2:{plan.primary}"

    def only(self, motifs: bool, balance: bool) -> AnalysisOptions:
        """Return these options with only the named computations switched on."""
        return replace(self, motifs=motifs, balance=balance)


@dataclass(frozen=True)
class SnapshotRef:
    """A snapshot by reference: what a task carries instead of its edges."""

    run: str
    seq: int


Loader = Callable[[SnapshotRef], Edges]


@dataclass(frozen=True)
class SnapshotTask:
    """Compute the statistics of one snapshot (``snapshot`` is a ref until resolved)."""

    plan: AnalysisPlan
    options: AnalysisOptions
    seq: int
    snapshot: SnapshotRef | Edges

    kind = "snapshot"

    def refs(self) -> list[SnapshotRef]:
        """Return the snapshots this task still has to read."""
        return [self.snapshot] if isinstance(self.snapshot, SnapshotRef) else []

    def resolve(self, load: Loader) -> SnapshotTask:
        """Return the task with its snapshot read."""
        if isinstance(self.snapshot, SnapshotRef):
            return replace(self, snapshot=load(self.snapshot))
        return self


@dataclass(frozen=True)
class PairTask:
    """Compare two snapshots by NNSTD and edge overlap.

    ``key`` is ``(seq_a, seq_b, do_nnstd, do_overlap)`` within a run, or
    ``(seq_a, seq_b, step_a, step_b)`` between two runs (then both comparisons run).
    """

    plan: AnalysisPlan
    key: tuple[Any, ...]
    a: SnapshotRef | Edges
    b: SnapshotRef | Edges
    do_nnstd: bool = True
    do_overlap: bool = True

    kind = "pair"

    def refs(self) -> list[SnapshotRef]:
        """Return the snapshots this task still has to read."""
        return [x for x in (self.a, self.b) if isinstance(x, SnapshotRef)]

    def resolve(self, load: Loader) -> PairTask:
        """Return the task with its snapshots read."""
        a = load(self.a) if isinstance(self.a, SnapshotRef) else self.a
        b = load(self.b) if isinstance(self.b, SnapshotRef) else self.b
        return replace(self, a=a, b=b)


@dataclass
class PartResult:
    """Statistics of one part of one snapshot (stored as a ``PartResult`` node).

    ``motifs`` is None when motifs were not computed, else the motif rows (each with ``part``).
    """

    part: str
    kind: str
    layers: tuple[str, ...]
    props: dict[str, Any] = field(default_factory=dict)
    motifs: list[dict[str, Any]] | None = None


@dataclass
class SnapshotResult:
    """What a :class:`SnapshotTask` returns.

    ``props`` are the snapshot's properties (the primary part's statistics and ``analysis_*``
    markers); ``motifs`` the motif rows of every part (None when not computed); ``parts`` the
    statistics of every part.
    """

    seq: int
    props: dict[str, Any] = field(default_factory=dict)
    motifs: list[dict[str, Any]] | None = None
    parts: list[PartResult] = field(default_factory=list)

    kind = "snapshot"


@dataclass
class PairResult:
    """What a :class:`PairTask` returns.

    ``nnstd``: {distance, per_layer, layers}; ``overlap``: {jaccard, shared, only_a, only_b,
    sign_flips} over all layers (each None when not asked for); ``layer_overlap``: layer ->
    {jaccard, shared, only_a, only_b, sign_flips}.
    """

    key: tuple[Any, ...]
    nnstd: dict[str, Any] | None = None
    overlap: dict[str, Any] | None = None
    layer_overlap: dict[str, dict[str, Any]] = field(default_factory=dict)

    kind = "pair"


@dataclass(frozen=True)
class ProgressEvent:
    """Progress of a long call: ``done`` of ``total`` tasks of the work called ``label``.

    A callback receives one event with ``done == 0`` before the work starts and one per
    finished task.
    """

    label: str
    done: int
    total: int


ProgressCallback = Callable[[ProgressEvent], None]
