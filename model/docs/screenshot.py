"""The README's dashboard screenshot: the gestures of ``tests/test_dashboard_browser.py`` (banks' target
intensity doubled, Reset, played to the end of 2025), in Debian's chromium driven by Playwright
(``executable_path``; never ``playwright install``), on a free loopback port."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .provenance import ROOT

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip
LISTEN_SECONDS = 90


@dataclass
class Served:
    url: str
    process: subprocess.Popen
    started: float  # perf_counter at the command
    ready: float  # perf_counter when the port accepted a connection


@contextmanager
def served_dashboard(*options: str, log: IO | int = subprocess.DEVNULL) -> Iterator[Served]:
    """``run.py dashboard OPTIONS`` on a free loopback port until the block ends, then Ctrl-C (SIGINT), as
    a user would stop it. Raises RuntimeError if it exits or does not listen within ``LISTEN_SECONDS``."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "run.py", "dashboard", "--port", str(port), *options],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the dashboard exited with code {process.returncode} before listening")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.perf_counter() - started > LISTEN_SECONDS:
                    raise RuntimeError(f"the dashboard did not listen within {LISTEN_SECONDS} s") from None
                time.sleep(0.1)
        yield Served(f"http://127.0.0.1:{port}/", process, started, time.perf_counter())
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def dashboard_screenshot(path: Path, viewport: tuple[int, int] = (1600, 1000)) -> Path:
    """Serve the baseline's dashboard, double the banks' target intensity, play to 2025, screenshot."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        raise RuntimeError("the dashboard screenshot needs Debian's chromium: apt-get install chromium")
    with served_dashboard("--compare-seeds", "2") as served, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
        page.goto(served.url)
        page.wait_for_selector(".ecny-s-curve img", timeout=60_000)
        thumb = page.locator(".v-input", has_text="Bank wallet-target intensity").locator("[role=slider]")
        thumb.focus()
        page.keyboard.press("PageUp")  # ten steps: 1.0 -> 2.0
        page.get_by_role("button", name="Reset", exact=True).click()
        page.locator(".ecny-levers", has_text="wallet-target intensity (x): 2.0").first.wait_for(
            timeout=30_000
        )
        page.get_by_role("button", name="▶", exact=True).click()
        page.locator(".ecny-status", has_text="week 300 of 300").first.wait_for(timeout=300_000)
        page.wait_for_timeout(500)
        page.screenshot(path=str(path), full_page=True)
        browser.close()
    return path
