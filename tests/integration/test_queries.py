"""The Cypher library against independently computed answers (numpy set operations and brute
force on the CSV files of Zhang et al. 2023), on a real server."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from neo4j.exceptions import Neo4jError

from sparsetopo.analysis import SignedGraph, edge_overlap, ffl_counts
from sparsetopo.api.store import Store
from sparsetopo.errors import InputError, StoreError
from sparsetopo.graphstore.runs import delete_run, find_run
from sparsetopo.graphstore.writer import RunWriter
from sparsetopo.queries.library import library
from sparsetopo.topology import Architecture, GraphSnapshot, LayerEdges, LayerSpec
from tests.support.brute import brute_ffls

ZHANG = Path(__file__).parents[1] / "data" / "zhang2023-sparse-rnn" / "MNIST"
SET_DIR = ZHANG / "SET_n_150_p_0.05_zeta_0.2"
PRUNE_DIR = ZHANG / "pruning_n_150_p_0.05"
EPOCHS = (0, 5, 10, 15, 20)
N = 150
ARCH = Architecture({"hidden": N}, (LayerSpec("W_rec", "hidden", "hidden", N, N, "recurrent"),))


def load(folder: Path, epoch: int) -> pd.DataFrame:
    return pd.read_csv(folder / f"edge_list_weighted_{epoch}.csv")


def write_run(driver, name: str, folder: Path, epochs) -> None:
    writer = RunWriter(driver, name, ARCH)
    for e in epochs:
        df = load(folder, e)
        writer.write(GraphSnapshot({"W_rec": LayerEdges(df.Source.values, df.Target.values,
                                                        df.Weight.values)}, step=e))
    writer.finish()


def signed_dense(df: pd.DataFrame) -> np.ndarray:
    m = np.zeros((N, N), dtype=np.int8)
    m[df.Source.values, df.Target.values] = np.sign(df.Weight.values).astype(np.int8)
    return m


def edge_dict(df: pd.DataFrame) -> dict[tuple[int, int], float]:
    return {(int(s), int(t)): float(w) for s, t, w in zip(df.Source, df.Target, df.Weight, strict=False)}


@pytest.fixture(scope="module")
def store(driver):
    return Store(driver)


@pytest.fixture(scope="module")
def set_run(driver):
    name = f"test-q-{uuid.uuid4().hex[:8]}"
    write_run(driver, name, SET_DIR, EPOCHS)
    yield name
    delete_run(driver, name)


@pytest.fixture(scope="module")
def prune_run(driver):
    name = f"test-q-{uuid.uuid4().hex[:8]}"
    write_run(driver, name, PRUNE_DIR, (100, 200))
    yield name
    delete_run(driver, name)


@pytest.fixture(scope="module")
def example_run(driver):
    """The documented examples name the run 'zhang-prune' (steps 100 and 200): make sure it
    exists, and remove it afterwards only if this test created it."""
    created = find_run(driver, "zhang-prune") is None
    if created:
        write_run(driver, "zhang-prune", PRUNE_DIR, (100, 200))
    yield "zhang-prune"
    if created:
        delete_run(driver, "zhang-prune")


@pytest.mark.parametrize("name", sorted(library()))
def test_every_query_runs_with_its_examples(store, example_run, name):
    q = library()[name]
    assert set(q.examples) == set(q.params), "every parameter needs a :param example line"
    df = store.query(name, **q.examples)
    assert tuple(df.columns) == q.columns


def test_edges_alive_equal_csv(store, set_run):
    for e in (0, 15):
        df = store.query("edges_alive", run=set_run, step=e, layer="W_rec")
        expected = edge_dict(load(SET_DIR, e))
        got = {(int(s), int(t)): int(g) for s, t, g in zip(df.src, df.dst, df.sign, strict=False)}
        assert got == {k: int(np.sign(w)) for k, w in expected.items()}


def test_turnover_equals_set_differences(store, set_run):
    df = store.query("turnover", run=set_run).set_index("step")
    prev: dict[tuple[int, int], float] = {}
    for e in EPOCHS:
        cur = edge_dict(load(SET_DIR, e))
        shared = set(cur) & set(prev)
        flips = sum((cur[k] > 0) != (prev[k] > 0) for k in shared)
        assert df.loc[e, "births"] == len(set(cur) - set(prev))
        assert df.loc[e, "deaths"] == len(set(prev) - set(cur))
        assert df.loc[e, "sign_flips"] == flips
        prev = cur
    assert df["sign_flips"].sum() > 0  # the data has flips, so the check above is not vacuous


@pytest.mark.parametrize(("a", "b"), [(0, 20), (20, 0), (5, 10), (10, 10)])
def test_overlap_equals_set_operations(store, set_run, a, b):
    df = store.query("overlap", run=set_run, step_a=a, step_b=b).set_index("layer")
    ea, eb = edge_dict(load(SET_DIR, a)), edge_dict(load(SET_DIR, b))
    shared = set(ea) & set(eb)
    flips = sum((ea[k] > 0) != (eb[k] > 0) for k in shared)
    for layer in ("W_rec", "*"):
        row = df.loc[layer]
        assert row.shared == len(shared)
        assert row.only_a == len(set(ea) - set(eb))
        assert row.only_b == len(set(eb) - set(ea))
        assert row.sign_flips == flips
        assert row.jaccard == pytest.approx(len(shared) / len(set(ea) | set(eb)), abs=5e-5)
    # and the analysis layer agrees
    ga, gb = (store.snapshot(set_run, s) for s in (a, b))
    ov = edge_overlap(ga, gb)
    assert (ov.shared, ov.sign_flips) == (len(shared), flips)


def test_overlap_between_runs(store, set_run, prune_run):
    df = store.query("overlap_runs", run_a=set_run, step_a=10, run_b=prune_run,
                     step_b=200).set_index("layer")
    ea, eb = edge_dict(load(SET_DIR, 10)), edge_dict(load(PRUNE_DIR, 200))
    shared = set(ea) & set(eb)
    assert len(shared) > 0
    row = df.loc["*"]
    assert row.shared == len(shared)
    assert row.only_a == len(set(ea) - set(eb)) and row.only_b == len(set(eb) - set(ea))
    assert row.sign_flips == sum((ea[k] > 0) != (eb[k] > 0) for k in shared)
    # table queries round to 4 decimals for the Browser
    assert row.jaccard == round(len(shared) / len(set(ea) | set(eb)), 4)


def test_survivors_are_continuous_with_constant_sign(store, set_run):
    df = store.query("survivors", run=set_run, layer="W_rec", step_a=5, step_b=15)
    frames = [edge_dict(load(SET_DIR, e)) for e in (5, 10, 15)]
    keys = set(frames[0]).intersection(*frames[1:])
    expected = {k for k in keys if len({np.sign(f[k]) for f in frames}) == 1}
    assert {(int(s), int(t)) for s, t in zip(df.src, df.dst, strict=False)} == expected


@pytest.mark.parametrize("step", [0, 20])
def test_ffl_classes_equal_python_and_brute_force(store, set_run, step):
    df = store.query("ffl_classes", run=set_run, step=step, layer="W_rec").set_index("triad_class")
    m = signed_dense(load(SET_DIR, step))
    brute = pd.DataFrame(brute_ffls(m), columns=["i", "j", "k", "cls", "prod"])
    expected = brute.groupby("cls")["prod"].agg(ffl="size", balanced=lambda p: int((p > 0).sum()))
    assert sorted(df.index) == sorted(expected.index)
    for cls, row in expected.iterrows():
        assert df.loc[cls, "ffl"] == row.ffl
        assert df.loc[cls, "balanced"] == row.balanced
        assert df.loc[cls, "unbalanced"] == row.ffl - row.balanced
    df_in = load(SET_DIR, step)
    f = ffl_counts(SignedGraph.from_edges(df_in.Source.values, df_in.Target.values,
                                          df_in.Weight.values, n_nodes=N))
    for cls, total in f.total.items():
        got = int(df.loc[cls, "ffl"]) if cls in df.index else 0
        assert got == total
        assert (int(df.loc[cls, "balanced"]) if cls in df.index else 0) == f.balanced[cls]


def test_ffl_unbalanced_listing(store, set_run):
    df = store.query("ffl_unbalanced", run=set_run, step=10, layer="W_rec", limit=100_000)
    m = signed_dense(load(SET_DIR, 10))
    expected = {(i, j, k, c) for i, j, k, c, p in brute_ffls(m) if p < 0}
    got = {(int(r.i), int(r.j), int(r.k), r.triad_class) for r in df.itertuples()}
    assert got == expected and len(expected) > 0
    assert (df.sign_ij * df.sign_jk * df.sign_ik < 0).all()


@pytest.mark.parametrize("neuron", [0, 7])
def test_neuron_ffl_history(store, set_run, neuron):
    df = store.query("neuron_ffl_history", run=set_run, layer="W_rec", neuron=neuron)
    for row in df.itertuples():
        unb = [f for f in brute_ffls(signed_dense(load(SET_DIR, row.step))) if f[4] < 0]
        assert row.as_source == sum(f[0] == neuron for f in unb)
        assert row.as_middle == sum(f[1] == neuron for f in unb)
        assert row.as_target == sum(f[2] == neuron for f in unb)


def test_neuron_degree_history(store, set_run):
    df_all = {e: load(SET_DIR, e) for e in EPOCHS}
    loops = df_all[0][df_all[0].Source == df_all[0].Target].Source
    for neuron in [0, 42, int(loops.iloc[0])]:
        df = store.query("neuron_degree_history", run=set_run, layer="W_rec", neuron=neuron)
        assert list(df.step) == list(EPOCHS)
        for row in df.itertuples():
            e = df_all[row.step]
            w = e.Weight.values.astype(np.float32).astype(np.float64)
            assert row.out_degree == int((e.Source == neuron).sum())
            assert row.in_degree == int((e.Target == neuron).sum())
            assert row.out_strength == pytest.approx(np.abs(w[e.Source.values == neuron]).sum(), abs=5e-5)
            assert row.in_strength == pytest.approx(np.abs(w[e.Target.values == neuron]).sum(), abs=5e-5)


def test_top_synapses(store, set_run):
    e = load(SET_DIR, 20)
    neuron = int(e.Source.value_counts().index[0])
    df = store.query("top_synapses", run=set_run, step=20, layer="W_rec", neuron=neuron,
                     direction="out", k=5)
    out = e[e.Source == neuron]
    expected = out.iloc[np.argsort(-np.abs(out.Weight.values), kind="stable")[:5]]
    assert list(df.dst) == list(expected.Target)
    assert np.allclose(df.weight, expected.Weight.values.astype(np.float32), atol=5e-5)  # 4 decimals
    assert set(df.direction) <= {"out", "self"}


def test_layer_subgraph_limit_and_history(store, set_run):
    df = store.query("layer_subgraph_plain", run=set_run, step=5, layer="W_rec", limit=50)
    assert len(df) == 50
    assert all(isinstance(x, dict) and x["_type"] == "SYNAPSE" for x in df.synapse)
    big = store.query("layer_subgraph_plain", run=set_run, step=5, layer="W_rec", limit=10_000)
    assert len(big) == len(load(SET_DIR, 5))
    hist = store.query("history", run=set_run, key="n_edges")
    assert list(hist.value) == [len(load(SET_DIR, e)) for e in EPOCHS]


def test_runs_lists_the_run(store, set_run):
    df = store.query("runs")
    row = df.set_index("run").loc[set_run]
    assert row.snapshots == len(EPOCHS) and row.last_step == EPOCHS[-1]


def graph_edges(df: pd.DataFrame) -> dict[tuple[int, int], tuple[str, float]]:
    """(source index, target index) -> (relationship type, weight) of a graph query's rows."""
    out = {}
    for row in df.itertuples():
        key = (int(row.source["index"]), int(row.target["index"]))
        assert key not in out, f"synapse {key} returned twice"
        out[key] = (row.synapse["_type"], float(row.synapse["weight"]))
    return out


