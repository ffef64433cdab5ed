"""The what-if effect table of the README: every shipped what-if against its reference, paired by seed.

A what-if is every ``scenarios/*.toml`` but the baseline and its behavioural fragment. Those that continue
the outlook (``outlook_*``) are compared with ``outlook_2030`` (what the lever changes in the outlook), the
others (``outlook_2030`` included) with the baseline. Each comparison is ``run.py compare`` (the same
``model.analysis.compare`` machinery: same replication seeds for both, sweep executors), and the table
gives the paired effect (what-if minus reference) median and 90% interval over seeds for each metric in
``METRICS`` at the dates in ``dates_for``, with one sentence on the mechanism (``MECHANISMS``; kept here
rather than in the scenario files because the scenario schema forbids unknown keys and ``description``
already says *what* changes, not *why* it moves the outcomes). ``splice`` writes the table between the
README's markers.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from . import provenance

ROOT = provenance.ROOT
SCENARIOS = ROOT / "scenarios"
NOT_WHATIFS = ("baseline", "calibrated")
OUTLOOK = "outlook_2030"
METRICS = {  # metric -> (column heading, divisor, unit)
    "app_wallets_opened": ("app wallets", 1e6, "m"),
    "active_users": ("active users", 1e6, "m"),
    "transaction_value_cumulative": ("transaction value", 1e9, "bn yuan"),
}
HISTORY_END, OUTLOOK_END = date(2025, 12, 31), date(2030, 12, 31)
START, END = "<!-- whatifs:start -->", "<!-- whatifs:end -->"

MECHANISMS = {
    "nationwide_2023": "Every region goes live on 2023-01-01, so residents and merchants outside the pilot "
    "face the same opening, acceptance and app-registration hazards two years of history never gave them.",
    "no_expansion": "Waves 3 and 4 and the Olympic scenarios never go live: their residents never enter "
    "the hazards of opening a wallet and their merchants are never reached, so only the first pilots adopt.",
    "no_incentives": "Without the red-envelope lotteries no resident enters a draw, so the wallets opened "
    "to redeem an envelope, and the payments the envelopes fund, are missing.",
    "open_competition": "Every operator's staff wallet campaign and merchant acquiring start in April 2020 "
    "instead of at its join date: the campaigns of 2020-21 asked few sign-ups (campaign_pilot), app "
    "wallets do not depend on the banks and the extra pushed wallets are mostly never used, so 2025 app "
    "wallets and use hardly move. Value falls: the internet banks (WeBank, MYbank: the largest reach, "
    "2-3 thousand staff) take their share of businesses from 2020, and a business feels only its own "
    "bank's staff push, so during the 2021 campaigns fewer open a corporate wallet, B2B e-CNY starts "
    "later in the large cities and quadratic B2B value loses most (with the two at their real join "
    "dates the effect is about +0.5 tn).",
    "single_operator": "Only ICBC runs wallet campaigns and acquires merchants: the other operators' "
    "campaigns and extra wallets disappear, and a business feels ICBC's campaign over ICBC's share of "
    "the businesses (now all of them), so each is pushed less than by its own bank among eleven: fewer "
    "corporate wallets and B2B users, and less value and use.",
    "outlook_2030": "The baseline run on to 2030 with interest on balances from 2026 (slower dormancy, "
    "larger balances) and twelve more operators' campaigns and acquiring from April 2026.",
    "outlook_higher_rate": "Balances earn 1.5% instead of 0.05% a year from 2026: the interest term raises "
    "balances held, slows wallets going dormant and speeds app registration, but only towards the app's "
    "market potential (app_market of a region's residents), which interest does not widen.",
    "outlook_nationwide_2027": "Every region goes live on 2027-01-01, adding the non-pilot provinces' "
    "residents and merchants to the adoption hazards for the last four years of the outlook.",
    "outlook_no_interest": "Balances never earn interest: the interest terms of app registration, dormancy "
    "and balances held stay at their 2025 level.",
    "outlook_no_new_operators": "The twelve banks of April 2026 never join, so their wallet campaigns and "
    "merchant acquiring never start; campaigns after 2021 are small and pushed wallets mostly unused, so "
    "the effect on app wallets and use is nil.",
}


def whatifs(folder: Path = SCENARIOS) -> list[str]:
    """The shipped what-ifs (scenario file stems), in name order."""
    return sorted(p.stem for p in folder.glob("*.toml") if p.stem not in NOT_WHATIFS)


def reference_of(name: str) -> str:
    """The scenario a what-if is compared with: ``outlook_2030`` for the outlook's variants, else baseline."""
    return OUTLOOK if name.startswith("outlook_") and name != OUTLOOK else "baseline"


def last_record(name: str, day: date) -> date:
    """The last weekly record of scenario ``name`` on or before ``day`` (records fall every ``step_days``
    from ``run.start``: 2030-12-31 is read at 2030-12-25, the outlook's last record)."""
    from ..scenario import load_scenario

    run = load_scenario(SCENARIOS / f"{name}.toml").run
    start = run.start if isinstance(run.start, date) else date.fromisoformat(str(run.start))
    weeks = (day - start).days // run.step_days
    return start + timedelta(days=weeks * run.step_days)


