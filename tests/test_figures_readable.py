"""Figures that do not mislead: every operator its own colour, titles no wider than their plot and plain
text, the calibration traces coloured as their caption says, dashboard labels inside their figures, the
what-if figure's titles apart, and no plotting module choosing a backend on import."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, ROOT
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb

from model import EcnyModel, load_scenario, plots
from model.domain import bank_ids

LONG = "A what-if with $x^2$ in it and a description that goes on about banks, lotteries and waves " * 3


@pytest.fixture(scope="module")
def frame():
    return EcnyModel(load_scenario(BASELINE, {"run.scale": 1e6})).run().timeseries()


def rendered(fig):
    if not hasattr(fig.canvas, "get_renderer"):
        FigureCanvasAgg(fig)
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def test_every_operator_has_its_own_colour_in_every_plot():
    colours = [to_rgb(c) for c in plots.bank_colors(bank_ids())]
    assert len(set(colours)) == len(bank_ids()) == 23
    distance = min(np.linalg.norm(np.subtract(a, b)) for i, a in enumerate(colours) for b in colours[i + 1 :])
    assert distance > 0.2  # not merely different: told apart at a glance
    # an institution keeps its colour whatever the scenario's operators are
    assert plots.bank_colors(["WeBank", "ABC"]) == [plots.bank_colors(bank_ids())[k] for k in (7, 1)]


def saved_figures(module, monkeypatch) -> list:
    """Keep every figure ``module._save`` writes, to look at after the plot function returns."""
    figures, real = [], module._save

    def keep(fig, *args, **kwargs):
        figures.append(fig)
        return real(fig, *args, **kwargs)

    monkeypatch.setattr(module, "_save", keep)
    return figures


def test_the_run_bank_share_plot_uses_distinct_colours(frame, tmp_path, monkeypatch):
    figures = saved_figures(plots, monkeypatch)
    plots.bank_shares(frame, tmp_path, "baseline")
    bands = figures[0].axes[0].collections
    colours = {tuple(np.round(band.get_facecolor()[0][:3], 4)) for band in bands}
    assert len(bands) == 11 and len(colours) == 11


@pytest.mark.parametrize("title", ["", LONG])
def test_a_title_is_never_wider_than_its_plot(title):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    artist = plots.titled(ax, "e-CNY adoption, national", title)
    renderer = rendered(fig)
    assert artist.get_window_extent(renderer).width <= ax.get_window_extent(renderer).width + 1
    assert "$x^2$" not in artist.get_text() or "\\$" in artist.get_text()  # dollars shown, no mathtext
    if title:
        assert artist.get_text().endswith("\u2026")  # cut, and said to be
    plt.close(fig)


def test_a_long_description_does_not_widen_the_saved_plot(frame, tmp_path):
    from PIL import Image

    short = plots.national_s_curve(frame, tmp_path, "baseline").rename(tmp_path / "short.png")
    long = plots.national_s_curve(frame, tmp_path, LONG)
    assert Image.open(long).size[0] == Image.open(short).size[0]


def test_the_s_curve_shows_both_wallet_definitions_their_points_and_where_the_data_end(
    frame, tmp_path, monkeypatch
):
    import matplotlib.dates as mdates

    from model.calibration.targets import calibration_targets

    figures = saved_figures(plots, monkeypatch)
    plots.national_s_curve(frame, tmp_path, "baseline")
    ax = figures[0].axes[0]
    curves = {line.get_label(): line for line in ax.get_lines()}
    for metric, label, colour in plots.S_CURVE:
        assert label in curves, f"{metric} not drawn"
        assert curves[label].get_color() == colour
    personal, app = (
        plots.published_points("personal_wallets_opened"),
        plots.published_points("app_wallets_opened"),
    )
    assert len(personal) and len(app)  # the data hold both definitions
    points = {c.get_label(): c for c in ax.collections if c.get_label().startswith("published")}
    for published, label in ((personal, "published: personal wallets at the operators"),
                             (app, "published: app wallets")):  # fmt: skip
        assert label in points
        drawn = points[label].get_offsets()
        assert np.allclose(np.sort(drawn[:, 1]), np.sort(published["value"] / plots.MILLION))
    end = plots.data_end()
    assert end == max(pd.Timestamp(t.date) for t in calibration_targets())
    markers = [line for line in ax.get_lines() if line.get_label().startswith(plots.DATA_END_LABEL)]
    assert len(markers) == 1
    assert mdates.date2num(markers[0].get_xdata()[0]) == mdates.date2num(end)
    assert any(text.get_text().strip().startswith(plots.DATA_END_LABEL) for text in ax.texts)


def test_calibration_traces_are_coloured_as_the_caption_says(tmp_path, monkeypatch):
    from model.calibration import figures, parameters

    params = parameters.FREE[:3]
    trials = pd.DataFrame({"trial": np.arange(50), "loss": np.geomspace(10, 0.1, 50)})
    for p in params:
        trials[p.name] = np.linspace(p.low, p.high, 50)
    saved = saved_figures(figures, monkeypatch)
    figures.traces(trials, params, {p.name: p.low for p in params}, tmp_path / "traces.png")
    fig = saved[0]
    assert "dark purple = low loss" in fig._suptitle.get_text()
    scatter = fig.axes[1].collections[0]
    low, high = scatter.get_array().min(), scatter.get_array().max()
    dark, light = scatter.cmap(scatter.norm(low)), scatter.cmap(scatter.norm(high))
    assert sum(dark[:3]) < sum(light[:3])  # the lowest loss is the darkest colour
    assert any(ax.get_ylabel() == "loss (log scale)" for ax in fig.axes)  # a colour bar says so


def test_dashboard_axis_labels_lie_inside_their_figures():
    from model.dashboard import figures

    ecny = EcnyModel(load_scenario(BASELINE, {"run.scale": 1e6}))
    for _ in range(20):
        ecny.step()
    for draw in (figures.s_curve, figures.region_map, figures.bank_shares):
        fig = draw(ecny)
        fig.set_dpi(90)  # as the dashboard shows them
        renderer = rendered(fig)
        width, height = fig.bbox.width, fig.bbox.height
        for ax in fig.axes:
            for label in (ax.xaxis.label, ax.yaxis.label):
                if label.get_text():
                    box = label.get_window_extent(renderer)
                    assert box.x0 >= 2 and box.y0 >= 2, (draw.__name__, label.get_text(), box)
                    assert box.x1 <= width - 2 and box.y1 <= height - 2, (
                        draw.__name__,
                        label.get_text(),
                        box,
                    )


def test_the_what_if_figure_titles_do_not_overlap():
    from model.dashboard.compare import METRICS, Comparison
    from model.dashboard.figures import paired_difference

    dates = pd.date_range("2020-04-01", periods=30, freq="7D")
    values = np.cumsum(np.ones((2, 30, len(METRICS))), axis=1)
    comparison = Comparison([1, 2], dates, values, values * 1.1, 1e6)
    fig = paired_difference(comparison, title="banks.target_intensity 1.0 -> 2.0")
    renderer = rendered(fig)
    heading = fig._suptitle.get_window_extent(renderer)
    first = fig.axes[0].title.get_window_extent(renderer)
    assert heading.y0 >= first.y1, (heading, first)


@pytest.mark.slow
def test_no_plotting_module_chooses_a_backend_on_import():
    code = (
        "import matplotlib; matplotlib.use('svg');"
        "import model.plots, model.sweep.fanplots, model.calibration.figures, model.dashboard.figures;"
        "print(matplotlib.get_backend())"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "svg"


@pytest.mark.slow
def test_no_library_module_imports_the_command_line():
    code = (
        "import sys, model, model.sweep.analysis, model.sweep.store, model.sweep.design, model.sweep.execute,"
        " model.sweep.fanplots, model.calibration.study, model.calibration.pipeline,"
        " model.calibration.holdout, model.calibration.members, model.dashboard.sim, model.results;"
        "print('model.cli' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
