"""The science layer: pure numpy/scipy analysis of sparse network topologies.

No database, no torch. Every function works on in-memory graphs: :class:`SignedGraph` (directed,
signed, weighted; recurrent matrices) and :class:`LayeredGraph` (feed-forward stacks).

========================== ============================================================
triads                     :func:`triad_census`, :func:`signed_triad_census`,
                           :func:`dyad_census`, :func:`ffl_counts` (Zhang et al. [1]_)
balance                    :func:`ffl_balance` [1]_, :func:`triangle_balance` [5]_
layered                    :func:`layered_motifs`, :func:`cycle4_balance` (Zahn et al. [3]_)
nulls, zscores             :func:`switching`, :func:`sign_shuffle`, :func:`layer_switching`,
                           :func:`zahn_null`, :func:`motif_zscores` (Milo et al. [6]_)
nnstd, overlap             :func:`nnstd`, :func:`nnstd_recurrent`, :func:`edge_overlap`
                           (Liu et al. [2]_)
========================== ============================================================

Invalid arguments raise :class:`~sparsetopo.errors.InputError` before any work. The sparsifiers
whose snapshots these functions analyse (e.g. the moduli regularisation of Mackey et al. [4]_)
live in :mod:`sparsetopo.training`. Definitions in prose: ``docs/analysis.md``.

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
.. [4] W. Mackey, I. Schizas, J. Deighton, D. L. Boothe Jr. and V. Maroulas, "Geometric
   sparsification in recurrent neural networks", arXiv:2406.06290 (2024).
   doi:10.48550/arXiv.2406.06290
.. [5] D. Cartwright and F. Harary, "Structural balance: a generalization of Heider's theory",
   Psychological Review 63(5), 277-293 (1956). doi:10.1037/h0046049
.. [6] R. Milo, S. Shen-Orr, S. Itzkovitz, N. Kashtan, D. Chklovskii and U. Alon, "Network
   motifs: simple building blocks of complex networks", Science 298(5594), 824-827 (2002).
   doi:10.1126/science.298.5594.824

Examples
--------
>>> from sparsetopo.analysis import SignedGraph, ffl_balance, triad_census
>>> g = SignedGraph.from_edges([0, 1, 0], [1, 2, 2], [1.0, 1.0, -1.0])
>>> triad_census(g)["030T"], ffl_balance(g).ratio
(1, 0.0)
"""

from sparsetopo.analysis.balance import (
    FFLBalance,
    TriangleBalance,
    ffl_balance,
    paper_preprocess,
    triangle_balance,
)
from sparsetopo.analysis.fastnull import SignShuffleMoments, sign_shuffle_ffl_moments
from sparsetopo.analysis.graphs import LayeredGraph, SignedGraph
from sparsetopo.analysis.layered import (
    Cycle4Balance,
    LayeredMotifs,
    cycle4_balance,
    layered_motifs,
    live_neurons,
    prune_ghost_dead,
)
from sparsetopo.analysis.nnstd import (
    NNSTDResult,
    RecurrentNNSTDResult,
    jaccard_cost,
    nnstd,
    nnstd_recurrent,
)
from sparsetopo.analysis.nulls import (
    layer_census_samples,
    layer_switching,
    layer_switching_samples,
    sign_shuffle,
    switching,
    switching_census_samples,
    switching_samples,
    zahn_null,
    zahn_samples,
)
from sparsetopo.analysis.overlap import OverlapResult, edge_overlap
from sparsetopo.analysis.triads import (
    DYAD_CODES,
    FFL_PER_CLASS,
    TRIAD_CODES,
    TRIAD_EDGE_ORDER,
    FFLCounts,
    SignedTriadCensus,
    dyad_census,
    ffl_counts,
    signed_triad_census,
    signed_triad_keys,
    triad_census,
)
from sparsetopo.analysis.zscores import MIN_NULL_SAMPLES, motif_zscores, zscore_se

__all__ = [
    "DYAD_CODES",
    "FFL_PER_CLASS",
    "MIN_NULL_SAMPLES",
    "TRIAD_CODES",
    "TRIAD_EDGE_ORDER",
    "Cycle4Balance",
    "FFLBalance",
    "FFLCounts",
    "LayeredGraph",
    "LayeredMotifs",
    "NNSTDResult",
    "OverlapResult",
    "RecurrentNNSTDResult",
    "SignShuffleMoments",
    "SignedGraph",
    "SignedTriadCensus",
    "TriangleBalance",
    "cycle4_balance",
    "dyad_census",
    "edge_overlap",
    "ffl_balance",
    "ffl_counts",
    "jaccard_cost",
    "layer_census_samples",
    "layer_switching",
    "layer_switching_samples",
    "layered_motifs",
    "live_neurons",
    "motif_zscores",
    "nnstd",
    "nnstd_recurrent",
    "paper_preprocess",
    "prune_ghost_dead",
    "sign_shuffle",
    "sign_shuffle_ffl_moments",
    "signed_triad_census",
    "signed_triad_keys",
    "switching",
    "switching_census_samples",
    "switching_samples",
    "triad_census",
    "triangle_balance",
    "zahn_null",
    "zahn_samples",
    "zscore_se",
]
