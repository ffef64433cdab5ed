"""The live views on the dashboard's first page, as Solara components that take the model (SolaraViz's
component convention) and redraw when Mesa's ``update_counter`` ticks after a step or a Reset.

Each view wraps its figure in a Column with an ``ecny-*`` class so the browser test can find it.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import solara
from mesa.visualization.utils import update_counter

from ..errors import InputError, ScenarioError
from ..model import EcnyModel
from ..scenario import load_scenario
from . import figures
from .levers import BY_NAME
from .outcomes import outcomes_html, policy_outcomes
from .save import save_scenario
from .sim import PolicyModel

# Vuetify shows a slider's value only while it is dragged; a policy user should read every lever at a
# glance: the value always shows above the thumb, the label goes on its own line above it. (A <style>
# applies to the whole page, sidebar included, wherever it is rendered.)
SLIDER_VALUES = """
.v-input__slider .v-input__slot { flex-wrap: wrap; }
.v-input__slider .v-input__slot > .v-label { flex: 1 0 100%; margin-bottom: 34px; }
.v-slider__thumb-label-container { display: block !important; }
"""
_baselines: dict[tuple[str, int | None, float], dict[str, np.ndarray] | None] = {}
_lock = threading.Lock()


def _baseline_run(key: tuple[str, int | None, float]) -> None:
    file, seed, scale = key
    try:
        ecny = EcnyModel(load_scenario(Path(file)), seed=seed, scale=scale, engine="vectorized").run()
        series = {"date": np.array(ecny.dates, dtype="datetime64[D]")}
        series.update({metric: figures.national(ecny, metric) for metric, _, _ in figures.CURVES})
    except Exception:  # the overlay is a courtesy: without it the page still works
        series = None
    with _lock:
        _baselines[key] = series


def start_baseline(file: str | Path, seed: int | None, scale: float) -> None:
    """Run the unchanged scenario (same seed and scale) in a thread, once per process, for the overlay."""
    key = (str(file), seed, float(scale))
    with _lock:
        if key in _baselines:
            return
        _baselines[key] = None
    threading.Thread(target=_baseline_run, args=(key,), daemon=True, name="ecny-baseline").start()


def baseline_series(file: str | Path, seed: int | None, scale: float) -> dict[str, np.ndarray] | None:
    with _lock:
        return _baselines.get((str(file), seed, float(scale)))


def _lever_text(name: str, value) -> str:
    return f"{BY_NAME[name].label}: {value}"


@solara.component
def Overview(model: PolicyModel):
    """Status line (scenario, week, levers in effect), a refused lever's message, and the national S-curve."""
    update_counter.get()
    with solara.Column(classes=["ecny-overview"], style={"width": "100%"}) as main:
        solara.Style(SLIDER_VALUES)
        if model.error is not None:
            solara.Error(
                f"Lever refused: {model.error}",
                classes=["ecny-error"],
            )
            solara.Text(
                "Nothing was run with this value. Set the lever back (the message names the key and what is "
                "allowed) and press Reset."
            )
            return main
        ecny = model.ecny
        changed = model.changed_levers()
        levers = "; ".join(f"{_lever_text(n, new)} (file: {old})" for n, (old, new) in changed.items())
        solara.Text(
            f"{ecny.config.name} · seed {ecny.seed} · {ecny.scale:,.0f} residents per agent · "
            f"week {ecny.steps} of {len(ecny.dates)} ({ecny.week_end})",
            classes=["ecny-status"],
        )
        solara.Text(
            f"Levers changed: {levers}" if changed else "Levers as in the scenario file.",
            classes=["ecny-levers"],
            style={"font-size": "0.85em"},
        )
        baseline = baseline_series(model.scenario_file, model.seed_arg, model.scale)
        with solara.Column(classes=["ecny-s-curve"]):
            solara.FigureMatplotlib(
                figures.s_curve(ecny, baseline),
                format="png",
                dpi=90,
                dependencies=[id(model), ecny.steps, baseline is not None],
            )
    return main


