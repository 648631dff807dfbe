"""Cross-product linkage through the close of day: levels rise with DPD and utilisation in
the same transaction, act on both products, and step down only after on-time cycles."""

from __future__ import annotations

from datetime import date, timedelta

from creditlink.application import paylater
from creditlink.application.close_of_day import close_day
from creditlink.application.customers import change_limits
from creditlink.application.loans import draw_loan, repay_loan
from creditlink.application.queries import alerts, customer_state
from creditlink.bootstrap import Book
from creditlink.domain.limits import AlertLevel
from creditlink.domain.loan.schedule import Method
from tests.conftest import CLOCK, add_customer

START = date(2026, 1, 5)


def close_through(book: Book, first: date, last: date) -> None:
    day = first
    while day <= last:
        close_day(book.store, on=day, clock=CLOCK)
        day += timedelta(days=1)


def buy(book: Book, amount: int, on: date, key: str, category: str = "retail") -> bool:
    return paylater.purchase(
        book.store.unit_of_work(),
        customer_id="c1",
        ref=key,
        amount_fen=amount,
        merchant="m",
        category=category,
        on=on,
        idempotency_key=key,
    ).approved


def level(book: Book, on: date) -> AlertLevel:
    return customer_state(book.store.reader(), customer_id="c1", on=on).limit.level


def test_a_missed_minimum_climbs_watch_restrict_freeze_and_freeze_cuts_limits(book: Book) -> None:
    add_customer(book.store, "c1", joint=2_000_000, cap_paylater=1_500_000)
    buy(book, 100_000, START, "p1")
    close_through(book, START, date(2026, 3, 13))
    raised = [(a.on, a.level, a.cause) for a in alerts(book.store.reader())]
    # Minimum of the 1 February statement unmet at its 10 February due date.
    assert raised == [
        (date(2026, 2, 11), "WATCH", "PAYLATER_DPD"),
        (date(2026, 2, 14), "RESTRICT", "PAYLATER_DPD"),
        (date(2026, 3, 13), "FREEZE", "PAYLATER_DPD"),
    ]
    state = customer_state(book.store.reader(), customer_id="c1", on=date(2026, 3, 14))
    # FREEZE cuts the joint limit and each cap to usage: 1,000.00 bought, 0 drawn.
    assert (
        state.limit.joint_limit_fen,
        state.limit.cap_paylater_fen,
        state.limit.cap_loan_fen,
    ) == (100_000, 100_000, 0)
    assert not buy(book, 100, date(2026, 3, 14), "p2", category="grocery")


def test_restrict_stops_draws_and_non_essential_purchases_at_once(book: Book) -> None:
    add_customer(book.store, "c1")
    buy(book, 100_000, START, "p1")
    close_through(book, START, date(2026, 2, 14))
    assert level(book, date(2026, 2, 15)) is AlertLevel.RESTRICT
    drawn = draw_loan(
        book.store.unit_of_work(),
        customer_id="c1",
        ref="L1",
        amount_fen=100_000,
        term_months=3,
        method=Method.EQUAL_PRINCIPAL,
        on=date(2026, 2, 15),
        idempotency_key="L1",
    )
    assert drawn.decision.reasons == ("LINKED_RESTRICTION",)
    assert not buy(book, 1_000, date(2026, 2, 15), "p2", category="travel")
    assert buy(book, 1_000, date(2026, 2, 15), "p3", category="grocery")


def test_high_joint_utilisation_raises_watch_and_holds_an_increase(book: Book) -> None:
    add_customer(book.store, "c1", joint=1_000_000, cap_paylater=1_000_000)
    change_limits(
        book.store.unit_of_work(),
        customer_id="c1",
        on=START,
        actor="risk",
        reason="review",
        clock=CLOCK,
        joint_limit_fen=1_500_000,
    )
    buy(book, 950_000, START, "p1")  # 95 % of the joint limit
    close_through(book, START, date(2026, 1, 20))
    [watch] = alerts(book.store.reader())
    assert (watch.on, watch.level, watch.cause) == (START, "WATCH", "HIGH_UTILISATION")
    # The increase asked on 5 January was due on 12 January; WATCH holds it.
    assert (
        customer_state(
            book.store.reader(), customer_id="c1", on=date(2026, 1, 21)
        ).limit.joint_limit_fen
        == 1_000_000
    )


