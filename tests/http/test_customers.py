"""Customers over HTTP: onboarding with the decision, paging, masking, problems."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from creditlink.bootstrap import Book
from tests.conftest import national_id
from tests.http.conftest import assert_problem, auth
from tests.service import Keys

MASKED_ID = re.compile(r"^[0-9]{6}\*{8}[0-9]{3}[0-9X]$")


def _applicant(sequence: int, **fields: object) -> dict[str, object]:
    return {
        "customer_id": f"n{sequence}",
        "name": "Li Lei",
        "national_id": national_id(sequence, birth="19850615"),
        "mobile": "13912345678",
        **fields,
    }


def test_an_application_is_decided_and_an_approved_one_makes_the_customer(
    client: TestClient, keys: Keys
) -> None:
    response = client.post(
        "/customers",
        json=_applicant(11, monthly_income_fen=3_000_000, on="2026-01-05"),
        headers=auth(keys.operator),
    )
    body = response.json()
    decision = body["decision"]
    assert decision["op"] == "onboard"
    assert decision["outcome"] in {"APPROVE", "DECLINE"}
    approved = decision["outcome"] == "APPROVE"
    assert response.status_code == (201 if approved else 200)
    assert (body["customer"] is not None) == approved
    shown = client.get("/customers/n11", headers=auth(keys.operator))
    assert shown.status_code == (200 if approved else 404)
    if approved:
        customer = shown.json()
        assert customer["score"]["grade"] == body["customer"]["score"]["grade"]
        assert customer["limits"]["joint_limit_fen"] > 0
        assert customer["loan_daily_rate"] == body["customer"]["loan_daily_rate"]


def test_limits_set_by_hand_are_kept_as_given(client: TestClient, keys: Keys) -> None:
    response = client.post(
        "/customers",
        json=_applicant(12, joint_limit_fen=5_000_000, cap_paylater_fen=1_000_000),
        headers=auth(keys.risk_admin),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["decision"] is None
    limits = body["customer"]["limits"]
    assert (limits["joint_limit_fen"], limits["cap_paylater_fen"], limits["cap_loan_fen"]) == (
        5_000_000,
        1_000_000,
        5_000_000,
    )
    assert body["customer"]["pricing_pinned"] is True


def test_national_ids_are_masked_in_every_response(client: TestClient, keys: Keys) -> None:
    full = national_id(13, birth="19850615")
    created = client.post(
        "/customers", json=_applicant(13, joint_limit_fen=100_000), headers=auth(keys.operator)
    )
    shown = client.get("/customers/n13", headers=auth(keys.operator))
    listed = client.get("/customers", headers=auth(keys.operator))
    for response in (created, shown, listed):
        assert response.status_code in {200, 201}
        assert full not in response.text
        assert full[6:14] not in response.text  # the birth date
    assert MASKED_ID.match(shown.json()["national_id"])
    assert shown.json()["national_id"].endswith(full[-4:])
    assert shown.json()["mobile"] == "139****5678"
    assert all(MASKED_ID.match(item["national_id"]) for item in listed.json()["items"])


def test_customers_come_in_pages_with_the_total(client: TestClient, keys: Keys, book: Book) -> None:
    for sequence in range(20, 25):
        response = client.post(
            "/customers",
            json=_applicant(sequence, joint_limit_fen=100_000),
            headers=auth(keys.operator),
        )
        assert response.status_code == 201
    everyone = ["c1", "c2", "n20", "n21", "n22", "n23", "n24"]
    page = client.get("/customers?offset=2&limit=3", headers=auth(keys.operator)).json()
    assert [item["customer_id"] for item in page["items"]] == everyone[2:5]
    assert (page["total"], page["offset"], page["limit"]) == (7, 2, 3)
    last = client.get("/customers?offset=6&limit=3", headers=auth(keys.operator)).json()
    assert [item["customer_id"] for item in last["items"]] == ["n24"]
    beyond = client.get("/customers?offset=50", headers=auth(keys.operator)).json()
    assert (beyond["items"], beyond["total"]) == ([], 7)


def test_a_page_size_out_of_range_is_a_problem_naming_the_query_field(
    client: TestClient, keys: Keys
) -> None:
    for query in ("limit=0", "limit=1001", "offset=-1", "limit=ten"):
        response = client.get(f"/customers?{query}", headers=auth(keys.operator))
        body = assert_problem(response, 422, response.json()["rule"])
        field = query.split("=")[0]
        assert body["field"] == field
        assert body["errors"][0]["location"] == "query"


def test_bad_onboarding_input_names_each_field_and_rule_and_changes_nothing(
    client: TestClient, keys: Keys, book: Book
) -> None:
    response = client.post(
        "/customers",
        json={"name": "", "mobile": "13912345678", "joint_limit_fen": -1, "colour": "red"},
        headers=auth(keys.operator),
    )
    body = assert_problem(response, 422, "STRING_TOO_SHORT", "name")
    assert {(e["field"], e["rule"]) for e in body["errors"]} == {
        ("name", "STRING_TOO_SHORT"),
        ("national_id", "MISSING"),
        ("joint_limit_fen", "GREATER_THAN_EQUAL"),
        ("colour", "EXTRA_FORBIDDEN"),
    }
    # A well-formed request the rules refuse: the core's rule, named.
    valid = national_id(14, birth="19850615")
    wrong = valid[:-1] + ("1" if valid[-1] != "1" else "2")
    response = client.post(
        "/customers",
        json=_applicant(14, national_id=wrong, joint_limit_fen=100_000),
        headers=auth(keys.operator),
    )
    assert_problem(response, 422, "NATIONAL_ID_CHECK_DIGIT", "national_id")
    response = client.post("/customers", json=_applicant(15), headers=auth(keys.operator))
    assert_problem(response, 422, "LIMIT_OR_INCOME_REQUIRED", "monthly_income_fen")
    with book.store.reader() as uow:
        assert uow.customers.count() == 2


def test_a_second_customer_with_the_same_national_id_is_a_conflict(
    client: TestClient, keys: Keys
) -> None:
    first = client.post(
        "/customers", json=_applicant(16, joint_limit_fen=100_000), headers=auth(keys.operator)
    )
    assert first.status_code == 201
    again = client.post(
        "/customers",
        json={**_applicant(16, joint_limit_fen=100_000), "customer_id": "n16b"},
        headers=auth(keys.operator),
    )
    assert_problem(again, 409, "ONE_CUSTOMER_PER_PERSON", "national_id")
