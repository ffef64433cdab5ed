"""Mutation testing of the rules and the engines: ``python -m benchmarks.mutation`` writes MUTATION.md.

Every mutant is one small change to one line of ``TARGETS`` (generated from the syntax tree, not chosen by
hand): an arithmetic operator swapped (+ -, * /), a comparison loosened or flipped (< <=, > >=, == !=), a
boolean operator swapped (and or), a ``not`` dropped, True and False swapped, a number changed (n to n + 1,
x to 2x, named by its column), an augmented assignment's operand changed, or a statement removed (an
assignment, a call or an augmented assignment: "what a decision changes"); type annotations are left alone.
Each mutant runs the engine test set ``TESTS`` in a copy of the tree; a failing test kills it. Survivors are
listed for review: some are equivalent mutants (a change no behaviour can show), the others are gaps in the
tests. The equivalent ones are declared, each with its reason, in ``equivalent_mutants.toml``; the score is
killed / (run - equivalent survivors), the usual definition, and the raw share killed is reported beside it.
A declared mutant that a test kills is reported as a wrong declaration.

Mutants run with ``NUMBA_DISABLE_JIT=1``: the vectorized engine then runs the same phases as plain Python
(compiling every mutant would take a minute each); the equality of the compiled and the Python phases is
tested separately (``tests/test_engines_agree.py``, ``tests/test_rules.py``).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import queue
import random
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from tqdm import tqdm

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TARGETS = (
    "model/rules.py",
    "model/phases.py",
    "model/context.py",
    "model/engines/agents.py",
    "model/engines/vectorized.py",
    "model/network.py",
)
TESTS = (
    "tests/test_rules.py",
    "tests/test_draws.py",
    "tests/test_phases_oracle.py",
    "tests/test_engines_agree.py::test_the_baseline_is_the_same_run_in_both_engines",
    "tests/test_engines_agree.py::test_neighbour_counts_kept_up_to_date_equal_a_recount",
    "tests/test_engines_agree.py::test_variants_are_the_same_run_in_both_engines",
    "tests/test_engines_agree.py::test_no_network_is_built_when_no_one_reads_it",
    "tests/test_engines_agree.py::test_region_graphs_list_the_same_neighbours_as_each_small_world",
    "tests/test_engines_agree.py::test_an_engines_memory_is_the_arrays_it_holds",
    "tests/test_engines_agree.py::test_a_regions_network_is_built_when_it_goes_live",
    "tests/test_bank_choice.py",
    "tests/test_step_view.py",
    "tests/test_network.py",
    "tests/test_conservation.py",
)
COPY = ("model", "tests", "scenarios", "pyproject.toml")
EQUIVALENT = HERE / "equivalent_mutants.toml"
SWAPS = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.And: ast.Or,
    ast.Or: ast.And,
    ast.BitAnd: ast.BitOr,
    ast.BitOr: ast.BitAnd,
    ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
}


@dataclass
class Mutant:
    file: str
    line: int
    kind: str
    before: str
    after: str
    status: str = "pending"  # killed | survived | equivalent (a declared survivor)
    seconds: float = 0.0
    failed: str = ""


class _Collector(ast.NodeVisitor):
    """Every place a mutation operator applies, as (node path, kind) over the function bodies."""

    def __init__(self) -> None:
        self.sites: list[tuple[ast.AST, str]] = []
        self.in_function = 0

    def visit_FunctionDef(self, node):
        self.in_function += 1
        body = node.body[1:] if ast.get_docstring(node) else node.body
        for child in body:
            self.visit(child)
        self.in_function -= 1

    def visit_AnnAssign(self, node):
        """An annotated assignment: its value may be mutated or the statement removed, not its type."""
        if self.in_function and node.value is not None:
            self.sites.append((node, "statement"))
            self.visit(node.value)

    def generic_visit(self, node):
        if self.in_function:
            if isinstance(node, ast.BinOp | ast.AugAssign) and type(node.op) in SWAPS:
                self.sites.append((node, "operator"))
            elif isinstance(node, ast.BoolOp):
                self.sites.append((node, "boolean"))
            elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in SWAPS:
                self.sites.append((node, "comparison"))
            elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
                self.sites.append((node, "not"))
            elif isinstance(node, ast.Constant) and type(node.value) in (int, float, bool):
                self.sites.append((node, "constant"))
            if isinstance(node, ast.Assign | ast.AugAssign | ast.Expr) and not (
                isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            ):
                self.sites.append((node, "statement"))
        super().generic_visit(node)


def _mutate(node: ast.AST, kind: str) -> Callable[[], None]:
    """Apply ``kind`` to ``node`` in place; return what undoes it."""
    saved_class, saved = node.__class__, dict(node.__dict__)

    def undo() -> None:
        node.__class__ = saved_class
        node.__dict__.clear()
        node.__dict__.update(saved)

    if kind in ("operator", "boolean"):
        node.op = SWAPS[type(node.op)]()
    elif kind == "comparison":
        node.ops = [SWAPS[type(node.ops[0])]()]
    elif kind == "not":
        node.op = ast.UAdd()  # +x: the negation dropped (truthiness of a bool is kept)
    elif kind == "constant":
        value = node.value
        node.value = (
            (not value) if isinstance(value, bool) else (value + 1 if isinstance(value, int) else value * 2)
        )
        if node.value == value:  # 0.0 * 2
            node.value = 1.0
    elif kind == "statement":
        node.__class__ = ast.Pass
        for field in list(node._fields):
            delattr(node, field)
    return undo


def mutants(files: tuple[str, ...] = TARGETS, sources: bool = True) -> list[tuple[Mutant, str | None]]:
    """Every mutant of ``files``: (description, mutated source, or None without ``sources``).

    Each file is parsed once; every mutation is applied to its tree, written out and undone.
    """
    out = []
    for file in files:
        source = (ROOT / file).read_text()
        lines = source.splitlines()
        tree = ast.parse(source)
        collector = _Collector()
        collector.visit(tree)
        for node, kind in collector.sites:
            line = node.lineno
            before = ast.unparse(node)
            undo = _mutate(node, kind)
            after = "pass" if kind == "statement" else ast.unparse(node)
            if kind == "not":
                after = after.replace("+", "", 1)
            mutated = ast.unparse(tree) if sources else None
            undo()
            change = f"{before[:60]} -> {after[:60]}"
            if kind == "constant":  # "1 -> 2" alone can stand for several places on a line
                change += f" (column {node.col_offset})"
            out.append((Mutant(file, line, kind, lines[line - 1].strip()[:100], change), mutated))
    return out


def equivalent(path: Path = EQUIVALENT) -> dict[tuple[str, str, str], str]:
    """The declared equivalent mutants: (file, mutated line, mutation) -> why no behaviour can show them."""
    entries = tomllib.loads(path.read_text())["mutant"]
    return {(e["file"], e["line"], e["mutation"]): " ".join(e["why"].split()) for e in entries}


def classify(results: list[Mutant], declared: dict[tuple[str, str, str], str]) -> list[str]:
    """Mark declared survivors ``equivalent``; return the declarations that a test contradicted."""
    wrong = []
    for m in results:
        if (m.file, m.before, m.after) in declared:
            if m.status in ("survived", "equivalent"):
                m.status = "equivalent"
            else:
                wrong.append(f"{m.file}:{m.line} `{m.after}` is declared equivalent but was {m.status}")
    return wrong


def score(rows: list[dict]) -> tuple[int, int]:
    """(killed, killable): the mutants a test killed, of those not declared equivalent."""
    killed = sum(r["status"] == "killed" for r in rows)
    return killed, sum(r["status"] != "equivalent" for r in rows)


def run_one(mutant: Mutant, source: str, workdir: Path, timeout: float) -> Mutant:
    target = workdir / mutant.file
    original = target.read_text()
    target.write_text(source)
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1", "PYTHONPATH": str(workdir), "PYTHONDONTWRITEBYTECODE": "1"}
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *TESTS],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        mutant.status = "survived" if done.returncode == 0 else "killed"
        if done.returncode not in (0, 1):
            mutant.status = "killed"  # collection or import errors kill too
        failed = [ln for ln in done.stdout.splitlines() if ln.startswith(("FAILED", "ERROR"))]
        mutant.failed = failed[0][:160] if failed else ""
    except subprocess.TimeoutExpired:
        mutant.status, mutant.failed = "killed", f"timeout after {timeout:.0f} s"
    finally:
        target.write_text(original)
    mutant.seconds = time.perf_counter() - started
    return mutant


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.mutation", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample", type=int, default=0, help="run a random sample of this many (0: all)")
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per mutant")
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    parser.add_argument(
        "--survivors",
        action="store_true",
        help="run again only the survivors of the last report (mutation.json), after new tests; the others "
        "keep their status",
    )
    args = parser.parse_args(argv)
    everything = mutants()
    chosen = everything
    earlier: list[Mutant] = []
    if args.survivors:
        earlier = [Mutant(**r) for r in json.loads((HERE / "mutation.json").read_text())["results"]]
        again = {(m.file, m.line, m.before, m.after) for m in earlier if m.status == "survived"}
        chosen = [(m, source) for m, source in everything if (m.file, m.line, m.before, m.after) in again]
        earlier = [m for m in earlier if m.status != "survived"]
    elif args.sample and args.sample < len(everything):
        chosen = random.Random(args.seed).sample(everything, args.sample)
    if args.list:
        for mutant, _ in chosen:
            print(f"{mutant.file}:{mutant.line} {mutant.kind}: {mutant.after}")
        return 0
    workdirs = []
    for k in range(args.workers):
        folder = Path(tempfile.mkdtemp(prefix=f"mutation-{k}-"))
        for name in COPY:
            src = ROOT / name
            if src.is_dir():
                shutil.copytree(src, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(src, folder / name)
        workdirs.append(folder)
    # the unmutated tree must pass the tests, or every mutant would count as killed
    control = Mutant(TARGETS[0], 0, "none", "", "unmutated")
    control = run_one(control, (ROOT / TARGETS[0]).read_text(), workdirs[0], args.timeout)
    if control.status != "survived":
        for folder in workdirs:
            shutil.rmtree(folder, ignore_errors=True)
        print(f"the unmutated tree fails the tests ({control.failed or 'see pytest'}): nothing to measure")
        return 1
    started = time.perf_counter()
    results: list[Mutant] = []
    free: queue.Queue[Path] = queue.Queue()
    for folder in workdirs:
        free.put(folder)

    def task(mutant: Mutant, source: str) -> Mutant:
        folder = free.get()  # a copy of the tree that no other mutant is using
        try:
            return run_one(mutant, source, folder, args.timeout)
        finally:
            free.put(folder)

    try:
        with ThreadPoolExecutor(args.workers) as pool, tqdm(total=len(chosen), unit="mutant") as bar:
            futures = [pool.submit(task, mutant, source) for mutant, source in chosen]
            for future in futures:
                results.append(future.result())
                bar.update()
    finally:
        for folder in workdirs:
            shutil.rmtree(folder, ignore_errors=True)
    results = earlier + results
    wrong = classify(results, equivalent())
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "mutants_generated": len(everything),
        "mutants_run": len(results),
        "survivors_run_again": len(chosen) if args.survivors else 0,
        "seconds": time.perf_counter() - started,
        "tests": list(TESTS),
        "results": [asdict(m) for m in results],
        "wrong_declarations": wrong,
    }
    (HERE / "mutation.json").write_text(json.dumps(report, indent=2) + "\n")
    (HERE / "MUTATION.md").write_text(markdown(report))
    killed, killable = score(report["results"])
    print(
        f"{killed} of {killable} killable mutants killed ({100 * killed / max(killable, 1):.1f}%); "
        f"{len(results) - killable} equivalent; {len(wrong)} wrong declarations"
    )
    return 0


def markdown(report: dict) -> str:
    rows = report["results"]
    killed, killable = score(rows)
    declared = equivalent()
    lines = [
        "# Mutation testing: the rules and the engines",
        "",
        f"Written by `python -m benchmarks.mutation` on {report['when']}: {report['mutants_run']} mutants of "
        f"{report['mutants_generated']} generated over {', '.join(f'`{t}`' for t in TARGETS)}, each run "
        f"against {len(report['tests'])} test files or tests in {report['seconds'] / 60:.0f} minutes.",
        "",
    ]
    if report.get("survivors_run_again"):
        lines += [
            f"The last {report['survivors_run_again']} of them are the survivors of an earlier run of this "
            "sample, run again after new tests (`--survivors`); the others keep that run's status.",
            "",
        ]
    lines += [
        f"**Score: {killed} killed of {killable} killable, {100 * killed / max(killable, 1):.1f}%** "
        f"({len(rows) - killable} equivalent mutants, declared with their reasons in "
        f"`benchmarks/equivalent_mutants.toml`, are left out; raw: {killed} of {len(rows)}, "
        f"{100 * killed / max(len(rows), 1):.1f}%).",
        "",
        "| file | mutants | killed | equivalent | score |",
        "|---|---|---|---|---|",
    ]
    for file in TARGETS:
        mine = [r for r in rows if r["file"] == file]
        if mine:
            k, n = score(mine)
            lines.append(f"| `{file}` | {len(mine)} | {k} | {len(mine) - n} | {100 * k / max(n, 1):.0f}% |")
    survivors = sorted((r for r in rows if r["status"] == "survived"), key=lambda r: (r["file"], r["line"]))
    lines += ["", "## Survivors (gaps in the tests)", ""]
    if survivors:
        lines += ["| file:line | kind | mutation | line |", "|---|---|---|---|"]
        lines += [
            f"| `{r['file']}:{r['line']}` | {r['kind']} | `{r['after']}` | `{r['before']}` |"
            for r in survivors
        ]
    else:
        lines.append("None.")
    same = sorted((r for r in rows if r["status"] == "equivalent"), key=lambda r: (r["file"], r["line"]))
    if same:
        lines += [
            "",
            "## Equivalent mutants (survivors no behaviour can show)",
            "",
            "| file:line | mutation | why |",
        ]
        lines.append("|---|---|---|")
        for r in same:
            why = declared.get((r["file"], r["before"], r["after"]), "")
            lines.append(f"| `{r['file']}:{r['line']}` | `{r['after']}` | {why} |")
    if report.get("wrong_declarations"):
        lines += ["", "## Wrong declarations", "", *[f"- {w}" for w in report["wrong_declarations"]]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
