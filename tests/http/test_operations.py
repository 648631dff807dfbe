"""Limits, PayLater refunds, repayments, statements and plans, and cash loans over HTTP."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from fastapi.testclient import TestClient

from creditlink.application.close_of_day import close_day
from creditlink.bootstrap import Book
from tests.conftest import CLOCK, DAY
from tests.http.conftest import assert_problem, auth
from tests.service import Keys

PURCHASES = "/customers/c1/paylater/purchases"


def _key(key: str, name: str) -> dict[str, str]:
    return auth(key, **{"Idempotency-Key": name})


def _buy(client: TestClient, keys: Keys, ref: str, amount_fen: int, on: date = DAY) -> int:
    response = client.post(
        PURCHASES,
        json={
            "ref": ref,
            "amount_fen": amount_fen,
            "merchant": "Grocer",
            "category": "retail",
            "on": on.isoformat(),
        },
        headers=_key(keys.customer, f"buy-{ref}"),
    )
    assert response.status_code == 201, response.text
    entry_id: int = response.json()["entry_id"]
    return entry_id


def test_limits_are_shown_lowered_at_once_raised_later_and_granted_for_a_while(
    client: TestClient, keys: Keys, book: Book
) -> None:
    shown = client.get("/customers/c1/limits?on=2026-01-05", headers=auth(keys.customer))
    assert shown.status_code == 200, shown.text
    assert (shown.json()["joint_limit_fen"], shown.json()["cap_paylater_fen"]) == (
        2_000_000,
        1_500_000,
    )
    lowered = client.post(
        "/customers/c1/limits",
        json={"cap_paylater_fen": 1_000_000, "reason": "review", "on": "2026-01-05"},
        headers=auth(keys.operator),
    )
    assert lowered.status_code == 200, lowered.text
    assert lowered.json()["applied_now"] == {"cap_paylater_fen": 1_000_000}
    assert lowered.json()["pending_from"] is None
    assert lowered.json()["limits"]["cap_paylater_fen"] == 1_000_000
    raised = client.post(
        "/customers/c1/limits",
        json={"joint_limit_fen": 3_000_000, "reason": "good payer", "on": "2026-01-05"},
        headers=auth(keys.risk_admin),
    )
    body = raised.json()
    assert body["applied_now"] == {}
    assert date.fromisoformat(body["pending_from"]) > DAY
    assert body["limits"]["joint_limit_fen"] == 2_000_000
    assert body["limits"]["pending_increase"]["joint_limit_fen"] == 3_000_000
    nothing = client.post("/customers/c1/limits", json={"reason": "x"}, headers=auth(keys.operator))
    assert_problem(nothing, 422, "LIMIT_REQUIRED", "joint_limit_fen")
    no_reason = client.post(
        "/customers/c1/limits", json={"cap_loan_fen": 1}, headers=auth(keys.operator)
    )
    assert_problem(no_reason, 422, "MISSING", "reason")
    granted = client.post(
        "/customers/c1/limits/temporary",
        json={
            "amount_fen": 200_000,
            "expires_on": "2026-02-05",
            "reason": "holiday",
            "on": "2026-01-05",
        },
        headers=auth(keys.operator),
    )
    assert granted.status_code == 200, granted.text
    temporary = granted.json()["temporary_limit"]
    assert (temporary["amount_fen"], temporary["in_force"]) == (200_000, True)
    assert granted.json()["available_paylater_fen"] == 1_200_000
    with book.store.reader() as uow:
        actions = [record.action for record in uow.audit.recent(limit=3)]
    assert actions == ["limit.temporary", "limit.change", "limit.change"]
    refused = client.post(
        "/customers/c1/limits",
        json={"cap_loan_fen": 1, "reason": "mine"},
        headers=auth(keys.customer),
    )
    assert_problem(refused, 403, "ROLE_ALLOWED")


def test_a_refund_and_repayments_post_entries_and_free_the_limit(
    client: TestClient, keys: Keys, book: Book
) -> None:
    _buy(client, keys, "p1", 50_000)
    refunded = client.post(
        "/customers/c1/paylater/refunds",
        json={"purchase_ref": "p1", "amount_fen": 10_000, "on": "2026-01-05"},
        headers=_key(keys.operator, "refund-1"),
    )
    assert refunded.status_code == 201, refunded.text
    assert refunded.json()["amount_fen"] == 10_000
    assert refunded.json()["entry_id"] is not None
    again = client.post(
        "/customers/c1/paylater/refunds",
        json={"purchase_ref": "p1", "amount_fen": 10_000, "on": "2026-01-05"},
        headers=_key(keys.operator, "refund-1"),
    )
    assert again.json() == refunded.json()
    assert again.headers["idempotent-replayed"] == "true"
    by_customer = client.post(
        "/customers/c1/paylater/refunds",
        json={"purchase_ref": "p1", "amount_fen": 1, "on": "2026-01-05"},
        headers=_key(keys.customer, "refund-2"),
    )
    assert_problem(by_customer, 403, "ROLE_ALLOWED")
    paid = client.post(
        "/customers/c1/paylater/repayments",
        json={"amount_fen": 15_000, "on": "2026-01-05"},
        headers=_key(keys.customer, "repay-1"),
    )
    assert paid.status_code == 201, paid.text
    assert paid.json()["amount_fen"] == 15_000
    nothing_due = client.post(
        "/customers/c1/paylater/repayments",
        json={"shortcut": "minimum", "on": "2026-01-05"},
        headers=_key(keys.customer, "repay-2"),
    )
    assert nothing_due.status_code == 200, nothing_due.text
    assert (nothing_due.json()["amount_fen"], nothing_due.json()["entry_id"]) == (0, None)
    both = client.post(
        "/customers/c1/paylater/repayments",
        json={"amount_fen": 1, "shortcut": "all"},
        headers=_key(keys.customer, "repay-3"),
    )
    assert_problem(both, 422, "AMOUNT_OR_SHORTCUT", "amount_fen")
    account = client.get("/customers/c1/paylater?on=2026-01-05", headers=auth(keys.customer))
    assert account.status_code == 200, account.text
    assert account.json()["principal_outstanding_fen"] == 25_000
    limits = client.get("/customers/c1/limits?on=2026-01-05", headers=auth(keys.auditor))
    assert limits.json()["used_paylater_fen"] == 25_000
    verified = client.get("/ledger/verify", headers=auth(keys.auditor)).json()
    assert (verified["ok"], verified["entries"], verified["trial_balance_fen"]) == (True, 3, 0)


def test_a_purchase_becomes_a_plan_and_a_statement_is_listed_after_the_close(
    client: TestClient, keys: Keys, book: Book
) -> None:
    _buy(client, keys, "p1", 60_000)
    _buy(client, keys, "p2", 30_000)
    converted = client.post(
        "/customers/c1/paylater/plans",
        json={"plan_ref": "plan1", "periods": 3, "purchase_ref": "p1", "on": "2026-01-05"},
        headers=_key(keys.customer, "convert-1"),
    )
    assert converted.status_code == 201, converted.text
    body = converted.json()
    assert (body["approved"], body["decision"]["outcome"]) == (True, "APPROVE")
    plan = body["plan"]
    assert (plan["source"], plan["source_ref"], plan["periods"]) == ("purchase", "p1", 3)
    assert sum(i["principal_fen"] for i in plan["installments"]) == 60_000
    plans = client.get("/customers/c1/paylater/plans", headers=auth(keys.customer)).json()
    assert [p["plan_ref"] for p in plans] == ["plan1"]
    neither = client.post(
        "/customers/c1/paylater/plans",
        json={"plan_ref": "plan2", "periods": 3},
        headers=_key(keys.customer, "convert-2"),
    )
    assert_problem(neither, 422, "CONVERSION_SOURCE")
    assert client.get("/customers/c1/paylater/statements", headers=auth(keys.customer)).json() == []
    day = DAY
    while day <= date(2026, 2, 1):
        close_day(book.store, on=day, clock=CLOCK)
        day += timedelta(days=1)
    statements = client.get("/customers/c1/paylater/statements", headers=auth(keys.operator))
    [statement] = statements.json()
    assert statement["statement_date"] == "2026-02-01"
    assert statement["purchases_fen"] == 30_000  # p1 went into the plan
    assert statement["new_balance_fen"] >= 30_000
    settled = client.post(
        "/customers/c1/paylater/plans/plan1/settle",
        json={"on": "2026-02-02"},
        headers=_key(keys.customer, "settle-1"),
    )
    assert settled.status_code == 200, settled.text
    assert 0 < settled.json()["amount_fen"] < 60_000
    unknown = client.post(
        "/customers/c1/paylater/plans/nope/settle",
        json={"on": "2026-02-02"},
        headers=_key(keys.customer, "settle-2"),
    )
    assert_problem(unknown, 404, "PLAN_EXISTS")
    assert client.get("/ledger/verify", headers=auth(keys.operator)).json()["ok"] is True


def test_a_loan_is_quoted_drawn_scheduled_and_repaid(
    client: TestClient, keys: Keys, book: Book
) -> None:
    quoted = client.get(
        "/customers/c1/loan-quote?amount_fen=300000&term_months=3&method=equal_principal"
        "&on=2026-01-05",
        headers=auth(keys.customer),
    )
    assert quoted.status_code == 200, quoted.text
    quote = quoted.json()
    assert [i["principal_fen"] for i in quote["installments"]] == [100_000] * 3
    assert quote["total_repaid_fen"] == 300_000 + quote["total_interest_fen"]
    assert (
        quote["daily_rate"]
        == client.get("/customers/c1", headers=auth(keys.customer)).json()["loan_daily_rate"]
    )
    bad_term = client.get(
        "/customers/c1/loan-quote?amount_fen=300000&term_months=5&method=equal_principal",
        headers=auth(keys.customer),
    )
    assert_problem(bad_term, 422, "LOAN_TERM_OFFERED", "term_months")
    far = client.get(
        "/customers/c1/loan-quote?amount_fen=300000&term_months=3&method=equal_principal"
        "&on=9999-12-31",
        headers=auth(keys.customer),
    )
    assert far.status_code == 422, far.text  # its due dates would leave the calendar
    draw = {
        "ref": "L1",
        "amount_fen": 300_000,
        "term_months": 3,
        "method": "equal_principal",
        "on": "2026-01-05",
    }
    drawn = client.post("/customers/c1/loans", json=draw, headers=_key(keys.customer, "draw-1"))
    assert drawn.status_code == 201, drawn.text
    assert drawn.json()["approved"] is True
    twice = client.post("/customers/c1/loans", json=draw, headers=_key(keys.customer, "draw-2"))
    assert_problem(twice, 409, "LOAN_REF_UNIQUE", "ref")
    too_big = client.post(
        "/customers/c1/loans",
        json={**draw, "ref": "L2", "amount_fen": 50_000_000},
        headers=_key(keys.operator, "draw-3"),
    )
    assert too_big.status_code == 200, too_big.text
    assert "LIMIT_EXCEEDED" in too_big.json()["decision"]["reasons"]
    loans = client.get("/customers/c1/loans?on=2026-01-05", headers=auth(keys.customer)).json()
    assert [loan["ref"] for loan in loans["items"]] == ["L1"]
    shown = client.get("/customers/c1/loans/L1?on=2026-01-05", headers=auth(keys.auditor))
    loan = shown.json()
    assert (loan["outstanding_principal_fen"], loan["dpd"]) == (300_000, 0)
    assert [i["state"] for i in loan["installments"]] == ["pending"] * 3
    assert_problem(
        client.get("/customers/c1/loans/L9", headers=auth(keys.customer)), 404, "LOAN_EXISTS"
    )
    repaid = client.post(
        "/customers/c1/loans/L1/repayments",
        json={"shortcut": "all", "on": "2026-01-05"},
        headers=_key(keys.customer, "loan-repay-1"),
    )
    assert repaid.status_code == 201, repaid.text
    assert repaid.json()["amount_fen"] == 300_000
    after = client.get("/customers/c1/loans/L1?on=2026-01-05", headers=auth(keys.customer))
    assert after.json()["outstanding_principal_fen"] == 0
    decisions = client.get("/customers/c1/decisions", headers=auth(keys.customer)).json()
    assert [(d["op"], d["ref"], d["outcome"]) for d in decisions["items"]] == [
        ("draw_loan", "L2", "DECLINE"),
        ("draw_loan", "L1", "APPROVE"),
    ]
    assert client.get("/ledger/verify", headers=auth(keys.operator)).json()["ok"] is True


def test_a_loan_schedule_shows_the_interest_and_penalty_owed_as_of_its_date(
    client: TestClient, keys: Keys, book: Book
) -> None:
    """DOMAIN.md section 4: an overdue installment reports the penalty accrued to the
    reporting date, and installments not yet billed the interest they will carry (the same
    figures as the scenario results, e_overdue_reported)."""
    rate = Decimal(
        client.get("/customers/c1", headers=auth(keys.customer)).json()["loan_daily_rate"]
    )
    draw = {"ref": "L1", "amount_fen": 500_000, "term_months": 3, "method": "equal_principal"}
    drawn = client.post(
        "/customers/c1/loans", json={**draw, "on": "2026-01-05"}, headers=_key(keys.customer, "d")
    )
    assert drawn.status_code == 201, drawn.text
    day = DAY
    while day <= date(2026, 2, 15):  # installment 1 is due 5 Feb and billed then, unpaid
        close_day(book.store, on=day, clock=CLOCK)
        day += timedelta(days=1)
    loan = client.get("/customers/c1/loans/L1?on=2026-02-16", headers=auth(keys.customer)).json()

    def fen(amount: Decimal) -> int:
        return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))

    first, second, third = loan["installments"]
    assert (loan["dpd"], first["state"]) == (11, "overdue")
    assert [i["principal_fen"] for i in loan["installments"]] == [166_667, 166_667, 166_666]
    assert first["interest_fen"] == fen(500_000 * rate * 31)  # 5 Jan to 5 Feb
    assert first["penalty_fen"] == fen(166_667 * rate * Decimal("1.5") * 11)  # to 16 Feb
    assert first["penalty_fen"] > 0
    assert second["interest_fen"] == fen(333_333 * rate * 28)  # 5 Feb to 5 Mar, if on time
    assert third["interest_fen"] == fen(166_666 * rate * 31)
    assert (second["penalty_fen"], third["penalty_fen"]) == (0, 0)
    signed = client.post("/ui/sign-in", data={"api_key": keys.operator}, follow_redirects=False)
    assert signed.status_code == 303, signed.text
    page = client.get("/ui/customers/c1?on=2026-02-16")
    assert page.status_code == 200, page.text
    shown = f"{first['penalty_fen'] // 100}.{first['penalty_fen'] % 100:02d}"
    assert f'<td class="num">{shown}</td>' in page.text


def test_text_with_nul_is_refused_naming_where_it_came_in(
    client: TestClient, keys: Keys, book: Book
) -> None:
    """PostgreSQL cannot store NUL in text: it failed with 500 there and was stored on
    SQLite. Now every store refuses it the same way, and nothing changes."""
    body = {"ref": "nul1", "amount_fen": 100, "merchant": "a\u0000b", "category": "retail"}
    answer = client.post(PURCHASES, json=body, headers=_key(keys.operator, "nul-1"))
    assert_problem(answer, 422, "TEXT_NUL", "merchant")
    for path, field in (
        ("/customers/c1%00x", "path"),
        ("/decisions?customer_id=c1%00", "customer_id"),
        ("/alerts?offset=0&customer_id=%00", "customer_id"),
    ):
        assert_problem(client.get(path, headers=auth(keys.operator)), 422, "TEXT_NUL", field)
    with book.store.reader() as uow:
        assert uow.decisions.list() == []
    fixed = client.post(
        PURCHASES, json={**body, "merchant": "ab"}, headers=_key(keys.operator, "nul-1")
    )
    assert fixed.status_code == 201, fixed.text
