"""Neural Network Sparse Topology Distance (NNSTD, Liu et al. 2020, ECML PKDD).

A neuron is identified with its input set ``A_j = {i : W[i, j] != 0}``; two neurons are at
Jaccard distance ``|A xor B| / |A u B|`` (0 when both sets are empty). Per layer an
``n_out x n_out`` cost matrix between the two networks' neurons is solved optimally with the
Hungarian algorithm (``scipy.optimize.linear_sum_assignment``); the layer distance is the minimum
cost divided by ``n_out``. Layers are compared bottom-up: layer 0 compares input sets directly (the
inputs share identity), and before layer ``k`` the source rows of network 2 are permuted by the
matching found at layer ``k - 1``. The network distance is the mean of the layer distances.

:func:`nnstd_recurrent` extends the idea to one recurrent layer (this package's definition).

References
----------
.. [1] S. Liu, T. Van der Lee, A. Yaman, Z. Atashgahi, D. Ferraro, G. Sokar, M. Pechenizkiy and
   D. C. Mocanu, "Topological insights into sparse neural networks", ECML PKDD 2020, LNCS 12459,
   pp. 279-294, Springer (2021). doi:10.1007/978-3-030-67664-3_17
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment

from sparsetopo.analysis._validation import choice, int_at_least
from sparsetopo.analysis.graphs import LayeredGraph, SignedGraph, _clean_matrix, sign_split
from sparsetopo.errors import InputError

__all__ = [
    "TIES",
    "NNSTDResult",
    "RecurrentNNSTDResult",
    "jaccard_cost",
    "nnstd",
    "nnstd_recurrent",
]

#: Tie-breaking rules of :func:`nnstd`.
TIES: tuple[str, ...] = ("reference", "robust")


@dataclass(frozen=True)
class NNSTDResult:
    """Sparse topology distance of two feed-forward networks; the result of :func:`nnstd`.

    Attributes
    ----------
    per_layer : numpy.ndarray of float64
        Distance of each weight matrix's target layer, in [0, 1] (0: identical up to the
        matching; 1: no input set shared).
    distance : float
        Mean of ``per_layer``.
    matchings : list of numpy.ndarray of int
        ``matchings[k][j]`` is the neuron of network 2 matched to neuron ``j`` of network 1 in
        the target layer of weight matrix ``k``.
    """

    per_layer: np.ndarray
    distance: float
    matchings: list[np.ndarray]


def _as_layered(x: Any, what: str) -> LayeredGraph:
    if isinstance(x, LayeredGraph):
        return x
    if isinstance(x, (list, tuple)):
        return LayeredGraph.from_matrices(x)
    raise InputError(
        f"{what} must be a LayeredGraph or a list of weight matrices (got {type(x).__name__})"
    )


def _parts(m: sp.csr_matrix, signed: bool) -> list[sp.csr_matrix]:
    """0/1 matrices whose column-wise intersections define the (signed) input-set overlap."""
    if not signed:
        b = m.copy()
        b.data = np.ones_like(b.data)
        return [b]
    return list(sign_split(m))


def jaccard_cost(m1: sp.csr_matrix, m2: sp.csr_matrix, signed: bool = False) -> np.ndarray:
    """Compute the Jaccard distances between the input sets of two layers' neurons.

    Parameters
    ----------
    m1, m2 : scipy.sparse.csr_matrix
        Weight matrices with the same rows (shared source identities); column ``j`` is neuron
        ``j`` and its nonzero rows are its input set.
    signed : bool, default False
        Input sets of ``(source, sign)`` pairs: an edge of the other sign is another element.

    Returns
    -------
    numpy.ndarray of float64
        ``cost[j1, j2]``, the Jaccard distance between the input sets of column ``j1`` of ``m1``
        and column ``j2`` of ``m2``; shape ``(m1.shape[1], m2.shape[1])``.

    Notes
    -----
    ``d(A, B) = |A xor B| / |A u B|`` (0 when both sets are empty), computed as xor / union in
    float64 like the reference code of Liu et al. [1]_, so ties break identically.

    References
    ----------
    .. [1] S. Liu, T. Van der Lee, A. Yaman, Z. Atashgahi, D. Ferraro, G. Sokar, M. Pechenizkiy
       and D. C. Mocanu, "Topological insights into sparse neural networks", ECML PKDD 2020,
       LNCS 12459, pp. 279-294, Springer (2021). doi:10.1007/978-3-030-67664-3_17

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> jaccard_cost(sp.csr_matrix(np.eye(2)), sp.csr_matrix(np.ones((2, 2)))).tolist()
    [[0.5, 0.5], [0.5, 0.5]]
    >>> a = sp.csr_matrix(np.array([[1.0, 0.0], [1.0, 1.0]]))
    >>> b = sp.csr_matrix(np.array([[1.0, 1.0], [0.0, 1.0]]))
    >>> jaccard_cost(a, b).tolist()
    [[0.5, 0.0], [1.0, 0.5]]
    """
    inter = np.zeros((m1.shape[1], m2.shape[1]))
    for a, b in zip(_parts(m1, signed), _parts(m2, signed), strict=True):
        inter += (a.T @ b).toarray()
    s1 = np.diff(m1.tocsc().indptr).astype(np.float64)
    s2 = np.diff(m2.tocsc().indptr).astype(np.float64)
    union = s1[:, None] + s2[None, :] - inter
    xor = s1[:, None] + s2[None, :] - 2 * inter
    cost = np.zeros_like(union)
    np.divide(xor, union, out=cost, where=union > 0)
    return cost


def _match(cost: np.ndarray, secondary: np.ndarray | None) -> np.ndarray:
    rows, cols = linear_sum_assignment(cost)
    if secondary is None:
        return cols
    best = cost[rows, cols].sum()
    eps = 1e-7 / max(cost.shape[0], 1)
    rows2, cols2 = linear_sum_assignment(cost + eps * secondary)
    if cost[rows2, cols2].sum() <= best + 1e-9:
        return cols2
    return cols


def _pass(
    m1: list[sp.csr_matrix],
    m2: list[sp.csr_matrix],
    signed: bool,
    guide: list[np.ndarray] | None,
) -> tuple[np.ndarray, list[np.ndarray]]:
    per = np.zeros(len(m1))
    matchings: list[np.ndarray] = []
    prev: np.ndarray | None = None
    for k in range(len(m1)):
        a = m1[k]
        b = m2[k] if prev is None else m2[k][prev]
        cost = jaccard_cost(a, b, signed)
        secondary = None
        if guide is not None and k + 1 < len(m1):
            # out-sets of the neurons being matched, next-layer targets aligned by the guide pass
            out1 = m1[k + 1]
            # the last layer's targets are the outputs, which share identity in both networks
            out2 = m2[k + 1] if k + 2 == len(m1) else m2[k + 1][:, guide[k + 1]]
            secondary = jaccard_cost(out1.T.tocsr(), out2.T.tocsr(), signed)
        cols = _match(cost, secondary)
        per[k] = cost[np.arange(len(cols)), cols].sum() / a.shape[1]
        matchings.append(cols)
        prev = cols
    return per, matchings


def nnstd(
    lg1: LayeredGraph | Sequence[Any],
    lg2: LayeredGraph | Sequence[Any],
    signed: bool = False,
    ties: str = "reference",
    max_passes: int = 5,
) -> NNSTDResult:
    """Compute the Neural Network Sparse Topology Distance of two feed-forward networks.

    Parameters
    ----------
    lg1, lg2 : LayeredGraph or sequence of array_like
        Two networks of the same architecture (weight matrices ``(n_l, n_{l+1})``).
    signed : bool, default False
        Input sets of ``(source, sign)`` pairs: an edge whose sign differs counts as a different
        element.
    ties : {"reference", "robust"}, default "reference"
        "reference" reproduces the reference code: ``linear_sum_assignment`` with network 1's
        neurons as rows and network 2's as columns, in index order, so among equally cheap
        matchings scipy's choice is kept, and that choice changes the next layer's distance
        (ghost neurons with empty input sets all tie, for example). "robust" keeps each layer's
        matching optimal for that layer but breaks ties by the Jaccard distance of the matched
        neurons' output sets (see Notes); it is never larger than "reference".
    max_passes : int, default 5
        Most refinement passes of ``ties="robust"``.

    Returns
    -------
    NNSTDResult
        Per-layer distances, their mean and the matchings.

    Raises
    ------
    InputError
        If the architectures differ, an argument is not a network, ``ties`` is unknown or
        ``max_passes < 1``.

    See Also
    --------
    nnstd_recurrent : the recurrent-layer variant.
    jaccard_cost : the per-layer cost matrix.

    Notes
    -----
    Neuron ``j`` is its input set ``A_j = {i : W[i, j] != 0}``; two neurons are at distance
    ``|A xor B| / |A u B|`` (0 when both are empty). Layer ``k`` is solved with the Hungarian
    algorithm on the cost matrix, after permuting network 2's source rows by the matching of
    layer ``k - 1`` (layer 0's inputs share identity); its distance is the minimum cost divided
    by ``n_{k+1}``, and the network distance is the mean over layers (Liu et al. [1]_).

    With ``ties="robust"`` the output sets' targets are the outputs (shared identity) for the
    last hidden layer and are aligned by the previous pass's matching elsewhere. Passes repeat
    until the matchings stop changing and the pass with the smallest distance is returned. A
    permuted copy with ghost neurons is then at distance 0.

    References
    ----------
    .. [1] S. Liu, T. Van der Lee, A. Yaman, Z. Atashgahi, D. Ferraro, G. Sokar, M. Pechenizkiy
       and D. C. Mocanu, "Topological insights into sparse neural networks", ECML PKDD 2020,
       LNCS 12459, pp. 279-294, Springer (2021). doi:10.1007/978-3-030-67664-3_17

    Examples
    --------
    A relabelling of the hidden neurons is at distance 0:

    >>> import numpy as np
    >>> w = [np.eye(3), np.ones((3, 2))]
    >>> nnstd(w, w).distance, nnstd(w, [np.eye(3)[:, ::-1], np.ones((3, 2))]).distance
    (0.0, 0.0)

    Input sets ``{0, 2}, {1, 2}`` against ``{1, 2}, {0}``: the best matching pairs the equal
    sets (cost 0) and ``{0, 2}`` with ``{0}`` (cost 1/2), so layer 0 is at ``0.5 / 2``:

    >>> a = [np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.ones((2, 1))]
    >>> b = [np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]]), np.ones((2, 1))]
    >>> r = nnstd(a, b)
    >>> r.per_layer.tolist(), r.distance, r.matchings[0].tolist()
    ([0.25, 0.0], 0.125, [1, 0])

    A sign flip counts only when ``signed=True``:

    >>> c = [np.array([[-1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.ones((2, 1))]
    >>> nnstd(a, c).distance, round(float(nnstd(a, c, signed=True).per_layer[0]), 4)
    (0.0, 0.3333)
    """
    choice("ties", ties, TIES)
    int_at_least("max_passes", max_passes, 1)
    a = _as_layered(lg1, "lg1")
    b = _as_layered(lg2, "lg2")
    if a.sizes != b.sizes:
        raise InputError(
            f"nnstd needs two networks of the same architecture (got sizes {a.sizes} and {b.sizes})"
        )
    m1, m2 = list(a.layers), list(b.layers)
    per, matchings = _pass(m1, m2, signed, None)
    if ties == "robust":
        guide = matchings
        for _ in range(max_passes):
            per2, match2 = _pass(m1, m2, signed, guide)
            if per2.mean() <= per.mean() + 1e-12:
                per, matchings = per2, match2
            if all(np.array_equal(x, y) for x, y in zip(match2, guide, strict=True)):
                break
            guide = match2
    return NNSTDResult(per, float(per.mean()), matchings)


# ============================================================================ recurrent variant
@dataclass(frozen=True)
class RecurrentNNSTDResult:
    """Sparse topology distance of two recurrent layers; the result of :func:`nnstd_recurrent`.

    Attributes
    ----------
    per_layer : dict of str to float
        Distances of the parts present: "input", "recurrent", "output".
    distance : float
        Mean of ``per_layer``.
    matching : numpy.ndarray of int
        ``matching[j]`` is the hidden unit of network 2 matched to hidden unit ``j`` of
        network 1.
    iterations : int
        Refinement rounds run from the start that gave the best matching.
    """

    per_layer: dict[str, float]
    distance: float
    matching: np.ndarray
    iterations: int


def _mat(x: Any, what: str) -> sp.csr_matrix:
    if isinstance(x, SignedGraph):
        return x.adj
    return _clean_matrix(x, what)


def _mean_jaccard(a: sp.csr_matrix, b: sp.csr_matrix, signed: bool) -> float:
    """Mean over columns j of the Jaccard distance between column j of a and column j of b."""
    inter = np.zeros(a.shape[1])
    for x, y in zip(_parts(a, signed), _parts(b, signed), strict=True):
        inter += np.asarray(x.multiply(y).sum(axis=0)).ravel()
    s1 = np.diff(a.tocsc().indptr).astype(np.float64)
    s2 = np.diff(b.tocsc().indptr).astype(np.float64)
    union = s1 + s2 - inter
    d = np.zeros_like(union)
    np.divide(s1 + s2 - 2 * inter, union, out=d, where=union > 0)
    return float(d.mean()) if len(d) else 0.0


def nnstd_recurrent(
    rec1: Any,
    rec2: Any,
    inp1: Any = None,
    inp2: Any = None,
    out1: Any = None,
    out2: Any = None,
    signed: bool = False,
    max_iter: int = 50,
) -> RecurrentNNSTDResult:
    """Compute a sparse topology distance between two recurrent layers.

    This is this package's definition: Liu et al. [1]_ define NNSTD for feed-forward networks
    only, and hidden units cannot be matched bottom-up because their recurrent inputs come from
    hidden units themselves.

    Parameters
    ----------
    rec1, rec2 : SignedGraph or array_like
        Recurrent matrices ``(n, n)``, ``rec[i, j]`` the weight of hidden ``i -> j``.
    inp1, inp2 : array_like, optional
        Input matrices ``(n_in, n)``; give both or neither.
    out1, out2 : array_like, optional
        Output matrices ``(n, n_out)``; give both or neither.
    signed : bool, default False
        Sets of ``(unit, sign)`` pairs, as in :func:`nnstd`.
    max_iter : int, default 50
        Most refinement rounds per start.

    Returns
    -------
    RecurrentNNSTDResult
        The per-part distances, their mean and the matching.

    Raises
    ------
    InputError
        If the shapes do not match, only one network has input (or output) matrices, or
        ``max_iter < 1``.

    See Also
    --------
    nnstd : the feed-forward distance.

    Notes
    -----
    A hidden unit ``h`` is described by four tagged sets: external inputs (column ``h`` of
    ``inp``), recurrent inputs (column ``h`` of ``rec``), recurrent outputs (row ``h`` of
    ``rec``) and external outputs (row ``h`` of ``out``). A matching ``sigma`` (unit ``j`` of
    network 1 with unit ``sigma[j]`` of network 2) relabels network 2's recurrent sets into
    network 1's ids, so the Jaccard distance of the union of the four sets is defined for every
    pair. ``sigma`` is refined by alternating the Hungarian algorithm on that cost and the
    relabelling until it stops changing, once from a matching on the external sets plus
    in/out-degree similarity and once from the identity (the natural guess for two snapshots of
    one run); the best ``sigma`` seen is kept. Under it, "recurrent" is the mean over hidden
    units of the Jaccard distance of their recurrent input sets (the Liu layer distance with the
    matching fixed), "input" the same for external input sets and "output" the mean over output
    units of the distance of their hidden input sets. It is 0 for a network and any relabelling
    of its hidden units that the refinement recovers (always when the external sets identify
    the units).

    References
    ----------
    .. [1] S. Liu, T. Van der Lee, A. Yaman, Z. Atashgahi, D. Ferraro, G. Sokar, M. Pechenizkiy
       and D. C. Mocanu, "Topological insights into sparse neural networks", ECML PKDD 2020,
       LNCS 12459, pp. 279-294, Springer (2021). doi:10.1007/978-3-030-67664-3_17

    Examples
    --------
    >>> import numpy as np
    >>> r = np.array([[0, 1.0, 0], [0, 0, 1.0], [1.0, 0, 0]]); i = np.eye(3)
    >>> nnstd_recurrent(r, r, i, i).distance
    0.0

    A relabelled copy (unit ``j`` becomes unit ``p[j]``) is found again:

    >>> p = np.eye(3)[[2, 0, 1]]
    >>> res = nnstd_recurrent(r, p @ r @ p.T, i, i @ p.T)
    >>> res.distance, res.matching.tolist(), sorted(res.per_layer)
    (0.0, [1, 2, 0], ['input', 'recurrent'])
    """
    int_at_least("max_iter", max_iter, 1)
    r1, r2 = _mat(rec1, "rec1"), _mat(rec2, "rec2")
    if r1.shape != r2.shape or r1.shape[0] != r1.shape[1]:
        raise InputError(
            f"rec1 and rec2 must be square and of the same shape (got {r1.shape}, {r2.shape})"
        )
    n = r1.shape[0]
    if (inp1 is None) != (inp2 is None) or (out1 is None) != (out2 is None):
        raise InputError("give input (and output) matrices for both networks or for neither")
    i1 = i2 = o1 = o2 = None
    if inp1 is not None:
        i1, i2 = _mat(inp1, "inp1"), _mat(inp2, "inp2")
        if i1.shape != i2.shape or i1.shape[1] != n:
            raise InputError(f"input matrices must both have shape (n_in, {n})")
    if out1 is not None:
        o1, o2 = _mat(out1, "out1"), _mat(out2, "out2")
        if o1.shape != o2.shape or o1.shape[0] != n:
            raise InputError(f"output matrices must both have shape ({n}, n_out)")

    def ext_cost() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        inter = np.zeros((n, n))
        s1 = np.zeros(n)
        s2 = np.zeros(n)
        if i1 is not None and i2 is not None:
            for x, y in zip(_parts(i1, signed), _parts(i2, signed), strict=True):
                inter += (x.T @ y).toarray()
            s1 += np.diff(i1.tocsc().indptr)
            s2 += np.diff(i2.tocsc().indptr)
        if o1 is not None and o2 is not None:
            for x, y in zip(_parts(o1, signed), _parts(o2, signed), strict=True):
                inter += (x @ y.T).toarray()
            s1 += np.diff(o1.indptr)
            s2 += np.diff(o2.indptr)
        return inter, s1, s2

    e_inter, e1, e2 = ext_cost()
    din1, dout1 = np.diff(r1.tocsc().indptr), np.diff(r1.indptr)
    din2, dout2 = np.diff(r2.tocsc().indptr), np.diff(r2.indptr)
    tot = din1[:, None] + din2[None, :] + dout1[:, None] + dout2[None, :]
    degdist = np.zeros((n, n))
    np.divide(
        np.abs(din1[:, None] - din2[None, :]) + np.abs(dout1[:, None] - dout2[None, :]),
        tot,
        out=degdist,
        where=tot > 0,
    )

    def jac(inter: np.ndarray, s1: np.ndarray, s2: np.ndarray) -> np.ndarray:
        union = s1[:, None] + s2[None, :] - inter
        c = np.zeros_like(union)
        np.divide(union - inter, union, out=c, where=union > 0)
        return c

    sigma = linear_sum_assignment(jac(e_inter, e1, e2) + 1e-3 * degdist)[1]
    s1_all = e1 + din1 + dout1
    s2_all = e2 + din2 + dout2

    dense = n <= 4096
    if dense:
        # dense 0/1 parts: the products below are exact integer counts either way, and dense
        # products avoid scipy's per-call overhead (the refinement calls this ~2-100 times)
        # float32 counts are exact below 2**24 (n <= 4096) and halve the products' cost
        p1 = [x.toarray().astype(np.float32) for x in _parts(r1, signed)]
        p2 = [x.toarray().astype(np.float32) for x in _parts(r2, signed)]

    def full_cost(sig: np.ndarray) -> np.ndarray:
        inter = e_inter.copy()
        if dense:
            for x, y in zip(p1, p2, strict=True):
                inter += x.T @ y[sig]  # sources of network 2 relabelled into network 1 ids
                inter += x @ y[:, sig].T  # targets relabelled
            return jac(inter, s1_all, s2_all)
        x2 = r2[sig]  # sources relabelled into network 1 ids; columns = network 2 units
        y2 = r2[:, sig]  # targets relabelled; rows = network 2 units
        for x, y in zip(_parts(r1, signed), _parts(x2.tocsr(), signed), strict=True):
            inter += (x.T @ y).toarray()
        for x, y in zip(_parts(r1, signed), _parts(y2.tocsr(), signed), strict=True):
            inter += (x @ y.T).toarray()
        return jac(inter, s1_all, s2_all)

    # matchings evaluated by either start: the refinement is deterministic, so a start that
    # reaches a matching the other one has evaluated would only retrace that start's steps,
    # whose best is already known
    evaluated: set[bytes] = set()

    def refine(start: np.ndarray) -> tuple[np.ndarray, float, int]:
        sig, best, best_v, steps = start, start, np.inf, 0
        seen = {sig.tobytes()}
        for steps in range(1, max_iter + 1):  # noqa: B007 (steps is returned)
            if sig.tobytes() in evaluated:
                break
            evaluated.add(sig.tobytes())
            cost = full_cost(sig)
            val = float(cost[np.arange(n), sig].sum())
            if val < best_v - 1e-12:
                best, best_v = sig, val
            new = linear_sum_assignment(cost)[1]
            if new.tobytes() in seen:
                # a fixed point or a cycle: the deterministic iteration would only revisit
                # matchings already seen, so the best one cannot change any more
                break
            seen.add(new.tobytes())
            sig = new
        return best, best_v, steps

    # Alternating refinement finds a local optimum. Two starts: the matching suggested by the
    # external sets and degrees, and the identity, which is the natural guess for two
    # snapshots of one run (unit i stays unit i) and which the other start, without external
    # sets, can miss badly (seen: 0.96 instead of 0.35 on consecutive SET snapshots).
    runs = [refine(sigma), refine(np.arange(n))]
    best_sigma, _, it = min(runs, key=lambda r: r[1])
    sigma = best_sigma
    per: dict[str, float] = {}
    if i1 is not None and i2 is not None:
        per["input"] = _mean_jaccard(i1, i2[:, sigma].tocsr(), signed)
    per["recurrent"] = _mean_jaccard(r1, r2[sigma][:, sigma].tocsr(), signed)
    if o1 is not None and o2 is not None:
        per["output"] = _mean_jaccard(o1, o2[sigma].tocsr(), signed)
    return RecurrentNNSTDResult(per, float(np.mean(list(per.values()))), sigma, it)
