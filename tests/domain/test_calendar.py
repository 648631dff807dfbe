from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditlink.domain.calendar import add_months, days_between, month_end, parse_date
from creditlink.domain.errors import InvalidInput


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
        (date(2026, 1, 31), 2, date(2026, 3, 31)),  # never chained from 28 February
        (date(2026, 1, 31), 3, date(2026, 4, 30)),
        (date(2026, 1, 30), 1, date(2026, 2, 28)),
        (date(2026, 1, 29), 1, date(2026, 2, 28)),
        (date(2028, 1, 29), 1, date(2028, 2, 29)),
        (date(2026, 1, 15), 12, date(2027, 1, 15)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
    ],
)
def test_month_arithmetic_clamps_to_the_month_end(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_an_anchor_day_keeps_schedules_from_chaining() -> None:
    assert add_months(date(2026, 2, 28), 1, anchor_day=31) == date(2026, 3, 31)


@given(
    st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)),
    st.integers(min_value=0, max_value=240),
)
def test_a_clamped_date_is_the_anchor_or_the_month_end(start: date, months: int) -> None:
    result = add_months(start, months)
    assert (result.year * 12 + result.month) - (start.year * 12 + start.month) == months
    assert result.day == start.day or (result.day < start.day and result == month_end(result))


def test_day_counts_are_half_open() -> None:
    # 10 February to 1 March 2026 is 19 days, as in the shared PayLater example.
    assert days_between(date(2026, 2, 10), date(2026, 3, 1)) == 19
    assert days_between(date(2028, 2, 10), date(2028, 3, 1)) == 20
    assert days_between(date(2026, 1, 5), date(2026, 1, 5)) == 0


@pytest.mark.parametrize("text", ["2026-02-30", "2026/01/01", "20260101", "", "2026-1-1", 5])
def test_bad_dates_name_the_field(text: object) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_date(text, field="start")
    assert raised.value.field == "start"


@pytest.mark.parametrize("text", ["0001-01-01", "1899-12-31", "2200-01-01", "9999-12-31"])
def test_a_date_outside_the_books_range_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_date(text, field="on")
    assert (raised.value.field, raised.value.rule) == ("on", "DATE_RANGE")
    assert parse_date("1900-01-01") == date(1900, 1, 1)
    assert parse_date("2199-12-31") == date(2199, 12, 31)


def test_days_in_month_agrees_with_the_standard_library() -> None:
    import calendar

    from creditlink.domain.calendar import days_in_month

    for year in (1900, 2000, 2024, 2026, 2027, 2028, 2100):
        for month in range(1, 13):
            assert days_in_month(year, month) == calendar.monthrange(year, month)[1]
    with pytest.raises(calendar.IllegalMonthError):
        days_in_month(2026, 13)
