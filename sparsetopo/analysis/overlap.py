"""Edge overlap between two snapshots of the same architecture (births, deaths, sign flips).

Edges are compared as sets of (source, target) pairs per layer with a linear merge of the two
sorted CSR structures (scipy's element-wise product); a shared edge whose sign differs is a sign
flip (it still counts as shared). Jaccard = shared / (|a| + |b| - shared), 1.0 for two empty sets.

References
----------
.. [1] S. Liu, T. Van der Lee, A. Yaman, Z. Atashgahi, D. Ferraro, G. Sokar, M. Pechenizkiy and
   D. C. Mocanu, "Topological insights into sparse neural networks", ECML PKDD 2020, LNCS 12459,
   pp. 279-294, Springer (2021). doi:10.1007/978-3-030-67664-3_17
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from sparsetopo.analysis.graphs import LayeredGraph, SignedGraph
from sparsetopo.errors import InputError

__all__ = [
    "OverlapResult",
    "edge_overlap",
]


@dataclass(frozen=True)
class OverlapResult:
    """Edge overlap of two snapshots; the result of :func:`edge_overlap`.

    Attributes
    ----------
    per_layer : pandas.DataFrame
        Indexed by layer name, with columns ``shared``, ``only_a``, ``only_b``, ``sign_flips``
        and ``jaccard``.
    shared, only_a, only_b, sign_flips : int
        Totals over all layers: edges in both snapshots, only in ``a`` (deaths), only in ``b``
        (births), and shared edges whose sign differs.
    jaccard : float
        ``shared / (shared + only_a + only_b)`` over all layers (1.0 if both are empty).
    """

    per_layer: pd.DataFrame
    shared: int
    only_a: int
    only_b: int
    sign_flips: int
    jaccard: float


def _sign_csr(m: sp.csr_matrix) -> sp.csr_matrix:
    out = sp.csr_matrix(
        (np.sign(m.data).astype(np.int8), m.indices, m.indptr), shape=m.shape, copy=False
    )
    out.has_sorted_indices = bool(m.has_sorted_indices)
    return out


def _csr_from_layer_edges(e: Any, shape: tuple[int, int]) -> sp.csr_matrix:
    src = np.asarray(e.src, dtype=np.int64)
    dst = np.asarray(e.dst, dtype=np.int64)
    w = np.asarray(e.w)
    if len(src) and not np.all(np.isfinite(w)):
        raise InputError("edge weights contain NaN/Inf; clean the snapshot first")
    keys = src * shape[1] + dst
    if len(keys) > 1 and not np.all(keys[1:] > keys[:-1]):
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        if np.any(keys[1:] == keys[:-1]):
            raise InputError("a layer lists the same edge twice; deduplicate it first")
        src, dst, w = src[order], dst[order], w[order]
    indptr = np.searchsorted(src, np.arange(shape[0] + 1))
    m = sp.csr_matrix(
        (np.sign(w).astype(np.int8), dst.astype(np.int32), indptr.astype(np.int32)),
        shape=shape,
        copy=False,
    )
    m.has_sorted_indices = True
    return m


def _count(a: sp.csr_matrix, b: sp.csr_matrix) -> tuple[int, int, int, int]:
    if a.shape != b.shape:
        raise InputError(f"cannot compare layers of shapes {a.shape} and {b.shape}")
    sa, sb = _sign_csr(a), _sign_csr(b)
    prod = sa.multiply(sb)
    data = prod.data if sp.issparse(prod) else np.asarray(prod)
    shared = int(np.count_nonzero(data))
    flips = int(np.count_nonzero(data < 0))
    na, nb = int(np.count_nonzero(sa.data)), int(np.count_nonzero(sb.data))
    return shared, na - shared, nb - shared, flips


def _layer_pairs(a: Any, b: Any) -> list[tuple[str, sp.csr_matrix, sp.csr_matrix]]:
    if isinstance(a, SignedGraph) and isinstance(b, SignedGraph):
        if a.n_nodes != b.n_nodes:
            raise InputError(
                f"snapshots have {a.n_nodes} and {b.n_nodes} nodes; compare the same architecture"
            )
        return [("recurrent", a.adj, b.adj)]
    if isinstance(a, LayeredGraph) and isinstance(b, LayeredGraph):
        if a.sizes != b.sizes:
            raise InputError(f"architectures differ: sizes {a.sizes} vs {b.sizes}")
        return [(f"layer{i}", x, y) for i, (x, y) in enumerate(zip(a.layers, b.layers, strict=True))]
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        if set(a) != set(b):
            raise InputError(
                f"snapshots have different layers: only in a {sorted(set(a) - set(b))}, "
                f"only in b {sorted(set(b) - set(a))}"
            )
        out = []
        for name in a:
            ea, eb = a[name], b[name]
            srcs = [np.asarray(e.src) for e in (ea, eb) if len(e.src)]
            dsts = [np.asarray(e.dst) for e in (ea, eb) if len(e.dst)]
            n_rows = int(max((s.max() for s in srcs), default=-1)) + 1
            n_cols = int(max((d.max() for d in dsts), default=-1)) + 1
            shape = (n_rows, n_cols)
            out.append((str(name), _csr_from_layer_edges(ea, shape), _csr_from_layer_edges(eb, shape)))
        return out
    raise InputError(
        "edge_overlap takes two SignedGraphs, two LayeredGraphs or two dict[str, LayerEdges] "
        f"(got {type(a).__name__} and {type(b).__name__})"
    )


def edge_overlap(a: Any, b: Any) -> OverlapResult:
    """Compare the edge sets of two snapshots of the same architecture.

    Parameters
    ----------
    a, b : SignedGraph, LayeredGraph or dict of str to LayerEdges
        Two snapshots of the same kind: two SignedGraphs with the same number of nodes, two
        LayeredGraphs with the same sizes, or two mappings with the same layer names (as read
        from the store).

    Returns
    -------
    OverlapResult
        Shared edges, edges only in ``a`` (deaths), only in ``b`` (births), sign flips among the
        shared ones and the Jaccard index, per layer and overall.

    Raises
    ------
    InputError
        If the snapshots are of different kinds, sizes or layer names, a layer lists an edge
        twice, or a weight is NaN/Inf.

    Notes
    -----
    Edges are compared as sets of ``(source, target)`` pairs per layer, the set view of sparse
    topologies that Liu et al. [1]_ use. ``J = |a n b| / |a u b|`` with
    ``|a u b| = |a| + |b| - |a n b|``; a shared edge whose sign differs is a sign flip and still
    counts as shared. Each layer is one linear merge of two sorted CSR structures.

    References
    ----------
    .. [1] S. Liu, T. Van der Lee, A. Yaman, Z. Atashgahi, D. Ferraro, G. Sokar, M. Pechenizkiy
       and D. C. Mocanu, "Topological insights into sparse neural networks", ECML PKDD 2020,
       LNCS 12459, pp. 279-294, Springer (2021). doi:10.1007/978-3-030-67664-3_17

    Examples
    --------
    >>> g1 = SignedGraph.from_edges([0, 1], [1, 2], [1.0, 1.0], n_nodes=3)
    >>> g2 = SignedGraph.from_edges([0, 2], [1, 0], [-1.0, 1.0], n_nodes=3)
    >>> r = edge_overlap(g1, g2)
    >>> r.shared, r.only_a, r.only_b, r.sign_flips, round(r.jaccard, 3)
    (1, 1, 1, 1, 0.333)

    Per layer, for two feed-forward snapshots:

    >>> import numpy as np
    >>> a = LayeredGraph.from_matrices([np.eye(2), np.ones((2, 1))])
    >>> b = LayeredGraph.from_matrices([np.ones((2, 2)), np.ones((2, 1))])
    >>> edge_overlap(a, b).per_layer[["shared", "only_b", "jaccard"]].to_dict("index")
    {'layer0': {'shared': 2, 'only_b': 2, 'jaccard': 0.5}, 'layer1': {'shared': 2, 'only_b': 0, 'jaccard': 1.0}}
    """
    rows = []
    for name, x, y in _layer_pairs(a, b):
        rows.append((name, *_count(x, y)))
    df = pd.DataFrame(rows, columns=["layer", "shared", "only_a", "only_b", "sign_flips"])
    union = df["shared"] + df["only_a"] + df["only_b"]
    df["jaccard"] = np.where(union > 0, df["shared"] / union.where(union > 0, 1), 1.0)
    df = df.set_index("layer")
    sh, oa, ob, fl = (int(df[c].sum()) for c in ("shared", "only_a", "only_b", "sign_flips"))
    u = sh + oa + ob
    return OverlapResult(df, sh, oa, ob, fl, sh / u if u else 1.0)
