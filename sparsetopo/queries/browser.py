"""Neo4j Browser assets made from the query library: the graph style and the guide.

* :data:`STYLE` is the GraSS style of the graph queries: :EXCITES blue, :INHIBITS red, the weight
  ``w`` as relationship caption, one colour per neuron group (node label) and the neuron index as
  node caption. :func:`style_command` is the one ``:style`` line to paste into any Browser.
* :func:`guide_html` is a Browser guide with one slide per library question: what it answers, its
  ``:param`` lines and its query, each a click away from the editor.
* :func:`favorites_zip` packs the library as ``.cypher`` files for the Browser's Favorites drawer
  ("Import").

The managed server serves these files itself and applies the style and opens the guide when the
Browser connects (``browser.post_connect_cmd``; see docs/browser.md). The copies it serves live in
``sparsetopo/server/browser/`` and are written by ``python -m sparsetopo.queries.browser``; a unit
test checks they match this module.
"""

from __future__ import annotations

import html
import io
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

from sparsetopo.queries.library import LibraryQuery, library

#: Colour of an excitatory (w > 0) and an inhibitory (w < 0) synapse.
EXCITES_COLOR = "#1f77b4"
INHIBITS_COLOR = "#d62728"
#: Node colours of the usual neuron groups (other groups get the Browser's own palette).
GROUP_COLORS = {
    "Hidden": "#2ca02c",
    "Input": "#ff9f1c",
    "Output": "#9467bd",
    "Readout": "#8c564b",
    "Neuron": "#7f7f7f",  # stored nodes of the *_plain queries
    "Group": "#17becf",  # neuron groups of the architecture query
}

STYLE: dict[str, dict[str, str]] = {
    "node": {"diameter": "30px", "color": "#A5ABB6", "border-color": "#9AA1AC",
             "border-width": "1px", "text-color-internal": "#FFFFFF", "font-size": "10px",
             "caption": "{index}"},
    "relationship": {"color": "#A5ABB6", "shaft-width": "2px", "font-size": "8px",
                     "padding": "3px", "text-color-external": "#000000",
                     "text-color-internal": "#FFFFFF", "caption": "{w}"},
    # a label's own rule needs a colour and a caption, or the Browser picks defaults for it
    **{f"node.{label}": {"color": color, "border-color": color, "caption": "{index}"}
       for label, color in GROUP_COLORS.items()},
    "relationship.EXCITES": {"color": EXCITES_COLOR, "caption": "{w}"},
    "relationship.INHIBITS": {"color": INHIBITS_COLOR, "caption": "{w}"},
    "relationship.SYNAPSE": {"color": "#A5ABB6", "caption": "{sign}"},
}

#: The guide's slides, in order (the rest of the library follows alphabetically).
GUIDE_ORDER = (
    "runs", "layers", "architecture", "architecture_plain", "snapshots", "layer_subgraph", "neuron_neighbourhood",
    "ffl_unbalanced_graph", "ffl_classes", "ffl_unbalanced", "balance_history", "turnover",
    "overlap", "overlap_plugin", "survivors", "top_synapses", "neuron_degree_history", "neuron_ffl_history",
    "history", "motif_history", "nnstd_matrix",
)


def style_grass() -> str:
    """:data:`STYLE` as a GraSS (CSS-like) text, the format of the Browser's style export."""
    blocks = []
    for selector, props in STYLE.items():
        body = "\n".join(f"  {key}: {_grass_value(value)};" for key, value in props.items())
        blocks.append(f"{selector} {{\n{body}\n}}")
    return "\n\n".join(blocks) + "\n"


def _grass_value(value: str) -> str:
    return f"'{value}'" if "{" in value else value


def style_json() -> str:
    """:data:`STYLE` as one line of JSON (no semicolons, so it survives
    ``browser.post_connect_cmd``, which splits commands on ``;``)."""
    return json.dumps(STYLE, separators=(",", ":"))


def style_command() -> str:
    """The one ``:style`` command that applies the style in any Neo4j Browser."""
    return f":style {style_json()}"


def param_lines(q: LibraryQuery) -> list[str]:
    """The ``:param name => value;`` lines of a query's documented example."""
    return [f":param {k} => {_cypher_literal(v)};" for k, v in q.examples.items()]


