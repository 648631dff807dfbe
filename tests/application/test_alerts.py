"""Working the alert queue: the status steps allowed, those refused, and what each records."""

from __future__ import annotations

import pytest

from creditlink.application.alerts import (
    AlertNotFound,
    AlertStatusConflict,
    acknowledge_alert,
    alert_page,
    escalate_alert,
    get_alert,
)
from creditlink.application.ports import AlertRecord
from creditlink.bootstrap import Book
from creditlink.domain.errors import InvalidInput
from tests.conftest import CLOCK, DAY


def _raise(book: Book, customer_id: str = "c1", *, kind: str = "alert") -> AlertRecord:
    with book.store.unit_of_work() as uow:
        stored = uow.alerts.add(
            AlertRecord(
                on=DAY,
                customer_id=customer_id,
                kind=kind,
                level="RESTRICT",
                cause="LOAN_DPD",
                products=("paylater", "loan"),
                evidence="loan L1 31 days past due",
            )
        )
        uow.commit()
    return stored


def _acknowledge(book: Book, alert_id: int, note: str = "") -> AlertRecord:
    return acknowledge_alert(
        book.store.unit_of_work(), alert_id=alert_id, actor="ops", note=note, clock=CLOCK
    )


def _escalate(book: Book, alert_id: int, note: str = "needs a risk officer") -> AlertRecord:
    return escalate_alert(
        book.store.unit_of_work(), alert_id=alert_id, actor="ops", note=note, clock=CLOCK
    )


def test_a_stored_alert_gets_an_id_and_starts_open(book: Book) -> None:
    first, second = _raise(book), _raise(book, "c2")
    assert first.alert_id >= 1
    assert second.alert_id > first.alert_id
    assert get_alert(book.store.reader(), alert_id=first.alert_id) == first
    assert (first.status, first.status_by, first.status_at, first.status_note) == (
        "open",
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("steps", "status"),
    [
        (["acknowledge"], "acknowledged"),
        (["escalate"], "escalated"),
        (["acknowledge", "escalate"], "escalated"),
        (["escalate", "acknowledge"], "acknowledged"),
        (["escalate", "acknowledge", "escalate"], "escalated"),
    ],
)
def test_the_allowed_steps(book: Book, steps: list[str], status: str) -> None:
    alert = _raise(book)
    for step in steps:
        alert = (_acknowledge if step == "acknowledge" else _escalate)(book, alert.alert_id)
    assert alert.status == status
    assert get_alert(book.store.reader(), alert_id=alert.alert_id) == alert


@pytest.mark.parametrize(
    ("steps", "refused", "rule"),
    [
        (["acknowledge"], "acknowledge", "ALERT_ALREADY_ACKNOWLEDGED"),
        (["escalate"], "escalate", "ALERT_ALREADY_ESCALATED"),
        (["escalate", "acknowledge"], "acknowledge", "ALERT_ALREADY_ACKNOWLEDGED"),
    ],
)
def test_a_step_to_the_status_it_has_is_refused_and_changes_nothing(
    book: Book, steps: list[str], refused: str, rule: str
) -> None:
    alert = _raise(book)
    for step in steps:
        alert = (_acknowledge if step == "acknowledge" else _escalate)(book, alert.alert_id)
    with pytest.raises(AlertStatusConflict) as conflict:
        (_acknowledge if refused == "acknowledge" else _escalate)(book, alert.alert_id)
    assert (conflict.value.rule, conflict.value.field) == (rule, "alert_id")
    assert get_alert(book.store.reader(), alert_id=alert.alert_id) == alert


def test_a_recovery_is_acknowledged_never_escalated(book: Book) -> None:
    recovery = _raise(book, kind="recovery")
    with pytest.raises(AlertStatusConflict) as conflict:
        _escalate(book, recovery.alert_id)
    assert conflict.value.rule == "RECOVERY_NOT_ESCALATED"
    assert _acknowledge(book, recovery.alert_id).status == "acknowledged"


