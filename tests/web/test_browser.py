"""The dashboard as staff use it: a real `creditlink serve` on a tour book, keys made with the
CLI, and Debian's Chromium (/usr/bin/chromium) driven by Playwright; no browser is
downloaded and nothing is fetched from any other site.

Where Chromium is missing the tests skip and say why, unless CREDITLINK_REQUIRE_BROWSER=1
(set by .ci/run), which turns the skip into a failure. Screenshots are kept as test artefacts
in $CREDITLINK_ARTIFACTS (default: test-artifacts/ at the repository root).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60
BARS = ".barlayer .trace.bars .point path"  # what Plotly draws for each bar
CLI = [sys.executable, "-c", "from creditlink.interfaces.cli.main import run; run()"]


def find_chromium(path: Path = CHROMIUM) -> Path:
    """Chromium's path; else skip saying why, or fail where the browser is required."""
    if not path.exists():
        reason = f"Chromium is not installed at {path} (apt-get install -y chromium)"
        if os.environ.get("CREDITLINK_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason}, and CREDITLINK_REQUIRE_BROWSER=1")
        pytest.skip(reason)
    return path


def artifacts() -> Path:
    folder = Path(os.environ.get("CREDITLINK_ARTIFACTS") or ROOT / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class Served:
    base: str
    keys: dict[str, str]
    log: Path
    requested: list[str] = field(default_factory=list)


def _cli(*args: str) -> str:
    done = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`creditlink tour`'s book, a key per role from `creditlink apikey create`, and
    `creditlink serve` on a free port."""
    find_chromium()
    folder = tmp_path_factory.mktemp("dashboard")
    _cli("tour", "--out", str(folder))
    url = f"sqlite:///{folder / 'book.db'}"
    keys = {}
    for role, customer in (
        ("operator", None),
        ("risk_admin", None),
        ("customer", "c1"),
    ):
        extra = ["--customer", customer] if customer else []
        out = _cli("apikey", "create", "--role", role, *extra, "--db", url)
        found = re.search(r"cl_[A-Za-z0-9_-]{40,}", out)
        assert found, out
        keys[role] = found.group(0)
    port = _free_port()
    log = folder / "serve.log"
    environment = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    with log.open("wb") as output:
        server = subprocess.Popen(
            [*CLI, "serve", "--db", url, "--port", str(port)],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert server.poll() is None, log.read_text()
            try:
                if httpx2.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield Served(base=base, keys=keys, log=log)
    finally:
        server.terminate()
        server.wait(timeout=30)
    served_log = log.read_text()
    for key in keys.values():
        assert key.removeprefix("cl_") not in served_log, "a key was written to the log"


@pytest.fixture(scope="module")
def browser(served: Served) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(find_chromium()), args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, served: Served) -> Iterator[Page]:
    """A fresh browser context (no cookies) that records every request and every error."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("request", lambda request: served.requested.append(request.url))
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on(
        "console",
        lambda message: errors.append(message.text) if message.type == "error" else None,
    )
    yield opened
    context.close()
    offsite = [url for url in served.requested if not url.startswith(served.base)]
    assert offsite == [], "the dashboard fetched something from elsewhere"
    # A refused page (403) logs its status to the console; nothing else may.
    assert [e for e in errors if "status of 403" not in e] == []


def sign_in(page: Page, served: Served, role: str) -> None:
    page.goto(f"{served.base}/ui")
    expect(page).to_have_url(re.compile(r"/ui/sign-in\?next="))
    page.fill("#api_key", served.keys[role])
    page.click("button[type=submit]")
    expect(page.get_by_test_id("who")).to_contain_text(role)


def shot(page: Page, name: str) -> None:
    path = artifacts() / f"dashboard-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 0


def test_sign_in_the_overview_draws_its_charts_and_a_customer_opens(
    page: Page, served: Served
) -> None:
    sign_in(page, served, "operator")
    expect(page).to_have_url(f"{served.base}/ui")
    expect(page.get_by_test_id("customers")).to_have_text("3")
    charts = page.locator("figure.chart")
    expect(charts).to_have_count(4)
    expect(page.locator("figure.chart svg.main-svg").first).to_be_visible()
    for index in range(charts.count()):
        chart = charts.nth(index)
        name = chart.get_attribute("data-chart")
        svg = chart.locator("svg.main-svg").first
        expect(svg).to_be_visible()
        box = svg.bounding_box()
        assert box is not None, name
        assert box["width"] > 100, name
        assert box["height"] > 100, name
        assert chart.locator(BARS).count() > 0, f"{name}: no bars drawn"
    shot(page, "overview")

    page.get_by_role("link", name="c1", exact=True).first.click()
    expect(page).to_have_url(f"{served.base}/ui/customers/c1")
    national_id = page.get_by_test_id("national-id")
    expect(national_id).to_have_text(re.compile(r"^\d{6}\*{8}[\dX]{4}$"))
    expect(page.get_by_test_id("paylater")).to_be_visible()
    expect(page.get_by_test_id("loans")).to_contain_text("demo-2")
    expect(page.get_by_test_id("decisions")).to_contain_text("APPROVE")
    shot(page, "customer")


def test_an_operator_acknowledges_an_alert_and_sees_its_status_change(
    page: Page, served: Served
) -> None:
    sign_in(page, served, "operator")
    page.get_by_role("link", name="Alerts").click()
    rows = page.locator("[data-testid=alert-queue] tr[data-alert]")
    expect(rows.first).to_be_visible()
    row = rows.first
    alert_id = row.get_attribute("data-alert")
    expect(row.get_by_test_id("status")).to_have_text("open")
    row.locator("input[name=note]").first.fill("called the customer")
    row.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_test_id("done")).to_have_text(f"Alert {alert_id} acknowledged.")
    expect(page.locator(f"tr[data-alert='{alert_id}']")).to_have_count(0)  # off the queue
    page.get_by_role("link", name="all", exact=True).click()
    status = page.locator(f"tr[data-alert='{alert_id}']").get_by_test_id("status")
    expect(status).to_contain_text("acknowledged")
    expect(status).to_contain_text("called the customer")
    shot(page, "alerts")

    # An operator reads parameters but gets no form to change them.
    page.get_by_role("link", name="Parameters").click()
    expect(page.get_by_test_id("history")).to_be_visible()
    expect(page.get_by_test_id("change-form")).to_have_count(0)


