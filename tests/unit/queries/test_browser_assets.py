"""The Browser assets the managed server serves are the ones the query library makes."""

from __future__ import annotations

import io
import json
import zipfile
from html import escape as html_escape
from pathlib import Path

from sparsetopo.queries import browser
from sparsetopo.queries.library import library

SERVED = Path(__file__).resolve().parents[3] / "sparsetopo" / "server" / "browser"


def test_served_assets_are_up_to_date():
    made = browser.assets()
    served = {p.name: p.read_bytes() for p in SERVED.iterdir() if p.is_file()}
    assert served == made, "run `python -m sparsetopo.queries.browser` to refresh them"


def test_style_survives_post_connect_splitting():
    # browser.post_connect_cmd is split on ';' outside quotes: the inline style has none at all
    assert ";" not in browser.style_json()
    style = json.loads(browser.style_json())
    assert style["relationship.EXCITES"]["color"] == browser.EXCITES_COLOR
    assert style["relationship.INHIBITS"]["color"] == browser.INHIBITS_COLOR
    assert style["node.Hidden"]["caption"] == "{index}"
    assert browser.style_command().startswith(":style {")


def test_guide_has_one_slide_per_query_with_its_params():
    html = browser.guide_html()
    lib = library()
    assert html.count("<slide") == len(lib) + 2  # introduction and style slides first
    for q in lib.values():
        assert f"<code>{q.name}</code>" in html
        for line in browser.param_lines(q):
            assert html_escape(line) in html


def test_favorites_zip_holds_every_query():
    with zipfile.ZipFile(io.BytesIO(browser.favorites_zip())) as z:
        names = sorted(z.namelist())
        assert names == sorted(f"sparsetopo/{n}.cypher" for n in library())
        text = z.read("sparsetopo/layer_subgraph.cypher").decode()
    assert ":param step => 200;" in text and "apoc.create.vRelationship" in text
    assert browser.favorites_zip() == browser.favorites_zip()  # deterministic bytes
