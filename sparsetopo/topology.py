"""Plain data types shared by every layer of the package: a network's architecture and one
snapshot of its sparse, signed, weighted wiring.

Orientation convention used everywhere: a weight matrix has shape (n_in, n_out) and a nonzero
W[i, j] is a directed edge from source unit i to target unit j. (PyTorch stores nn.Linear weights
as (out, in); ingest transposes.)

Only numpy is imported here, so analysis/, graphstore/, ingest/ and queries/ can all use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sparsetopo.errors import InputError, UnknownNameError

#: Largest number of units (Neurons) in one neuron group, and in one run. Every unit is a node
#: in the store; beyond this an input is far more likely a broken index than a network, and
#: creating the nodes would exhaust the server's memory.
MAX_GROUP_UNITS = 10_000_000
MAX_RUN_UNITS = 50_000_000
#: Steps, epochs and seq numbers are Neo4j integers (signed 64 bit).
MAX_STEP = 2**63 - 1
_INT32_MAX = 2**31 - 1


def check_step(value: object, what: str = "step") -> int:
    """`value` as a step: an integer in 0..2**63-1 (Neo4j's integer range).

    Parameters
    ----------
    value : object
        An int (or numpy integer, or an integral float such as 3.0).
    what : str
        Name used in the error message, e.g. "--steps" or "snapshot step".

    Returns
    -------
    int

    Raises
    ------
    InputError
        Not an integer, negative, or too large.

    Examples
    --------
    >>> check_step(12)
    12
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, float, np.floating)):
        raise InputError(f"{what} must be an integer, got {value!r}")
    if isinstance(value, (float, np.floating)):
        if not float(value).is_integer():
            raise InputError(f"{what} must be an integer, got {value!r}")
        value = int(value)
    number = int(value)
    if number < 0 or number > MAX_STEP:
        raise InputError(f"{what} {number} is out of range; steps are integers in 0..{MAX_STEP}")
    return number


def check_unit_limits(arch: Architecture, where: str) -> None:
    """InputError when a group or the whole network exceeds the documented unit limits
    (:data:`MAX_GROUP_UNITS` per group, :data:`MAX_RUN_UNITS` per run)."""
    for group, size in arch.groups.items():
        if size > MAX_GROUP_UNITS:
            raise InputError(
                f"{where}: neuron group {group!r} would have {size} units, more than the limit "
                f"of {MAX_GROUP_UNITS:,} per group (docs/ingest-formats.md); check the unit "
                "indices (or --n) of the input"
            )
    total = sum(arch.groups.values())
    if total > MAX_RUN_UNITS:
        raise InputError(
            f"{where}: {total} units in all, more than the limit of {MAX_RUN_UNITS:,} per run "
            "(docs/ingest-formats.md)"
        )


#: Layer kinds recorded on (:Layer {kind}).
LAYER_KINDS = (
    "linear", "input", "recurrent", "readout", "conv", "custom", "embedding", "attention",
)
#: Roles of attention and gated-MLP layers (LayerSpec.role); "expand" is the constant layer that
#: feeds each key/value feature to every query head sharing it (grouped-query attention).
LAYER_ROLES = ("q", "k", "v", "o", "expand", "gate", "up", "down")


@dataclass(frozen=True)
class LayerSpec:
    """One weight matrix viewed as a bipartite (or recurrent) edge set between neuron groups.

    name:      unique within a run, e.g. "fc1.weight", "rnn.weight_hh_l0", "lstm.weight_hh_l0.i".
    src_group: neuron group of the sources (the model input is the group "input").
    dst_group: neuron group of the targets; equal to src_group for a recurrent matrix.
    n_in, n_out: matrix shape (sources, targets).
    kind:      one of LAYER_KINDS.
    gate:      gate name for GRU/LSTM matrices (r, z, n / i, f, g, o), else None.
    position:  order of the layer in data flow (0 = closest to the input).
    role:      attention / gated-MLP role (one of LAYER_ROLES) or None.
    tied_to:   name of the layer whose parameter this layer shares (e.g. an LM head tied to
               the token embedding), else None; each use is stored as its own layer.
    """

    name: str
    src_group: str
    dst_group: str
    n_in: int
    n_out: int
    kind: str = "linear"
    gate: str | None = None
    position: int = 0
    role: str | None = None
    tied_to: str | None = None


@dataclass(frozen=True)
class Architecture:
    """Neuron groups (name -> number of units) and the layers connecting them, in data-flow order."""

    groups: dict[str, int]
    layers: tuple[LayerSpec, ...]

    def layer(self, name: str) -> LayerSpec:
        for spec in self.layers:
            if spec.name == name:
                return spec
        known = ", ".join(s.name for s in self.layers)
        raise UnknownNameError(f"unknown layer {name!r}; this run has the layers {known}")

    @property
    def is_recurrent(self) -> bool:
        return any(s.kind == "recurrent" for s in self.layers)


@dataclass
class LayerEdges:
    """The nonzero entries of one layer's matrix: parallel arrays, sorted by (src, dst)."""

    src: np.ndarray  # int32
    dst: np.ndarray  # int32
    w: np.ndarray  # float32

    def __post_init__(self) -> None:
        for name in ("src", "dst"):
            values = np.asarray(getattr(self, name))
            if values.dtype != np.int32 and values.size and (
                values.min() < 0 or values.max() > _INT32_MAX
            ):
                # a silent int32 wrap-around would store edges between the wrong units
                raise ValueError(
                    f"{name} holds unit indices outside 0..{_INT32_MAX} "
                    f"({values.min()}..{values.max()})"
                )
        self.src = np.ascontiguousarray(self.src, dtype=np.int32)
        self.dst = np.ascontiguousarray(self.dst, dtype=np.int32)
        self.w = np.ascontiguousarray(self.w, dtype=np.float32)
        if not (len(self.src) == len(self.dst) == len(self.w)):
            raise ValueError(
                f"src, dst and w must have the same length (got {len(self.src)}, "
                f"{len(self.dst)}, {len(self.w)})"
            )

    def __len__(self) -> int:
        return len(self.src)

    @classmethod
    def empty(cls) -> LayerEdges:
        return cls(np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float32))

    @classmethod
    def from_dense(cls, matrix: np.ndarray) -> LayerEdges:
        """Edges of a dense (n_in, n_out) matrix: every nonzero entry, row-major order."""
        m = np.asarray(matrix)
        src, dst = np.nonzero(m)
        return cls(src, dst, m[src, dst])

    def to_dense(self, n_in: int, n_out: int) -> np.ndarray:
        out = np.zeros((n_in, n_out), dtype=np.float32)
        out[self.src, self.dst] = self.w
        return out

    def keys(self, n_out: int) -> np.ndarray:
        """Edge identity as one int64 per edge (src * n_out + dst), for set operations."""
        return self.src.astype(np.int64) * int(n_out) + self.dst.astype(np.int64)


@dataclass
class GraphSnapshot:
    """One checkpoint: the edges of every layer, plus the step and optional metrics."""

    layers: dict[str, LayerEdges]
    step: int = 0
    epoch: int | None = None
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def n_edges(self) -> int:
        return sum(len(e) for e in self.layers.values())
