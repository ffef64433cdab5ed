"""Sweep files and designs: what runs, with which seeds, and one clear error (exit code 2) for bad input."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from conftest import BASELINE, SCENARIOS

from model import ScenarioError, load_scenario
from model.cli import main
from model.streams import replication_seeds
from model.sweep import BASELINE as BASELINE_NAME
from model.sweep import load_sweep

SWEEPS = SCENARIOS / "sweeps"
HEAD = f'base = "{BASELINE.as_posix()}"\nreplications = 3\nroot_seed = 11\n'


def write(tmp_path: Path, body: str, head: str = HEAD, name: str = "trial.toml") -> Path:
    path = tmp_path / name
    path.write_text(head + body, encoding="utf-8")
    return path


def error_of(path: Path) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_sweep(path)
    return info.value


def resolved(name: str, overrides: dict | None = None, source: Path = BASELINE) -> dict:
    dump = load_scenario(source, overrides).dump()
    return {k: v for k, v in dump.items() if k not in ("name", "description")}


def content(scenario) -> dict:
    return {k: v for k, v in scenario.resolved.items() if k not in ("name", "description")}


# ---------------------------------------------------------------- designs


@pytest.mark.parametrize("path", sorted(SWEEPS.glob("*.toml")), ids=lambda p: p.stem)
def test_shipped_sweeps_load_and_pair_their_seeds(path):
    sweep = load_sweep(path)
    assert sweep.scenarios[0].name == BASELINE_NAME
    assert sweep.seeds == tuple(replication_seeds(sweep.spec.root_seed, sweep.spec.replications))
    design = sweep.design()
    assert len(design) == sweep.size == len(sweep.scenarios) * sweep.spec.replications
    assert design["run_id"].is_unique
    # paired: every scenario of one replication has that replication's seed
    per_replication = design.groupby("replication")["seed"].nunique()
    assert (per_replication == 1).all()
    assert list(design.groupby("replication")["seed"].first()) == list(sweep.seeds)
    # no two scenarios of a design are the same scenario
    keys = [s.key for s in sweep.scenarios]
    assert len(set(keys)) == len(keys)


def test_grid_is_the_product_of_dimensions_plus_the_baseline(tmp_path):
    path = write(
        tmp_path,
        '[[vary]]\npath = "banks.operator_count"\nvalues = [1, 3]\n'
        '[[vary]]\npath = "banks.target_intensity"\nvalues = [0.5, 2.0, 3.0]\n',
    )
    sweep = load_sweep(path)
    assert len(sweep.scenarios) == 1 + 2 * 3
    assert content(sweep.scenarios[0]) == resolved("baseline")
    grid = {
        (s.levers["banks.operator_count"], s.levers["banks.target_intensity"]) for s in sweep.scenarios[1:]
    }
    assert grid == {(a, b) for a in (1, 3) for b in (0.5, 2.0, 3.0)}
    for s in sweep.scenarios[1:]:
        assert s.resolved["banks"]["operator_count"] == s.levers["banks.operator_count"]
        assert s.resolved["banks"]["target_intensity"] == s.levers["banks.target_intensity"]
    # the runs go replication by replication, so a partial sweep holds complete pairs
    replications = [run.replication for run in sweep.runs()]
    assert replications == sorted(replications)


def test_a_value_equal_to_the_base_runs_once_as_the_baseline(tmp_path):
    sweep = load_sweep(
        write(tmp_path, '[[vary]]\npath = "banks.target_intensity"\nvalues = [0.5, 1.0, 2.0]\n')
    )
    assert [s.name for s in sweep.scenarios] == ["baseline", "target_intensity=0.5", "target_intensity=2"]
    assert sweep.aliases == {"target_intensity=1": "baseline"}
    assert sweep.scenarios[0].levers == {"banks.target_intensity": 1.0}


def test_options_move_several_levers_together(tmp_path):
    sweep = load_sweep(SWEEPS / "pilot_expansion.toml")
    by_name = {s.name: s for s in sweep.scenarios}
    earlier = by_name["waves_3_4=earlier"].resolved["pilot"]["waves"]
    assert (earlier["3"], earlier["4"]) == ("2021-04-02", "2021-12-16")
    never = by_name["waves_3_4=never"].resolved["pilot"]["waves"]
    assert (never["3"], never["4"]) == ("never", "never")
    base_waves = load_scenario(BASELINE).dump()["pilot"]["waves"]
    for scenario in sweep.scenarios:  # the other waves are untouched: overrides merge key by key
        waves = scenario.resolved["pilot"]["waves"]
        assert {k: waves[k] for k in ("1", "2", "olympic")} == {
            k: base_waves[k] for k in ("1", "2", "olympic")
        }
    assert sweep.aliases == {"waves_3_4=history": "baseline"}
    assert sweep.scenarios[0].levers == {"waves_3_4": "history"}


def test_common_overrides_apply_to_every_scenario_the_baseline_included():
    sweep = load_sweep(SWEEPS / "smoke.toml")
    for scenario in sweep.scenarios:
        assert scenario.resolved["run"]["scale"] == 1e6
        assert scenario.resolved["run"]["end"] == "2021-12-31"
        assert scenario.resolved["incentives"]["lotteries"] == []


def test_what_if_files_are_compared_with_the_base(tmp_path):
    body = 'scenarios = ["{0}/no_expansion.toml", "{0}/single_operator.toml"]\n'.format(SCENARIOS.as_posix())
    sweep = load_sweep(write(tmp_path, body + '[overrides]\n"run.scale" = 1e6\n'))
    assert [s.name for s in sweep.scenarios] == ["baseline", "no_expansion", "single_operator"]
    for scenario in sweep.scenarios[1:]:
        source = SCENARIOS / f"{scenario.name}.toml"
        assert content(scenario) == resolved(scenario.name, {"run.scale": 1e6}, source)
        assert scenario.levers == {"scenario_file": source.name}


@pytest.mark.parametrize("method", ["lhs", "sobol"])
def test_sample_designs_stay_in_bounds_and_are_reproducible(tmp_path, method):
    body = (
        f'[sample]\nmethod = "{method}"\nsize = 16\nintegers = ["banks.operator_count"]\n'
        '[sample.bounds]\n"banks.target_intensity" = [0.25, 4.0]\n"banks.operator_count" = [1, 8]\n'
    )
    sweep = load_sweep(write(tmp_path, body))
    points = sweep.scenarios[1:]
    assert len(points) == 16
    intensity = np.array([p.levers["banks.target_intensity"] for p in points])
    counts = [p.levers["banks.operator_count"] for p in points]
    assert ((intensity >= 0.25) & (intensity <= 4.0)).all()
    assert all(isinstance(c, int) and 1 <= c <= 8 for c in counts)
    assert [p.resolved["banks"]["target_intensity"] for p in points] == list(intensity)
    if method == "lhs":  # one point in each of the 16 equal strata of every dimension
        strata = np.floor((intensity - 0.25) / (4.0 - 0.25) * 16).astype(int)
        assert sorted(strata) == list(range(16))
    again = load_sweep(write(tmp_path, body, name="again.toml"))
    assert [p.levers for p in again.scenarios[1:]] == [p.levers for p in points]
    other = load_sweep(write(tmp_path, body.replace("size = 16", "size = 16\nseed = 99"), name="other.toml"))
    assert [p.levers for p in other.scenarios[1:]] != [p.levers for p in points]


def test_design_table_types_and_overrides(tmp_path):
    sweep = load_sweep(SWEEPS / "bank_competition.toml")
    design = sweep.design()
    assert str(design["banks.operator_count"].dtype) == "Int64"
    assert design["banks.target_intensity"].dtype == np.float64
    assert design.loc[design["scenario"] == "baseline", "banks.operator_count"].isna().all()
    assert set(design["scenario"]) == {s.name for s in sweep.scenarios}


# ---------------------------------------------------------------- bad input: file, key path, value, allowed


SCALE = '[[vary]]\npath = "run.scale"\n'
SAMPLE = '[sample]\nmethod = "{}"\nsize = {}\n[sample.bounds]\n"run.scale" = {}\n'
BAD = [
    ('[[vary]]\npath = "banks.target_intensty"\nvalues = [2.0]\n', "vary[0].values[0]: banks", "unknown key"),
    ('[[vary]]\npath = "banks.target_intensity"\nvalues = [0.5, -1]\n', "vary[0].values[1]", "at least 0"),
    ('[[vary]]\npath = "banks.operator_count"\nvalues = []\n', "vary[0].values", "non-empty"),
    (SCALE + 'values = [1e6, 2e6]\nlabels = ["a"]\n', "vary[0].labels", "2 strings"),
    ('[[vary]]\nname = "w"\n[vary.options]\na = 3\n', "vary[0].options.a", "a table"),
    (SCALE + "values = [1e6]\n" + SCALE + "values = [2e6]\n", "vary[1]", "not already"),
    ("[[vary]]\nvalue = 3\n", "vary[0].value", "unknown key"),
    ('scenarios = ["missing.toml"]\n', "scenarios[0]", "existing scenario file"),
    (SAMPLE.format("sobol", 10, "[1e5, 1e6]"), "sample.size", "power of 2"),
    (SAMPLE.format("lhs", 4, "[1e6, 1e5]"), "sample.bounds.run.scale", "low < high"),
    (SAMPLE.format("grid", 4, "[1e5, 1e6]"), "sample.method", "lhs"),
    ('colour = "red"\n', "colour", "unknown key"),
    ("scenarios = []\n" + SCALE + "values = [1e6]\n", "scenarios", "only one of"),
]


@pytest.mark.parametrize(("body", "key", "allowed"), BAD, ids=[b[1] for b in BAD])
def test_bad_sweep_files_name_file_key_and_what_is_allowed(tmp_path, body, key, allowed):
    path = write(tmp_path, body)
    err = error_of(path)
    assert err.file == str(path)
    assert err.key.startswith(key), err.key
    assert allowed.lower() in err.allowed.lower(), err.allowed
    assert str(path) in str(err) and err.key in str(err)


@pytest.mark.parametrize(
    ("head", "key"),
    [
        (f'base = "{BASELINE.as_posix()}"\nreplications = 0\nroot_seed = 1\n', "replications"),
        (f'base = "{BASELINE.as_posix()}"\nreplications = 2\nroot_seed = -1\n', "root_seed"),
        ('base = "nowhere.toml"\nreplications = 2\nroot_seed = 1\n', "base"),
        (f'base = "{BASELINE.as_posix()}"\nroot_seed = 1\n', "replications"),
        (f'name = "a b"\nbase = "{BASELINE.as_posix()}"\nreplications = 2\nroot_seed = 1\n', "name"),
    ],
)
def test_bad_top_level_values(tmp_path, head, key):
    err = error_of(write(tmp_path, "", head=head))
    assert err.key == key


def test_lever_path_errors_stop_the_command_line_with_exit_code_2(tmp_path, capsys):
    path = write(tmp_path, '[[vary]]\npath = "banks.nonsense"\nvalues = [1]\n')
    out = tmp_path / "results"
    assert main(["sweep", str(path), "--out", str(out), "--quiet"]) == 2
    message = capsys.readouterr().err
    assert str(path) in message and "banks.nonsense" in message and "unknown key" in message
    assert not out.exists()  # nothing is written before the whole design is valid


def test_missing_sweep_file_is_exit_code_2(tmp_path, capsys):
    assert main(["sweep", str(tmp_path / "none.toml")]) == 2
    assert "no such sweep file" in capsys.readouterr().err


def test_integer_sample_values_cover_the_range(tmp_path):
    body = '[sample]\nmethod = "lhs"\nsize = 64\nintegers = ["banks.operator_count"]\n'
    body += '[sample.bounds]\n"banks.operator_count" = [1, 4]\n'
    counts = [s.levers["banks.operator_count"] for s in load_sweep(write(tmp_path, body)).scenarios[1:]]
    # an LHS of 64 over 4 whole numbers puts 16 points on each (no point lost at the upper bound)
    assert {c: counts.count(c) for c in set(counts)} == {1: 16, 2: 16, 3: 16, 4: 16}
    assert math.isclose(np.mean(counts), 2.5)
