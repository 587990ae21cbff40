"""Conversions of the analysis graphs to pandas, networkx and igraph, checked edge by edge."""

from __future__ import annotations

import numpy as np

from sparsetopo.analysis import LayeredGraph, SignedGraph
from tests.support.extras import requires

SRC, DST, W = [0, 1, 2, 3, 3], [1, 2, 0, 3, 0], [0.5, -1.0, 2.0, -0.25, 0.75]


def signed() -> SignedGraph:
    return SignedGraph.from_edges(SRC, DST, W, n_nodes=6)


def test_edges_is_a_property_and_still_callable():
    g = signed()
    assert g.n_edges == len(g.edges.src) == 5
    for a, b in zip(g.edges, g.edges(), strict=True):
        assert np.array_equal(a, b)
    src, dst, w = g.edges()
    assert list(zip(src.tolist(), dst.tolist(), w.tolist(), strict=True)) == sorted(zip(SRC, DST, W, strict=True))


def test_signed_to_pandas():
    df = signed().to_pandas()
    assert list(df.columns) == ["src", "dst", "weight", "sign"]
    assert list(df.itertuples(index=False, name=None)) == [
        (s, d, w, int(np.sign(w))) for s, d, w in sorted(zip(SRC, DST, W, strict=True))]


def test_signed_to_networkx():
    nx = requires("networkx")
    h = signed().to_networkx()
    assert isinstance(h, nx.DiGraph) and h.number_of_nodes() == 6 and h.number_of_edges() == 5
    for s, d, w in zip(SRC, DST, W, strict=True):
        assert h[s][d] == {"weight": w, "sign": int(np.sign(w))}
    assert h.has_edge(3, 3)  # self-loops kept


def test_signed_to_igraph():
    requires("igraph")
    h = signed().to_igraph()
    assert h.is_directed() and h.vcount() == 6 and h.ecount() == 5
    got = {(e.source, e.target): (e["weight"], e["sign"]) for e in h.es}
    assert got == {(s, d): (w, int(np.sign(w))) for s, d, w in zip(SRC, DST, W, strict=True)}


def layered() -> LayeredGraph:
    w0 = np.array([[1.0, 0.0, -2.0], [0.0, 3.0, 0.0]])
    w1 = np.array([[0.0], [-1.0], [0.5]])
    return LayeredGraph.from_matrices([w0, w1])


def test_layered_conversions_agree():
    g = layered()
    df = g.to_pandas()
    expected = [(0, 0, 0, 1.0), (0, 0, 2, -2.0), (0, 1, 1, 3.0), (1, 1, 0, -1.0), (1, 2, 0, 0.5)]
    assert list(df[["layer", "src", "dst", "weight"]].itertuples(index=False, name=None)) == expected
    nx = requires("networkx")
    h = g.to_networkx()
    assert h.number_of_nodes() == 2 + 3 + 1 and h.number_of_edges() == 5
    assert h[(1, 2)][(2, 0)]["weight"] == 0.5 and h.nodes[(1, 2)] == {"layer": 1, "unit": 2}
    assert nx.is_directed_acyclic_graph(h)
    requires("igraph")
    i = g.to_igraph()
    assert i.vcount() == 6 and i.ecount() == 5
    # vertex 2 + 2 = unit 2 of layer 1, vertex 5 = unit 0 of layer 2
    assert i.es[i.get_eid(4, 5)]["weight"] == 0.5
    assert i.vs[4]["layer"] == 1 and i.vs[4]["unit"] == 2


def test_html_reprs_summarise():
    assert "5 edges (3 excitatory, 2 inhibitory, 1 self-loops)" in signed()._repr_html_()
    assert "5 edges" in layered()._repr_html_()
