"""Claims and the report: ``report.md``, a self-contained ``report.html`` (figures embedded as
base64 PNGs) and ``claims.json`` (every number and the exact inputs of every verdict)."""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sparsetopo.reproduce.verdict import FAILS, HOLDS, INCONCLUSIVE, Verdict


@dataclass
class Claim:
    """One claim of a paper with our numbers, the test and its verdict.

    ``paper_figure`` cites where the paper shows it (section / figure and their numbers);
    ``ours`` is our figure with its spread over seeds; ``figure`` is a PNG; ``queries`` re-query
    the figure's data (Cypher for Neo4j Browser / ``Store.cypher``, or Python for a notebook);
    ``data`` holds the plotted numbers.
    """

    id: str
    statement: str
    paper_figure: str
    ours: str
    verdict: Verdict
    figure: bytes = b""
    queries: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "statement": self.statement, "paper": self.paper_figure,
                "ours": self.ours, "test": self.verdict.test, "verdict": self.verdict.label,
                "refuted_by": self.verdict.refuted_by,
                "outcome": self.verdict.outcome, "detail": self.verdict.to_dict(),
                "figure": f"{self.id}.png" if self.figure else None,
                "queries": self.queries, "data": self.data}


@dataclass
class PaperReport:
    """Everything a paper's reproduction produced."""

    paper: str
    title: str
    mode: str
    seeds: int
    claims: list[Claim]
    runs: list[dict[str, Any]]
    seconds: float
    notes: list[str] = field(default_factory=list)
    scale: str = ""
    sources: list[str] = field(default_factory=list)
    not_covered: list[str] = field(default_factory=list)


def figure_png(fig: Any) -> bytes:
    """A matplotlib figure as PNG bytes (the figure is closed)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def new_figure(width: float = 6.0, height: float = 3.6) -> tuple[Any, Any]:
    """A headless matplotlib figure and axes."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    # constrained layout: tick labels, colour bars and outside legends never overlap
    return plt.subplots(figsize=(width, height), layout="constrained")


