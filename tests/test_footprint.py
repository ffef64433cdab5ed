"""Memory is estimated before anything is built: a run that cannot fit is refused with its estimate and
the smallest scale that fits (exit code 3), instead of building for minutes and being killed."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BASELINE

from model import EcnyModel, footprint, load_scenario
from model.cli import main
from model.errors import EnvironmentFault

GB = 1e9


@pytest.mark.parametrize("overrides", [{}, {"run.end": "2020-12-31"}, {"pilot.waves.4": "never"}])
def test_the_estimate_counts_the_agents_the_model_builds(overrides):
    scenario = load_scenario(BASELINE, {"run.scale": 2e5, **overrides})
    model = EcnyModel(scenario)
    citizens, merchants, steps = footprint.agent_totals(scenario)
    assert (citizens, merchants, steps) == (len(model.citizens), len(model.businesses), len(model.dates))
    expected = (
        footprint.BASE_BYTES
        + citizens * footprint.BYTES_PER_CITIZEN
        + merchants * footprint.BYTES_PER_MERCHANT
        + steps * footprint.BYTES_PER_STEP
    )
    assert footprint.estimate_bytes(scenario) == expected


def test_the_estimate_grows_as_the_scale_shrinks_and_the_horizon_lengthens():
    base = load_scenario(BASELINE)
    sizes = [footprint.estimate_bytes(base, scale) for scale in (1e5, 1e4, 1e3, 1e2, 1)]
    assert sizes == sorted(sizes) and sizes[-1] > 20 * GB  # scale 1: every resident an agent
    longer = load_scenario(BASELINE, {"run.end": "2030-12-31"})
    assert footprint.estimate_bytes(longer) > footprint.estimate_bytes(base)


def test_a_run_that_cannot_fit_is_refused_with_the_smallest_scale_that_fits(monkeypatch):
    monkeypatch.setattr(footprint, "available_bytes", lambda: int(8 * GB))
    scenario = load_scenario(BASELINE, {"run.scale": 1.0})
    with pytest.raises(EnvironmentFault) as info:
        footprint.check_fits(scenario)
    message = str(info.value)
    assert "run.scale = 1:" in message and "GB of memory" in message and "7.2 GB is available" in message
    smallest = float(message.rsplit("the smallest scale that fits is ", 1)[1])
    budget = 8 * GB * footprint.HEADROOM
    assert footprint.estimate_bytes(scenario, smallest) <= budget
    assert footprint.estimate_bytes(scenario, smallest * 0.9) > budget  # and it is the smallest, roughly
    assert footprint.check_fits(load_scenario(BASELINE, {"run.scale": smallest})) <= budget


def test_the_command_line_refuses_before_building(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(footprint, "available_bytes", lambda: int(8 * GB))
    monkeypatch.setattr("model.model.EcnyModel.__init__", lambda *a, **k: pytest.fail("the model was built"))
    assert main([str(BASELINE), "--scale", "1", "--out", str(tmp_path)]) == 3
    message = capsys.readouterr().err.strip()
    assert (
        message.startswith("error: --scale 1: baseline needs about") and "smallest scale that fits" in message
    )
    assert not any(tmp_path.iterdir())


def test_available_memory_is_read_from_the_system():
    available = footprint.available_bytes()
    assert 0 < available < 2**50 and np.isfinite(available)
