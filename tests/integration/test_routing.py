"""Reads go out as reads, writes as writes, over the routing (`neo4j://`) scheme; bookmarks
chain a command's reads to its writes; NEO4J_DATABASE selects the database everywhere.

The evidence is the Bolt messages the driver sends (its DEBUG log of `C: BEGIN` / `C: RUN`):
a read transaction carries ``'mode': 'r'``, a write transaction does not (write is Bolt's
default), and a transaction that must see earlier writes carries their bookmarks. On a cluster,
the mode is what routes a transaction to a reader or to the leader; the standalone Community
server here enforces the mode too (a write in a read transaction is refused), which the Store's
cypher() fallback relies on.
"""

from __future__ import annotations

import dataclasses
import logging
import re

import numpy as np
import pytest
from typer.testing import CliRunner

from sparsetopo.api.store import Store
from sparsetopo.cli.main import app
from sparsetopo.errors import InputError
from sparsetopo.graphstore import results as res
from sparsetopo.graphstore.bulkread import read_snapshots_edges
from sparsetopo.graphstore.connection import open_driver, resolve_connection
from sparsetopo.graphstore.reader import list_snapshots, read_lifetimes, read_snapshot
from sparsetopo.graphstore.runs import delete_run, find_run, list_runs, require_run
from sparsetopo.graphstore.writer import RunWriter
from sparsetopo.topology import Architecture, GraphSnapshot, LayerEdges, LayerSpec
from tests.support.extras import requires

N = 30
ARCH = Architecture({"hidden": N}, (LayerSpec("W_rec", "hidden", "hidden", N, N, "recurrent"),))
_MESSAGE = re.compile(r"C: (BEGIN|RUN) (.*)$")