def _no_run(model: PolicyModel) -> bool:
    if model.ecny is None:
        solara.Info("No run: a lever was refused (see the first view).")
        return True
    return False


@solara.component
def RegionMap(model: PolicyModel):
    """Every region of the mainland, sized by population and coloured by adoption at the current week;
    a line of text says how many are live (inside the pilot and outside it) for readers of the page."""
    update_counter.get()
    with solara.Column(classes=["ecny-map"]) as main:
        if not _no_run(model):
            live = np.array([g.live for g in model.ecny.governments])
            outside = int((live & ~np.asarray(model.ecny.pilot_regions, dtype=bool)).sum())
            solara.Text(
                f"{int(live.sum())} of {len(live)} regions live, {outside} outside the pilot",
                classes=["ecny-map-status"],
                style={"font-size": "0.85em"},
            )
            solara.FigureMatplotlib(
                figures.region_map(model.ecny),
                format="png",
                dpi=90,
                dependencies=[id(model), model.ecny.steps],
            )
    return main


@solara.component
def BankShares(model: PolicyModel):
    """Wallet shares of the operating institutions so far."""
    update_counter.get()
    with solara.Column(classes=["ecny-banks"]) as main:
        if not _no_run(model):
            solara.FigureMatplotlib(
                figures.bank_shares(model.ecny),
                format="png",
                dpi=90,
                dependencies=[id(model), model.ecny.steps],
            )
    return main


@solara.component
def PolicyOutcomes(model: PolicyModel):
    """The policy outcomes at the current week (the run's end once played through): shares of payments
    and of M0, fiscal cost, merchants' fee savings, and holders and active users by group."""
    update_counter.get()
    with solara.Column(classes=["ecny-outcomes"], style={"width": "100%"}) as main:
        if not _no_run(model):
            outcomes = policy_outcomes(model.ecny)
            solara.Text("Policy outcomes", style={"font-weight": "bold"})
            solara.HTML(unsafe_innerHTML=outcomes_html(outcomes, model.ecny.week_end))
            solara.FigureMatplotlib(
                figures.group_reach(outcomes, model.ecny.week_end),
                format="png",
                dpi=90,
                dependencies=[id(model), model.ecny.steps],
            )
    return main


def make_save_view(folder: Path, create: bool = False):
    """The Save component, writing to ``folder`` (the server's ``--save-dir``, or ``saved/`` beside the start
    file, made on the first save when ``create``)."""

    @solara.component
    def SaveScenario(model: PolicyModel):
        """Save the levers in effect (those of the last Reset) as a scenario file for ``run.py``."""
        update_counter.get()
        name, set_name = solara.use_state(f"{model.scenario_file.stem}_dashboard")
        outcome, set_outcome = solara.use_state(("", ""))

        def save() -> None:
            try:
                path = save_scenario(
                    model.scenario_file, model.overrides(), name, folder, model.scale, create
                )
            except (InputError, ScenarioError) as exc:
                set_outcome(("error", f"Not saved: {exc}"))
            else:
                set_outcome(("ok", f"Saved {path}: run it with python run.py {path}"))

        with solara.Column(classes=["ecny-save"], style={"width": "100%"}) as main:
            solara.Text("Save the levers as a scenario", style={"font-weight": "bold"})
            solara.Text(
                f"Writes {folder}/<name>.toml, extending {model.scenario_file.name} with the levers in "
                "effect (press Reset after moving one). An existing file is never replaced.",
                style={"font-size": "0.85em"},
            )
            solara.InputText("Scenario name", value=name, on_value=set_name, continuous_update=True)
            solara.Button(
                "Save scenario",
                color="primary",
                on_click=save,
                disabled=model.error is not None,
                classes=["ecny-save-button"],
            )
            kind, text = outcome
            if kind == "ok":
                solara.Success(text, classes=["ecny-saved"])
            elif kind == "error":
                solara.Error(text, classes=["ecny-save-error"])
        return main

    return SaveScenario