def test_recovery_needs_two_on_time_cycles_after_the_cure(book: Book) -> None:
    add_customer(book.store, "c1")
    buy(book, 100_000, START, "p1")
    close_through(book, START, date(2026, 2, 16))  # RESTRICT from 14 February
    paylater.repay(
        book.store.unit_of_work(),
        customer_id="c1",
        amount=paylater.Shortcut.MINIMUM,
        on=date(2026, 2, 17),
        idempotency_key="r1",
    )
    close_through(book, date(2026, 2, 17), date(2026, 3, 9))
    paylater.repay(
        book.store.unit_of_work(),
        customer_id="c1",
        amount=paylater.Shortcut.MINIMUM,
        on=date(2026, 3, 10),
        idempotency_key="r2",
    )
    close_through(book, date(2026, 3, 10), date(2026, 4, 9))
    assert level(book, date(2026, 4, 10)) is AlertLevel.RESTRICT  # one cycle only
    paylater.repay(
        book.store.unit_of_work(),
        customer_id="c1",
        amount=paylater.Shortcut.MINIMUM,
        on=date(2026, 4, 10),
        idempotency_key="r3",
    )
    close_through(book, date(2026, 4, 10), date(2026, 5, 2))
    assert level(book, date(2026, 5, 3)) is AlertLevel.WATCH  # one step down, not two
    recoveries = [a for a in alerts(book.store.reader()) if a.kind == "recovery"]
    assert [(r.level, r.cause) for r in recoveries] == [("WATCH", "RECOVERY")]


def test_three_round_purchases_in_a_day_are_a_cash_out_and_restrict_at_once(book: Book) -> None:
    add_customer(book.store, "c1")
    assert buy(book, 20_000, START, "p1")
    assert buy(book, 30_000, START, "p2")
    assert not buy(book, 40_000, START, "p3", category="gambling")  # declined: never counts
    assert level(book, START) is AlertLevel.NONE
    assert buy(book, 50_000, START, "p4")
    assert level(book, START) is AlertLevel.RESTRICT
    [alert] = alerts(book.store.reader())
    assert (alert.on, alert.level, alert.cause) == (START, "RESTRICT", "CASH_OUT")
    assert "p1, p2, p4" in alert.evidence


def test_two_purchase_then_refund_pairs_at_one_merchant_are_a_cash_out(book: Book) -> None:
    add_customer(book.store, "c1")
    for key in ("p1", "p2"):
        paylater.purchase(
            book.store.unit_of_work(),
            customer_id="c1",
            ref=key,
            amount_fen=12_345,
            merchant="shop",
            category="retail",
            on=START,
            idempotency_key=key,
        )
    paylater.refund(
        book.store.unit_of_work(),
        customer_id="c1",
        purchase_ref="p1",
        amount_fen=12_345,
        on=START + timedelta(days=3),
        idempotency_key="r1",
    )
    assert level(book, START + timedelta(days=3)) is AlertLevel.NONE
    paylater.refund(
        book.store.unit_of_work(),
        customer_id="c1",
        purchase_ref="p2",
        amount_fen=100,
        on=START + timedelta(days=4),
        idempotency_key="r2",
    )
    assert [a.cause for a in alerts(book.store.reader())] == ["CASH_OUT"]


def test_repaying_paylater_from_two_loan_draws_is_borrow_to_repay(book: Book) -> None:
    # Each month a 1,000.00 draw is followed within two dates by a PayLater repayment of
    # 1,300.00 (at least half the draw, and enough to meet the minimum, so no DPD cause).
    add_customer(book.store, "c1", joint=5_000_000, cap_paylater=2_000_000)
    buy(book, 1_234_500, START, "p1")
    schedule = (
        ("L1", date(2026, 2, 3), date(2026, 2, 4)),
        ("L2", date(2026, 3, 3), date(2026, 3, 5)),
    )
    closed = START
    for ref, drawn_on, paid_on in schedule:
        close_through(book, closed, drawn_on - timedelta(days=1))
        if ref == "L2":  # L1's first installment falls due the same day: paid on time
            repay_loan(
                book.store.unit_of_work(),
                customer_id="c1",
                loan_ref="L1",
                amount=paylater.Shortcut.DUE,
                on=drawn_on,
                idempotency_key="L1-1",
            )
        draw_loan(
            book.store.unit_of_work(),
            customer_id="c1",
            ref=ref,
            amount_fen=100_000,
            term_months=3,
            method=Method.EQUAL_PRINCIPAL,
            on=drawn_on,
            idempotency_key=ref,
        )
        close_through(book, drawn_on, paid_on - timedelta(days=1))
        paylater.repay(
            book.store.unit_of_work(),
            customer_id="c1",
            amount=130_000,
            on=paid_on,
            idempotency_key=f"pay-{ref}",
        )
        closed = paid_on
    # The second pair completes the pattern, at the repayment itself.
    assert [(a.on, a.level, a.cause) for a in alerts(book.store.reader())] == [
        (date(2026, 3, 5), "RESTRICT", "BORROW_TO_REPAY")
    ]
    assert level(book, date(2026, 3, 5)) is AlertLevel.RESTRICT
