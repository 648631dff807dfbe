"""Operations are dated, and only the open business date takes operations.

Once a book has closed a date, the open date is the day after it: an operation dated on or
before a closed date would change what that close produced (statements, interest, ageing,
linkage), and one dated later would run before the close of the days in between, before the
restrictions that close may raise. A book that has never closed a date accepts any date.

Where a caller names no date, an operation or a customer's view takes the open business
date, never the wall clock: a book whose close runs late, or a simulation ahead of the
clock, still dates everything in order. Views show the book as it stands, so a view dated
before the open date (or a whole-book report dated before the last close) would print
today's balances under a past date: those are refused.
"""

from __future__ import annotations

from datetime import date, timedelta

from creditlink.application.ports import UnitOfWork
from creditlink.domain.errors import Conflict, InvalidInput


def require_not_closing(uow: UnitOfWork, *, field: str = "on") -> tuple[date, str] | None:
    """Nothing may change what a running close of day is looking at: operations, and the
    parameters it judges by, wait for it to finish. Returns the latest close, as
    `uow.eod.latest()`."""
    latest = uow.eod.latest()
    if latest is not None and latest[1] == "closing":
        last = latest[0]
        raise Conflict(
            f"business date {last.isoformat()} is being closed; operations resume on "
            f"{(last + timedelta(days=1)).isoformat()} once its close has finished",
            field=field,
            rule="BUSINESS_DATE_CLOSING",
        )
    return latest


def require_open(uow: UnitOfWork, on: date) -> None:
    latest = require_not_closing(uow)
    if latest is None:
        return
    last, _ = latest
    open_date = last + timedelta(days=1)
    if on < open_date:
        raise Conflict(
            f"business date {on.isoformat()} is closed (the last close was "
            f"{last.isoformat()}); the open business date is {open_date.isoformat()}",
            field="on",
            rule="BUSINESS_DATE_CLOSED",
        )
    if on > open_date:
        raise Conflict(
            f"business date {on.isoformat()} is not open yet: close "
            f"{open_date.isoformat()} first (creditlink eod --date {open_date.isoformat()})",
            field="on",
            rule="BUSINESS_DATE_NOT_OPEN",
        )


def open_business_date(uow: UnitOfWork, *, today: date) -> date:
    """The date operations take now: the day after the last close (the date being closed,
    while its close runs); `today` on a book that has never closed a date."""
    with uow:
        return next_close(uow, today=today)


def next_close(uow: UnitOfWork, *, today: date) -> date:
    """Inside a unit of work: the date the next close of day closes (the open business
    date)."""
    return _open(uow.eod.latest(), today)


def view_date(uow: UnitOfWork, on: date | None, *, today: date) -> date:
    """The date a view of a customer is taken as of: `on`, or the open business date. Once
    the book has closed a date, a date before the open date is refused: the view would show
    later operations under it."""
    with uow:
        latest = uow.eod.latest()
    open_date = _open(latest, today)
    if on is None:
        return open_date
    if latest is not None and on < open_date:
        raise InvalidInput(
            f"views show the book as it stands, so they are dated from the open business "
            f"date {open_date.isoformat()} on; {on.isoformat()} is before it",
            field="on",
            rule="VIEW_DATE_OPEN",
        )
    return on


def report_date(uow: UnitOfWork, on: date | None, *, today: date) -> date:
    """The date a whole-book report is taken as of: `on`, or the last closed date (what the
    close of day has brought up to date; `today` on a book never closed). A date before the
    last close is refused, as for views."""
    last, default = _last_closed(uow, today)
    if on is None:
        return default
    if last is not None and on < last:
        raise InvalidInput(
            f"reports show the book as it stands, so they are dated from the last closed date "
            f"{last.isoformat()} on; {on.isoformat()} is before it",
            field="on",
            rule="REPORT_DATE_CLOSED",
        )
    return on


def _open(latest: tuple[date, str] | None, today: date) -> date:
    if latest is None:
        return today
    last, status = latest
    return last if status == "closing" else last + timedelta(days=1)


def _last_closed(uow: UnitOfWork, today: date) -> tuple[date | None, date]:
    """(the last date closed, None on a book never closed; the default date of reports and
    jobs: that date, or `today`)."""
    with uow:
        latest = uow.eod.latest()
    if latest is None:
        return None, today
    last, status = latest
    closed = last - timedelta(days=1) if status == "closing" else last
    return closed, closed


def job_date(uow: UnitOfWork, on: date | None, *, today: date) -> date:
    """The date of a job that scores customers and reviews their limits: `on`, or the last
    closed date (`today` on a book never closed). Never after the last close: it would act
    on days whose close has not run, and date limit changes the book has not reached."""
    last, default = _last_closed(uow, today)
    if on is None:
        return default
    if last is not None and on > last:
        raise Conflict(
            f"{on.isoformat()} is not closed yet (the last close was {last.isoformat()}): "
            "close it first, or run the job for a closed date",
            field="on",
            rule="JOB_DATE_CLOSED",
        )
    return on
