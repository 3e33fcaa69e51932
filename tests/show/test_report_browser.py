"""report.html as a person sees it: opened in headless Chromium (Debian's package,
driven by Playwright), offline, with every image loaded and the run's numbers shown.

Chromium is installed by tools/ensure-chromium, which ``make test`` runs first; a
missing browser fails this test loudly, it is never skipped.
"""

import csv
import io
import os
import re
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from neurona.show.plots import CLASS_COLORS

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("NEURONA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-extensions",
                 "--disable-default-apps"]


@pytest.fixture(scope="module")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run tools/ensure-chromium (make test does) or "
                    f"set NEURONA_CHROMIUM to a Chromium binary.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def run_dir(report_run):
    return report_run


@pytest.fixture(scope="module")
def opened(browser, run_dir):
    """The report open in a page, with every console message and request recorded."""
    context = browser.new_context(viewport={"width": 1300, "height": 900},
                                  java_script_enabled=True, offline=True)
    page = context.new_page()
    seen = {"console": [], "errors": [], "requests": [], "blocked": []}
    page.on("console", lambda m: seen["console"].append((m.type, m.text)))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("request", lambda r: seen["requests"].append(r.url))
    url = (run_dir / "report.html").resolve().as_uri()

    def guard(route):
        if route.request.url == url:
            route.continue_()
        else:  # anything else would be a request the report must not make
            seen["blocked"].append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    page.goto(url, wait_until="load")
    yield page, seen, url
    context.close()


def _cells(page, selector):
    return page.eval_on_selector_all(
        f"{selector} tr",
        "rows => rows.map(r => Array.from(r.cells).map(c => "
        "({text: c.textContent.trim(), value: c.dataset.value ?? null})))")


def test_page_has_no_console_errors_and_makes_no_request(opened):
    page, seen, url = opened
    assert page.title().startswith("neurona run report")
    assert [m for m in seen["console"] if m[0] in ("error", "warning")] == []
    assert seen["errors"] == []
    assert seen["blocked"] == []
    assert seen["requests"] == [url]


def test_every_image_has_loaded(opened, run_dir):
    page, _, _ = opened
    images = page.eval_on_selector_all(
        "img", "imgs => imgs.map(i => ({w: i.naturalWidth, h: i.naturalHeight, "
               "done: i.complete, src: i.currentSrc.slice(0, 15)}))")
    figures = list((run_dir / "figures").glob("*.png")) + [run_dir / "figures" / "training.gif"]
    assert len(images) == len(figures)
    for image in images:
        assert image["done"] and image["w"] > 0 and image["h"] > 0, image
        assert image["src"].startswith("data:image/")


def test_tables_hold_the_runs_numbers(opened, run_dir):
    page, _, _ = opened
    with open(run_dir / "history.csv", newline="") as f:
        history = list(csv.DictReader(f))
    rows = _cells(page, "#history")
    assert [c["text"] for c in rows[0]] == list(history[0])
    assert len(rows) - 1 == len(history)
    for row, record in zip(rows[1:], history):
        assert [c["value"] for c in row] == list(record.values())
        shown = dict(zip(record, (c["text"] for c in row)))
        assert shown["epoch"] == record["epoch"]
        assert float(shown["sse"]) == pytest.approx(float(record["sse"]), abs=5e-7)
        assert float(shown["accuracy"]) == pytest.approx(float(record["accuracy"]), abs=5e-5)

    printed = {}
    for line in (run_dir / "report.txt").read_text().splitlines():
        parts = re.split(r"\s{2,}", line.strip())
        if len(parts) >= 2 and re.fullmatch(r"[\d.]+", parts[-1]):
            printed[parts[0]] = parts[1:]
    shown = {row[0]["text"]: [c["text"] for c in row[1:] if c["text"]]
             for row in _cells(page, "#classification-report")[1:]}
    assert shown == printed


def _screenshot(target) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(target.screenshot())).convert("RGB")).astype(int)


def test_screenshot_is_not_blank(opened):
    page, _, _ = opened
    pixels = _screenshot(page)
    assert pixels.shape[:2] == (900, 1300)
    assert pixels.std() > 10
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50  # text, tables, not one colour
    page.locator("#fig-decision_boundary").scroll_into_view_if_needed()
    boundary = _screenshot(page.locator("#fig-decision_boundary img"))
    for colour in CLASS_COLORS:  # both classes' points are drawn in their colours
        rgb = np.array([int(colour[k:k + 2], 16) for k in (1, 3, 5)])
        assert np.sum(np.all(np.abs(boundary - rgb) <= 12, axis=-1)) > 100, colour


def test_the_animation_plays(opened):
    page, _, _ = opened
    gif = page.locator("#animation img")
    gif.scroll_into_view_if_needed()
    shots = []
    for _ in range(4):
        shots.append(_screenshot(gif))
        time.sleep(0.4)
    assert any(np.abs(a - b).mean() > 0.5 for a, b in zip(shots, shots[1:])), \
        "the animation did not move in the browser"
