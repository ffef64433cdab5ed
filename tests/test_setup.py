"""The set-up path: ``make run`` installs only what running needs, ``make test`` the rest, a quick path
leaves out the slow tests, CI sets ``CI=true`` so that a missing real part fails, and the README says all
of this (Chromium, the notebooks' front end and their fast settings, the exit codes)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import pytest
from conftest import ROOT

MAKEFILE = (ROOT / "Makefile").read_text()
README = (ROOT / "README.md").read_text()


def recipe(target: str) -> str:
    """The prerequisites and commands of a make target."""
    match = re.search(rf"^{re.escape(target)}:(.*?)(?=^\S|\Z)", MAKEFILE, re.M | re.S)
    assert match, target
    return match.group(1)


def test_make_run_installs_only_the_package_and_make_test_the_test_extra():
    run, test = recipe("run"), recipe("test")
    assert ".installed" in run and ".installed-test" not in run
    assert "-e ." in recipe("$(VENV)/.installed") and "[" not in recipe("$(VENV)/.installed")
    assert ".installed-test" in test and "'.[test]'" in recipe("$(VENV)/.installed-test")
    core = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert not any(name in " ".join(core) for name in ("pytest", "dask", "optuna", "solara", "playwright"))


def test_a_quick_path_leaves_out_the_slow_tests():
    assert '-m "not slow"' in recipe("test-quick")
    markers = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["markers"]
    assert any(m.startswith("slow:") for m in markers)


def test_ci_sets_ci_and_calls_the_readme_test_command():
    script = (ROOT / ".ci" / "run").read_text()
    assert "export CI=true" in script and script.strip().endswith("make test")
    assert "make test" in README and "make test-quick" in README


def test_the_readme_says_what_the_tests_and_notebooks_need():
    assert "chromium" in README.lower()
    assert "pip install -e '.[notebooks]'" in README
    assert "ECNY_NOTEBOOK_SCALE=200000" in README and "ECNY_NOTEBOOK_SEEDS=2" in README
    for code in ("`0`", "`1`", "`2`", "`3`", "`130`"):
        assert code in README, code


def run_pytest(tmp_path, ci: str) -> subprocess.CompletedProcess:
    (tmp_path / "conftest.py").write_text((ROOT / "tests" / "conftest.py").read_text())
    (tmp_path / "test_part.py").write_text(
        "from conftest import require_module\n\n"
        "def test_needs_a_part():\n"
        "    require_module('ecny_no_such_module', 'install it')\n"
    )
    env = {"PATH": "/usr/bin:/bin", "CI": ci, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
    )


@pytest.mark.slow
def test_a_missing_part_fails_in_ci_and_skips_with_its_reason_elsewhere(tmp_path):
    in_ci = run_pytest(tmp_path, "true")
    assert in_ci.returncode == 1 and "ecny_no_such_module is missing" in in_ci.stdout
    outside = run_pytest(tmp_path, "")
    assert outside.returncode == 0 and "SKIPPED" in outside.stdout
    assert "ecny_no_such_module is missing: install it" in outside.stdout


def test_a_command_whose_extra_is_not_installed_says_so_in_one_line():
    """After `make run` alone (no extras), `run.py validate` names the missing package and how to get it."""
    code = (
        "import sys; sys.modules['optuna'] = None; from model.cli import main; "
        "sys.exit(main(['validate', 'scenarios/baseline.toml']))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 3
    err = done.stderr.strip()
    assert err.startswith("error: validate needs the package optuna") and "make test" in err
    assert "\n" not in err


def test_the_library_never_imports_the_command_line():
    """Only a ``cli.py`` (or ``__main__.py``) may import a command-line module; the rest is the library."""
    import ast

    offenders = []
    for path in sorted((ROOT / "model").rglob("*.py")):
        if path.name in ("cli.py", "__main__.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            names = [alias.name for alias in node.names]
            names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(name == "cli" or name.endswith(".cli") for name in names):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, offenders
