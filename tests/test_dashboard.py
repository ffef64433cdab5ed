"""The dashboard without a browser: levers, the Mesa model behind the page, its figures, the paired
comparison, the command line, and the Solara components rendered in-process (``solara.render``).

The browser itself is driven in ``test_dashboard_browser.py``.
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import ipywidgets
import numpy as np
import pytest
import solara
from conftest import BASELINE, SCENARIOS, SHIPPED, VECTOR_SCALE, scenario
from matplotlib.figure import Figure

from model.cli import main
from model.dashboard import compare, figures
from model.dashboard import levers as lv
from model.dashboard.settings import ENV, Settings, from_env
from model.dashboard.sim import PolicyModel, merchant_accepting, sector_acceptance

SCALE = VECTOR_SCALE  # ~3,000 citizen agents


def test_lever_defaults_are_the_scenario_values():
    s = scenario()
    defaults = lv.lever_defaults(s)
    assert set(defaults) == {lever.name for lever in lv.LEVERS}
    assert defaults["wave_3"] == s.pilot.waves["3"].isoformat()
    assert defaults["operator_count"] == lv.operator_total(s) == len(s.banks.operators)
    assert defaults["merchant_fee"] == s.incumbents.merchant_fee
    # the defaults as overrides leave the scenario unchanged (operator_count: "all 11" instead of unset)
    same = scenario(**{k.replace(".", "__"): x for k, x in lv.overrides(defaults, s).items()}).dump()
    same["banks"]["operator_count"] = None
    assert same == s.dump()


def test_overrides_map_levers_to_key_paths():
    out = lv.overrides({"target_intensity": 0.30000000000000004, "wave_4": "never", "operator_count": 3.0})
    assert out == {"banks.target_intensity": 0.3, "pilot.waves.4": "never", "banks.operator_count": 3}
    with pytest.raises(KeyError, match="unknown lever"):
        lv.overrides({"fee": 1})


def test_model_params_give_one_widget_per_lever():
    s = scenario()
    params = lv.model_params(s, {"scale": SCALE})
    assert params["scale"] == SCALE
    assert params["wave_3"]["type"] == "Select"
    assert params["wave_3"]["value"] in params["wave_3"]["values"]
    assert params["wave_3"]["values"][-1] == "never"
    assert params["operator_count"] == {
        "type": "SliderInt",
        "label": lv.BY_NAME["operator_count"].label,
        "value": 11,
        "min": 1,
        "max": 11,
        "step": 1,
    }
    assert params["merchant_fee"]["type"] == "SliderFloat"


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_scenario_opens_with_its_own_lever_values(name):
    s = scenario(name)
    params = lv.model_params(s, {})
    values = {lever: spec["value"] for lever, spec in params.items()}
    model = PolicyModel(**values, scenario_file=SCENARIOS / f"{name}.toml", scale=SCALE)
    assert model.error is None and model.changed_levers() == {}
    model.step()


def test_policy_model_applies_levers_and_steps_to_the_end():
    model = PolicyModel(target_intensity=2.0, payroll_share=0.3, scale=SCALE)
    assert model.error is None
    assert model.ecny.config.banks.target_intensity == 2.0
    assert model.changed_levers() == {"target_intensity": (1.0, 2.0), "payroll_share": (0.0, 0.3)}
    while model.running:
        model.step()
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == len(model.ecny.dates) == model.ecny.steps
    assert frame["active_users"].iloc[-1] > 0
    model.step()  # past the end: nothing happens
    assert model.ecny.steps == len(model.ecny.dates)


@pytest.mark.parametrize(
    ("lever", "value", "key"),
    [
        ("wave_3", "2020-07-01", "pilot.waves.3"),  # before wave 2
        ("interoperability_date", "soon", "incumbents.interoperability_date"),
        ("merchant_fee", 0.2, "incumbents.merchant_fee"),
    ],
)
def test_a_bad_lever_is_a_message_not_an_exception(lever, value, key):
    model = PolicyModel(**{lever: value}, scale=SCALE)
    assert model.ecny is None and not model.running
    assert key in model.error and lv.BY_NAME[lever].label in model.error
    model.step()  # a no-op, so the page's Step button cannot crash the server
    assert model.changed_levers() == {}


def test_sector_acceptance_adds_up_to_the_recorded_total():
    model = PolicyModel(scale=SCALE)
    for _ in range(150):
        model.step()
    ecny = model.ecny
    m = ecny.businesses
    weights = np.repeat(m.weight, np.diff(m.offsets))
    accepting = merchant_accepting(ecny)
    assert np.isclose((weights * accepting).sum(), ecny.records[-1]["merchants_accepting"].sum())
    shares = sector_acceptance(ecny)
    assert all(0 < share <= 1 for share in shares.values())
    everywhere = sector_acceptance(ecny, live_only=False)
    assert all(everywhere[s] <= shares[s] + 1e-12 for s in shares)


def test_figures_draw_before_and_after_steps():
    model = PolicyModel(scale=SCALE)
    baseline = {"date": np.array(model.ecny.dates, dtype="datetime64[D]")}
    baseline.update({m: np.linspace(0, 1e8, len(model.ecny.dates)) for m, _, _ in figures.CURVES})
    for _ in range(2):
        for fig in (
            figures.s_curve(model.ecny, baseline),
            figures.region_map(model.ecny),
            figures.bank_shares(model.ecny),
        ):
            assert isinstance(fig, Figure)
            fig.savefig(io.BytesIO(), format="png")
        for _ in range(60):
            model.step()
    fig = Figure()
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], label="x")
    figures.step_axis_as_dates(model.ecny.config.run.start, 7, 300)(ax)
    assert ax.get_xlim() == (0, 300)
    assert "2020-04" in ax.xaxis.get_major_formatter()(0, 0)


def test_paired_runs_cancel_noise_and_cache_the_baseline():
    base = scenario()
    variant = scenario(government__payroll_share=0.6)
    seen = []
    with ThreadPoolExecutor(2) as pool:
        same = compare.paired_runs(base, base, seeds=2, scale=SCALE, executor=pool)
        assert np.all(same.difference("active_users") == 0)  # identical pairs: exactly zero
        result = compare.paired_runs(
            base, variant, seeds=2, scale=SCALE, executor=pool, progress=lambda d, t: seen.append((d, t))
        )
    assert seen[0] == (0, 2) and seen[-1] == (2, 2)  # the base runs came from the cache
    assert result.base.shape == (2, len(result.dates), len(compare.METRICS))
    assert result.effect("active_users").shape == (2,)
    table = result.summary(year=2025)
    assert list(table.columns) == ["baseline", "lever", "difference", "min", "max", "std_error", "relative_%"]
    assert table.loc["active_users", "difference"] != 0
    assert np.isclose(table.loc["active_users", "difference"], result.effect(year=2025).mean())


@pytest.mark.slow
def test_paired_runs_in_spawned_processes():
    """The default executor: a spawned process pool, so the worker function must pickle and import."""
    result = compare.paired_runs(scenario(), scenario(banks__target_intensity=0.0), seeds=[7], scale=4e5)
    assert result.seeds == [7] and np.isfinite(result.variant).all()


def test_settings_travel_through_the_environment(tmp_path):
    settings = Settings(BASELINE, 2e4, 5, 2)
    env = settings.to_env()
    assert from_env(env) == Settings(BASELINE.resolve(), 2e4, 5, 2)
    assert from_env({}).seed is None and ENV["scale"] in env


def test_cli_refuses_bad_input_before_serving(tmp_path, capsys):
    assert main(["dashboard", str(tmp_path / "missing.toml")]) == 2
    assert "no such scenario file" in capsys.readouterr().err
    assert main(["dashboard", "--port", "70000"]) == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["dashboard", "--help"])
    assert exit_info.value.code == 0
    assert "--port" in capsys.readouterr().out


def _texts(widget) -> list[str]:
    """Every text a rendered widget tree shows (labels, children strings, HTML values)."""
    out = []
    stack = [widget]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            out.append(node)
            continue
        for attr in ("children", "label", "value", "description"):
            value = getattr(node, attr, None)
            if isinstance(value, str):
                out.append(value)
            elif isinstance(value, list | tuple):
                stack.extend(value)
    return out


def test_views_render_in_process():
    from model.dashboard import views
    from model.dashboard.compare_view import make_compare_views

    model = PolicyModel(scale=SCALE)
    model.step()
    for component in (views.Overview, views.RegionMap, views.BankShares, views.PolicyOutcomes):
        box, rc = solara.render(component(model), handle_error=False)
        assert len(rc.find(ipywidgets.Image).widgets) == 1  # the figure, as a PNG
        rc.close()
    box, rc = solara.render(views.Overview(model), handle_error=False)
    assert any("week 1 of" in t for t in _texts(box))
    rc.close()
    refused = PolicyModel(wave_4="2021-01-01", scale=SCALE)
    box, rc = solara.render(views.Overview(refused), handle_error=False)
    assert any("Lever refused" in t and "pilot.waves.4" in t for t in _texts(box))
    rc.close()
    for component, _page in make_compare_views(2):
        box, rc = solara.render(component(model), handle_error=False)
        rc.close()


def test_levers_of_the_2026_reforms_and_the_horizon():
    from model.scenario import Wallets

    outlook = scenario("outlook_2030")
    params = lv.model_params(outlook, {})
    assert params["new_operators"] == {
        "type": "Checkbox",
        "label": lv.BY_NAME["new_operators"].label,
        "value": True,
    }
    assert "new_operators" not in lv.model_params(scenario(), {})  # baseline: no 2026 operators to switch
    assert params["nationwide"]["values"] == ["never", *(f"{y}-01-01" for y in range(2021, 2031))]
    assert params["run_end"]["values"] == [f"{y}-12-31" for y in range(2025, 2031)]
    assert params["run_end"]["value"] == "2030-12-31"
    bounds = {type(m).__name__: m for m in Wallets.model_fields["interest_rate"].metadata}
    assert (params["interest_rate"]["min"], params["interest_rate"]["max"]) == (
        bounds["Ge"].ge,
        bounds["Le"].le,
    )
    assert "2026-01-01" in params["interest_start"]["values"]
    off = lv.overrides({"new_operators": False}, outlook)
    assert len(off) == 12 and set(off.values()) == {"never"}
    on = lv.overrides({"new_operators": True}, scenario("outlook_no_new_operators"))
    assert set(on.values()) == {"2026-04-02"}  # back to the published date


def test_switching_the_new_operators_off_is_the_shipped_what_if():
    model = PolicyModel(new_operators=False, scenario_file=SCENARIOS / "outlook_2030.toml", scale=SCALE)
    assert model.changed_levers() == {"new_operators": (True, False)}
    made = model.ecny.config.dump()
    shipped = scenario("outlook_no_new_operators").dump()
    for dump in (made, shipped):
        dump.pop("name"), dump.pop("description")
    assert made == shipped


def test_nationwide_and_run_end_levers_reach_the_model():
    model = PolicyModel(nationwide="2021-01-01", run_end="2026-12-31", interest_rate=0.01, scale=SCALE)
    assert model.error is None
    config = model.ecny.config
    assert str(config.pilot.nationwide) == "2021-01-01" and str(config.run.end) == "2026-12-31"
    assert config.wallets.interest_rate == 0.01
    assert model.ecny.dates[-1].year == 2026
    refused = PolicyModel(interest_rate=0.2, scale=SCALE)
    assert refused.ecny is None and "wallets.interest_rate" in refused.error


def test_policy_outcomes_are_the_tidy_tables_national_figures():
    from model.dashboard.outcomes import outcomes_html, policy_outcomes
    from model.metrics import tidy_timeseries

    model = PolicyModel(lottery_budget_multiplier=2.0, scale=SCALE)
    assert set(policy_outcomes(model.ecny).values()) == {0.0}  # before the first step
    for _ in range(120):
        model.step()
    outcomes = policy_outcomes(model.ecny)
    frame = tidy_timeseries(model.ecny)
    national = frame[(frame["region"] == "national") & (frame["date"] == frame["date"].max())]
    expected = national.set_index("metric")["value"]
    for metric, value in outcomes.items():
        assert np.isclose(value, expected[metric], rtol=1e-9), metric
    assert outcomes["fiscal_cost_cumulative"] > 0 and outcomes["ecny_share_of_retail"] > 0
    assert outcomes["citizens_with_wallet:urban"] + outcomes["citizens_with_wallet:rural"] == pytest.approx(
        national.set_index("metric")["value"]["citizens_with_wallet"]
    )
    assert "fiscal cost" in outcomes_html(outcomes, model.ecny.week_end)
    fig = figures.group_reach(outcomes, model.ecny.week_end)
    fig.savefig(io.BytesIO(), format="png")


def test_cost_per_additional_wallet_and_user_in_the_comparison():
    from model.dashboard.compare_view import summary_html

    base = scenario()
    with ThreadPoolExecutor(2) as pool:
        same = compare.paired_runs(base, base, seeds=2, scale=SCALE, executor=pool)
        doubled = compare.paired_runs(
            base, scenario(incentives__lottery_budget_multiplier=2.0), seeds=2, scale=SCALE, executor=pool
        )
    assert same.cost_per("app_wallets_opened") is None  # no incentive differs: no cost to divide
    k = compare.METRICS.index
    cost = (
        doubled.variant[:, -1, k("fiscal_cost_cumulative")] - doubled.base[:, -1, k("fiscal_cost_cumulative")]
    ).mean()
    wallets = (
        doubled.variant[:, -1, k("app_wallets_opened")] - doubled.base[:, -1, k("app_wallets_opened")]
    ).mean()
    assert cost > 0
    assert doubled.cost_per("app_wallets_opened") == pytest.approx(cost / wallets)
    assert doubled.cost_per("active_users") == pytest.approx(cost / doubled.effect("active_users").mean())
    assert "fiscal cost per additional app wallet" in summary_html(doubled)
    assert "does not differ" in summary_html(same)


def test_the_map_shows_every_province_and_the_nationwide_go_live():
    from model import domain

    model = PolicyModel(nationwide="2021-01-01", scale=4e5)
    while model.ecny.week_end.year < 2021:
        model.step()
    model.step()
    fig = figures.region_map(model.ecny)
    ax = fig.axes[0]
    provinces = set(domain.regions()["province"])
    assert len(provinces) == 31  # every mainland province has a region on the map
    plotted = sum(len(c.get_offsets()) for c in ax.collections)
    assert plotted == len(domain.regions())
    live = np.array([g.live for g in model.ecny.governments])
    assert live.all()  # nationwide: every region, inside the pilot or not
    assert f"{live.sum()} live, {(~model.ecny.pilot_regions).sum()} of them outside" in ax.get_title()
    before = figures.region_map(PolicyModel(scale=4e5).ecny).axes[0]
    assert "0 of them outside" in before.get_title()
    assert any("outside the pilot, not live" in t.get_text() for t in before.get_legend().get_texts())
