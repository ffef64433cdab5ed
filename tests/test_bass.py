"""Analytic check: with every driver off but word of mouth and a constant innovation rate, adoption is Bass.

Switched off: habit heterogeneity (``habit_floor = 1``), merchant acceptance, bank marketing and government
pulls, lotteries, white lists and extra wallets. One region (Shenzhen) is live from the first day and
``wom_mixing = 1`` makes the word-of-mouth share region-wide, so the hazard of a citizen without a wallet is
``p + q F`` with F the share holding one: the Bass model, whose solution is

    F(t) = (1 - exp(-(p + q) t)) / (1 + (q / p) exp(-(p + q) t)).

With p = 0.1 and q = 0.8 a year over six years (F goes from 0 to 0.96) and a million citizen agents:

- the share holding a wallet stays within 0.01 of F(t) at every weekly step. Weekly steps read last week's
  share, which lags the continuous curve by up to 0.004; sampling noise is 0.0005 (one standard deviation);
- it stays within 0.004 of the model's own deterministic recursion F' = F + (1 - F)(1 - exp(-(p + qF) dt)).

The network version (``wom_mixing = 0``, word of mouth from small-world neighbours, 200,000 agents): on a
random graph (every edge rewired) of degree 20 the curve stays within 0.03 of Bass, and below it (a
neighbourhood lags the region: non-adopters' neighbours are less likely to have adopted); the clustered
small world (rewiring 0.1, degree 8) lags further. About 10 seconds.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import scenario

from model import EcnyModel

P, Q = 0.1, 0.8
YEARS = 6
SHENZHEN = 17_560_061  # residents (pilot_regions.csv)


def bass(t: np.ndarray, p: float = P, q: float = Q) -> np.ndarray:
    e = np.exp(-(p + q) * t)
    return (1 - e) / (1 + (q / p) * e)


def bass_run(agents: int, **behaviour) -> tuple[np.ndarray, np.ndarray, float]:
    """(t in years, share of Shenzhen's residents holding a wallet, dt) of a Bass-only run."""
    overrides = {
        "pilot.waves": {wave: "never" for wave in ("1", "2", "olympic", "3", "4")},
        "pilot.olympic_full_pilot": "never",
        "pilot.region_start": {"Shenzhen": "2020-04-01"},
        "pilot.whitelist_share": 0.0,
        "incentives.lotteries": [],
        "government.payroll_share": 0.0,
        "run.start": "2020-04-01",
        "run.end": f"{2020 + YEARS}-04-01",
        "run.step_days": 7,
        "run.scale": SHENZHEN / agents,
        "behaviour.innovation": P,
        "behaviour.word_of_mouth": Q,
        "behaviour.wom_mixing": 1.0,
        "behaviour.habit_floor": 1.0,
        "behaviour.acceptance_pull": 0.0,
        "behaviour.campaign_pull": 0.0,
        "app.launch": "never",
        "government.programmes": [],
        "behaviour.government_pull": 0.0,
        "behaviour.multihoming_push": 0.0,
        **{f"behaviour.{k}": v for k, v in behaviour.items()},
    }
    s = scenario(**{k.replace(".", "__"): v for k, v in overrides.items()})
    model = EcnyModel(s, seed=7).run()
    assert len(model.citizens) == agents
    r = model.region_names.index("Shenzhen")
    share = np.array([record["citizens_with_wallet"][r] for record in model.records]) / model.populations[r]
    last = model.records[-1]["citizens_with_wallet"]
    assert last.sum() == last[r]  # nobody outside Shenzhen
    dt = s.run.step_days / 365.25
    return dt * np.arange(1, share.size + 1), share, dt


def recursion(steps: int, dt: float, p: float = P, q: float = Q) -> np.ndarray:
    out, f = np.empty(steps), 0.0
    for k in range(steps):
        f += (1 - f) * -np.expm1(-(p + q * f) * dt)
        out[k] = f
    return out


@pytest.fixture(scope="module")
def mean_field():
    return bass_run(1_000_000)


def test_mean_field_adoption_follows_the_bass_curve(mean_field):
    t, share, _ = mean_field
    assert share[-1] > 0.9
    assert np.abs(share - bass(t)).max() < 0.01


def test_mean_field_adoption_follows_the_discrete_recursion(mean_field):
    t, share, dt = mean_field
    assert np.abs(share - recursion(t.size, dt)).max() < 0.004


def test_network_word_of_mouth_approaches_bass_on_a_random_graph_and_lags_on_a_small_world():
    t, random_graph, _ = bass_run(200_000, wom_mixing=0.0, network_rewiring=1.0, network_degree=20)
    _, small_world, _ = bass_run(200_000, wom_mixing=0.0, network_rewiring=0.1, network_degree=8)
    curve = bass(t)
    assert np.abs(random_graph - curve).max() < 0.03
    middle = (curve > 0.2) & (curve < 0.8)
    assert np.all(random_graph[middle] < curve[middle])
    assert np.all(small_world[middle] < random_graph[middle])
