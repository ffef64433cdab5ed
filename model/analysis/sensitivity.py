"""Global sensitivity (``run.py sensitivity FILE``): Morris screening and Sobol indices through SALib.

The file (``model/analysis/spec.py`` for the shared keys) adds one table per method; each present runs:

```toml
[morris]                 # elementary effects: r trajectories of k + 1 points each
trajectories = 20
levels = 4
[sobol]                  # Saltelli's scheme, first- and total-order: N (k + 2) points
base_samples = 64        # N, a power of 2
bootstrap = 1000         # resamples for the 95% intervals
```

Each method's points are one sweep (``<folder>/morris``, ``<folder>/sobol``) on the sweep machinery:
every point runs on the same ``replications`` seeds (common random numbers), so two points differ by
their inputs, not by their luck, and the outcome of a point is its mean over those seeds. Inputs are
sampled in the unit cube and mapped to their scale (``Input.value``); Morris's mu* is therefore in outcome
units per full range of an input, comparable across inputs. Sobol's S1 is the share of the outcome's
variance due to an input alone, ST the share it takes part in (interactions included); SALib's intervals
are bootstrap half-widths at 95%. Convergence: the indices recomputed on the first n base samples
(a prefix of Saltelli's and of Morris's design is itself a design of that size), n = 8, 16, ... N.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..sweep import Keep, Point, table_sweep
from .folder import AnalysisFolder, Options
from .inputs import Input
from .outcomes import outcome_table
from .spec import Checker, Common, read_common, read_document

MIN_SOBOL = 8  # base samples: fewer leave SALib's bootstrap without pairs to resample
MIN_TRAJECTORIES = 4  # sigma and the bootstrap of mu* need several elementary effects per input
MAX_POINTS = 1_000_000
METHODS = ("morris", "sobol")


@dataclass(frozen=True)
class Method:
    name: str  # "morris" or "sobol"
    size: int  # trajectories or base samples
    levels: int  # Morris grid levels (sobol: 0)
    bootstrap: int
    seed: int


@dataclass(frozen=True)
class SensitivitySpec:
    common: Common
    methods: tuple[Method, ...]

    @property
    def problem(self) -> dict[str, Any]:
        names = [i.name for i in self.common.inputs]
        return {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}

    def runs(self, method: Method) -> int:
        k = len(self.common.inputs)
        points = method.size * (k + 1 if method.name == "morris" else k + 2)
        return (points + 1) * self.common.replications  # + the base scenario


def load_sensitivity(path: str | Path, changes: dict[str, Any] | None = None) -> SensitivitySpec:
    """Read and check a sensitivity file; raises ``ScenarioError`` (file, key, value, allowed)."""
    path, document = read_document(path, changes)
    common = read_common(path, document, METHODS)
    check = Checker(path)
    if not common.inputs:
        check.fail("inputs", document.get("inputs"), "one or more inputs to vary")
    methods = []
    for name in METHODS:
        if name not in document:
            continue
        table = check.keys(
            document[name], name, ("trajectories", "levels", "base_samples", "bootstrap", "seed")
        )
        seed = check.integer(f"{name}.seed", table.get("seed", common.root_seed), 0, 2**63 - 1)
        bootstrap = check.integer(f"{name}.bootstrap", table.get("bootstrap", 1000), 100, 100_000)
        if name == "morris":
            size = check.integer(
                "morris.trajectories", table.get("trajectories"), MIN_TRAJECTORIES, MAX_POINTS
            )
            levels = table.get("levels", 4)
            if isinstance(levels, bool) or not isinstance(levels, int) or levels < 2 or levels % 2:
                check.fail("morris.levels", levels, "an even whole number of grid levels, 2 or more (e.g. 4)")
            methods.append(Method(name, size, levels, bootstrap, seed))
        else:
            size = table.get("base_samples")
            ok = isinstance(size, int) and not isinstance(size, bool) and size >= MIN_SOBOL
            if not ok or size & (size - 1):
                check.fail(
                    "sobol.base_samples",
                    size,
                    f"a power of 2 of at least {MIN_SOBOL} (Saltelli's estimator "
                    "and its bootstrap need it), e.g. 64",
                )
            methods.append(Method(name, size, 0, bootstrap, seed))
    if not methods:
        check.fail("(top level)", sorted(document), "a [morris] or a [sobol] table (or both)")
    return SensitivitySpec(common, tuple(methods))


def unit_sample(spec: SensitivitySpec, method: Method) -> np.ndarray:
    """The method's points in the unit cube, one row per point (SALib's sampler, seeded)."""
    from SALib.sample import morris, sobol

    if method.name == "morris":
        return morris.sample(spec.problem, method.size, num_levels=method.levels, seed=method.seed)
    return sobol.sample(spec.problem, method.size, calc_second_order=False, scramble=True, seed=method.seed)


def point_overrides(inputs: tuple[Input, ...], row: np.ndarray) -> tuple[dict[str, Any], dict[str, Any]]:
    """(scenario overrides, design-table values) of one unit-cube point."""
    overrides, levers = {}, {}
    for item, u in zip(inputs, row, strict=True):
        value = item.value(float(u))
        overrides.update(item.overrides(value))
        levers[item.name] = value
    return overrides, levers


def method_sweep(spec: SensitivitySpec, method: Method, unit: np.ndarray):
    common = spec.common
    prefix = method.name[0]
    points = []
    for i, row in enumerate(unit):
        overrides, levers = point_overrides(common.inputs, row)
        points.append(Point(f"{prefix}{i:05d}", overrides, levers))
    return table_sweep(
        method.name,
        common.path,
        common.base,
        points,
        common.replications,
        common.root_seed,
        method=f"sensitivity:{method.name}",
        description=f"{common.name}: {method.name} design over {len(common.inputs)} inputs",
        overrides=common.overrides,
        keep=Keep(
            tuple(sorted({o.metric for o in common.outcomes})),
            tuple(sorted({o.region for o in common.outcomes})),
        ),
        document=common.document,
    )


def point_means(table: pd.DataFrame, count: int, prefix: str, labels: list[str]) -> np.ndarray:
    """[point, outcome]: each point's outcome averaged over its replications, in design order."""
    names = [f"{prefix}{i:05d}" for i in range(count)]
    means = table[table["scenario"].isin(names)].groupby("scenario")[labels].mean()
    return means.reindex(names).to_numpy(np.float64)


