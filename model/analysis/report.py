"""``report.html``: one static page for a run, a sweep or an analysis folder (``run.py report FOLDER``).

The page holds the folder's figures (relative links to its PNGs: it works offline and moves with the
folder), its key table, the levers that differ from the baseline, the manifest, and the caveats: what the
calibration's data pin and what rests on priors, read from ``docs/calibration/identifiability.csv``
(``model.analysis.identifiability``), with the parameters this folder moves marked, and the date of the
last published figure (``model/data/targets.csv``) after which every outcome is extrapolation.
"""

from __future__ import annotations

import html
import json
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError
from ..scenario import ScenarioError, load_scenario
from ..sweep.store import atomic_write_bytes
from . import identifiability
from .diff import scenario_diff

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline.toml"
OUTCOMES = ROOT / "scenarios" / "analysis" / "outcomes.toml"
MAX_ROWS = 60
FACTS = ("runs", "wall_seconds", "runs_per_minute", "seed", "scale", "engine")
FACTS += ("package_version", "git_commit", "written", "updated")
STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; border-bottom: 1px solid #ccc; margin-top: 1.6em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
td, th { border: 1px solid #ddd; padding: 2px 6px; text-align: left; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
.loose { background: #fde8e8; } .partly { background: #fff5d6; } .pinned { background: #e7f5e7; }
.moved { font-weight: bold; }
pre { font-size: 0.75em; background: #f6f6f6; padding: 0.5em; overflow-x: auto; }
"""


def main_outcomes(path: Path = OUTCOMES) -> tuple[list[str], list[date]]:
    """The main metrics and dates (``scenarios/analysis/outcomes.toml``)."""
    with path.open("rb") as handle:
        document = tomllib.load(handle)
    return list(document["metrics"]), list(document["dates"])


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.is_file() else {}


def kind_of(folder: Path) -> str:
    if (folder / "analysis.json").is_file():
        return str(_read_json(folder / "analysis.json")["kind"])
    if (folder / "design.parquet").is_file():
        return "sweep"
    if (folder / "timeseries.parquet").is_file():
        return "run"
    raise InputError(f"{folder}: not a run, sweep or analysis folder (no manifest); nothing to report")


def _table(frame: pd.DataFrame, classes: list[str] | None = None) -> str:
    if frame.empty:
        return "<p>(none)</p>"
    shown = frame.head(MAX_ROWS)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    body = []
    for i, row in enumerate(shown.itertuples(index=False)):
        css = f' class="{classes[i]}"' if classes and classes[i] else ""
        body.append(f"<tr{css}>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>")
    more = f"<p>... {len(frame) - MAX_ROWS} more rows in the CSV</p>" if len(frame) > MAX_ROWS else ""
    return f"<table><tr>{head}</tr>{''.join(body)}</table>{more}"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


# ---------------------------------------------------------------- what each kind of folder shows


def _run_parts(folder: Path) -> tuple[str, dict, pd.DataFrame, pd.DataFrame, set[str]]:
    from ..results import read_timeseries
    from .outcomes import Outcome

    manifest = _read_json(folder / "manifest.json")
    metrics, dates = main_outcomes()
    frame = read_timeseries(folder)
    frame = frame[frame["region"].eq("national") & frame["metric"].isin(metrics)]  # one pass, not one each
    rows = []
    for metric in metrics:
        for day in dates:
            try:
                rows.append((metric, day.isoformat(), Outcome(metric, "national", day).read(frame)))
            except ValueError:  # not reported, or the date is outside this run
                continue
    key = pd.DataFrame(rows, columns=["metric (national)", "date", "value"])
    levers = _against_baseline(manifest.get("scenario", {}))
    title = f"Run: {manifest.get('scenario', {}).get('name', folder.name)}"
    return title, manifest, key, levers, set(levers["key"])


def _against_baseline(resolved: dict[str, Any]) -> pd.DataFrame:
    try:
        baseline = load_scenario(BASELINE)
    except ScenarioError:
        return pd.DataFrame(columns=["key", "baseline", "this"])
    diff = scenario_diff(baseline, resolved) if resolved else pd.DataFrame(columns=["key", "a", "b"])
    return diff.rename(columns={"a": "baseline", "b": "this"})


def _sweep_parts(folder: Path) -> tuple[str, dict, pd.DataFrame, pd.DataFrame, set[str]]:
    manifest = _read_json(folder / "manifest.json")
    summary = folder / "summary.csv"
    if summary.is_file():
        key = pd.read_csv(summary)
    else:
        design = pd.read_parquet(folder / "design.parquet", columns=["scenario", "run_id"])
        key = design.groupby("scenario", sort=False).size().rename("runs").reset_index()
    rows, moved = [], set()
    for s in manifest.get("scenarios", [])[:MAX_ROWS]:
        for path, value in s.get("overrides", {}).items():
            rows.append((s["name"], path, json.dumps(value, default=str)))
            moved.add(path)
    levers = pd.DataFrame(rows, columns=["scenario", "key", "value"])
    return f"Sweep: {manifest.get('sweep', folder.name)}", manifest, key, levers, moved


def _analysis_parts(folder: Path) -> tuple[str, dict, pd.DataFrame, pd.DataFrame, set[str]]:
    manifest = _read_json(folder / "analysis.json")
    stem = manifest.get("key_table")
    key = (
        pd.read_csv(folder / f"{stem}.csv") if stem and (folder / f"{stem}.csv").is_file() else pd.DataFrame()
    )
    moved: set[str] = set()
    if manifest.get("inputs"):
        levers = pd.DataFrame(manifest["inputs"])
        for keys in levers["keys"]:
            moved.update(keys)
        levers["keys"] = levers["keys"].map(", ".join)
    elif manifest.get("drivers"):
        levers = pd.DataFrame(manifest["drivers"])
        for off in levers["off"]:
            moved.update(off)
        levers["off"] = levers["off"].map(lambda o: ", ".join(f"{k} = {v}" for k, v in o.items()))
    elif (folder / "levers_differ.csv").is_file():
        levers = pd.read_csv(folder / "levers_differ.csv")
        moved.update(levers["key"])
    else:
        levers = pd.DataFrame()
    title = f"{manifest['kind'].capitalize()}: {manifest.get('name', folder.name)}"
    return title, manifest, key, levers, moved


# ---------------------------------------------------------------- caveats and the page


def caveats(moved: set[str]) -> str:
    """The identifiability table, rows of parameters whose keys this folder moves in bold."""
    from ..calibration.parameters import FREE
    from ..calibration.targets import calibration_targets

    last = max(t.date for t in calibration_targets())
    parts = [
        f"<p>The last published figure the model is fitted to is dated {last}: every outcome after it is "
        "the model's extrapolation, and rests on its structure and on the parameters below.</p>"
    ]
    try:
        table = identifiability.load()
    except InputError as exc:
        return "".join(parts) + f"<p>No identifiability results: {html.escape(str(exc))}</p>"
    keys = {p.name: set(p.keys) for p in FREE}
    table = table.copy()
    table["moved here"] = [
        "yes" if keys.get(p, {p}) & moved or p in moved else "" for p in table["parameter"]
    ]
    for status, text in (
        ("pinned", "pinned by the data"),
        ("partly", "partly pinned"),
        ("loose", "loose: what-ifs that lean on them rest on priors and bounds, not data"),
    ):
        names = ", ".join(table.loc[table["status"] == status, "parameter"]) or "none"
        parts.append(f"<p><b>{html.escape(text.capitalize())}</b>: {html.escape(names)}.</p>")
    classes = list(table["status"])
    classes = [f"{c} moved" if m else c for c, m in zip(classes, table["moved here"], strict=True)]
    parts.append(_table(table, classes))
    parts.append(f"<p>Source: {html.escape(str(identifiability.DEFAULT.relative_to(ROOT)))}.</p>")
    return "".join(parts)


def _compact(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest without its bulk (resolved scenarios of big designs, long seed lists)."""
    out = dict(manifest)
    if isinstance(out.get("scenarios"), list) and len(out["scenarios"]) > 3:
        out["scenarios"] = f"{len(out['scenarios'])} scenarios (see manifest.json)"
    if isinstance(out.get("seeds"), list) and len(out["seeds"]) > 10:
        out["seeds"] = [*out["seeds"][:10], f"... {len(out['seeds'])} in all"]
    for bulky in ("sweep_document", "scenario"):
        if bulky in out:
            out[bulky] = "(see manifest.json)"
    return out


def write_report(folder: str | Path) -> Path:
    """Write ``folder/report.html`` (atomically) and return its path."""
    folder = Path(folder)
    kind = kind_of(folder)
    parts = {"run": _run_parts, "sweep": _sweep_parts}.get(kind, _analysis_parts)
    title, manifest, key, levers, moved = parts(folder)
    figures = "".join(
        f'<figure><img src="{html.escape(p.name)}" alt="{html.escape(p.stem)}">'
        f"<figcaption>{html.escape(p.stem.replace('_', ' '))}</figcaption></figure>"
        for p in sorted(folder.glob("*.png"))
    )
    description = manifest.get("description") or manifest.get("scenario", {}).get("description", "")
    facts = pd.DataFrame(
        [(k, json.dumps(manifest[k], default=str)) for k in FACTS if k in manifest], columns=["", "value"]
    )
    full = html.escape(json.dumps(_compact(manifest), indent=1, default=str))
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title><style>{STYLE}</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p>{html.escape(description)}</p>
<p>Folder: {html.escape(str(folder))}</p>
<h2>Figures</h2>{figures or "<p>(no figures)</p>"}
<h2>Key table</h2>{_table(key)}
<h2>Levers that differ from the baseline</h2>{_table(levers)}
<h2>Caveats: what the data pin and what rests on priors</h2>{caveats(moved)}
<h2>Manifest</h2>{_table(facts)}
<details><summary>manifest in full</summary><pre>{full}</pre></details>
</body></html>
"""
    path = folder / "report.html"
    atomic_write_bytes(path, page.encode("utf-8"))
    return path
