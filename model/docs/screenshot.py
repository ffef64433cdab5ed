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
from pathlib import Path

from .provenance import ROOT

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip
LISTEN_SECONDS = 90


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_listening(process: subprocess.Popen, port: int) -> None:
    started = time.perf_counter()
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the dashboard exited with code {process.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.perf_counter() - started > LISTEN_SECONDS:
                raise RuntimeError(f"the dashboard did not listen within {LISTEN_SECONDS} s") from None
            time.sleep(0.2)


def dashboard_screenshot(path: Path, viewport: tuple[int, int] = (1600, 1000)) -> Path:
    """Serve the baseline's dashboard, double the banks' target intensity, play to 2025, screenshot."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        raise RuntimeError("the dashboard screenshot needs Debian's chromium: apt-get install chromium")
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "run.py", "dashboard", "--port", str(port), "--compare-seeds", "2"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        _wait_listening(server, port)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=ARGS)
            page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
            page.goto(f"http://127.0.0.1:{port}/")
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
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return path
