"""The one place that asks the system for the time."""

from __future__ import annotations

from datetime import UTC, date, datetime


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return self.now().date()


class FixedClock:
    """A clock that says what it is told: for tests, scenarios and the twin."""

    def __init__(self, at: datetime):
        assert at.tzinfo is not None, "a fixed clock needs an aware datetime"
        self.at = at

    def now(self) -> datetime:
        return self.at

    def today(self) -> date:
        return self.at.date()
