"""What a README figure depends on, as one digest, stamped into the figure and checked by a test.

A figure shown in the README must come from the shipped model (GUIDE: "never left stale"). The figure's
inputs are the model package's source (``model/**/*.py`` and ``model/data/*``), the behavioural fit
(``scenarios/calibrated.toml``), the baseline (``scenarios/baseline.toml``) and the scenario files the figure
shows. ``digest`` hashes them (SHA-256 over each file's path relative to the repository and its bytes, in
sorted order, so a renamed file changes it too); ``make figures`` writes it into each PNG's text chunk
(``stamp_png``) and into the what-if table (``stamp_text``), and ``tests/test_readme_figures.py`` recomputes
it without running anything. This module is the one place both sides take the digest from.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KEY = "ecny-model-digest"  # the PNG text chunk's keyword
SHOWS_KEY = "ecny-shows"  # the scenario files the figure shows, comma-separated (relative to ROOT)
ALWAYS = ("scenarios/baseline.toml", "scenarios/calibrated.toml")
TEXT_STAMP = re.compile(r"<!-- ecny-model-digest: (?P<digest>[0-9a-f]{64}) shows: (?P<shows>[^>]*) -->")


def model_files(root: Path = ROOT) -> list[Path]:
    """The files of the model package a figure depends on: its Python source and its data."""
    package = root / "model"
    source = [p for p in package.rglob("*.py") if "__pycache__" not in p.parts]
    data = [p for p in (package / "data").iterdir() if p.is_file() and p.suffix != ".pyc"]
    return sorted({*source, *data})


def digest(shows: Iterable[str] = (), root: Path = ROOT) -> str:
    """SHA-256 of the model package, the baseline and calibrated scenarios and the files in ``shows``
    (paths relative to ``root``); hex."""
    files = set(model_files(root)) | {root / name for name in (*ALWAYS, *shows)}
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(path.read_bytes() if path.is_file() else b"(missing)")
        h.update(b"\0")
    return h.hexdigest()


def png_metadata(shows: Iterable[str] = ()) -> dict[str, str]:
    """The text chunks for matplotlib's ``savefig(metadata=...)``: the digest and what it covers."""
    shows = sorted(shows)
    return {KEY: digest(shows), SHOWS_KEY: ",".join(shows)}


def stamp_png(path: Path, shows: Iterable[str] = ()) -> Path:
    """Rewrite the PNG at ``path`` with the digest in its text chunks (for images not drawn by matplotlib,
    e.g. the dashboard screenshot)."""
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    for key, value in png_metadata(shows).items():
        info.add_text(key, value)
    with Image.open(path) as image:
        image.load()
        image.save(path, pnginfo=info)
    return path


def read_png_stamp(path: Path) -> tuple[str | None, list[str]]:
    """The digest a PNG carries (None when it carries none) and the scenario files it says it shows."""
    from PIL import Image

    with Image.open(path) as image:
        text = dict(getattr(image, "text", {}) or {})
    shows = [s for s in text.get(SHOWS_KEY, "").split(",") if s]
    return text.get(KEY), shows


def stamp_text(shows: Iterable[str] = ()) -> str:
    """An HTML comment carrying the digest, for a generated Markdown file."""
    shows = sorted(shows)
    return f"<!-- {KEY}: {digest(shows)} shows: {','.join(shows)} -->"


def read_text_stamp(text: str) -> tuple[str | None, list[str]]:
    """The digest a generated Markdown file carries (None when none) and the files it says it shows."""
    match = TEXT_STAMP.search(text)
    if match is None:
        return None, []
    return match["digest"], [s for s in match["shows"].split(",") if s]
