"""The analysis plan over any group graph: chains, parts and the whole-model graph, checked
against chains worked out by hand and networkx's triad census."""

from __future__ import annotations

import numpy as np
import pytest

from sparsetopo.analysis import triad_census
from sparsetopo.api.pipeline import model_graph, pair_stats, snapshot_task
from sparsetopo.api.plan import (
    AnalysisOptions,
    SnapshotTask,
    maximal_chains,
    model_offsets,
    plan_analysis,
)
from sparsetopo.errors import InputError
from sparsetopo.topology import Architecture, LayerSpec


def L(name, src, dst, groups, pos, kind="linear", gate=None):  # noqa: N802
    return LayerSpec(name, src, dst, groups[src], groups[dst], kind, gate, pos)


def resnet_like() -> Architecture:
    g = {"input": 3, "a": 8, "b1": 8, "c1": 16, "d": 16, "out": 10}
    return Architecture(g, (
        L("stem", "input", "a", g, 0, "conv"),
        L("l1.c1", "a", "b1", g, 1, "conv"), L("l1.c2", "b1", "a", g, 2, "conv"),
        L("l2.c1", "a", "c1", g, 3, "conv"), L("l2.c2", "c1", "d", g, 4, "conv"),
        L("l2.ds", "a", "d", g, 5, "conv"), L("fc", "d", "out", g, 6, "readout"),
    ))


def transformer_like() -> Architecture:
    g = {"tok": 12, "resid": 6, "q": 6, "k": 6, "v": 6, "mlp": 10, "logits": 12}
    return Architecture(g, (
        L("emb", "tok", "resid", g, 0, "custom"),
        L("q", "resid", "q", g, 1), L("k", "resid", "k", g, 2), L("v", "resid", "v", g, 3),
        L("o", "v", "resid", g, 4),
        L("gate", "resid", "mlp", g, 5), L("up", "resid", "mlp", g, 6),
        L("down", "mlp", "resid", g, 7), L("head", "resid", "logits", g, 8, "readout"),
    ))


def lstm2() -> Architecture:
    g = {"tok": 10, "emb": 5, "lstm.l0": 4, "lstm.l1": 4, "out": 10}
    layers = [L("emb", "tok", "emb", g, 0, "custom")]
    for k, (src, hid) in enumerate((("emb", "lstm.l0"), ("lstm.l0", "lstm.l1"))):
        for gate in "ifgo":
            layers.append(L(f"w_ih_l{k}.{gate}", src, hid, g, 1 + k, "input", gate))
        for gate in "ifgo":
            layers.append(L(f"w_hh_l{k}.{gate}", hid, hid, g, 1 + k, "recurrent", gate))
    layers.append(L("fc", "lstm.l1", "out", g, 3, "readout"))
    return Architecture(g, tuple(layers))


def names(chains):
    return [[s.name for s in c] for c in chains]


def test_resnet_chains_by_hand():
    # group a is written by stem and l1.c2 and read by three layers, d is written twice: only
    # b1 and c1 link, so the residual block's two convolutions chain and the downsample is alone
    assert names(maximal_chains(resnet_like())) == [
        ["stem"], ["l1.c1", "l1.c2"], ["l2.c1", "l2.c2"], ["l2.ds"], ["fc"]]
    plan = plan_analysis(resnet_like())
    assert not plan.legacy and plan.primary == "model"
    assert [p.name for p in plan.parts if p.kind != "layer"] == [
        "model", "chain:stem", "chain:l1.c1", "chain:l2.c1", "chain:l2.ds", "chain:fc"]
    assert plan.part("chain:l1.c1").sizes == (8, 8, 8)
    assert plan.part("model").sizes == (3 + 8 + 8 + 16 + 16 + 10,)
    assert len([p for p in plan.parts if p.kind == "layer"]) == 7


def test_transformer_chains_by_hand():
    # q and k are dead ends, v links into the output projection, the SwiGLU group has two
    # writers (gate, up), the residual stream has three writers and six readers
    assert names(maximal_chains(transformer_like())) == [
        ["emb"], ["q"], ["k"], ["v", "o"], ["gate"], ["up"], ["down"], ["head"]]


