"""The README's figures and what-if table are the shipped model's: each carries the digest of what it
depends on (``model.docs.provenance``), and a figure older than the model fails here, naming the command
that redraws it. The what-if table's builder and its splice into the README are tested on small inputs,
and once for real at a tiny scale (slow)."""

from __future__ import annotations

import re
import shutil

import pandas as pd
import pytest
from conftest import ROOT

from model.docs import provenance, validation, whatifs
from model.docs.figures import FIGURES

README = ROOT / "README.md"
SHOWN = re.compile(r"!\[[^\]]*\]\((docs/[^)]+\.png)\)")


def test_every_readme_figure_is_drawn_by_make_figures():
    shown = SHOWN.findall(README.read_text())
    assert shown, "the README shows no figure: the pattern is wrong"
    missing = [p for p in shown if p.removeprefix("docs/") not in FIGURES]
    assert not missing, f"README figures no generator draws: {missing} (add them to model/docs/figures.py)"


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_a_readme_figure_is_not_older_than_the_model_it_shows(name):
    path = ROOT / "docs" / name
    assert path.is_file(), f"docs/{name} is missing: run `make figures`"
    found, shows = provenance.read_png_stamp(path)
    assert found == provenance.digest(FIGURES[name].shows), (
        f"docs/{name} is older than the model it shows (digest {found or 'missing'}): run `make figures`"
    )
    assert sorted(shows) == sorted(FIGURES[name].shows), f"docs/{name}: run `make figures`"


def test_the_whatif_table_is_not_older_than_the_model_it_shows():
    table = (ROOT / "docs" / "whatifs.md").read_text() if (ROOT / "docs" / "whatifs.md").is_file() else ""
    found, shows = provenance.read_text_stamp(table)
    assert found == provenance.digest(shows) and sorted(shows) == sorted(whatifs.shows()), (
        f"docs/whatifs.md is older than the model it shows (digest {found or 'missing'}): run `make figures`"
    )
    inside = README.read_text().split(whatifs.START, 1)[1].split(whatifs.END, 1)[0]
    assert inside.strip() == table.split("\n\n", 1)[1].strip(), "README's what-if table: run `make figures`"


def test_the_validation_table_is_not_older_than_the_model_it_shows():
    path = ROOT / "docs" / "validation.md"
    table = path.read_text() if path.is_file() else ""
    found, shows = provenance.read_text_stamp(table)
    assert found == provenance.digest(shows) and shows == [validation.BASELINE, "scenarios/ensemble.csv"], (
        f"docs/validation.md is older than the model (digest {found or 'missing'}): run `make figures`"
    )
    inside = README.read_text().split(validation.START, 1)[1].split(validation.END, 1)[0]
    assert inside.strip() == table.split("\n\n", 1)[1].strip(), (
        "README's validation table: run `make figures`"
    )


