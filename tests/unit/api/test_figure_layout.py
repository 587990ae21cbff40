"""What a reader sees in the saved figures: legends beside the axes (never over the data), no
text cut off at the figure's edge, labelled axes on every panel, one colour per motif class in
every figure, Monte Carlo Z error bands, births visible next to equal deaths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402
from matplotlib.image import imread  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from sparsetopo.api import plots  # noqa: E402

TRIADS = ["003", "012", "102", "021D", "021U", "021C", "111D", "111U",
          "030T", "030C", "201", "120D", "120U", "120C", "210", "300"]


def motifs(seed: int, steps=(0, 50, 100, 150, 200)) -> pd.DataFrame:
    """A motifs table of 16 triads and the balance statistics, Z differing by run (seed)."""
    rng = np.random.default_rng(seed)
    rows = []
    for name in [*TRIADS, "ffl_balance_pooled", "ffl_balance_paper", "ffl_unbalanced"]:
        scale = rng.uniform(0.5, 12)
        for k, s in enumerate(steps):
            z = scale * np.sin(k + scale) + rng.normal()
            rows.append({"seq": k, "step": s, "motif": name, "count": 100.0 + 10 * z,
                         "null_mean": 100.0, "null_sd": 10.0, "z": z,
                         "z_se": np.sqrt((1 + z**2 / 2) / 5), "p": 0.5,
                         "null_model": "switching:n=5:seed=0"})
    return pd.DataFrame(rows)


def history(offset: float) -> pd.DataFrame:
    steps = pd.Index([0, 50, 100, 150, 200], name="step")
    return pd.DataFrame({
        "sparsity": np.linspace(0, 0.7, 5) + offset / 10, "ffl_balance": 0.6 + offset / 10,
        "ffl_balance_paper": 0.55, "ffl_balance_null": 0.5, "ffl_balance_z": 3.0,
        "triangle_unbalanced_fraction": 0.3}, index=steps)


def turnover(same: bool) -> pd.DataFrame:
    births = [500, 40, 40, 40, 40]
    deaths = births if same else [0, 60, 60, 60, 60]
    return pd.DataFrame({"step": [0, 50, 100, 150, 200], "births": births, "deaths": deaths,
                         "sign_flips": [0, 1, 2, 1, 0]})


def every_figure() -> dict[str, object]:
    m = {"zhang-prune": motifs(0), "zhang-set": motifs(1)}
    one = {"zhang-prune": m["zhang-prune"]}
    nn = pd.DataFrame(np.nan, index=[0, 50, 100], columns=[0, 50, 100])
    for a, b in [(0, 50), (0, 100), (50, 100)]:
        nn.loc[a, b] = nn.loc[b, a] = 0.1
    return {
        "balance-1": plots.plot_balance({"zhang-prune": history(0)}),
        "balance-10": plots.plot_balance({f"run-{k}": history(k) for k in range(10)}),
        "zscores-1": plots.plot_zscores(one, family="triads"),
        "zscores-2": plots.plot_zscores(m, family="triads"),
        "zscores-balance": plots.plot_zscores(m, family="balance"),
        "null-1": plots.plot_null_bands(one, family="triads"),
        "null-2": plots.plot_null_bands(m, family="triads"),
        "nnstd": plots.plot_nnstd({"a": nn, "b": nn}),
        "turnover-1": plots.plot_turnover({"zhang-set": turnover(True)}),
        "turnover-2": plots.plot_turnover({"zhang-set": turnover(True),
                                           "zhang-prune": turnover(False)}),
    }


FIGURES = every_figure()


def drawn(fig):
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def shown(artist) -> bool:
    ax = getattr(artist, "axes", None)
    return artist.get_visible() and (ax is None or ax.get_visible())


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_legends_sit_outside_every_axes(name):
    fig = FIGURES[name]
    renderer = drawn(fig)
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            if ax.get_visible():
                assert not box.overlaps(ax.get_window_extent(renderer)), (
                    f"{name}: the legend covers the axes {ax.get_title()!r}")


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_no_text_is_clipped_by_the_figure_edge(name):
    fig = FIGURES[name]
    renderer = drawn(fig)
    edge = fig.bbox
    hidden = set()  # labels of ticks outside the view limits exist but are not drawn
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if not lo - 1e-9 * (hi - lo) <= tick.get_loc() <= hi + 1e-9 * (hi - lo):
                    hidden.update({id(tick.label1), id(tick.label2)})
    texts = [t for t in fig.findobj(Text)
             if shown(t) and t.get_text().strip() and id(t) not in hidden]
    assert texts
    for t in texts:
        box = t.get_window_extent(renderer)
        assert (box.x0 >= edge.x0 - 1 and box.y0 >= edge.y0 - 1 and box.x1 <= edge.x1 + 1
                and box.y1 <= edge.y1 + 1), f"{name}: {t.get_text()!r} is cut off at {box}"


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_the_title_and_the_legend_do_not_overlap(name):
    fig = FIGURES[name]
    renderer = drawn(fig)
    if not fig.get_suptitle() or not fig.legends:
        return
    title = fig._suptitle.get_window_extent(renderer)
    for legend in fig.legends:
        assert not title.overlaps(legend.get_window_extent(renderer)), name


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_every_panel_has_labelled_axes(name):
    for ax in FIGURES[name].axes:
        if ax.get_visible() and ax.get_label() != "<colorbar>":
            assert ax.get_xlabel() and ax.get_ylabel(), f"{name}: {ax.get_title()!r}"


def test_titles_say_what_is_selected():
    null = FIGURES["null-1"]
    assert "top 9 of 16 classes by mean |Z|" in null.get_suptitle()
    assert sum(ax.get_visible() for ax in null.axes) == 9
    assert "all 16 classes" in FIGURES["zscores-1"].get_suptitle()
    assert "switching null" in FIGURES["zscores-1"].get_suptitle()
    small = plots.plot_zscores(motifs(0), "r", family="triads", top=4)
    assert "top 4 of 16 classes by mean |Z|" in small.get_suptitle()


def test_one_panel_per_run_and_per_statistic():
    z = FIGURES["zscores-2"]
    assert [ax.get_title() for ax in z.axes] == ["zhang-prune", "zhang-set"]
    balance = [ax.get_title() for ax in FIGURES["balance-10"].axes if ax.get_visible()]
    assert balance == ["FFL balance (pooled)", "FFL balance (paper)", "triangle balance",
                       "sparsity (whole graph)"]
    # ten runs: one line each in every panel, named in the one legend
    assert len(FIGURES["balance-10"].axes[0].get_lines()) >= 10
    legend = [t.get_text() for t in FIGURES["balance-10"].legends[0].get_texts()]
    assert {f"run-{k}" for k in range(10)} <= set(legend)


def test_a_class_has_one_colour_in_every_figure_and_run():
    z2 = FIGURES["zscores-2"]
    colours = {}
    for ax in [*z2.axes, *FIGURES["zscores-1"].axes, *FIGURES["null-1"].axes]:
        for line in ax.get_lines():
            label = line.get_label()
            if label in TRIADS:
                colours.setdefault(label, set()).add(line.get_color())
    null_titles = {ax.get_title(): ax for ax in FIGURES["null-1"].axes if ax.get_visible()}
    for cls, ax in null_titles.items():
        assert ax.get_lines()[0].get_color() == plots.class_colour(cls)
    assert all(len(c) == 1 for c in colours.values()), colours
    assert len(colours) == 16


def test_a_class_colour_is_in_both_saved_images(tmp_path):
    """Read the PNGs back: 030T's colour is drawn in the Z-score and in the null-band figure."""
    one = {"r": motifs(0)}
    top = motifs(0).assign(a=lambda d: d.z.abs()).groupby("motif").a.mean().idxmax()
    paths = []
    for stem, fig in (("z", plots.plot_zscores(one, family="triads")),
                      ("null", plots.plot_null_bands(one, family="triads"))):
        paths.append(tmp_path / f"{stem}.png")
        fig.savefig(paths[-1], dpi=80)
    want = np.array(to_rgb(plots.class_colour(top)))
    for path in paths:
        pixels = imread(path)[..., :3].reshape(-1, 3)
        assert (np.abs(pixels - want).max(axis=1) < 0.02).sum() > 20, path


