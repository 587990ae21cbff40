"""The reproduction report's profile figure with many task/strategy profiles (the full mode's
nine): heatmap labels that do not overlap, a legend beside the axes, no text cut off."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.text import Text  # noqa: E402

from sparsetopo.analysis import SignedGraph  # noqa: E402
from sparsetopo.reproduce import zhang2023  # noqa: E402


def test_profile_figure_labels_do_not_overlap(monkeypatch):
    rng = np.random.default_rng(0)
    pairs = sorted({(int(a), int(b)) for a, b in rng.integers(0, 25, (160, 2)) if a != b})
    src, dst = np.array(pairs).T
    graph = SignedGraph.from_edges(src, dst, rng.choice([-1.0, 1.0], len(src)))
    ctx = SimpleNamespace(mode="tiny", seeds=[0], prefix="t", store=SimpleNamespace(
        snapshot=lambda name: graph), name=lambda paper, cond, seed: f"{paper}-{cond}-s{seed}",
        runner=SimpleNamespace(extra=lambda *a, **k: None))
    figures = []
    monkeypatch.setattr(zhang2023, "figure_png", lambda fig: figures.append(fig) or b"")
    zhang2023.Zhang2023()._profiles(ctx, ["seq-digits", "mackey-glass", "adding"])
    (fig,) = figures
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    heat = next(ax for ax in fig.axes if ax.get_title() == "pairwise Pearson r")
    for axis in (heat.get_xticklabels(), heat.get_yticklabels()):
        boxes = [t.get_window_extent(renderer) for t in axis if t.get_text()]
        assert len(boxes) == 9
        assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    legend = fig.legends[0].get_window_extent(renderer)
    assert not any(legend.overlaps(ax.get_window_extent(renderer)) for ax in fig.axes)
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    edge = fig.bbox
    for t in texts:
        box = t.get_window_extent(renderer)
        assert box.x0 >= -1 and box.y0 >= -1 and box.x1 <= edge.x1 + 1 and box.y1 <= edge.y1 + 1, (
            t.get_text())
