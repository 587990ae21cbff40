"""Neo4j Browser of the managed server: served over HTTP, and usable from a real browser.

The second test drives headless Chromium over the DevTools protocol (``websocket-client``, in the
dev extras), logs in as neo4j with the managed password and saves a screenshot to
artifacts/browser.png (docs/img/browser-connected.png is a copy of one such run).

The third runs the layer_subgraph query from the sparsetopo guide that opens on connect, and checks
the picture: both synapse colours of the style are drawn, and the Browser shows exactly the
snapshot's synapses (docs/img/browser-layer-subgraph.png is a copy of one such run).
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.chromium import DevTools

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "artifacts" / "browser.png"
SUBGRAPH_SHOT = ROOT / "artifacts" / "browser-layer-subgraph.png"
ZHANG_PRUNE = ROOT / "tests" / "data" / "zhang2023-sparse-rnn" / "MNIST" / "pruning_n_150_p_0.05"
def test_browser_page_is_served(managed_server):
    with urllib.request.urlopen(managed_server.browser_url, timeout=30) as response:
        status = response.status
        content_type = response.headers.get("Content-Type", "")
        html = response.read().decode("utf-8", "replace")
    assert status == 200
    assert "text/html" in content_type
    assert "<title>Neo4j Browser" in html
    assert "Neo4j Browser" in html


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_browser_logs_in_to_the_managed_server(managed_server, devtools):
    bolt_port = managed_server.settings.bolt_port
    password = managed_server.password()
    url = f"{managed_server.browser_url}?dbms=bolt://neo4j@127.0.0.1:{bolt_port}"
    devtools.call("Page.navigate", url=url)

    # The connect form, prefilled from the URL: not connected yet, password empty.
    devtools.wait_for(
        "the connect form", lambda: devtools.js("!!document.querySelector('[data-testid=password]')")
    )
    assert devtools.js("document.querySelector('[data-testid=boltaddress]').value") == (
        f"127.0.0.1:{bolt_port}"
    )
    assert devtools.js("document.querySelector('[data-testid=username]').value") == "neo4j"
    assert devtools.js("document.querySelector('[data-testid=password]').value") == ""
    assert "You are connected as user" not in devtools.text()

    # Type the password as a user would and press Connect.
    devtools.js("document.querySelector('[data-testid=password]').focus()")
    devtools.call("Input.insertText", text=password)
    devtools.js("document.querySelector('[data-testid=connect]').click()")
    devtools.wait_for("the connected message", lambda: "You are connected as user" in devtools.text())
    text = devtools.text()
    assert "Connected to Neo4j" in text
    assert re.search(r"You are connected as user\s+neo4j", text)
    assert f"bolt://127.0.0.1:{bolt_port}" in text

    # The database sidebar lists what the server reports about itself.
    devtools.js("document.querySelector('button[name=DBMS]').click()")
    devtools.wait_for("the database sidebar", lambda: "Connected as" in devtools.text())

    def sidebar_with_version() -> str | None:
        text = devtools.text()
        return text if re.search(r"Version:\s+5\.26\.\d+", text) else None

    sidebar = devtools.wait_for("the server version in the sidebar", sidebar_with_version)
    assert re.search(r"Username:\s+neo4j", sidebar)
    assert "Community" in sidebar
    devtools.wait_for(
        "database neo4j selected in the sidebar",
        lambda: devtools.js(
            "Array.from(document.querySelectorAll('select option'))"
            ".some(o => o.selected && o.value === 'neo4j')"
        ),
    )

    assert password not in devtools.text()
    assert password not in devtools.js("location.href")
    time.sleep(1)  # let the sidebar's slide-in animation finish before the picture
    devtools.screenshot(SCREENSHOT)
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert SCREENSHOT.stat().st_size > 20_000


def _login(devtools: DevTools, server: Any) -> None:
    url = f"{server.browser_url}?dbms=bolt://neo4j@127.0.0.1:{server.settings.bolt_port}"
    devtools.call("Page.navigate", url=url)
    devtools.wait_for(
        "the connect form", lambda: devtools.js("!!document.querySelector('[data-testid=password]')")
    )
    devtools.js("document.querySelector('[data-testid=password]').focus()")
    devtools.call("Input.insertText", text=server.password())
    devtools.js("document.querySelector('[data-testid=connect]').click()")
    devtools.wait_for("the connected message", lambda: "You are connected as user" in devtools.text())


def _click_runnable(devtools: DevTools, prefix: str) -> None:
    """Click the guide's code block starting with ``prefix`` (it goes into the editor), run it."""
    found = devtools.js(
        "(() => { const e = Array.from(document.querySelectorAll('pre.runnable'))"
        f".find(x => x.textContent.trim().startsWith({json.dumps(prefix)}));"
        " if (e) { e.click(); return true } return false })()"
    )
    assert found, f"the guide shows no code block starting with {prefix!r}"
    time.sleep(0.5)
    devtools.js("document.querySelector('[data-testid=editor-Run]').click()")


