"""``PolicyModel``: the Mesa model SolaraViz drives, an ``EcnyModel`` built from lever values.

SolaraViz re-creates its model with ``type(model)(**params)`` when Reset is pressed, so the model must be
constructible from keywords; ``EcnyModel`` takes a validated ``Scenario`` instead, and stays untouched. This
wrapper turns the keywords into scenario overrides, keeps a bad value as a message (``error``) instead of
raising, so the page shows it and the server carries on, and records per-step measures in a Mesa
``DataCollector`` for the plot components.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mesa
import numpy as np

from ..errors import ScenarioError, show
from ..model import EcnyModel
from ..population import OUTLETS, SECTORS
from ..scenario import load_scenario
from . import levers as lv
from .settings import DEFAULT_SCALE, default_scenario

SECTOR_LABELS = {
    "retail_wholesale": "retail & wholesale",
    "catering_tourism": "catering & tourism",
    "government_services": "government services",
    "transport": "transport",
}


def merchant_accepting(ecny: EcnyModel) -> np.ndarray:
    """Whether each business agent accepts e-CNY (rows as in ``ecny.businesses``), for either engine."""
    return np.asarray(ecny.businesses.accepting, dtype=np.bool_)


def sector_acceptance(ecny: EcnyModel, live_only: bool = True) -> dict[str, float]:
    """Share of merchants accepting e-CNY per sector (weighted by merchants per agent).

    The engines record only the total accepting; the split by sector is what a policy user asks of a fee
    or a public-services lever. ``live_only`` counts merchants of live pilot regions only, so the share
    is of the merchants who could accept; it dips when a wave opens and adds fresh merchants.
    """
    m = ecny.businesses
    counts = np.diff(m.offsets)
    region = np.repeat(np.arange(len(counts)), counts)
    weight = m.weight[region]
    if live_only:
        live = np.array([g.live for g in ecny.governments], dtype=np.float64)
        weight = weight * live[region]
    accepting = merchant_accepting(ecny)
    total = np.bincount(m.sector, weights=weight, minlength=len(SECTORS))
    yes = np.bincount(m.sector, weights=weight * accepting, minlength=len(SECTORS))
    share = np.divide(yes, total, out=np.zeros(len(SECTORS)), where=total > 0)
    return {sector: float(share[k]) for k, sector in enumerate(SECTORS[:OUTLETS])}


def _national(name: str):
    def report(model: PolicyModel) -> float:
        return float(np.sum(model.ecny.records[-1][name]))

    return report


class PolicyModel(mesa.Model):
    """One dashboard run: the scenario file with the levers applied, stepped week by week."""

    def __init__(
        self,
        wave_3: str | None = None,
        wave_4: str | None = None,
        operator_count: int | None = None,
        target_intensity: float | None = None,
        lottery_budget_multiplier: float | None = None,
        merchant_fee: float | None = None,
        payroll_share: float | None = None,
        interoperability_date: str | None = None,
        nationwide: str | None = None,
        interest_rate: float | None = None,
        interest_start: str | None = None,
        new_operators: bool | None = None,
        run_end: str | None = None,
        scenario_file: str | Path | None = None,
        seed: int | None = None,
        scale: float = DEFAULT_SCALE,
    ) -> None:
        super().__init__(rng=seed)
        given = dict(locals())
        self.scenario_file = Path(scenario_file or default_scenario())
        self.seed_arg, self.scale = seed, float(scale)
        self.levers: dict[str, Any] = {
            name: given[name] for name in lv.BY_NAME if given.get(name) is not None
        }
        self.error: str | None = None
        self.ecny: EcnyModel | None = None
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "personal_wallets_opened": _national("personal_wallets_opened"),
                "citizens_with_wallet": _national("citizens_with_wallet"),
                "active_users": _national("active_users"),
                "merchants_accepting": _national("merchants_accepting"),
                **{
                    SECTOR_LABELS[s]: (lambda m, s=s: 100 * m.sectors[s])
                    for s in SECTORS[:OUTLETS]  # % of merchants in live regions
                },
            }
        )
        self.sectors = dict.fromkeys(SECTORS[:OUTLETS], 0.0)
        try:
            self.start = load_scenario(self.scenario_file)
            self.baseline_levers = lv.lever_defaults(self.start)
            self.what_if = load_scenario(self.scenario_file, self.overrides())
            self.ecny = EcnyModel(self.what_if, seed=seed, scale=scale, engine="vectorized")
        except ScenarioError as exc:
            lever = next((x for x in lv.LEVERS if f"{exc.key}.".startswith(f"{x.key}.")), None)
            self.error = (
                f"{lever.label} ({exc.key}) = {show(exc.value)}: {exc.allowed}" if lever else str(exc)
            )
            self.running = False
            return
        except ValueError as exc:  # a combination the engine cannot hold
            self.error = str(exc)
            self.running = False
            return

    @property
    def finished(self) -> bool:
        return self.ecny is None or self.ecny.steps >= len(self.ecny.dates)

    @property
    def date(self):
        """The last simulated week's end, or the run's start before the first step."""
        if self.ecny is None:
            return None
        return self.ecny.week_end

    def step(self) -> None:
        if self.finished:
            self.running = False
            return
        self.ecny.step()
        self.sectors = sector_acceptance(self.ecny)
        self.datacollector.collect(self)
        if self.finished:
            self.running = False

    def overrides(self) -> dict[str, Any]:
        """The scenario overrides of the levers that differ from the file, and only those: a lever at the
        file's value is not restated (``operator_count`` = "all N" would cut operators a switch adds), so
        the run's scenario is the file plus exactly what a saved scenario file states."""
        moved = lv.changed(self.levers, self.baseline_levers)
        return lv.overrides({name: self.levers[name] for name in moved}, self.start)

    def changed_levers(self) -> dict[str, tuple[Any, Any]]:
        """Levers that differ from the scenario file: name -> (file's value, this run's)."""
        if self.ecny is None:
            return {}
        return lv.changed(self.levers, self.baseline_levers)
