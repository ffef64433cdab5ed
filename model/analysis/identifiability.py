"""What the calibration's data pin and what rests on priors, as a table the reports read.

``docs/calibration/identifiability.csv`` has one row per fitted parameter: ``parameter, status, low, high,
reason`` with status ``pinned``, ``partly`` or ``loose`` (the verdicts of ``calibration.identifiability``)
and ``low``/``high`` the range searched. The calibration will write it; until it does, this module derives
it from the calibration report (``docs/calibration/report.md``: its "Fitted parameters" table for the
bounds and its "Identifiability" table for the verdict and evidence), so the caveats of every report come
from the calibration's results, never from text typed by hand:

    python -m model.analysis.identifiability [REPORT.md] [OUT.csv]  # default: the docs/calibration files
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd

from ..errors import InputError

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "docs" / "calibration" / "identifiability.csv"
REPORT = ROOT / "docs" / "calibration" / "report.md"
COLUMNS = ["parameter", "status", "low", "high", "reason"]
STATUSES = ("pinned", "partly", "loose")
BOUNDS = re.compile(r"^\[\s*(?P<low>[-+0-9.eE]+)\s*,\s*(?P<high>[-+0-9.eE]+)\s*\]")


def _table(text: str, heading: str) -> pd.DataFrame:
    """The first Markdown table after ``## heading``."""
    section = text.split(f"## {heading}\n", 1)
    if len(section) < 2:
        raise InputError(f"calibration report: no '## {heading}' section")
    block = []
    for line in section[1].splitlines():
        if line.startswith("|"):
            block.append(line)
        elif block:
            break
    lines = [[cell.strip() for cell in line.strip("|").split("|")] for line in block]
    if len(lines) < 3:
        raise InputError(f"calibration report: the '## {heading}' section has no table")
    return pd.DataFrame(lines[2:], columns=lines[0])


def from_report(report: str | Path = REPORT) -> pd.DataFrame:
    """The identifiability table derived from the calibration report's two tables."""
    text = Path(report).read_text(encoding="utf-8")
    fitted = _table(text, "Fitted parameters").set_index("parameter")
    evidence = _table(text, "Identifiability").set_index("parameter")
    near, far, spread = evidence.columns[0], evidence.columns[1], evidence.columns[2]
    rows = []
    for name, row in fitted.iterrows():
        match = BOUNDS.match(row["bounds"])
        if not match:
            raise InputError(f"{report}: parameter {name}: bounds {row['bounds']!r} are not [low, high]")
        seen = evidence.loc[name]
        reason = (
            f"calibration profile: loss rises {float(seen[near]):.3g} at x2 or +-25% (the smaller side) and "
            f"{float(seen[far]):.3g} at x4 or +-50% (the larger); the best 5% of trials spread over "
            f"{float(seen[spread]):.0%} of the searched range"
        )
        rows.append((name, seen["verdict"], float(match["low"]), float(match["high"]), reason))
    return pd.DataFrame(rows, columns=COLUMNS)


def load(path: str | Path = DEFAULT) -> pd.DataFrame:
    """Read and check an identifiability table; ``InputError`` naming the file, row and column if bad."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no identifiability table (the calibration writes it; see {__name__})")
    frame = pd.read_csv(path)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: columns {missing} are missing; required: {COLUMNS}")
    for i, status in enumerate(frame["status"]):
        if status not in STATUSES:
            raise InputError(f"{path}: row {i + 1}: status = {status!r}: one of {STATUSES}")
    return frame[COLUMNS]


def main(argv: list[str]) -> int:
    report = Path(argv[0]) if argv else REPORT
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT
    table = from_report(report)
    table.to_csv(out, index=False)
    print(f"wrote {out}: {len(table)} parameters from {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
