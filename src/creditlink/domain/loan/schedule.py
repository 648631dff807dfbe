"""Cash-loan schedules (DOMAIN.md §4): due dates, scheduled principal, interest by actual days.

Due date k = draw date + k months, the draw's day clamped to each month's last day, never
chained. Interest of installment k = not-yet-due principal × daily rate × days of
[d_(k−1), d_k). Scheduled principal: `equal_principal` round(P / n), the last the remainder;
`equal_installment` the annuity at r = 30 × daily rate, part k = A − r·B_(k−1) on the exact
(unrounded) annuity balance, each part rounded, the last the remainder; `interest_first` all
principal in the last installment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from enum import StrEnum

from creditlink.domain.calendar import add_months
from creditlink.domain.errors import InvalidInput
from creditlink.domain.money import round_fen


class Method(StrEnum):
    EQUAL_INSTALLMENT = "equal_installment"
    EQUAL_PRINCIPAL = "equal_principal"
    INTEREST_FIRST = "interest_first"

    @classmethod
    def parse(cls, text: object) -> Method:
        try:
            return cls(str(text))
        except ValueError:
            raise InvalidInput(
                f"must be one of {', '.join(m.value for m in cls)}, got {text!r}",
                field="method",
                rule="LOAN_METHOD",
            ) from None


def due_dates(drawn_on: date, term_months: int) -> list[date]:
    return [add_months(drawn_on, k, anchor_day=drawn_on.day) for k in range(1, term_months + 1)]


def principal_parts(
    principal_fen: int, periods: int, method: Method, daily_rate: Decimal
) -> list[int]:
    """The scheduled principal of each of `periods` installments; they sum to the principal."""
    assert principal_fen > 0, principal_fen
    assert periods >= 1, periods
    if method is Method.INTEREST_FIRST:
        parts = [0] * (periods - 1)
    elif method is Method.EQUAL_PRINCIPAL:
        parts = [round_fen(Decimal(principal_fen) / periods)] * (periods - 1)
    else:
        parts = _annuity_parts(principal_fen, periods, 30 * daily_rate)
    parts.append(principal_fen - sum(parts))
    assert sum(parts) == principal_fen
    return parts


def _annuity_parts(principal_fen: int, periods: int, monthly_rate: Decimal) -> list[int]:
    """The first n − 1 rounded principal parts of an annuity, from the exact balance."""
    with localcontext() as context:
        context.prec = 40
        balance = Decimal(principal_fen)
        if monthly_rate == 0:
            return [round_fen(balance / periods)] * (periods - 1)
        growth = (1 + monthly_rate) ** periods
        payment = balance * monthly_rate * growth / (growth - 1)
        parts = []
        for _ in range(periods - 1):
            part = payment - monthly_rate * balance
            parts.append(round_fen(part))
            balance -= part
        return parts


@dataclass(frozen=True, slots=True)
class QuotedInstallment:
    k: int
    due_date: date
    principal_fen: int
    interest_fen: int

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.interest_fen


def quote(
    *, principal_fen: int, term_months: int, method: Method, daily_rate: Decimal, drawn_on: date
) -> list[QuotedInstallment]:
    """The schedule a customer would see before drawing: paid on time, interest by days."""
    dates = due_dates(drawn_on, term_months)
    parts = principal_parts(principal_fen, term_months, method, daily_rate)
    schedule, outstanding, start = [], principal_fen, drawn_on
    for k, (due, part) in enumerate(zip(dates, parts, strict=True), start=1):
        interest = round_fen(Decimal(outstanding) * daily_rate * (due - start).days)
        schedule.append(QuotedInstallment(k, due, part, interest))
        outstanding -= part
        start = due
    return schedule


def loan_apr(daily_rate: Decimal) -> Decimal:
    """APR of a daily-rate loan: daily rate × 365 (DOMAIN.md §1)."""
    return daily_rate * 365
