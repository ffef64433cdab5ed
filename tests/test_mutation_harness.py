"""The mutation harness's bookkeeping: declared equivalent mutants stay real and are scored as declared."""

from __future__ import annotations

from dataclasses import replace

from benchmarks import mutation


def test_every_declared_equivalent_mutant_is_still_generated():
    """A declaration that no longer matches a mutant (the line was edited) would hide nothing and mislead."""
    declared = mutation.equivalent()
    files = tuple(sorted({file for file, _, _ in declared}))
    generated = {(m.file, m.before, m.after) for m, _ in mutation.mutants(files, sources=False)}
    stale = [key for key in declared if key not in generated]
    assert not stale, f"declared in equivalent_mutants.toml but no longer generated: {stale}"


def test_declared_survivors_leave_the_score_and_killed_declarations_are_wrong():
    declared = {("model/rules.py", "x < y", "x < y -> x <= y"): "why"}
    base = mutation.Mutant("model/rules.py", 3, "comparison", "x < y", "x < y -> x <= y")
    other = mutation.Mutant("model/rules.py", 9, "constant", "z = 0", "0 -> 1")
    survivors = [replace(base, status="survived"), replace(other, status="survived")]
    assert mutation.classify(survivors, declared) == []
    assert [m.status for m in survivors] == ["equivalent", "survived"]
    assert mutation.score([vars(m) for m in survivors]) == (0, 1)
    killed = [replace(base, status="killed"), replace(other, status="killed")]
    wrong = mutation.classify(killed, declared)
    assert len(wrong) == 1 and "declared equivalent but was killed" in wrong[0]
    assert mutation.score([vars(m) for m in killed]) == (2, 2)