def _top_frame(devtools: DevTools) -> str:
    """Text of the newest result frame (the stream shows the newest first)."""
    return devtools.js(
        "(() => { const f = document.querySelector('[data-testid=frame]');"
        " return f ? f.textContent.replace(/\\s+/g, ' ').trim() : '' })()"
    ) or ""


def _run_in_editor(devtools: DevTools, command: str) -> None:
    devtools.js("document.querySelector('[data-testid=activeEditor]').click()")
    devtools.call("Input.insertText", text=command)
    devtools.js("document.querySelector('[data-testid=editor-Run]').click()")


def _wait_for_param(devtools: DevTools, text: str, timeout: float = 90.0) -> None:
    """Run ``:params`` until it shows ``text`` (the Browser sets parameters asynchronously)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _run_in_editor(devtools, ":params")
        shown_by = time.monotonic() + 2  # the frame of this :params, polled (not slept for)
        while time.monotonic() < shown_by:
            if text in _top_frame(devtools):
                return
            time.sleep(0.1)
    raise AssertionError(f"the Browser's parameters never showed {text}: {_top_frame(devtools)}")


def _displayed_or_fail(devtools: DevTools) -> tuple[int, int] | None:
    top = _top_frame(devtools)
    assert "ERROR" not in top[:2000], f"the query failed in the Browser: {top[:600]}"
    return _displayed(devtools)


def _displayed(devtools: DevTools) -> tuple[int, int] | None:
    text = devtools.js("document.body ? document.body.textContent : ''") or ""
    match = re.search(r"Displaying ([\d,]+) nodes?, ([\d,]+) relationships?", text)
    if not match:
        return None
    return int(match.group(1).replace(",", "")), int(match.group(2).replace(",", ""))


def _colour_pixels(png: Path, box: dict[str, float], rgb: tuple[int, int, int],
                   hole: dict[str, float]) -> int:
    """Pixels inside ``box`` but outside ``hole`` (CSS pixels, scale 1) within 40 of ``rgb``
    per channel."""
    import numpy as np
    from matplotlib.image import imread

    image = (imread(png)[..., :3] * 255).astype(int)
    mask = np.zeros(image.shape[:2], dtype=bool)
    mask[int(box["y"]):int(box["y"] + box["height"]), int(box["x"]):int(box["x"] + box["width"])] = True
    mask[int(hole["y"]):int(hole["y"] + hole["height"]),
         int(hole["x"]):int(hole["x"] + hole["width"])] = False
    near = np.abs(image - np.array(rgb)).max(axis=-1) <= 40
    return int((near & mask).sum())


def _hex(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


@pytest.fixture
def zhang_prune(driver) -> Iterator[str]:
    """The run the guide's examples name (step 200 of the pruning run); removed afterwards
    only if this test created it."""
    from sparsetopo.graphstore.runs import delete_run, find_run
    from sparsetopo.graphstore.writer import RunWriter
    from sparsetopo.ingest.importers import read_inputs

    created = find_run(driver, "zhang-prune") is None
    if created:
        plan = read_inputs([ZHANG_PRUNE / "edge_list_weighted_100.csv",
                            ZHANG_PRUNE / "edge_list_weighted_200.csv"])
        writer = RunWriter(driver, "zhang-prune", plan.architecture)
        for snap in plan.snapshots():
            writer.write(snap)
        writer.finish()
    yield "zhang-prune"
    if created:
        delete_run(driver, "zhang-prune")


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_layer_subgraph_shows_exactly_the_snapshot(managed_server, devtools, zhang_prune):
    from sparsetopo.queries.browser import EXCITES_COLOR, INHIBITS_COLOR

    csv = (ZHANG_PRUNE / "edge_list_weighted_200.csv").read_text().splitlines()[1:]
    edges = [(int(r.split(",")[1]), int(r.split(",")[2])) for r in csv]
    n_edges, n_nodes = len(edges), len({x for e in edges for x in e})

    _login(devtools, managed_server)
    # on connect the managed server applies the style and opens the sparsetopo guide
    devtools.wait_for("the sparsetopo guide", lambda: "the wiring of sparse networks" in devtools.text())
    devtools.wait_for("the style frame", lambda: "relationship.EXCITES" in devtools.text())
    for _ in range(30):
        if "exactly as it was" in devtools.text():
            break
        devtools.js("document.querySelector('[data-testid=nextSlide]').click()")
        time.sleep(0.3)
    assert "exactly as it was" in devtools.text(), "no layer_subgraph slide in the guide"

    # the slide's :param lines, then the query: limit 300 of the snapshot's synapses
    _click_runnable(devtools, ":param run => 'zhang-prune';")
    devtools.wait_for("the parameters", lambda: _top_frame(devtools).startswith(":param run"))
    _wait_for_param(devtools, '"limit": 300')
    _click_runnable(devtools, "CALL apoc.util.validate(")
    shown = devtools.wait_for("the graph", lambda: _displayed_or_fail(devtools), timeout=180)
    assert shown[1] == 300 < n_edges

    # a larger limit than the snapshot has: every synapse of step 200 and not one more (the
    # Browser's "Connect result nodes" would add the 19k synapses ever stored between them)
    _run_in_editor(devtools, ":param limit => 5000")
    devtools.wait_for("the new limit", lambda: _top_frame(devtools).startswith(":param limit"))
    _wait_for_param(devtools, '"limit": 5000')
    _click_runnable(devtools, "CALL apoc.util.validate(")
    shown = devtools.wait_for(
        "the whole snapshot",
        lambda: _top_frame(devtools).startswith("CALL")
        and (_displayed_or_fail(devtools) or (0, 0))[1] != 300 and _displayed(devtools),
        timeout=240,
    )
    assert shown == (n_nodes, n_edges)

    time.sleep(3)  # let the force layout settle before the picture
    rect = "const r = e.getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height}"
    box = devtools.js(f"(() => {{ const e = document.querySelector('svg.neod3viz'); {rect} }})()")
    # the overview panel (legend badges in the same colours) lies over the drawing: mask it
    hole = devtools.js(
        "(() => { let e = Array.from(document.querySelectorAll('*')).find(x => "
        "x.children.length === 0 && x.textContent.trim() === 'Overview');"
        " while (e && !e.textContent.includes('Displaying')) e = e.parentElement;"
        f" {rect} }})()"
    )
    assert box["width"] > 300 and box["height"] > 200
    devtools.screenshot(SUBGRAPH_SHOT)
    blue = _colour_pixels(SUBGRAPH_SHOT, box, _hex(EXCITES_COLOR), hole)
    red = _colour_pixels(SUBGRAPH_SHOT, box, _hex(INHIBITS_COLOR), hole)
    assert blue > 500 and red > 500, (blue, red)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_library_tables_show_rounded_numbers(managed_server, devtools, zhang_prune):
    """The snapshots query as the Browser's table: 4 decimals, never a 17-digit float."""
    from sparsetopo.queries.library import get_query

    sparsity = {}
    for step in (100, 200):
        n = len((ZHANG_PRUNE / f"edge_list_weighted_{step}.csv").read_text().splitlines()) - 1
        sparsity[step] = round(1 - n / 150**2, 4)  # 150 units, dense 150 x 150 recurrent layer

    _login(devtools, managed_server)
    _run_in_editor(devtools, ":param run => 'zhang-prune'")
    _wait_for_param(devtools, '"run": "zhang-prune"')
    _run_in_editor(devtools, " ".join(get_query("snapshots").text.split()))
    table = devtools.wait_for(
        "the snapshots table",
        lambda: (lambda t: t if t.startswith("CALL") and "sparsity" in t and "200" in t else None)(
            _top_frame(devtools)),
        timeout=120,
    )
    assert "ERROR" not in table[:2000], table[:600]
    cells = devtools.js(
        "(() => { const f = document.querySelector('[data-testid=frame]');"
        " return Array.from(f.querySelectorAll('td, [role=cell]')).map(c => c.innerText) })()"
    ) or []
    numbers = [m for cell in cells
               for m in re.findall(r"(?<![\d:.T-])-?\d+\.\d+(?![\d:])", cell)]  # not times
    assert numbers, cells[:40]
    assert all(len(x.split(".")[1]) <= 4 for x in numbers), [x for x in numbers if len(x) > 8]
    for value in sparsity.values():  # the sparsity column and the properties map, rounded
        assert f"{value:g}" in numbers, (value, cells[:40])
