"""Reading the parameter set in force and putting a new version in force."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from operator import attrgetter

from creditlink.application.business_date import next_close, require_not_closing
from creditlink.application.ports import AuditRecord, Clock, ParameterVersion, UnitOfWork
from creditlink.domain.errors import InvalidInput, NotFound
from creditlink.domain.parameters import DEFAULTS, Parameters, ParameterSet
from creditlink.domain.rates import DailyRate


def current_parameters(uow: UnitOfWork) -> ParameterSet:
    """The version in force; the defaults of DOMAIN.md §8 on a book that has none yet."""
    return uow.parameters.current() or DEFAULTS


def ensure_parameters(uow: UnitOfWork, *, clock: Clock) -> ParameterSet:
    """Store the defaults as version 1 on a new book."""
    with uow:
        current = uow.parameters.current()
        if current is None:
            uow.parameters.add(
                DEFAULTS,
                actor="system",
                reason="initial defaults",
                at=clock.now(),
                in_force_from=None,
            )
            uow.commit()
            return DEFAULTS
        return current


def require_reason(reason: str, *, what: str) -> None:
    """Every change to what is in force carries a reason for the audit log."""
    if not reason.strip():
        raise InvalidInput(f"{what} needs a reason", field="reason", rule="REASON_REQUIRED")


# What the close of day judges accounts by (their level and write-off) and what decides
# when it looks at an account next: a change must reach every account at the next close.
JUDGED_AT_CLOSE = frozenset(
    {
        "linkage.watch_dpd",
        "linkage.restrict_dpd",
        "linkage.freeze_dpd",
        "linkage.watch_utilisation",
        "linkage.recovery_cycles",
        "write_off_dpd",
    }
)


def store_version(
    uow: UnitOfWork,
    after: ParameterSet,
    *,
    before: ParameterSet,
    actor: str,
    reason: str,
    clock: Clock,
) -> None:
    """Put `after` in force from the next operation (a book still on the defaults stores
    them as version 1 first). Nothing is stored when `after` is `before` itself."""
    if uow.parameters.current() is None:
        uow.parameters.add(
            before, actor="system", reason="initial defaults", at=clock.now(), in_force_from=None
        )
    if after.version != before.version:
        uow.parameters.add(
            after, actor=actor, reason=reason, at=clock.now(), in_force_from=first_day_priced(uow)
        )
        if any(change.name in JUDGED_AT_CLOSE for change in before.diff(after)):
            # Accounts already late wake next at their next threshold under the old values:
            # the next close looks at every account, so the new ones reach them then.
            on = next_close(uow, today=clock.today())
            uow.paylater.wake_by(on)
            uow.loans.wake_by(on)


def first_day_priced(uow: UnitOfWork) -> date | None:
    """The first business day whose close a version stored now prices: the open date, or
    the day after the date being closed (its close read its parameters when it began).
    None on a book that has never closed a date: no close has priced any day yet."""
    latest = uow.eod.latest()  # the date closed last, or being closed
    return None if latest is None else latest[0] + timedelta(days=1)


def daily_rate(uow: UnitOfWork, value: Callable[[Parameters], Decimal]) -> DailyRate:
    """`value` of each version, on the business days it was in force (DOMAIN.md §6: a change
    applies from the next operation, EOD included): what lazy accrual prices a stretch by."""
    rate = DailyRate(value(DEFAULTS.values))
    for first_day, parameters in uow.parameters.by_business_day():
        rate = (
            DailyRate(value(parameters.values))
            if first_day is None
            else rate.changed_from(first_day, value(parameters.values))
        )
    return rate


def penalty_multiplier(uow: UnitOfWork) -> DailyRate:
    """`loan.penalty_multiplier` by business day (DOMAIN.md §4: the multiplier in force)."""
    return daily_rate(uow, attrgetter("loan_penalty_multiplier"))


def revolving_daily_rate(uow: UnitOfWork) -> DailyRate:
    """`paylater.revolving_daily_rate` by business day (DOMAIN.md §3)."""
    return daily_rate(uow, attrgetter("paylater_revolving_daily_rate"))


def audit_change(
    uow: UnitOfWork,
    *,
    before: ParameterSet,
    after: ParameterSet,
    actor: str,
    action: str,
    subject: str,
    reason: str,
    clock: Clock,
    **details: object,
) -> None:
    """The audit record of a switch between versions: who, when, why and the diff."""
    uow.audit.record(
        AuditRecord(
            at=clock.now(),
            actor=actor,
            action=action,
            subject=subject,
            reason=reason,
            details={
                "from_version": before.version,
                "to_version": after.version,
                **details,
                "diff": {
                    c.name: {"before": c.before, "after": c.after} for c in before.diff(after)
                },
            },
        )
    )


def set_parameters(
    uow: UnitOfWork, *, changes: Mapping[str, object], actor: str, reason: str, clock: Clock
) -> ParameterSet:
    """Put a new version in force from the next operation; audited with who, when, why."""
    require_reason(reason, what="a parameter change")
    with uow:
        uow.eod.hold()
        require_not_closing(uow, field="changes")
        before = current_parameters(uow)
        after = before.changed(changes)
        store_version(uow, after, before=before, actor=actor, reason=reason, clock=clock)
        audit_change(
            uow,
            before=before,
            after=after,
            actor=actor,
            action="parameters.set",
            subject=f"version {after.version}",
            reason=reason,
            clock=clock,
        )
        uow.commit()
    return after


def parameter_set(uow: UnitOfWork, *, version: int | None = None) -> ParameterSet:
    """The version in force, or a past one by number."""
    with uow:
        if version is None:
            return current_parameters(uow)
        found = uow.parameters.get(version)
    if found is None:
        raise NotFound(
            f"no parameter set version {version}", field="version", rule="PARAMETER_VERSION_EXISTS"
        )
    return found


def parameter_history(uow: UnitOfWork) -> list[ParameterVersion]:
    with uow:
        return uow.parameters.history()
