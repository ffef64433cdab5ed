"""The errors the library raises, and how a value is shown in a message.

Three kinds, one exit code each on the command line (``model.cli``):

* ``ScenarioError`` (exit 2): a scenario or sweep file that cannot run; it names the file, the key path,
  the value and what is allowed.
* ``InputError`` (exit 2): any other bad input (a path, an option, a folder that holds something else).
* ``EnvironmentFault`` (exit 3): the machine, not the input: a full disk, a folder that cannot be written,
  not enough memory, a Dask scheduler that cannot be reached or was lost.

A message is one line. Values are shown as they would be written in TOML (dates as ISO dates, text in
double quotes), cut to ``SHOW_LIMIT`` characters: a message never echoes a 60 MB array, nor more than a
few words of a file it was not asked to print.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path
from typing import Any

SHOW_LIMIT = 80


class InputError(Exception):
    """Bad input that is not a scenario file (a path, an option); the message says what is allowed."""


class EnvironmentFault(Exception):
    """The machine cannot do what was asked (disk, permissions, memory, scheduler); input was fine."""


class _Missing:
    """The value of a key that is not there."""

    def __repr__(self) -> str:
        return "(missing)"


MISSING = _Missing()


class ScenarioError(ValueError):
    """A scenario that cannot run. ``str()`` is the one message the user sees:
    ``FILE: KEY = VALUE: ALLOWED``, or ``FILE: ALLOWED`` for the file as a whole (``key = ""``)."""

    def __init__(self, file: str | Path, key: str, value: Any, allowed: str) -> None:
        self.file, self.key, self.value, self.allowed = str(file), key, value, allowed
        super().__init__(self._message())

    def _message(self) -> str:
        if not self.key:
            return f"{self.file}: {self.allowed}"
        if self.value is MISSING:
            return f"{self.file}: {self.key}: {self.allowed}"
        return f"{self.file}: {self.key} = {show(self.value)}: {self.allowed}"

    def __reduce__(self):  # so that it survives pickling to and from worker processes
        return (type(self), (self.file, self.key, self.value, self.allowed))


class Notice(UserWarning):
    """Something the user should know while the work goes on; the command line shows it as one line."""


class ScenarioWarning(Notice):
    """Something a scenario probably did not mean, that does not stop it."""


class CapacityWarning(Notice):
    """A request the machine serves only in part (more workers than CPUs, a cluster with no workers)."""


def os_reason(exc: OSError) -> str:
    """The operating system's reason for ``exc`` in a few words ("No space left on device")."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno == 28 or "No space left" in reason:
        return "No space left on device"
    return " ".join(reason.split())[:160]


def show(value: Any, limit: int = SHOW_LIMIT) -> str:
    """``value`` as TOML would spell it, at most ``limit`` characters (longer text ends in ``...``)."""
    parts: list[str] = []
    _render(value, parts, [limit + 1], depth=0)
    text = "".join(parts)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _render(value: Any, out: list[str], budget: list[int], depth: int) -> None:
    """Append the TOML spelling of ``value`` to ``out``, stopping once ``budget`` characters are spent
    (so a huge array is never turned into text whole)."""
    if budget[0] <= 0:
        return
    if isinstance(value, dict):
        items = list(value.items())
        _emit("{", out, budget)
        for k, (key, item) in enumerate(items):
            if budget[0] <= 0 or depth > 8:
                _emit(" ...", out, budget)
                break
            _emit(("" if k == 0 else ", ") + f"{_key(key)} = ", out, budget)
            _render(item, out, budget, depth + 1)
        _emit("}", out, budget)
        return
    if isinstance(value, list | tuple):
        _emit("[", out, budget)
        for k, item in enumerate(value):
            if budget[0] <= 0 or depth > 8:
                _emit(" ...", out, budget)
                break
            if k:
                _emit(", ", out, budget)
            _render(item, out, budget, depth + 1)
        _emit("]", out, budget)
        return
    _emit(_scalar(value, budget[0]), out, budget)


def _emit(text: str, out: list[str], budget: list[int]) -> None:
    out.append(text)
    budget[0] -= len(text)


def _key(key: Any) -> str:
    text = str(key)
    return text if text.replace("_", "").replace("-", "").isalnum() else _quoted(text, SHOW_LIMIT)


def _quoted(text: str, limit: int) -> str:
    cut = text[: limit + 1]
    escaped = cut.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in escaped)
    return f'"{escaped}"'


def _scalar(value: Any, limit: int) -> str:
    if value is None:
        return "(nothing)"
    if value is MISSING:
        return "(missing)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        short = f"{value:g}"
        return short if float(short) == value else repr(value)
    if isinstance(value, int):
        return str(value) if value.bit_length() <= 256 else f"(a whole number of {value.bit_length()} bits)"
    if isinstance(value, str):
        return _quoted(value, limit)
    if isinstance(value, Path):
        return _quoted(str(value), limit)
    return _quoted(str(value), limit)
