"""Triad and dyad census: equality with networkx and igraph, brute force for the signed census."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from sparsetopo.analysis import (
    TRIAD_CODES,
    TRIAD_EDGE_ORDER,
    SignedGraph,
    dyad_census,
    ffl_counts,
    signed_triad_census,
    triad_census,
)
from sparsetopo.errors import InputError
from tests.support.extras import requires
from tests.support.graphs import random_edges, random_graph


def _nx(g: SignedGraph) -> Any:
    nx = requires("networkx")
    s, d, w = g.edges()
    G = nx.DiGraph()
    G.add_nodes_from(range(g.n_nodes))
    G.add_weighted_edges_from(zip(s.tolist(), d.tolist(), w.tolist(), strict=True))
    return G


@pytest.mark.parametrize(
    ("n", "m", "seed"),
    [(8, 5, 0), (20, 40, 1), (30, 200, 2), (25, 450, 3), (40, 1000, 4), (12, 132, 5), (5, 0, 6)],
)
@pytest.mark.parametrize("method", ["dense", "sparse"])
def test_triad_census_equals_networkx(n: int, m: int, seed: int, method: str) -> None:
    nx = requires("networkx")
    g = random_graph(n, m, seed)
    assert triad_census(g, method=method) == nx.triadic_census(_nx(g))


@pytest.mark.parametrize(("n", "m", "seed"), [(60, 300, 7), (100, 3000, 8), (50, 2000, 9)])
def test_triad_census_equals_igraph(n: int, m: int, seed: int) -> None:
    igraph = requires("igraph")
    g = random_graph(n, m, seed)
    s, d, _ = g.edges()
    ig = igraph.Graph(n=n, edges=list(zip(s.tolist(), d.tolist(), strict=True)), directed=True)
    ref = dict(zip(TRIAD_CODES, (int(x) for x in ig.triad_census()), strict=True))
    assert triad_census(g) == ref


def test_self_loops_are_ignored() -> None:
    s, d, w = random_edges(15, 60, 11)
    g = SignedGraph.from_edges(s, d, w, n_nodes=15)
    loops = SignedGraph.from_edges(
        np.concatenate([s, [0, 3]]), np.concatenate([d, [0, 3]]), np.concatenate([w, [1.0, -1.0]]),
        n_nodes=15,
    )  # fmt: skip
    assert triad_census(loops) == triad_census(g)
    assert signed_triad_census(loops).triads == signed_triad_census(g).triads


def test_representatives_have_their_class() -> None:
    nx = requires("networkx")
    for code, edges in TRIAD_EDGE_ORDER.items():
        G = nx.DiGraph()
        G.add_nodes_from(range(3))
        G.add_edges_from(edges)
        assert nx.triad_type(G) == code


def _brute_signed(g: SignedGraph) -> dict[tuple[str, str], int]:
    nx = requires("networkx")
    s, d, w = g.edges()
    sign = {(a, b): ("+" if x > 0 else "-") for a, b, x in zip(s, d, w, strict=True) if a != b}
    G = _nx(g)
    G.remove_edges_from(list(nx.selfloop_edges(G)))
    out: dict[tuple[str, str], int] = {}
    for tri in itertools.combinations(range(g.n_nodes), 3):
        code = nx.triad_type(G.subgraph(tri))
        present = {(a, b) for a in tri for b in tri if (a, b) in sign}
        best = None
        for perm in itertools.permutations(tri):
            mapped = {(perm[a], perm[b]) for a, b in TRIAD_EDGE_ORDER[code]}
            if mapped == present:
                pat = "".join(sign[(perm[a], perm[b])] for a, b in TRIAD_EDGE_ORDER[code])
                best = pat if best is None else min(best, pat)
        assert best is not None
        out[(code, best)] = out.get((code, best), 0) + 1
    return out


@pytest.mark.parametrize(("n", "m", "seed"), [(9, 20, 0), (12, 60, 1), (10, 80, 2), (14, 40, 3)])
def test_signed_census_brute_force(n: int, m: int, seed: int) -> None:
    g = random_graph(n, m, seed)
    got = {k: v for k, v in signed_triad_census(g).triads.items() if v}
    assert got == _brute_signed(g)


def test_signed_census_collapses_to_unsigned() -> None:
    nx = requires("networkx")
    g = random_graph(60, 900, 21)
    assert signed_triad_census(g).unsigned() == nx.triadic_census(_nx(g))


@pytest.mark.parametrize(("n", "m", "seed"), [(10, 40, 0), (30, 300, 1)])
def test_dyad_census_brute_force(n: int, m: int, seed: int) -> None:
    g = random_graph(n, m, seed)
    s, d, w = g.edges()
    sign = {(a, b): x for a, b, x in zip(s, d, w, strict=True)}
    ref = dict.fromkeys(["null", "asym+", "asym-", "mutual++", "mutual+-", "mutual--"], 0)
    for a, b in itertools.combinations(range(n), 2):
        x, y = sign.get((a, b)), sign.get((b, a))
        if x is None and y is None:
            ref["null"] += 1
        elif x is None or y is None:
            ref["asym+" if (x or y) > 0 else "asym-"] += 1  # type: ignore[operator]
        else:
            npos = int(x > 0) + int(y > 0)
            ref[{2: "mutual++", 1: "mutual+-", 0: "mutual--"}[npos]] += 1
    assert dyad_census(g) == ref


@pytest.mark.parametrize(("n", "m", "seed"), [(10, 50, 0), (14, 120, 1), (9, 70, 2)])
@pytest.mark.parametrize("method", ["dense", "sparse"])
def test_ffl_counts_brute_force(n: int, m: int, seed: int, method: str) -> None:
    nx = requires("networkx")
    g = random_graph(n, m, seed)
    s, d, w = g.edges()
    sign = {(a, b): np.sign(x) for a, b, x in zip(s, d, w, strict=True)}
    G = _nx(g)
    tot: dict[str, int] = {}
    bal: dict[str, int] = {}
    for i, j, k in itertools.permutations(range(n), 3):
        if (i, j) in sign and (j, k) in sign and (i, k) in sign:
            c = nx.triad_type(G.subgraph([i, j, k]))
            tot[c] = tot.get(c, 0) + 1
            bal[c] = bal.get(c, 0) + int(sign[i, j] * sign[j, k] * sign[i, k] > 0)
    f = ffl_counts(g, method=method)
    assert {c: v for c, v in f.total.items() if v} == tot
    assert {c: v for c, v in f.balanced.items() if v} == {c: v for c, v in bal.items() if v}


def test_bad_inputs() -> None:
    with pytest.raises(InputError, match="NaN"):
        SignedGraph.from_edges([0], [1], [float("nan")])
    with pytest.raises(InputError, match="same length"):
        SignedGraph.from_edges([0, 1], [1], [1.0])
    with pytest.raises(InputError, match="duplicate"):
        SignedGraph.from_edges([0, 0], [1, 1], [1.0, 2.0])
    with pytest.raises(InputError, match="n_nodes"):
        SignedGraph.from_edges([0], [5], [1.0], n_nodes=3)
    with pytest.raises(InputError, match="square"):
        SignedGraph.from_matrix(np.ones((2, 3)))
    with pytest.raises(InputError, match="method"):
        triad_census(random_graph(5, 5, 0), method="fast")
    with pytest.raises(InputError, match="SignedGraph"):
        triad_census(np.ones((3, 3)))  # type: ignore[arg-type]