def test_layer_subgraph_is_exactly_the_snapshot(store, set_run):
    csv = load(SET_DIR, 10)
    expected = edge_dict(csv)
    df = store.query("layer_subgraph", run=set_run, step=10, layer="W_rec", limit=100_000)
    got = graph_edges(df)
    assert set(got) == set(expected)
    for key, (kind, weight) in got.items():
        assert weight == pytest.approx(expected[key], abs=1e-6)  # float32 storage
        assert kind == ("EXCITES" if expected[key] > 0 else "INHIBITS")
    assert {tuple(x["_labels"]) for x in df.source} == {("Hidden",)}
    assert all(x["name"] == str(x["index"]) and x["group"] == "hidden" for x in df.target)
    # the limit keeps the strongest synapses
    top = store.query("layer_subgraph", run=set_run, step=10, layer="W_rec", limit=20)
    strongest = sorted(expected.values(), key=abs, reverse=True)[:20]
    assert sorted(abs(w) for _, w in graph_edges(top).values()) == pytest.approx(
        sorted(abs(w) for w in strongest), abs=1e-6)


def test_ffl_unbalanced_graph_holds_the_loops(store, set_run):
    csv = load(SET_DIR, 10)
    weights = edge_dict(csv)
    loops = [f for f in brute_ffls(signed_dense(csv)) if f[4] < 0]
    expected = {pair for i, j, k, _, _ in loops for pair in ((i, j), (j, k), (i, k))}
    df = store.query("ffl_unbalanced_graph", run=set_run, step=10, layer="W_rec", limit=100_000)
    got = graph_edges(df)
    assert set(got) == expected and expected
    assert all(w == pytest.approx(weights[key], abs=1e-6) for key, (_, w) in got.items())
    # a limit of 3 loops keeps the edges of the first 3 (i, j, k) in order
    first = sorted((i, j, k) for i, j, k, _, _ in loops)[:3]
    small = graph_edges(store.query("ffl_unbalanced_graph", run=set_run, step=10, layer="W_rec",
                                    limit=3))
    assert set(small) == {p for i, j, k in first for p in ((i, j), (j, k), (i, k))}


