"""`overlap` in the server plugin (sparsetopo.overlap) and in plain Cypher give the same rows,
which equal set operations on the source matrices; the library picks the plugin variant when the
server has the plugin and falls back to plain Cypher otherwise (issue 11)."""

from __future__ import annotations

import json
import logging
import re
import uuid

import numpy as np
import pandas as pd
import pytest
from neo4j.exceptions import Neo4jError
from typer.testing import CliRunner

import sparsetopo.graphstore.backend as backend
from sparsetopo.api.store import Store
from sparsetopo.cli.main import app
from sparsetopo.errors import InputError, StoreError
from sparsetopo.graphstore.runs import delete_run
from sparsetopo.graphstore.writer import RunWriter
from sparsetopo.queries.library import get_query
from sparsetopo.topology import Architecture, GraphSnapshot, LayerEdges, LayerSpec
from tests.support.synthetic import ARCH as WRITER_ARCH
from tests.support.synthetic import BLOCK, evolving, small_blocks

# The writer test's layers (fc1 in two WeightBlocks per snapshot at the shrunk block size; sign flips;
# edges re-grown after dying) plus W_skip, which has edges at the first snapshot only and whose
# upper-case name sorts before the others.
ARCH = Architecture(
    groups=WRITER_ARCH.groups,
    layers=(*WRITER_ARCH.layers, LayerSpec("W_skip", "input", "out", 200, 10, "linear",
                                           position=3)),
)
STEPS = (0, 10, 20)
COLUMNS = ["layer", "n_a", "n_b", "shared", "only_a", "only_b", "sign_flips", "jaccard"]
PAIRS = [(0, 10), (0, 20), (20, 0), (10, 10), (10, 20), (20, 10)]
runner = CliRunner()


def dense_data() -> list[dict[str, np.ndarray]]:
    data = evolving(1, len(STEPS))
    rng = np.random.default_rng(7)
    skip = ((rng.random((200, 10)) < 0.1) * rng.normal(size=(200, 10))).astype(np.float32)
    for i, d in enumerate(data):
        d["W_skip"] = skip if i == 0 else np.zeros_like(skip)
    return data


@pytest.fixture(scope="module")
def store(driver):
    return Store(driver)


@pytest.fixture(scope="module")
def run(driver):
    name = f"test-ov-{uuid.uuid4().hex[:8]}"
    data = dense_data()
    with small_blocks(), RunWriter(driver, name, ARCH) as w:
        for step, dense in zip(STEPS, data, strict=True):
            w.write(GraphSnapshot({k: LayerEdges.from_dense(v) for k, v in dense.items()},
                                  step=step))
        w.finish()
    yield name, data
    delete_run(driver, name)


def expected(data, a: int, b: int) -> pd.DataFrame:
    """The overlap rows by set operations on the dense matrices the run was written from."""
    da, db = data[STEPS.index(a)], data[STEPS.index(b)]
    rows = []
    for name in sorted(da):
        ma, mb = da[name] != 0, db[name] != 0
        both = ma & mb
        flips = int((np.sign(da[name][both]) != np.sign(db[name][both])).sum())
        rows.append([name, int(ma.sum()), int(mb.sum()), int(both.sum()), flips])
    rows.append(["*", *(sum(r[i] for r in rows) for i in range(1, 5))])
    out = []
    for layer, n_a, n_b, shared, flips in rows:
        union = n_a + n_b - shared
        out.append([layer, n_a, n_b, shared, n_a - shared, n_b - shared, flips,
                    cypher_round(1.0 if union == 0 else shared / union)])
    return pd.DataFrame(out, columns=COLUMNS)


