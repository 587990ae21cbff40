"""The server-side plugin writer and the Cypher writer store exactly the same data; choosing
between them (issue 11)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import numpy as np
import pytest

import sparsetopo.graphstore.backend as backend
import sparsetopo.graphstore.writer as writer_module
from sparsetopo.errors import InputError, StoreError
from sparsetopo.graphstore.reader import read_snapshot
from sparsetopo.graphstore.runs import delete_run, find_run, list_runs
from sparsetopo.graphstore.writer import RunWriter
from sparsetopo.topology import GraphSnapshot, LayerEdges
from tests.support.storecheck import (
    assert_store_matches,
    expected_relationships,
    stored_relationships,
    stored_weight_blocks,
)
from tests.support.synthetic import ARCH, evolving, small_blocks


def write(driver, name: str, data, which: str) -> RunWriter:
    w = RunWriter(driver, name, ARCH, writer=which, replace=True)
    assert w.writer.backend == which
    for i, dense in enumerate(data):
        w.write(GraphSnapshot({k: LayerEdges.from_dense(v) for k, v in dense.items()}, step=i))
    w.finish()
    return w


@pytest.fixture
def blocks() -> Iterator[int]:
    with small_blocks() as size:
        yield size


def test_plugin_and_cypher_writers_store_the_same(driver, run_name, blocks):
    data = evolving(0, 3)
    assert (data[0]["fc1"] != 0).sum() > writer_module.WEIGHT_BLOCK
    expected = expected_relationships(data)
    # the data exercise what they should: flips, regrowth after a death, multi-block layers
    by_edge: dict[tuple, list] = {}
    for rel in expected:
        by_edge.setdefault(rel[:3], []).append(rel)
    assert any(len(v) > 1 and v[0][5] != v[1][5] for v in by_edge.values())  # sign flip
    assert any(len(v) > 1 and v[0][4] is not None and v[0][4] < v[1][3]
               for v in by_edge.values())  # died, then re-grown later
    other = run_name + "-cypher"
    try:
        plugin = write(driver, run_name, data, "plugin")
        cypher = write(driver, other, data, "cypher")
        for w in (plugin, cypher):
            assert_store_matches(driver, w.run_id, data, writer_module.WEIGHT_BLOCK)
        assert stored_relationships(driver, plugin.run_id) == stored_relationships(
            driver, cypher.run_id)
        assert stored_weight_blocks(driver, plugin.run_id) == stored_weight_blocks(
            driver, cypher.run_id)
        # same property types, as Cypher sees them
        types = ("MATCH ()-[r:SYNAPSE]->() WHERE r.run_id = $id WITH r LIMIT 1 "
                 "MATCH (b:WeightBlock) WHERE b.run_id = $id WITH r, b LIMIT 1 "
                 "RETURN valueType(r.born) AS born, valueType(r.sign) AS sign, "
                 "valueType(r.run_id) AS rid, valueType(b.src) AS src, valueType(b.w) AS w, "
                 "valueType(b.chunk) AS chunk")
        got = [driver.execute_query(types, id=w.run_id).records[0].data() for w in (plugin,
                                                                                    cypher)]
        assert got[0] == got[1]
        # a resumed plugin writer continues from the stored state (internal ids)
        more = evolving(0, 4)[3]
        again = RunWriter(driver, run_name, ARCH, writer="plugin")
        again.write(GraphSnapshot({k: LayerEdges.from_dense(v) for k, v in more.items()}, step=3))
        again.finish()
        assert_store_matches(driver, plugin.run_id, [*data, more], writer_module.WEIGHT_BLOCK)
        np.testing.assert_array_equal(
            read_snapshot(driver, run_name, step=3).layers["rec"].to_dense(150, 150), more["rec"])
        listed = {r["name"]: r["writer"] for r in list_runs(driver)}
        assert (listed[run_name], listed[other]) == ("plugin", "cypher")
    finally:
        delete_run(driver, other)


def test_wrong_or_missing_plugin_falls_back(driver, run_name, monkeypatch, caplog):
    installed = backend.PLUGIN_VERSION  # the managed server runs the jar built from this tree
    assert backend.plugin_version(driver) == installed
    monkeypatch.setattr(backend, "PLUGIN_VERSION", "999")
    with caplog.at_level(logging.WARNING, logger="sparsetopo.graphstore.backend"):
        w = RunWriter(driver, run_name, ARCH)
    assert w.writer.backend == "cypher"
    assert f"plugin is version {installed}, this client needs 999" in caplog.text
    assert "using the Cypher writer" in caplog.text
    w.close()
    with pytest.raises(StoreError, match=rf"plugin writer was requested but .* version {installed}"):
        RunWriter(driver, run_name, ARCH, writer="plugin")
    monkeypatch.setattr(backend, "plugin_version", lambda *a, **k: None)
    choice = backend.choose_writer(driver)
    assert (choice.backend, choice.reason) == (
        "cypher", "Cypher writer (the server has no sparsetopo plugin)")


def test_writer_choice_from_environment(driver, run_name, monkeypatch):
    monkeypatch.setenv("SPARSETOPO_WRITER", "cypher")
    w = RunWriter(driver, run_name, ARCH)
    assert w.writer.backend == "cypher"
    w.close()
    assert find_run(driver, run_name)["writer"] == "cypher"
    monkeypatch.setenv("SPARSETOPO_WRITER", "plugin")
    w = RunWriter(driver, run_name, ARCH)
    assert w.writer.backend == "plugin"
    w.close()
    assert find_run(driver, run_name)["writer"] == "plugin"
    monkeypatch.setenv("SPARSETOPO_WRITER", "fast")
    with pytest.raises(InputError, match="SPARSETOPO_WRITER is 'fast'"):
        RunWriter(driver, run_name, ARCH)
