"""The agent engine: every citizen and business a Mesa agent, stepped one by one.

An agent's columns (``state.CITIZEN``, ``state.BUSINESS``) are properties reading and writing its row of the
shared arrays, so ``citizen.wallets`` is the state the phases change. ``Citizen.observe`` counts the
neighbours holding a wallet; ``Citizen.step`` runs ``phases.step_citizen`` for its own row as plain Python,
``Business.step`` ``phases.step_business``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np
from mesa.agent import AgentSet

from .. import phases
from ..context import StepView, Tally
from ..network import SmallWorld
from ..state import BUSINESS, CITIZEN, Agents
from ..streams import region_stream
from . import lottery_counts

if TYPE_CHECKING:
    from ..model import EcnyModel


def _column(name: str, table: str) -> property:
    def get(agent):
        return getattr(getattr(agent.engine, table).arrays, name)[agent.row]

    def set_(agent, value):
        getattr(getattr(agent.engine, table).arrays, name)[agent.row] = value

    return property(get, set_, doc=f"this agent's row of the {table}' {name!r} column")


class Citizen(mesa.Agent):
    """``weight`` residents of one region who may hold e-CNY wallets at several operating institutions."""

    def __init__(self, model: EcnyModel, engine: AgentEngine, region: int, row: int) -> None:
        super().__init__(model)
        self.engine, self.region, self.row = engine, region, row
        self.neighbours: list[Citizen] = []
        self.network_share = 0.0

    def observe(self) -> None:
        """Share of neighbours holding a wallet, read before anyone moves (synchronous update)."""
        if self.neighbours:
            held = sum(1 for n in self.neighbours if n.wallets != 0)
            self.network_share = held / len(self.neighbours)

    def step(self) -> None:
        e = self.engine
        phases.step_citizen(
            self.row, self.region, self.network_share, e.citizens.arrays, e.view, e.b, e.k, e.tally
        )


class Business(mesa.Agent):
    """``weight`` businesses of one sector and size: an outlet may accept e-CNY; any may hold a corporate
    wallet and pay other businesses in e-CNY."""

    def __init__(self, model: EcnyModel, engine: AgentEngine, region: int, row: int) -> None:
        super().__init__(model)
        self.engine, self.region, self.row = engine, region, row

    def choose_acquirer(self) -> None:
        e = self.engine
        current = int(self.acquirer)
        self.acquirer = phases.choose_acquirer(self.row, self.region, current, e.joined_pull, e.view, e.k)

    def step(self) -> None:
        e = self.engine
        phases.step_business(self.row, self.region, e.businesses.arrays, e.view, e.b, e.k, e.tally)


for _c in CITIZEN.columns:
    setattr(Citizen, _c.name, _column(_c.name, "citizens"))
for _c in BUSINESS.columns:
    setattr(Business, _c.name, _column(_c.name, "businesses"))


class AgentEngine:
    """Citizens and businesses as Mesa agents, each running the phases for its own row."""

    name = "agents"

    def __init__(self, model: EcnyModel, citizens: Agents, businesses: Agents, b, k) -> None:
        self.citizens, self.businesses, self.b, self.k = citizens, businesses, b, k
        self.view: StepView | None = None
        self.tally: Tally | None = None
        behaviour = model.behaviour
        everyone: list[Citizen] = []
        firms: list[Business] = []
        for r, region in enumerate(model.region_names):
            sl = citizens.region_slice(r)
            people = [Citizen(model, self, r, row) for row in range(sl.start, sl.stop)]
            if people and behaviour.word_of_mouth > 0 and behaviour.wom_mixing < 1:
                graph = SmallWorld.build(
                    len(people),
                    behaviour.network_degree,
                    behaviour.network_rewiring,
                    region_stream(model.seed, "network", region),
                )
                for person, neighbours in zip(people, graph.neighbour_lists(), strict=True):
                    person.neighbours = [people[j] for j in neighbours]
            everyone += people
            bsl = businesses.region_slice(r)
            firms += [Business(model, self, r, row) for row in range(bsl.start, bsl.stop)]
        self.people = AgentSet(everyone, random=model.random)
        self.firms = AgentSet(firms, random=model.random)

    def observe(self, view: StepView) -> None:
        self.people.do("observe")

    def lottery(self, view, tally, region, budget, residents, winners, keys):
        outcome = np.zeros(3, np.int64)
        c = self.citizens.arrays
        entrants = phases.lottery(
            region, c, view, self.b, self.k, tally, budget, residents, winners, keys, outcome
        )
        return lottery_counts(outcome, entrants)

    def acquirers(self, view: StepView, joined_pull: np.ndarray) -> None:
        self.view, self.joined_pull = view, joined_pull
        self.firms.do("choose_acquirer")

    def step(self, view: StepView, tally: Tally) -> None:
        self.view, self.tally = view, tally
        self.people.do("step")
        self.firms.do("step")

    def memory_bytes(self) -> int:
        return self.citizens.nbytes() + self.businesses.nbytes()
