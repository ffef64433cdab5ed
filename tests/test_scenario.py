"""Scenario files: each bad input gets one ScenarioError naming the file, the key path and what is allowed."""

from __future__ import annotations

import shutil
import tomllib
from datetime import date
from pathlib import Path

import pytest
from conftest import BASELINE, SCENARIOS, SHIPPED

from model import Scenario, ScenarioError, load_scenario
from model.domain import bank_ids, region_names
from model.errors import ScenarioWarning


def write(tmp_path: Path, body: str, name: str = "bad.toml", extends: str | Path | None = BASELINE) -> Path:
    """A scenario file in tmp_path that extends the real baseline (absolute path) and adds ``body``."""
    path = tmp_path / name
    head = f'extends = "{Path(extends).as_posix()}"\n' if extends else ""
    path.write_text(head + body, encoding="utf-8")
    return path


def error_of(path: Path, overrides: dict | None = None) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    return info.value


def assert_names(err: ScenarioError, file: Path | str, key: str, *allowed: str) -> None:
    """The error names the file and the key path, and says what is allowed (case-insensitive fragments)."""
    message = str(err)
    assert err.file == str(file)
    assert str(file) in message
    assert err.key == key
    assert key in message
    assert err.allowed and err.allowed in message
    for fragment in allowed:
        assert fragment.lower() in err.allowed.lower(), (fragment, err.allowed)


LOTTERY = """
[[incentives.lotteries]]
region = "{region}"
start = {start}
end = {end}
budget_yuan = {budget}
envelope_yuan = 200
"""


def lottery(region="Shenzhen", start="2021-03-01", end="2021-03-07", budget=1_000_000) -> str:
    return LOTTERY.format(region=region, start=start, end=end, budget=budget)


# ---------------------------------------------------------------- one test per bad input


@pytest.mark.parametrize(
    ("body", "key", "allowed"),
    [
        ("[run]\nsede = 3\n", "run.sede", ["unknown key", "seed"]),
        ("pilott = {}\n", "pilott", ["unknown key", "pilot"]),
        ("[banks.operators.ICBC]\ncolour = 'red'\n", "banks.operators.ICBC.colour", ["unknown", "reach"]),
        ("[behaviour]\ninovation = 0.1\n", "behaviour.inovation", ["unknown", "innovation"]),
        (lottery() + "prize = 3\n", "incentives.lotteries.0.prize", ["unknown", "envelope_yuan"]),
    ],
)
def test_unknown_key(tmp_path, body, key, allowed):
    path = write(tmp_path, body)
    assert_names(error_of(path), path, key, *allowed)


@pytest.mark.parametrize(
    ("body", "key", "allowed"),
    [
        ("[run]\nseed = 'abc'\n", "run.seed", ["a whole number"]),
        ("[run]\nstart = 'yesterday'\n", "run.start", ["date"]),
        ("[run]\nscale = 'big'\n", "run.scale", ["number"]),
        ("[run]\nengine = 'turbo'\n", "run.engine", ["vectorized", "agents"]),
        ('[pilot]\nwaves = { "1" = "soon" }\n', "pilot.waves.1", ["date", "never"]),
        ("[pilot]\nolympic_full_pilot = 'later'\n", "pilot.olympic_full_pilot", ["date", "never"]),
        ("[pilot]\nclosed_tests_end = 'autumn'\n", "pilot.closed_tests_end", ["date", "never"]),
        ("[banks]\noperator_count = 'two'\n", "banks.operator_count", ["a whole number"]),
        (
            "[banks.operators.ICBC]\nstaff_thousands = 'lots'\n",
            "banks.operators.ICBC.staff_thousands",
            ["number"],
        ),
        ("[population]\nage_shares = [0.3, 'x', 0.3]\n", "population.age_shares.1", ["number"]),
    ],
)
def test_wrong_type(tmp_path, body, key, allowed):
    path = write(tmp_path, body)
    assert_names(error_of(path), path, key, *allowed)


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('[pilot]\nregion_start = { "Atlantis" = 2021-01-01 }\n', "pilot.region_start.Atlantis"),
        (lottery(region="Atlantis"), "incentives.lotteries.0.region"),
        (
            '[[government.wages]]\nregion = "Atlantis"\nstart = 2022-06-01\nshare = 0.1\n',
            "government.wages.0.region",
        ),
    ],
)
def test_unknown_region(tmp_path, body, key):
    path = write(tmp_path, body)
    err = error_of(path)
    assert_names(err, path, key, "region", "Shenzhen", "Chengdu")
    assert err.value == "Atlantis"


