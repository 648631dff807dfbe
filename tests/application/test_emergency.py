"""Emergency response: the close's early-warning indicators, the automatic switch to the
tightened set on a breach (audited, with an incident), and the operator's restore."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from creditlink.application import paylater
from creditlink.application.close_of_day import close_day
from creditlink.application.emergency import (
    TIGHTENED,
    indicator_history,
    list_incidents,
    restore_parameters,
)
from creditlink.application.parameters import parameter_set, set_parameters
from creditlink.bootstrap import Book
from creditlink.domain.errors import CreditlinkError
from tests.conftest import CLOCK, add_customer

START = date(2026, 1, 5)


def _close(book: Book, first: date, last: date) -> None:
    day = first
    while day <= last:
        close_day(book.store, on=day, clock=CLOCK)
        day += timedelta(days=1)


def _book_of_three_who_never_pay(book: Book) -> None:
    set_parameters(
        book.store.unit_of_work(),
        changes={"emergency.min_active_accounts": 3},
        actor="risk",
        reason="a small book",
        clock=CLOCK,
    )
    for n in range(3):
        add_customer(book.store, f"c{n}", joint=2_000_000, cap_paylater=1_500_000)
        paylater.purchase(
            book.store.unit_of_work(),
            customer_id=f"c{n}",
            ref=f"p{n}",
            amount_fen=100_050,
            merchant="m",
            category="retail",
            on=START,
            idempotency_key=f"p{n}",
        )


def test_a_breach_switches_to_the_tightened_set_and_an_operator_restores(book: Book) -> None:
    _book_of_three_who_never_pay(book)
    # Statement 1 February, due 10 February, minimum unpaid: all three turn 1 DPD on the
    # 11th. Before that no account is overdue, so nothing breaches.
    _close(book, START, date(2026, 2, 10))
    assert list_incidents(book.store.reader()) == []
    normal = parameter_set(book.store.reader())
    _close(book, date(2026, 2, 11), date(2026, 2, 11))
    [incident] = list_incidents(book.store.reader())
    # 3 accounts turned 1 DPD in 7 dates over 3 active: rate 1.0 > 0.05.
    assert incident.opened_on == date(2026, 2, 11)
    assert incident.breaches[0] == {
        "indicator": "new_overdue_rate_7d",
        "value": "1.0",
        "threshold": "0.05",
    }
    tightened = parameter_set(book.store.reader())
    assert (incident.normal_version, incident.tightened_version) == (
        normal.version,
        tightened.version,
    )
    assert {c.name: c.after for c in normal.diff(tightened)} == {
        name: str(value) for name, value in TIGHTENED.items()
    }
    [(_, figures)] = indicator_history(
        book.store.reader(), first=date(2026, 2, 11), last=date(2026, 2, 11)
    )
    assert figures["into_m1"] == {"paylater": 3, "loan": 0}
    assert figures["active"] == {"paylater": 3, "loan": 0}
    with book.store.reader() as uow:
        audit = [(a.action, a.actor) for a in uow.audit.recent(limit=5)]
    assert ("parameters.tightened", "system:emergency") in audit
    # Breaches the next days are recorded, but the set does not switch again.
    _close(book, date(2026, 2, 12), date(2026, 2, 13))
    assert len(list_incidents(book.store.reader())) == 1
    assert parameter_set(book.store.reader()).version == tightened.version

    with pytest.raises(CreditlinkError) as refused:
        restore_parameters(
            book.store.unit_of_work(), incident_id=1, actor="ops", reason="", clock=CLOCK
        )
    assert refused.value.rule == "REASON_REQUIRED"
    closed = restore_parameters(
        book.store.unit_of_work(),
        incident_id=incident.incident_id,
        actor="ops",
        reason="collections caught up",
        clock=CLOCK,
    )
    restored = parameter_set(book.store.reader())
    assert closed.restored_version == restored.version == tightened.version + 1
    assert restored.as_text() == normal.as_text()
    assert not list_incidents(book.store.reader())[0].open
    with pytest.raises(CreditlinkError) as again:
        restore_parameters(
            book.store.unit_of_work(), incident_id=1, actor="ops", reason="x", clock=CLOCK
        )
    assert again.value.rule == "INCIDENT_OPEN"
    with book.store.reader() as uow:
        assert uow.audit.recent(limit=1)[0].action == "parameters.restored"


def test_indicators_are_not_judged_below_the_minimum_of_active_accounts(book: Book) -> None:
    _book_of_three_who_never_pay(book)
    set_parameters(
        book.store.unit_of_work(),
        changes={"emergency.min_active_accounts": 4},
        actor="risk",
        reason="judge from 4",
        clock=CLOCK,
    )
    _close(book, START, date(2026, 2, 12))
    assert list_incidents(book.store.reader()) == []
    [(_, figures)] = indicator_history(
        book.store.reader(), first=date(2026, 2, 11), last=date(2026, 2, 11)
    )
    assert figures["breaches"] == []
    assert figures["figures"]["new_overdue_rate_7d"] == 1.0
