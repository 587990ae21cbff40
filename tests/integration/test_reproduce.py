"""`sparsetopo reproduce` end to end in tiny configurations against the real server: every
paper's runs are stored under their names, the report files are written, every verdict in
claims.json follows from the numbers stored next to it, complete runs are reused, and the
self-contained report renders in headless Chromium."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import uuid
from pathlib import Path

import pytest

from tests.support.extras import requires

requires("torch")
requires("matplotlib")

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "artifacts" / "reproduce-report.png"
PAPERS = ("zhang2023", "liu2020", "zahn2024", "mackey2024")
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def store(managed_server):
    from sparsetopo.api.store import Store

    s = Store.connect()
    yield s
    s.close()


@pytest.fixture(scope="module")
def reproduced(store, tmp_path_factory):
    """Each paper reproduced once in tiny mode for every test of this module, under one unique
    run prefix: paper -> (reports, progress events, output folder, prefix). Every run under the
    prefix is deleted at the module's end."""
    from sparsetopo.graphstore.runs import delete_run
    from sparsetopo.reproduce import reproduce

    prefix = f"t{uuid.uuid4().hex[:8]}"
    done: dict[str, tuple] = {}

    def get(paper: str) -> tuple:
        if paper not in done:
            out = tmp_path_factory.mktemp(paper)
            events: list = []
            reports = reproduce(paper, mode="tiny", out=out, prefix=prefix, store=store,
                                progress=events.append)
            done[paper] = (reports, events, out, prefix)
        return done[paper]

    yield get
    for name in store.runs()["name"]:
        if str(name).startswith(prefix + "-"):
            delete_run(store.driver, str(name))


def _check_claims(out: Path, paper: str, prefix: str, store) -> dict:
    from sparsetopo.reproduce.verdict import OUTCOMES, evaluate

    data = json.loads((out / "claims.json").read_text())
    assert data["paper"] == paper and data["mode"] == "tiny"
    assert data["claims"], "no claims"
    for claim in data["claims"]:
        detail = claim["detail"]
        assert claim["outcome"] in OUTCOMES
        # the verdict follows from the numbers stored with it
        again = evaluate(detail["spec"])
        assert again.outcome == claim["outcome"], claim["id"]
        assert again.label == claim["verdict"], claim["id"]
        assert claim["test"] and claim["paper"] and claim["queries"]
        fig = out / "figures" / f"{claim['id']}.png"
        assert fig.read_bytes()[:8] == PNG
    # every run is an ordinary stored run with the documented name, complete
    runs = {r["name"]: r for r in store.runs().to_dict("records")}
    for r in data["runs"]:
        assert re.fullmatch(rf"{prefix}-{paper}-[a-z0-9-]+-s\d+", r["name"]), r["name"]
        assert r["name"].endswith(f"-s{r['seed']}")
        assert runs[r["name"]]["status"] == "complete"
        assert runs[r["name"]]["snapshots"] >= 1
    # the html is self-contained: one embedded PNG per claim, no external references
    html = (out / "report.html").read_text()
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", html)
    assert len(images) == len(data["claims"])
    assert all(base64.b64decode(i)[:8] == PNG for i in images)
    assert "http://" not in html and "https://" not in html
    md = (out / "report.md").read_text()
    for claim in data["claims"]:
        assert claim["id"] in md and claim["verdict"] in md
    return data


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("paper", PAPERS)
def test_paper_end_to_end_tiny(paper, store, reproduced):
    from sparsetopo.reproduce import plan

    reports, events, tmp_path, prefix = reproduced(paper)
    assert [r.paper for r in reports] == [paper]
    data = _check_claims(tmp_path, paper, prefix, store)
    planned = [s.name(prefix) for s in plan(paper, "tiny")[paper]]
    assert [r["name"] for r in data["runs"]][: len(planned)] == planned
    assert all(r["trained"] for r in data["runs"][: len(planned)])
    # progress: every planned run reports its epochs, analysis and end; the done fraction
    # never goes back and never passes the total
    kinds = {(e.run, e.kind) for e in events}
    for name in planned:
        assert {(name, "start"), (name, "train"), (name, "analyze"), (name, "done")} <= kinds
    done = [e.done for e in events]
    assert done == sorted(done) and done[-1] <= events[-1].total
    epochs = [e.epoch for e in events if e.run == planned[0] and e.kind == "train"]
    assert epochs == list(range(0, plan(paper, "tiny")[paper][0].epochs + 1))


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_complete_runs_are_reused_and_a_changed_config_is_not(store, reproduced, tmp_path):
    from sparsetopo.reproduce import plan, reproduce
    from sparsetopo.reproduce.runner import Runner

    _, _, first_out, prefix = reproduced("zahn2024")
    first = store.runs().set_index("name")
    again = reproduce("zahn2024", mode="tiny", out=tmp_path / "b", prefix=prefix, store=store)
    assert not any(r["trained"] for r in again[0].runs)
    second = store.runs().set_index("name")
    for name in first.index:
        if str(name).startswith(prefix):
            assert second.loc[name, "run_id"] == first.loc[name, "run_id"]
    a = json.loads((first_out / "claims.json").read_text())
    b = json.loads((tmp_path / "b" / "claims.json").read_text())
    assert [c["verdict"] for c in a["claims"]] == [c["verdict"] for c in b["claims"]]
    spec = plan("zahn2024", "tiny")["zahn2024"][0]
    runner = Runner(store, prefix)
    assert runner.is_complete(spec)
    changed = dataclasses.replace(spec, train={**spec.train, "sparsity": 0.98})
    assert not runner.is_complete(changed)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_report_renders_in_chromium(reproduced, devtools):
    reports, _, tmp_path, _ = reproduced("liu2020")
    n_claims = len(reports[0].claims)
    devtools.call("Page.navigate", url=(tmp_path / "report.html").as_uri())
    devtools.wait_for("the claims table", lambda: devtools.js(
        "!!document.querySelector('#claims') && document.readyState === 'complete'"))
    assert devtools.js("document.querySelectorAll('#claims tr').length") == n_claims + 1
    # every figure decoded by the browser (embedded, nothing fetched)
    widths = devtools.js("Array.from(document.images).map(i => i.complete ? i.naturalWidth : 0)")
    assert len(widths) == n_claims and all(w > 100 for w in widths)
    text = devtools.text()
    assert "Reproduction: Liu et al. 2020" in text
    for c in reports[0].claims:
        assert c.verdict.label in text
    devtools.screenshot(SCREENSHOT)
    assert SCREENSHOT.read_bytes()[:8] == PNG
