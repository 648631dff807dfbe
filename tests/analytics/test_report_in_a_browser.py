"""The report as a reader sees it: opened from disk in Chromium, every chart laid out and drawn.

Uses Debian's Chromium (/usr/bin/chromium) through Playwright; no browser is downloaded. Where
Chromium is missing the test skips and says why, unless CREDITLINK_REQUIRE_BROWSER=1 (set by
.ci/run once it has installed Chromium), which turns the skip into a failure. A screenshot is
saved beside the test's files, and into $PLAYWRIGHT_ARTIFACTS when that is set.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import sync_playwright

from creditlink.analytics.report import CHART_NAMES, render_report

CHROMIUM = Path("/usr/bin/chromium")
DRAWN = "path, rect, line, polyline, polygon, circle, ellipse"


def find_chromium(path: Path = CHROMIUM) -> Path:
    """Chromium's path; else skip saying why, or fail where the browser is required."""
    if not path.exists():
        reason = f"Chromium is not installed at {path} (apt-get install -y chromium)"
        if os.environ.get("CREDITLINK_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason}, and CREDITLINK_REQUIRE_BROWSER=1")
        pytest.skip(reason)
    return path


@pytest.fixture
def chromium_path() -> Path:
    return find_chromium()


def test_without_chromium_the_browser_test_skips_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CREDITLINK_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Chromium is not installed"):
        find_chromium(tmp_path / "chromium")


def test_without_chromium_the_browser_test_fails_where_it_is_required(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CREDITLINK_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="CREDITLINK_REQUIRE_BROWSER=1"):
        find_chromium(tmp_path / "chromium")


@pytest.fixture(params=["fixture", "twin"])
def report_metrics(request: pytest.FixtureRequest, metrics: dict[str, Any]) -> dict[str, Any]:
    """The hand-built fixture, and the metrics of a small real twin run."""
    if request.param == "fixture":
        return metrics
    from creditlink.simulation.twin.engine import TwinConfig
    from creditlink.simulation.twin.run import LINKED, SILOED, simulate

    config = TwinConfig(customers=60, months=4, seed=3, shock_month=3, partition_size=60)
    return simulate(config, [LINKED, SILOED], workers=1)


def test_every_chart_is_laid_out_and_drawn_in_chromium(
    chromium_path: Path, report_metrics: dict[str, Any], tmp_path: Path
) -> None:
    metrics = report_metrics
    report = tmp_path / "report.html"
    report.write_text(render_report(metrics), encoding="utf-8")
    screenshot = tmp_path / "report.png"
    requested: list[str] = []
    errors: list[str] = []

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path), args=["--no-sandbox"]
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda request: requested.append(request.url))
            page.on("console", lambda message: errors.append(message.text))
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(report.as_uri())

            figures = page.locator("figure.chart")
            names = [figures.nth(i).get_attribute("data-chart") for i in range(figures.count())]
            assert sorted(n for n in names if n) == sorted(CHART_NAMES)

            svgs = page.locator("figure.chart svg")
            assert svgs.count() >= len(CHART_NAMES)
            for index in range(svgs.count()):
                svg = svgs.nth(index)
                box = svg.bounding_box()
                label = svg.evaluate(
                    "e => e.closest('figure').dataset.chart + ' #' + "
                    "[...e.closest('figure').querySelectorAll('svg')]"
                    ".indexOf(e)"
                )
                assert box is not None, f"{label} is not laid out"
                assert box["width"] > 0, label
                assert box["height"] > 0, label
                assert svg.locator(DRAWN).count() > 0, f"{label} has nothing drawn"

            # Nothing runs off the side of a laptop-sized window.
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()

    assert requested == [report.as_uri()], "the report fetched something besides itself"
    assert errors == []
    assert screenshot.stat().st_size > 0
    artifacts = os.environ.get("PLAYWRIGHT_ARTIFACTS")
    if artifacts:
        folder = Path(artifacts)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(screenshot, folder / "twin-report.png")
        shutil.copyfile(report, folder / "twin-report.html")
