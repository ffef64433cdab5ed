"""The Solara app: Mesa's SolaraViz page with the levers in the sidebar and the e-CNY views.

Solara's server imports this module and renders ``Page`` once per browser session, so every session gets
its own ``PolicyModel`` (a module-level model would be stepped by every open tab at once). Page 0 holds the
live views, page 1 the comparison with the baseline.
"""

from __future__ import annotations

import solara
from mesa.visualization import SolaraViz, make_plot_component

from ..population import OUTLETS, SECTORS
from ..scenario import load_scenario
from . import views
from .compare_view import make_compare_views
from .figures import step_axis_as_dates
from .levers import lever_defaults, model_params
from .settings import from_env
from .sim import SECTOR_LABELS, PolicyModel

settings = from_env()
scenario = load_scenario(settings.scenario)
fixed = {"scenario_file": str(settings.scenario), "seed": settings.seed, "scale": settings.scale}
params = model_params(scenario, fixed)
steps = (scenario.run.end - scenario.run.start).days // scenario.run.step_days
sector_plot = make_plot_component(
    {SECTOR_LABELS[s]: f"C{k}" for k, s in enumerate(SECTORS[:OUTLETS])},
    post_process=step_axis_as_dates(scenario.run.start, scenario.run.step_days, steps),
    page=0,
)
components = [
    (views.Overview, 0),
    (views.RegionMap, 0),
    (views.BankShares, 0),
    sector_plot,
    (views.PolicyOutcomes, 0),
    (views.make_save_view(settings.save_folder, create=settings.save_dir is None), 0),
    *make_compare_views(settings.compare_seeds),
]
views.start_baseline(settings.scenario, settings.seed, settings.scale)


@solara.component
def Page():
    model = solara.use_memo(lambda: PolicyModel(**lever_defaults(scenario), **fixed), [])
    return SolaraViz(
        model,
        components=components,
        model_params=params,
        name=f"e-CNY adoption: {scenario.name}",
        play_interval=50,
        render_interval=13,  # a quarter per redraw: the whole run plays in ~23 redraws
    )
