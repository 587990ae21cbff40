"""`sparsetopo run show` of a transformer run: attention/MLP roles and tied layers are shown in
the table (within the terminal width) and in --json."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from sparsetopo.cli import common
from sparsetopo.cli import runs as runs_cli
from sparsetopo.cli.main import app

runner = CliRunner()
LAYERS = [
    {"name": "transformer.wte.weight", "kind": "embedding", "gate": None, "role": None,
     "src_group": "input", "dst_group": "transformer.wte", "n_in": 50257, "n_out": 768,
     "position": 0, "tied_to": None},
    {"name": "transformer.h.0.attn.c_attn.weight.v", "kind": "attention", "gate": None,
     "role": "v", "src_group": "transformer.wte", "dst_group": "transformer.h.0.attn.c_attn.v",
     "n_in": 768, "n_out": 768, "position": 1, "tied_to": None},
    {"name": "lm_head.weight", "kind": "linear", "gate": None, "role": None,
     "src_group": "transformer.wte", "dst_group": "lm_head", "n_in": 768, "n_out": 50257,
     "position": 2, "tied_to": "transformer.wte.weight"},
]


class FakeStore:
    def __enter__(self) -> FakeStore:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def run_info(self, name: str) -> dict[str, Any]:
        return {"run": {"name": name, "status": "complete"}, "groups": {}, "layers": LAYERS,
                "snapshots": [{"step": 0, "seq": 0, "n_edges": 10, "sparsity": 0.9}]}


@pytest.mark.parametrize("width", [80, 120])
def test_roles_and_tied_to_in_the_table(monkeypatch, width):
    monkeypatch.setattr(runs_cli, "open_store", FakeStore)
    for console in (common.console, common.err_console):
        monkeypatch.setattr(console, "_width", width)
    res = runner.invoke(app, ["run", "show", "gpt2"], env={"COLUMNS": str(width)},
                        terminal_width=width)
    assert res.exit_code == 0, res.output
    assert all(len(line.rstrip()) <= width for line in res.stdout.splitlines())
    text = " ".join(res.stdout.split())
    assert "role" in text and "tied_to" in text
    # the values, possibly folded across lines in a narrow column: compare without spaces
    flat = "".join(res.stdout.split()).replace("│", "")
    assert "transformer.wte.weight" in flat and "lm_head.weight" in flat


def test_json_keeps_roles_and_tied_to(monkeypatch):
    monkeypatch.setattr(runs_cli, "open_store", FakeStore)
    res = runner.invoke(app, ["run", "show", "gpt2", "--json"])
    assert res.exit_code == 0, res.output
    layers = json.loads(res.stdout)["layers"]
    assert [(x["role"], x["tied_to"]) for x in layers] == [
        (None, None), ("v", None), (None, "transformer.wte.weight")]
