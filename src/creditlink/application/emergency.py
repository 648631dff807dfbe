"""Emergency response (DOMAIN.md §6): early-warning indicators in the close of day, the
tightened parameter set switched on when one breaches, and the operator's restore.

Each close records, per product, the accounts owing principal and how many accounts crossed
into M1 (1 DPD) and M2 (31 DPD) that day, counted on the close's own visits, and the day's
decision outcomes. From those:

- `new_overdue_rate_7d`: accounts that turned 1 DPD on this and the 6 dates before, over the
  accounts active today (both products);
- `roll_c_m1` per product: accounts that turned 1 DPD in the last 30 dates over the accounts
  active 30 dates before (a flow rate; needs that date's record);
- `roll_m1_m2` per product: accounts that turned 31 DPD in the last 30 dates over those that
  turned 1 DPD in the 30 dates before (needs 60 dates of records and some inflow);
- `approval_volume_ratio`: the date's approvals over the mean of the 7 dates before.

They are judged only once `emergency.min_active_accounts` accounts are active. A breach,
with no incident open, puts the tightened set in force from the next date (the live set with
`TIGHTENED` applied), opens an incident and writes both to the audit log; while an incident
is open, breaches are recorded in the indicators and nothing switches again. An operator
restores the normal set (the values in force when the incident opened) with a reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from creditlink.application.business_date import require_not_closing
from creditlink.application.parameters import (
    audit_change,
    current_parameters,
    require_reason,
    store_version,
)
from creditlink.application.ports import Clock, Incident, UnitOfWork
from creditlink.domain.errors import Conflict, NotFound
from creditlink.domain.parameters import ParameterSet

PRODUCTS = ("paylater", "loan")
SYSTEM = "system:emergency"
# The tightened set: the live one with these values (see docs/DECISIONS.md).
TIGHTENED: Mapping[str, object] = {
    "linkage.watch_utilisation": "0.80",
    "linkage.restrict_dpd": 1,
    "rules.velocity_hour_count": 3,
    "rules.velocity_day_count": 5,
}


class IncidentNotOpen(Conflict):
    code = "INCIDENT_NOT_OPEN"


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 6) if whole > 0 else None


def _sum(rows: Sequence[Mapping[str, Any]], key: str, product: str | None = None) -> int:
    if product is None:
        return sum(int(r[key][p]) for r in rows for p in PRODUCTS)
    return sum(int(r[key][product]) for r in rows)


def indicators(
    today: Mapping[str, Any], history: Sequence[tuple[date, Mapping[str, Any]]], on: date
) -> dict[str, Any]:
    """The indicators of `on` from its counts and those of earlier dates."""
    past = dict(history)
    last_7 = [today, *(past[d] for d in _dates(on, 1, 6) if d in past)]
    last_30 = [today, *(past[d] for d in _dates(on, 1, 29) if d in past)]
    before_30 = [past[d] for d in _dates(on, 30, 59) if d in past]
    active = sum(int(today["active"][p]) for p in PRODUCTS)
    out: dict[str, Any] = {
        "active_accounts": active,
        "new_overdue_rate_7d": _ratio(_sum(last_7, "into_m1"), active),
        "roll_c_m1": {},
        "roll_m1_m2": {},
    }
    month_ago = past.get(on - timedelta(days=30))
    for product in PRODUCTS:
        base = int(month_ago["active"][product]) if month_ago else 0
        out["roll_c_m1"][product] = _ratio(_sum(last_30, "into_m1", product), base)
        inflow = _sum(before_30, "into_m1", product) if len(before_30) == 30 else 0
        out["roll_m1_m2"][product] = _ratio(_sum(last_30, "into_m2", product), inflow)
    week = [int(past[d]["approvals"]) for d in _dates(on, 1, 7) if d in past]
    mean = sum(week) / 7 if len(week) == 7 else 0
    out["approval_volume_ratio"] = _ratio(int(today["approvals"]), mean)
    return out


def _dates(on: date, nearest: int, furthest: int) -> list[date]:
    return [on - timedelta(days=n) for n in range(nearest, furthest + 1)]


def breaches(figures: Mapping[str, Any], parameters: ParameterSet) -> list[dict[str, str]]:
    """Each indicator above its threshold, as {indicator, value, threshold}."""
    values = parameters.values
    if figures["active_accounts"] < values.emergency_min_active_accounts:
        return []
    checks: list[tuple[str, float | None, Decimal]] = [
        (
            "new_overdue_rate_7d",
            figures["new_overdue_rate_7d"],
            values.emergency_new_overdue_rate_7d,
        )
    ]
    for product in PRODUCTS:
        checks.append(
            (f"roll_c_m1.{product}", figures["roll_c_m1"][product], values.emergency_roll_c_m1)
        )
        checks.append(
            (f"roll_m1_m2.{product}", figures["roll_m1_m2"][product], values.emergency_roll_m1_m2)
        )
    if values.emergency_approval_volume_ratio > 0:
        checks.append(
            (
                "approval_volume_ratio",
                figures["approval_volume_ratio"],
                values.emergency_approval_volume_ratio,
            )
        )
    return [
        {"indicator": name, "value": str(value), "threshold": str(threshold)}
        for name, value, threshold in checks
        if value is not None and Decimal(str(value)) > threshold
    ]


def watch_portfolio(
    uow: UnitOfWork,
    *,
    on: date,
    counts: Mapping[str, Mapping[str, int]],
    clock: Clock,
) -> Incident | None:
    """Inside the close of `on` (the caller commits): record the date's indicators and, on a
    breach with no incident open, switch to the tightened set. Returns the incident opened."""
    if uow.portfolio.indicators(on, on):
        return None  # recorded by an earlier run of this close
    outcomes = uow.decisions.outcomes_on(on)
    today: dict[str, Any] = {
        "active": dict(uow.portfolio.count_active()),
        **{key: dict(value) for key, value in counts.items()},
        "approvals": int(outcomes.get("APPROVE", 0)),
        "decisions": sum(outcomes.values()),
    }
    history = uow.portfolio.indicators(on - timedelta(days=59), on - timedelta(days=1))
    figures = indicators(today, history, on)
    parameters = current_parameters(uow)
    found = breaches(figures, parameters)
    uow.portfolio.add_indicators(on, {**today, "figures": figures, "breaches": found})
    if not found or any(i.open for i in uow.portfolio.incidents()):
        return None
    tightened = parameters.changed(TIGHTENED)
    why = "; ".join(f"{b['indicator']} {b['value']} > {b['threshold']}" for b in found)
    reason = f"breach on {on}: {why}"
    store_version(uow, tightened, before=parameters, actor=SYSTEM, reason=reason, clock=clock)
    incident = uow.portfolio.add_incident(
        Incident(
            incident_id=0,
            opened_on=on,
            opened_at=clock.now(),
            breaches=tuple(found),
            normal_version=parameters.version,
            tightened_version=tightened.version,
        )
    )
    audit_change(
        uow,
        before=parameters,
        after=tightened,
        actor=SYSTEM,
        action="parameters.tightened",
        subject=f"incident {incident.incident_id}",
        reason=reason,
        clock=clock,
        breaches=found,
    )
    return incident


def restore_parameters(
    uow: UnitOfWork, *, incident_id: int, actor: str, reason: str, clock: Clock
) -> Incident:
    """Put the normal set back in force (the values of the version in force when the
    incident opened) and close the incident; audited."""
    require_reason(reason, what="a restore")
    with uow:
        incident = next(
            (i for i in uow.portfolio.incidents() if i.incident_id == incident_id), None
        )
        if incident is None:
            raise NotFound(f"no incident {incident_id}", field="incident", rule="INCIDENT_EXISTS")
        if not incident.open:
            raise IncidentNotOpen(
                f"incident {incident_id} was closed at {incident.closed_at}",
                field="incident",
                rule="INCIDENT_OPEN",
            )
        uow.eod.hold()
        require_not_closing(uow, field="incident")
        current = current_parameters(uow)
        normal = uow.parameters.get(incident.normal_version)
        assert normal is not None
        changes = {c.name: c.after for c in current.diff(normal)}
        restored = current.changed(changes) if changes else current
        store_version(uow, restored, before=current, actor=actor, reason=reason, clock=clock)
        closed = dataclasses.replace(
            incident,
            closed_at=clock.now(),
            closed_by=actor,
            close_reason=reason,
            restored_version=restored.version,
        )
        uow.portfolio.save_incident(closed)
        audit_change(
            uow,
            before=current,
            after=restored,
            actor=actor,
            action="parameters.restored",
            subject=f"incident {incident_id}",
            reason=reason,
            clock=clock,
        )
        uow.commit()
    return closed


def list_incidents(uow: UnitOfWork) -> list[Incident]:
    with uow:
        return uow.portfolio.incidents()


def indicator_history(
    uow: UnitOfWork, *, first: date, last: date
) -> list[tuple[date, Mapping[str, Any]]]:
    with uow:
        return uow.portfolio.indicators(first, last)
