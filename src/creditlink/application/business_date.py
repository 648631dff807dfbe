"""Operations are dated, and a closed business date takes no more operations."""

from __future__ import annotations

from datetime import date, timedelta

from creditlink.application.ports import UnitOfWork
from creditlink.domain.errors import Conflict


def require_open(uow: UnitOfWork, on: date) -> None:
    """An operation may not be dated on or before the last closed business date: its close
    has run, and what it produced (statements, interest, ageing) would no longer be true."""
    last = uow.eod.last_closed()
    if last is not None and on <= last:
        raise Conflict(
            f"business date {on.isoformat()} is closed (the last close was "
            f"{last.isoformat()}); date the operation "
            f"{(last + timedelta(days=1)).isoformat()} or later",
            field="on",
            rule="BUSINESS_DATE_CLOSED",
        )
