"""The Store API (sparsetopo.connect()) on a real server: runs, histories, snapshots as analysis
graphs, library and ad-hoc queries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sparsetopo
from sparsetopo.analysis import LayeredGraph, SignedGraph
from sparsetopo.api.store import Store
from sparsetopo.errors import InputError, StoreError
from sparsetopo.graphstore.writer import RunWriter
from sparsetopo.topology import Architecture, GraphSnapshot, LayerEdges, LayerSpec

SET_DIR = (Path(__file__).parents[1] / "data" / "zhang2023-sparse-rnn" / "MNIST"
           / "SET_n_150_p_0.05_zeta_0.2")
ARCH = Architecture({"hidden": 150},
                    (LayerSpec("W_rec", "hidden", "hidden", 150, 150, "recurrent"),))


def load(folder: Path, epoch: int) -> pd.DataFrame:
    return pd.read_csv(folder / f"edge_list_weighted_{epoch}.csv")


@pytest.fixture
def rnn_run(driver, run_name):
    writer = RunWriter(driver, run_name, ARCH)
    for step in (0, 5, 10):
        df = load(SET_DIR, step)
        writer.write(GraphSnapshot({"W_rec": LayerEdges(df.Source.values, df.Target.values,
                                                        df.Weight.values)},
                                   step=step * 100, metrics={"loss": 1.0 / (step + 1)}))
    writer.finish()
    return run_name


def test_connect_returns_a_store(managed_server):
    with sparsetopo.connect() as store:
        assert isinstance(store, Store)
        assert store.cypher("RETURN $x + 1 AS y", x=41).y.tolist() == [42]


def test_runs_and_history(driver, rnn_run):
    store = Store(driver)
    runs = store.runs().set_index("name")
    assert runs.loc[rnn_run, "snapshots"] == 3
    hist = store.history(rnn_run)
    assert hist.index.name == "step" and list(hist.index) == [0, 500, 1000]
    assert list(hist.n_edges) == [len(load(SET_DIR, s)) for s in (0, 5, 10)]
    assert np.allclose(hist.loss, [1.0, 1 / 6, 1 / 11])
    assert list(store.history(rnn_run, stats=["loss"]).columns) == ["loss"]
    with pytest.raises(InputError, match="stores no statistics"):
        store.history(rnn_run, stats=["no_such_stat"])
    s = store.statistic(rnn_run, "loss")
    assert s.name == "loss" and np.allclose(s.to_numpy(), [1.0, 1 / 6, 1 / 11])
    with pytest.raises(InputError, match="stores no statistic"):
        store.statistic(rnn_run, "loss) RETURN 1 //")


def test_snapshot_is_a_signed_graph(driver, rnn_run):
    g = Store(driver).snapshot(rnn_run, 500)
    assert isinstance(g, SignedGraph) and g.n_nodes == 150
    df = load(SET_DIR, 5)
    expected = np.zeros((150, 150))
    expected[df.Source.values, df.Target.values] = df.Weight.values.astype(np.float32)
    assert np.allclose(g.adj.toarray(), expected)
    with pytest.raises(StoreError, match="no complete snapshot"):
        Store(driver).snapshot(rnn_run, 123)


def test_snapshot_of_a_feed_forward_run_is_layered(driver, run_name):
    arch = Architecture({"input": 6, "h": 5, "out": 3}, (
        LayerSpec("fc1", "input", "h", 6, 5, "linear", position=0),
        LayerSpec("fc2", "h", "out", 5, 3, "linear", position=1),
    ))
    rng = np.random.default_rng(1)
    w1 = rng.normal(size=(6, 5)) * (rng.random((6, 5)) < 0.5)
    w2 = rng.normal(size=(5, 3)) * (rng.random((5, 3)) < 0.6)
    writer = RunWriter(driver, run_name, arch)
    writer.write(GraphSnapshot({"fc1": LayerEdges.from_dense(w1), "fc2": LayerEdges.from_dense(w2)},
                               step=1))
    lg = Store(driver).snapshot(run_name)
    assert isinstance(lg, LayeredGraph) and lg.sizes == (6, 5, 3)
    assert np.allclose(lg.layers[0].toarray(), w1.astype(np.float32))
    assert np.allclose(lg.layers[1].toarray(), w2.astype(np.float32))


def test_query_errors(driver, rnn_run):
    store = Store(driver)
    with pytest.raises(InputError, match="no library query"):
        store.query("no_such_query")
    with pytest.raises(InputError, match="needs parameters"):
        store.query("overlap", run=rnn_run)
    with pytest.raises(InputError, match="has no parameters"):
        store.query("runs", run=rnn_run)
    with pytest.raises(StoreError, match="no run named"):
        store.history("no-such-run-" + rnn_run)
