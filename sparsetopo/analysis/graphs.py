"""In-memory graph containers used by every analysis function.

Two shapes of network are analysed:

* :class:`SignedGraph`: one directed, signed, weighted graph on ``n_nodes`` nodes (a recurrent
  matrix, Zhang et al. 2023). ``W[i, j] != 0`` is the edge ``i -> j`` with sign ``sign(W[i, j])``.
* :class:`LayeredGraph`: a feed-forward stack of bipartite layers (an MLP, Liu et al. 2020; Zahn,
  Daniel, Kutz 2024). ``W_l`` has shape ``(n_l, n_{l+1})`` and its nonzeros are edges from layer
  ``l`` to layer ``l + 1``.

Both store scipy CSR matrices with float64 weights, sorted indices and no explicit zeros, so the
set operations in :mod:`sparsetopo.analysis.overlap` can merge them linearly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp

from sparsetopo.errors import InputError, MissingExtraError


def _as_1d(name: str, values: Any) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InputError(f"{name} must be a 1-D array (got shape {arr.shape}); pass one value per edge")
    return arr


def _check_weights(w: np.ndarray, what: str) -> np.ndarray:
    w = np.asarray(w, dtype=np.float64)
    if w.size and not np.all(np.isfinite(w)):
        bad = int(np.count_nonzero(~np.isfinite(w)))
        raise InputError(
            f"{what} contains {bad} NaN/Inf weight(s); clean the checkpoint or drop those edges first"
        )
    return w


def _csr_from_coo(
    src: np.ndarray, dst: np.ndarray, w: np.ndarray, shape: tuple[int, int], what: str
) -> sp.csr_matrix:
    """CSR with sorted indices; duplicate (src, dst) pairs are rejected, zero weights dropped."""
    keep = w != 0
    if not np.all(keep):
        src, dst, w = src[keep], dst[keep], w[keep]
    n_rows, n_cols = shape
    keys = src.astype(np.int64) * n_cols + dst.astype(np.int64)
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    if keys.size > 1 and np.any(keys[1:] == keys[:-1]):
        dup = int(keys[1:][keys[1:] == keys[:-1]][0])
        raise InputError(
            f"{what} has duplicate edge {dup // n_cols} -> {dup % n_cols}; "
            "give each (source, target) pair once (sum or drop duplicates first)"
        )
    src_s = src[order].astype(np.int64)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(src_s, minlength=n_rows), out=indptr[1:])
    idx_dtype = np.int32 if max(n_rows, n_cols, keys.size) < 2**31 - 1 else np.int64
    mat = sp.csr_matrix(
        (w[order], dst[order].astype(idx_dtype), indptr.astype(idx_dtype)), shape=shape
    )
    mat.has_sorted_indices = True
    return mat


def _clean_matrix(matrix: Any, what: str) -> sp.csr_matrix:
    """Any dense array or scipy sparse matrix -> canonical float64 CSR (sorted, no zeros)."""
    if sp.issparse(matrix):
        m = sp.csr_matrix(matrix, dtype=np.float64, copy=True)
        if m.ndim != 2:
            raise InputError(f"{what} must be 2-D")
        _check_weights(m.data, what)
        m.sum_duplicates()
        m.eliminate_zeros()
        m.sort_indices()
        return m
    arr = np.asarray(matrix)
    if arr.ndim != 2:
        raise InputError(f"{what} must be a 2-D matrix of shape (n_in, n_out) (got shape {arr.shape})")
    if not np.issubdtype(arr.dtype, np.number) and arr.dtype != np.bool_:
        raise InputError(f"{what} must be numeric (got dtype {arr.dtype})")
    arr = _check_weights(arr, what)
    m = sp.csr_matrix(arr)
    m.eliminate_zeros()
    m.sort_indices()
    return m


@dataclass(frozen=True, eq=False)
class SignedGraph:
    """A directed, signed, weighted graph stored as a CSR matrix ``adj`` (``adj[i, j]`` = weight of
    the edge ``i -> j``; absent edges are structural zeros).

    Self-loops are kept (the "paper" preprocessing of :func:`~sparsetopo.analysis.ffl_balance`
    removes them); every 2- and 3-node statistic ignores them by definition.

    >>> g = SignedGraph.from_edges([0, 1], [1, 2], [0.5, -1.0])
    >>> g.n_nodes, g.n_edges
    (3, 2)
    """

    adj: sp.csr_matrix

    # ----------------------------------------------------------------- constructors
    @classmethod
    def from_edges(
        cls, src: Any, dst: Any, weight: Any, n_nodes: int | None = None
    ) -> SignedGraph:
        """Graph from parallel edge arrays. ``n_nodes`` defaults to ``max(src, dst) + 1``.
        Zero weights are not edges and are dropped; duplicate pairs and NaN/Inf raise InputError."""
        s = _as_1d("src", src)
        d = _as_1d("dst", dst)
        w = _check_weights(_as_1d("weight", weight), "weight")
        if not (len(s) == len(d) == len(w)):
            raise InputError(
                f"src, dst and weight must have the same length (got {len(s)}, {len(d)}, {len(w)})"
            )
        if len(s) and not (np.issubdtype(s.dtype, np.integer) and np.issubdtype(d.dtype, np.integer)):
            raise InputError("src and dst must be integer node ids (got non-integer dtype)")
        s = s.astype(np.int64)
        d = d.astype(np.int64)
        if len(s) and (s.min() < 0 or d.min() < 0):
            raise InputError("node ids must be >= 0; renumber nodes to 0..n_nodes-1")
        inferred = int(max(s.max(initial=-1), d.max(initial=-1)) + 1)
        if n_nodes is None:
            n_nodes = inferred
        elif n_nodes < inferred:
            raise InputError(
                f"n_nodes={n_nodes} but an edge uses node {inferred - 1}; pass n_nodes >= {inferred}"
            )
        n = int(n_nodes)
        return cls(_csr_from_coo(s, d, w, (n, n), "edge list"))

    @classmethod
    def from_matrix(cls, matrix: Any) -> SignedGraph:
        """Graph from a square dense or sparse matrix ``W`` (``W[i, j] != 0`` is ``i -> j``)."""
        m = _clean_matrix(matrix, "matrix")
        if m.shape[0] != m.shape[1]:
            raise InputError(f"a recurrent matrix must be square (got shape {m.shape})")
        return cls(m)

    # ----------------------------------------------------------------- views
    @property
    def n_nodes(self) -> int:
        return int(self.adj.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.adj.nnz)

    @property
    def edges(self) -> EdgeArrays:
        """``(src, dst, weight)`` sorted by (src, dst)."""
        coo = self.adj.tocoo()
        return EdgeArrays(coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data.copy())

    def sign_matrix(self) -> sp.csr_matrix:
        """CSR with entries +1 / -1 (float64), same structure as ``adj``."""
        m = self.adj.copy()
        m.data = np.sign(m.data)
        return m

    def without_self_loops(self) -> SignedGraph:
        m = self.adj.tolil(copy=True)
        m.setdiag(0)
        out = sp.csr_matrix(m)
        out.eliminate_zeros()
        out.sort_indices()
        return SignedGraph(out)

    def subgraph(self, nodes: np.ndarray) -> SignedGraph:
        """Induced subgraph on ``nodes`` (relabelled 0..len(nodes)-1 in the given order)."""
        idx = np.asarray(nodes, dtype=np.int64)
        m = sp.csr_matrix(self.adj[idx][:, idx])
        m.sort_indices()
        return SignedGraph(m)

    def __repr__(self) -> str:
        return f"SignedGraph(n_nodes={self.n_nodes}, n_edges={self.n_edges})"

    # ----------------------------------------------------------------- conversions
    def to_pandas(self) -> Any:
        """The edges as a DataFrame with columns ``src, dst, weight, sign``, sorted by
        (src, dst).

        Returns
        -------
        pandas.DataFrame
            One row per edge.

        Examples
        --------
        >>> SignedGraph.from_edges([0, 1], [1, 2], [0.5, -1.0]).to_pandas()
           src  dst  weight  sign
        0    0    1     0.5     1
        1    1    2    -1.0    -1
        """
        import pandas as pd

        src, dst, w = self.edges
        return pd.DataFrame({"src": src, "dst": dst, "weight": w,
                             "sign": np.sign(w).astype(np.int8)})

    def to_networkx(self) -> Any:
        """A ``networkx.DiGraph`` on nodes ``0 .. n_nodes-1`` (isolated ones included) whose
        edges carry ``weight`` and ``sign`` attributes.

        Raises
        ------
        MissingExtraError
            When networkx is not installed (``pip install networkx``).

        Examples
        --------
        >>> g = SignedGraph.from_edges([0, 1], [1, 2], [0.5, -1.0], n_nodes=4)
        >>> h = g.to_networkx()                                  # doctest: +SKIP
        >>> h.number_of_nodes(), h[1][2]                         # doctest: +SKIP
        (4, {'weight': -1.0, 'sign': -1})
        """
        nx = _optional("networkx", "to_networkx()")
        h = nx.DiGraph()
        h.add_nodes_from(range(self.n_nodes))
        src, dst, w = self.edges
        h.add_edges_from((int(a), int(b), {"weight": float(x), "sign": int(np.sign(x))})
                         for a, b, x in zip(src, dst, w, strict=True))
        return h

    def to_igraph(self) -> Any:
        """A directed ``igraph.Graph`` with ``n_nodes`` vertices and ``weight`` / ``sign`` edge
        attributes (edges in (src, dst) order).

        Raises
        ------
        MissingExtraError
            When python-igraph is not installed (``pip install igraph``).
        """
        ig = _optional("igraph", "to_igraph()")
        src, dst, w = self.edges
        return ig.Graph(n=self.n_nodes, edges=list(zip(src.tolist(), dst.tolist(), strict=True)),
                        directed=True,
                        edge_attrs={"weight": w.tolist(), "sign": np.sign(w).astype(int).tolist()})

    def _repr_html_(self) -> str:
        src, dst, w = self.edges
        pos = int((w > 0).sum())
        return (f"<b>SignedGraph</b>: {self.n_nodes} nodes, {self.n_edges} edges "
                f"({pos} excitatory, {self.n_edges - pos} inhibitory, "
                f"{int((src == dst).sum())} self-loops)")


@dataclass(frozen=True, eq=False)
class LayeredGraph:
    """A feed-forward network: ``layers[l]`` is a CSR matrix of shape ``(n_l, n_{l+1})`` whose
    nonzeros are the edges from layer ``l`` to layer ``l + 1``. ``biases[l]`` (optional) is the bias
    vector of layer ``l + 1`` (length ``n_{l+1}``).

    >>> import numpy as np
    >>> lg = LayeredGraph.from_matrices([np.ones((2, 3)), np.ones((3, 1))])
    >>> lg.sizes, lg.n_edges
    ((2, 3, 1), 9)
    """

    layers: tuple[sp.csr_matrix, ...]
    biases: tuple[np.ndarray, ...] | None = None

    @classmethod
    def from_matrices(
        cls, matrices: Sequence[Any], biases: Sequence[Any] | None = None
    ) -> LayeredGraph:
        """Stack of weight matrices ``[W0, W1, ...]``, ``W_l`` of shape ``(n_l, n_{l+1})``
        (dense arrays or scipy sparse). Consecutive shapes must chain."""
        if isinstance(matrices, np.ndarray) and matrices.ndim == 2:
            matrices = [matrices]
        mats = [_clean_matrix(m, f"layer {i}") for i, m in enumerate(matrices)]
        if not mats:
            raise InputError("a LayeredGraph needs at least one weight matrix")
        for i in range(1, len(mats)):
            if mats[i - 1].shape[1] != mats[i].shape[0]:
                raise InputError(
                    f"layer {i - 1} has shape {mats[i - 1].shape} but layer {i} has shape "
                    f"{mats[i].shape}: W_l must be (n_l, n_l+1) and W_l+1 must start with n_l+1 rows "
                    "(transpose PyTorch (out, in) weights)"
                )
        bs: tuple[np.ndarray, ...] | None = None
        if biases is not None:
            if len(biases) != len(mats):
                raise InputError(f"got {len(biases)} bias vectors for {len(mats)} layers")
            out = []
            for i, (b, m) in enumerate(zip(biases, mats, strict=True)):
                arr = _check_weights(np.ravel(np.asarray(b)), f"bias {i}")
                if arr.shape != (m.shape[1],):
                    raise InputError(f"bias {i} must have length {m.shape[1]} (got {arr.shape})")
                out.append(arr)
            bs = tuple(out)
        return cls(tuple(mats), bs)

    @classmethod
    def from_layer_edges(
        cls, layers: Sequence[Any], sizes: Sequence[int]
    ) -> LayeredGraph:
        """From a list of :class:`~sparsetopo.topology.LayerEdges` and the layer sizes
        ``[n_0, n_1, ..., n_L]``."""
        if len(sizes) != len(layers) + 1:
            raise InputError(f"need len(sizes) == len(layers) + 1 (got {len(sizes)}, {len(layers)})")
        mats = []
        for i, e in enumerate(layers):
            shape = (int(sizes[i]), int(sizes[i + 1]))
            src = np.asarray(e.src, dtype=np.int64)
            dst = np.asarray(e.dst, dtype=np.int64)
            if len(src) and (src.max() >= shape[0] or dst.max() >= shape[1] or min(src.min(), dst.min()) < 0):
                raise InputError(f"layer {i} has an edge outside its shape {shape}")
            w = _check_weights(np.asarray(e.w), f"layer {i}")
            mats.append(_csr_from_coo(src, dst, w, shape, f"layer {i}"))
        return cls(tuple(mats))

    @property
    def sizes(self) -> tuple[int, ...]:
        return (int(self.layers[0].shape[0]),) + tuple(int(m.shape[1]) for m in self.layers)

    @property
    def n_edges(self) -> int:
        return int(sum(m.nnz for m in self.layers))

    def masks(self) -> list[sp.csr_matrix]:
        """Binary (0/1 float64) CSR masks of the layers."""
        out = []
        for m in self.layers:
            b = m.copy()
            b.data = np.ones_like(b.data)
            out.append(b)
        return out

    def __repr__(self) -> str:
        return f"LayeredGraph(sizes={self.sizes}, n_edges={self.n_edges})"

    # ----------------------------------------------------------------- conversions
    def to_pandas(self) -> Any:
        """The edges as a DataFrame with columns ``layer, src, dst, weight, sign``: layer ``l``
        goes from unit ``src`` of layer ``l`` to unit ``dst`` of layer ``l + 1``.

        Examples
        --------
        >>> LayeredGraph.from_matrices([[[0.0, 2.0]], [[1.0], [-1.0]]]).to_pandas()
           layer  src  dst  weight  sign
        0      0    0    1     2.0     1
        1      1    0    0     1.0     1
        2      1    1    0    -1.0    -1
        """
        import pandas as pd

        parts = []
        for i, m in enumerate(self.layers):
            coo = m.tocoo()
            parts.append(pd.DataFrame({"layer": i, "src": coo.row.astype(np.int64),
                                       "dst": coo.col.astype(np.int64), "weight": coo.data,
                                       "sign": np.sign(coo.data).astype(np.int8)}))
        return pd.concat(parts, ignore_index=True)

    def to_networkx(self) -> Any:
        """A ``networkx.DiGraph`` whose nodes are ``(layer, unit)`` pairs (attributes ``layer``
        and ``unit``; every unit included) and whose edges carry ``weight`` and ``sign``.

        Raises
        ------
        MissingExtraError
            When networkx is not installed.
        """
        nx = _optional("networkx", "to_networkx()")
        h = nx.DiGraph()
        for layer, size in enumerate(self.sizes):
            h.add_nodes_from(((layer, u), {"layer": layer, "unit": u}) for u in range(size))
        for row in self.to_pandas().itertuples(index=False):
            h.add_edge((int(row.layer), int(row.src)), (int(row.layer) + 1, int(row.dst)),
                       weight=float(row.weight), sign=int(row.sign))
        return h

    def to_igraph(self) -> Any:
        """A directed ``igraph.Graph`` with one vertex per unit (vertex ``offset(l) + u`` is unit
        ``u`` of layer ``l``; attributes ``layer`` and ``unit``) and ``weight`` / ``sign`` edge
        attributes.

        Raises
        ------
        MissingExtraError
            When python-igraph is not installed.
        """
        ig = _optional("igraph", "to_igraph()")
        offsets = np.concatenate([[0], np.cumsum(self.sizes)])
        df = self.to_pandas()
        src = offsets[df["layer"].to_numpy()] + df["src"].to_numpy()
        dst = offsets[df["layer"].to_numpy() + 1] + df["dst"].to_numpy()
        return ig.Graph(
            n=int(offsets[-1]), edges=list(zip(src.tolist(), dst.tolist(), strict=True)),
            directed=True,
            vertex_attrs={"layer": [k for k, s in enumerate(self.sizes) for _ in range(s)],
                          "unit": [u for s in self.sizes for u in range(s)]},
            edge_attrs={"weight": df["weight"].tolist(), "sign": df["sign"].astype(int).tolist()},
        )

    def _repr_html_(self) -> str:
        shapes = ", ".join(f"{m.shape[0]}&times;{m.shape[1]}: {m.nnz}" for m in self.layers)
        return (f"<b>LayeredGraph</b>: sizes {self.sizes}, {self.n_edges} edges "
                f"(per layer {shapes})")


class EdgeArrays(NamedTuple):
    """``(src, dst, weight)`` arrays of a graph's edges. Also callable (returning itself), so
    code written for the former ``g.edges()`` method keeps working."""

    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray

    def __call__(self) -> EdgeArrays:
        return self


def _optional(module: str, what: str) -> Any:
    """Import an optional package lazily; MissingExtraError naming the install command."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(module, "graphs", what) from exc


def binary(m: sp.spmatrix) -> sp.csr_matrix:
    """0/1 copy of a sparse matrix's structure."""
    b = sp.csr_matrix(m, copy=True)
    b.data = np.ones_like(b.data, dtype=np.float64)
    return b


def sign_split(m: sp.csr_matrix) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """0/1 matrices of the positive and of the negative entries of ``m``."""
    p = m.copy()
    p.data = (p.data > 0).astype(np.float64)
    p.eliminate_zeros()
    q = m.copy()
    q.data = (q.data < 0).astype(np.float64)
    q.eliminate_zeros()
    return p, q