@pytest.mark.parametrize("name", ["neuron_neighbourhood", "neuron_neighbourhood_plain"])
def test_neuron_neighbourhood(store, set_run, name):
    csv = load(SET_DIR, 15)
    neuron = int(csv.Source.value_counts().index[0])
    expected = {k: w for k, w in edge_dict(csv).items() if neuron in k}
    df = store.query(name, run=set_run, step=15, layer="W_rec", neuron=neuron, limit=10_000)
    if name.endswith("_plain"):
        got = {(int(r.source["index"]), int(r.target["index"])) for r in df.itertuples()}
        assert got == set(expected)
    else:
        got_w = graph_edges(df)
        assert set(got_w) == set(expected)
        assert all(w == pytest.approx(expected[k], abs=1e-6) for k, (_, w) in got_w.items())


def test_integers_given_as_floats(store, set_run):
    ints = store.query("top_synapses", run=set_run, step=20, layer="W_rec", neuron=3,
                       direction="both", k=5)
    floats = store.query("top_synapses", run=set_run, step=20.0, layer="W_rec", neuron=3.0,
                         direction="both", k=5.0)
    pd.testing.assert_frame_equal(ints, floats)
    # the Browser's :params makes numbers floats: the text itself must cope
    q = library()["layer_subgraph"]
    df = store.cypher(q.text, run=set_run, step=5.0, layer="W_rec", limit=7.0)
    assert len(df) == 7
    with pytest.raises(InputError, match="must be an integer"):
        store.query("top_synapses", run=set_run, step=20.5, layer="W_rec", neuron=3,
                    direction="both", k=5)


