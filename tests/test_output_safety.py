"""No user action loses data: a name is a folder name inside ``--out``, nothing is replaced that the user
did not name, ``--out`` is checked before the work starts, and a full or read-only disk is one line with
exit code 3 and earlier results intact.

Disk faults use a real, small tmpfs when this process may mount one (root in CI); otherwise the write error
is injected at the same place.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import BASELINE, SCENARIOS

from model.atomic import atomic_folder
from model.cli import main

QUICK = ["--scale", "1e6", "--quiet", "--no-plots"]


def whatif(tmp_path: Path, body: str, file: str = "mine.toml") -> Path:
    path = tmp_path / file
    path.write_text(f'extends = "{BASELINE.as_posix()}"\n{body}\n[run]\nscale = 1e6\n', encoding="utf-8")
    return path


def contents(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def run(argv: list[str], capsys) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().err.strip()


# ---------------------------------------------------------------- names and paths


@pytest.mark.parametrize(
    "name", ["", ".", "..", "../scenarios", "../../x", "/some/folder", "a\u0000b", "x" * 300]
)
def test_a_name_that_is_not_a_plain_folder_name_is_refused(tmp_path, capsys, name):
    out = tmp_path / "results"
    out.mkdir()
    (out / "earlier").mkdir()
    (out / "earlier" / "keep.txt").write_text("an earlier result")
    path = tmp_path / "named.toml"
    path.write_text(f'extends = "{BASELINE.as_posix()}"\nname = {json.dumps(name)}\n[run]\nscale = 1e6\n')
    code, message = run([str(path), "--out", str(out), *QUICK], capsys)
    assert code == 2 and "name = " in message and "a folder name" in message and "\n" not in message
    assert contents(out) == {"earlier/keep.txt": b"an earlier result"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["named.toml", "results"]  # nothing beside it


def test_validate_keeps_its_files_inside_out(tmp_path, capsys):
    path = whatif(tmp_path, 'name = "../../escaped"\n')
    code, message = run(["validate", str(path), "--replications", "1", "--out", str(tmp_path / "v")], capsys)
    assert code == 2 and "a folder name" in message
    assert not (tmp_path / "escaped").exists() and not (tmp_path.parent / "escaped").exists()


def test_a_whatif_without_a_name_is_named_after_its_own_file(tmp_path, capsys):
    out = tmp_path / "results"
    assert main([str(BASELINE), "--out", str(out), *QUICK]) == 0
    baseline = contents(out / "baseline")
    path = whatif(tmp_path, "[banks]\ntarget_intensity = 2.0\n", file="double_push.toml")
    assert main([str(path), "--out", str(out), *QUICK]) == 0
    assert contents(out / "baseline") == baseline  # the baseline's result is untouched
    manifest = json.loads((out / "double_push" / "manifest.json").read_text())
    assert manifest["scenario"]["name"] == "double_push" and manifest["scenario"]["description"] == ""


# ---------------------------------------------------------------- no silent overwrite


def test_another_seed_does_not_replace_a_result_without_overwrite(tmp_path, capsys):
    out = tmp_path / "results"
    assert main([str(BASELINE), "--out", str(out), *QUICK]) == 0
    first = contents(out / "baseline")
    code, message = run([str(BASELINE), "--out", str(out), "--seed", "7", *QUICK], capsys)
    assert code == 2 and "holds a run of seed 20200401 (this run: 7)" in message and "--overwrite" in message
    assert contents(out / "baseline") == first
    code, message = run([str(BASELINE), "--out", str(out), "--scale", "5e5", "--quiet", "--no-plots"], capsys)
    assert code == 2 and "scale 1e+06 (this run: 500000)" in message
    assert main([str(BASELINE), "--out", str(out), *QUICK]) == 0  # the same run again: replaced, same data
    assert contents(out / "baseline")["timeseries.parquet"] == first["timeseries.parquet"]
    assert main([str(BASELINE), "--out", str(out), "--seed", "7", "--overwrite", *QUICK]) == 0
    assert json.loads((out / "baseline" / "manifest.json").read_text())["seed"] == 7


def test_another_scenario_with_the_same_name_is_refused(tmp_path, capsys):
    out = tmp_path / "results"
    assert main([str(BASELINE), "--out", str(out), *QUICK]) == 0
    same_name = whatif(tmp_path, 'name = "baseline"\n[banks]\ntarget_intensity = 2.0\n')
    code, message = run([str(same_name), "--out", str(out), *QUICK], capsys)
    assert code == 2 and "another scenario (banks.target_intensity differ)" in message


def test_a_folder_that_is_not_a_result_is_never_replaced(tmp_path, capsys):
    out = tmp_path
    (out / "baseline").mkdir()
    (out / "baseline" / "notes.md").write_text("mine")
    for extra in ([], ["--overwrite"]):
        code, message = run([str(BASELINE), "--out", str(out), *QUICK, *extra], capsys)
        assert code == 2 and "not a run's results" in message
    assert (out / "baseline" / "notes.md").read_text() == "mine"


def test_result_folders_get_the_users_normal_permissions(tmp_path):
    previous = os.umask(0o022)
    try:
        assert main([str(BASELINE), "--out", str(tmp_path), *QUICK]) == 0
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "baseline").stat().st_mode) == 0o755


def test_a_crash_between_the_renames_is_recovered_and_stale_staging_removed(tmp_path):
    target = tmp_path / "baseline"
    stranded = tmp_path / ".baseline.old"  # the earlier result, moved aside just before a crash
    stranded.mkdir()
    (stranded / "manifest.json").write_text("{}")
    (tmp_path / ".baseline.x1y2.tmp").mkdir()  # half a result of a killed writer
    with atomic_folder(target, check=lambda t: None) as staging:
        assert (target / "manifest.json").read_text() == "{}"  # recovered before anything else
        (staging / "new.txt").write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["baseline"]
    assert (target / "new.txt").read_text() == "new"


def test_a_failing_plot_keeps_the_data(tmp_path, capsys, monkeypatch):
    def broken(frame, folder, title=""):
        raise RuntimeError("no font today")

    monkeypatch.setattr("model.plots.plot_run", broken)
    code, message = run([str(BASELINE), "--out", str(tmp_path), "--scale", "1e6", "--quiet"], capsys)
    assert code == 1 and "a plot failed (RuntimeError: no font today)" in message
    assert {"timeseries.parquet", "timeseries.csv", "manifest.json"} <= set(contents(tmp_path / "baseline"))


def test_a_math_or_very_long_description_plots_as_plain_text(tmp_path):
    text = "Pay $x^2$ and \\frac{a}{b} " + "and more " * 200
    path = whatif(tmp_path, f"description = {json.dumps(text[:500])}\n")
    assert main([str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    assert len(list((tmp_path / "out" / "mine").glob("*.png"))) == 4


# ---------------------------------------------------------------- --out checked before the work starts


@pytest.mark.parametrize(
    ("command", "extra"),
    [([], ["--quiet"]), (["sweep"], ["--quiet"]), (["validate"], []), (["calibrate"], ["--trials", "1"])],
    ids=["run", "sweep", "validate", "calibrate"],
)
def test_out_that_is_a_file_is_refused_before_any_run(tmp_path, capsys, command, extra, monkeypatch):
    monkeypatch.setattr("model.model.EcnyModel.__init__", lambda *a, **k: pytest.fail("a run started"))
    target = SCENARIOS / "sweeps" / "smoke.toml" if command == ["sweep"] else BASELINE
    file = tmp_path / "a_file"
    file.write_text("precious")
    code, message = run([*command, str(target), "--out", str(file), *extra], capsys)
    assert code == 2 and "is a file, not a folder" in message, message
    assert file.read_text() == "precious"


def test_out_below_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "a_file").write_text("x")
    code, message = run([str(BASELINE), "--out", str(tmp_path / "a_file" / "sub"), *QUICK], capsys)
    assert code == 2 and "is a file, not a folder" in message


# ---------------------------------------------------------------- the environment: exit code 3


@pytest.fixture
def tmpfs(tmp_path):
    """A small real tmpfs (``mount(8)``), or None where this process may not mount one."""
    point = tmp_path / "disk"
    point.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        yield None
        return
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(point)], capture_output=True
    )
    if mounted.returncode:
        yield None
        return
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def remount(point: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(point)], check=True)


def fill(point: Path, leave: int) -> None:
    """Fill the tmpfs but ``leave`` bytes."""
    free = shutil.disk_usage(point).free
    with open(point / "filler", "wb") as handle:
        handle.write(b"\0" * max(0, free - leave))


def test_a_read_only_out_is_refused_before_any_run(tmp_path, capsys, tmpfs, monkeypatch):
    if tmpfs is not None:
        remount(tmpfs, "ro")
        out = tmpfs
    else:
        out = tmp_path / "ro"

        def denied(*args, **kwargs):
            raise PermissionError(errno.EACCES, "Permission denied")

        monkeypatch.setattr("model.paths.tempfile.mkstemp", denied)
    monkeypatch.setattr("model.model.EcnyModel.__init__", lambda *a, **k: pytest.fail("a run started"))
    code, message = run([str(BASELINE), "--out", str(out), *QUICK], capsys)
    assert code == 3 and "cannot write in" in message and str(out) in message and "\n" not in message


def test_a_full_disk_is_one_line_and_the_earlier_result_is_intact(tmp_path, capsys, tmpfs, monkeypatch):
    out = tmpfs if tmpfs is not None else tmp_path / "out"
    assert main([str(BASELINE), "--out", str(out), *QUICK]) == 0
    earlier = contents(out / "baseline")
    if tmpfs is not None:
        fill(tmpfs, leave=200_000)  # room for the probe, not for the CSV
    else:
        import model.results as results

        def full(*args, **kwargs):
            raise OSError(errno.ENOSPC, "No space left on device", str(out / "baseline" / "timeseries.csv"))

        monkeypatch.setattr(results, "write_csv", full)
    code, message = run([str(BASELINE), "--out", str(out), *QUICK], capsys)
    assert code == 3 and "No space left on device" in message and "\n" not in message
    assert contents(out / "baseline") == earlier
    assert sorted(p.name for p in out.iterdir() if p.name != "filler") == ["baseline"]  # no staging left


@pytest.mark.slow
def test_an_unreachable_scheduler_is_one_line_with_exit_code_3(tmp_path, capsys):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once closed
    smoke = SCENARIOS / "sweeps" / "smoke.toml"
    argv = ["sweep", str(smoke), "--scheduler", f"tcp://127.0.0.1:{port}", "--out", str(tmp_path), "--quiet"]
    code, message = run(argv, capsys)
    assert code == 3 and f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in message
