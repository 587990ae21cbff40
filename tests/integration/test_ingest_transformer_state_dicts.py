"""`sparsetopo ingest` of transformer state dicts into the real server: the graph rules from
names and shapes (split packed projections, embeddings, the tied head) are what is stored, edge
for edge; what cannot be derived writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from tests.support.extras import requires

torch = requires("torch")

from sparsetopo.cli.main import app
from sparsetopo.graphstore.reader import list_snapshots, read_snapshot
from sparsetopo.graphstore.runs import find_run
from tests.unit.ingest.test_import_transformer_state_dicts import E, gpt2_state

runner = CliRunner()


def test_gpt2_state_dicts_store_the_split_and_tied_layers(driver, run_name, tmp_path: Path):
    states = {}
    for step in (0, 10):
        state = gpt2_state()
        if step:  # prune the second snapshot further: changes are stored too
            for key in ("transformer.h.0.attn.c_attn.weight", "transformer.h.0.mlp.c_fc.weight"):
                state[key] = state[key] * (torch.arange(state[key].numel()).reshape(
                    state[key].shape) % 3 != 0)
        states[step] = state
        torch.save(state, tmp_path / f"gpt2_{step}.pt")
    result = runner.invoke(app, ["ingest", str(tmp_path), "--run", run_name])
    assert result.exit_code == 0, result.output
    assert [s["step"] for s in list_snapshots(driver, run_name)] == [0, 10]
    for step, state in states.items():
        snap = read_snapshot(driver, run_name, step=step)
        c_attn = state["transformer.h.0.attn.c_attn.weight"].numpy()
        expected = {
            "transformer.wte.weight": state["transformer.wte.weight"].numpy(),
            **{f"transformer.h.0.attn.c_attn.weight.{r}": c_attn[:, i * E:(i + 1) * E]
               for i, r in enumerate("qkv")},
            "transformer.h.0.attn.c_proj.weight": state["transformer.h.0.attn.c_proj.weight"]
            .numpy(),
            "transformer.h.0.mlp.c_fc.weight": state["transformer.h.0.mlp.c_fc.weight"].numpy(),
            "transformer.h.0.mlp.c_proj.weight": state["transformer.h.0.mlp.c_proj.weight"]
            .numpy(),
            "lm_head.weight": state["lm_head.weight"].numpy().T,
        }
        assert set(snap.layers) == set(expected)
        for name, matrix in expected.items():
            got = snap.layers[name].to_dense(*matrix.shape)
            np.testing.assert_array_equal(got, matrix.astype(np.float32), err_msg=name)
    shown = runner.invoke(app, ["run", "show", run_name, "--json"])
    assert shown.exit_code == 0, shown.output
    layers = {x["name"]: x for x in json.loads(shown.stdout)["layers"]}
    assert layers["lm_head.weight"]["tied_to"] == "transformer.wte.weight"
    assert layers["transformer.h.0.attn.c_proj.weight"]["role"] == "o"
    assert layers["transformer.h.0.attn.c_proj.weight"]["src_group"] == (
        "transformer.h.0.attn.c_attn.v")


def test_grouped_query_state_dict_writes_nothing(driver, run_name, tmp_path: Path):
    pre = "model.layers.0."
    shapes = {"model.embed_tokens.weight": (5, E), pre + "self_attn.q_proj.weight": (E, E),
              pre + "self_attn.k_proj.weight": (E // 2, E),
              pre + "self_attn.v_proj.weight": (E // 2, E),
              pre + "self_attn.o_proj.weight": (E, E)}
    torch.save({k: torch.ones(*s) for k, s in shapes.items()}, tmp_path / "llama.pt")
    result = runner.invoke(app, ["ingest", str(tmp_path / "llama.pt"), "--run", run_name])
    assert result.exit_code != 0
    assert "grouped-query attention" in result.output and "llama.pt" in result.output
    assert "Traceback" not in result.output
    assert find_run(driver, run_name) is None