def test_missing_run_step_or_layer_is_reported(store, set_run):
    with pytest.raises(StoreError, match="no run named 'nope'"):
        store.query("edges_alive", run="nope", step=5, layer="W_rec")
    with pytest.raises(StoreError, match=r"no complete snapshot at step 7; its steps: 0, 5, 10, 15, 20$"):
        store.query("edges_alive", run=set_run, step=7, layer="W_rec")
    with pytest.raises(StoreError, match=r"no layer 'W_in'; its layers: W_rec"):
        store.query("edges_alive", run=set_run, step=5, layer="W_in")
    with pytest.raises(StoreError, match="step 7"):
        store.query("overlap_runs", run_a=set_run, step_a=5, run_b=set_run, step_b=7)
    with pytest.raises(StoreError, match="step 3"):
        store.snapshot(set_run, step=3)
    # the same checks inside the Cypher text (APOC), as the Browser runs it
    q = library()["edges_alive"]
    with pytest.raises(Neo4jError, match=r"has no complete snapshot at step 7; steps: \[0, 5, 10, 15, 20\]"):
        store.cypher(q.text, run=set_run, step=7, layer="W_rec")
    with pytest.raises(Neo4jError, match=r"has no layer W_in; layers: \[W_rec\]"):
        store.cypher(q.text, run=set_run, step=5, layer="W_in")
    with pytest.raises(Neo4jError, match=r"no run named nope"):
        store.cypher(q.text, run="nope", step=5, layer="W_rec")
