"""The science layer: pure numpy/scipy analysis of sparse network topologies.

No database, no torch. Every function works on in-memory graphs:
:class:`SignedGraph` (directed, signed, weighted; recurrent matrices) and :class:`LayeredGraph`
(feed-forward stacks). See docs/analysis.md for definitions and references.
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
from sparsetopo.analysis.zscores import motif_zscores

__all__ = [
    "DYAD_CODES",
    "FFL_PER_CLASS",
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
    "SignedGraph",
    "SignShuffleMoments",
    "SignedTriadCensus",
    "TriangleBalance",
    "cycle4_balance",
    "dyad_census",
    "edge_overlap",
    "ffl_balance",
    "ffl_counts",
    "jaccard_cost",
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
]
