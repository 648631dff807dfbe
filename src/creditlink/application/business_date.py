"""Operations are dated, and only the open business date takes operations.

Once a book has closed a date, the open date is the day after it: an operation dated on or
before a closed date would change what that close produced (statements, interest, ageing,
linkage), and one dated later would run before the close of the days in between, before the
restrictions that close may raise. A book that has never closed a date accepts any date.
"""

from __future__ import annotations

from datetime import date, timedelta

from creditlink.application.ports import UnitOfWork
from creditlink.domain.errors import Conflict


def require_open(uow: UnitOfWork, on: date) -> None:
    latest = uow.eod.latest()
    if latest is None:
        return
    last, status = latest
    if status == "closing":
        raise Conflict(
            f"business date {last.isoformat()} is being closed; operations resume on "
            f"{(last + timedelta(days=1)).isoformat()} once its close has finished",
            field="on",
            rule="BUSINESS_DATE_CLOSING",
        )
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
