"""The dashboard in a real browser: ``run.py dashboard --port N`` on a free loopback port, Debian's chromium
driven by Playwright (``executable_path``, headless; never ``playwright install``).

One page goes through what a policy user does: look at the first paint, move a lever, Reset, step, play to
the end, compare with the baseline; another sets a bad lever and sees it refused while the app carries on;
a third sets the nationwide go-live, runs until regions outside the pilot are live, and saves the levers as
a scenario file that ``run.py`` loads.
Screenshots and the measured timings go to ``test-artifacts/`` (git-ignored).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from conftest import require_module, require_program

from model.docs.screenshot import ARGS, served_dashboard
from model.scenario import load_scenario

sync_api = require_module("playwright.sync_api")
CHROMIUM = require_program("chromium", "Debian's chromium: apt-get install chromium (.ci/run does)")

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
SAVED = ARTIFACTS / "saved_scenarios"  # the server's --save-dir, emptied for each run of the tests
SCALE = 10_000  # residents per agent: the dashboard's default, so the timings are the ones a user sees
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server():
    ARTIFACTS.mkdir(exist_ok=True)
    if SAVED.exists():
        shutil.rmtree(SAVED)
    SAVED.mkdir()
    path = ARTIFACTS / "dashboard_server.log"
    with path.open("w") as log:
        options = ["--compare-seeds", "2", "--scale", str(SCALE), "--save-dir", str(SAVED)]
        try:
            with served_dashboard(*options, log=log) as served:
                yield served
        except RuntimeError as exc:
            pytest.fail(f"{exc}: {path.read_text()}")


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


class Page:
    """A page with its console errors collected, and the few gestures the tests need."""

    def __init__(self, browser, url: str) -> None:
        self.page = browser.new_page(viewport={"width": 1600, "height": 1000})
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on(
            "response", lambda r: self.errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None
        )
        self.url = url

    def open(self) -> float:
        started = time.perf_counter()
        self.page.goto(self.url)
        self.page.wait_for_selector(".ecny-s-curve img", timeout=60_000)
        return time.perf_counter() - started

    def text(self, selector: str) -> str:
        return self.page.locator(selector).inner_text()

    def slider(self, label: str, key: str) -> str:
        """Move a slider with one key (PageUp: ten steps up), as one value change.

        A burst of changes (ten ArrowRight presses, a mouse drag) is throttled by the widget protocol: the
        browser holds back all but the first while the server is busy, whereas a click goes out at once,
        so a Reset pressed right after can be applied before the slider's last value arrives.
        """
        thumb = self.page.locator(".v-input", has_text=label).locator("[role=slider]")
        thumb.focus()
        self.page.keyboard.press(key)
        return thumb.get_attribute("aria-valuenow")

    def select(self, label: str, option: str) -> None:
        self.page.locator(".v-input", has_text=label).locator(".v-select__slot").click()
        self.page.locator(".menuable__content__active .v-list-item", has_text=option).first.click()

    def click(self, name: str) -> float:
        started = time.perf_counter()
        self.page.get_by_role("button", name=name, exact=True).click()
        return started

    def wait_text(self, selector: str, text: str, timeout: float = 30) -> float:
        """Seconds until ``selector`` shows ``text``."""
        started = time.perf_counter()
        self.page.locator(selector, has_text=text).first.wait_for(timeout=timeout * 1000)
        return time.perf_counter() - started

    def shot(self, selector: str) -> bytes:
        return self.page.locator(selector).screenshot()


def test_move_a_lever_run_and_compare(server, browser):
    page = Page(browser, server.url)
    load = page.open()
    first_paint = (server.ready - server.started) + load
    assert "week 0 of 300" in page.text(".ecny-status")
    assert "Levers as in the scenario file" in page.text(".ecny-levers")
    initial = page.shot(".ecny-s-curve img")

    # move a lever, apply it with Reset: the page says which lever is in effect
    assert page.slider("Bank wallet-target intensity", "PageUp") == "2"
    clicked = page.click("Reset")
    page.wait_text(".ecny-levers", "wallet-target intensity (x): 2.0")
    reset_redraw = time.perf_counter() - clicked

    # run steps: each Step is one render interval (13 weeks); the curve grows
    clicked = page.click("Step")
    page.wait_text(".ecny-status", "week 13 of 300")
    step_redraw = time.perf_counter() - clicked
    page.click("Step")
    page.wait_text(".ecny-status", "week 26 of 300")
    assert page.shot(".ecny-s-curve img") != initial, "the S-curve did not change"

    # play to the end of 2025
    clicked = page.click("▶")
    page.wait_text(".ecny-status", "week 300 of 300", timeout=180)
    play_to_end = time.perf_counter() - clicked
    page.page.wait_for_timeout(500)
    page.page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    # compare with the baseline, in the background, with a progress bar
    page.page.get_by_role("tab", name="Page 1").click()
    assert "Bank wallet-target intensity (x) 1.0 -> 2.0" in page.text(".ecny-compare")
    clicked = page.click("Compare with baseline")
    page.page.wait_for_selector(".ecny-progress", timeout=10_000)
    page.page.wait_for_selector(".ecny-compare-result img", timeout=180_000)
    comparison = time.perf_counter() - clicked
    table = page.text(".ecny-compare-table")
    assert "active users" in table and "2 paired seeds" in table
    page.page.screenshot(path=str(ARTIFACTS / "dashboard_compare.png"), full_page=True)

    timings = {
        "command_to_first_paint_s": round(first_paint, 2),
        "server_listening_s": round(server.ready - server.started, 2),
        "page_load_to_first_paint_s": round(load, 2),
        "lever_reset_redraw_s": round(reset_redraw, 2),
        "step_redraw_s": round(step_redraw, 2),
        "play_300_weeks_s": round(play_to_end, 2),
        "compare_2_seeds_s": round(comparison, 2),
    }
    (ARTIFACTS / "dashboard_timings.json").write_text(json.dumps(timings, indent=2))
    print(timings)
    assert page.errors == [], page.errors
    page.page.close()


def test_a_bad_lever_is_refused_and_the_app_keeps_running(server, browser):
    page = Page(browser, server.url)
    page.open()
    page.select("Wave 4 go-live", "2021-01-01")  # before wave 3 (2022-04-02)
    page.click("Reset")
    page.wait_text(".ecny-error", "pilot.waves.4")
    assert "not before wave 3" in page.text(".ecny-error")
    page.page.screenshot(path=str(ARTIFACTS / "dashboard_refused.png"), full_page=True)

    page.select("Wave 4 go-live", "2023-01-01")
    page.click("Reset")
    page.wait_text(".ecny-levers", "Wave 4 go-live: 2023-01-01")
    page.click("Step")
    page.wait_text(".ecny-status", "week 13 of 300")
    assert page.errors == [], page.errors
    page.page.close()


def test_a_nationwide_run_and_saving_its_levers(server, browser):
    page = Page(browser, server.url)
    page.open()
    assert "0 outside the pilot" in page.text(".ecny-map-status")
    page.select("Nationwide go-live", "2021-01-01")
    page.click("Reset")
    page.wait_text(".ecny-levers", "Nationwide go-live (every province): 2021-01-01")
    for week in (13, 26, 39, 52):  # four render intervals: into 2021
        page.click("Step")
        page.wait_text(".ecny-status", f"week {week} of 300", timeout=60)
    status = page.text(".ecny-map-status")
    _, _, outside = status.partition(" regions live, ")
    assert int(outside.split()[0]) > 0, status  # regions outside the pilot are live
    page.page.screenshot(path=str(ARTIFACTS / "dashboard_nationwide.png"), full_page=True)

    page.page.locator(".ecny-save input").fill("nationwide_from_browser")
    page.click("Save scenario")
    page.wait_text(".ecny-saved", "nationwide_from_browser.toml")
    saved = SAVED / "nationwide_from_browser.toml"
    scenario = load_scenario(saved)
    assert scenario.name == "nationwide_from_browser" and str(scenario.pilot.nationwide) == "2021-01-01"
    assert scenario.dump()["pilot"] == {
        **load_scenario(ROOT / "scenarios" / "baseline.toml").dump()["pilot"],
        "nationwide": "2021-01-01",
    }
    page.click("Save scenario")  # a second time: refused, the file stays as it was
    page.wait_text(".ecny-save-error", "exists: nothing was written")
    assert load_scenario(saved) == scenario
    assert page.errors == [], page.errors
    page.page.close()
