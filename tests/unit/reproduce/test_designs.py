"""The paper-specific pieces of the reproductions that need no server: the authors' random
networks of Zahn et al. (edge counts, every live neuron covered), live-network compaction, and
the report's sources / not-covered sections."""

from __future__ import annotations

import numpy as np
import pytest

from sparsetopo.analysis import layered_motifs
from sparsetopo.analysis.graphs import LayeredGraph
from sparsetopo.reproduce import PAPER_NAMES, get_paper
from sparsetopo.reproduce.zahn2024 import (
    SIGNS,
    authors_counts,
    authors_null_layer,
    compact_live,
)


@pytest.mark.parametrize(("n_edges", "rows", "cols"), [(50, 10, 12), (30, 10, 12),
                                                       (120, 10, 12), (5, 3, 4)])
def test_authors_null_layer_keeps_edges_and_covers_every_neuron(n_edges, rows, cols) -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        m = authors_null_layer(n_edges, rows, cols, rng)
        assert m.shape == (rows, cols)
        assert m.any(axis=1).all() and m.any(axis=0).all()
        # the edge count is kept whenever it can cover every row and column
        assert int(m.sum()) == max(n_edges, max(rows, cols))


def test_authors_null_layer_is_random() -> None:
    rng = np.random.default_rng(1)
    draws = {authors_null_layer(40, 10, 12, rng).tobytes() for _ in range(10)}
    assert len(draws) == 10


def test_compact_live_drops_ghost_and_dead_neurons() -> None:
    # hidden neuron 2 has no input (ghost), hidden neuron 3 no output (dead)
    w1 = np.array([[1.0, 0, 0, 1.0], [0, 1.0, 0, 0]])
    w2 = np.array([[1.0], [1.0], [1.0], [0]])
    live = compact_live(LayeredGraph.from_matrices([w1, w2]))
    assert live.sizes == (2, 2, 1)
    assert [int(m.nnz) for m in live.layers] == [2, 2]


def test_authors_counts_score_bias_units_on_both_sides() -> None:
    rng = np.random.default_rng(2)
    mats = [(rng.random(s) < 0.3) * rng.standard_normal(s) for s in [(6, 8), (8, 8), (8, 3)]]
    lg = LayeredGraph.from_matrices(mats)
    obs, draws = authors_counts(lg, 15, seed=0)
    want = layered_motifs(compact_live(lg), bias=True, signed=False).counts
    assert obs == {m: float(want[m]) for m in SIGNS}
    assert draws.shape == (15, len(SIGNS))
    # the null keeps the live edge count per layer, and the bias edges, so "edge"-like totals
    # of diverging pairs stay in range, and draws differ from each other
    assert len({tuple(r) for r in draws}) > 1


@pytest.mark.parametrize("name", PAPER_NAMES)
def test_every_paper_names_its_sources_and_gaps(name) -> None:
    p = get_paper(name)
    assert p.sources() and all("." in s for s in p.sources())
    assert p.not_covered("quick") and p.not_covered("full")
    assert p.data_note("quick", None) is None or "Data:" in p.data_note("quick", None)


def test_zhang_reports_the_missing_neural_ode_claim() -> None:
    assert any("Neural-ODE" in s for s in get_paper("zhang2023").not_covered("full"))


def test_mackey_authors_are_named() -> None:
    import sparsetopo.reproduce.mackey2024 as mk
    import sparsetopo.training.sparsify.moduli as mod

    for doc in (mk.__doc__, mod.__doc__):
        assert "Mackey, Schizas, Deighton, Boothe Jr., Maroulas" in " ".join(doc.split())
