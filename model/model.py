"""``EcnyModel``: the Mesa model. One run is a pure function of (resolved scenario, seed).

A step is one week (``run.step_days``) of calendar time and goes: local governments open pilots, banks
spread their budgets over live regions, lotteries are drawn, citizens and merchants decide (in the chosen
engine), totals are recorded. The results are a tidy table (date, region, metric, value).
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import mesa
import numpy as np
import pandas as pd
from tqdm import tqdm

from . import domain, rules
from .agents import AgentEngine, Bank, LocalGovernment
from .context import LotteryOutcome, StepContext
from .population import build_citizens, build_merchants
from .scenario import Scenario
from .streams import RandomStreams
from .vectorized import VectorizedEngine

ENGINES = ("vectorized", "agents")


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
        self.streams = RandomStreams(self.seed)
        self.step_days = run.step_days
        steps = (run.end - run.start).days // run.step_days
        self.dates = [run.start + timedelta(days=run.step_days * k) for k in range(1, steps + 1)]
        self.dt = run.step_days / 365.25
        self.active_window = math.ceil(28 / run.step_days)  # "paid in the last 4 weeks"
        self.week_end = run.start
        self._setup_regions(scenario)
        self._setup_banks(scenario)
        self._setup_population(scenario)
        self.context: StepContext | None = None
        self.records: list[dict[str, np.ndarray]] = []
        self.lottery_records: list[tuple[date, int, LotteryOutcome]] = []

    # ------------------------------------------------------------------ set-up

    def _setup_regions(self, s: Scenario) -> None:
        frame = domain.regions()
        self.region_names = frame["region"].tolist()
        self.populations = frame["population_2020"].to_numpy(np.float64)
        waves = {w: _when(d) for w, d in s.pilot.waves.items()}
        full = _when(s.pilot.olympic_full_pilot)
        self.governments: list[LocalGovernment] = []
        for r, row in enumerate(frame.itertuples()):
            olympic = row.wave == "olympic"
            start = waves.get(row.wave)
            if olympic and start is None:
                start = full
            if row.region in s.pilot.region_start:
                start = _when(s.pilot.region_start[row.region])
            lotteries = [lot for lot in s.incentives.lotteries if lot.region == row.region]
            self.governments.append(
                LocalGovernment(
                    self,
                    r,
                    row.region,
                    start,
                    full if olympic else start,
                    s.pilot.olympic_merchant_coverage if olympic else 1.0,
                    lotteries,
                )
            )

    def _setup_banks(self, s: Scenario) -> None:
        order = {bank: i for i, bank in enumerate(domain.bank_ids())}
        interconnection = _when(s.banks.interconnection_date)
        chosen = []
        for bank, op in s.banks.operators.items():
            joins = _when(op.joins)
            if bank == "CityBanks":
                joins = None if joins is None or interconnection is None else max(joins, interconnection)
            if joins is not None:
                chosen.append((joins, order[bank], bank, op))
        chosen.sort()
        if s.banks.operator_count is not None:
            chosen = chosen[: s.banks.operator_count]
        self.banks = [
            Bank(
                self,
                i,
                bank,
                joins,
                op.budget_yuan_per_year * s.banks.budget_multiplier,
                op.target_intensity * s.banks.target_intensity,
                op.reach,
            )
            for i, (joins, _, bank, op) in enumerate(chosen)
        ]
        self.bank_ids = [bank.bank_id for bank in self.banks]

    def _setup_population(self, s: Scenario) -> None:
        end = s.run.end
        whitelist = _when(s.pilot.whitelist_start)
        whitelisting = s.pilot.whitelist_share > 0 and whitelist is not None and whitelist <= end
        simulated = np.array(
            [whitelisting or (g.pilot_start is not None and g.pilot_start <= end) for g in self.governments]
        )
        # regions that never go live within the run and see no white list hold no agents at all
        populations = np.where(simulated, self.populations, 0.0)
        kinds = domain.regions()["kind"].tolist()
        rng = self.streams["population"]
        citizens = build_citizens(populations, kinds, self.scale, s.pilot.whitelist_share, s.population, rng)
        reach = np.array([bank.reach for bank in self.banks])
        merchants = build_merchants(populations, self.scale, reach, s.population, rng)
        self.citizens, self.merchants = citizens, merchants
        points = np.concatenate([[0.0], np.cumsum(merchants.points, dtype=np.float64)])
        self.merchant_points_total = np.diff(points[merchants.offsets]) * merchants.weight
        self.whitelist_start = whitelist if whitelisting else None
        self.adopted_share = np.zeros(len(self.region_names))
        self.active_share = np.zeros(len(self.region_names))
        self.acceptance = np.zeros(len(self.region_names))
        if self.engine_name == "vectorized":
            self.engine = VectorizedEngine(
                citizens,
                merchants,
                len(self.banks),
                self.behaviour,
                self.streams,
                self.active_window,
            )
        else:
            self.engine = AgentEngine(self, citizens, merchants, self.active_window)

    # ------------------------------------------------------------------ the step

    def _context(self, week_start: date) -> StepContext:
        s = self.config
        n_regions = len(self.region_names)
        live = np.array([g.live for g in self.governments])
        bank_live = np.array([bank.live for bank in self.banks], dtype=np.bool_)
        intensity = np.array([bank.target_intensity for bank in self.banks], dtype=np.float64)
        reach = np.array([bank.reach for bank in self.banks], dtype=np.float64)
        push = np.array([bank.push for bank in self.banks]) if self.banks else np.zeros((0, n_regions))
        pull = rules.bank_attractiveness(bank_live[None, :], reach, intensity, push.T)
        payments_start = _when(s.government.payments_start)
        interop = _when(s.incumbents.interoperability_date)
        return StepContext(
            step=self.steps,
            week_start=week_start,
            week_end=self.week_end,
            dt=self.dt,
            weeks=self.step_days / 7.0,
            live=live,
            coverage=np.array([g.coverage for g in self.governments]),
            whitelist_active=self.whitelist_start is not None and self.whitelist_start <= self.week_end,
            bank_live=bank_live,
            intensity=intensity,
            reach=reach,
            bank_push=push,
            marketing=intensity @ push if self.banks else np.zeros(n_regions),
            bank_pull=pull,
            acceptance=self.acceptance.copy(),
            active_share=self.active_share.copy(),
            adopted_share=self.adopted_share.copy(),
            payroll_share=s.government.payroll_share
            if payments_start is not None and payments_start <= self.week_end
            else 0.0,
            public_service_acceptance=s.government.public_service_acceptance,
            incumbent_fee=s.incumbents.merchant_fee,
            interoperable=interop is not None and interop <= self.week_end,
        )

    def step(self) -> None:
        self.week_end = self.dates[self.steps - 1]
        week_start = self.week_end - timedelta(days=self.step_days - 1)
        for government in self.governments:
            government.step()
        for bank in self.banks:
            bank.step()
        ctx = self.context = self._context(week_start)
        multiplier = self.config.incentives.lottery_budget_multiplier
        lottery_tx = np.zeros(len(self.region_names))
        lottery_value = np.zeros(len(self.region_names))
        for government in self.governments:
            outcome = government.run_lotteries(ctx, self.engine, multiplier)
            if outcome.registrations > 0:
                self.lottery_records.append((self.week_end, government.index, outcome))
                lottery_tx[government.index] += outcome.transactions
                lottery_value[government.index] += outcome.value
        totals = self.engine.step(ctx)
        totals["transactions_weekly"] = totals["transactions_weekly"] + lottery_tx
        totals["transaction_value_weekly"] = totals["transaction_value_weekly"] + lottery_value
        totals["live"] = ctx.live.astype(np.float64)
        self.records.append(totals)
        pop = self.populations
        self.adopted_share = totals["citizens_with_wallet"] / pop
        self.active_share = totals["active_users"] / pop
        self.acceptance = np.divide(
            totals["acceptance_scenarios"],
            self.merchant_points_total,
            out=np.zeros(len(pop)),
            where=self.merchant_points_total > 0,
        )

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
        from .metrics import tidy_timeseries

        return tidy_timeseries(self)

    def citizens_frame(self, region: str | int) -> pd.DataFrame:
        """The citizen agents of a region as a table, whatever the engine."""
        r = region if isinstance(region, int) else self.region_names.index(region)
        return self.engine.citizens_frame(r)
