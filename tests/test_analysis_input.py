"""Analysis files: the shipped ones load; bad input is refused before anything runs, with one line naming
the file, the key, the value and what is allowed, and exit code 2."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from analysis_files import INPUTS, write
from conftest import SCENARIOS

from model.analysis.discovery import load_discovery
from model.analysis.inputs import Input
from model.analysis.sensitivity import load_sensitivity
from model.calibration.parameters import FREE
from model.cli import main

ANALYSIS = SCENARIOS / "analysis"
OUTCOMES = 'outcomes = ["citizens_with_wallet at 2021-12-31"]\n'
SOBOL = "[sobol]\nbase_samples = 8\n"


def test_shipped_sensitivity_files_load():
    for name in ("levers", "parameters"):
        spec = load_sensitivity(ANALYSIS / f"{name}.toml")
        assert {m.name for m in spec.methods} == {"morris", "sobol"}
        assert len(spec.common.inputs) >= 5


def test_parameters_file_takes_the_calibration_ranges():
    spec = load_sensitivity(ANALYSIS / "parameters.toml")
    free = {p.name: p for p in FREE}
    assert {i.name for i in spec.common.inputs} == set(free)
    for item in spec.common.inputs:
        p = free[item.name]
        assert (item.low, item.high, item.scale == "log", item.keys) == (p.low, p.high, p.log, p.keys)


def test_shipped_discovery_file_loads():
    spec = load_discovery(ANALYSIS / "discovery.toml")
    assert spec.goal.outcome.date <= date(2025, 12, 31)
    assert len(spec.common.inputs) >= 5


def _input(**kw) -> Input:
    base = dict(name="x", keys=("x",), low=1.0, high=4.0, scale="linear", integer=False, shift_days=False,
                reason="r", base_value=1.0)  # fmt: skip
    return Input(**(base | kw))


def test_input_values_map_the_unit_interval_to_their_scale():
    assert _input().value(0.5) == 2.5
    assert _input(scale="log").value(0.5) == pytest.approx(2.0)
    whole = _input(low=1, high=3, integer=True)
    assert [whole.value(u) for u in (0.0, 0.34, 0.67, 0.999, 1.0)] == [1, 2, 3, 3, 3]
    shift = _input(low=-10, high=10, shift_days=True, keys=("a", "b"), base_dates=(date(2022, 1, 1),) * 2)
    assert shift.overrides(shift.value(0.0)) == {"a": date(2021, 12, 22), "b": date(2021, 12, 22)}


BAD = {
    "unknown metric": (
        'outcomes = ["app_wallets_galore at 2021-12-31"]\n' + INPUTS + SOBOL,
        ["outcomes[0]", "app_wallets_galore", "a metric the model reports", "active_users"],
    ),
    "unknown region": (
        'outcomes = ["active_users in Atlantis at 2021-12-31"]\n' + INPUTS + SOBOL,
        ["outcomes[0]", "Atlantis", "a region the model reports"],
    ),
    "date outside the run": (
        'outcomes = ["active_users at 2025-12-31"]\n' + INPUTS + SOBOL,
        ["outcomes[0]", "2025-12-31", "a date within the run's records (2020-04-08 to 2022-01-05)"],
    ),
    "range outside a lever's allowed values": (
        OUTCOMES
        + INPUTS
        + '[inputs."incumbents.merchant_fee"]\nlow = 0.001\nhigh = 0.2\nreason = "r"\n'
        + SOBOL,
        ["inputs.incumbents.merchant_fee.high", "0.2", "incumbents.merchant_fee", "0.05"],
    ),
    "unknown lever": (
        OUTCOMES + '[inputs."banks.charm"]\nlow = 0\nhigh = 1\nreason = "r"\n' + SOBOL,
        ["inputs.banks.charm.low", "unknown key"],
    ),
    "sobol sample too small": (
        OUTCOMES + INPUTS + "[sobol]\nbase_samples = 4\n",
        ["sobol.base_samples", "4", "a power of 2 of at least 8"],
    ),
    "morris sample too small": (
        OUTCOMES + INPUTS + "[morris]\ntrajectories = 2\n",
        ["morris.trajectories", "2", "from 4"],
    ),
    "no method": (OUTCOMES + INPUTS, ["[morris] or a [sobol]"]),
    "range without a reason": (
        OUTCOMES + '[inputs."banks.target_intensity"]\nlow = 0\nhigh = 2\n' + SOBOL,
        ["inputs.banks.target_intensity.reason", "required"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_sensitivity_input_is_refused_before_anything_runs(case, tmp_path, capsys):
    body, expected = BAD[case]
    path = write(tmp_path, body)
    out = tmp_path / "out"
    assert main(["sensitivity", str(path), "--out", str(out), "--quiet"]) == 2
    # the tiny files cut the horizon on purpose, which warns; the refusal is one line of its own
    lines = [ln for ln in capsys.readouterr().err.strip().splitlines() if not ln.startswith("warning: ")]
    message = "\n".join(lines)
    assert len(lines) == 1 and message.startswith(f"error: {path}: ")
    for part in expected:
        assert part in message
    assert not out.exists()


DISCOVERY = INPUTS + "[prim]\nmass_min = 0.1\n"
BAD_DISCOVERY = {
    "goal on a date outside the run": (
        'goal = "active_users at 2026-06-30 >= 1e6"\n[sample]\nsize = 64\n' + DISCOVERY,
        ["goal", "2026-06-30", "a date within the run's records"],
    ),
    "goal that is not a comparison": (
        'goal = "active_users at 2021-12-31 is large"\n[sample]\nsize = 64\n' + DISCOVERY,
        ["goal", "METRIC [in REGION] at YYYY-MM-DD >= NUMBER"],
    ),
    "goal on an unknown metric": (
        'goal = "happiness at 2021-12-31 >= 1"\n[sample]\nsize = 64\n' + DISCOVERY,
        ["goal", "happiness", "a metric the model reports"],
    ),
    "sample too small for PRIM's smallest box": (
        'goal = "active_users at 2021-12-31 >= 1e6"\n[sample]\nsize = 20\n' + DISCOVERY,
        ["sample.size", "20", "at least 50"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_DISCOVERY))
def test_bad_discovery_input_is_refused_before_anything_runs(case, tmp_path, capsys):
    body, expected = BAD_DISCOVERY[case]
    path = write(tmp_path, body)
    out = tmp_path / "out"
    assert main(["discover", str(path), "--out", str(out), "--quiet"]) == 2
    # the tiny files cut the horizon on purpose, which warns; the refusal is one line of its own
    lines = [ln for ln in capsys.readouterr().err.strip().splitlines() if not ln.startswith("warning: ")]
    message = "\n".join(lines)
    assert len(lines) == 1 and message.startswith(f"error: {path}: ")
    for part in expected:
        assert part in message
    assert not out.exists()


def test_set_replaces_an_entry_and_is_checked_like_the_file(tmp_path, capsys):
    path = write(tmp_path, OUTCOMES + INPUTS + SOBOL)
    spec = load_sensitivity(path, {"sobol.base_samples": 16})
    assert spec.methods[0].size == 16
    assert (
        main(["sensitivity", str(path), "--set", "sobol.base_samples=12", "--out", str(tmp_path / "o")]) == 2
    )
    assert "sobol.base_samples = 12" in capsys.readouterr().err


def test_inputs_may_come_from_another_analysis_file(tmp_path):
    levers = write(tmp_path, OUTCOMES + INPUTS + SOBOL, name="levers.toml")
    spec = load_discovery(
        write(
            tmp_path,
            f'inputs = "{levers.name}"\ngoal = "active_users at 2021-12-31 >= 1e6"\n[sample]\nsize = 100\n',
        )
    )
    assert [i.name for i in spec.common.inputs] == ["banks.target_intensity", "interoperability_timing"]
    assert spec.common.inputs[1].base_dates == (date(2022, 12, 12),)
    assert spec.common.inputs[1].overrides(-30) == {
        "incumbents.interoperability_date": date(2022, 12, 12) - timedelta(30)
    }