def cypher_round(x: float, digits: int = 4) -> float:
    """Cypher's round(x, 4): half up on the shortest decimal form (the query rounds for the
    Browser's table)."""
    from decimal import ROUND_HALF_UP, Decimal

    return float(Decimal(repr(x)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def test_the_data_exercise_the_edge_cases(driver, run):
    name, data = run
    # fc1 spans two WeightBlocks per snapshot
    assert int((data[0]["fc1"] != 0).sum()) > BLOCK
    records, _, _ = driver.execute_query(
        "MATCH (r:Run {name: $run}) MATCH (b:WeightBlock {run_id: r.run_id, seq: 0}) "
        "WHERE b.layer = 'fc1' RETURN count(b) AS n", run=name)
    assert records[0]["n"] == 2
    for layer in ("fc1", "fc2", "rec"):
        d0, d1, d2 = (d[layer] for d in data)
        # edges that died at 10 and are back at 20 (re-grown), some with the other sign
        back = (d0 != 0) & (d1 == 0) & (d2 != 0)
        assert back.sum() > 0
        assert (np.sign(d0[back]) != np.sign(d2[back])).any()
        both = (d0 != 0) & (d1 != 0)
        assert (np.sign(d0[both]) != np.sign(d1[both])).any()  # sign flips


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_plugin_equals_cypher_and_numpy(store, run, a, b):
    name, data = run
    want = expected(data, a, b)
    plugin = store.query("overlap", run=name, step_a=a, step_b=b, backend_="plugin")
    cypher = store.query("overlap", run=name, step_a=a, step_b=b, backend_="cypher")
    pd.testing.assert_frame_equal(plugin, want)
    pd.testing.assert_frame_equal(cypher, want)
    # the procedure called as the Browser calls it, and Cypher's own checks (APOC) in the text
    direct = store.cypher(get_query("overlap_plugin").text, run=name, step_a=a, step_b=b)
    pd.testing.assert_frame_equal(direct, want)
    guarded = store.cypher(get_query("overlap").text, run=name, step_a=a, step_b=b)
    pd.testing.assert_frame_equal(guarded, want)


def test_steps_are_read_as_cypher_reads_them(store, run):
    # the Browser's :params makes numbers floats; toInteger() also takes numeric text
    name, data = run
    text = get_query("overlap_plugin").text
    floats = store.cypher(text, run=name, step_a=0.0, step_b="20")
    pd.testing.assert_frame_equal(floats, expected(data, 0, 20))
    plain = store.cypher(get_query("overlap").text, run=name, step_a=0.0, step_b="20")
    pd.testing.assert_frame_equal(plain, floats)


def _cause(exc: Neo4jError) -> str:
    """The message a procedure raised, without Neo4j's 'Failed to invoke procedure' prefix."""
    text = str(exc.message)
    assert "\n" not in text
    return re.sub(r"^.*Caused by: [\w.$]+: ", "", text)


def test_errors_equal_the_cypher_query(store, driver, run):
    name, _ = run
    records, _, _ = driver.execute_query("MATCH (r:Run {name: $run}) RETURN r.run_id AS id",
                                         run=name)
    run_id = records[0]["id"]
    # an incomplete snapshot (a writer in progress) at step 30 does not count
    driver.execute_query(
        "MATCH (r:Run {run_id: $id}) CREATE (r)-[:HAS_SNAPSHOT]->(:Snapshot {run_id: $id, "
        "seq: 3, step: 30, complete: false})", id=run_id)
    try:
        cases = [("nope", 0, 10, r"^no run named nope; runs: \[.*\]$"),
                 (name, 5, 10, rf"^run {name} has no complete snapshot at step 5; "
                               r"steps: \[0, 10, 20\]$"),
                 (name, 0, 30, rf"^run {name} has no complete snapshot at step 30; "
                               r"steps: \[0, 10, 20\]$"),
                 (name, 30, 0, "step 30;"),
                 (name, 0, 7.0, "at step 7.0;")]
        for run_, a, b, pattern in cases:
            messages = []
            for query in ("overlap_plugin", "overlap"):
                with pytest.raises(Neo4jError) as info:
                    store.cypher(get_query(query).text, run=run_, step_a=a, step_b=b)
                messages.append(_cause(info.value))
            assert messages[0] == messages[1]
            assert re.search(pattern, messages[0]), messages[0]
        # from Python and the CLI: the Store's own checks, the same for both variants
        for backend_ in ("plugin", "cypher"):
            with pytest.raises(StoreError, match="no run named 'nope'"):
                store.query("overlap", run="nope", step_a=0, step_b=10, backend_=backend_)
            with pytest.raises(StoreError,
                               match=r"no complete snapshot at step 30; its steps: 0, 10, 20$"):
                store.query("overlap", run=name, step_a=0, step_b=30, backend_=backend_)
    finally:
        driver.execute_query("MATCH (s:Snapshot {run_id: $id, seq: 3}) DETACH DELETE s",
                             id=run_id)


def test_unsorted_blocks_are_sorted_first(store, driver, run_name):
    # Blocks not written by sparsetopo's writers may be in any order: the procedure sorts them.
    arch = Architecture({"a": 40, "b": 30}, (LayerSpec("l", "a", "b", 40, 30, "linear"),))
    rng = np.random.default_rng(3)
    dense = [((rng.random((40, 30)) < 0.4) * rng.normal(size=(40, 30))).astype(np.float32)
             for _ in range(2)]
    with RunWriter(driver, run_name, arch) as w:
        for step, d in enumerate(dense):
            w.write(GraphSnapshot({"l": LayerEdges.from_dense(d)}, step=step))
        w.finish()
    driver.execute_query(
        "MATCH (r:Run {name: $run}) MATCH (b:WeightBlock {run_id: r.run_id, seq: 1}) "
        "WITH b, range(size(b.src) - 1, 0, -1) AS back "
        "SET b.src = [i IN back | b.src[i]], b.dst = [i IN back | b.dst[i]], "
        "b.w = [i IN back | b.w[i]]", run=run_name)
    ma, mb = dense[0] != 0, dense[1] != 0
    both = ma & mb
    got = store.query("overlap", run=run_name, step_a=0, step_b=1, backend_="plugin")
    row = got.iloc[0]
    assert (row.n_a, row.n_b, row.shared) == (ma.sum(), mb.sum(), both.sum())
    assert row.sign_flips == (np.sign(dense[0][both]) != np.sign(dense[1][both])).sum()
    pd.testing.assert_frame_equal(
        got, store.query("overlap", run=run_name, step_a=0, step_b=1, backend_="cypher"))


class _Recorder:
    """Wraps Store.cypher to record the statements Store.query sends."""

    def __init__(self, store: Store, monkeypatch) -> None:
        self.texts: list[str] = []
        inner = store.cypher

        def cypher(text, **kwargs):
            self.texts.append(text)
            return inner(text, **kwargs)

        monkeypatch.setattr(store, "cypher", cypher)


def test_auto_uses_the_plugin_and_falls_back(driver, run, monkeypatch, caplog):
    name, data = run
    store = Store(driver)
    sent = _Recorder(store, monkeypatch)
    want = expected(data, 0, 20)
    assert backend.plugin_version(driver) == backend.PLUGIN_VERSION
    pd.testing.assert_frame_equal(store.query("overlap", run=name, step_a=0, step_b=20), want)
    assert "CALL sparsetopo.overlap(" in sent.texts[-1]
    store.query("overlap", run=name, step_a=0, step_b=20, backend_="cypher")
    assert "sparsetopo.overlap" not in sent.texts[-1] and "SYNAPSE" in sent.texts[-1]

    # a server whose plugin is of another version (an old jar): auto falls back, with a warning
    installed = backend.PLUGIN_VERSION
    monkeypatch.setattr(backend, "PLUGIN_VERSION", "999")
    with caplog.at_level(logging.INFO, logger="sparsetopo.graphstore.backend"):
        got = store.query("overlap", run=name, step_a=0, step_b=20)
    pd.testing.assert_frame_equal(got, want)
    assert "sparsetopo.overlap" not in sent.texts[-1]
    assert f"plugin is version {installed}, this client needs 999" in caplog.text
    assert "running query 'overlap' in plain Cypher" in caplog.text
    with pytest.raises(StoreError, match=r"query 'overlap' by the plugin was requested but .*"
                                         r"version .*server install --force"):
        store.query("overlap", run=name, step_a=0, step_b=20, backend_="plugin")
    with pytest.raises(StoreError, match="plugin was requested"):  # the variant by name, too
        store.query("overlap_plugin", run=name, step_a=0, step_b=20)

    # a server without the plugin (Aura, a plain Docker image)
    monkeypatch.setattr(backend, "PLUGIN_VERSION", installed)
    monkeypatch.setattr(backend, "plugin_version", lambda *a, **k: None)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="sparsetopo.graphstore.backend"):
        got = store.query("overlap", run=name, step_a=0, step_b=20)
    pd.testing.assert_frame_equal(got, want)
    assert "sparsetopo.overlap" not in sent.texts[-1]
    assert "the server has no sparsetopo plugin" in caplog.text


def test_backend_argument_is_checked(store, run):
    name, _ = run
    with pytest.raises(InputError, match="backend_ is 'fast'; use one of auto, plugin, cypher"):
        store.query("overlap", run=name, step_a=0, step_b=10, backend_="fast")
    with pytest.raises(InputError, match=r"query 'turnover' runs in plain Cypher only.*overlap"):
        store.query("turnover", run=name, backend_="plugin")
    with pytest.raises(InputError, match="'overlap_plugin' runs in the plugin only"):
        store.query("overlap_plugin", run=name, step_a=0, step_b=10, backend_="cypher")
    assert len(store.query("turnover", run=name, backend_="cypher")) == len(STEPS)


def test_cli_backend_option(run):
    name, data = run
    want = expected(data, 0, 20)
    outputs = []
    for choice in ("auto", "plugin", "cypher"):
        r = runner.invoke(app, ["query", "overlap", "-p", f"run={name}", "-p", "step_a=0",
                                "-p", "step_b=20", "--backend", choice, "--json"])
        assert r.exit_code == 0, r.output
        outputs.append(pd.DataFrame(json.loads(r.stdout))[COLUMNS])
    for got in outputs:
        pd.testing.assert_frame_equal(got, want)
    r = runner.invoke(app, ["query", "overlap", "-p", f"run={name}", "-p", "step_a=0",
                            "-p", "step_b=20", "--backend", "fast"])
    assert r.exit_code == 2
    r = runner.invoke(app, ["query", "turnover", "-p", f"run={name}", "--backend", "plugin"])
    assert r.exit_code == 1 and r.stderr.startswith("error:") and "Traceback" not in r.output
