"""The two engines: thin drivers of the same phases (``phases.py``) over the same state (``state.py``).

- ``agents``: every citizen and business a Mesa agent whose ``step`` runs the phases for its own row, as
  plain Python: readable, inspectable (a breakpoint in ``phases.py`` stops in an agent's week), slow.
- ``vectorized``: the same phases compiled by numba (``kernels.py``) and run over every row of the live
  regions in one call per step: the default for runs and sweeps.

For the same seed they give the same run, every metric at every date (``tests/test_engines_agree.py``):
the draws are keyed per agent (``draws.py``), the counts are integers, and no step depends on the order
in which agents move. They differ only in how word of mouth is counted: the agent engine asks each
citizen's neighbours, the vectorized engine keeps the counts up to date as wallets open.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from ..context import StepView, Tally

ENGINES = ("vectorized", "agents")


class Engine(Protocol):
    """What the model asks of an engine in a step: read the network, draw a lottery, move everyone."""

    name: str

    def observe(self, view: StepView) -> None:
        """Fix every citizen's word-of-mouth share for the step, before anyone moves."""

    def lottery(
        self,
        view: StepView,
        tally: Tally,
        region: int,
        budget: float,
        residents: float,
        winners: int,
        keys: tuple[int, int, int, int],
    ) -> tuple[int, int, int, int]:
        """Draw a lottery in ``region`` (``phases.lottery``): (entrants, winners, redeemed, first wallets)."""

    def acquirers(self, view: StepView, joined_pull: np.ndarray) -> None:
        """Every business chooses its bank again (``phases.choose_acquirer``): ``joined_pull`` (float[B]) is
        the acquirer pull of the banks that have just gone live, 0 for the others."""

    def step(self, view: StepView, tally: Tally) -> None:
        """Citizens, then businesses, decide (``phases.step_citizen``, ``phases.step_business``) and are
        counted into ``tally``."""

    def memory_bytes(self) -> int:
        """Bytes held by the engine's agents and network."""


def lottery_counts(outcome: np.ndarray, entrants: int) -> tuple[int, int, int, int]:
    """(entrants, winners, redeemed, wallets opened) from ``phases.lottery``'s outcome counts."""
    return int(entrants), int(outcome[0]), int(outcome[1]), int(outcome[2])
