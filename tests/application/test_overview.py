"""The portfolio overview on a small book whose every figure can be worked out by hand.

The book (limits from `add_customer`: joint 20000.00, PayLater cap 15000.00, loan cap = joint):
- c1 buys 3000.00 on 2026-01-05 and never pays: statement 2026-02-01, due 2026-02-10;
- c2 buys 1000.00 (paid in full on 2026-02-06) and draws a 6000.00 3-month loan, equal
  principal: 2000.00 due on 2026-02-05, billed by that date's close and never paid;
- c3 does nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from creditlink.application.close_of_day import close_day
from creditlink.application.overview import dpd_band, portfolio_overview
from creditlink.application.paylater import Shortcut, repay
from creditlink.application.ports import AlertRecord, Incident
from creditlink.bootstrap import Book
from creditlink.domain.products import Product
from tests.conftest import CLOCK, DAY, add_customer, spend

PAYLATER_DUE = date(2026, 2, 10)
LOAN_DUE = date(2026, 2, 5)


def _alert(book: Book, *, level: str, status: str = "open", kind: str = "alert") -> None:
    with book.store.unit_of_work() as uow:
        uow.alerts.add(
            AlertRecord(
                on=DAY,
                customer_id="c1",
                kind=kind,
                level=level,
                cause="PAYLATER_DPD",
                products=("paylater", "loan"),
                evidence="PayLater 3 days past due",
                status=status,
            )
        )
        uow.commit()


@pytest.fixture
def small(book: Book) -> Book:
    for sequence, customer_id in enumerate(("c1", "c2", "c3"), start=1):
        add_customer(book.store, customer_id, sequence=sequence)
    spend(book.store, "c1", Product.PAYLATER, 300_000, "p1")
    spend(book.store, "c2", Product.PAYLATER, 100_000, "p2")
    spend(book.store, "c2", Product.LOAN, 600_000, "l1")
    day = DAY
    while day <= LOAN_DUE:
        close_day(book.store, on=day, clock=CLOCK)
        day += timedelta(days=1)
    paid = repay(
        book.store.unit_of_work(),
        customer_id="c2",
        amount=Shortcut.DUE,
        on=LOAN_DUE + timedelta(days=1),
        idempotency_key="r2",
    )
    assert paid.amount_fen == 100_000
    return book


def test_bands_are_current_1_29_30_59_60_89_and_90_plus() -> None:
    got = {dpd: dpd_band(dpd) for dpd in (0, 1, 29, 30, 59, 60, 89, 90, 400)}
    assert got == {
        0: "current",
        1: "1-29",
        29: "1-29",
        30: "30-59",
        59: "30-59",
        60: "60-89",
        89: "60-89",
        90: "90+",
        400: "90+",
    }


def _buckets(figures: dict[str, Any], product: str) -> dict[str, tuple[int, int]]:
    cells = figures["products"][product]["dpd_buckets"]
    return {name: (c["accounts"], c["balance_fen"]) for name, c in cells.items() if c["accounts"]}


def test_balances_buckets_and_utilisation_by_hand(small: Book) -> None:
    on = date(2026, 3, 15)  # PayLater 33 days past due, the loan 38
    figures = portfolio_overview(small.store.reader(), on=on)

    assert figures["on"] == "2026-03-15"
    assert figures["customers"] == 3
    paylater, loan = figures["products"]["paylater"], figures["products"]["loan"]
    # c2's PayLater is paid off: no balance, no DPD, not an account on the book.
    assert (paylater["accounts"], paylater["balance_fen"], paylater["balance"]) == (
        1,
        300_000,
        "3000.00",
    )
    assert _buckets(figures, "paylater") == {"30-59": (1, 300_000)}
    assert paylater["rate_30_plus"] == "1.0000"
    assert paylater["rate_90_plus"] == "0.0000"
    assert (loan["accounts"], loan["balance_fen"]) == (1, 600_000)
    assert _buckets(figures, "loan") == {"30-59": (1, 600_000)}
    assert figures["balance_fen"] == 900_000

    # Usage over limits: 3 customers x 20000.00 joint, x 15000.00 PayLater cap, x 20000.00
    # loan cap; used 3000.00 PayLater (c1) and 6000.00 loan (c2).
    assert figures["utilisation"] == {
        "joint_limit_fen": 6_000_000,
        "used_fen": 900_000,
        "joint": "0.1500",
        "paylater": "0.0667",
        "loan": "0.1000",
    }
    assert (paylater["limit_fen"], paylater["used_fen"]) == (4_500_000, 300_000)
    assert (loan["limit_fen"], loan["used_fen"]) == (6_000_000, 600_000)


@pytest.mark.parametrize(
    ("days_after_due", "band"),
    [(0, "current"), (1, "1-29"), (29, "1-29"), (30, "30-59"), (60, "60-89"), (91, "90+")],
)
def test_the_late_payer_moves_through_the_bands(
    small: Book, days_after_due: int, band: str
) -> None:
    figures = portfolio_overview(
        small.store.reader(), on=PAYLATER_DUE + timedelta(days=days_after_due)
    )
    assert _buckets(figures, "paylater") == {band: (1, 300_000)}
    over_30 = "1.0000" if days_after_due >= 30 else "0.0000"
    assert figures["products"]["paylater"]["rate_30_plus"] == over_30


def test_the_queue_by_status_and_level_and_open_incidents(small: Book) -> None:
    _alert(small, level="WATCH")
    _alert(small, level="WATCH")
    _alert(small, level="FREEZE")
    _alert(small, level="RESTRICT", status="escalated")
    _alert(small, level="RESTRICT", status="acknowledged")  # off the queue
    _alert(small, level="NONE", kind="recovery")
    with small.store.unit_of_work() as uow:
        at = datetime(2026, 2, 1, tzinfo=UTC)
        for closed in (False, True):
            uow.portfolio.add_incident(
                Incident(
                    incident_id=0,
                    opened_on=DAY,
                    opened_at=at,
                    breaches=({"indicator": "new_overdue_rate_7d"},),
                    normal_version=1,
                    tightened_version=2,
                    closed_at=at if closed else None,
                )
            )
        uow.commit()

    figures = portfolio_overview(small.store.reader(), on=date(2026, 3, 15))

    assert figures["alerts"] == {
        "open": {"total": 3, "by_level": {"WATCH": 2, "RESTRICT": 0, "FREEZE": 1}},
        "escalated": {"total": 1, "by_level": {"WATCH": 0, "RESTRICT": 1, "FREEZE": 0}},
        "recoveries_to_acknowledge": 1,
    }
    assert figures["incidents"]["open"] == 1
    assert len(figures["incidents"]["open_ids"]) == 1


def test_an_empty_book_has_no_ratios(book: Book) -> None:
    figures = portfolio_overview(book.store.reader(), on=DAY)
    assert figures["customers"] == 0
    assert figures["utilisation"]["joint"] is None
    assert figures["products"]["paylater"]["rate_30_plus"] is None
    assert figures["alerts"]["open"]["total"] == 0
