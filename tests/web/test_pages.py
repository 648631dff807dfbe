"""The dashboard's rules without a browser: sign-in and sessions, roles, CSRF, masking,
and that its forms call the same use cases as the API."""

from __future__ import annotations

import logging
import time

import pytest
from fastapi.testclient import TestClient

from creditlink.adapters import memory
from creditlink.application.alerts import get_alert
from creditlink.application.apikeys import revoke_api_key
from creditlink.application.parameters import parameter_history, parameter_set
from creditlink.application.queries import decisions
from creditlink.bootstrap import Book
from creditlink.domain.products import Product
from creditlink.interfaces.web import pages
from creditlink.interfaces.web.session import COOKIE, read_session, safe_next
from tests.conftest import CLOCK, spend
from tests.service import Keys, add_alert
from tests.web.conftest import FULL_IDS, csrf_of, sign_in

PAGES = (
    "/ui",
    "/ui/customers",
    "/ui/customers/c1",
    "/ui/alerts",
    "/ui/parameters",
    "/ui/incidents",
)
STAFF_PAGES = ("/ui", "/ui/customers", "/ui/alerts", "/ui/parameters", "/ui/incidents")


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_a_stranger_to_the_sign_in_form(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/ui/sign-in?next=")
    assert "set-cookie" not in response.headers


def test_posts_without_a_session_change_nothing(
    client: TestClient, web_book: Book, keys: Keys
) -> None:
    alert_id = add_alert(web_book, "c1")
    response = client.post(f"/ui/alerts/{alert_id}/acknowledge", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/ui/sign-in")
    assert get_alert(web_book.store.reader(), alert_id=alert_id).status == "open"


def test_a_wrong_key_is_refused_and_gets_no_cookie(client: TestClient, keys: Keys) -> None:
    for wrong in ("", "cl_not-a-key", keys.operator + "x", "x" * 250):
        response = client.post("/ui/sign-in", data={"api_key": wrong}, follow_redirects=False)
        assert response.status_code == 401
        assert "unknown or revoked" in response.text
        assert COOKIE not in response.headers.get("set-cookie", "")


def test_signing_in_sets_a_strict_http_only_session_that_is_not_the_key(
    client: TestClient, keys: Keys, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    response = client.post(
        "/ui/sign-in", data={"api_key": keys.operator, "next": "/ui/alerts"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/alerts"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for attribute in ("HttpOnly", "SameSite=strict", "Path=/ui"):
        assert attribute.lower() in cookie.lower(), cookie
    secret = keys.operator.removeprefix("cl_")
    assert secret not in cookie
    assert all(secret not in record.getMessage() for record in caplog.records)
    assert client.get("/ui/alerts").status_code == 200


def test_after_sign_in_staff_land_on_the_overview_and_customers_on_their_own_page(
    client: TestClient, keys: Keys
) -> None:
    response = client.post("/ui/sign-in", data={"api_key": keys.auditor}, follow_redirects=False)
    assert response.headers["location"] == "/ui"
    client.cookies.clear()
    response = client.post("/ui/sign-in", data={"api_key": keys.customer}, follow_redirects=False)
    assert response.headers["location"] == "/ui/customers/c1"


@pytest.mark.parametrize("target", ["//evil.example/ui", "https://evil.example/ui", "/docs", ""])
def test_sign_in_never_sends_anyone_off_the_dashboard(target: str) -> None:
    assert safe_next(target) is None
    assert safe_next("/ui/customers/c1?on=2026-01-05") == "/ui/customers/c1?on=2026-01-05"


def test_a_forged_tampered_expired_or_revoked_session_is_no_session(
    client: TestClient, web_book: Book, keys: Keys
) -> None:
    sign_in(client, keys.operator)
    token = client.cookies[COOKIE]
    session = read_session(web_book, token)
    assert session is not None
    assert session.principal.role == "operator"
    key_id, expires, nonce, signature = token.split(".")
    risk_admin = read_session(web_book, _cookie_of(client, keys.risk_admin))
    assert risk_admin is not None
    forged = [
        f"{risk_admin.principal.key_id}.{expires}.{nonce}.{signature}",  # another key's id
        f"{key_id}.{int(expires) + 3600}.{nonce}.{signature}",  # a later expiry
        f"{key_id}.{expires}.{nonce}.{'0' * len(signature)}",
        "garbage",
        "",
    ]
    for bad in forged:
        assert read_session(web_book, bad) is None, bad
    assert read_session(web_book, token, now=time.time() + 9 * 3600) is None  # expired

    revoke_api_key(
        web_book.store.unit_of_work(),
        key_id=session.principal.key_id,
        actor="test",
        reason="left",
        clock=CLOCK,
    )
    client.cookies.clear()
    client.cookies.set(COOKIE, token)
    response = client.get("/ui/alerts", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/ui/sign-in")


def _cookie_of(client: TestClient, key: str) -> str:
    response = client.post("/ui/sign-in", data={"api_key": key}, follow_redirects=False)
    return response.cookies[COOKIE]


@pytest.mark.parametrize("role", ["operator", "auditor", "customer"])
def test_signing_out_clears_the_session(client: TestClient, keys: Keys, role: str) -> None:
    sign_in(client, getattr(keys, role))
    token = csrf_of(client, "/ui/customers/c1")
    response = client.post("/ui/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/sign-in"
    assert COOKIE in response.headers["set-cookie"]
    assert "Max-Age=0" in response.headers["set-cookie"]
    assert client.get("/ui/customers/c1", follow_redirects=False).status_code == 303


def test_a_copy_of_a_signed_out_session_id_no_longer_works(
    client: TestClient, web_book: Book, keys: Keys
) -> None:
    """Signing out ends the session on the server, not only in this browser: an id copied
    before (another tab, a stolen cookie) is refused. Other sessions of the key go on."""
    sign_in(client, keys.operator)
    copied = client.cookies[COOKIE]
    other = _cookie_of(client, keys.operator)  # the same key, signed in again elsewhere
    client.cookies.clear()
    client.cookies.set(COOKIE, copied)
    token = csrf_of(client, "/ui/alerts")
    signed_out = client.post("/ui/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert signed_out.status_code == 303

    assert read_session(web_book, copied) is None
    client.cookies.clear()
    client.cookies.set(COOKIE, copied)
    response = client.get("/ui/alerts", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/ui/sign-in")
    client.cookies.clear()
    client.cookies.set(COOKIE, other)
    assert client.get("/ui/alerts", follow_redirects=False).status_code == 200


# -- roles ---------------------------------------------------------------------------------


def test_a_customer_key_sees_its_own_customer_only(client: TestClient, keys: Keys) -> None:
    sign_in(client, keys.customer)
    assert client.get("/ui/customers/c1").status_code == 200
    other = client.get("/ui/customers/c2")
    assert other.status_code == 403
    assert "own customer" in other.text
    assert "Customer c2" not in other.text
    # Refused before the lookup: a customer key cannot learn which customers exist.
    assert client.get("/ui/customers/nobody").status_code == 403
    for path in ("/ui/alerts", "/ui/parameters", "/ui/incidents"):
        assert client.get(path).status_code == 403, path
    for path in ("/ui", "/ui/customers"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/ui/customers/c1"


def test_a_customer_cannot_reach_another_customers_alert(
    client: TestClient, web_book: Book, keys: Keys
) -> None:
    theirs = add_alert(web_book, "c2")
    sign_in(client, keys.customer)
    assert client.get(f"/ui/alerts/{theirs}").status_code == 403
    assert client.get("/ui/alerts/999999").status_code == 403


@pytest.mark.parametrize("role", ["operator", "risk_admin", "auditor"])
def test_staff_and_auditors_open_every_page(client: TestClient, keys: Keys, role: str) -> None:
    sign_in(client, getattr(keys, role))
    for path in (*STAFF_PAGES, "/ui/customers/c2"):
        response = client.get(path)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in response.headers["content-security-policy"]


def test_only_risk_admin_sees_and_uses_the_parameter_form(
    client: TestClient, web_book: Book, keys: Keys
) -> None:
    before = parameter_set(web_book.store.reader()).version
    for role in ("operator", "auditor"):
        client.cookies.clear()
        sign_in(client, getattr(keys, role))
        page = client.get("/ui/parameters")
        assert page.status_code == 200
        assert 'data-testid="change-form"' not in page.text
        token = csrf_of(client, "/ui/parameters")
        response = client.post(
            "/ui/parameters",
            data={
                "csrf_token": token,
                "name": "linkage.restrict_dpd",
                "value": "5",
                "reason": "try",
            },
        )
        assert response.status_code == 403, role
    assert parameter_set(web_book.store.reader()).version == before
    client.cookies.clear()
    sign_in(client, keys.risk_admin)
    assert 'data-testid="change-form"' in client.get("/ui/parameters").text


def test_auditors_read_the_queue_and_cannot_work_it(
    client: TestClient, web_book: Book, keys: Keys
) -> None:
    alert_id = add_alert(web_book, "c1")
    sign_in(client, keys.auditor)
    page = client.get("/ui/alerts")
    assert f'data-alert="{alert_id}"' in page.text
    assert "Acknowledge</button>" not in page.text
    token = csrf_of(client)
    response = client.post(f"/ui/alerts/{alert_id}/acknowledge", data={"csrf_token": token})
    assert response.status_code == 403
    assert "change nothing" in response.text
    assert get_alert(web_book.store.reader(), alert_id=alert_id).status == "open"


# -- CSRF ----------------------------------------------------------------------------------


def test_a_form_without_this_sessions_token_or_from_another_site_is_refused(
    client: TestClient, web_book: Book, keys: Keys
) -> None:
    alert_id = add_alert(web_book, "c1")
    sign_in(client, keys.risk_admin)
    other_token = csrf_of(client)
    client.cookies.clear()
    sign_in(client, keys.operator)
    token = csrf_of(client)
    assert token != other_token
    path = f"/ui/alerts/{alert_id}/acknowledge"
    for data in ({}, {"csrf_token": ""}, {"csrf_token": other_token}, {"csrf_token": "0" * 64}):
        response = client.post(path, data=data)
        assert response.status_code == 403, data
    response = client.post(
        path, data={"csrf_token": token}, headers={"Origin": "http://evil.example"}
    )
    assert response.status_code == 403
    assert get_alert(web_book.store.reader(), alert_id=alert_id).status == "open"
    response = client.post(
        "/ui/sign-in", data={"api_key": keys.operator}, headers={"Origin": "http://evil.example"}
    )
    assert response.status_code == 403


# -- the queue and parameters call the use cases --------------------------------------------


def test_acknowledge_and_escalate_from_the_queue(
    client: TestClient, web_book: Book, keys: Keys
) -> None:
    first, second = add_alert(web_book, "c1"), add_alert(web_book, "c2", level="RESTRICT")
    sign_in(client, keys.operator)
    token = csrf_of(client)
    response = client.post(
        f"/ui/alerts/{first}/acknowledge",
        data={"csrf_token": token, "note": "called the customer"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    acknowledged = get_alert(web_book.store.reader(), alert_id=first)
    assert acknowledged.status == "acknowledged"
    assert acknowledged.status_note == "called the customer"
    assert acknowledged.status_by is not None
    assert acknowledged.status_by.endswith(":operator")
    assert f"Alert {first} acknowledged." in client.get(response.headers["location"]).text
    spoofed = client.get("/ui/alerts?done=hacked-by-someone").text
    assert "hacked" not in spoofed

    again = client.post(f"/ui/alerts/{first}/acknowledge", data={"csrf_token": token})
    assert again.status_code == 409
    assert "already acknowledged" in again.text

    no_reason = client.post(f"/ui/alerts/{second}/escalate", data={"csrf_token": token})
    assert no_reason.status_code == 422
    assert get_alert(web_book.store.reader(), alert_id=second).status == "open"
    client.post(f"/ui/alerts/{second}/escalate", data={"csrf_token": token, "note": "loan too"})
    assert get_alert(web_book.store.reader(), alert_id=second).status == "escalated"
    escalated = client.get("/ui/alerts?status=escalated").text
    assert f'data-alert="{second}"' in escalated
    assert f'data-alert="{first}"' not in escalated


def test_risk_admin_changes_a_parameter_with_a_reason(
    client: TestClient, web_book: Book, keys: Keys
) -> None:
    sign_in(client, keys.risk_admin)
    token = csrf_of(client, "/ui/parameters")
    before = parameter_set(web_book.store.reader())
    change = {"name": "linkage.restrict_dpd", "value": "7", "reason": "web test: earlier restrict"}
    response = client.post(
        "/ui/parameters", data={"csrf_token": token, **change}, follow_redirects=False
    )
    assert response.status_code == 303
    after = parameter_set(web_book.store.reader())
    assert after.version == before.version + 1
    assert after.as_text()["linkage.restrict_dpd"] == "7"
    assert parameter_history(web_book.store.reader())[-1].reason == change["reason"]
    page = client.get(response.headers["location"]).text
    assert f"Version {after.version} is in force" in page
    assert change["reason"] in page
    diff = client.get(f"/ui/parameters?a={before.version}&b={after.version}").text
    assert "linkage.restrict_dpd" in diff.split('data-testid="diff"')[1].split("</table>")[0]

    for bad in (
        {"name": "linkage.restrict_dpd", "value": "soon", "reason": "x"},
        {"name": "no.such", "value": "1", "reason": "x"},
        {"name": "linkage.restrict_dpd", "value": "8", "reason": "  "},
    ):
        refused = client.post("/ui/parameters", data={"csrf_token": token, **bad})
        assert refused.status_code in (404, 422), bad
        assert 'data-testid="error"' in refused.text
    assert parameter_set(web_book.store.reader()).version == after.version


# -- what pages show -----------------------------------------------------------------------


def test_national_ids_are_masked_on_every_page(
    client: TestClient, web_book: Book, keys: Keys
) -> None:
    add_alert(web_book, "c1")
    sign_in(client, keys.operator)
    masked = FULL_IDS[0][:6] + "********" + FULL_IDS[0][-4:]
    customer_page = client.get("/ui/customers/c1").text
    assert masked in customer_page
    for path in (*STAFF_PAGES, "/ui/customers/c1", "/ui/customers/c2"):
        html = client.get(path).text
        for full in FULL_IDS:
            assert full not in html, path
            assert full[6:14] not in html, path  # not even the birth date


def test_the_customer_page_shows_both_products_limit_score_alerts_and_decisions(
    client: TestClient, web_book: Book, keys: Keys
) -> None:
    add_alert(web_book, "c1", level="RESTRICT")
    spend(web_book.store, "c1", Product.PAYLATER, 123_400, "web-purchase")
    spend(web_book.store, "c1", Product.LOAN, 300_000, "web-loan")
    sign_in(client, keys.customer)
    html = client.get("/ui/customers/c1").text
    for section in ("paylater", "loans", "limits", "score", "customer-alerts", "decisions"):
        assert f'data-testid="{section}"' in html, section
    assert "c1: PayLater 3 days past due" in html  # the alert's evidence
    assert "20000.00" in html  # the joint limit add_customer gives
    assert "web-purchase" in html  # its decision
    assert "1234.00" in html  # PayLater usage
    assert "<h3>web-loan" in html  # the loan and its schedule


def test_the_customer_page_reads_only_the_newest_decisions_it_shows(
    client: TestClient, web_book: Book, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    for ref in ("buy-first", "buy-second", "buy-third"):
        spend(web_book.store, "c1", Product.PAYLATER, 1_000, ref)
    every = decisions(web_book.store.reader(), customer_id="c1")
    monkeypatch.setattr(pages, "DECISIONS_SHOWN", 2)

    def every_decision(*args: object, **kwargs: object) -> None:
        raise AssertionError("the page read every decision of the customer")

    monkeypatch.setattr(memory._Decisions, "list", every_decision)
    sign_in(client, keys.customer)
    html = client.get("/ui/customers/c1").text
    assert f"newest first, 2 of {len(every)})" in html
    assert html.index("buy-third") < html.index("buy-second")
    assert "buy-first" not in html


def test_the_overview_shows_the_portfolio_figures_and_loads_plotly_from_here(
    client: TestClient, web_book: Book, keys: Keys
) -> None:
    add_alert(web_book, "c1")
    add_alert(web_book, "c2")
    sign_in(client, keys.auditor)
    html = client.get("/ui").text
    assert 'data-testid="customers">2<' in html
    assert 'data-testid="open-alerts">2<' in html
    for chart in ("balances", "utilisation", "alerts", "ecl"):
        assert f'data-chart="{chart}"' in html
    scripts = [part.split('"')[0] for part in html.split('<script src="')[1:]]
    assert scripts
    assert all(src.startswith("/ui/static/") for src in scripts), scripts
    plotly = client.get(scripts[0])
    assert plotly.status_code == 200
    assert "immutable" in plotly.headers["cache-control"]
    assert plotly.headers["content-type"].startswith("text/javascript")
    assert len(plotly.content) > 1_000_000


def test_the_pages_are_not_in_the_api_description(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith("/ui")]


@pytest.mark.parametrize(
    "path",
    [
        "/ui/parameters?a=99999999999999999999&b=1",
        "/ui/parameters?a=1&b=99999999999999999999",
        "/ui/alerts/99999999999999999999",
        "/ui/incidents?on=0001-01-01",
        "/ui?on=9999-12-31",
        "/ui/customers/c1?on=9999-12-31",
    ],
)
def test_out_of_range_numbers_and_dates_are_refused_not_failed(
    client: TestClient, keys: Keys, path: str
) -> None:
    sign_in(client, keys.operator)
    response = client.get(path)
    assert 400 <= response.status_code < 500, (path, response.status_code, response.text[:300])


def test_acting_on_an_alert_id_out_of_range_is_refused_not_failed(
    client: TestClient, keys: Keys
) -> None:
    sign_in(client, keys.operator)
    token = csrf_of(client)
    for verb in ("acknowledge", "escalate"):
        response = client.post(
            f"/ui/alerts/99999999999999999999/{verb}", data={"csrf_token": token, "note": "x"}
        )
        assert 400 <= response.status_code < 500, response.text[:300]