def test_z_standard_error_is_drawn_as_a_band():
    df = motifs(0)[lambda d: d.motif == "030T"]
    fig = plots.plot_zscores(df, "r", family="triads")
    band = fig.axes[0].collections[0].get_paths()[0].vertices
    lo, hi = (df.z - df.z_se).min(), (df.z + df.z_se).max()
    assert band[:, 1].min() == pytest.approx(lo) and band[:, 1].max() == pytest.approx(hi)
    assert "±1 Monte Carlo SE" in fig.get_suptitle()


def test_equal_births_and_deaths_are_both_visible():
    fig = FIGURES["turnover-1"]
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["births", "deaths", "sign flips"]
    births, deaths = (fig.axes[k].get_lines()[0].get_ydata() for k in (0, 1))
    assert list(births) == list(deaths) == [40, 40, 40, 40]  # first snapshot's births omitted
    for ax in fig.axes:  # whole edges: integer ticks
        assert all(float(t).is_integer() for t in ax.get_yticks())


def test_class_colours_are_stable_and_distinct_within_a_family():
    assert len({plots.CLASS_COLOURS[c] for c in TRIADS}) == 16
    assert plots.class_colour("030T:++-") == plots.CLASS_COLOURS["030T"]
    assert plots.class_colour("custom_stat") == plots.class_colour("custom_stat")
    assert plots.class_order(["300", "003", "ffl_balance_pooled", "edge"]) == [
        "003", "300", "edge", "ffl_balance_pooled"]
