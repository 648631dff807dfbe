"""The close of day (EOD) for a business date: a wake-up queue, claimed in batches.

Every PayLater account and every limit keeps the next date on which something happens to it
(a statement, a delinquency threshold, a temporary limit's lapse, a delayed increase). The
close of D visits only those due by D, in batches of one transaction each, so its cost follows
the day's work and not the size of the book. Each account remembers the last date closed for
it, so a close that dies half-way is simply run again: it picks up the accounts not yet done
and ends in the same state as one clean run. Dates are closed strictly in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from creditlink.application.emergency import watch_portfolio
from creditlink.application.linkage import customers_operating, evaluate
from creditlink.application.loans import LoanDayWork, close_loan_day
from creditlink.application.parameters import current_parameters
from creditlink.application.paylater import DayWork, close_paylater_day
from creditlink.application.ports import AuditRecord, Clock, Store
from creditlink.domain.errors import Conflict
from creditlink.domain.parameters import ParameterSet

BATCH_SIZE = 200
CLOSE_LOCK = "close-of-day"  # held by the close that runs (Store.only_one)

Progress = Callable[[int], None]


class DateOutOfOrder(Conflict):
    code = "EOD_OUT_OF_ORDER"


@dataclass(frozen=True, slots=True, kw_only=True)
class DayReport:
    on: date
    already_closed: bool
    accounts: int = 0
    loans: int = 0
    rescored: int = 0
    statements: int = 0
    write_offs: int = 0
    limits: int = 0


def close_day(
    store: Store,
    *,
    on: date,
    clock: Clock,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
    actor: str | None = None,
) -> DayReport:
    """Close business date `on`: idempotent for a closed date, refuses to skip a date, and
    runs alone: a second close of the book while one runs is refused (`EOD_RUNNING`); after
    a crash, run it again and it finishes what was left. A close someone runs (`actor`: the
    command line's) is in the audit log with what it did; the twin's and the scenario
    runner's, thousands of them, are not."""
    with store.only_one(CLOSE_LOCK) as alone:
        if not alone:
            raise Conflict(
                "another close of day is running on this book; wait for it to finish, "
                "then run this one again (a close is idempotent and resumable)",
                field="date",
                rule="EOD_RUNNING",
            )
        return _close_day(
            store, on=on, clock=clock, batch_size=batch_size, progress=progress, actor=actor
        )


def _check_first_close(on: date, first: date, latest: date) -> None:
    """A book never closed takes operations of any date. Its first close may not leave any
    of them dated after the closed date: the closes of the dates between would see
    operations from their future. Nor may it fall after the first of them: the dates between
    would go unclosed, and a statement or due date among them never come (a review closed
    1 March first on a book with a purchase of 5 January: no statement, no delinquency)."""
    if on == first == latest:
        return
    span = first.isoformat() if first == latest else f"{first.isoformat()} to {latest.isoformat()}"
    if first == latest:
        hint = f"close {first.isoformat()} first"
    else:
        hint = (
            "no first close can take them all in order; run its operations again on a new "
            "book, closing each date after its operations (as the scenario runner does)"
        )
    raise DateOutOfOrder(
        f"cannot close {on.isoformat()} first: the book, never closed, holds operations dated "
        f"{span}; a first close is on the date of its operations, neither after the first nor "
        f"before the last: {hint}",
        field="date",
        rule="EOD_IN_ORDER",
    )


def _close_day(
    store: Store,
    *,
    on: date,
    clock: Clock,
    batch_size: int,
    progress: Progress | None,
    actor: str | None,
) -> DayReport:
    with store.reader() as uow:
        if uow.eod.is_closed(on):
            return DayReport(on=on, already_closed=True)
        last = uow.eod.last_closed()
        operations = uow.eod.operation_dates() if last is None else None
    if operations is not None:
        _check_first_close(on, *operations)
    if last is not None and on != last + timedelta(days=1):
        raise DateOutOfOrder(
            f"cannot close {on.isoformat()}: the last closed date is {last.isoformat()}, so "
            f"{(last + timedelta(days=1)).isoformat()} comes next"
            if on > last
            else f"{on.isoformat()} is before the last closed date {last.isoformat()}",
            field="date",
            rule="EOD_IN_ORDER",
        )
    with store.unit_of_work() as uow:
        # From here no operation can be dated `on`, and no parameter change made: the close
        # sees every operation, and judges by the set in force now.
        uow.eod.mark_closing(on, at=clock.now())
        uow.commit()
    with store.reader() as uow:
        parameters = current_parameters(uow)
    limits = _close_limits(store, on=on, batch_size=batch_size)
    work = DayWork()
    accounts = 0
    while True:
        with store.unit_of_work() as uow:
            due = uow.paylater.due(on, limit=batch_size)
            if not due:
                break
            for customer_id in due:
                close_paylater_day(
                    uow, customer_id=customer_id, on=on, parameters=parameters, work=work
                )
            uow.commit()
        accounts += len(due)
        if progress is not None:
            progress(len(due))
    loan_work = LoanDayWork()
    loans = 0
    while True:
        with store.unit_of_work() as uow:
            due_loans = uow.loans.due(on, limit=batch_size)
            if not due_loans:
                break
            for customer_id, ref in due_loans:
                close_loan_day(
                    uow,
                    customer_id=customer_id,
                    ref=ref,
                    on=on,
                    parameters=parameters,
                    work=loan_work,
                )
            uow.commit()
        loans += len(due_loans)
        if progress is not None:
            progress(len(due_loans))
    linked = _close_linkage(store, on=on, parameters=parameters, batch_size=batch_size)
    counts = {
        "into_m1": {"paylater": work.into_m1, "loan": loan_work.into_m1},
        "into_m2": {"paylater": work.into_m2, "loan": loan_work.into_m2},
    }
    with store.unit_of_work() as uow:
        incident = watch_portfolio(uow, on=on, counts=counts, clock=clock)
        uow.commit()
    rescored = work.rescored + loan_work.rescored
    summary = {
        "linkage_checked": linked,
        "rescored": rescored,
        "loans": loans,
        "loan_billings": loan_work.billed,
        "loan_write_offs": loan_work.write_offs,
        "accounts": accounts,
        "statements": work.statements,
        "write_offs": work.write_offs,
        "limits": limits,
        "incident": incident.incident_id if incident else 0,
    }
    with store.unit_of_work() as uow:
        if not uow.eod.is_closed(on):
            uow.eod.mark_closed(on, at=clock.now(), summary=summary)
            if actor is not None:
                uow.audit.record(
                    AuditRecord(
                        at=clock.now(),
                        actor=actor,
                        action="eod.close",
                        subject=on.isoformat(),
                        reason="close of day",
                        details=dict(summary),
                    )
                )
            uow.commit()
    return DayReport(
        on=on,
        already_closed=False,
        loans=loans,
        rescored=rescored,
        write_offs=work.write_offs + loan_work.write_offs,
        accounts=accounts,
        statements=work.statements,
        limits=limits,
    )


def _close_limits(store: Store, *, on: date, batch_size: int) -> int:
    """Lapse temporary limits in the close of their expiry date and put delayed increases in
    force; both are idempotent, so a rerun may visit a limit twice."""
    done = 0
    after = ""
    while True:
        with store.unit_of_work() as uow:
            due = uow.limits.due(on, after=after, limit=batch_size)
            if not due:
                return done
            for customer_id in due:
                limit = uow.limits.get(customer_id, for_update=True)
                changed = limit.lapse_temporary(on=on).apply_due_increase(on=on + timedelta(days=1))
                if changed != limit:
                    uow.limits.save(customer_id, changed)
            uow.commit()
        done += len(due)
        after = due[-1]


def last_closed(store: Store) -> date | None:
    with store.reader() as uow:
        return uow.eod.last_closed()


def _close_linkage(store: Store, *, on: date, parameters: ParameterSet, batch_size: int) -> int:
    """Weigh cross-product linkage for every customer who operated today or whose products
    the close visited (their DPD crossed a threshold or a statement or due date came)."""
    done, after = 0, ""
    while True:
        with store.unit_of_work() as uow:
            ids = customers_operating(uow, on, after=after, limit=batch_size)
            if not ids:
                return done
            for customer_id in ids:
                evaluate(uow, customer_id=customer_id, on=on, parameters=parameters)
            uow.commit()
        done += len(ids)
        after = ids[-1]
