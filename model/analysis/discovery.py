"""Scenario discovery (``run.py discover FILE``): which combinations of levers reach a goal.

```toml
goal = "citizens_with_wallet at 2025-12-31 >= 6e8"   # OUTCOME (>=, >, <=, <) NUMBER
inputs = "levers.toml"                               # the levers to search, with their ranges
[sample]
method = "lhs"                                       # or "sobol"
size = 256
[prim]                                               # EMA Workbench's PRIM
threshold = 0.8                                      # least density of the box
peel_alpha = 0.05                                    # share of points peeled per step
mass_min = 0.05                                      # least share of the sample inside the box
[cart]                                               # scikit-learn's decision tree, a second view
max_depth = 3
```

The sample (Latin hypercube or scrambled Sobol over the inputs' unit cube, seeded) is one sweep on the
sweep machinery (``<folder>/sample``), every point on the same paired seeds; a point meets the goal when
its outcome, averaged over those seeds, does. PRIM peels the input space towards the points that meet the
goal and returns boxes along its peeling trajectory: *coverage* is the share of the goal-meeting points
inside the box, *density* the share of the box's points that meet it, *mass* the share of the sample in
it. The box shown is the one with the highest coverage whose density reaches ``threshold`` (else the
densest). CART splits the same points into leaves, each a rule with its share meeting the goal.
"""

from __future__ import annotations

import math
import operator
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..sweep import Keep, Point, table_sweep
from .folder import AnalysisFolder, Options
from .outcomes import OUTCOME, Outcome, parse_outcome
from .sensitivity import input_facts, point_means, point_overrides
from .spec import Checker, Common, read_common, read_document

OPERATORS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}
GOAL = re.compile(r"^(?P<outcome>.+?)\s*(?P<op>>=|<=|>|<)\s*(?P<value>[-+0-9.eE_]+)\s*$")
MIN_BOX_POINTS = 5  # a box must hold this many sample points (mass_min x size) for a density to mean anything
SAMPLES = ("lhs", "sobol")


@dataclass(frozen=True)
class Goal:
    outcome: Outcome
    op: str
    value: float

    @property
    def label(self) -> str:
        return f"{self.outcome.label} {self.op} {self.value:g}"

    def met(self, values: np.ndarray) -> np.ndarray:
        return OPERATORS[self.op](values, self.value)


@dataclass(frozen=True)
class DiscoverySpec:
    common: Common
    goal: Goal
    method: str
    size: int
    seed: int
    threshold: float
    peel_alpha: float
    mass_min: float
    max_depth: int
    min_samples_leaf: int

    @property
    def runs(self) -> int:
        return (self.size + 1) * self.common.replications


def parse_goal(check: Checker, text: Any, common: Common) -> Goal:
    match = GOAL.match(text) if isinstance(text, str) else None
    if not match or not OUTCOME.match(match["outcome"]):
        check.fail("goal", text, '"METRIC [in REGION] at YYYY-MM-DD >= NUMBER" (or >, <=, <)')
    try:
        value = float(match["value"].replace("_", ""))
    except ValueError:
        check.fail("goal", text, "a number after the comparison, e.g. 6e8")
    return Goal(parse_outcome(check, "goal", match["outcome"], common.probe), match["op"], value)


