"""Scenario sweeps: lever grids, what-if files or sample designs x replications, run on local processes or
a Dask cluster, streamed to Parquet, resumable, analysed with fan charts and paired differences.

```python
from model.sweep import load_sweep, run_sweep, load_results, summarize, plot_sweep

folder = run_sweep("scenarios/sweeps/smoke.toml", out="results", workers=2)   # results/smoke/
design, runs = load_results(folder, metrics=["personal_wallets_opened"], regions=["national"])
table = summarize(folder)      # per scenario: medians, 90% intervals, weeks to 10%/50%, paired differences
plot_sweep(folder)             # fan charts, paired differences, small multiples, summary.csv
```

Names are imported on first use, so a worker that only unpickles ``model.sweep.worker.execute_run`` does
not import matplotlib or the analysis code.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "BASELINE": "design",
    "Keep": "worker",
    "Point": "design",
    "Run": "design",
    "Sweep": "design",
    "SweepScenario": "design",
    "load_sweep": "design",
    "run_sweep": "execute",
    "table_sweep": "design",
    "load_results": "analysis",
    "paired_differences": "analysis",
    "quantile_bands": "analysis",
    "run_matrix": "analysis",
    "summarize": "analysis",
    "difference_chart": "fanplots",
    "fan_chart": "fanplots",
    "plot_sweep": "fanplots",
    "region_multiples": "fanplots",
}
__all__ = [
    "BASELINE",
    "Keep",
    "Point",
    "Run",
    "Sweep",
    "SweepScenario",
    "difference_chart",
    "fan_chart",
    "load_results",
    "load_sweep",
    "paired_differences",
    "plot_sweep",
    "quantile_bands",
    "region_multiples",
    "run_matrix",
    "run_sweep",
    "summarize",
    "table_sweep",
]

if TYPE_CHECKING:
    from .analysis import load_results, paired_differences, quantile_bands, run_matrix, summarize
    from .design import BASELINE, Point, Run, Sweep, SweepScenario, load_sweep, table_sweep
    from .execute import run_sweep
    from .fanplots import difference_chart, fan_chart, plot_sweep, region_multiples
    from .worker import Keep


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'model.sweep' has no attribute {name!r}")
    value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
