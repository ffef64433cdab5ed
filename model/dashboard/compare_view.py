"""The "compare with baseline" page: the levers in effect against the scenario file, paired over a few seeds.

The runs take seconds to tens of seconds, so they go to a Solara task (a thread of this session) that fans
them out to a process pool and reports progress; the page stays usable meanwhile. The task's state lives
per browser session, so switching tabs does not lose a running comparison.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd
import solara
import solara.lab
from mesa.visualization.utils import update_counter

from ..scenario import load_scenario
from . import figures
from . import levers as lv
from .compare import COST_PER, Comparison, paired_runs
from .sim import PolicyModel

MILLION = 1e6
SHOWN = {
    "active_users": ("active users", MILLION, "m"),
    "citizens_with_wallet": ("residents with a wallet", MILLION, "m"),
    "personal_wallets_opened": ("wallets opened", MILLION, "m"),
    "merchants_accepting": ("merchants accepting", MILLION, "m"),
    "transaction_value_cumulative": ("transaction value, cumulative", 1e9, "bn yuan"),
    "app_wallets_opened": ("app wallets", MILLION, "m"),
    "fiscal_cost_cumulative": ("fiscal cost, cumulative", MILLION, "m yuan"),
}


@solara.lab.task(prefer_threaded=True)
def compare_task(
    scenario_file: str, levers: dict[str, Any], overrides: dict[str, Any], seeds: int, scale: float
) -> tuple[dict[str, Any], Comparison]:
    """Both scenarios on ``seeds`` paired seeds (the variant: the file with the model's ``overrides``);
    returns the levers it was run for and the comparison."""
    base = load_scenario(scenario_file)
    variant = load_scenario(scenario_file, overrides)

    def progress(done: int, total: int) -> bool:
        compare_task.progress = 100.0 * done / total if total else 100.0
        return compare_task.is_current()

    return dict(levers), paired_runs(base, variant, seeds, scale, progress=progress)


def summary_html(comparison: Comparison) -> str:
    """The table beside the plot: values at the last week, the mean paired difference and its range.

    HTML rather than ``solara.Markdown``: Markdown pulls KaTeX from the CDN, which an offline server lacks.
    """
    table = comparison.summary()
    end = pd.Timestamp(comparison.dates[-1]).date()
    cell = 'style="padding:2px 8px;text-align:right"'
    rows = [
        f"<tr><th style='text-align:left'>{end}</th><th {cell}>file</th><th {cell}>levers</th>"
        f"<th {cell}>difference (range)</th><th {cell}>relative</th></tr>"
    ]
    for metric, (label, unit, suffix) in SHOWN.items():
        row = table.loc[metric]
        rows.append(
            f"<tr><td>{html.escape(label)}</td><td {cell}>{row['baseline'] / unit:,.2f} {suffix}</td>"
            f"<td {cell}>{row['lever'] / unit:,.2f} {suffix}</td>"
            f"<td {cell}>{row['difference'] / unit:+,.2f} ({row['min'] / unit:+,.2f} to "
            f"{row['max'] / unit:+,.2f})</td><td {cell}>{row['relative_%']:+.1f}%</td></tr>"
        )
    for metric, what in COST_PER.items():
        cost = comparison.cost_per(metric)
        shown = "- (the fiscal cost or the effect does not differ)" if cost is None else f"{cost:,.0f} yuan"
        rows.append(f"<tr><td>fiscal cost per additional {what}</td><td {cell} colspan=4>{shown}</td></tr>")
    caption = f"Mean of {len(comparison.seeds)} paired seeds; the range is over the pairs."
    return (
        f"<table style='font-size:0.85em;border-collapse:collapse'>{''.join(rows)}</table>"
        f"<div style='font-size:0.8em;color:#555'>{caption}</div>"
    )


def make_compare_views(seeds: int) -> list:
    """The comparison's two SolaraViz components (controls and table; the plot), for page 1. They share the
    session's task, so each can be moved or resized on its own in Mesa's grid."""

    @solara.component
    def CompareWithBaseline(model: PolicyModel):
        update_counter.get()
        with solara.Column(classes=["ecny-compare"], style={"width": "100%"}) as main:
            solara.Text("Compare with baseline", style={"font-weight": "bold"})
            solara.Text(
                f"The levers in effect (move one, press Reset) against the scenario file, on {seeds} paired "
                f"seeds at {model.scale:,.0f} residents per agent, with the vectorized engine in background "
                "processes.",
                style={"font-size": "0.85em"},
            )
            if model.error is not None:
                solara.Warning("A lever was refused; fix it and press Reset before comparing.")
                return main
            changed = model.changed_levers()
            solara.Text(
                "Changed: "
                + "; ".join(f"{lv.BY_NAME[n].label} {old} -> {new}" for n, (old, new) in changed.items())
                if changed
                else "No lever differs from the file: the paired difference will be exactly zero.",
                style={"font-size": "0.85em"},
            )
            solara.Button(
                "Compare with baseline",
                color="primary",
                on_click=lambda: compare_task(
                    str(model.scenario_file), dict(model.levers), model.overrides(), seeds, model.scale
                ),
                disabled=compare_task.pending,
                classes=["ecny-compare-button"],
            )
            if compare_task.pending:
                progress = compare_task.progress
                solara.ProgressLinear(True if progress is None else progress, classes=["ecny-progress"])
                solara.Text(f"runs done: {0 if progress is None else progress:.0f}%")
            if compare_task.error:
                solara.Error(f"Comparison failed: {compare_task.exception}")
            result = compare_task.latest
            if result is not None:
                levers, comparison = result
                if levers != model.levers:
                    solara.Warning("The result below is for earlier lever values; press the button again.")
                with solara.Column(classes=["ecny-compare-table"]):
                    solara.HTML(unsafe_innerHTML=summary_html(comparison))
        return main

    @solara.component
    def PairedDifference(model: PolicyModel):
        result = compare_task.latest
        with solara.Column(classes=["ecny-compare-result"], style={"width": "100%"}) as main:
            if result is None:
                solara.Info("The paired difference appears here once a comparison has run.")
            else:
                solara.FigureMatplotlib(
                    figures.paired_difference(result[1]), format="png", dpi=90, dependencies=[id(result)]
                )
        return main

    return [(CompareWithBaseline, 1), (PairedDifference, 1)]
