"""``EcnyModel``: the Mesa model. One run is a pure function of (resolved scenario, seed).

A step is one week (``run.step_days``) of calendar time and goes: local governments open pilots and run
their programmes, banks run their campaigns over live regions, the step's view is fixed
(``context.step_view``), businesses choose their bank again if one has joined, citizens read their
word-of-mouth share, lotteries are drawn, citizens and businesses decide (``phases.py``, in the chosen
engine) and are counted, totals are recorded. The results are a tidy table (date, region, metric, value).

What a region's agents are and draw does not depend on the other regions, the horizon or the engine
(``population.py``, ``draws.py``); the only channel between regions is how banks spread their campaigns
(``banks.allocation``).
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import mesa
import numpy as np
import pandas as pd
from tqdm import tqdm

from . import domain, draws, horizon, metrics
from .context import Institutions, Tally, step_view
from .engines import ENGINES, Engine
from .engines.agents import AgentEngine
from .engines.vectorized import VectorizedEngine
from .institutions import Bank, LocalGovernment, LotteryOutcome, Profile
from .phases import decision_keys
from .population import OUTLETS, build_businesses, build_citizens
from .scenario import Scenario


def _when(value) -> date | None:
    return None if value == "never" else value


class EcnyModel(mesa.Model):
    def __init__(
        self,
        scenario: Scenario,
        seed: int | None = None,
        scale: float | None = None,
        engine: str | None = None,
    ) -> None:
        run = scenario.run
        self.seed = int(run.seed if seed is None else seed)
        super().__init__(rng=self.seed)
        self.config = scenario
        self.scale = float(run.scale if scale is None else scale)
        self.engine_name = engine or run.engine
        if self.engine_name not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, not {self.engine_name!r}")
        self.behaviour = scenario.behaviour
        self.keys = draws.Keys(self.seed)
        self.step_days = run.step_days
        steps = (run.end - run.start).days // run.step_days
        self.dates = [run.start + timedelta(days=run.step_days * k) for k in range(1, steps + 1)]
        self.dt = run.step_days / 365.25
        self.active_window = math.ceil(28 / run.step_days)  # "paid in the last 4 weeks"
        self.week_end = run.start
        self.campaign = Profile(scenario.banks.campaign)
        self._setup_regions(scenario)
        self._setup_banks(scenario)
        self._setup_population(scenario)
        self.view = None
        self.records: list[dict[str, np.ndarray]] = []
        self.lottery_records: list[tuple[date, int, LotteryOutcome]] = []

    # ------------------------------------------------------------------ set-up

    def _setup_regions(self, s: Scenario) -> None:
        frame = domain.regions()
        self.region_names = frame["region"].tolist()
        self.populations = frame["population_2020"].to_numpy(np.float64)
        self.pilot_regions = (frame["wave"] != domain.NO_WAVE).to_numpy()
        full, nationwide = _when(s.pilot.olympic_full_pilot), _when(s.pilot.nationwide)
        closed_end = _when(s.pilot.closed_tests_end)
        self.governments: list[LocalGovernment] = []
        for r, (row, start) in enumerate(zip(frame.itertuples(), horizon.region_starts(s), strict=True)):
            olympic, closed = row.wave == "olympic", row.wave == "1" and closed_end is not None
            province = _when(s.pilot.province_start.get(row.province, "never"))
            # a region's merchants are all reachable from its full pilot; before it, only a share: the
            # Olympic scenarios, and the first cities' closed tests (white-listed scenarios)
            if olympic:
                full_pilot, coverage = (
                    horizon.earliest(full, province, nationwide),
                    s.pilot.olympic_merchant_coverage,
                )
            elif closed:
                full_pilot, coverage = (
                    horizon.earliest(closed_end, province, nationwide),
                    s.pilot.closed_merchant_coverage,
                )
            else:
                full_pilot, coverage = start, 1.0
            self.governments.append(
                LocalGovernment(
                    self,
                    r,
                    row.region,
                    start,
                    full_pilot,
                    coverage,
                    [lot for lot in s.incentives.lotteries if lot.region == row.region],
                    [p for p in s.government.programmes if p.region == row.region],
                    [w for w in s.government.wages if w.region == row.region],
                )
            )

    def _setup_banks(self, s: Scenario) -> None:
        data = domain.institutions().set_index("id")
        interconnection = _when(s.banks.interconnection_date)
        chosen = []
        for bank, op in s.banks.operators.items():
            joins = _when(op.joins)
            if bank == "CityBanks":
                joins = None if joins is None or interconnection is None else max(joins, interconnection)
            if joins is not None:
                chosen.append((joins, data.index.get_loc(bank), bank, op))
        chosen.sort()
        if s.banks.operator_count is not None:
            chosen = chosen[: s.banks.operator_count]
        self.banks = []
        for i, (joins, _, bank, op) in enumerate(chosen):
            staff = op.staff_thousands if op.staff_thousands is not None else data.at[bank, "staff_thousands"]
            intensity = op.target_intensity * s.banks.target_intensity
            self.banks.append(
                Bank(self, i, bank, joins, 1000.0 * staff, intensity, op.reach, s.banks.allocation)
            )
        self.bank_ids = [bank.bank_id for bank in self.banks]

    def _setup_population(self, s: Scenario) -> None:
        whitelist = _when(s.pilot.whitelist_start)
        whitelisting = s.pilot.whitelist_share > 0 and whitelist is not None and whitelist <= s.run.end
        # regions that never go live within the run and see no white list hold no agents at all
        populations = np.where(horizon.simulated_regions(s), self.populations, 0.0)
        # and those outside the pilot that never go live at all are not reported (whatever the horizon)
        self.reported = np.array([g.pilot_start is not None for g in self.governments]) | self.pilot_regions
        kinds = domain.regions()["kind"].tolist()
        whitelist_share = np.where(self.pilot_regions, s.pilot.whitelist_share, 0.0)
        self.citizens = build_citizens(
            self.seed, self.region_names, populations, kinds, self.scale, whitelist_share, s.population
        )
        self.businesses = build_businesses(
            self.seed, self.region_names, populations, self.scale, s.population
        )
        points = np.asarray(s.population.points_by_size)[self.businesses.size] * (
            self.businesses.sector < OUTLETS
        )
        cumulative = np.concatenate([[0.0], np.cumsum(points, dtype=np.float64)])
        self.merchant_points_total = np.diff(cumulative[self.businesses.offsets]) * self.businesses.weight
        self.business_total = self.populations * s.population.businesses_per_resident
        region_keys = np.array([draws.region_key(name) for name in self.region_names], np.uint64)
        self.layout = (self.citizens.offsets, self.businesses.offsets, region_keys)
        self.whitelist_start = whitelist if whitelisting else None
        regions = len(self.region_names)
        self.shares = {name: np.zeros(regions) for name in metrics.SHARES}
        self.tally = Tally.zeros(regions, len(self.banks))
        self.banks_live = np.zeros(len(self.banks), np.bool_)
        self.live_regions = np.zeros(regions, np.bool_)  # the governments' pilots live this step
        compiled = self.engine_name == "vectorized"
        b, k = self.behaviour.params(), decision_keys(self.keys, self.bank_ids, compiled)
        self.engine: Engine = (
            VectorizedEngine(self, self.citizens, self.businesses, b, k)
            if compiled
            else AgentEngine(self, self.citizens, self.businesses, b, k)
        )

    # ------------------------------------------------------------------ the step

    def institutions(self) -> Institutions:
        """This step's state of banks and governments, as the view needs it."""
        s = self.config
        regions = len(self.region_names)
        payments_start = _when(s.government.payments_start)
        interop = _when(s.incumbents.interoperability_date)
        launch = _when(s.app.launch)
        programme = np.array([g.programme_yuan for g in self.governments])
        return Institutions(
            live=self.live_regions,
            coverage=np.array([g.coverage for g in self.governments], np.float64),
            bank_live=np.array([bank.live for bank in self.banks], np.bool_),
            reach=np.array([bank.reach for bank in self.banks], np.float64),
            push=np.array([bank.push for bank in self.banks]).reshape(len(self.banks), regions),
            programme=np.divide(programme / 1000.0, self.business_total),
            whitelist_active=self.whitelist_start is not None and self.whitelist_start <= self.week_end,
            app_live=launch is not None and launch <= self.week_end,
            payroll_share=np.minimum(
                1.0,
                np.array([g.wage_share for g in self.governments])
                + (s.government.payroll_share if horizon.on(payments_start, self.week_end) else 0.0),
            ),
            public_service_acceptance=s.government.public_service_acceptance,
            incumbent_fee=s.incumbents.merchant_fee,
            interoperable=interop is not None and interop <= self.week_end,
            interest=s.wallets.interest_rate if horizon.on(s.wallets.interest_start, self.week_end) else 0.0,
        )

    def step(self) -> None:
        self.week_end = self.dates[self.steps - 1]
        week_start = self.week_end - timedelta(days=self.step_days - 1)
        for government in self.governments:
            government.step()
        self.live_regions = np.array([g.live for g in self.governments], np.bool_)
        for bank in self.banks:
            bank.step()
        now = self.institutions()
        view = self.view = step_view(
            self.steps,
            draws.day_number(self.week_end),
            self.dt,
            self.step_days / 7.0,
            self.active_window,
            self.layout,
            now,
            {name: values.copy() for name, values in self.shares.items()},
            self.behaviour,
        )
        if not np.array_equal(now.bank_live, self.banks_live):  # a bank joined: businesses choose again
            self.engine.acquirers(view, view.acquirer_pull * (now.bank_live & ~self.banks_live))
            self.banks_live = now.bank_live
        self.engine.observe(view)
        self.tally.new_step()
        multiplier = self.config.incentives.lottery_budget_multiplier
        lottery = np.zeros((2, len(self.region_names)))
        for government in self.governments:
            outcome = government.run_lotteries(week_start, self.week_end, multiplier)
            if outcome.registrations > 0:
                self.lottery_records.append((self.week_end, government.index, outcome))
                lottery[:, government.index] += outcome.transactions, outcome.value
        self.engine.step(view, self.tally)
        totals = metrics.step_values(self, view, now, lottery)
        self.records.append(totals)
        self.shares = metrics.shares(self, totals)

    def run(self, progress: bool = False, description: str | None = None) -> EcnyModel:
        """Step to the end of the scenario's horizon; ``progress`` shows a tqdm bar."""
        remaining = len(self.dates) - self.steps
        bar = tqdm(
            total=remaining,
            desc=description or self.config.name,
            unit="week",
            disable=not progress,
            leave=False,
        )
        with bar:
            for _ in range(remaining):
                self.step()
                bar.update()
        return self

    # ------------------------------------------------------------------ results

    def timeseries(self) -> pd.DataFrame:
        """Tidy results: one row per (date, region, metric) with ``region = "national"`` for the sums."""
        return metrics.tidy_timeseries(self)

    def citizens_frame(self, region: str | int) -> pd.DataFrame:
        """The citizen agents of a region as a table (``state.CITIZEN``), whatever the engine."""
        r = region if isinstance(region, int) else self.region_names.index(region)
        return self.citizens.frame(r, self.steps, self.active_window)

    def businesses_frame(self, region: str | int) -> pd.DataFrame:
        """The business agents of a region as a table (``state.BUSINESS``), whatever the engine."""
        r = region if isinstance(region, int) else self.region_names.index(region)
        return self.businesses.frame(r)