def analyse(
    spec: SensitivitySpec, method: Method, unit: np.ndarray, y: np.ndarray, size: int
) -> pd.DataFrame:
    """Indices of every outcome from the first ``size`` base samples / trajectories."""
    from SALib.analyze import morris, sobol

    k = len(spec.common.inputs)
    rows = (k + 1 if method.name == "morris" else k + 2) * size
    out = []
    for j, outcome in enumerate(spec.common.outcomes):
        values = y[:rows, j]
        if np.nanstd(values) == 0:  # the outcome does not move (SALib would divide by 0): every index is 0
            indices = ("mu_star", "mu", "sigma") if method.name == "morris" else ("S1", "ST")
            out += [(outcome.label, i.name, index, 0.0, 0.0) for index in indices for i in spec.common.inputs]
            continue
        if method.name == "morris":
            result = morris.analyze(
                spec.problem, unit[:rows], values, num_resamples=method.bootstrap,
                num_levels=method.levels, seed=method.seed,
            )  # fmt: skip
            table = result.to_df()
            for name, r in table.iterrows():
                out.append((outcome.label, name, "mu_star", r["mu_star"], r["mu_star_conf"]))
                out.append((outcome.label, name, "mu", r["mu"], np.nan))
                out.append((outcome.label, name, "sigma", r["sigma"], np.nan))
        else:
            result = sobol.analyze(
                spec.problem,
                values,
                calc_second_order=False,
                num_resamples=method.bootstrap,
                seed=method.seed,
            )
            for index in ("S1", "ST"):
                for name, v, conf in zip(
                    spec.problem["names"], result[index], result[f"{index}_conf"], strict=True
                ):
                    out.append((outcome.label, name, index, v, conf))
    frame = pd.DataFrame(out, columns=["outcome", "input", "index", "value", "conf"])
    frame.insert(0, "method", method.name)
    frame["low"] = frame["value"] - frame["conf"]
    frame["high"] = frame["value"] + frame["conf"]
    frame["samples"] = size
    return frame


def convergence_sizes(size: int, smallest: int) -> list[int]:
    """``smallest``, then powers of 2 up to ``size`` (and ``size`` itself): prefixes of the design."""
    sizes = [n for n in (2**e for e in range(1, 40)) if smallest < n < size]
    return sorted({smallest, *sizes, size})


def run_sensitivity(
    spec: SensitivitySpec | str | Path, out: str | Path = "results", options: Options | None = None
) -> Path:
    """Run every method's design, then write the indices, figures, ``analysis.json`` and ``report.html``."""
    from . import figures
    from .report import write_report

    options = options or Options()
    spec = spec if isinstance(spec, SensitivitySpec) else load_sensitivity(spec)
    common = spec.common
    folder = AnalysisFolder(out, common.name, "sensitivity")
    folder.prepare(options)
    labels = [o.label for o in common.outcomes]
    indices, convergence = [], []
    for method in spec.methods:
        unit = unit_sample(spec, method)
        sweep_folder = folder.run(method_sweep(spec, method, unit), options)
        y = point_means(outcome_table(sweep_folder, common.outcomes), len(unit), method.name[0], labels)
        indices.append(analyse(spec, method, unit, y, method.size))
        smallest = MIN_SOBOL if method.name == "sobol" else MIN_TRAJECTORIES
        for size in convergence_sizes(method.size, smallest):
            convergence.append(analyse(spec, method, unit, y, size))
    table = pd.concat(indices, ignore_index=True)
    folder.clear_outputs()
    folder.write_table(table, "indices")
    folder.write_table(pd.concat(convergence, ignore_index=True), "convergence")
    figures.sensitivity_figures(table, pd.concat(convergence, ignore_index=True), folder.path)
    folder.write_manifest(
        common.path,
        common.document,
        description=common.description,
        base=str(common.base),
        inputs=[input_facts(i) for i in common.inputs],
        outcomes=labels,
        methods={m.name: {"size": m.size, "runs": spec.runs(m)} for m in spec.methods},
        key_table="ranking",
    )
    folder.write_table(ranking(table), "ranking")
    write_report(folder.path)
    return folder.path


def ranking(indices: pd.DataFrame) -> pd.DataFrame:
    """Inputs ranked per outcome by Sobol ST (or Morris mu* when no Sobol ran), with intervals."""
    sobol = indices[(indices["method"] == "sobol") & (indices["index"] == "ST")]
    chosen = sobol if len(sobol) else indices[indices["index"] == "mu_star"]
    rows = chosen.sort_values(["outcome", "value"], ascending=[True, False]).copy()
    rows["rank"] = rows.groupby("outcome").cumcount() + 1
    return rows[["outcome", "rank", "input", "method", "index", "value", "low", "high"]].reset_index(
        drop=True
    )


def input_facts(item: Input) -> dict[str, Any]:
    return {"name": item.name, "keys": list(item.keys), "range": item.describe(), "reason": item.reason,
            "base": item.base_value}  # fmt: skip
