"""Requests that name no date take the book's open business date, never the wall clock;
views and reports refuse a date whose figures they cannot show (application.business_date)."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient

from creditlink.application.close_of_day import close_day
from creditlink.bootstrap import Book
from tests.conftest import CLOCK, DAY, national_id
from tests.http.conftest import assert_problem, auth
from tests.service import Keys

LAST_CLOSED = date(2026, 1, 9)
OPEN = date(2026, 1, 10)


def _close_through(book: Book, last: date) -> None:
    day = DAY
    while day <= last:
        close_day(book.store, on=day, clock=CLOCK)
        day += timedelta(days=1)


def test_operations_and_views_without_a_date_take_the_open_business_date(
    client: TestClient, keys: Keys, book: Book
) -> None:
    assert CLOCK.today() < DAY  # the wall clock is not the book's date
    _close_through(book, LAST_CLOSED)
    bought = client.post(
        "/customers/c1/paylater/purchases",
        json={"ref": "p1", "amount_fen": 10_000, "merchant": "Grocer", "category": "retail"},
        headers=auth(keys.customer, **{"Idempotency-Key": "p1"}),
    )
    assert bought.status_code == 201, bought.text
    assert bought.json()["decision"]["on"] == OPEN.isoformat()
    view = client.get("/customers/c1/paylater", headers=auth(keys.customer)).json()
    assert view["as_of"] == OPEN.isoformat()
    assert client.get("/customers/c1/loans", headers=auth(keys.customer)).status_code == 200
    shown = client.get("/customers/c1", headers=auth(keys.customer)).json()
    assert shown["limits"]["used_paylater_fen"] == 10_000
    overview = client.get("/portfolio", headers=auth(keys.operator)).json()
    assert overview["on"] == LAST_CLOSED.isoformat()  # what the close has brought up to date


def test_views_and_reports_refuse_a_date_they_would_mislabel(
    client: TestClient, keys: Keys, book: Book
) -> None:
    _close_through(book, LAST_CLOSED)
    for path in ("/customers/c1/paylater", "/customers/c1/loans", "/customers/c1/limits"):
        earlier = client.get(f"{path}?on={LAST_CLOSED.isoformat()}", headers=auth(keys.customer))
        assert_problem(earlier, 422, "VIEW_DATE_OPEN", "on")
    later = client.get("/customers/c1/paylater?on=2026-02-01", headers=auth(keys.customer))
    assert later.status_code == 200, later.text  # a projection: accruals to a later date
    before_close = f"/portfolio?on={(LAST_CLOSED - timedelta(days=1)).isoformat()}"
    assert_problem(
        client.get(before_close, headers=auth(keys.operator)), 422, "REPORT_DATE_CLOSED", "on"
    )
    signed = client.post("/ui/sign-in", data={"api_key": keys.operator}, follow_redirects=False)
    assert signed.status_code == 303
    page = client.get(f"/ui/customers/c1?on={LAST_CLOSED.isoformat()}")
    assert page.status_code == 422
    assert OPEN.isoformat() in page.text
    assert client.get("/ui/customers/c1").status_code == 200


def test_onboarding_takes_only_the_open_business_date(
    client: TestClient, keys: Keys, book: Book
) -> None:
    _close_through(book, LAST_CLOSED)
    applicant = {
        "customer_id": "c9",
        "name": "Late",
        "national_id": national_id(9),
        "mobile": "13800138000",
        "joint_limit_fen": 1_000_000,
    }
    for on, rule in (
        ("2026-01-01", "BUSINESS_DATE_CLOSED"),
        ("2026-01-12", "BUSINESS_DATE_NOT_OPEN"),
    ):
        refused = client.post(
            "/customers",
            json={**applicant, "on": on},
            headers=auth(keys.operator, **{"Idempotency-Key": f"c9-{on}"}),
        )
        assert_problem(refused, 409, rule, "on")
    assert_problem(client.get("/customers/c9", headers=auth(keys.operator)), 404, "CUSTOMER_EXISTS")
    onboarded = client.post(
        "/customers", json=applicant, headers=auth(keys.operator, **{"Idempotency-Key": "c9"})
    )
    assert onboarded.status_code == 201, onboarded.text
    assert onboarded.json()["customer"]["onboarded_on"] == OPEN.isoformat()


def test_a_date_must_be_written_as_a_date_not_a_number(
    client: TestClient, keys: Keys, book: Book
) -> None:
    """Pydantic reads a number, or a string of digits, as a Unix time: `on=0` was
    1970-01-01. Every date, in a query or a body, is YYYY-MM-DD."""
    staff = auth(keys.operator)
    for query in ("/portfolio?on=0", "/customers/c1?on=20260105", "/portfolio/ecl?on=1.5"):
        assert_problem(client.get(query, headers=staff), 422, "DATE_FORMAT", "on")
    body: dict[str, object] = {"ref": "p1", "amount_fen": 100, "merchant": "m", "category": "x"}
    headers = auth(keys.operator, **{"Idempotency-Key": "dated"})
    for written in (0, "0", 1767225600):
        answer = client.post(
            "/customers/c1/paylater/purchases", json={**body, "on": written}, headers=headers
        )
        assert_problem(answer, 422, "DATE_FORMAT", "on")
    with book.store.reader() as uow:
        assert uow.decisions.list() == []
    dated = client.post(
        "/customers/c1/paylater/purchases", json={**body, "on": DAY.isoformat()}, headers=headers
    )
    assert dated.status_code == 201, dated.text