def load_discovery(path: str | Path, changes: dict[str, Any] | None = None) -> DiscoverySpec:
    """Read and check a discovery file; raises ``ScenarioError`` (file, key, value, allowed)."""
    path, document = read_document(path, changes)
    common = read_common(path, document, ("goal", "sample", "prim", "cart"), outcomes_required=False)
    check = Checker(path)
    if not common.inputs:
        check.fail(
            "inputs", document.get("inputs"), "the levers to search, or an analysis file that has them"
        )
    if "goal" not in document:
        check.fail("goal", "(missing)", "required key is missing")
    goal = parse_goal(check, document["goal"], common)
    sample = check.keys(document.get("sample", {}), "sample", ("method", "size", "seed"))
    method = sample.get("method", "lhs")
    if method not in SAMPLES:
        check.fail("sample.method", method, f"one of {SAMPLES}")
    prim = check.keys(document.get("prim", {}), "prim", ("threshold", "peel_alpha", "mass_min"))
    threshold = check.number("prim.threshold", prim.get("threshold", 0.8), 0.0, 1.0)
    peel_alpha = check.number("prim.peel_alpha", prim.get("peel_alpha", 0.05), 0.01, 0.5)
    mass_min = check.number("prim.mass_min", prim.get("mass_min", 0.05), 0.001, 0.5)
    least = math.ceil(MIN_BOX_POINTS / mass_min)
    size = sample.get("size")
    if isinstance(size, bool) or not isinstance(size, int) or size < least:
        check.fail(
            "sample.size", size, f"a whole number of at least {least}: PRIM's smallest box (prim.mass_min = "
            f"{mass_min:g} of the sample) must hold {MIN_BOX_POINTS} points"
        )  # fmt: skip
    if method == "sobol" and size & (size - 1):
        check.fail("sample.size", size, "a power of 2 for sobol (e.g. 256): its balance needs it")
    cart = check.keys(document.get("cart", {}), "cart", ("max_depth", "min_samples_leaf"))
    leaf = cart.get("min_samples_leaf", max(MIN_BOX_POINTS, math.ceil(mass_min * size)))
    return DiscoverySpec(
        common=common,
        goal=goal,
        method=method,
        size=size,
        seed=check.integer("sample.seed", sample.get("seed", common.root_seed), 0, 2**63 - 1),
        threshold=threshold,
        peel_alpha=peel_alpha,
        mass_min=mass_min,
        max_depth=check.integer("cart.max_depth", cart.get("max_depth", 3), 1, 10),
        min_samples_leaf=check.integer("cart.min_samples_leaf", leaf, 1, size // 2),
    )


def unit_sample(spec: DiscoverySpec) -> np.ndarray:
    from scipy.stats import qmc

    rng = np.random.default_rng(spec.seed)
    k = len(spec.common.inputs)
    if spec.method == "sobol":
        return qmc.Sobol(k, scramble=True, rng=rng).random_base2(int(math.log2(spec.size)))
    return qmc.LatinHypercube(k, rng=rng).random(spec.size)


def sample_frame(spec: DiscoverySpec, unit: np.ndarray) -> tuple[list[Point], pd.DataFrame]:
    points, rows = [], []
    for i, row in enumerate(unit):
        overrides, levers = point_overrides(spec.common.inputs, row)
        points.append(Point(f"d{i:05d}", overrides, levers))
        rows.append(levers)
    return points, pd.DataFrame(rows)


def prim_box(x: pd.DataFrame, met: np.ndarray, spec: DiscoverySpec):
    """EMA Workbench's PRIM on the sample; returns (the Prim box object, the index of the chosen box)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # EMA warns at import about optional parallel back ends
        from ema_workbench.analysis import prim

        # as floats: EMA's integer-column path writes float limits into int columns, which pandas 3 refuses
        finder = prim.Prim(
            x.astype(np.float64),
            met,
            threshold=spec.threshold,
            peel_alpha=spec.peel_alpha,
            mass_min=spec.mass_min,
        )
        box = finder.find_box()
    trajectory = box.peeling_trajectory
    dense = trajectory[trajectory["density"] >= spec.threshold]
    chosen = int(dense["coverage"].idxmax()) if len(dense) else int(trajectory["density"].idxmax())
    return box, chosen


def box_limits(box, chosen: int, x: pd.DataFrame) -> pd.DataFrame:
    """The chosen box's restricted inputs: min, max, the sampled range and PRIM's quasi-p-values."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, limits = box.inspect(chosen, style="data")[0]
    limits.columns = ["min", "max", "qp_low", "qp_high"]
    limits = limits.reset_index(names="input")
    limits["sampled_min"] = limits["input"].map(x.min())
    limits["sampled_max"] = limits["input"].map(x.max())
    return limits


def cart_leaves(x: pd.DataFrame, met: np.ndarray, spec: DiscoverySpec):
    """scikit-learn's tree on the sample; (the fitted tree, one row per leaf: rule, points, share met)."""
    from sklearn.tree import DecisionTreeClassifier

    tree = DecisionTreeClassifier(
        max_depth=spec.max_depth, min_samples_leaf=spec.min_samples_leaf, random_state=spec.seed % 2**32
    ).fit(x.to_numpy(np.float64), met)
    t, names, rows = tree.tree_, list(x.columns), []

    def walk(node: int, rule: list[str]) -> None:
        if t.children_left[node] == -1:
            counts = t.value[node][0]
            met_share = (
                float(counts[list(tree.classes_).index(True)] / counts.sum())
                if True in tree.classes_
                else 0.0
            )
            rows.append((" and ".join(rule) or "(all)", int(t.n_node_samples[node]), met_share))
            return
        name, cut = names[t.feature[node]], t.threshold[node]
        walk(t.children_left[node], [*rule, f"{name} <= {cut:.4g}"])
        walk(t.children_right[node], [*rule, f"{name} > {cut:.4g}"])

    walk(0, [])
    leaves = pd.DataFrame(rows, columns=["rule", "points", "share_meeting_goal"])
    return tree, leaves.sort_values("share_meeting_goal", ascending=False).reset_index(drop=True)


def run_discovery(
    spec: DiscoverySpec | str | Path, out: str | Path = "results", options: Options | None = None
) -> Path:
    """Run the sample, then PRIM and CART; write the tables, figures, ``analysis.json``, ``report.html``."""
    from . import figures
    from .outcomes import outcome_table
    from .report import write_report

    options = options or Options()
    spec = spec if isinstance(spec, DiscoverySpec) else load_discovery(spec)
    common, goal = spec.common, spec.goal
    folder = AnalysisFolder(out, common.name, "discovery")
    folder.prepare(options)
    unit = unit_sample(spec)
    points, x = sample_frame(spec, unit)
    sweep = table_sweep(
        "sample", common.path, common.base, points, common.replications, common.root_seed,
        method=f"discovery:{spec.method}", description=f"{common.name}: {goal.label}",
        overrides=common.overrides, keep=Keep((goal.outcome.metric,), (goal.outcome.region,)),
        document=common.document,
    )  # fmt: skip
    sweep_folder = folder.run(sweep, options)
    y = point_means(outcome_table(sweep_folder, [goal.outcome]), len(points), "d", [goal.outcome.label])[:, 0]
    met = goal.met(y)
    folder.clear_outputs()
    folder.write_table(x.assign(**{goal.outcome.label: y, "meets_goal": met}), "sample")
    facts: dict[str, Any] = {"goal": goal.label, "points": len(met), "points_meeting_goal": int(met.sum())}
    if 0 < met.sum() < len(met):
        box, chosen = prim_box(x, met, spec)
        trajectory = box.peeling_trajectory.reset_index(names="box")
        limits = box_limits(box, chosen, x)
        stats = trajectory.loc[chosen]
        facts["box"] = {k: float(stats[k]) for k in ("coverage", "density", "mass")} | {"index": chosen}
        folder.write_table(trajectory, "peeling_trajectory")
        folder.write_table(limits, "box_limits")
        figures.peeling_trajectory(box, chosen, folder.path / "prim_peeling_trajectory.png")
        tree, leaves = cart_leaves(x, met, spec)
        folder.write_table(leaves, "cart_leaves")
        figures.cart_tree(tree, list(x.columns), folder.path / "cart_tree.png")
        key = "box_limits"
    else:
        facts["note"] = f"{int(met.sum())} of {len(met)} points meet the goal: no box to find; move the goal"
        key = "sample"
    folder.write_manifest(
        common.path, common.document, description=common.description, base=str(common.base),
        inputs=[input_facts(i) for i in common.inputs], key_table=key, **facts,
    )  # fmt: skip
    write_report(folder.path)
    return folder.path