def test_unknown_bank(tmp_path):
    body = "[banks.operators.FooBank]\njoins = 2020-04-01\nstaff_thousands = 10\n"
    path = write(tmp_path, body)
    err = error_of(path)
    assert_names(err, path, "banks.operators.FooBank", *bank_ids())
    assert err.value == "FooBank"


@pytest.mark.parametrize(
    ("body", "key", "allowed"),
    [
        ("[run]\nend = 2020-04-01\n", "run.end", ["after run.start", "2020-04-01"]),
        ("[run]\nend = 2019-12-31\n", "run.end", ["after run.start"]),
        ('[pilot]\nwaves = { "2" = 2020-03-01 }\n', "pilot.waves.2", ["not before wave 1", "2020-04-01"]),
        ('[pilot]\nwaves = { "4" = 2022-01-01 }\n', "pilot.waves.4", ["not before wave 3", "2022-04-02"]),
        ("[pilot]\nolympic_full_pilot = 2021-01-01\n", "pilot.olympic_full_pilot", ["not before", "olympic"]),
    ],
)
def test_dates_out_of_order(tmp_path, body, key, allowed):
    path = write(tmp_path, body)
    assert_names(error_of(path), path, key, *allowed)


def test_waves_written_in_any_order_are_checked_in_calendar_order(tmp_path):
    """A file that states its waves in another order than the calendar's is still checked wave by wave."""
    calibrated = (SCENARIOS / "calibrated.toml").as_posix()
    lines = BASELINE.read_text(encoding="utf-8").replace("calibrated.toml", calibrated).splitlines()
    at = [i for i, line in enumerate(lines) if line.startswith("waves =")]
    assert len(at) == 1

    def with_waves(name: str, **waves: str) -> Path:
        lines[at[0]] = "waves = { " + ", ".join(f'"{w}" = {d}' for w, d in waves.items()) + " }"
        path = tmp_path / name
        path.write_text("\n".join(lines), encoding="utf-8")
        return path

    reversed_ = {
        "4": "2022-12-16",
        "3": "2022-04-02",
        "olympic": "2021-02-01",
        "2": "2020-11-01",
        "1": "2020-04-01",
    }
    s = load_scenario(with_waves("reversed.toml", **reversed_))
    assert list(s.pilot.waves) == ["4", "3", "olympic", "2", "1"]
    assert s.pilot.waves["1"] == date(2020, 4, 1) and s.pilot.waves["4"] == date(2022, 12, 16)
    # and the same file with wave 4 before wave 3 is refused, naming wave 4
    path = with_waves("bad_order.toml", **{**reversed_, "3": "2023-04-02"})
    assert_names(error_of(path), path, "pilot.waves.4", "not before wave 3", "2023-04-02")
    # an override that replaces the whole table is checked the same way
    waves = {w: date.fromisoformat(d) for w, d in reversed_.items()}
    assert load_scenario(BASELINE, {"pilot.waves": waves}).pilot.waves == waves


def test_lottery_ending_before_it_starts(tmp_path):
    path = write(tmp_path, lottery(start="2021-03-07", end="2021-03-01"))
    err = error_of(path)
    assert_names(err, path, "incentives.lotteries.0.end", "not before its start", "2021-03-07")
    assert err.value == "2021-03-01"


def test_lottery_starting_outside_the_run_is_dropped_with_a_warning(tmp_path):
    start, end = "2019-06-01", "2019-06-07"
    path = write(tmp_path, lottery(start=start, end=end))
    with pytest.warns(ScenarioWarning) as caught:
        s = load_scenario(path)
    message = str(caught[0].message)
    assert f"incentives.lotteries.0 (Shenzhen, {start} to {end})" in message and "dropped" in message
    assert all(lot.start != date.fromisoformat(start) for lot in s.incentives.lotteries)


