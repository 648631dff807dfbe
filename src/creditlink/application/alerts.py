"""Working the alert queue: staff acknowledge an alert or escalate it.

An alert is raised `open`. Its status then moves by these steps, and no others:

    open         --acknowledge-->  acknowledged   (seen and handled: off the queue)
    open         --escalate----->  escalated      (needs a risk officer; a note says why)
    acknowledged --escalate----->  escalated      (handled, then found to need more)
    escalated    --acknowledge-->  acknowledged   (the risk officer has dealt with it)

Acknowledging an acknowledged alert, or escalating an escalated one, is refused as a
conflict, so that two people working the same queue learn that someone was there first.
A recovery (a level stepped down, DOMAIN.md §6) is history, not a risk to hand on: it can
be acknowledged, never escalated. Each step records who took it, when and why, in the alert
and in the audit log. Statuses never change the customer's level: that is linkage's work.
"""

from __future__ import annotations

import dataclasses

from creditlink.application.ports import ALERT_STATUSES, AlertRecord, AuditRecord, Clock, UnitOfWork
from creditlink.application.queries import Page, check_paging
from creditlink.domain.errors import Conflict, InvalidInput, NotFound

OPEN, ACKNOWLEDGED, ESCALATED = ALERT_STATUSES
ALERT_KINDS = ("alert", "recovery")
NOTE_LENGTH_MAX = 2000


class AlertNotFound(NotFound):
    code = "ALERT_NOT_FOUND"

    def __init__(self, alert_id: int):
        super().__init__(f"no alert {alert_id}", field="alert_id", rule="ALERT_EXISTS")
        self.alert_id = alert_id


class AlertStatusConflict(Conflict):
    """The alert is not in a status the step may start from."""

    code = "ALERT_STATUS"


def acknowledge_alert(
    uow: UnitOfWork, *, alert_id: int, actor: str, note: str = "", clock: Clock
) -> AlertRecord:
    """Mark an open or escalated alert as acknowledged; `note` is optional."""
    return _move(uow, alert_id=alert_id, to=ACKNOWLEDGED, actor=actor, note=note, clock=clock)


def escalate_alert(
    uow: UnitOfWork, *, alert_id: int, actor: str, note: str, clock: Clock
) -> AlertRecord:
    """Hand an open or acknowledged alert to a risk officer; `note` says why and is required."""
    if not note.strip():
        raise InvalidInput(
            "must say why the alert is escalated", field="note", rule="NOTE_REQUIRED"
        )
    return _move(uow, alert_id=alert_id, to=ESCALATED, actor=actor, note=note, clock=clock)


def alert_page(
    uow: UnitOfWork,
    *,
    customer_id: str | None = None,
    status: str | None = None,
    kind: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> Page[AlertRecord]:
    """Alerts matching every filter given, newest first, with how many match in all."""
    if status is not None and status not in ALERT_STATUSES:
        raise InvalidInput(
            f"must be one of {', '.join(ALERT_STATUSES)}, got {status!r}",
            field="status",
            rule="ALERT_STATUS_KNOWN",
        )
    if kind is not None and kind not in ALERT_KINDS:
        raise InvalidInput(
            f"must be one of {', '.join(ALERT_KINDS)}, got {kind!r}",
            field="kind",
            rule="ALERT_KIND_KNOWN",
        )
    check_paging(offset=offset, limit=limit)
    filters = {"customer_id": customer_id, "status": status, "kind": kind}
    with uow:
        items = uow.alerts.page(**filters, offset=offset, limit=limit)
        total = uow.alerts.count(**filters)
    return Page(items=items, total=total, offset=offset, limit=limit)


def get_alert(uow: UnitOfWork, *, alert_id: int) -> AlertRecord:
    with uow:
        alert = uow.alerts.get(alert_id)
    if alert is None:
        raise AlertNotFound(alert_id)
    return alert


_STEP_FROM = {ACKNOWLEDGED: (OPEN, ESCALATED), ESCALATED: (OPEN, ACKNOWLEDGED)}
_VERB = {ACKNOWLEDGED: "acknowledge", ESCALATED: "escalate"}


def _move(
    uow: UnitOfWork, *, alert_id: int, to: str, actor: str, note: str, clock: Clock
) -> AlertRecord:
    note = note.strip()
    if len(note) > NOTE_LENGTH_MAX:
        raise InvalidInput(
            f"must be at most {NOTE_LENGTH_MAX} characters", field="note", rule="NOTE_LENGTH"
        )
    with uow:
        alert = uow.alerts.get(alert_id)
        if alert is None:
            raise AlertNotFound(alert_id)
        if alert.status == to:
            raise AlertStatusConflict(
                f"alert {alert_id} is already {to} (by {alert.status_by})",
                field="alert_id",
                rule=f"ALERT_ALREADY_{to.upper()}",
            )
        if to == ESCALATED and alert.kind != "alert":
            raise AlertStatusConflict(
                f"alert {alert_id} records a recovery: it can be acknowledged, not escalated",
                field="alert_id",
                rule="RECOVERY_NOT_ESCALATED",
            )
        assert alert.status in _STEP_FROM[to], (alert.status, to)
        at = clock.now()
        moved = dataclasses.replace(
            alert, status=to, status_by=actor, status_at=at, status_note=note or None
        )
        uow.alerts.save(moved)
        uow.audit.record(
            AuditRecord(
                at=at,
                actor=actor,
                action=f"alert.{_VERB[to]}",
                subject=alert.customer_id,
                reason=note or to,
                details={
                    "alert_id": alert_id,
                    "from": alert.status,
                    "to": to,
                    "level": alert.level,
                    "cause": alert.cause,
                    "on": alert.on.isoformat(),
                },
            )
        )
        uow.commit()
    return moved
