"""The alert queue over HTTP: list, acknowledge, escalate, and the steps refused."""

from __future__ import annotations

from fastapi.testclient import TestClient

from creditlink.bootstrap import Book
from tests.http.conftest import assert_problem, auth
from tests.service import Keys, add_alert


def test_an_alert_is_acknowledged_then_escalated_then_closed_by_a_risk_officer(
    client: TestClient, keys: Keys, book: Book
) -> None:
    alert_id = add_alert(book, "c1")
    listed = client.get("/alerts?status=open", headers=auth(keys.operator)).json()
    assert [item["alert_id"] for item in listed["items"]] == [alert_id]
    assert listed["items"][0]["evidence"] == "c1: PayLater 3 days past due"

    acknowledged = client.post(
        f"/alerts/{alert_id}/acknowledge", json={"note": "called"}, headers=auth(keys.operator)
    )
    assert acknowledged.status_code == 200, acknowledged.text
    body = acknowledged.json()
    assert (body["status"], body["status_note"]) == ("acknowledged", "called")
    assert body["status_by"].startswith("apikey:")
    assert body["status_at"] is not None
    again = client.post(f"/alerts/{alert_id}/acknowledge", headers=auth(keys.risk_admin))
    assert_problem(again, 409, "ALERT_ALREADY_ACKNOWLEDGED", "alert_id")

    escalated = client.post(
        f"/alerts/{alert_id}/escalate",
        json={"note": "promised payment missed"},
        headers=auth(keys.operator),
    )
    assert escalated.json()["status"] == "escalated"
    twice = client.post(
        f"/alerts/{alert_id}/escalate", json={"note": "again"}, headers=auth(keys.operator)
    )
    assert_problem(twice, 409, "ALERT_ALREADY_ESCALATED")

    closed = client.post(f"/alerts/{alert_id}/acknowledge", headers=auth(keys.risk_admin))
    assert closed.json()["status"] == "acknowledged"
    assert closed.json()["status_note"] is None
    assert client.get("/alerts?status=open", headers=auth(keys.operator)).json()["total"] == 0
    with book.store.reader() as uow:
        actions = [record.action for record in uow.audit.recent(limit=3)]
    assert actions == ["alert.acknowledge", "alert.escalate", "alert.acknowledge"]


def test_escalating_needs_a_note_and_changes_nothing_without_one(
    client: TestClient, keys: Keys, book: Book
) -> None:
    alert_id = add_alert(book, "c1")
    for body in ({"note": "   "}, {}):
        response = client.post(
            f"/alerts/{alert_id}/escalate", json=body, headers=auth(keys.operator)
        )
        assert_problem(response, 422, "NOTE_REQUIRED", "note")
    missing = client.post(f"/alerts/{alert_id}/escalate", headers=auth(keys.operator))
    assert_problem(missing, 422, "MISSING")
    shown = client.get(f"/alerts/{alert_id}", headers=auth(keys.operator)).json()
    assert shown["status"] == "open"


def test_a_recovery_can_be_acknowledged_but_not_escalated(
    client: TestClient, keys: Keys, book: Book
) -> None:
    recovery = add_alert(book, "c1", kind="recovery")
    response = client.post(
        f"/alerts/{recovery}/escalate", json={"note": "why not"}, headers=auth(keys.operator)
    )
    assert_problem(response, 409, "RECOVERY_NOT_ESCALATED")
    response = client.post(f"/alerts/{recovery}/acknowledge", headers=auth(keys.operator))
    assert response.json()["status"] == "acknowledged"


def test_an_unknown_alert_is_not_found(client: TestClient, keys: Keys) -> None:
    response = client.post("/alerts/999/acknowledge", headers=auth(keys.operator))
    assert_problem(response, 404, "ALERT_EXISTS", "alert_id")
    assert_problem(client.get("/alerts/999", headers=auth(keys.auditor)), 404, "ALERT_EXISTS")
    response = client.post("/alerts/0/acknowledge", headers=auth(keys.operator))
    assert_problem(response, 422, "GREATER_THAN_EQUAL", "alert_id")


def test_alerts_are_listed_newest_first_and_filtered(
    client: TestClient, keys: Keys, book: Book
) -> None:
    first = add_alert(book, "c1")
    second = add_alert(book, "c2")
    recovery = add_alert(book, "c1", kind="recovery")
    client.post(f"/alerts/{second}/acknowledge", headers=auth(keys.operator))

    def ids(query: str) -> list[int]:
        response = client.get(f"/alerts{query}", headers=auth(keys.operator))
        assert response.status_code == 200, response.text
        return [item["alert_id"] for item in response.json()["items"]]

    assert ids("") == [recovery, second, first]
    assert ids("?customer_id=c1") == [recovery, first]
    assert ids("?status=acknowledged") == [second]
    assert ids("?kind=alert&status=open") == [first]
    assert ids("?offset=1&limit=1") == [second]
    bad = client.get("/alerts?status=closed", headers=auth(keys.operator))
    assert_problem(bad, 422, "LITERAL_ERROR", "status")


def test_a_customer_key_sees_its_own_alert_but_not_another(
    client: TestClient, keys: Keys, book: Book
) -> None:
    own = add_alert(book, "c1")
    other = add_alert(book, "c2")
    assert client.get(f"/alerts/{own}", headers=auth(keys.customer)).status_code == 200
    response = client.get(f"/alerts/{other}", headers=auth(keys.customer))
    assert_problem(response, 403, "OWN_CUSTOMER_ONLY")
    # Nor may a customer key tell which alert ids exist.
    missing = client.get(f"/alerts/{other + 100}", headers=auth(keys.customer))
    assert (missing.status_code, missing.json()) == (
        403,
        {**response.json(), "instance": f"/alerts/{other + 100}"},
    )
