"""Rules over per-customer windows counted from the store (velocity, exposure cap), the
champion/challenger shadow and the back-test, on every store."""

from __future__ import annotations

from datetime import date, time

import pytest

from creditlink.application import paylater
from creditlink.application.challenger import backtest, shadow_report, start_shadow, stop_shadow
from creditlink.application.loans import draw_loan
from creditlink.application.parameters import set_parameters
from creditlink.application.queries import customer_state, decisions
from creditlink.bootstrap import Book
from creditlink.domain.errors import CreditlinkError, NotFound
from creditlink.domain.loan.schedule import Method
from creditlink.domain.parameters import DEFAULTS
from creditlink.risk.decisions import Context, Outcome, decide
from tests.conftest import CLOCK, DAY, add_customer


def buy(
    book: Book,
    key: str,
    amount: int,
    *,
    at: time | None = None,
    on: date = DAY,
    category: str = "retail",
    customer_id: str = "c1",
) -> str:
    result = paylater.purchase(
        book.store.unit_of_work(),
        customer_id=customer_id,
        ref=key,
        amount_fen=amount,
        merchant="m",
        category=category,
        on=on,
        idempotency_key=key,
        at=at,
    )
    return " ".join([result.decision.outcome, *result.decision.reasons])


def tune(book: Book, **changes: object) -> None:
    set_parameters(
        book.store.unit_of_work(),
        changes={k.replace("__", "."): v for k, v in changes.items()},
        actor="test",
        reason="test",
        clock=CLOCK,
    )


def test_the_day_count_sends_the_next_operation_to_review_and_posts_nothing(book: Book) -> None:
    add_customer(book.store, "c1", joint=5_000_000, cap_paylater=5_000_000)
    tune(book, rules__velocity_day_count=2)
    assert buy(book, "p1", 12_345) == "APPROVE"
    assert buy(book, "p2", 12_345) == "APPROVE"
    assert buy(book, "p3", 12_345) == "REVIEW VELOCITY_DAY_COUNT"
    # A declined or reviewed operation never counts: the 4th is judged against 2 approved.
    assert buy(book, "p4", 12_345) == "REVIEW VELOCITY_DAY_COUNT"
    assert (
        customer_state(book.store.reader(), customer_id="c1", on=DAY).limit.used_paylater_fen
        == 24_690  # p1 + p2: 123.45 × 2
    )
    # A new business date starts a new count.
    assert buy(book, "p5", 12_345, on=date(2026, 1, 6)) == "APPROVE"


def test_only_approved_purchases_and_draws_count_not_conversions(book: Book) -> None:
    add_customer(book.store, "c1", joint=5_000_000, cap_paylater=5_000_000)
    tune(book, rules__velocity_day_count=2)
    assert buy(book, "p1", 120_000) == "APPROVE"
    converted = paylater.convert_to_installments(
        book.store.unit_of_work(),
        customer_id="c1",
        plan_ref="plan1",
        periods=3,
        on=DAY,
        idempotency_key="plan1",
        purchase_ref="p1",
    )
    assert converted.decision.outcome == "APPROVE"  # an approved decision of another op
    assert buy(book, "p2", 12_345) == "APPROVE"  # 1 counted before it, not 2
    assert buy(book, "p3", 12_345) == "REVIEW VELOCITY_DAY_COUNT"


def test_loan_draws_and_purchases_share_the_velocity_count(book: Book) -> None:
    add_customer(book.store, "c1", joint=5_000_000, cap_paylater=5_000_000)
    tune(book, rules__velocity_day_amount="1500.00")
    assert buy(book, "p1", 100_000) == "APPROVE"
    result = draw_loan(
        book.store.unit_of_work(),
        customer_id="c1",
        ref="L1",
        amount_fen=60_000,
        term_months=3,
        method=Method.EQUAL_PRINCIPAL,
        on=DAY,
        idempotency_key="L1",
    )
    # 1,000.00 + 600.00 = 1,600.00 > 1,500.00
    assert (result.decision.outcome, result.decision.reasons) == (
        "REVIEW",
        ("VELOCITY_DAY_AMOUNT",),
    )


