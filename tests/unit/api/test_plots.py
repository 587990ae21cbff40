"""Figures from hand-made tables: distinct series styles, null bands, |Z| = 2 lines, families."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.support.extras import requires

requires("matplotlib")

from sparsetopo.api import plots  # noqa: E402


def motifs_table(names, steps=(0, 10, 20)) -> pd.DataFrame:
    rows = []
    for k, name in enumerate(names):
        for s in steps:
            rows.append({"seq": s // 10, "step": s, "motif": name, "count": 10.0 + k + s,
                         "null_mean": 8.0 + k, "null_sd": 2.0, "z": (2.0 + s) / 2.0, "p": 0.5,
                         "null_model": "switching:n=5:seed=0"})
    return pd.DataFrame(rows)


def test_series_styles_are_distinct():
    styles = [plots.series_style(i) for i in range(48)]
    assert len({(s["color"], s["linestyle"], s["marker"]) for s in styles}) == 48
    assert len({s["color"] for s in styles[:12]}) == 12


def test_zscores_one_family_in_fixed_colours_with_null_and_guides():
    triads = ["003", "012", "102", "021D", "021U", "021C", "111D", "111U", "030T", "030C", "201"]
    df = motifs_table([*triads, "ffl_balance_pooled"])
    assert plots.families(df) == ["balance", "triads"]
    fig = plots.plot_zscores(df, "r", family="triads")
    ax = fig.axes[0]
    data_lines = [ln for ln in ax.lines if ln.get_label() in triads]
    assert len(data_lines) == 11  # the balance statistic is in its own figure
    assert [ln.get_label() for ln in data_lines] == triads  # MAN order, not by |Z|
    assert all(ln.get_color() == plots.CLASS_COLOURS[ln.get_label()] for ln in data_lines)
    assert len({ln.get_color() for ln in data_lines}) == 11
    guides = sorted(ln.get_ydata()[0] for ln in ax.lines if ln.get_linestyle() == ":"
                    and ln.get_label().startswith("_"))
    assert guides == [-2, 2]
    assert "switching null" in fig.get_suptitle() and "all 11 classes" in fig.get_suptitle()
    assert fig._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"


def test_null_band_is_mean_plus_minus_one_sd():
    fig = plots.plot_null_bands(motifs_table(["030T"]), "r", family="triads")
    ax = fig.axes[0]
    band = ax.collections[0].get_paths()[0].vertices
    assert band[:, 1].min() == pytest.approx(8.0 - 2.0) and band[:, 1].max() == pytest.approx(8.0 + 2.0)


def test_balance_band_from_z_and_one_panel_per_statistic():
    h = pd.DataFrame({"ffl_balance": [0.6, 0.7], "ffl_balance_null": [0.5, 0.5],
                      "ffl_balance_z": [2.0, 4.0], "sparsity": [0.5, 0.9]},
                     index=pd.Index([0, 10], name="step"))
    fig = plots.plot_balance(h, "r")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["FFL balance (pooled)",
                                                  "sparsity (whole graph)"]
    band = visible[0].collections[0].get_paths()[0].vertices
    # SD = (observed - null mean) / Z = 0.05 at both steps
    assert band[:, 1].min() == pytest.approx(0.45) and band[:, 1].max() == pytest.approx(0.55)
    assert list(visible[1].lines[0].get_ydata()) == [0.5, 0.9]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "sign-shuffle null mean ± 1 SD (dashed, band)" in legend
    # the renamed key of the nulls rework works too
    h2 = h.rename(columns={"ffl_balance_null": "ffl_balance_null_mean",
                           "ffl_balance_z": "ffl_balance_z_sign_shuffle"})
    band2 = plots.plot_balance(h2, "r").axes[0].collections[0].get_paths()[0].vertices
    assert np.allclose(np.sort(band2[:, 1]), np.sort(band[:, 1]))


def test_sparse_nnstd_is_drawn_as_lines_with_regular_ticks():
    steps = list(range(0, 50, 5))
    m = pd.DataFrame(np.nan, index=steps, columns=steps)
    for i, s in enumerate(steps):
        m.loc[s, s] = 0.0
        m.loc[0, s] = m.loc[s, 0] = 0.1 * i
        if i:
            m.loc[steps[i - 1], s] = m.loc[s, steps[i - 1]] = 0.05
    fig = plots.plot_nnstd(m, "r")
    labels = [ln.get_label() for ln in fig.axes[0].lines]
    assert labels == ["to the first snapshot", "to the previous snapshot"]
    assert fig.axes[0].get_legend() is None and len(fig.legends) == 1  # outside the axes
    full = m.fillna(0.3)
    heat = plots.plot_nnstd(full, "r")
    ticks = [float(t.get_text()) for t in heat.axes[0].get_xticklabels()]
    assert ticks[0] == 0 and ticks[-1] == 45 and len(set(np.diff(ticks))) <= 2  # near-even
