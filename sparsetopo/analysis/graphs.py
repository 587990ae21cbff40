"""In-memory graph containers used by every analysis function.

Two shapes of network are analysed:

* :class:`SignedGraph`: one directed, signed, weighted graph on ``n_nodes`` nodes (a recurrent
  matrix, Zhang et al. 2023). ``W[i, j] != 0`` is the edge ``i -> j`` with sign ``sign(W[i, j])``.
* :class:`LayeredGraph`: a feed-forward stack of bipartite layers (an MLP, Liu et al. 2020; Zahn,
  Daniel, Kutz 2024). ``W_l`` has shape ``(n_l, n_{l+1})`` and its nonzeros are edges from layer
  ``l`` to layer ``l + 1``.

Both store scipy CSR matrices with float64 weights, sorted indices and no explicit zeros, so the
set operations in :mod:`sparsetopo.analysis.overlap` can merge them linearly.

References
----------
.. [1] X.-J. Zhang, J. M. Moore, G. Yan and X. Li, "Universal structural patterns in sparse
   recurrent neural networks", Communications Physics 6, 243 (2023).
   doi:10.1038/s42005-023-01364-0
.. [2] S. Liu, T. Van der Lee, A. Yaman, Z. Atashgahi, D. Ferraro, G. Sokar, M. Pechenizkiy and
   D. C. Mocanu, "Topological insights into sparse neural networks", ECML PKDD 2020, LNCS 12459,
   pp. 279-294, Springer (2021). doi:10.1007/978-3-030-67664-3_17
.. [3] O. T. Zahn, T. L. Daniel and J. N. Kutz, "Motif distribution and function of sparse deep
   neural networks", arXiv:2403.00974 (2024). doi:10.48550/arXiv.2403.00974
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp

from sparsetopo.errors import InputError, MissingExtraError

__all__ = [
    "EdgeArrays",
    "LayeredGraph",
    "SignedGraph",
    "sign_split",
]


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
    """A directed, signed, weighted graph (one recurrent weight matrix).

    Build it with :meth:`from_edges` or :meth:`from_matrix`; the constructor takes an already
    canonical matrix and does not check it.

    Parameters
    ----------
    adj : scipy.sparse.csr_matrix
        Square float64 matrix: ``adj[i, j]`` is the weight of the edge ``i -> j`` and absent edges
        are structural zeros (sorted indices, no stored zeros).

    See Also
    --------
    LayeredGraph : the feed-forward counterpart.

    Notes
    -----
    The sign of an edge is ``sign(adj[i, j])``, as in Zhang et al. [1]_. Self-loops are kept
    (the "paper" preprocessing of :func:`~sparsetopo.analysis.ffl_balance` removes them); every
    2- and 3-node statistic ignores them by definition.

    References
    ----------
    .. [1] X.-J. Zhang, J. M. Moore, G. Yan and X. Li, "Universal structural patterns in sparse
       recurrent neural networks", Communications Physics 6, 243 (2023).
       doi:10.1038/s42005-023-01364-0

    Examples
    --------
    >>> g = SignedGraph.from_edges([0, 1], [1, 2], [0.5, -1.0])
    >>> g.n_nodes, g.n_edges
    (3, 2)
    >>> g
    SignedGraph(n_nodes=3, n_edges=2)
    """

    adj: sp.csr_matrix

    # ----------------------------------------------------------------- constructors
    @classmethod
    def from_edges(
        cls, src: Any, dst: Any, weight: Any, n_nodes: int | None = None
    ) -> SignedGraph:
        """Build a graph from parallel edge arrays.

        Parameters
        ----------
        src, dst : array_like of int
            Source and target node of each edge (ids ``>= 0``).
        weight : array_like of float
            Weight of each edge; a zero weight is not an edge and is dropped.
        n_nodes : int, optional
            Number of nodes; default ``max(src, dst) + 1``.

        Returns
        -------
        SignedGraph
            The graph, edges sorted by ``(src, dst)``.

        Raises
        ------
        InputError
            If the arrays differ in length or are not 1-D, ids are negative or not integers,
            ``n_nodes`` is too small, a ``(src, dst)`` pair repeats, or a weight is NaN/Inf.

        Examples
        --------
        >>> g = SignedGraph.from_edges([0, 2], [1, 0], [1.0, 0.0], n_nodes=4)
        >>> g.n_nodes, g.n_edges
        (4, 1)
        """
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
        """Build a graph from a square weight matrix.

        Parameters
        ----------
        matrix : array_like or scipy.sparse matrix
            Square matrix ``W``; ``W[i, j] != 0`` is the edge ``i -> j`` with weight ``W[i, j]``.

        Returns
        -------
        SignedGraph
            The graph.

        Raises
        ------
        InputError
            If the matrix is not 2-D and square, not numeric, or holds NaN/Inf.

        Examples
        --------
        >>> import numpy as np
        >>> SignedGraph.from_matrix(np.array([[0.0, 2.0], [-1.0, 0.0]])).n_edges
        2
        """
        m = _clean_matrix(matrix, "matrix")
        if m.shape[0] != m.shape[1]:
            raise InputError(f"a recurrent matrix must be square (got shape {m.shape})")
        return cls(m)

    # ----------------------------------------------------------------- views
    @property
    def n_nodes(self) -> int:
        """Number of nodes (the matrix dimension)."""
        return int(self.adj.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of edges (nonzero weights, self-loops included)."""
        return int(self.adj.nnz)

    @property
    def edges(self) -> EdgeArrays:
        """The edges as parallel arrays ``(src, dst, weight)``.

        Returns
        -------
        EdgeArrays
            ``src``, ``dst`` (int64) and ``weight`` (float64, a copy), sorted by
            ``(src, dst)``; it unpacks like a tuple, and calling it (``g.edges()``, the older
            spelling) returns itself.

        Examples
        --------
        >>> src, dst, w = SignedGraph.from_edges([1, 0], [0, 1], [2.0, -1.0]).edges
        >>> src.tolist(), dst.tolist(), w.tolist()
        ([0, 1], [1, 0], [-1.0, 2.0])
        """
        coo = self.adj.tocoo()
        return EdgeArrays(coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data.copy())

    def without_self_loops(self) -> SignedGraph:
        """Return the same graph with every self-loop ``i -> i`` removed.

        Returns
        -------
        SignedGraph
            A new graph on the same nodes.

        Examples
        --------
        >>> SignedGraph.from_edges([0, 0], [0, 1], [1.0, 1.0]).without_self_loops().n_edges
        1
        """
        m = self.adj.tolil(copy=True)
        m.setdiag(0)
        out = sp.csr_matrix(m)
        out.eliminate_zeros()
        out.sort_indices()
        return SignedGraph(out)

    def subgraph(self, nodes: np.ndarray) -> SignedGraph:
        """Return the subgraph induced by ``nodes``.

        Parameters
        ----------
        nodes : array_like of int
            Node ids to keep; node ``nodes[k]`` becomes node ``k``.

        Returns
        -------
        SignedGraph
            The edges among ``nodes``, relabelled ``0 .. len(nodes) - 1`` in the given order.

        Examples
        --------
        >>> g = SignedGraph.from_edges([0, 1, 2], [1, 2, 0], [1.0, -1.0, 1.0])
        >>> g.subgraph([2, 0]).edges()[0].tolist(), g.subgraph([2, 0]).edges()[1].tolist()
        ([0], [1])
        """
        idx = np.asarray(nodes, dtype=np.int64)
        m = sp.csr_matrix(self.adj[idx][:, idx])
        m.sort_indices()
        return SignedGraph(m)

    def __repr__(self) -> str:
        """Show the size, not the matrix."""
        return f"SignedGraph(n_nodes={self.n_nodes}, n_edges={self.n_edges})"

    # ----------------------------------------------------------------- conversions
    def to_pandas(self) -> Any:
        """Return the edges as a DataFrame.

        Columns ``src, dst, weight, sign``, sorted by (src, dst).

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
        """Convert to a ``networkx.DiGraph``.

        Nodes ``0 .. n_nodes-1`` (isolated ones included); edges carry ``weight`` and ``sign``.

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
        """Convert to a directed ``igraph.Graph``.

        ``n_nodes`` vertices and ``weight`` / ``sign`` edge attributes (edges in (src, dst)
        order).

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
    """A feed-forward network: a stack of bipartite layers (an MLP).

    Build it with :meth:`from_matrices` or :meth:`from_layer_edges`; the constructor takes
    already canonical matrices and does not check them.

    Parameters
    ----------
    layers : tuple of scipy.sparse.csr_matrix
        ``layers[l]`` has shape ``(n_l, n_{l+1})``; its nonzeros are the edges from layer ``l``
        to layer ``l + 1`` (float64, sorted indices, no stored zeros).
    biases : tuple of numpy.ndarray, optional
        ``biases[l]`` is the bias vector of layer ``l + 1`` (length ``n_{l+1}``).

    See Also
    --------
    SignedGraph : the recurrent counterpart.

    Notes
    -----
    Weights follow the ``(n_in, n_out)`` convention of Liu et al. [1]_ and Zahn et al. [2]_:
    transpose PyTorch's ``(out, in)`` weights.

    References
    ----------
    .. [1] S. Liu, T. Van der Lee, A. Yaman, Z. Atashgahi, D. Ferraro, G. Sokar, M. Pechenizkiy
       and D. C. Mocanu, "Topological insights into sparse neural networks", ECML PKDD 2020,
       LNCS 12459, pp. 279-294, Springer (2021). doi:10.1007/978-3-030-67664-3_17
    .. [2] O. T. Zahn, T. L. Daniel and J. N. Kutz, "Motif distribution and function of sparse
       deep neural networks", arXiv:2403.00974 (2024). doi:10.48550/arXiv.2403.00974

    Examples
    --------
    >>> import numpy as np
    >>> lg = LayeredGraph.from_matrices([np.ones((2, 3)), np.ones((3, 1))])
    >>> lg.sizes, lg.n_edges
    ((2, 3, 1), 9)
    >>> lg
    LayeredGraph(sizes=(2, 3, 1), n_edges=9)
    """

    layers: tuple[sp.csr_matrix, ...]
    biases: tuple[np.ndarray, ...] | None = None

    @classmethod
    def from_matrices(
        cls, matrices: Sequence[Any], biases: Sequence[Any] | None = None
    ) -> LayeredGraph:
        """Build a network from its weight matrices.

        Parameters
        ----------
        matrices : sequence of array_like or scipy.sparse matrix
            ``[W0, W1, ...]`` with ``W_l`` of shape ``(n_l, n_{l+1})``; a single 2-D array is one
            layer.
        biases : sequence of array_like, optional
            One bias vector per matrix, ``biases[l]`` of length ``n_{l+1}``.

        Returns
        -------
        LayeredGraph
            The network.

        Raises
        ------
        InputError
            If there is no matrix, a matrix is not 2-D numeric, consecutive shapes do not chain,
            a bias has the wrong length, or a value is NaN/Inf.

        Examples
        --------
        >>> import numpy as np
        >>> LayeredGraph.from_matrices([np.eye(2)], biases=[[0.5, 0.0]]).biases[0].tolist()
        [0.5, 0.0]
        """
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
        """Build a network from edge lists, one per layer.

        Parameters
        ----------
        layers : sequence of sparsetopo.topology.LayerEdges
            Edges of each layer (``src``, ``dst``, ``w`` arrays).
        sizes : sequence of int
            Layer sizes ``[n_0, n_1, ..., n_L]`` (one more than ``layers``).

        Returns
        -------
        LayeredGraph
            The network.

        Raises
        ------
        InputError
            If the sizes do not match the layers, an edge lies outside its layer's shape, an
            edge repeats, or a weight is NaN/Inf.

        Examples
        --------
        >>> import numpy as np
        >>> from sparsetopo.topology import LayerEdges
        >>> e = LayerEdges(np.array([0, 1]), np.array([0, 0]), np.array([1.0, -1.0]))
        >>> LayeredGraph.from_layer_edges([e], [2, 1])
        LayeredGraph(sizes=(2, 1), n_edges=2)
        """
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
        """Layer sizes ``(n_0, n_1, ..., n_L)``."""
        return (int(self.layers[0].shape[0]), *tuple(int(m.shape[1]) for m in self.layers))

    @property
    def n_edges(self) -> int:
        """Number of edges over all layers."""
        return int(sum(m.nnz for m in self.layers))

    def masks(self) -> list[sp.csr_matrix]:
        """Return the binary masks of the layers.

        Returns
        -------
        list of scipy.sparse.csr_matrix
            One 0/1 float64 matrix per layer with the layer's structure.

        Examples
        --------
        >>> import numpy as np
        >>> LayeredGraph.from_matrices([np.array([[0.0, -3.0]])]).masks()[0].toarray().tolist()
        [[0.0, 1.0]]
        """
        out = []
        for m in self.layers:
            b = m.copy()
            b.data = np.ones_like(b.data)
            out.append(b)
        return out

    def __repr__(self) -> str:
        """Show the sizes, not the matrices."""
        return f"LayeredGraph(sizes={self.sizes}, n_edges={self.n_edges})"

    # ----------------------------------------------------------------- conversions
    def to_pandas(self) -> Any:
        """Return the edges as a DataFrame.

        Columns ``layer, src, dst, weight, sign``: layer ``l`` goes from unit ``src`` of layer
        ``l`` to unit ``dst`` of layer ``l + 1``.

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
        """Convert to a ``networkx.DiGraph``.

        Nodes are ``(layer, unit)`` pairs (attributes ``layer`` and ``unit``; every unit
        included); edges carry ``weight`` and ``sign``.

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
        """Convert to a directed ``igraph.Graph``.

        One vertex per unit (vertex ``offset(l) + u`` is unit ``u`` of layer ``l``; attributes
        ``layer`` and ``unit``) and ``weight`` / ``sign`` edge attributes.

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
    """The ``(src, dst, weight)`` arrays of a graph's edges.

    Also callable (returning itself), so code written for the former ``g.edges()`` method keeps
    working.
    """

    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray

    def __call__(self) -> EdgeArrays:
        """Return itself (``g.edges()`` was a method before it became a property)."""
        return self


def _optional(module: str, what: str) -> Any:
    """Import an optional package lazily; MissingExtraError naming the install command."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(module, "graphs", what) from exc


def sign_split(m: sp.csr_matrix) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Split a signed matrix into its positive and its negative structure.

    Parameters
    ----------
    m : scipy.sparse.csr_matrix
        A weight matrix.

    Returns
    -------
    positive, negative : scipy.sparse.csr_matrix
        0/1 float64 matrices marking the entries of ``m`` that are ``> 0`` and ``< 0``.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> p, q = sign_split(sp.csr_matrix(np.array([[2.0, -1.0, 0.0]])))
    >>> p.toarray().tolist(), q.toarray().tolist()
    ([[1.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]])
    """
    p = m.copy()
    p.data = (p.data > 0).astype(np.float64)
    p.eliminate_zeros()
    q = m.copy()
    q.data = (q.data < 0).astype(np.float64)
    q.eliminate_zeros()
    return p, q