def new_axes(
    n: int, width: float = 4.2, height: float = 3.4, sharey: bool = True
) -> tuple[Any, list[Any]]:
    """A headless figure with ``n`` side-by-side axes (sharing y unless ``sharey=False``)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, n, figsize=(width * n, height), sharey=sharey, squeeze=False,
                             layout="constrained")
    return fig, list(axes[0])


def mean_sd(values: Sequence[float], digits: int = 3) -> str:
    """``mean ± sd (n = k)`` of the finite values."""
    import numpy as np

    x = np.asarray([float(v) for v in values], dtype=float)
    x = x[np.isfinite(x)]
    if not len(x):
        return "n/a"
    sd = float(x.std(ddof=1)) if len(x) > 1 else 0.0
    return f"{x.mean():.{digits}f} ± {sd:.{digits}f} (n = {len(x)})"


def _json_default(x: Any) -> Any:
    if hasattr(x, "item"):
        return x.item()
    if hasattr(x, "tolist"):
        return x.tolist()
    return str(x)


def claims_json(rep: PaperReport) -> dict[str, Any]:
    """The content of claims.json."""
    return {
        "paper": rep.paper, "title": rep.title, "mode": rep.mode, "seeds": rep.seeds,
        "scale": rep.scale, "seconds": round(rep.seconds, 1), "notes": rep.notes,
        "sources": rep.sources, "not_covered": rep.not_covered,
        "created_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "summary": {o: sum(c.verdict.outcome == o for c in rep.claims)
                    for o in (HOLDS, FAILS, INCONCLUSIVE)},
        "runs": rep.runs,
        "claims": [c.to_dict() for c in rep.claims],
    }


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_parts(v: Verdict) -> list[str]:
    """One bullet per part of a combined verdict (which part decided)."""
    if not v.parts:
        return []
    out = ["Parts:", ""]
    names = v.spec.get("names") or ["manipulation check", "claim"]
    for n, p in zip(names, v.parts, strict=False):
        out.append(f"- {n}: **{p.label}** ({p.test})")
    decided = v.stats.get("decided_by")
    if decided:
        out += ["", f"Decided by: {', '.join(decided)}."]
    return [*out, ""]


def render_markdown(rep: PaperReport, figure_dir: str = "figures") -> str:
    """report.md (figures referenced as PNG files next to it)."""
    lines = [f"# Reproduction: {rep.title}", "",
             f"Mode `{rep.mode}`, {rep.seeds} seed(s), {len(rep.runs)} stored runs, "
             f"{rep.seconds / 60:.1f} min wall time. {rep.scale}", ""]
    counts = claims_json(rep)["summary"]
    lines += [f"Verdicts: {counts[HOLDS]} hold, {counts[FAILS]} do not hold, "
              f"{counts[INCONCLUSIVE]} inconclusive.", ""]
    if rep.notes:
        lines += [f"- {n}" for n in rep.notes] + [""]
    if rep.sources:
        lines += ["**Where the paper's numbers come from**", ""]
        lines += [f"- {n}" for n in rep.sources] + [""]
    if rep.not_covered:
        lines += ["**What this reproduction does not cover**", ""]
        lines += [f"- {n}" for n in rep.not_covered] + [""]
    lines += ["| claim | paper | ours (spread over seeds) | test | verdict |",
              "|---|---|---|---|---|"]
    for c in rep.claims:
        lines.append(f"| {_md_cell(c.statement)} | {_md_cell(c.paper_figure)} | "
                     f"{_md_cell(c.ours)} | {_md_cell(c.verdict.test)} | "
                     f"**{_md_cell(c.verdict.label)}** |")
    lines.append("")
    for c in rep.claims:
        lines += [f"## {c.id}: {c.statement}", "",
                  f"**Verdict: {c.verdict.label}.** Ours: {c.ours}. Paper: {c.paper_figure}.", "",
                  f"Test: {c.verdict.test}. Would have been refuted by: "
                  f"{c.verdict.refuted_by or 'n/a'}.", ""]
        lines += _md_parts(c.verdict)
        if c.figure:
            lines += [f"![{c.id}]({figure_dir}/{c.id}.png)", ""]
        if c.queries:
            lines += ["Re-query:", ""]
            for q in c.queries:
                lines += ["```", q, "```", ""]
    lines += ["## Runs", "", "| run | condition | seed | trained now | seconds |", "|---|---|---|---|---|"]
    for r in rep.runs:
        lines.append(f"| `{r['name']}` | {r['condition']} | {r['seed']} | "
                     f"{'yes' if r['trained'] else 'reused'} | {r['seconds']:.1f} |")
    lines.append("")
    return "\n".join(lines)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222}
table{border-collapse:collapse;width:100%;font-size:14px}td,th{border:1px solid #ccc;
padding:6px;vertical-align:top}th{background:#f3f3f3}
.holds{background:#d9f2d9}.fails{background:#f8d7d7}.inconclusive{background:#fff3cd}
pre{background:#f6f6f6;padding:8px;overflow-x:auto;font-size:12px}img{max-width:100%}
.claim{border-top:2px solid #ddd;margin-top:1.5em;padding-top:.5em}
"""


def _css_class(outcome: str) -> str:
    return {HOLDS: "holds", FAILS: "fails"}.get(outcome, "inconclusive")


