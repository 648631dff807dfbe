"""Cash-loan schedules and the loan's life, as pure rules (DOMAIN.md §4)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditlink.domain.loan.loan import InstallmentState, Loan, LoanStatus
from creditlink.domain.loan.schedule import Method, due_dates, principal_parts, quote

M = Decimal("1.5")
RATE = Decimal("0.0005")


def fen(value: Decimal) -> int:
    """Half-up to the fen, written out again independently of the code under test."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_the_shared_annuity_example() -> None:
    # 12,000.00 over 12 months at 0.05 % a day: r = 0.015 (loan_equal_installment.yaml).
    parts = principal_parts(1_200_000, 12, Method.EQUAL_INSTALLMENT, RATE)
    assert parts[:3] == [92_016, 93_396, 94_797]
    assert parts[11] == 108_393


def test_due_dates_clamp_to_month_ends_without_chaining() -> None:
    assert due_dates(date(2026, 1, 31), 6) == [
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
        date(2026, 6, 30),
        date(2026, 7, 31),
    ]
    assert due_dates(date(2028, 1, 31), 1) == [date(2028, 2, 29)]


def test_equal_principal_and_interest_first() -> None:
    assert principal_parts(100_000, 3, Method.EQUAL_PRINCIPAL, RATE) == [33_333, 33_333, 33_334]
    assert principal_parts(100_000, 3, Method.INTEREST_FIRST, RATE) == [0, 0, 100_000]


methods = st.sampled_from(list(Method))
rates = st.sampled_from(
    [Decimal("0.0002"), Decimal("0.0003"), Decimal("0.0004"), Decimal("0.0005"), Decimal("0.00055")]
)


@given(
    st.integers(50_000, 100_000_000),
    st.sampled_from([3, 6, 12]),
    methods,
    rates,
    st.dates(date(2024, 1, 1), date(2030, 12, 31)),
)
def test_schedule_principal_sums_to_the_loan(
    amount: int, term: int, method: Method, rate: Decimal, drawn: date
) -> None:
    parts = principal_parts(amount, term, method, rate)
    assert sum(parts) == amount
    assert all(part >= 0 for part in parts)
    schedule = quote(
        principal_fen=amount, term_months=term, method=method, daily_rate=rate, drawn_on=drawn
    )
    assert [i.due_date for i in schedule] == due_dates(drawn, term)
    assert sum(i.principal_fen for i in schedule) == amount


@given(
    st.integers(50_000, 20_000_000),
    st.sampled_from([3, 6, 12]),
    methods,
    rates,
    st.dates(date(2024, 1, 1), date(2030, 12, 31)),
)
def test_a_loan_repaid_on_schedule_costs_the_per_period_interest(
    amount: int, term: int, method: Method, rate: Decimal, drawn: date
) -> None:
    loan = Loan.draw(
        ref="L",
        customer_id="c",
        principal_fen=amount,
        term_months=term,
        method=method,
        daily_rate=rate,
        on=drawn,
    )
    parts = principal_parts(amount, term, method, rate)
    outstanding, start, expected = amount, drawn, []
    for due, part in zip(due_dates(drawn, term), parts, strict=True):
        expected.append(fen(Decimal(outstanding) * rate * (due - start).days))
        outstanding -= part
        start = due
    for installment in list(loan.installments):
        due_amount, _ = loan.payoff_fen(installment.due_date, penalty_multiplier=M)
        loan.repay(amount_fen=due_amount, on=installment.due_date, penalty_multiplier=M)
    assert [i.interest_fen for i in loan.installments] == expected
    assert loan.interest_paid_fen() == sum(expected)
    assert loan.principal_paid_fen() == amount
    assert loan.status is LoanStatus.CLOSED
    assert loan.penalty_paid_fen() == 0


def test_drawn_and_repaid_the_same_day_costs_nothing_and_the_next_day_one_day() -> None:
    loan = Loan.draw(
        ref="L",
        customer_id="c",
        principal_fen=1_000_000,
        term_months=3,
        method=Method.EQUAL_PRINCIPAL,
        daily_rate=RATE,
        on=date(2026, 1, 10),
    )
    assert loan.payoff_fen(date(2026, 1, 10), penalty_multiplier=M) == (0, 1_000_000)
    # 10,000.00 × 0.0005 × 1 day = 5.00
    assert loan.payoff_fen(date(2026, 1, 11), penalty_multiplier=M) == (0, 1_000_500)


def test_a_partial_prepayment_pays_interest_to_date_then_principal_and_reamortises() -> None:
    # 10,000.00, 3 months equal principal from 10 Jan. On 21 Jan (11 days) 5,055.00 pays the
    # 55.00 accrued (10,000 × 0.0005 × 11) and 5,000.00 of principal. The 5,000.00 left is
    # spread over the three unpaid due dates: 1,666.67, 1,666.67, 1,666.66. On 10 Feb the
    # first installment's interest is 55.00 + 5,000 × 0.0005 × 20 = 55.00 + 50.00 = 105.00.
    loan = Loan.draw(
        ref="L",
        customer_id="c",
        principal_fen=1_000_000,
        term_months=3,
        method=Method.EQUAL_PRINCIPAL,
        daily_rate=RATE,
        on=date(2026, 1, 10),
    )
    paid = loan.repay(amount_fen=505_500, on=date(2026, 1, 21), penalty_multiplier=M)
    assert (paid.interest_fen, paid.principal_fen) == (5_500, 500_000)
    assert [i.principal_fen for i in loan.installments] == [666_667, 166_667, 166_666]
    due, _ = loan.payoff_fen(date(2026, 2, 10), penalty_multiplier=M)
    assert due == 166_667 + 5_000
    loan.repay(amount_fen=due, on=date(2026, 2, 10), penalty_multiplier=M)
    first = loan.installments[0]
    assert first.interest_fen == 10_500
    assert first.state(date(2026, 2, 10)) is InstallmentState.PAID
    assert loan.outstanding_principal_fen() == 333_333