def test_lstm_every_gate_and_layer_is_analysed():
    plan = plan_analysis(lstm2())
    rec = [p.name for p in plan.parts if p.kind == "recurrent"]
    assert rec == [f"recurrent:w_hh_l{k}.{g}" for k in (0, 1) for g in "ifgo"]
    chains = [p.layers for p in plan.parts if p.kind == "chain"]
    assert chains[0] == ("emb",) and chains[-1] == ("fc",)
    assert sorted(c[0] for c in chains[1:-1]) == sorted(
        f"w_ih_l{k}.{g}" for k in (0, 1) for g in "ifgo")
    assert plan.primary == "model"


def test_legacy_shapes_keep_their_single_graph():
    g = {"input": 4, "h1": 3, "h2": 3, "output": 2}
    mlp = Architecture(g, (L("fc1", "input", "h1", g, 0), L("fc2", "h1", "h2", g, 1),
                           L("fc3", "h2", "output", g, 2)))
    plan = plan_analysis(mlp)
    assert plan.legacy and plan.primary == "chain:fc1"
    assert plan.primary_part.layers == ("fc1", "fc2", "fc3")
    assert plan.primary_part.sizes == (4, 3, 3, 2)
    g = {"input": 4, "hidden": 5, "output": 2}
    rnn = Architecture(g, (L("W_in", "input", "hidden", g, 0, "input"),
                           L("W_rec", "hidden", "hidden", g, 1, "recurrent"),
                           L("W_out", "hidden", "output", g, 2, "readout")))
    plan = plan_analysis(rnn)
    part = plan.primary_part
    assert plan.legacy and (part.kind, part.input_layer, part.readout_layer) == (
        "recurrent", "W_in", "W_out")


def test_ring_of_linking_groups_is_one_chain():
    g = {"a": 3, "b": 4}
    arch = Architecture(g, (L("ba", "b", "a", g, 1), L("ab", "a", "b", g, 0)))
    assert names(maximal_chains(arch)) == [["ab", "ba"]]


def test_layer_selects_one_and_unknown_lists_the_names():
    plan = plan_analysis(lstm2(), "w_hh_l1.g")
    assert plan.primary == "recurrent:w_hh_l1.g" and plan.legacy
    assert plan_analysis(resnet_like(), "l2.ds").primary_part.sizes == (8, 16)
    with pytest.raises(InputError, match=r"unknown layer 'bogus'.*stem, l1\.c1"):
        plan_analysis(resnet_like(), "bogus")


def _random_edges(arch, rng, density=0.4, diagonal=False):
    edges = {}
    for s in arch.layers:
        m = (rng.random((s.n_in, s.n_out)) < density) * rng.normal(size=(s.n_in, s.n_out))
        if s.src_group == s.dst_group and not diagonal:
            np.fill_diagonal(m, 0.0)
        src, dst = np.nonzero(m)
        edges[s.name] = (src.astype(np.int32), dst.astype(np.int32),
                         m[src, dst].astype(np.float32))
    return edges


@pytest.mark.parametrize("arch", [resnet_like(), transformer_like(), lstm2()],
                         ids=["resnet", "transformer", "lstm"])
def test_model_graph_census_matches_networkx(arch):
    nx = pytest.importorskip("networkx")
    rng = np.random.default_rng(7)
    edges = _random_edges(arch, rng)
    plan = plan_analysis(arch)
    # independently: a node per (group, unit), an edge per nonzero weight of every layer
    # (parallel layers between the same units give one edge unless their weights cancel)
    net: dict[tuple, float] = {}
    for s in arch.layers:
        src, dst, w = edges[s.name]
        for i, j, x in zip(src, dst, w, strict=True):
            key = ((s.src_group, int(i)), (s.dst_group, int(j)))
            net[key] = net.get(key, 0.0) + float(x)
    dg = nx.DiGraph()
    dg.add_nodes_from((grp, u) for grp, n in arch.groups.items() for u in range(n))
    dg.add_edges_from(k for k, v in net.items() if v != 0.0)
    g = model_graph(plan, edges)
    assert g.n_nodes == dg.number_of_nodes() and g.n_edges == dg.number_of_edges()
    assert triad_census(g) == nx.triadic_census(dg)
    off = model_offsets(arch.groups)
    e = g.edges()
    a, b = next(iter(net))
    assert any(int(s) == off[a[0]] + a[1] and int(d) == off[b[0]] + b[1]
               for s, d in zip(e.src, e.dst, strict=True))