def render_html(rep: PaperReport) -> str:
    """report.html: self-contained, every figure embedded as a base64 PNG."""
    e = html.escape
    counts = claims_json(rep)["summary"]
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Reproduction: "
             f"{e(rep.title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>Reproduction: {e(rep.title)}</h1>",
             f"<p>Mode <code>{e(rep.mode)}</code>, {rep.seeds} seed(s), {len(rep.runs)} stored "
             f"runs, {rep.seconds / 60:.1f} min wall time. {e(rep.scale)}</p>",
             f"<p id='summary'>Verdicts: {counts[HOLDS]} hold, {counts[FAILS]} do not hold, "
             f"{counts[INCONCLUSIVE]} inconclusive.</p>"]
    if rep.notes:
        parts.append("<ul>" + "".join(f"<li>{e(n)}</li>" for n in rep.notes) + "</ul>")
    if rep.sources:
        parts.append("<p><b>Where the paper's numbers come from</b></p><ul>"
                     + "".join(f"<li>{e(n)}</li>" for n in rep.sources) + "</ul>")
    if rep.not_covered:
        parts.append("<p><b>What this reproduction does not cover</b></p><ul>"
                     + "".join(f"<li>{e(n)}</li>" for n in rep.not_covered) + "</ul>")
    parts.append("<table id='claims'><tr><th>claim</th><th>paper</th><th>ours (spread over "
                 "seeds)</th><th>test</th><th>verdict</th></tr>")
    for c in rep.claims:
        parts.append(f"<tr><td>{e(c.statement)}</td><td>{e(c.paper_figure)}</td>"
                     f"<td>{e(c.ours)}</td><td>{e(c.verdict.test)}</td>"
                     f"<td class='{_css_class(c.verdict.outcome)}'><b>{e(c.verdict.label)}</b>"
                     "</td></tr>")
    parts.append("</table>")
    for c in rep.claims:
        parts.append(f"<div class='claim' id='{e(c.id)}'><h2>{e(c.id)}: {e(c.statement)}</h2>"
                     f"<p class='{_css_class(c.verdict.outcome)}'><b>Verdict: "
                     f"{e(c.verdict.label)}</b></p><p>Ours: {e(c.ours)}<br>Paper: "
                     f"{e(c.paper_figure)}<br>Test: {e(c.verdict.test)}<br>Would have been "
                     f"refuted by: {e(c.verdict.refuted_by or 'n/a')}</p>")
        if c.verdict.parts:
            names = c.verdict.spec.get("names") or ["manipulation check", "claim"]
            parts.append("<ul>" + "".join(
                f"<li>{e(n)}: <b>{e(p.label)}</b></li>"
                for n, p in zip(names, c.verdict.parts, strict=False)) + "</ul>")
        if c.figure:
            b64 = base64.b64encode(c.figure).decode()
            parts.append(f"<img alt='{e(c.id)}' src='data:image/png;base64,{b64}'>")
        if c.queries:
            parts.append("<p>Re-query:</p>" + "".join(f"<pre>{e(q)}</pre>" for q in c.queries))
        parts.append("</div>")
    parts.append("<h2>Runs</h2><table><tr><th>run</th><th>condition</th><th>seed</th>"
                 "<th>trained now</th><th>seconds</th></tr>")
    for r in rep.runs:
        parts.append(f"<tr><td><code>{e(r['name'])}</code></td><td>{e(r['condition'])}</td>"
                     f"<td>{r['seed']}</td><td>{'yes' if r['trained'] else 'reused'}</td>"
                     f"<td>{r['seconds']:.1f}</td></tr>")
    parts.append("</table></body></html>")
    return "".join(parts)


def write_report(rep: PaperReport, out: Path) -> dict[str, Path]:
    """Write report.html, report.md, claims.json and figures/*.png into ``out``.

    Parameters
    ----------
    rep : PaperReport
        The reproduction's results.
    out : pathlib.Path
        Output directory (created).

    Returns
    -------
    dict of str to pathlib.Path
        The written files by kind.
    """
    out.mkdir(parents=True, exist_ok=True)
    figs = out / "figures"
    figs.mkdir(exist_ok=True)
    for c in rep.claims:
        if c.figure:
            (figs / f"{c.id}.png").write_bytes(c.figure)
    paths = {"html": out / "report.html", "md": out / "report.md", "json": out / "claims.json"}
    paths["html"].write_text(render_html(rep), encoding="utf-8")
    paths["md"].write_text(render_markdown(rep), encoding="utf-8")
    paths["json"].write_text(json.dumps(claims_json(rep), indent=2, default=_json_default),
                             encoding="utf-8")
    return paths