def test_lottery_ending_after_the_run_is_kept_cut_at_its_end_with_a_warning(tmp_path):
    path = write(tmp_path, lottery(start="2025-12-20", end="2026-01-10"))
    with pytest.warns(ScenarioWarning) as caught:
        s = load_scenario(path)
    message = str(caught[0].message)
    assert "incentives.lotteries.0.end (2026-01-10)" in message and "dropped" not in message
    assert [lot.start for lot in s.incentives.lotteries] == [date(2025, 12, 20)]


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ("[banks.operators.ICBC]\nstaff_thousands = -5\n", "banks.operators.ICBC.staff_thousands"),
        (lottery(budget=-1), "incentives.lotteries.0.budget_yuan"),
        ("[banks]\ntarget_intensity = -1.0\n", "banks.target_intensity"),
        ("[banks.campaign]\n2021-06-06 = -250\n", "banks.campaign.2021-06-06"),
    ],
)
def test_negative_budget(tmp_path, body, key):
    path = write(tmp_path, body)
    assert_names(error_of(path), path, key, "at least 0")


@pytest.mark.parametrize(
    ("body", "key", "allowed"),
    [
        ("[pilot]\nwhitelist_share = 1.5\n", "pilot.whitelist_share", "at most 1"),
        (
            "[pilot]\nolympic_merchant_coverage = -0.1\n",
            "pilot.olympic_merchant_coverage",
            "at least 0",
        ),
        ("[pilot]\nclosed_merchant_coverage = 1.2\n", "pilot.closed_merchant_coverage", "at most 1"),
        ("[government]\npayroll_share = 2\n", "government.payroll_share", "at most 1"),
        (
            "[government]\npublic_service_acceptance = -1\n",
            "government.public_service_acceptance",
            "at least 0",
        ),
    ],
)
def test_share_outside_unit_interval(tmp_path, body, key, allowed):
    path = write(tmp_path, body)
    assert_names(error_of(path), path, key, allowed)


def test_extends_cycle(tmp_path):
    a = write(tmp_path, "", name="a.toml", extends="b.toml")
    b = write(tmp_path, "", name="b.toml", extends="a.toml")
    err = error_of(a)
    assert_names(err, b, "extends", "cycle", "a.toml", "b.toml")
    loop = write(tmp_path, "", name="self.toml", extends="self.toml")
    assert_names(error_of(loop), loop, "extends", "cycle")


def test_missing_file(tmp_path):
    missing = tmp_path / "nowhere.toml"
    err = error_of(missing)
    assert err.file == str(missing) and str(missing) in str(err)
    assert "no such scenario file" in err.allowed


def test_missing_extended_file(tmp_path):
    path = write(tmp_path, "", extends="nowhere.toml")
    err = error_of(path)
    assert_names(err, path, "extends", "no such scenario file")
    assert "nowhere.toml" in str(err.value)


def test_invalid_toml(tmp_path):
    path = write(tmp_path, "[run\nseed = 1\n")
    err = error_of(path)
    assert err.file == str(path) and str(path) in str(err)
    assert "not valid TOML" in err.allowed


def test_invalid_extended_toml_names_the_parent(tmp_path):
    parent = write(tmp_path, "name = 'unterminated\n", name="parent.toml", extends=None)
    child = write(tmp_path, "", name="child.toml", extends="parent.toml")
    err = error_of(child)
    assert err.file == str(parent)
    assert "not valid TOML" in err.allowed


def test_error_names_the_file_that_set_the_bad_value(tmp_path):
    parent = write(tmp_path, "[pilot]\nwhitelist_share = 7\n", name="parent.toml")
    child = write(tmp_path, "name = 'child'\n", name="child.toml", extends="parent.toml")
    assert_names(error_of(child), parent, "pilot.whitelist_share", "at most 1")
    # the child fixes it: the parent's value is replaced key by key
    fixed = write(tmp_path, "[pilot]\nwhitelist_share = 0.1\n", name="fixed.toml", extends="parent.toml")
    assert load_scenario(fixed).pilot.whitelist_share == 0.1


def test_override_errors_name_the_override():
    err = error_of(BASELINE, {"pilot.whitelist_share": 3.0})
    assert_names(err, "(override)", "pilot.whitelist_share", "at most 1")
    err = error_of(BASELINE, {"run.sede": 3})
    assert_names(err, "(override)", "run.sede", "unknown key", "seed")