class BoltLog(logging.Handler):
    """Collects the BEGIN and RUN messages the driver sends."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        m = _MESSAGE.search(record.getMessage())
        if m:
            self.lines.append((m.group(1), m.group(2)))

    def transactions(self) -> list[str]:
        """The extra dict of each BEGIN and of each auto-commit RUN (a RUN whose extra is not
        empty), as text."""
        out = []
        for kind, text in self.lines:
            if kind == "BEGIN":
                out.append(text)
            elif not text.endswith("{}"):
                out.append(text[text.rfind("{"):])
        return out


@pytest.fixture
def bolt_log():
    handler = BoltLog()
    logger = logging.getLogger("neo4j")
    old = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(old)


@pytest.fixture
def routing_driver(managed_server):
    """A driver over the routing scheme with the database named explicitly."""
    info = managed_server.connection()
    info = dataclasses.replace(info, uri=info.uri.replace("bolt://", "neo4j://"), database="neo4j")
    drv, _ = open_driver(info)
    yield drv
    drv.close()


def _snapshot(seed: int, step: int) -> GraphSnapshot:
    rng = np.random.default_rng(seed)
    keys = rng.choice(N * N, size=120, replace=False)
    w = rng.normal(size=120).astype(np.float32)
    return GraphSnapshot({"W_rec": LayerEdges(keys // N, keys % N, w)}, step=step)


def _write_run(driver, name: str) -> int:
    writer = RunWriter(driver, name, ARCH)
    for i in range(3):
        writer.write(_snapshot(i, i * 10))
    writer.finish()
    return writer.run_id


def test_reads_are_read_transactions_over_neo4j_scheme(routing_driver, run_name, bolt_log):
    run_id = _write_run(routing_driver, run_name)
    res.write_snapshot_results(routing_driver, run_id, [
        {"seq": 0, "props": {"x_stat": 1.5},
         "motifs": [{"name": "030T", "count": 3, "z": 0.5, "null_mean": 2.0, "null_sd": 2.0,
                     "p": 0.4, "null_model": "switching"}]}])
    res.write_pair_results(routing_driver, "OVERLAP", [
        {"a_run": run_id, "a_seq": 0, "b_run": run_id, "b_seq": 1, "props": {"jaccard": 0.1}}])
    store = Store(routing_driver)
    reads = [
        lambda: find_run(routing_driver, run_name),
        lambda: list_runs(routing_driver),
        lambda: require_run(routing_driver, run_name),
        lambda: list_snapshots(routing_driver, run_name),
        lambda: read_snapshot(routing_driver, run_name, step=10),
        lambda: read_snapshot(routing_driver, run_name),
        lambda: read_lifetimes(routing_driver, run_name),
        lambda: res.read_motifs(routing_driver, run_id),
        lambda: res.read_pairs(routing_driver, "OVERLAP", run_id, run_id),
        lambda: res.count_results(routing_driver, run_id),
        lambda: store.runs(),
        lambda: store.history(run_name),
        lambda: store.stored_keys(run_name),
        lambda: store.statistic(run_name, "n_edges"),
        lambda: store.motifs(run_name),
        lambda: store.pairs("OVERLAP", run_name),
        lambda: store.snapshot(run_name, 20),
        lambda: store.query("overlap", run=run_name, step_a=0, step_b=20),
        lambda: store.cypher("MATCH (r:Run {name: $n}) RETURN r.run_id AS id", n=run_name),
        # what analyze reads (the snapshots of a batch at once) and the rest of the Store's reads
        lambda: read_snapshots_edges(routing_driver, run_name, [0, 1, 2]),
        lambda: store.run_info(run_name),
        lambda: store.run_configs(),
        lambda: store.steps(run_name),
        lambda: store.edges(run_name, 10),
        lambda: store.snapshot_frame(run_name),
        lambda: store.parts(run_name),
        lambda: store.history(run_name, by="layer"),
        lambda: store.nnstd_matrix(run_name),
        lambda: store.aligned(run_name, run_name),
    ]
    for i, read in enumerate(reads):
        bolt_log.lines.clear()
        read()
        txs = bolt_log.transactions()
        assert txs, f"read {i} sent no transaction"
        for tx in txs:
            assert "'mode': 'r'" in tx, f"read {i} went out as a write: {tx}"
            assert "'db': 'neo4j'" in tx, f"read {i} did not name the database: {tx}"


def test_result_writes_are_writes_and_later_reads_carry_their_bookmark(routing_driver, run_name,
                                                                      bolt_log):
    run_id = _write_run(routing_driver, run_name)
    manager = routing_driver.execute_query_bookmark_manager
    before = set(manager.get_bookmarks())
    bolt_log.lines.clear()
    res.write_snapshot_results(routing_driver, run_id, [{"seq": 1, "props": {"y_stat": 2.0}}])
    txs = bolt_log.transactions()
    assert txs and all("'mode': 'r'" not in tx for tx in txs)
    after = set(manager.get_bookmarks())
    assert after and after != before  # the session's commit reached execute_query's manager
    bolt_log.lines.clear()
    hist = Store(routing_driver).history(run_name)
    assert hist.loc[10, "y_stat"] == 2.0
    first = bolt_log.transactions()[0]
    assert "'mode': 'r'" in first
    assert all(b in first for b in after), f"the read did not wait for the write: {first}"


def test_store_cypher_sends_a_write_as_a_write(routing_driver, bolt_log):
    store = Store(routing_driver)
    bolt_log.lines.clear()
    df = store.cypher("CREATE (n:RoutingProbe {k: $k}) RETURN n.k AS k", k=7)
    assert df.k.tolist() == [7]
    txs = bolt_log.transactions()
    assert "'mode': 'r'" in txs[0] and "'mode': 'r'" not in txs[-1]
    assert store.cypher("MATCH (n:RoutingProbe) DELETE n RETURN count(*) AS c").c.tolist() == [1]


def test_explicit_neo4j_database(managed_server, monkeypatch, run_name, bolt_log):
    monkeypatch.setenv("NEO4J_DATABASE", "neo4j")
    info = resolve_connection(start=False)
    assert info.database == "neo4j" and info.managed
    with Store.connect() as store:
        assert store.database == "neo4j"
        _write_run(store.driver, run_name)
        assert store.runs().set_index("name").loc[run_name, "snapshots"] == 3
    r = CliRunner().invoke(app, ["history", run_name, "--stat", "n_edges", "--csv"])
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines() == ["step,n_edges", "0,120", "10,120", "20,120"]
    dbs = {m for tx in bolt_log.transactions() for m in re.findall(r"'db': '([^']*)'", tx)}
    assert dbs == {"neo4j"}


def test_unknown_database_is_one_line_error(managed_server, monkeypatch, driver, run_name):
    _write_run(driver, run_name)
    monkeypatch.setenv("NEO4J_DATABASE", "no-such-db")
    with pytest.raises(InputError, match=r"database 'no-such-db' does not exist .*NEO4J_DATABASE"):
        open_driver()
    with pytest.raises(InputError, match="no-such-db"):
        Store.connect()
    runner = CliRunner()
    for args in (["runs"], ["history", run_name], ["analyze", run_name, "--n-null", "2"],
                 ["run", "delete", run_name, "--yes"]):
        r = runner.invoke(app, args)
        assert r.exit_code == 1, (args, r.output)
        lines = [ln for ln in r.output.splitlines() if ln.strip()]
        assert "Traceback" not in r.output
        assert "database 'no-such-db' does not exist" in " ".join(lines), r.output
    # nothing was deleted by the refused command
    assert find_run(driver, run_name) is not None


def test_recorder_uses_neo4j_database(managed_server, monkeypatch, run_name, tmp_path):
    torch = requires("torch")
    from sparsetopo.ingest.recorder import Recorder

    model = torch.nn.RNN(4, 6, batch_first=True)
    monkeypatch.setenv("NEO4J_DATABASE", "no-such-db")
    with pytest.raises(InputError, match="no-such-db"):
        Recorder(model, run_name, spool_dir=tmp_path / "spool")
    monkeypatch.setenv("NEO4J_DATABASE", "neo4j")
    with Recorder(model, run_name, spool_dir=tmp_path / "spool") as rec:
        rec.snapshot(0)
        rec.snapshot(1)
    drv, _ = open_driver()
    try:
        assert [s["step"] for s in list_snapshots(drv, run_name)] == [0, 1]
        delete_run(drv, run_name)
    finally:
        drv.close()