def test_the_hour_window_counts_operations_less_than_60_minutes_before(book: Book) -> None:
    add_customer(book.store, "c1", joint=5_000_000, cap_paylater=5_000_000)
    tune(book, rules__velocity_hour_count=2)
    assert buy(book, "p1", 12_345, at=time(9, 0)) == "APPROVE"
    assert buy(book, "p2", 12_345, at=time(9, 30)) == "APPROVE"
    assert buy(book, "p3", 12_345, at=time(9, 59, 59)) == "REVIEW VELOCITY_HOUR_COUNT"
    # p1 at 09:00 is exactly 60 minutes before 10:00: outside the window.
    assert buy(book, "p4", 12_345, at=time(10, 0)) == "APPROVE"


def test_a_hard_rule_declines_and_velocity_is_not_listed(book: Book) -> None:
    add_customer(book.store, "c1", joint=5_000_000, cap_paylater=5_000_000)
    tune(book, rules__velocity_day_count=1)
    assert buy(book, "p1", 12_345) == "APPROVE"
    assert buy(book, "p2", 12_345, category="gambling") == "DECLINE BLOCKED_CATEGORY"


def test_the_exposure_cap_counts_both_products(book: Book) -> None:
    add_customer(book.store, "c1", joint=5_000_000, cap_paylater=5_000_000)
    tune(book, rules__exposure_cap="1000.00")
    assert buy(book, "p1", 60_000) == "APPROVE"
    result = draw_loan(
        book.store.unit_of_work(),
        customer_id="c1",
        ref="L1",
        amount_fen=50_000,
        term_months=3,
        method=Method.EQUAL_PRINCIPAL,
        on=DAY,
        idempotency_key="L1",
    )
    # owed 600.00 + 500.00 = 1,100.00 > 1,000.00
    assert result.decision.reasons == ("EXPOSURE_CAP_EXCEEDED",)
    assert buy(book, "p2", 40_000) == "APPROVE"  # 600.00 + 400.00 = 1,000.00 is within


def test_a_decision_records_its_context_and_a_rule_off_at_zero() -> None:
    context = Context(
        op="purchase", amount_fen=12_345, within_limits_fen=10**9, day_count=99, category="retail"
    )
    assert decide(context, DEFAULTS.values).outcome is Outcome.REVIEW
    off = DEFAULTS.changed({"rules.velocity_day_count": 0}).values
    assert decide(context, off).outcome is Outcome.APPROVE
    assert Context.from_dict(context.to_dict()) == context


def test_the_shadow_records_would_be_outcomes_without_applying_them(book: Book) -> None:
    add_customer(book.store, "c1", joint=5_000_000, cap_paylater=5_000_000)
    assert buy(book, "p0", 12_345, category="travel") == "APPROVE"  # before any candidate
    started = start_shadow(
        book.store.unit_of_work(),
        changes={"paylater.blocked_categories": "gambling,travel"},
        actor="risk",
        reason="try blocking travel",
        clock=CLOCK,
    )
    assert buy(book, "p1", 12_345, category="travel") == "APPROVE"  # live: applied
    assert buy(book, "p2", 12_345, category="grocery") == "APPROVE"
    assert buy(book, "p3", 12_345, category="gambling") == "DECLINE BLOCKED_CATEGORY"
    report = shadow_report(book.store.reader())
    assert report["candidate"] == started.candidate_id
    assert report["running"] is True
    assert report["decisions"] == 3  # p0 was decided before the candidate ran
    assert report["changed"] == 1
    assert report["transitions"] == [
        {"op": "purchase", "live": "APPROVE", "candidate": "DECLINE", "count": 1}
    ]
    assert report["samples"][0]["ref"] == "p1"
    assert report["samples"][0]["candidate"]["reasons"] == ["BLOCKED_CATEGORY"]
    stop_shadow(book.store.unit_of_work(), actor="risk", reason="seen enough", clock=CLOCK)
    assert buy(book, "p4", 12_345, category="travel") == "APPROVE"
    after = shadow_report(book.store.reader())
    assert (after["running"], after["decisions"]) == (False, 3)
    assert shadow_report(book.store.reader(), candidate_id=started.candidate_id) == after
    for unknown in (0, started.candidate_id + 1):
        with pytest.raises(NotFound) as missing:
            shadow_report(book.store.reader(), candidate_id=unknown)
        assert (missing.value.field, missing.value.rule) == ("candidate", "CANDIDATE_EXISTS")
    recorded = {d.ref: d.shadow for d in decisions(book.store.reader(), customer_id="c1")}
    assert (recorded["p0"], recorded["p4"]) == (None, None)
    with book.store.reader() as uow:
        actions = {a.action for a in uow.audit.recent(limit=10)}
    assert {"parameters.shadow_started", "parameters.shadow_stopped"} <= actions


