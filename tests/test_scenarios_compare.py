"""What-if scenarios move adoption the way their lever says, averaged over paired seeds at a coarse scale.

Each replication runs every scenario with the same seed (as a sweep does), so the differences are pair by
pair with much of the noise cancelled.
"""

from __future__ import annotations

from datetime import date
from functools import cache

import numpy as np
import pytest
from conftest import VECTOR_SCALE, scenario

from model import EcnyModel
from model.streams import replication_seeds

SEEDS = tuple(replication_seeds(2020, 5))
END_2021 = date(2021, 12, 31)


@cache
def national_wallets(name: str, seed: int, until: date | None = None) -> dict[date, float]:
    """National personal_wallets_opened after each step of a scenario, up to ``until`` (default: the end)."""
    model = EcnyModel(scenario(name), seed=seed, scale=VECTOR_SCALE)
    out = {}
    for day in model.dates:
        if until is not None and day > until:
            break
        model.step()
        out[day] = float(model.records[-1]["personal_wallets_opened"].sum())
    return out


def at(series: dict[date, float], when: date) -> float:
    """The value on the last date on or before ``when``."""
    return series[max(d for d in series if d <= when)]


def paired(name: str, when: date, until: date | None = None) -> tuple[np.ndarray, np.ndarray]:
    base = np.array([at(national_wallets("baseline", seed), when) for seed in SEEDS])
    what_if = np.array([at(national_wallets(name, seed, until), when) for seed in SEEDS])
    return base, what_if


def test_seeds_are_distinct_and_runs_vary():
    assert len(set(SEEDS)) == len(SEEDS)
    base, _ = paired("baseline", END_2021)
    assert np.unique(base).size == base.size  # the seeds make different runs


def test_no_expansion_ends_2025_with_fewer_wallets():
    end = scenario("baseline").run.end
    base, frozen = paired("no_expansion", end)
    assert frozen.mean() < base.mean()
    # freezing the pilot after wave 2 leaves most of the population out: not a small effect
    assert frozen.mean() < 0.8 * base.mean()


def test_no_incentives_ends_2021_with_fewer_wallets():
    base, plain = paired("no_incentives", END_2021, until=END_2021)
    assert plain.mean() < base.mean()
    assert plain.mean() > 0.5 * base.mean()  # lotteries help, they are not the whole story


def test_single_operator_ends_2021_with_fewer_wallets():
    base, single = paired("single_operator", END_2021, until=END_2021)
    assert single.mean() < base.mean()
    assert single.mean() > 0


@pytest.mark.parametrize(
    ("name", "lever", "until"),
    [("no_incentives", date(2020, 10, 9), END_2021), ("no_expansion", date(2021, 2, 1), None)],
)
def test_paired_runs_are_identical_until_the_lever_acts(name, lever, until):
    """Same seed, same numbers until the first lottery (no_incentives) or the Olympic wave (no_expansion)."""
    for seed in SEEDS[:2]:
        base, what_if = national_wallets("baseline", seed), national_wallets(name, seed, until)
        before = [d for d in what_if if d < lever]
        assert len(before) > 10
        assert [what_if[d] for d in before] == [base[d] for d in before]
        assert what_if[max(what_if)] != base[max(what_if)]  # and the lever does change the run