def _cypher_literal(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ", ".join(_cypher_literal(v) for v in value) + "]"
    return repr(value)


def _ordered() -> list[LibraryQuery]:
    lib = library()
    first = [lib[n] for n in GUIDE_ORDER if n in lib]
    return first + [q for n, q in lib.items() if n not in GUIDE_ORDER]


def guide_html() -> str:
    """The Browser guide: an introduction, the style, then one slide per library query."""
    slides = [
        "<h3>sparsetopo: the wiring of sparse networks</h3>"
        "<p>Each run is a training run; each snapshot its weights at one step. Neurons are "
        "<code>:Neuron</code> nodes, a synapse is a <code>:SYNAPSE</code> relationship alive "
        "from snapshot <code>born</code> up to (not including) <code>died</code>, and the exact "
        "weights sit in <code>:WeightBlock</code> nodes.</p>"
        "<p>Every slide asks one question. Click the <code>:param</code> block, run it, then "
        "click and run the query. Numbers given with <code>:params {...}</code> become floats; "
        "the queries accept them. A run, step or layer that does not exist is an error that "
        "lists the valid ones.</p>"
        "<p>Graph queries (<code>layer_subgraph</code>, <code>neuron_neighbourhood</code>, "
        "<code>ffl_unbalanced_graph</code>) need APOC and return the snapshot exactly: "
        "<span style=\"color:" + EXCITES_COLOR + "\">blue :EXCITES</span> and "
        "<span style=\"color:" + INHIBITS_COLOR + "\">red :INHIBITS</span> synapses with their "
        "weight <code>w</code>, neurons labelled and coloured by group (caption: index). "
        "Without APOC, use their <code>*_plain</code> siblings after turning off "
        "\"Connect result nodes\" (<code>:config autoComplete: false</code>).</p>"
        "<p><code>overlap_plugin</code> calls a procedure of sparsetopo's server plugin (on the "
        "managed server, built by <code>sparsetopo server install</code>) and gives the rows of "
        "<code>overlap</code> much faster on large runs; without the plugin use "
        "<code>overlap</code>.</p>"
        "<p>The library as Browser favourites: <a href=\"favorites.zip\">favorites.zip</a> "
        "(Favorites drawer, Import).</p>",
        "<h3>The style</h3>"
        "<p>Applied when the Browser connects to the managed server. On any other server, or "
        "to restore it, run:</p>"
        f"<pre class=\"runnable\">{html.escape(style_command())}</pre>"
        "<p>GraSS styles relationships by type only, so every synapse of a sign has the same "
        "width; its weight is the caption, and graph queries return the strongest first.</p>",
    ]
    for q in _ordered():
        parts = [f"<h3>{html.escape(q.title)}</h3>",
                 f"<p><code>{html.escape(q.name)}</code>"
                 + (f": {html.escape(q.description)}" if q.description else "") + "</p>"]
        if q.params:
            rows = "".join(f"<li><code>{html.escape(k)}</code>: {html.escape(v)}</li>"
                           for k, v in q.params.items())
            parts.append(f"<ul>{rows}</ul>")
            parts.append(f"<pre class=\"runnable\">{html.escape(chr(10).join(param_lines(q)))}"
                         "</pre>")
        parts.append(f"<pre mode=\"cypher\" class=\"runnable\">{html.escape(q.text)}</pre>")
        parts.append(f"<p>Columns: {html.escape(', '.join(q.columns))}</p>")
        slides.append("".join(parts))
    body = "\n".join(f"<slide class=\"row-fluid\"><div class=\"col-sm-12\">{s}</div></slide>"
                     for s in slides)
    return (
        "<article class=\"guide\">\n<carousel class=\"deck container-fluid\">\n"
        f"{body}\n</carousel>\n</article>\n"
    )


def favorites_zip() -> bytes:
    """The library as a zip of ``sparsetopo/<name>.cypher`` files (header comment, ``:param``
    lines and query), for the Browser's Favorites import. Deterministic bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for q in _ordered():
            text = f"// {q.title}\n" + "\n".join([*param_lines(q), q.text + ";"]) + "\n"
            info = zipfile.ZipInfo(f"sparsetopo/{q.name}.cypher", date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, text)
    return buffer.getvalue()


def assets() -> dict[str, bytes]:
    """File name -> content of every asset the managed server serves under
    ``/browser/sparsetopo/``."""
    return {
        "guide.html": guide_html().encode("utf-8"),
        "sparsetopo.grass": style_grass().encode("utf-8"),
        "style.json": (style_json() + "\n").encode("utf-8"),
        "favorites.zip": favorites_zip(),
    }


def write_assets(folder: Path) -> list[Path]:
    """Write :func:`assets` into ``folder`` (the package's ``server/browser``); their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, data in assets().items():
        path = folder / name
        path.write_bytes(data)
        out.append(path)
    return out


if __name__ == "__main__":  # python -m sparsetopo.queries.browser [FOLDER]
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else (
        Path(__file__).resolve().parents[1] / "server" / "browser")
    for written in write_assets(target):
        sys.stdout.write(f"{written}\n")
