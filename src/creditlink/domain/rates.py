"""A rate that risk officers may change while interest or penalty accrues (DOMAIN.md §1, §6).

Accrual is lazy: an account accrues from its last event up to the next one, which may be
weeks later. A parameter change "applies from the next operation, EOD included", and the
close of each day keeps accrual exact, so each day of a stretch is priced at the value in
force at that day's close, not at the value in force when the stretch is finally accrued.
`DailyRate` gives each business day its value; `over` sums them across a stretch.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class DailyRate:
    """`first` on every day before the first step; each step's value from its date on.

    Steps are in date order, each with a value other than the one before it.
    """

    first: Decimal
    steps: tuple[tuple[date, Decimal], ...] = ()

    def __post_init__(self) -> None:
        days = [day for day, _ in self.steps]
        assert days == sorted(set(days)), "steps must be in strictly increasing date order"

    @staticmethod
    def of(rate: Decimal | DailyRate) -> DailyRate:
        """A rate that never changed, or one with its changes."""
        return rate if isinstance(rate, DailyRate) else DailyRate(rate)

    def on(self, day: date) -> Decimal:
        """The value in force at the close of `day`."""
        at = bisect_right(self.steps, day, key=lambda step: step[0])
        return self.first if at == 0 else self.steps[at - 1][1]

    def over(self, begin: date, end: date) -> Decimal:
        """The sum of each day's value over [begin, end): `rate × days` for a rate that did
        not change in between. A reversed stretch gives the negative of [end, begin), as
        `rate × days` does with days below zero (a report dated before accrual's end)."""
        if end < begin:
            return -self.over(end, begin)
        total = Decimal(0)
        value, start = self.on(begin), begin
        for day, step_value in self.steps:
            if day <= begin:
                continue
            if day >= end:
                break
            total += value * (day - start).days
            value, start = step_value, day
        return total + value * (end - start).days

    def changed_from(self, day: date, value: Decimal) -> DailyRate:
        """This rate with `value` in force from `day` on, whatever it was before."""
        kept = tuple(step for step in self.steps if step[0] < day)
        before = kept[-1][1] if kept else self.first
        if value == before:
            return DailyRate(self.first, kept)
        return DailyRate(self.first, (*kept, (day, value)))
