"""A rate by business day: what lazy accrual prices a stretch across a change by."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from creditlink.domain.rates import DailyRate

D = date(2026, 2, 1)
RATE = DailyRate(Decimal("0.0005")).changed_from(D + timedelta(days=10), Decimal("0.0006"))


def test_a_rate_that_never_changed_is_rate_times_days() -> None:
    assert DailyRate(Decimal("0.0005")).over(D, D + timedelta(days=19)) == Decimal("0.0095")


def test_each_day_is_priced_at_its_own_value() -> None:
    # 10 days at 0.0005, then 9 at 0.0006.
    assert RATE.over(D, D + timedelta(days=19)) == Decimal("0.0005") * 10 + Decimal("0.0006") * 9
    assert RATE.on(D + timedelta(days=9)) == Decimal("0.0005")
    assert RATE.on(D + timedelta(days=10)) == Decimal("0.0006")
    # A stretch that starts after the change, or ends on it.
    assert RATE.over(D + timedelta(days=12), D + timedelta(days=14)) == Decimal("0.0012")
    assert RATE.over(D + timedelta(days=8), D + timedelta(days=10)) == Decimal("0.0010")


def test_a_reversed_stretch_is_negative_and_an_empty_one_zero() -> None:
    end = D + timedelta(days=12)
    assert RATE.over(end, D) == -RATE.over(D, end)
    assert RATE.over(D, D) == 0


def test_a_later_change_replaces_what_was_set_from_its_day_on() -> None:
    back = RATE.changed_from(D + timedelta(days=5), Decimal("0.0005"))
    assert back.steps == ()  # the same value throughout: no step left
    again = RATE.changed_from(D + timedelta(days=10), Decimal("0.0007"))
    assert again.steps == ((D + timedelta(days=10), Decimal("0.0007")),)


days = st.integers(min_value=0, max_value=120)


@given(
    changes=st.lists(st.tuples(days, st.decimals(min_value=0, max_value=3, places=4)), max_size=6),
    begin=days,
    end=days,
)
def test_a_stretch_is_the_sum_of_its_days(
    changes: list[tuple[int, Decimal]], begin: int, end: int
) -> None:
    rate = DailyRate(Decimal("1.5"))
    for day, value in changes:
        rate = rate.changed_from(D + timedelta(days=day), value)

    def set_on(k: int) -> Decimal:  # the last change made for a day on or before k
        made = [value for day, value in changes if day <= k]
        return made[-1] if made else Decimal("1.5")

    low, high = min(begin, end), max(begin, end)
    by_day = sum((set_on(k) for k in range(low, high)), Decimal(0))
    assert [rate.on(D + timedelta(days=k)) for k in range(low, high)] == [
        set_on(k) for k in range(low, high)
    ]
    sign = 1 if end >= begin else -1
    assert rate.over(D + timedelta(days=begin), D + timedelta(days=end)) == sign * by_day