def test_snapshot_task_stores_the_model_and_every_part():
    arch = transformer_like()
    edges = _random_edges(arch, np.random.default_rng(3))
    plan = plan_analysis(arch)
    res = snapshot_task(SnapshotTask(plan, AnalysisOptions(n_null=3), 4, edges))
    assert res.props["analysis_balance"] == "v2:model"
    assert "ffl_balance" in res.props and "cycle4_balance" not in res.props
    by = {p.part: p for p in res.parts}
    assert set(by) == {p.name for p in plan.parts}
    assert "cycle4_balance" in by["chain:v"].props
    assert by["layer:q"].props["n_edges"] == len(edges["q"][0])
    # the model graph: exact census (no Monte Carlo); chains: motif Z-scores
    assert {m["part"] for m in res.motifs} == {p.name for p in plan.parts if p.kind == "chain"}
    g = model_graph(plan, edges)
    assert {k: by["model"].props[f"triad_{k}"] for k in triad_census(g)} == triad_census(g)
    assert res.props["triad_030T"] == triad_census(g)["030T"]


def test_pair_stats_per_layer():
    arch = lstm2()
    rng = np.random.default_rng(5)
    a, b = _random_edges(arch, rng), _random_edges(arch, rng)
    plan = plan_analysis(arch)
    same = pair_stats(plan, a, a)
    assert same.nnstd["distance"] == 0.0 and same.nnstd["layers"] == list(plan.layer_order)
    diff = pair_stats(plan, a, b)
    assert set(diff.layer_overlap) == set(plan.layer_order)
    total = sum(v["shared"] for v in diff.layer_overlap.values())
    assert total == diff.overlap["shared"]
    keys = {n: set(zip(*[x.tolist() for x in a[n][:2]], strict=True)) for n in a}
    keys_b = {n: set(zip(*[x.tolist() for x in b[n][:2]], strict=True)) for n in b}
    assert diff.layer_overlap["fc"]["shared"] == len(keys["fc"] & keys_b["fc"])


def test_analysis_rows_put_pair_results_on_the_layers():
    from sparsetopo.api.pipeline import pair_task
    from sparsetopo.api.plan import PairTask
    from sparsetopo.api.store import analysis_rows

    arch = lstm2()
    rng = np.random.default_rng(9)
    snaps = [_random_edges(arch, rng) for _ in range(2)]
    plan = plan_analysis(arch)
    pair = pair_task(PairTask(plan, (0, 1, True, True), snaps[0], snaps[1]))
    snap = snapshot_task(SnapshotTask(plan, AnalysisOptions(motifs=False), 1, snaps[1]))
    rows = analysis_rows(7, [0, 1], plan, [snap, pair])
    parts = {(r["seq"], r["part"]): r for r in rows["parts"]}
    fc = parts[(1, "layer:fc")]["props"]
    assert fc["n_edges"] == len(snaps[1]["fc"][0])
    assert fc["overlap_prev_shared"] == pair.layer_overlap["fc"]["shared"]
    i = pair.nnstd["layers"].index("w_hh_l1.o")
    assert parts[(1, "layer:w_hh_l1.o")]["props"]["nnstd_to_first"] == pair.nnstd["per_layer"][i]
    snap_props = {r["seq"]: r["props"] for r in rows["snapshots"]}
    assert snap_props[1]["analysis_primary"] == "model"
    assert snap_props[1]["nnstd_to_prev"] == pytest.approx(np.mean(pair.nnstd["per_layer"]))
    assert snap_props[0]["nnstd_to_first"] == 0.0
    assert [r["b_seq"] for r in rows["overlap"]] == [1]
