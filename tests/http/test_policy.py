"""Decisions, parameters (versions, set, diff, shadow), incidents, the audit log and the
portfolio's ECL over HTTP."""

from __future__ import annotations

from fastapi.testclient import TestClient

from creditlink.application.parameters import set_parameters
from creditlink.application.ports import Incident
from creditlink.bootstrap import Book
from tests.conftest import CLOCK, DAY
from tests.http.conftest import assert_problem, auth
from tests.service import Keys, add_alert


def _buy(client: TestClient, key: str, customer_id: str, ref: str, amount_fen: int) -> None:
    response = client.post(
        f"/customers/{customer_id}/paylater/purchases",
        json={
            "ref": ref,
            "amount_fen": amount_fen,
            "merchant": "Grocer",
            "category": "retail",
            "on": DAY.isoformat(),
        },
        headers=auth(key, **{"Idempotency-Key": f"{customer_id}-{ref}"}),
    )
    assert response.status_code in {200, 201}, response.text


def test_decisions_come_newest_first_in_pages_and_a_customer_sees_only_its_own(
    client: TestClient, keys: Keys
) -> None:
    for n in range(3):
        _buy(client, keys.operator, "c1", f"p{n}", 10_000)
    _buy(client, keys.operator, "c2", "big", 90_000_000)
    everyone = client.get("/decisions?limit=2", headers=auth(keys.auditor)).json()
    assert everyone["total"] == 4
    assert [(d["customer_id"], d["ref"]) for d in everyone["items"]] == [
        ("c2", "big"),
        ("c1", "p2"),
    ]
    assert "LIMIT_EXCEEDED" in everyone["items"][0]["reasons"]
    second = client.get("/decisions?limit=2&offset=2", headers=auth(keys.operator)).json()
    assert [d["ref"] for d in second["items"]] == ["p1", "p0"]
    one = client.get("/decisions?customer_id=c2", headers=auth(keys.operator)).json()
    assert [d["ref"] for d in one["items"]] == ["big"]
    own = client.get("/customers/c1/decisions?limit=1", headers=auth(keys.customer)).json()
    assert ([d["ref"] for d in own["items"]], own["total"]) == (["p2"], 3)
    assert_problem(
        client.get("/customers/c2/decisions", headers=auth(keys.customer)),
        403,
        "OWN_CUSTOMER_ONLY",
    )
    assert_problem(client.get("/decisions", headers=auth(keys.customer)), 403, "ROLE_ALLOWED")
    assert_problem(
        client.get("/decisions?customer_id=c9", headers=auth(keys.operator)),
        404,
        "CUSTOMER_EXISTS",
    )


def test_only_a_risk_admin_sets_parameters_with_a_reason_and_the_history_shows_it(
    client: TestClient, keys: Keys, book: Book
) -> None:
    current = client.get("/parameters", headers=auth(keys.auditor)).json()
    assert current["version"] == 1
    assert "linkage.restrict_dpd" in current["parameters"]
    change = {"changes": {"linkage.restrict_dpd": "5"}, "reason": "pilot: one more day"}
    refused = client.post("/parameters", json=change, headers=auth(keys.operator))
    assert_problem(refused, 403, "ROLE_ALLOWED")
    no_reason = client.post(
        "/parameters",
        json={"changes": {"linkage.restrict_dpd": "5"}, "reason": "  "},
        headers=auth(keys.risk_admin),
    )
    assert_problem(no_reason, 422, "REASON_REQUIRED", "reason")
    unknown = client.post(
        "/parameters",
        json={"changes": {"linkage.nope": "5"}, "reason": "x"},
        headers=auth(keys.risk_admin),
    )
    # A name in the body is input: 422, naming it (not 404, as for a resource not found).
    assert_problem(unknown, 422, "UNKNOWN_PARAMETER", "linkage.nope")
    backwards = client.post(
        "/parameters",
        json={"changes": {"linkage.watch_dpd": "10"}, "reason": "x"},
        headers=auth(keys.risk_admin),
    )
    assert_problem(backwards, 422, "LINKAGE_ORDER", "linkage.watch_dpd")
    made = client.post("/parameters", json=change, headers=auth(keys.risk_admin))
    assert made.status_code == 201, made.text
    assert (made.json()["version"], made.json()["parameters"]["linkage.restrict_dpd"]) == (2, "5")
    history = client.get("/parameters/versions", headers=auth(keys.operator)).json()
    assert [(v["version"], v["reason"]) for v in history] == [
        (1, "initial defaults"),
        (2, "pilot: one more day"),
    ]
    assert history[1]["actor"].startswith("apikey:")
    old = client.get("/parameters/versions/1", headers=auth(keys.operator)).json()
    assert (
        old["parameters"]["linkage.restrict_dpd"] == current["parameters"]["linkage.restrict_dpd"]
    )
    assert_problem(
        client.get("/parameters/versions/9", headers=auth(keys.operator)),
        404,
        "PARAMETER_VERSION_EXISTS",
    )
    diff = client.get("/parameters/diff?from=1&to=2", headers=auth(keys.auditor)).json()
    assert diff["changes"] == [
        {
            "name": "linkage.restrict_dpd",
            "before": current["parameters"]["linkage.restrict_dpd"],
            "after": "5",
        }
    ]
    audit = client.get("/audit?limit=1", headers=auth(keys.auditor)).json()
    [record] = audit["items"]
    assert (record["action"], record["reason"]) == ("parameters.set", "pilot: one more day")
    assert record["details"]["diff"]["linkage.restrict_dpd"]["after"] == "5"
    assert_problem(client.get("/audit", headers=auth(keys.operator)), 403, "ROLE_ALLOWED")
    # Filtered: the parameter change is found by its family and its subject, a key's
    # creation is not; a blank filter is refused, not ignored.
    by = client.get(
        "/audit?action=parameters&subject=version%202", headers=auth(keys.auditor)
    ).json()
    assert [(r["action"], r["subject"]) for r in by["items"]] == [("parameters.set", "version 2")]
    assert (
        client.get("/audit?action=apikey.nothing", headers=auth(keys.auditor)).json()["items"] == []
    )
    assert client.get("/audit?actor=", headers=auth(keys.auditor)).status_code == 422
    # Versions say from which business day they price (the book has never closed a date).
    assert [v["in_force_from"] for v in history] == [None, None]


