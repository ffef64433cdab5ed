"""Agent state, declared once: every column of citizens and businesses with its dtype, default and meaning.

Both engines hold their agents in the same struct of arrays, allocated from these declarations (the Mesa
agents of the agent engine are views of one row); ``frame`` builds the tables users inspect, and ``nbytes``
counts memory, from the same declarations. Attributes are drawn once at set-up (``population.py``); state
columns are what the phases change (``phases.py``).

Named states, used by the phases, the metrics and the frames alike:
- *no wallet*: ``wallets == 0``; a *holder* has at least one wallet (``wallets`` is a bitmask over the
  scenario's operating institutions, bit j for operator j);
- a holder is *engaged* (uses e-CNY when shops accept it) or *dormant* (``engaged`` false);
- *active*: paid in e-CNY within the active window (the last 4 weeks), ``step - last_paid < window``;
- an *app holder* set up a wallet through the public e-CNY app (``app_wallet``).
A business may hold a *corporate wallet*, be a *B2B user* (pays other businesses in e-CNY) and, if it is an
outlet, *accept* e-CNY from residents.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass

import numpy as np
import pandas as pd

NEVER_PAID = -30000  # last_paid of a citizen who never paid (int16)


@dataclass(frozen=True)
class Column:
    name: str
    dtype: type
    default: float | int | bool
    label: str


@dataclass(frozen=True)
class Kind:
    """One kind of agent: its attributes (fixed at set-up) and its state (changed by the phases)."""

    name: str
    attributes: tuple[Column, ...]
    state: tuple[Column, ...]

    @property
    def columns(self) -> tuple[Column, ...]:
        return self.attributes + self.state

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def bytes_per_agent(self) -> int:
        return sum(np.dtype(c.dtype).itemsize for c in self.columns)


CITIZEN = Kind(
    "citizen",
    attributes=(
        Column("age_group", np.uint8, 0, "0 = 15-34, 1 = 35-59, 2 = 60+"),
        Column("urban", np.bool_, False, "lives in an urban area"),
        Column("habit", np.float32, 0.0, "digital-payment habit in (0, 1): how much every pull weighs"),
        Column("income", np.uint8, 0, "income quintile 0 (lowest) to 4"),
        Column("public_sector", np.bool_, False, "paid from public funds (salaries, subsidies)"),
        Column("whitelisted", np.bool_, False, "on a bank white list before the region is live"),
    ),
    state=(
        Column("wallets", np.uint32, 0, "bitmask of the operators at which the citizen holds a wallet"),
        Column("engaged", np.bool_, False, "a holder who uses e-CNY (not dormant)"),
        Column("app_wallet", np.bool_, False, "set up a wallet through the public e-CNY app"),
        Column("last_paid", np.int16, NEVER_PAID, "step of the last e-CNY payment"),
        Column("first_wallet_step", np.int16, NEVER_PAID, "step at which the first wallet was opened"),
    ),
)

BUSINESS = Kind(
    "business",
    attributes=(
        Column("sector", np.uint8, 0, "index into population.SECTORS (the first four are outlets)"),
        Column("size", np.uint8, 0, "0 small, 1 medium, 2 large (acceptance points: points_by_size)"),
        Column("coverage_rank", np.float32, 0.0, "reachable while below the region's merchant coverage"),
    ),
    state=(
        Column("acquirer", np.int8, -1, "its bank among the live operators (-1: none live)"),
        Column("accepting", np.bool_, False, "an outlet accepting e-CNY from residents"),
        Column("corporate_wallet", np.bool_, False, "holds a corporate (unit) wallet"),
        Column("b2b_active", np.bool_, False, "pays other businesses in e-CNY"),
    ),
)


# The namedtuples of each kind's columns, in declared order: what the compiled phases receive (module-level
# names, so that numba can cache kernels that take them).
CitizenArrays = namedtuple("CitizenArrays", CITIZEN.names)
BusinessArrays = namedtuple("BusinessArrays", BUSINESS.names)


def row_type(kind: Kind) -> type:
    return {CITIZEN.name: CitizenArrays, BUSINESS.name: BusinessArrays}[kind.name]


class Agents:
    """The agents of one kind, regions contiguous: region r is rows ``offsets[r]:offsets[r + 1]``.

    Columns are attributes of this object (``citizens.wallets``) and of ``arrays``, the namedtuple handed to
    the phases. One agent stands for ``weight[r]`` residents (or businesses) of its region.
    """

    def __init__(self, kind: Kind, offsets: np.ndarray, weight: np.ndarray, **attributes: np.ndarray):
        self.kind, self.offsets, self.weight = kind, np.asarray(offsets, np.int64), weight
        n = int(self.offsets[-1])
        columns = {}
        for column in kind.columns:
            given = attributes.pop(column.name, None)
            if given is None:
                columns[column.name] = np.full(n, column.default, column.dtype)
            else:
                columns[column.name] = np.ascontiguousarray(given, dtype=column.dtype)
        if attributes:
            raise TypeError(f"unknown {kind.name} columns: {sorted(attributes)}")
        self.arrays = row_type(kind)(**columns)

    def __getattr__(self, name: str) -> np.ndarray:
        arrays = self.__dict__.get("arrays")
        if arrays is not None and name in arrays._fields:
            return getattr(arrays, name)
        raise AttributeError(name)

    def __len__(self) -> int:
        return int(self.offsets[-1])

    @property
    def counts(self) -> np.ndarray:
        return np.diff(self.offsets)

    def region_slice(self, r: int) -> slice:
        return slice(int(self.offsets[r]), int(self.offsets[r + 1]))

    def region_of(self, rows: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.offsets, rows, side="right") - 1

    def nbytes(self) -> int:
        return int(sum(a.nbytes for a in self.arrays) + self.offsets.nbytes + self.weight.nbytes)

    def frame(self, r: int, step: int | None = None, window: int | None = None) -> pd.DataFrame:
        """One row per agent of region r: every declared column, and for citizens the named states."""
        sl = self.region_slice(r)
        data = {c.name: getattr(self.arrays, c.name)[sl] for c in self.kind.columns}
        if self.kind is CITIZEN:
            wallets = data["wallets"]
            data["wallet_count"] = np.bitwise_count(wallets)
            data["holder_state"] = pd.Categorical.from_codes(
                np.where(wallets == 0, 0, np.where(data["engaged"], 1, 2)),
                categories=["no wallet", "engaged", "dormant"],
            )
            if step is not None and window is not None:
                data["active"] = step - data["last_paid"].astype(np.int64) < window
        frame = pd.DataFrame(data)
        frame.index.name = self.kind.name
        return frame
