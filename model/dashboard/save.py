"""Saving the levers in effect as a scenario file: what a policy user found in the browser, rerun with
``run.py`` (sweeps, ``compare``, the manifest) without retyping it.

The file says ``extends = "<the file the dashboard started from>"`` (relative to the new file's folder
when the two share a root) and states only the keys the levers changed, so it follows later edits of its
parent as any hand-written what-if does. Its ``name`` is checked like every scenario and result name
(``model.paths``): it becomes the file's name and, in ``run.py``, a result folder. An existing file is never
replaced: the save is refused with a message and the user picks another name (the dashboard does not
invent one, so no file appears that the user did not name). The text is written whole or not at all
(``atomic_create_bytes``) and only after the same checks ``run.py`` makes have passed.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

from .. import footprint, paths
from ..atomic import atomic_create_bytes
from ..errors import InputError
from ..scenario import Scenario, load_scenario, set_path

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _key(dotted: str) -> str:
    return ".".join(k if _BARE_KEY.fullmatch(k) else json.dumps(k) for k in dotted.split("."))


def _value(value: Any) -> str:
    """A TOML value: ISO dates bare (TOML dates, as the shipped files write them), text quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        return json.dumps(value)  # JSON's escapes are TOML basic-string escapes


def scenario_text(extends: str, name: str, description: str, overrides: dict[str, Any]) -> str:
    """The file: ``extends``, ``name``, ``description``, then one table per section of the changed keys."""
    lines = [
        "# Saved from the dashboard: the levers that differ from the file it extends",
        f"extends = {json.dumps(extends)}",
        f"name = {json.dumps(name)}",
        f"description = {json.dumps(description)}",
    ]
    sections: dict[str, list[str]] = {}
    for dotted, value in overrides.items():
        section, _, rest = dotted.partition(".")
        sections.setdefault(section, []).append(f"{_key(rest)} = {_value(value)}")
    for section, entries in sections.items():
        lines += ["", f"[{_key(section)}]", *entries]
    return "\n".join(lines) + "\n"


def extends_path(start: Path, folder: Path) -> str:
    """The start file as seen from ``folder``: relative when possible (a copied project keeps working)."""
    start, folder = Path(start).resolve(), Path(folder).resolve()
    try:
        return Path(os.path.relpath(start, folder)).as_posix()
    except ValueError:  # another drive: only an absolute path reaches it
        return start.as_posix()


def save_scenario(
    start_file: Path,
    overrides: dict[str, Any],
    name: str,
    folder: Path,
    scale: float | None = None,
    create: bool = False,
) -> Path:
    """Write ``folder/<name>.toml``: ``start_file`` plus ``overrides``; returns its path.

    Refused with ``InputError`` (nothing written) for an unsafe name, a missing folder, an existing file,
    or levers ``run.py`` would refuse (``ScenarioError``, raised as is). ``scale``: the dashboard's, so a
    scale the scenario cannot hold at the dashboard is refused as ``run.py --scale`` would. ``create``:
    make ``folder`` (one level, the default ``saved/``) if it is missing.
    """
    name = name.strip()
    if not paths.is_safe_name(name):
        raise InputError(f"scenario name {name!r}: {paths.NAME_RULE}")
    folder = Path(folder)
    if create and folder.parent.is_dir():
        folder.mkdir(exist_ok=True)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder to save the scenario in")
    target = folder / f"{name}.toml"
    if target.exists():
        raise InputError(f"{target} exists: nothing was written; choose another name")
    scenario = load_scenario(start_file, {**overrides, "name": name})  # run.py's checks, before writing
    if scale is not None:
        footprint.check_fits(load_scenario(start_file, {**overrides, "run.scale": scale}), what="--scale")
    description = f"{Path(start_file).name} with {len(overrides)} changed key(s) from the dashboard"
    text = scenario_text(extends_path(start_file, folder), name, description, overrides)
    expected: dict[str, Any] = {}
    for dotted, value in overrides.items():
        set_path(expected, dotted, value)
    parsed = tomllib.loads(text)
    _check_round_trip(parsed, expected, scenario)
    try:
        atomic_create_bytes(target, text.encode("utf-8"))
    except FileExistsError:
        raise InputError(f"{target} exists: nothing was written; choose another name") from None
    return target


def _check_round_trip(parsed: dict[str, Any], expected: dict[str, Any], scenario: Scenario) -> None:
    """The text reads back as the overrides (dates as TOML dates): a writer bug fails here, not later."""
    for key in ("extends", "name", "description"):
        parsed.pop(key)

    def plain(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: plain(v) for k, v in node.items()}
        return node.isoformat() if isinstance(node, date) else node

    if plain(parsed) != plain(expected):
        raise RuntimeError(f"scenario {scenario.name}: the saved text does not read back as the levers")
