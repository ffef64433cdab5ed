"""Reading a TOML file the user gave (a scenario or a sweep file) into a plain document, or one clear error.

``tomllib`` alone turns many ordinary mistakes into tracebacks or puzzles: a byte-order mark reads as
"Invalid statement (at line 1, column 1)", a binary or Latin-1 file raises ``UnicodeDecodeError``, arrays
nested two thousand deep exhaust the recursion limit. Each of these gets a ``ScenarioError`` that names
the file and says what is wrong; the document that comes back is never deeper than ``MAX_DEPTH`` tables
and arrays, so the code that walks it cannot recurse out of bounds either.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from .errors import ScenarioError

MAX_BYTES = 4 * 1024 * 1024  # a scenario or sweep file is a few kilobytes; this is a thousand times that
MAX_DEPTH = 16  # tables and arrays inside one another; the deepest real key path has 5 parts
BOM = b"\xef\xbb\xbf"
# keys that only a sweep file has at its top level (model.sweep.spec reads them)
SWEEP_KEYS = ("base", "replications", "root_seed", "vary", "scenarios", "sample")


def read_document(path: Path, what: str, where: tuple[Path, str] | None = None) -> dict[str, Any]:
    """The TOML document in ``path`` (``what``: "scenario" or "sweep", for the messages).

    A missing file is blamed on ``where`` (the file and key that named it, e.g. an ``extends``) if given.
    """
    path = Path(path)
    if not path.is_file():
        kind = "a folder, not a" if path.is_dir() else "no such"
        if where:
            raise ScenarioError(where[0], where[1], str(path), f"{kind} {what} file")
        raise ScenarioError(path, "", None, f"{kind} {what} file")
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            _fail(path, f"{size:,} bytes: too large for a {what} file (at most {MAX_BYTES:,} bytes)")
        data = path.read_bytes()
    except OSError as exc:
        _fail(path, f"cannot be read ({exc.strerror or exc})")
    if data.startswith(BOM):
        _fail(path, "starts with a UTF-8 byte-order mark (BOM); save it as UTF-8 without a BOM")
    if b"\x00" in data:
        _fail(path, f"holds NUL bytes: a binary file, not a {what} file (TOML text)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        _fail(path, f"not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); save it as UTF-8")
    try:
        document = tomllib.loads(text)
    except RecursionError:
        _fail(path, f"nested too deeply: tables and arrays at most {MAX_DEPTH} levels inside one another")
    except tomllib.TOMLDecodeError as exc:
        _fail(path, f"not valid TOML: {exc}")
    deep = _too_deep(document)
    if deep is not None:
        _fail(path, f"{deep}: nested too deeply (at most {MAX_DEPTH} tables and arrays inside one another)")
    return document


def _fail(path: Path, message: str):
    raise ScenarioError(path, "", None, message)


def _too_deep(document: dict[str, Any]) -> str | None:
    """The key path of a value nested deeper than ``MAX_DEPTH``, or None (iterative: no recursion)."""
    stack: list[tuple[Any, str, int]] = [(document, "", 0)]
    while stack:
        node, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            return where or "(top level)"
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            if isinstance(value, dict | list):
                stack.append((value, f"{where}.{key}" if where else str(key), depth + 1))
    return None


def describe_keys(document: dict[str, Any], keys: tuple[str, ...] | list[str]) -> str:
    """``keys`` that ``document`` has, for a message: "base, replications"."""
    return ", ".join(k for k in keys if k in document)
