"""Mistakes a new user makes in scenario and sweep files, each met with one readable line and exit code 2
before anything is written (or, for what is only probably wrong, one warning line while the run goes on).

Every message is checked for what it must say and for what it must not: no Python reprs
(``datetime.date(``, ``{'``), no pydantic phrasing (``Input should``), no traceback, one line.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from conftest import BASELINE, SCENARIOS

from model import load_scenario
from model.cli import main
from model.errors import ScenarioError, ScenarioWarning
from model.sweep import load_sweep

SMALL = 'extends = "{base}"\nname = "{name}"\n[run]\nscale = 1e6\n'
PYTHON_WORDS = ("datetime.date(", "Input should", "{'", "Traceback", "float(")


def scenario(tmp_path: Path, body: str, name: str = "mine", extends: Path = BASELINE) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(f'extends = "{extends.as_posix()}"\n{body}', encoding="utf-8")
    return path


def refused(capsys, argv: list[str], out: Path) -> str:
    """Run the command line; it must exit 2, print one line and write nothing under ``out``."""
    code = main([*argv, "--out", str(out)])
    captured = capsys.readouterr()
    message = captured.err.strip()
    assert code == 2, (code, captured)
    assert message.startswith("error: ") and "\n" not in message, message
    assert not any(word in message for word in PYTHON_WORDS), message
    assert not out.exists() or not any(out.iterdir()), list(out.iterdir())
    return message


def test_an_empty_file_says_it_is_empty(tmp_path, capsys):
    path = tmp_path / "empty.toml"
    path.write_text("")
    message = refused(capsys, [str(path)], tmp_path / "out")
    assert f"{path}: empty file" in message and "[run]" in message and "run = " not in message


def test_a_fragment_says_it_is_a_fragment_and_how_it_is_used(capsys, tmp_path):
    fragment = SCENARIOS / "calibrated.toml"
    message = refused(capsys, [str(fragment)], tmp_path / "out")
    assert "not a whole scenario" in message and 'extends = "calibrated.toml"' in message
    assert len(message) < 400  # names the missing tables, does not print the document


def test_a_sweep_file_given_to_run_names_the_sweep_command(capsys, tmp_path):
    message = refused(capsys, [str(SCENARIOS / "sweeps" / "smoke.toml")], tmp_path / "out")
    assert "a sweep file" in message and "run.py sweep FILE" in message


def test_a_scenario_given_to_sweep_names_the_run_command(capsys, tmp_path):
    message = refused(capsys, ["sweep", str(BASELINE)], tmp_path / "out")
    assert "a scenario file" in message and "run.py FILE" in message


def test_a_byte_order_mark_is_named_as_such(tmp_path, capsys):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + f'extends = "{BASELINE.as_posix()}"\n'.encode())
    message = refused(capsys, [str(path)], tmp_path / "out")
    assert "byte-order mark (BOM)" in message and "Invalid statement" not in message


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
        ("name = 'Zürich'\n".encode("latin-1"), "UTF-8"),
    ],
    ids=["binary", "latin-1"],
)
def test_binary_and_non_utf8_files_get_one_line(tmp_path, capsys, data, words):
    path = tmp_path / "odd.toml"
    path.write_bytes(data)
    assert words in refused(capsys, [str(path)], tmp_path / "out")


def test_a_table_where_an_array_of_tables_is_needed_says_to_use_double_brackets(tmp_path, capsys):
    body = "[incentives.lotteries]\nregion = 'Shenzhen'\nstart = 2021-03-01\nend = 2021-03-07\n"
    message = refused(capsys, [str(scenario(tmp_path, body))], tmp_path / "out")
    assert "incentives.lotteries" in message and "[[...]]" in message
    assert "2021-03-01" in message and "datetime" not in message


@pytest.mark.parametrize("value", ['"Never"', '"soon"'])
def test_a_date_or_never_is_explained_in_plain_words(tmp_path, capsys, value):
    body = f'[pilot.waves]\n"3" = {value}\n'
    message = refused(capsys, [str(scenario(tmp_path, body))], tmp_path / "out")
    assert f"pilot.waves.3 = {value}" in message and 'a date such as 2021-03-01 or "never"' in message


def test_a_long_value_is_cut_in_the_message(tmp_path, capsys):
    body = "[population]\npoints_by_size = [" + ", ".join(["1.0"] * 200_000) + "]\n"
    message = refused(capsys, [str(scenario(tmp_path, body))], tmp_path / "out")
    assert "population.points_by_size" in message and "an array of 3 values" in message
    assert len(message) < 400


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ("[population]\npoints_by_size = [inf, 3, 20]\n", "population.points_by_size.0 = inf"),
        ("[banks]\ntarget_intensity = inf\n", "banks.target_intensity = inf"),
        ("[incentives]\nlottery_budget_multiplier = inf\n", "incentives.lottery_budget_multiplier = inf"),
        ("[population]\nage_shares = [nan, nan, nan]\n", "population.age_shares.0 = nan"),
        ("[behaviour]\ninnovation = nan\n", "behaviour.innovation = nan"),
    ],
)
def test_inf_and_nan_are_refused(tmp_path, capsys, body, key):
    message = refused(capsys, [str(scenario(tmp_path, body))], tmp_path / "out")
    assert key in message and "a finite number" in message


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("[population]\nage_shares = [0.5, 0.5, 0.5]\n", "summing to 1"),
        ("[population]\nsector_shares = [1.5, -0.5, 0.0, 0.0, 0.0, 0.0]\n", "each from 0 to 1"),
    ],
)
def test_shares_must_each_be_shares_and_sum_to_one(tmp_path, capsys, body, words):
    assert words in refused(capsys, [str(scenario(tmp_path, body))], tmp_path / "out")


def test_a_huge_finite_lever_is_refused_by_its_bound(tmp_path, capsys):
    body = "[banks]\ntarget_intensity = 1e300\n"
    assert "banks.target_intensity = 1e+300: at most 100" in refused(
        capsys, [str(scenario(tmp_path, body))], tmp_path / "out"
    )


def test_an_envelope_larger_than_its_budget_is_refused(tmp_path, capsys):
    body = (
        "[[incentives.lotteries]]\nregion = 'Shenzhen'\nstart = 2021-03-01\nend = 2021-03-07\n"
        "budget_yuan = 100\nenvelope_yuan = 200\n"
    )
    message = refused(capsys, [str(scenario(tmp_path, body))], tmp_path / "out")
    assert "incentives.lotteries.0.envelope_yuan = 200" in message and "budget_yuan (100)" in message


def test_operator_count_above_the_operators_of_the_scenario_is_refused(tmp_path, capsys):
    message = refused(capsys, [str(scenario(tmp_path, "[banks]\noperator_count = 20\n"))], tmp_path / "out")
    assert "banks.operator_count = 20: at most the 11 operators" in message


def test_operator_count_counts_only_operators_that_join(tmp_path):
    single = load_scenario(SCENARIOS / "single_operator.toml")
    joining = sum(op.joins != "never" for op in single.banks.operators.values())
    with pytest.raises(ScenarioError, match=f"at most the {joining} operators"):
        load_scenario(SCENARIOS / "single_operator.toml", {"banks.operator_count": joining + 1})


@pytest.mark.parametrize(
    ("scale", "words"),
    [("1e12", "at most 8,977,584, so that Guangdong (rest), the largest region"), ("1e-300", "at least 1")],
)
def test_a_scale_outside_what_the_regions_hold_is_refused(tmp_path, capsys, scale, words):
    message = refused(capsys, [str(BASELINE), "--scale", scale], tmp_path / "out")
    assert "run.scale" in message and words in message


def test_the_scale_limit_follows_the_regions_the_run_simulates():
    early = {"run.end": "2020-12-31"}  # waves 1 and 2 only: Shanghai (24.9 m residents) is the largest
    assert load_scenario(BASELINE, {**early, "run.scale": 2.4e6}).run.scale == 2.4e6
    with pytest.raises(ScenarioError, match="Shanghai"):
        load_scenario(BASELINE, {**early, "run.scale": 2.6e6})
    assert load_scenario(BASELINE, {"run.scale": 4e6}).run.scale == 4e6  # the whole baseline reaches wave 4
    with pytest.raises(ScenarioError, match=r"Guangdong \(rest\)"):
        load_scenario(BASELINE, {"run.scale": 9e6})


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [("run.end", "9999-12-31", "at most 2030-12-31"), ("run.start", "1999-01-01", "at least 2019-12-01")],
)
def test_run_dates_are_bounded_to_what_the_engine_holds(key, value, words):
    with pytest.raises(ScenarioError, match=words):
        load_scenario(BASELINE, {key: value})


def test_shortening_the_horizon_drops_outside_lotteries_with_one_warning(tmp_path, capsys):
    path = scenario(tmp_path, 'name = "short"\n[run]\nend = 2021-12-31\nscale = 1e6\n')
    assert main([str(path), "--out", str(tmp_path / "out"), "--quiet", "--no-plots"]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, warnings
    assert "incentives.lotteries.14 (Shenzhen, 2022-01-15 to 2022-02-15)" in warnings[0]
    assert "government.programmes.0 (Suzhou, 2022-01-01 to 2022-03-31)" in warnings[0]
    assert "government.programmes.4 (Suzhou, 2023-01-01 to 2025-12-31)" in warnings[0]
    assert "incentives.lotteries.13 " not in warnings[0]  # it starts and ends within the run
    assert "pilot.waves.3 (2022-04-02)" in warnings[0] and warnings[0].startswith(f"warning: {path}:")
    assert (tmp_path / "out" / "short" / "timeseries.parquet").is_file()


def test_a_wave_dated_after_the_end_is_warned_and_the_run_goes_on(tmp_path):
    with pytest.warns(ScenarioWarning, match=r"pilot\.waves\.4 \(2027-01-01\)"):
        s = load_scenario(BASELINE, {"pilot.waves.4": "2027-01-01"})
    assert s.pilot.waves["4"].year == 2027


def test_extends_chain_and_nesting_limits_give_one_line(tmp_path, capsys):
    previous = BASELINE
    for k in range(40):
        previous = scenario(tmp_path, "", name=f"link{k}", extends=previous)
    assert "at most 20 files in an extends chain" in refused(capsys, [str(previous)], tmp_path / "out")
    deep = tmp_path / "deep.toml"
    deep.write_text("x = " + "[" * 2000 + "]" * 2000 + "\n")
    assert "nested too deeply" in refused(capsys, [str(deep)], tmp_path / "out")
    shallow_enough = tmp_path / "deep2.toml"
    shallow_enough.write_text("x = " + "[" * 40 + "]" * 40 + "\n")
    assert "nested too deeply" in refused(capsys, [str(shallow_enough)], tmp_path / "out")


def test_extends_must_name_a_toml_file(tmp_path, capsys):
    path = tmp_path / "odd.toml"
    path.write_text('extends = "/etc/passwd"\n')
    message = refused(capsys, [str(path)], tmp_path / "out")
    assert "extends" in message and "root:" not in message


# ---------------------------------------------------------------- the same through sweeps and levers


def sweep_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "trial.toml"
    path.write_text(f'base = "{BASELINE.as_posix()}"\nreplications = 1\nroot_seed = 1\n{body}')
    return path


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ('[[vary]]\npath = "banks.target_intensity"\nvalues = [1.0, inf]\n', "a finite number"),
        (
            '[sample]\nmethod = "lhs"\nsize = 4\n[sample.bounds]\n"banks.target_intensity" = [0, inf]\n',
            "finite",
        ),
        ('[[vary]]\npath = "run.scale"\nvalues = [1e12]\n', "Guangdong (rest)"),
    ],
    ids=["vary-inf", "bounds-inf", "vary-scale"],
)
def test_sweep_values_are_checked_like_scenario_values(tmp_path, capsys, body, words):
    assert words in refused(capsys, ["sweep", str(sweep_file(tmp_path, body)), "--quiet"], tmp_path / "out")


def test_a_grid_too_large_to_validate_is_refused_before_it_is_expanded(tmp_path, capsys):
    levers = ("innovation", "word_of_mouth", "acceptance_pull", "campaign_pull", "habit_floor")
    levers += ("merchant_base", "dormancy_rate")
    values = [round(0.1 * k, 1) for k in range(1, 11)]
    grid = "".join(f'[[vary]]\npath = "behaviour.{name}"\nvalues = {values}\n' for name in levers)
    message = refused(capsys, ["sweep", str(sweep_file(tmp_path, grid)), "--quiet"], tmp_path / "out")
    assert "10,000,000 scenarios" in message and "at most 20,000" in message


def test_a_sample_too_large_is_refused(tmp_path, capsys):
    body = '[sample]\nmethod = "lhs"\nsize = 1000000\n[sample.bounds]\n"banks.target_intensity" = [0, 2]\n'
    message = refused(capsys, ["sweep", str(sweep_file(tmp_path, body)), "--quiet"], tmp_path / "out")
    assert "sample.size = 1000000" in message and "20000" in message


def test_validating_a_sweep_shows_progress(tmp_path, capsys):
    body = '[sample]\nmethod = "lhs"\nsize = 8\n[sample.bounds]\n"banks.target_intensity" = [0, 2]\n'
    load_sweep(sweep_file(tmp_path, body), progress=True)
    assert "checking trial" in capsys.readouterr().err


def test_dashboard_levers_are_checked_like_scenario_values():
    from model.dashboard import PolicyModel

    model = PolicyModel(target_intensity=math.inf, scale=1e6)
    assert model.error is not None and "a finite number" in model.error


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ('[pilot]\nprovince_start = { "Atlantis" = 2024-01-01 }\n', "pilot.province_start.Atlantis"),
        ("[wallets]\ninterest_rate = 0.08\n", "wallets.interest_rate = 0.08: at most 0.05"),
        ("[wallets]\ninterest_rate = -0.01\n", "wallets.interest_rate = -0.01: at least 0"),
        ("[run]\nend = 2031-01-01\n", "run.end = 2031-01-01: at most 2030-12-31"),
        ("[pilot]\nnationwide = 2031-06-01\n", "pilot.nationwide"),
        (
            "[banks.operators.CZB]\njoins = 2020-01-01\n",
            "banks.operators.CZB.joins = 2020-01-01: not before the pilot starts",
        ),
    ],
)
def test_beyond_the_pilot_mistakes_are_refused_before_anything_runs(tmp_path, capsys, body, words):
    """Issue 12: a province that does not exist, an interest rate outside 0-5%, a date past 2030, an
    operator joining before the pilot: one line naming the key and value, exit 2, nothing written."""
    message = refused(capsys, [str(scenario(tmp_path, body))], tmp_path / "out")
    assert words in message, message
