"""analyze, history --by layer and --layer on branching and gated models (a real server).

ResNet-18 itself is recorded and analysed at defaults in test_architectures.py."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from sparsetopo.api.store import Store
from sparsetopo.cli.main import app
from sparsetopo.errors import InputError
from sparsetopo.graphstore.writer import RunWriter
from sparsetopo.topology import Architecture, GraphSnapshot, LayerEdges, LayerSpec


def _lstm2() -> Architecture:
    g = {"tok": 12, "emb": 6, "lstm.l0": 5, "lstm.l1": 5, "out": 12}
    layers = [LayerSpec("emb", "tok", "emb", 12, 6, "custom", None, 0)]
    for k, src in enumerate(("emb", "lstm.l0")):
        hid = f"lstm.l{k}"
        for gate in "ifgo":
            layers.append(LayerSpec(f"w_ih_l{k}.{gate}", src, hid, g[src], 5, "input", gate, 1 + k))
        for gate in "ifgo":
            layers.append(LayerSpec(f"w_hh_l{k}.{gate}", hid, hid, 5, 5, "recurrent", gate, 1 + k))
    layers.append(LayerSpec("fc", "lstm.l1", "out", 5, 12, "readout", None, 3))
    return Architecture(g, tuple(layers))


def _snapshots(arch: Architecture, steps: int, seed: int = 0) -> list[GraphSnapshot]:
    rng = np.random.default_rng(seed)
    out = []
    for step in range(steps):
        layers = {}
        for s in arch.layers:
            m = (rng.random((s.n_in, s.n_out)) < 0.5) * rng.normal(size=(s.n_in, s.n_out))
            layers[s.name] = LayerEdges.from_dense(m)
        out.append(GraphSnapshot(layers, step=10 * step))
    return out


@pytest.fixture
def store(managed_server):
    with Store.connect() as s:
        yield s


@pytest.fixture
def cli():
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


@pytest.fixture
def lstm_run(store, run_name):
    arch = _lstm2()
    writer = RunWriter(store.driver, run_name, arch)
    snaps = _snapshots(arch, 3)
    for snap in snaps:
        writer.write(snap)
    writer.finish()
    return run_name, arch, snaps


def test_lstm_every_gate_analysed_and_history_by_layer(store, lstm_run):
    run, arch, snaps = lstm_run
    store.analyze(run, n_null=5)
    h = store.history(run)
    assert h["analysis_primary"].tolist() == ["model"] * 3
    assert np.isfinite(h["ffl_balance"]).all()
    parts = store.history(run, by="part")
    rec = {p for p in parts.index.get_level_values("part") if p.startswith("recurrent:")}
    assert rec == {f"recurrent:w_hh_l{k}.{g}" for k in (0, 1) for g in "ifgo"}
    by_layer = store.history(run, by="layer")
    assert set(by_layer.index.get_level_values("layer")) == {s.name for s in arch.layers}
    # per-layer edge counts equal the stored nonzeros; a gate's balance joins its row
    for step, snap in zip((0, 10, 20), snaps, strict=True):
        for s in arch.layers:
            assert by_layer.loc[(step, s.name), "n_edges"] == len(snap.layers[s.name])
    assert np.isfinite(by_layer.loc[(10, "w_hh_l1.f"), "ffl_balance"])
    # overlap of one layer with the previous snapshot, computed by hand
    a, b = snaps[0].layers["fc"], snaps[1].layers["fc"]
    keys_a = set(zip(a.src.tolist(), a.dst.tolist(), strict=True))
    shared = len(keys_a & set(zip(b.src.tolist(), b.dst.tolist(), strict=True)))
    assert by_layer.loc[(10, "fc"), "overlap_prev_shared"] == shared
    assert set(store.motifs(run)["part"]) >= rec
    only = store.history(run, by="layer", layers=["fc"])
    assert set(only.index.get_level_values("layer")) == {"fc"}
    with pytest.raises(InputError, match="its layers"):
        store.history(run, by="layer", layers=["bogus"])


def test_layer_selects_one_and_unknown_lists_names(store, lstm_run, cli):
    run, _, _ = lstm_run
    store.analyze(run, n_null=3, layer="w_hh_l0.g", nnstd=False, overlap=False)
    h = store.history(run)
    assert h["analysis_primary"].tolist() == ["recurrent:w_hh_l0.g"] * 3
    with pytest.raises(InputError, match=r"unknown layer 'bogus'.*w_hh_l1\.o"):
        store.analyze(run, layer="bogus")
    res = cli("analyze", run, "--layer", "bogus")
    assert res.exit_code != 0 and "w_ih_l0.i" in res.output and "Traceback" not in res.output
    res = cli("history", run, "--by", "layer", "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert rows and {"layer", "n_edges"} <= set(rows[0])


def _resnet_like() -> Architecture:
    g = {"input": 3, "a": 8, "b1": 8, "c1": 16, "d": 16, "out": 10}

    def spec(name, src, dst, pos, kind="conv"):
        return LayerSpec(name, src, dst, g[src], g[dst], kind, None, pos)

    return Architecture(g, (
        spec("stem", "input", "a", 0), spec("l1.c1", "a", "b1", 1), spec("l1.c2", "b1", "a", 2),
        spec("l2.c1", "a", "c1", 3), spec("l2.c2", "c1", "d", 4), spec("l2.ds", "a", "d", 5),
        spec("fc", "d", "out", 6, "readout"),
    ))


@pytest.fixture
def resnet_run(store, run_name):
    arch = _resnet_like()
    writer = RunWriter(store.driver, run_name, arch)
    snaps = _snapshots(arch, 2, seed=1)
    for snap, step in zip(snaps, (100, 200), strict=True):
        snap.step = step
        writer.write(snap)
    writer.finish()
    store.analyze(run_name, n_null=3)
    return run_name, arch, snaps


def test_architecture_query_draws_groups_and_layers(store, resnet_run):
    run, arch, snaps = resnet_run
    df = store.query("architecture", run=run)
    got = {(r.layer["name"], r.source["name"], r.target["name"], r.layer["n_edges"])
           for r in df.itertuples()}
    assert got == {(s.name, s.src_group, s.dst_group, len(snaps[-1].layers[s.name]))
                   for s in arch.layers}
    units = {r.source["name"]: r.source["units"] for r in df.itertuples()}
    assert all(units[g] == arch.groups[g] for g in units)
    plain = store.query("architecture_plain", run=run)
    assert plain["layer"].tolist() == [s.name for s in arch.layers]
    assert plain.set_index("layer")["n_edges"].to_dict() == {
        s.name: len(snaps[-1].layers[s.name]) for s in arch.layers}


def test_every_library_query_runs_on_a_branching_run(store, resnet_run):
    from sparsetopo.queries.library import library

    run, _, _ = resnet_run
    for name, q in sorted(library().items()):
        if q.needs_plugin:
            continue
        params = dict(q.examples)
        for key in ("run", "run_a", "run_b"):
            if key in params:
                params[key] = run
        if "layer" in params:
            params["layer"] = "l1.c2"  # writes the residual group that four layers touch
        df = store.query(name, **params)
        assert tuple(df.columns) == q.columns, name