def test_each_step_records_who_when_and_why_in_the_alert_and_the_audit_log(book: Book) -> None:
    alert = _raise(book)
    escalated = _escalate(book, alert.alert_id, "  promised payment missed  ")
    assert (escalated.status_by, escalated.status_at, escalated.status_note) == (
        "ops",
        CLOCK.now(),
        "promised payment missed",
    )
    with book.store.reader() as uow:
        [record] = uow.audit.recent(limit=1)
    assert (record.action, record.actor, record.subject) == ("alert.escalate", "ops", "c1")
    assert record.reason == "promised payment missed"
    assert record.details["alert_id"] == alert.alert_id
    assert (record.details["from"], record.details["to"]) == ("open", "escalated")


def test_escalating_needs_a_note(book: Book) -> None:
    alert = _raise(book)
    with pytest.raises(InvalidInput) as refused:
        _escalate(book, alert.alert_id, " ")
    assert (refused.value.field, refused.value.rule) == ("note", "NOTE_REQUIRED")
    with pytest.raises(InvalidInput) as too_long:
        _acknowledge(book, alert.alert_id, "x" * 2001)
    assert too_long.value.rule == "NOTE_LENGTH"
    assert get_alert(book.store.reader(), alert_id=alert.alert_id).status == "open"


def test_an_unknown_alert_is_not_found(book: Book) -> None:
    with pytest.raises(AlertNotFound) as missing:
        _acknowledge(book, 42)
    assert (missing.value.field, missing.value.rule) == ("alert_id", "ALERT_EXISTS")
    with pytest.raises(AlertNotFound):
        get_alert(book.store.reader(), alert_id=0)


def test_a_page_of_alerts_is_newest_first_filtered_and_counted(book: Book) -> None:
    raised = [_raise(book, f"c{n % 2}") for n in range(5)]
    recovery = _raise(book, "c0", kind="recovery")
    _acknowledge(book, raised[1].alert_id)
    everything = alert_page(book.store.reader(), limit=3)
    assert [a.alert_id for a in everything.items] == [
        recovery.alert_id,
        raised[4].alert_id,
        raised[3].alert_id,
    ]
    assert everything.total == 6
    c0_open = alert_page(book.store.reader(), customer_id="c0", status="open", kind="alert")
    assert [a.alert_id for a in c0_open.items] == [
        raised[4].alert_id,
        raised[2].alert_id,
        raised[0].alert_id,
    ]
    assert c0_open.total == 3
    second = alert_page(book.store.reader(), offset=4, limit=3)
    assert [a.alert_id for a in second.items] == [raised[1].alert_id, raised[0].alert_id]
    assert alert_page(book.store.reader(), status="acknowledged").total == 1
    with pytest.raises(InvalidInput) as bad:
        alert_page(book.store.reader(), status="closed")
    assert bad.value.rule == "ALERT_STATUS_KNOWN"
    with pytest.raises(InvalidInput) as bad_limit:
        alert_page(book.store.reader(), limit=0)
    assert (bad_limit.value.field, bad_limit.value.rule) == ("limit", "LIMIT_RANGE")


def test_alerts_raised_by_linkage_are_stored_with_ids_and_open(book: Book) -> None:
    """The close of day raises alerts through the same repository: they join the queue."""
    from creditlink.application.linkage import raise_level
    from creditlink.domain.limits import AlertLevel
    from tests.conftest import add_customer

    add_customer(book.store, "c1", sequence=1)
    with book.store.unit_of_work() as uow:
        limit = uow.limits.get("c1", for_update=True)
        raise_level(
            uow,
            customer_id="c1",
            limit=limit,
            level=AlertLevel.WATCH,
            cause="PAYLATER_DPD",
            evidence="3 days",
            on=DAY,
        )
        uow.commit()
    [alert] = alert_page(book.store.reader(), customer_id="c1").items
    assert (alert.status, alert.level, alert.cause) == ("open", "WATCH", "PAYLATER_DPD")
    assert alert.alert_id >= 1