@pytest.fixture
def tiny_root(tmp_path):
    for name in ("model/a.py", "model/sub/b.py", "model/data/t.csv", *provenance.ALWAYS, "scenarios/x.toml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name)
    return tmp_path


@pytest.mark.parametrize("edited", ["model/sub/b.py", "model/data/t.csv", "scenarios/calibrated.toml",
                                    "scenarios/x.toml"])  # fmt: skip
def test_the_digest_follows_every_file_a_figure_depends_on(tiny_root, edited):
    before = provenance.digest(["scenarios/x.toml"], tiny_root)
    assert before == provenance.digest(["scenarios/x.toml"], tiny_root)
    (tiny_root / edited).write_text("changed")
    assert provenance.digest(["scenarios/x.toml"], tiny_root) != before


def test_the_digest_ignores_what_a_figure_does_not_show(tiny_root):
    before = provenance.digest([], tiny_root)
    (tiny_root / "scenarios/x.toml").write_text("changed")
    (tiny_root / "notes.md").write_text("not the model")
    assert provenance.digest([], tiny_root) == before


def test_a_stamped_png_carries_the_digest(tmp_path):
    from PIL import Image

    path = tmp_path / "figure.png"
    Image.new("RGB", (4, 3), "white").save(path)
    assert provenance.read_png_stamp(path) == (None, [])
    provenance.stamp_png(path, ["scenarios/baseline.toml"])
    assert provenance.read_png_stamp(path) == (provenance.digest(["scenarios/baseline.toml"]),
                                               ["scenarios/baseline.toml"])  # fmt: skip
    assert Image.open(path).size == (4, 3)


def test_the_table_replaces_only_what_lies_between_the_markers():
    readme = f"intro\n{whatifs.START}\nold table\n{whatifs.END}\nafter\n"
    spliced = whatifs.splice(readme, "| new |\n")
    assert spliced == f"intro\n{whatifs.START}\n| new |\n{whatifs.END}\nafter\n"
    assert whatifs.splice(spliced, "| new |\n") == spliced  # idempotent


@pytest.mark.parametrize("readme", ["no markers", f"{whatifs.END} {whatifs.START}",
                                    f"{whatifs.START} {whatifs.START} {whatifs.END}"])  # fmt: skip
def test_a_readme_without_one_pair_of_markers_is_refused(readme):
    with pytest.raises(ValueError, match="README.md: needs exactly one"):
        whatifs.splice(readme, "table")


def _difference(metric: str, day: str, median: float, low: float, high: float) -> dict:
    return {"metric": metric, "date": day, "pairs": 3, "difference median": median,
            "difference p05": low, "difference p95": high}  # fmt: skip


def test_the_effect_table_reads_median_and_interval_per_metric_and_date():
    fake = {
        "single_operator": pd.DataFrame([
            _difference("app_wallets_opened", "2025-12-31", -2e6, -5e6, 1e6),
            _difference("active_users", "2025-12-31", 3.25e6, 1e6, 4e6),
            _difference("transaction_value_cumulative", "2025-12-31", -1.5e9, -2e9, -1e9),
        ]),
        "outlook_no_interest": pd.DataFrame([
            _difference(m, d, 1e9, 0, 2e9) for m in whatifs.METRICS for d in ("2030-12-31", "2025-12-31")
        ]),
    }  # fmt: skip
    rows = whatifs.effect_rows(fake)
    assert list(rows["what-if"]) == ["single_operator", "outlook_no_interest", "outlook_no_interest"]
    assert list(rows["against"]) == ["baseline", "outlook_2030", "outlook_2030"]
    assert list(rows["date"]) == ["2025-12-31", "2025-12-31", "2030-12-31"]
    first = rows.iloc[0]
    assert first["app wallets (m)"] == "-2.0 [-5.0, +1.0]"
    assert first["active users (m)"] == "+3.2 [+1.0, +4.0]"
    assert first["transaction value (bn yuan)"] == "-1.5 [-2.0, -1.0]"
    text = whatifs.markdown(rows, seeds=3, scale=20_000, stamp="<!-- s -->")
    assert text.startswith("<!-- s -->\n") and "same 3 replication seeds, 20,000 residents" in text
    assert "| `single_operator` | baseline | 2025-12-31 | -2.0 [-5.0, +1.0] |" in text
    assert whatifs.MECHANISMS["outlook_no_interest"] in text


def test_every_shipped_whatif_has_a_reference_dates_and_a_mechanism():
    names = whatifs.whatifs()
    assert "baseline" not in names and "calibrated" not in names and "single_operator" in names
    assert set(names) <= set(whatifs.MECHANISMS), "write a mechanism in model/docs/whatifs.py"
    assert whatifs.reference_of("outlook_higher_rate") == "outlook_2030"
    assert whatifs.reference_of("outlook_2030") == whatifs.reference_of("no_expansion") == "baseline"
    assert [d.isoformat() for d in whatifs.dates_for("outlook_no_interest")] == ["2025-12-31", "2030-12-25"]


@pytest.mark.slow
def test_a_real_whatif_table_at_a_tiny_scale(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# r\n{whatifs.START}\n{whatifs.END}\ntail\n")
    docs = tmp_path / "docs"
    docs.mkdir()
    written = whatifs.write_whatifs(2, 1e6, tmp_path / "runs", workers=1, names=["no_incentives"],
                                    docs=docs, readme=readme)  # fmt: skip
    table = written.read_text()
    row = next(line for line in table.splitlines() if line.startswith("| `no_incentives`"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1:3] == ["baseline", "2025-12-31"]
    assert all(re.fullmatch(r"[+-][\d,.]+ \[[+-][\d,.]+, [+-][\d,.]+\]", c) for c in cells[3:6]), cells
    assert readme.read_text().endswith(f"{whatifs.END}\ntail\n") and "`no_incentives`" in readme.read_text()
    shutil.rmtree(tmp_path / "runs")