def test_a_candidate_runs_in_shadow_and_its_report_shows_where_it_differs(
    client: TestClient, keys: Keys
) -> None:
    empty = client.get("/parameters/shadow", headers=auth(keys.operator)).json()
    assert (empty["candidate"], empty["decisions"]) == (None, 0)
    started = client.post(
        "/parameters/shadow",
        json={"changes": {"paylater.blocked_categories": "gambling,retail"}, "reason": "try"},
        headers=auth(keys.risk_admin),
    )
    assert started.status_code == 201, started.text
    candidate = started.json()["candidate_id"]
    _buy(client, keys.operator, "c1", "small", 10_000)
    _buy(client, keys.operator, "c1", "large", 50_000)
    report = client.get("/parameters/shadow", headers=auth(keys.auditor)).json()
    assert (report["candidate"], report["running"], report["decisions"]) == (candidate, True, 2)
    assert report["transitions"] == [
        {"op": "purchase", "live": "APPROVE", "candidate": "DECLINE", "count": 2}
    ]
    stopped = client.post(
        "/parameters/shadow/stop", json={"reason": "seen enough"}, headers=auth(keys.risk_admin)
    )
    assert stopped.json()["candidate_id"] == candidate
    again = client.post(
        "/parameters/shadow/stop", json={"reason": "twice"}, headers=auth(keys.risk_admin)
    )
    assert_problem(again, 409, "SHADOW_RUNNING")


def test_a_risk_admin_restores_the_normal_set_after_an_incident(
    client: TestClient, keys: Keys, book: Book
) -> None:
    tightened = set_parameters(
        book.store.unit_of_work(),
        changes={"linkage.restrict_dpd": "1"},
        actor="system:emergency",
        reason="breach",
        clock=CLOCK,
    )
    with book.store.unit_of_work() as uow:
        incident = uow.portfolio.add_incident(
            Incident(
                incident_id=0,
                opened_on=DAY,
                opened_at=CLOCK.now(),
                breaches=(
                    {"indicator": "new_overdue_rate_7d", "value": "1.0", "threshold": "0.05"},
                ),
                normal_version=1,
                tightened_version=tightened.version,
            )
        )
        uow.commit()
    [listed] = client.get("/incidents", headers=auth(keys.auditor)).json()
    assert (listed["incident_id"], listed["open"]) == (incident.incident_id, True)
    assert listed["breaches"][0]["indicator"] == "new_overdue_rate_7d"
    path = f"/incidents/{incident.incident_id}/restore"
    assert_problem(
        client.post(path, json={"reason": "ok"}, headers=auth(keys.operator)), 403, "ROLE_ALLOWED"
    )
    restored = client.post(path, json={"reason": "book recovered"}, headers=auth(keys.risk_admin))
    assert restored.status_code == 200, restored.text
    body = restored.json()
    assert (body["open"], body["close_reason"], body["restored_version"]) == (
        False,
        "book recovered",
        tightened.version + 1,
    )
    current = client.get("/parameters", headers=auth(keys.operator)).json()
    first = client.get("/parameters/versions/1", headers=auth(keys.operator)).json()
    assert current["parameters"] == first["parameters"]
    twice = client.post(path, json={"reason": "again"}, headers=auth(keys.risk_admin))
    assert_problem(twice, 409, "INCIDENT_OPEN")
    assert_problem(
        client.post("/incidents/99/restore", json={"reason": "x"}, headers=auth(keys.risk_admin)),
        404,
        "INCIDENT_EXISTS",
    )


def test_the_ecl_report_covers_every_account_by_product_and_stage(
    client: TestClient, keys: Keys
) -> None:
    _buy(client, keys.operator, "c1", "p1", 100_000)
    response = client.get("/portfolio/ecl?on=2026-01-05", headers=auth(keys.auditor))
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["on"], report["partitions"]) == ("2026-01-05", 1)
    paylater = report["by_product"]["paylater"]["total"]
    assert paylater["accounts"] == 2
    assert paylater["exposure_fen"] > 100_000  # drawn, and a share of what is undrawn
    assert paylater["ecl_fen"] > 0
    assert report["by_product"]["all"]["total"]["accounts"] == report["accounts"]
    assert_problem(client.get("/portfolio/ecl", headers=auth(keys.customer)), 403, "ROLE_ALLOWED")


def test_the_portfolio_overview_counts_customers_balances_and_the_alert_queue(
    client: TestClient, keys: Keys, book: Book
) -> None:
    _buy(client, keys.operator, "c1", "p1", 100_000)
    _buy(client, keys.operator, "c2", "p1", 20_000)
    add_alert(book, "c2")
    response = client.get("/portfolio?on=2026-01-05", headers=auth(keys.auditor))
    assert response.status_code == 200, response.text
    overview = response.json()
    assert (overview["on"], overview["customers"], overview["balance_fen"]) == (
        "2026-01-05",
        2,
        120_000,
    )
    assert overview["products"]["paylater"]["balance_fen"] == 120_000
    assert overview["alerts"]["open"]["total"] == 1
    assert_problem(client.get("/portfolio", headers=auth(keys.customer)), 403, "ROLE_ALLOWED")