def test_scenario_error_is_a_value_error_with_one_line():
    err = error_of(BASELINE, {"run.engine": "turbo"})
    assert isinstance(err, ValueError)
    assert "\n" not in str(err)
    assert err.value == "turbo"


# ---------------------------------------------------------------- merging and overrides


def test_extends_merges_tables_key_by_key():
    base = load_scenario(SCENARIOS / "baseline.toml")
    frozen = load_scenario(SCENARIOS / "no_expansion.toml")
    assert frozen.name == "no_expansion"
    # waves 1 and 2 come from the baseline, the rest from no_expansion.toml
    assert frozen.pilot.waves["1"] == base.pilot.waves["1"] == date(2020, 4, 1)
    assert frozen.pilot.waves["2"] == base.pilot.waves["2"] == date(2020, 11, 1)
    assert all(frozen.pilot.waves[w] == "never" for w in ("olympic", "3", "4"))
    assert frozen.pilot.olympic_full_pilot == "never"
    # tables no_expansion.toml does not mention are the baseline's
    assert frozen.pilot.whitelist_share == base.pilot.whitelist_share
    for part in ("run", "banks", "incentives", "government", "incumbents", "behaviour"):
        assert getattr(frozen, part) == getattr(base, part), part
    # nested tables merge too: open_competition changes joins, keeps each operator's reach
    open_ = load_scenario(SCENARIOS / "open_competition.toml")
    for bank, op in open_.banks.operators.items():
        assert op.joins == date(2020, 4, 1), bank  # BoCom and PSBC too (December 2020 in history)
        assert op.reach == base.banks.operators[bank].reach
    # and baseline.toml's behaviour comes from calibrated.toml, which it extends
    with open(SCENARIOS / "calibrated.toml", "rb") as handle:
        fitted = tomllib.load(handle)["behaviour"]
    assert fitted, "calibrated.toml sets no behaviour"
    for key, value in fitted.items():
        assert getattr(base.behaviour, key) == value, key


def test_arrays_replace_rather_than_merge():
    base = load_scenario(SCENARIOS / "baseline.toml")
    assert len(base.incentives.lotteries) > 0
    assert load_scenario(SCENARIOS / "no_incentives.toml").incentives.lotteries == []


def test_extends_resolves_relative_to_the_file(tmp_path):
    for name in ("baseline.toml", "calibrated.toml"):
        shutil.copy(SCENARIOS / name, tmp_path / name)
    path = write(tmp_path, "[run]\nseed = 99\n", name="mine.toml", extends="baseline.toml")
    s = load_scenario(path)
    assert s.run.seed == 99
    assert s.name == "mine"  # named after its own file: the parent's name is never inherited
    assert s.description == ""


def test_overrides():
    s = load_scenario(BASELINE, {"run.scale": 1e6, "banks.target_intensity": 2.0, "pilot.waves.3": "never"})
    assert s.run.scale == 1e6
    assert s.banks.target_intensity == 2.0
    assert s.pilot.waves["3"] == "never"
    assert s.pilot.waves["4"] == date(2022, 12, 16)  # the rest of the table is kept
    assert s.run.seed == load_scenario(BASELINE).run.seed
    # a value an override replaced is validated like one in a file
    with pytest.raises(ScenarioError):
        load_scenario(BASELINE, {"run.scale": -1.0})


def test_name_defaults_to_the_file_stem(tmp_path):
    path = tmp_path / "standalone.toml"
    text = (SCENARIOS / "baseline.toml").read_text(encoding="utf-8")
    text = text.replace('extends = "calibrated.toml"', "").replace('name = "baseline"', "")
    path.write_text(text, encoding="utf-8")
    assert load_scenario(path).name == "standalone"


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_scenario_loads(name):
    s = load_scenario(SCENARIOS / f"{name}.toml")
    assert isinstance(s, Scenario)
    assert s.name == name
    assert s.run.end > s.run.start
    assert set(s.banks.operators) <= set(bank_ids())
    assert {lot.region for lot in s.incentives.lotteries} <= set(region_names())
    assert s.dump()["run"]["start"] == s.run.start.isoformat()


def test_the_shipped_scenarios_are_the_documented_ones():
    assert {"baseline", "no_expansion", "single_operator", "open_competition", "no_incentives"} <= set(
        SHIPPED
    )
