"""What a run's store must hold, computed independently from the source matrices, and the store
read back raw (every SYNAPSE, every WeightBlock), for exact comparisons."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from neo4j import Driver

Rel = tuple[str, int, int, int, int | None, int]  # layer, src, dst, born, died, sign


def expected_relationships(denses: Sequence[Mapping[str, np.ndarray]]) -> list[Rel]:
    """One relationship per constant-sign stretch of every edge, by brute force over the
    snapshots: a stretch starts when an edge appears or flips sign and ends (died = seq) when
    it vanishes or flips."""
    out: list[Rel] = []
    layers = sorted(denses[0])
    for name in layers:
        open_: dict[tuple[int, int], tuple[int, int]] = {}  # edge -> (born, sign)
        for seq, dense in enumerate(denses):
            current = {(int(a), int(b)): int(np.sign(dense[name][a, b]))
                       for a, b in zip(*np.nonzero(dense[name]), strict=True)}
            for edge, (born, sign) in list(open_.items()):
                if current.get(edge) != sign:
                    out.append((name, edge[0], edge[1], born, seq, sign))
                    del open_[edge]
            for edge, sign in current.items():
                if edge not in open_:
                    open_[edge] = (seq, sign)
        out.extend((name, e[0], e[1], born, None, sign) for e, (born, sign) in open_.items())
    return sorted(out, key=_rel_key)


def _rel_key(rel: Rel) -> tuple:
    return (rel[0], rel[1], rel[2], rel[3], -1 if rel[4] is None else rel[4], rel[5])


def stored_relationships(driver: Driver, run_id: int) -> list[Rel]:
    records, _, _ = driver.execute_query(
        "MATCH (a)-[r:SYNAPSE]->(b) WHERE r.run_id = $id AND r.born >= 0 "
        "RETURN r.layer AS layer, a.index AS s, b.index AS t, r.born AS born, r.died AS died, "
        "r.sign AS sign", id=run_id)
    return sorted(((r["layer"], r["s"], r["t"], r["born"], r["died"], r["sign"]) for r in records),
                  key=_rel_key)


def stored_weight_blocks(driver: Driver, run_id: int) -> dict[tuple[int, str], list[tuple]]:
    """(seq, layer) -> the blocks in chunk order, each (chunk, src, dst, w) as stored."""
    records, _, _ = driver.execute_query(
        "MATCH (s:Snapshot)-[:HAS_WEIGHTS]->(b:WeightBlock) WHERE b.run_id = $id "
        "RETURN b.seq AS seq, b.layer AS layer, b.chunk AS chunk, b.src AS src, b.dst AS dst, "
        "b.w AS w, s.seq = b.seq AS linked ORDER BY seq, layer, chunk", id=run_id)
    out: dict[tuple[int, str], list[tuple]] = {}
    for r in records:
        assert r["linked"], "a WeightBlock hangs off a snapshot of another seq"
        out.setdefault((r["seq"], r["layer"]), []).append(
            (r["chunk"], list(r["src"]), list(r["dst"]), list(r["w"])))
    return out


def assert_store_matches(driver: Driver, run_id: int, denses: Sequence[Mapping[str, np.ndarray]],
                         block: int) -> None:
    """Every relationship (born, died, sign) and every weight block equals what ``denses``
    imply; snapshots 0..len-1 are complete and nothing else exists."""
    assert stored_relationships(driver, run_id) == expected_relationships(denses)
    blocks = stored_weight_blocks(driver, run_id)
    expected_keys = set()
    for seq, dense in enumerate(denses):
        for name, w in dense.items():
            expected_keys.add((seq, name))
            src, dst = np.nonzero(w)  # row-major: sorted by (src, dst), the writer's key order
            vals = w[src, dst].astype(np.float32)
            got = blocks.get((seq, name), [])
            n_blocks = max(1, -(-len(src) // block))
            assert [b[0] for b in got] == list(range(n_blocks)), (seq, name)
            assert [x for b in got for x in b[1]] == src.tolist()
            assert [x for b in got for x in b[2]] == dst.tolist()
            assert np.array_equal(np.array([x for b in got for x in b[3]], dtype=np.float32), vals)
    assert set(blocks) == expected_keys
    records, _, _ = driver.execute_query(
        "MATCH (s:Snapshot) WHERE s.run_id = $id RETURN s.seq AS seq, s.complete AS c "
        "ORDER BY seq", id=run_id)
    assert [(r["seq"], r["c"]) for r in records] == [(i, True) for i in range(len(denses))]