def test_a_full_early_repayment_closes_the_loan_and_cancels_later_installments() -> None:
    loan = Loan.draw(
        ref="L",
        customer_id="c",
        principal_fen=600_000,
        term_months=3,
        method=Method.EQUAL_INSTALLMENT,
        daily_rate=RATE,
        on=date(2026, 1, 10),
    )
    _, everything = loan.payoff_fen(date(2026, 1, 30), penalty_multiplier=M)
    assert everything == 600_000 + 6_000  # 20 days × 6,000.00 × 0.0005 = 60.00
    loan.repay(amount_fen=everything, on=date(2026, 1, 30), penalty_multiplier=M)
    assert loan.status is LoanStatus.CLOSED
    first, *later = loan.installments
    assert (first.principal_fen, first.interest_fen, first.paid_fen) == (600_000, 6_000, 606_000)
    assert all(i.cancelled and i.principal_fen == 0 for i in later)


def test_overdue_principal_bears_penalty_not_interest_and_never_on_interest() -> None:
    # 3,000.00 in 3 equal-principal parts from 10 Jan at 0.0005. Installment 1 (1,000.00 +
    # 3,000 × 0.0005 × 31 = 46.50) is unpaid on 10 Feb. Paid on 15 Feb (DPD 5): penalty
    # 1,000.00 × 0.0005 × 1.5 × 5 = 3.75, plus 46.50 interest and 1,000.00 principal.
    loan = Loan.draw(
        ref="L",
        customer_id="c",
        principal_fen=300_000,
        term_months=3,
        method=Method.EQUAL_PRINCIPAL,
        daily_rate=RATE,
        on=date(2026, 1, 10),
    )
    for day in range(31, 36):
        loan.close_day(date(2026, 1, 10) + timedelta(days=day), penalty_multiplier=M)
    assert loan.dpd(date(2026, 2, 15)) == 5
    due, _ = loan.payoff_fen(date(2026, 2, 15), penalty_multiplier=M)
    assert due == 100_000 + 4_650 + 375
    paid = loan.repay(amount_fen=due, on=date(2026, 2, 15), penalty_multiplier=M)
    assert (paid.penalty_fen, paid.interest_fen, paid.principal_fen) == (375, 4_650, 100_000)
    assert loan.dpd(date(2026, 2, 16)) == 0
    # Installment 2's interest runs on the 2,000.00 not yet due from 10 Feb: 28 days = 28.00.
    assert loan.reported_interest_fen(loan.installments[1], date(2026, 2, 16)) == 2_800


def test_more_than_the_payoff_is_refused() -> None:
    loan = Loan.draw(
        ref="L",
        customer_id="c",
        principal_fen=100_000,
        term_months=3,
        method=Method.EQUAL_PRINCIPAL,
        daily_rate=RATE,
        on=date(2026, 1, 10),
    )
    with pytest.raises(Exception, match="repays loan"):
        loan.repay(amount_fen=100_001, on=date(2026, 1, 10), penalty_multiplier=M)


def test_a_fraction_of_a_fen_of_penalty_never_keeps_an_installment_unpaid() -> None:
    loan = Loan.draw(
        ref="L1",
        customer_id="c1",
        principal_fen=300_000,
        term_months=3,
        method=Method.EQUAL_PRINCIPAL,
        daily_rate=RATE,
        on=date(2026, 1, 15),
    )
    loan.repay(amount_fen=104_550, on=date(2026, 2, 15), penalty_multiplier=M)  # 1.00 short
    loan.close_day(date(2026, 2, 15), penalty_multiplier=M)
    first = loan.installments[0]
    # 1.00 × 0.0005 × 1.5 for one day: 0.075 fen, billed as 0.
    assert first.penalty_accrued == Decimal(100) * RATE * M
    due, _ = loan.payoff_fen(date(2026, 2, 16), penalty_multiplier=M)
    assert due == 100
    loan.repay(amount_fen=due, on=date(2026, 2, 16), penalty_multiplier=M)
    assert (first.penalty_fen, first.penalty_accrued, first.paid_on) == (
        0,
        Decimal(0),
        date(2026, 2, 16),
    )
    assert first.state(date(2026, 3, 1)) is InstallmentState.PAID
    assert loan.dpd(date(2026, 3, 1)) == 0
    # A loan stored with such a remainder, by the code before, is not held overdue by it.
    first.penalty_accrued = Decimal("0.075")
    assert first.state(date(2026, 3, 1)) is InstallmentState.PAID
    assert loan.dpd(date(2026, 3, 1)) == 0
