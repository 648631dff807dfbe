"""Scores inside the platform: application score, behaviour score from both products, and
the limits and price they set."""

from __future__ import annotations

from datetime import date, timedelta

from creditlink.application import paylater
from creditlink.application.close_of_day import close_day
from creditlink.application.customers import apply_for_credit, show_customer
from creditlink.application.parameters import set_parameters
from creditlink.application.queries import customer_state, decisions
from creditlink.bootstrap import Book
from creditlink.risk.expert import FACTOR, OFFSET, probability_bad
from tests.conftest import CLOCK, national_id

START = date(2026, 1, 5)


def apply(
    book: Book, customer_id: str, sequence: int, income: int = 800_000, birth: str = "19900101"
) -> object:
    return apply_for_credit(
        book.store.unit_of_work(),
        customer_id=customer_id,
        name=customer_id,
        national_id=national_id(sequence, birth),
        mobile="13800138000",
        monthly_income_fen=income,
        on=START,
        actor="test",
        clock=CLOCK,
    )


def close_through(book: Book, first: date, last: date) -> None:
    day = first
    while day <= last:
        close_day(book.store, on=day, clock=CLOCK)
        day += timedelta(days=1)


def test_twenty_points_double_the_odds() -> None:
    odds = [(1 - probability_bad(p)) / probability_bad(p) for p in (580, 600, 620)]
    assert abs(odds[1] / odds[0] - 2) < 1e-9
    assert abs(odds[2] / odds[1] - 2) < 1e-9
    assert abs(odds[1] - 50) < 1e-9
    assert abs(OFFSET + FACTOR * 0 - 487.123) < 0.001  # 600 − 20/ln 2 × ln 50


def test_an_application_is_scored_and_priced_by_grade(book: Book) -> None:
    # Age 36 on 5 Jan 2026 (+15), income 8,000.00 a month (+12): 590 + 27 = 617 -> grade C
    # (600..639): joint limit 2.0 × 8,000 = 16,000.00 within C's 5,000..20,000, caps 75 % and
    # 100 %, loan rate 0.0004.
    result = apply(book, "a1", 1, birth="19891231")
    assert result.decision.outcome == "APPROVE"  # type: ignore[attr-defined]
    view = show_customer(book.store.reader(), customer_id="a1", on=START)
    assert view.customer.score is not None
    assert (view.customer.score.points, view.customer.score.grade) == (617, "C")
    assert (view.limit.joint_limit_fen, view.limit.cap_paylater_fen, view.limit.cap_loan_fen) == (
        1_600_000,
        1_200_000,
        1_600_000,
    )
    assert str(view.customer.loan_daily_rate) == "0.0004"
    [decision] = decisions(book.store.reader())
    assert decision.model_version == "expert-application-1"


def test_a_weak_application_is_declined_and_opens_nothing(book: Book) -> None:
    # Age 20 (−10), income 2,000.00 (−15): 565 -> D? 590 − 25 = 565 is D (560..599).
    # Income 1,000.00 and age 19: 590 − 10 − 15 = 565 too; lower the D band to make it E.
    set_parameters(
        book.store.unit_of_work(),
        changes={"score.grade_bands": "A:680,B:640,C:600,D:570"},
        actor="risk",
        reason="tighter cut-off",
        clock=CLOCK,
    )
    result = apply(book, "y1", 2, income=200_000, birth="20051001")
    assert result.decision.outcome == "DECLINE"  # type: ignore[attr-defined]
    assert result.decision.reasons == ("SCORE_BELOW_CUTOFF",)  # type: ignore[attr-defined]
    with book.store.reader() as uow:
        assert not uow.customers.exists("y1")


def test_paylater_history_moves_the_loan_limit_and_price(book: Book) -> None:
    """Two customers alike in every way but how they paid PayLater."""
    for customer_id, sequence in (("ontime", 11), ("late", 12)):
        apply(book, customer_id, sequence, birth="19891231")
        result = paylater.purchase(
            book.store.unit_of_work(),
            customer_id=customer_id,
            ref="p1",
            amount_fen=100_000,
            merchant="m",
            category="retail",
            on=START,
            idempotency_key=customer_id,
        )
        assert result.approved
    close_through(book, START, date(2026, 2, 9))
    paylater.repay(
        book.store.unit_of_work(),
        customer_id="ontime",
        amount=paylater.Shortcut.MINIMUM,
        on=date(2026, 2, 10),
        idempotency_key="pay-ontime",
    )
    close_through(book, date(2026, 2, 10), date(2026, 2, 19))
    paylater.repay(
        book.store.unit_of_work(),
        customer_id="late",
        amount=paylater.Shortcut.MINIMUM,
        on=date(2026, 2, 20),
        idempotency_key="pay-late",
    )
    # The close of 28 February re-scores everyone (monthly).
    close_through(book, date(2026, 2, 20), date(2026, 2, 28))
    on_time = customer_state(book.store.reader(), customer_id="ontime", on=date(2026, 3, 1))
    late = customer_state(book.store.reader(), customer_id="late", on=date(2026, 3, 1))
    assert on_time.customer.score is not None
    assert late.customer.score is not None
    assert on_time.customer.score.points > late.customer.score.points
    assert "PAYLATER_LATE_12M" in late.customer.score.reasons
    assert "PAYLATER_LATE_12M" not in on_time.customer.score.reasons
    assert late.customer.loan_daily_rate > on_time.customer.loan_daily_rate
    assert late.limit.cap_loan_fen < on_time.limit.cap_loan_fen
    assert late.limit.available_loan(date(2026, 3, 1)) < on_time.limit.available_loan(
        date(2026, 3, 1)
    )


def test_an_unknown_model_falls_back_to_rules_and_says_so(book: Book) -> None:
    set_parameters(
        book.store.unit_of_work(),
        changes={"score.application_model": "missing"},
        actor="risk",
        reason="model withdrawn",
        clock=CLOCK,
    )
    result = apply(book, "f1", 21, birth="19891231")
    decision = result.decision  # type: ignore[attr-defined]
    assert decision.outcome == "APPROVE"
    assert decision.reasons == ()  # DOMAIN.md section 6: an APPROVE has no reasons
    assert decision.model_version == "rules-only"
    view = show_customer(book.store.reader(), customer_id="f1", on=START)
    assert view.customer.score is not None
    assert view.customer.score.grade == "D"
    assert view.customer.score.reasons == ("RULES_ONLY_FALLBACK",)  # where it says so
