"""Writing the fit as the scenario fragment the baseline extends (``scenarios/calibrated.toml``).

The fragment holds only fitted values, grouped by table, each with its parameter's reason; everything else
keeps the prior in ``model/behaviour.py`` or the assumption in the scenario. A value the scenario file sets
itself would hide the fitted one (the file that extends wins), so ``check_not_shadowed`` refuses to
calibrate such a scenario before any trial runs. The file is written to a temporary name and renamed, so
an interrupted write never leaves half a fragment.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from datetime import date
from pathlib import Path

from ..atomic import atomic_write_bytes
from . import parameters


def fragment_path(scenario: Path) -> Path:
    """The file ``scenario`` extends (the fragment the fit goes to), else ``calibrated.toml`` beside it."""
    with scenario.open("rb") as handle:
        parent = tomllib.load(handle).get("extends")
    return scenario.parent / (parent if isinstance(parent, str) else "calibrated.toml")


def check_not_shadowed(scenario: Path, params: tuple[parameters.Param, ...]) -> list[str]:
    """The fitted keys that ``scenario`` sets itself, where they would override the fragment."""
    with scenario.open("rb") as handle:
        document = tomllib.load(handle)
    shadowed = []
    for p in params:
        for key in p.keys:
            node = document
            for part in key.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            if node is not None:
                shadowed.append(key)
    return shadowed


def stray_keys(path: Path, params: tuple[parameters.Param, ...]) -> list[str]:
    """Keys the fragment at ``path`` sets that no free parameter writes: a new fit would drop them, so the
    trials (run with the fragment as it is) would not match the scenario the fit leaves behind."""
    if not path.is_file():
        return []
    with path.open("rb") as handle:
        document = tomllib.load(handle)
    written = {key for p in params for key in p.keys}

    def leaves(node: dict, prefix: str = ""):
        for key, value in node.items():
            if isinstance(value, dict):
                yield from leaves(value, f"{prefix}{key}.")
            else:
                yield f"{prefix}{key}"

    return [key for key in leaves(document) if key not in written]


def _short(reason: str, width: int = 72) -> str:
    """The reason's first clause, cut at a word boundary."""
    text = reason.split(";")[0].split(":")[0].strip()
    if len(text) <= width:
        return text
    return text[:width].rsplit(" ", 1)[0] + " ..."


def _number(x: float) -> str:
    return f"{x:.4g}" if abs(x) < 1e5 else f"{x:.6g}"


def render(
    values: dict[str, float],
    params: tuple[parameters.Param, ...],
    header: list[str],
) -> str:
    """The fragment's TOML text: a header comment, then one table per group of keys."""
    tables: dict[str, list[str]] = defaultdict(list)
    for p in params:
        for key in p.keys:
            table, leaf = key.rsplit(".", 1)
            note = p.name if key.startswith("banks.") else _short(p.reason)
            tables[table].append(f"{leaf} = {_number(values[p.name])}  # {note}")
    lines = [f"# {line}" if line else "#" for line in header]
    for table in sorted(tables, key=lambda t: (t != "behaviour", t)):
        lines += ["", f"[{table}]", *tables[table]]
    return "\n".join(lines) + "\n"


def write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` all or nothing (``atomic_write_bytes``: temporary file, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, text.encode("utf-8"))


def header_lines(scenario: Path, trials: int, loss: float, rms: float, report: Path | None) -> list[str]:
    where = f" Report: {report}." if report else ""
    return [
        f"Fitted by `python run.py calibrate {scenario.as_posix()}` on {date.today().isoformat()}: "
        f"{trials} trials, loss {loss:.4f}",
        f"(rms relative error {rms:.1%} over the targets of model/data/targets.csv).{where}",
        "Every value here is fitted; bounds and reasons: model/calibration/parameters.py. Parameters not",
        "listed keep their priors in model/behaviour.py. `run.py calibrate` rewrites this file.",
    ]