def test_a_shadow_needs_a_reason_and_a_valid_candidate(book: Book) -> None:
    with pytest.raises(CreditlinkError) as error:
        start_shadow(
            book.store.unit_of_work(),
            changes={"apr_cap": "0.2"},
            actor="r",
            reason=" ",
            clock=CLOCK,
        )
    assert error.value.rule == "REASON_REQUIRED"
    with pytest.raises(CreditlinkError) as error:
        start_shadow(
            book.store.unit_of_work(), changes={"no.such": 1}, actor="r", reason="x", clock=CLOCK
        )
    assert (error.value.rule, error.value.field) == ("UNKNOWN_PARAMETER", "no.such")
    with pytest.raises(CreditlinkError) as error:
        stop_shadow(book.store.unit_of_work(), actor="r", reason="x", clock=CLOCK)
    assert error.value.rule == "SHADOW_RUNNING"


def test_the_backtest_replays_recorded_decisions_through_the_candidate(book: Book) -> None:
    add_customer(book.store, "c1", joint=5_000_000, cap_paylater=5_000_000)
    for n, category in enumerate(["travel", "travel", "retail", "gambling"]):
        buy(book, f"p{n}", 12_345, category=category, on=DAY)
    buy(book, "late", 12_345, category="travel", on=date(2026, 1, 7))
    report = backtest(
        book.store.reader(),
        changes={"paylater.blocked_categories": "travel"},
        first=DAY,
        last=date(2026, 1, 6),
    )
    # Only the 4 decisions of 5 January are in range; the candidate blocks travel but no
    # longer gambling.
    assert report["decisions"] == 4
    assert report["live_outcomes"] == {"APPROVE": 3, "DECLINE": 1}
    assert report["candidate_outcomes"] == {"APPROVE": 2, "DECLINE": 2}
    assert report["changed"] == 3
    assert report["later_delinquency"]["customers"] == 1
    assert report["changes"] == {
        "paylater.blocked_categories": {
            "live": "gambling,securities,cryptocurrency,cash_withdrawal",
            "candidate": "travel",
        }
    }


def test_a_decision_declined_either_way_for_more_reasons_is_not_a_changed_outcome(
    book: Book,
) -> None:
    """README: the backtest counts the customers "whose outcome would change". A decline the
    candidate would also decline, for one more reason, changes no outcome: it is counted
    apart (reasons_only) and its customer's later delinquency is not the candidate's."""
    add_customer(book.store, "c1", joint=5_000_000, cap_paylater=5_000_000, sequence=1)
    add_customer(book.store, "c2", joint=5_000_000, cap_paylater=5_000_000, sequence=2)
    assert buy(book, "big", 6_000_000, category="travel") == "DECLINE LIMIT_EXCEEDED"
    assert buy(book, "trip", 12_345, category="travel", customer_id="c2") == "APPROVE"
    report = backtest(
        book.store.reader(), changes={"paylater.blocked_categories": "travel"}, first=DAY, last=DAY
    )
    assert (report["changed"], report["reasons_only"]) == (1, 1)
    assert report["transitions"] == [
        {"op": "purchase", "live": "APPROVE", "candidate": "DECLINE", "count": 1}
    ]
    assert report["reasons_added"] == {"BLOCKED_CATEGORY": 2}
    assert report["later_delinquency"]["customers"] == 1
    assert [sample["ref"] for sample in report["samples"]] == ["trip"]