def test_a_risk_admin_changes_a_parameter_and_sees_it_in_the_history(
    page: Page, served: Served
) -> None:
    sign_in(page, served, "risk_admin")
    page.goto(f"{served.base}/ui/parameters")
    versions = page.locator("[data-testid=history] tr[data-version]")
    before = versions.count()
    page.select_option("#name", "linkage.restrict_dpd")
    page.fill("#value", "9")
    page.fill("#reason", "browser test: restrict after 9 days")
    page.get_by_role("button", name="Put in force").click()
    expect(page.get_by_test_id("done")).to_contain_text("is in force")
    expect(versions).to_have_count(before + 1)
    newest = versions.first
    expect(newest).to_contain_text("browser test: restrict after 9 days")
    expect(newest).to_contain_text("risk_admin")
    newest.get_by_role("link", name=re.compile("diff with")).click()
    expect(page.get_by_test_id("diff")).to_contain_text("linkage.restrict_dpd")
    shot(page, "parameters")


def test_a_customer_key_opens_its_own_page_and_not_another(page: Page, served: Served) -> None:
    sign_in(page, served, "customer")
    expect(page).to_have_url(f"{served.base}/ui/customers/c1")
    expect(page.get_by_test_id("national-id")).to_contain_text("********")
    response = page.goto(f"{served.base}/ui/customers/c2")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_test_id("refused")).to_contain_text("own customer")
    shot(page, "customer-refused")
