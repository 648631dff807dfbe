"""Authentication and roles: no key, a bad key, a wrong role, another customer's key."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from creditlink.application.apikeys import authenticate, revoke_api_key
from creditlink.bootstrap import Book
from tests.conftest import CLOCK
from tests.http.conftest import assert_problem, auth
from tests.service import Keys, add_alert

PURCHASE = {"ref": "p1", "amount_fen": 10_000, "merchant": "m1", "category": "retail"}


def test_a_request_without_a_key_is_refused_with_401(client: TestClient, keys: Keys) -> None:
    response = client.get("/customers/c1")
    body = assert_problem(response, 401, "API_KEY_REQUIRED", "Authorization")
    assert response.headers["www-authenticate"] == "Bearer"
    assert body["instance"] == "/customers/c1"


def test_an_unknown_key_is_refused_with_401(client: TestClient, keys: Keys) -> None:
    response = client.get("/customers/c1", headers=auth(keys.operator + "x"))
    assert_problem(response, 401, "API_KEY_VALID", "Authorization")
    response = client.get("/customers/c1", headers=auth("not-even-ours"))
    assert_problem(response, 401, "API_KEY_VALID")


def test_a_revoked_key_stops_working_at_once(client: TestClient, keys: Keys, book: Book) -> None:
    assert client.get("/customers/c1", headers=auth(keys.auditor)).status_code == 200
    principal = authenticate(book.store.reader(), keys.auditor)
    assert principal is not None
    revoke_api_key(
        book.store.unit_of_work(), key_id=principal.key_id, actor="t", reason="left", clock=CLOCK
    )
    assert_problem(client.get("/customers/c1", headers=auth(keys.auditor)), 401, "API_KEY_VALID")


def test_the_key_may_come_in_x_api_key_too(client: TestClient, keys: Keys) -> None:
    response = client.get("/customers/c1", headers={"X-API-Key": keys.operator})
    assert response.status_code == 200
    assert response.json()["customer_id"] == "c1"


def test_an_auditor_reads_everything_and_changes_nothing(
    client: TestClient, keys: Keys, book: Book
) -> None:
    alert_id = add_alert(book, "c2")
    assert client.get("/customers", headers=auth(keys.auditor)).json()["total"] == 2
    assert client.get("/customers/c2", headers=auth(keys.auditor)).status_code == 200
    assert client.get("/alerts", headers=auth(keys.auditor)).json()["total"] == 1
    refused = [
        client.post(
            "/customers/c1/paylater/purchases",
            json=PURCHASE,
            headers=auth(keys.auditor, **{"Idempotency-Key": "a1"}),
        ),
        client.post(f"/alerts/{alert_id}/acknowledge", headers=auth(keys.auditor)),
        client.post(
            "/customers",
            json={"name": "x", "national_id": "x", "mobile": "x", "joint_limit_fen": 1},
            headers=auth(keys.auditor),
        ),
    ]
    for response in refused:
        assert_problem(response, 403, "AUDITOR_READ_ONLY")
    with book.store.reader() as uow:
        assert uow.ledger.count() == 0
        assert uow.alerts.get(alert_id).status == "open"  # type: ignore[union-attr]


def test_a_customer_key_may_not_do_staff_work(client: TestClient, keys: Keys, book: Book) -> None:
    alert_id = add_alert(book, "c1")
    response = client.post(f"/alerts/{alert_id}/acknowledge", headers=auth(keys.customer))
    body = assert_problem(response, 403, "ROLE_ALLOWED")
    assert "customer" in body["detail"]
    response = client.post(
        "/customers",
        json={"name": "x", "national_id": "x", "mobile": "x", "joint_limit_fen": 1},
        headers=auth(keys.customer),
    )
    assert_problem(response, 403, "ROLE_ALLOWED")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/customers/c2"),
        ("POST", "/customers/c2/paylater/purchases"),
        ("GET", "/alerts?customer_id=c2"),
    ],
)
def test_a_customer_key_is_refused_another_customer(
    client: TestClient, keys: Keys, book: Book, method: str, path: str
) -> None:
    headers = auth(keys.customer, **{"Idempotency-Key": "k-other"})
    response = client.request(
        method, path, json=PURCHASE if method == "POST" else None, headers=headers
    )
    assert_problem(response, 403, "OWN_CUSTOMER_ONLY", "customer_id")
    with book.store.reader() as uow:
        assert uow.ledger.count() == 0


def test_a_customer_key_is_refused_alike_for_a_customer_that_does_not_exist(
    client: TestClient, keys: Keys
) -> None:
    # The same answer whether c9 exists or not: a customer key cannot probe for customers.
    response = client.get("/customers/c9", headers=auth(keys.customer))
    assert_problem(response, 403, "OWN_CUSTOMER_ONLY")
    response = client.get("/customers/c9", headers=auth(keys.operator))
    assert_problem(response, 404, "CUSTOMER_EXISTS", "customer_id")


def test_a_customer_key_sees_its_own_customer_and_alerts_only(
    client: TestClient, keys: Keys, book: Book
) -> None:
    add_alert(book, "c1")
    add_alert(book, "c2")
    own = client.get("/customers", headers=auth(keys.customer)).json()
    assert [item["customer_id"] for item in own["items"]] == ["c1"]
    assert own["total"] == 1
    alerts = client.get("/alerts", headers=auth(keys.customer)).json()
    assert [item["customer_id"] for item in alerts["items"]] == ["c1"]
    assert client.get("/customers/c1", headers=auth(keys.customer)).status_code == 200
    response = client.post(
        "/customers/c1/paylater/purchases",
        json={**PURCHASE, "on": "2026-01-05"},
        headers=auth(keys.customer, **{"Idempotency-Key": "own-1"}),
    )
    assert response.status_code == 201, response.text
