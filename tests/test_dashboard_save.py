"""Saving the dashboard's levers as a scenario file: it extends the start file, states only what changed,
reads back as the dashboard's scenario, runs with ``run.py``, and never replaces a file."""

from __future__ import annotations

import tomllib

import pytest
from conftest import BASELINE, SCENARIOS, VECTOR_SCALE

from model.cli import main
from model.dashboard.save import save_scenario
from model.dashboard.settings import Settings
from model.dashboard.sim import PolicyModel
from model.errors import InputError
from model.scenario import ScenarioError, load_scenario


def _without_names(dump: dict) -> dict:
    return {k: v for k, v in dump.items() if k not in ("name", "description")}


def test_saved_levers_load_as_the_dashboards_scenario_and_run(tmp_path):
    start = SCENARIOS / "outlook_2030.toml"
    model = PolicyModel(
        nationwide="2027-01-01",
        interest_rate=0.002,
        new_operators=False,
        run_end="2027-12-31",
        scenario_file=start,
        scale=VECTOR_SCALE,
    )
    assert model.error is None
    saved = save_scenario(start, model.overrides(), "my_what-if", tmp_path, scale=VECTOR_SCALE)
    assert saved == tmp_path / "my_what-if.toml"
    document = tomllib.loads(saved.read_text())
    assert not document["extends"].startswith("/")  # relative to the saved file's folder
    assert (saved.parent / document["extends"]).resolve() == start.resolve()
    assert document["name"] == "my_what-if"
    assert set(document) == {"extends", "name", "description", "pilot", "wallets", "banks", "run"}
    assert document["wallets"] == {"interest_rate": 0.002}  # interest_start unchanged: not restated
    assert len(document["banks"]["operators"]) == 12
    loaded = load_scenario(saved)
    assert loaded.name == "my_what-if"
    assert _without_names(loaded.dump()) == _without_names(model.ecny.config.dump())
    out = tmp_path / "results"
    args = [str(saved), "--scale", "1e6", "--out", str(out), "--no-plots", "--quiet"]
    assert main(args) == 0
    assert (out / "my_what-if").is_dir()


def test_a_save_never_replaces_a_file_and_checks_the_name(tmp_path):
    start = SCENARIOS / "baseline.toml"
    overrides = PolicyModel(nationwide="2023-01-01", scale=VECTOR_SCALE).overrides()
    assert overrides == {"pilot.nationwide": "2023-01-01"}
    first = save_scenario(start, overrides, "mine", tmp_path)
    before = first.read_bytes()
    with pytest.raises(InputError, match="exists: nothing was written"):
        save_scenario(start, {"pilot.nationwide": "2025-01-01"}, "mine", tmp_path)
    assert first.read_bytes() == before
    for bad in ("../escape", "", ".hidden", "a/b"):
        with pytest.raises(InputError, match="scenario name"):
            save_scenario(start, overrides, bad, tmp_path)
    with pytest.raises(InputError, match="no such folder"):
        save_scenario(start, overrides, "mine2", tmp_path / "missing")
    with pytest.raises(ScenarioError, match="wallets.interest_rate"):  # what run.py would refuse
        save_scenario(start, {"wallets.interest_rate": 0.2}, "too_high", tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.toml"]  # no temporary left behind
    assert tomllib.loads(first.read_text())["pilot"] == {"nationwide": load_scenario(first).pilot.nationwide}


def test_the_save_button_writes_the_file_and_refuses_a_second_time(tmp_path):
    import ipyvuetify as v
    import solara

    from model.dashboard import views

    model = PolicyModel(nationwide="2024-01-01", scale=VECTOR_SCALE)
    box, rc = solara.render(views.make_save_view(tmp_path)(model), handle_error=False)
    rc.find(v.TextField).widget.v_model = "from_button"
    rc.find(v.Btn, children=["Save scenario"]).widget.click()
    rc.find(
        v.Alert,
        children=[
            f"Saved {tmp_path / 'from_button.toml'}: run it with python run.py "
            f"{tmp_path / 'from_button.toml'}"
        ],
    ).assert_single()
    assert str(load_scenario(tmp_path / "from_button.toml").pilot.nationwide) == "2024-01-01"
    rc.find(v.Btn, children=["Save scenario"]).widget.click()
    assert "exists: nothing was written" in rc.find(v.Alert).widget.children[0]
    rc.close()


def test_the_dashboard_command_checks_the_save_folder(tmp_path, capsys):
    assert main(["dashboard", "--save-dir", str(tmp_path / "nope")]) == 2
    assert "--save-dir" in capsys.readouterr().err


def test_the_default_save_folder_is_made_beside_the_start_file_and_the_file_runs(tmp_path):
    start = tmp_path / "baseline.toml"
    start.write_text(f'extends = "{BASELINE.as_posix()}"\nname = "baseline"\n', encoding="utf-8")
    folder = Settings(scenario=start).save_folder
    assert folder == tmp_path / "saved" and not folder.exists()
    saved = save_scenario(start, {"pilot.nationwide": "2025-01-01"}, "mine", folder, create=True)
    assert saved.parent == folder and 'extends = "../baseline.toml"' in saved.read_text(encoding="utf-8")
    assert str(load_scenario(saved).pilot.nationwide) == "2025-01-01"