def dates_for(name: str) -> list[date]:
    """End of 2025 for every what-if, and the end of 2030 too (its last record) for the outlook's."""
    if reference_of(name) != OUTLOOK:
        return [HISTORY_END]
    return [HISTORY_END, last_record(OUTLOOK, OUTLOOK_END)]


def compare(name: str, seeds: int, scale: float, out: Path, workers: int = 2) -> pd.DataFrame:
    """``run.py compare <reference> <name> --seeds N`` at ``scale``; its ``differences_at_dates`` table."""
    from ..analysis.compare import load_compare, run_compare
    from ..analysis.folder import Options

    spec = load_compare(
        SCENARIOS / f"{reference_of(name)}.toml", SCENARIOS / f"{name}.toml", seeds=seeds,
        metrics=list(METRICS), dates=dates_for(name), overrides={"run.scale": scale},
    )  # fmt: skip
    folder = run_compare(spec, out, Options(workers=workers, overwrite=True))
    return pd.read_parquet(folder / "differences_at_dates.parquet")


def effect_rows(differences: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per what-if and date, a column per metric: "median [p05, p95]" of the paired difference,
    scaled to the metric's unit. ``differences``: what-if -> its ``difference_table``."""
    rows = []
    for name, table in differences.items():
        for day, at in table.groupby("date", sort=True):
            row = {"what-if": name, "against": reference_of(name), "date": str(day)}
            for metric, (heading, divisor, unit) in METRICS.items():
                hit = at[at["metric"] == metric]
                if hit.empty:
                    row[f"{heading} ({unit})"] = "n/a"
                    continue
                r = hit.iloc[0]
                median, low, high = (r[f"difference {q}"] / divisor for q in ("median", "p05", "p95"))
                row[f"{heading} ({unit})"] = f"{median:+,.1f} [{low:+,.1f}, {high:+,.1f}]"
                row["pairs"] = int(r["pairs"])
            rows.append(row)
    return pd.DataFrame(rows)


def markdown(rows: pd.DataFrame, seeds: int, scale: float, stamp: str = "") -> str:
    """The table, its caption (settings, what the numbers are) and the mechanism of each what-if."""
    headings = [c for c in rows.columns if c not in ("pairs",)]
    lines = [stamp] if stamp else []
    lines += [
        f"Paired effect of each shipped what-if (what-if minus its reference on the same {seeds} replication "
        f"seeds, {scale:,.0f} residents per agent): median over seeds with the 90% interval (5th to 95th "
        "percentile) in brackets. Written by `make figures` (`python -m model.docs`); each row is "
        "`run.py compare REFERENCE WHATIF --seeds N --scale S`; 2030 is read at the outlook's last weekly "
        "record. Parameter uncertainty is not included.",
        "",
        "| " + " | ".join(headings) + " |",
        "|" + "---|" * len(headings),
    ]
    for row in rows.itertuples(index=False):
        values = dict(zip(rows.columns, row, strict=True))
        lines.append("| " + " | ".join(f"`{values[h]}`" if h == "what-if" else str(values[h])
                                       for h in headings) + " |")  # fmt: skip
    lines += ["", "Mechanisms (what each what-if changes in the model's rules):", ""]
    for name in dict.fromkeys(rows["what-if"]):
        lines.append(f"- `{name}`: {MECHANISMS.get(name, '(no mechanism written)')}")
    return "\n".join(lines) + "\n"


def splice(readme: str, table: str, start: str = START, end: str = END) -> str:
    """``readme`` with ``table`` between the markers ``start`` and ``end`` (kept); a clear error when they
    are missing, doubled or out of order, so nothing else in the README is ever replaced."""
    starts, ends = readme.count(start), readme.count(end)
    if starts != 1 or ends != 1 or readme.index(start) > readme.index(end):
        raise ValueError(
            f"README.md: needs exactly one {start} followed by one {end} (found {starts} and {ends})"
        )
    head, rest = readme.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{table.rstrip()}\n{end}{tail}"


def shows() -> list[str]:
    """The scenario files the table shows (relative to the repository), for its digest."""
    return [f"scenarios/{name}.toml" for name in dict.fromkeys((*whatifs(), OUTLOOK))]


def write_whatifs(seeds: int, scale: float, out: Path, workers: int = 2, names: list[str] | None = None,
                  docs: Path = ROOT / "docs", readme: Path = ROOT / "README.md") -> Path:  # fmt: skip
    """Run every comparison, write ``docs/whatifs.md`` and splice it into the README."""
    from tqdm import tqdm

    differences = {}
    for name in tqdm(names or whatifs(), desc="what-ifs", unit="what-if"):
        differences[name] = compare(name, seeds, scale, out, workers)
    table = markdown(effect_rows(differences), seeds, scale, provenance.stamp_text(shows()))
    spliced = splice(readme.read_text(), table)  # checked before anything is written
    target = docs / "whatifs.md"
    target.write_text("# What-if effects\n\n" + table)
    readme.write_text(spliced)
    return target
