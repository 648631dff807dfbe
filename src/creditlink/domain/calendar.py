"""The business calendar: month arithmetic with month-end clamping, and day counts.

Every calendar day is a business day; the domain is handed its date and never asks a clock.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import re
from datetime import date, time
from functools import lru_cache

from creditlink.domain.errors import InvalidInput

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def is_leap_year(year: int) -> bool:
    return _stdlib_calendar.isleap(year)


_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def days_in_month(year: int, month: int) -> int:
    """Days in `month` of `year` (as `calendar.monthrange`, without working out a weekday)."""
    if not 1 <= month <= 12:
        raise _stdlib_calendar.IllegalMonthError(month)
    if month == 2 and _stdlib_calendar.isleap(year):
        return 29
    return _DAYS_IN_MONTH[month]


def month_end(day: date) -> date:
    return day.replace(day=days_in_month(day.year, day.month))


@lru_cache(maxsize=65_536)  # a pure function of immutable values, asked again and again
def add_months(start: date, months: int, *, anchor_day: int | None = None) -> date:
    """The date `months` months after `start`, on `anchor_day` (default: start's day),
    clamped to the last day of the target month.

    Schedules pass the original anchor so that dates are never chained: from 31 January,
    one month is 28/29 February and two months is 31 March, not 28 March.
    """
    day_wanted = start.day if anchor_day is None else anchor_day
    assert 1 <= day_wanted <= 31, day_wanted
    month_index = start.year * 12 + (start.month - 1) + months
    year, month_zero = divmod(month_index, 12)
    month = month_zero + 1
    return date(year, month, min(day_wanted, days_in_month(year, month)))


def days_between(start: date, end: date) -> int:
    """Days of the half-open interval [start, end): how many days an amount accrues."""
    return (end - start).days


# The dates a book takes (business dates, expiry dates, dates asked about). Outside them,
# date arithmetic (a due date months ahead, a window days back) would leave Python's
# calendar, so they are refused where they come in.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)


def parse_date(text: object, *, field: str = "date") -> date:
    """Parse an ISO date (YYYY-MM-DD) from EARLIEST_DATE to LATEST_DATE, naming the field
    when it is not one."""
    if isinstance(text, date):
        return text
    if isinstance(text, str) and _ISO_DATE.fullmatch(text.strip()):
        try:
            parsed = date.fromisoformat(text.strip())
        except ValueError:
            pass
        else:
            if not EARLIEST_DATE <= parsed <= LATEST_DATE:
                raise InvalidInput(
                    f"must be from {EARLIEST_DATE.isoformat()} to {LATEST_DATE.isoformat()}, "
                    f"got {text.strip()}",
                    field=field,
                    rule="DATE_RANGE",
                )
            return parsed
    raise InvalidInput(
        f"must be a real date written YYYY-MM-DD, got {text!r}", field=field, rule="DATE_FORMAT"
    )


_TIME = re.compile(r"\d{2}:\d{2}(:\d{2})?")


def parse_time(text: object, *, field: str = "at") -> time:
    """Parse a time of day written HH:MM or HH:MM:SS (24-hour), naming the field otherwise."""
    if isinstance(text, time):
        return text
    if isinstance(text, str) and _TIME.fullmatch(text.strip()):
        try:
            return time.fromisoformat(text.strip())
        except ValueError:
            pass
    raise InvalidInput(
        f"must be a time of day written HH:MM or HH:MM:SS (quoted in YAML), got {text!r}",
        field=field,
        rule="TIME_FORMAT",
    )
