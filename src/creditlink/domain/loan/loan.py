"""A cash loan and everything that happens to it (DOMAIN.md §4 and §5).

Interest and penalty are accrued exactly and lazily: every operation first brings the loan to
its own date (`advance`), billing the interest of each due date that has passed and accruing
penalty on principal overdue since its due date. A payment on date t therefore stops accrual
from t, and a loan drawn and repaid on the same day costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from creditlink.domain.copies import cloner
from creditlink.domain.errors import Conflict, InvalidInput
from creditlink.domain.loan.schedule import Method, due_dates, loan_apr, principal_parts
from creditlink.domain.money import format_fen, round_fen
from creditlink.domain.rates import DailyRate


class LoanStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"
    WRITTEN_OFF = "written_off"


class InstallmentState(StrEnum):
    PENDING = "pending"
    DUE = "due"
    OVERDUE = "overdue"
    PAID = "paid"
    CANCELLED = "cancelled"


@dataclass(slots=True)
class LoanInstallment:
    k: int
    due_date: date
    principal_fen: int
    interest_fen: int = 0
    penalty_fen: int = 0
    principal_paid_fen: int = 0
    interest_paid_fen: int = 0
    penalty_paid_fen: int = 0
    billed: bool = False
    cancelled: bool = False
    penalty_accrued: Decimal = Decimal(0)
    penalty_to: date | None = None
    paid_on: date | None = None  # when it was paid in full, for payment history

    def days_late(self, as_of: date) -> int:
        """How late it was paid in full (or, while unpaid, is at `as_of`)."""
        if self.cancelled:
            return 0
        end = self.paid_on if self.paid_on is not None else as_of
        return max(0, (end - self.due_date).days)

    @property
    def principal_due_fen(self) -> int:
        return 0 if self.cancelled else self.principal_fen - self.principal_paid_fen

    @property
    def interest_due_fen(self) -> int:
        return self.interest_fen - self.interest_paid_fen

    @property
    def penalty_due_fen(self) -> int:
        return self.penalty_fen - self.penalty_paid_fen

    @property
    def billed_due_fen(self) -> int:
        """What is owed on it once billed: principal, interest and billed penalty."""
        if not self.billed:
            return 0
        return self.principal_due_fen + self.interest_due_fen + self.penalty_due_fen

    @property
    def paid_fen(self) -> int:
        return self.principal_paid_fen + self.interest_paid_fen + self.penalty_paid_fen

    @property
    def owing(self) -> bool:
        """Billed and with something owed on it: an amount due, or penalty accrued to half a
        fen or more. Less is never billed (rounding applies where an amount is billed or
        paid, DOMAIN.md §1), so it cannot keep an installment unpaid."""
        return self.billed and (self.billed_due_fen > 0 or round_fen(self.penalty_accrued) > 0)

    def state(self, on: date) -> InstallmentState:
        if self.cancelled:
            return InstallmentState.CANCELLED
        if self.billed and not self.owing:
            return InstallmentState.PAID
        if self.due_date < on:
            return InstallmentState.OVERDUE
        if self.due_date == on:
            return InstallmentState.DUE
        return InstallmentState.PENDING


@dataclass(slots=True)
class LoanAllocation:
    """Where a payment went, and what was billed inside it (posted with the payment)."""

    penalty_fen: int = 0
    interest_fen: int = 0
    principal_fen: int = 0
    recovery_fen: int = 0
    interest_billed_fen: int = 0
    penalty_billed_fen: int = 0

    @property
    def total_fen(self) -> int:
        return self.penalty_fen + self.interest_fen + self.principal_fen + self.recovery_fen


@dataclass(slots=True)
class LoanWriteOff:
    principal_fen: int
    interest_fen: int
    penalty_fen: int

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.interest_fen + self.penalty_fen


@dataclass(slots=True, kw_only=True)
class Loan:
    ref: str
    customer_id: str
    principal_fen: int
    term_months: int
    method: Method
    daily_rate: Decimal
    drawn_on: date
    installments: list[LoanInstallment]
    status: LoanStatus = LoanStatus.ACTIVE
    accrued_to: date | None = None
    accrued_interest: Decimal = Decimal(0)
    written_off_on: date | None = None
    write_off_dpd: int = 0
    recovered_fen: int = 0

    def __post_init__(self) -> None:
        if self.accrued_to is None:
            self.accrued_to = self.drawn_on
        assert (
            sum(i.principal_fen for i in self.installments if not i.cancelled) == self.principal_fen
            or self.status is not LoanStatus.ACTIVE
        )

    @classmethod
    def draw(
        cls,
        *,
        ref: str,
        customer_id: str,
        principal_fen: int,
        term_months: int,
        method: Method,
        daily_rate: Decimal,
        on: date,
    ) -> Loan:
        dates = due_dates(on, term_months)
        parts = principal_parts(principal_fen, term_months, method, daily_rate)
        return cls(
            ref=ref,
            customer_id=customer_id,
            principal_fen=principal_fen,
            term_months=term_months,
            method=method,
            daily_rate=daily_rate,
            drawn_on=on,
            installments=[
                LoanInstallment(k, due, part)
                for k, (due, part) in enumerate(zip(dates, parts, strict=True), start=1)
            ],
        )

    # -- what is owed -------------------------------------------------------------------

    @property
    def apr(self) -> Decimal:
        return loan_apr(self.daily_rate)

    @property
    def active(self) -> bool:
        return self.status is LoanStatus.ACTIVE

    def outstanding_principal_fen(self) -> int:
        if not self.active:
            return 0
        return sum(i.principal_due_fen for i in self.installments)

    def not_yet_due_principal_fen(self) -> int:
        return sum(i.principal_due_fen for i in self.installments if not i.billed)

    def interest_due_fen(self) -> int:
        return sum(i.interest_due_fen for i in self.installments) if self.active else 0

    def penalty_due_fen(self) -> int:
        return sum(i.penalty_due_fen for i in self.installments) if self.active else 0

    def current(self) -> LoanInstallment | None:
        """The installment whose period is running: the first not yet billed."""
        for installment in self.installments:
            if not installment.billed and not installment.cancelled:
                return installment
        return None

    # -- time ---------------------------------------------------------------------------

    def advance(self, to: date, *, penalty_multiplier: Decimal | DailyRate) -> int:
        """Bring the loan to date `to`: bill the interest of every due date before `to`, accrue
        the current period's interest and the penalty on overdue principal. Returns the
        interest billed (for the journal entry of whoever called)."""
        if not self.active:
            return 0
        billed = 0
        current = self.current()
        while current is not None and current.due_date < to:
            billed += self._bill(current)
            current = self.current()
        self._accrue_interest(to)
        self._accrue_penalty(to, penalty_multiplier)
        return billed

    def _accrue_interest(self, to: date) -> None:
        assert self.accrued_to is not None
        if to > self.accrued_to:
            days = (to - self.accrued_to).days
            self.accrued_interest += (
                Decimal(self.not_yet_due_principal_fen()) * self.daily_rate * days
            )
            self.accrued_to = to

    def _accrue_penalty(self, to: date, multiplier: Decimal | DailyRate) -> None:
        daily = DailyRate.of(multiplier)
        for installment in self.installments:
            if not installment.billed or installment.principal_due_fen == 0:
                continue
            start = max(installment.penalty_to or installment.due_date, installment.due_date)
            if to > start:
                installment.penalty_accrued += (
                    Decimal(installment.principal_due_fen) * self.daily_rate * daily.over(start, to)
                )
                installment.penalty_to = to

    def _bill(self, installment: LoanInstallment) -> int:
        """Bill the interest of `installment`'s period at its due date."""
        self._accrue_interest(installment.due_date)
        new = round_fen(self.accrued_interest)
        # Interest paid early in the period is on the installment already, billed and paid.
        installment.interest_fen += new
        installment.billed = True
        self.accrued_interest = Decimal(0)
        return new

    # -- paying -------------------------------------------------------------------------

    def payoff_fen(self, on: date, *, penalty_multiplier: Decimal | DailyRate) -> tuple[int, int]:
        """(`due`, `all`) as of `on`, without changing the loan: past due with penalty to
        today plus what is due today; and that plus all remaining principal and the interest
        accrued to today (DOMAIN.md §5)."""
        if not self.active:
            return 0, 0
        probe = _copy(self)
        probe.advance(on, penalty_multiplier=penalty_multiplier)
        return probe._payoff_advanced(on)

    def _payoff_advanced(self, on: date) -> tuple[int, int]:
        """`payoff_fen` for a loan already advanced to `on`."""
        probe = self
        due = 0
        for installment in probe.installments:
            if installment.cancelled:
                continue
            if installment.billed:
                due += installment.billed_due_fen + round_fen(installment.penalty_accrued)
            elif installment.due_date == on:
                # Interest paid early in the period is paid already; only the rest is due.
                due += installment.principal_due_fen + round_fen(probe.accrued_interest)
        everything = due + sum(
            i.principal_due_fen for i in probe.installments if not i.billed and i.due_date > on
        )
        current = probe.current()
        if current is not None and current.due_date > on:
            everything += round_fen(probe.accrued_interest)
        return due, everything

    def repay(
        self, *, amount_fen: int, on: date, penalty_multiplier: Decimal | DailyRate
    ) -> LoanAllocation:
        """Past-due items oldest first (penalty, interest, principal), then what is due
        today, then a prepayment: interest accrued to today, then principal (DOMAIN.md §4)."""
        if amount_fen <= 0:
            raise InvalidInput("must be greater than 0.00", field="amount", rule="AMOUNT_POSITIVE")
        if self.status is LoanStatus.WRITTEN_OFF:
            self.recovered_fen += amount_fen
            return LoanAllocation(recovery_fen=amount_fen)
        if self.status is LoanStatus.CLOSED:
            raise Conflict(f"loan {self.ref!r} is closed", field="loan", rule="LOAN_ACTIVE")
        billed_now = self.advance(on, penalty_multiplier=penalty_multiplier)
        _, everything = self._payoff_advanced(on)
        if amount_fen > everything:
            raise InvalidInput(
                f"{format_fen(amount_fen)} is more than the "
                f"{format_fen(everything)} that repays loan {self.ref!r} in "
                "full today",
                field="amount",
                rule="REPAYMENT_ABOVE_OWED",
            )
        allocation = LoanAllocation(interest_billed_fen=billed_now)
        left = amount_fen
        for installment in self.installments:
            if installment.owing:
                left = self._pay_installment(installment, left, allocation, on)
        current = self.current()
        if left and current is not None and current.due_date == on:
            allocation.interest_billed_fen += self._bill(current)
            left = self._pay_installment(current, left, allocation, on)
        if left:
            left = self._prepay(left, on, allocation)
        assert left == 0, left
        self._close_if_repaid(on)
        return allocation

    def _pay_installment(
        self, installment: LoanInstallment, left: int, allocation: LoanAllocation, on: date
    ) -> int:
        if left:  # the penalty accrued is billed, rounded, when a payment reaches it
            penalty = round_fen(installment.penalty_accrued)
            installment.penalty_fen += penalty
            installment.penalty_accrued = Decimal(0)
            allocation.penalty_billed_fen += penalty
        for due_attr, paid_attr, bucket in (
            ("penalty_due_fen", "penalty_paid_fen", "penalty_fen"),
            ("interest_due_fen", "interest_paid_fen", "interest_fen"),
            ("principal_due_fen", "principal_paid_fen", "principal_fen"),
        ):
            paid = min(left, getattr(installment, due_attr))
            setattr(installment, paid_attr, getattr(installment, paid_attr) + paid)
            setattr(allocation, bucket, getattr(allocation, bucket) + paid)
            left -= paid
        if installment.billed and installment.billed_due_fen == 0 and installment.paid_on is None:
            installment.paid_on = on
        return left

    def _prepay(self, left: int, on: date, allocation: LoanAllocation) -> int:
        current = self.current()
        assert current is not None, "a prepayment needs an installment still to come"
        accrued = round_fen(self.accrued_interest)
        interest = min(left, accrued)
        if interest:
            # A part paid in full is rounded once, as billing rounds the rest (`_bill`): what
            # rounding left over is not carried into the next part. A part paid in part
            # leaves the exact rest accruing.
            self.accrued_interest = (
                Decimal(0) if interest == accrued else self.accrued_interest - interest
            )
            current.interest_fen += interest
            current.interest_paid_fen += interest
            allocation.interest_billed_fen += interest
            allocation.interest_fen += interest
            left -= interest
        remaining = self.not_yet_due_principal_fen()
        paid = min(left, remaining)
        if paid == 0:
            return left
        allocation.principal_fen += paid
        left -= paid
        if paid == remaining:
            current.principal_fen = current.principal_paid_fen + paid
            current.principal_paid_fen = current.principal_fen
            current.billed = True
            current.paid_on = on
            self.accrued_interest = Decimal(0)
            for later in self.installments:
                if not later.billed and later is not current:
                    later.principal_fen = later.interest_fen = 0
                    later.cancelled = True
            return left
        current.principal_paid_fen += paid
        unbilled = [i for i in self.installments if not i.billed and not i.cancelled]
        still = remaining - paid
        parts = principal_parts(still, len(unbilled), self.method, self.daily_rate)
        current.principal_fen = current.principal_paid_fen + parts[0]
        for installment, part in zip(unbilled[1:], parts[1:], strict=True):
            installment.principal_fen = part
        return left

    def _close_if_repaid(self, on: date) -> None:
        if all(i.cancelled or (i.billed and not i.owing) for i in self.installments):
            self.status = LoanStatus.CLOSED
            self.accrued_to = on

    def close_day(self, on: date, *, penalty_multiplier: Decimal | DailyRate) -> int:
        """The close of `on`: bill an installment due today and still unbilled, accrue to the
        start of tomorrow. Returns the interest billed."""
        billed = self.advance(on + timedelta(days=1), penalty_multiplier=penalty_multiplier)
        if self.active:
            self._close_if_repaid(on)
        return billed

    # -- delinquency --------------------------------------------------------------------

    def dpd(self, on: date) -> int:
        """`on` minus the oldest due date with anything unpaid."""
        if self.status is LoanStatus.WRITTEN_OFF:
            return self.write_off_dpd
        if not self.active:
            return 0
        for installment in self.installments:
            if installment.owing and installment.due_date < on:
                return (on - installment.due_date).days
        return 0

    def write_off(self, *, on: date, dpd: int) -> LoanWriteOff:
        assert self.active, self.status
        result = LoanWriteOff(
            principal_fen=self.outstanding_principal_fen(),
            interest_fen=self.interest_due_fen(),
            penalty_fen=self.penalty_due_fen(),
        )
        self.status = LoanStatus.WRITTEN_OFF
        self.written_off_on = on
        self.write_off_dpd = dpd
        self.accrued_interest = Decimal(0)
        for installment in self.installments:
            installment.penalty_accrued = Decimal(0)
        return result

    # -- reporting ----------------------------------------------------------------------

    def reported_interest_fen(self, installment: LoanInstallment, on: date) -> int:
        """Billed interest; for the running period, what it will be if paid on time."""
        if installment.billed or installment.cancelled or not self.active:
            return installment.interest_fen
        if installment is self.current():
            assert self.accrued_to is not None
            rest = (
                Decimal(self.not_yet_due_principal_fen())
                * self.daily_rate
                * max(0, (installment.due_date - self.accrued_to).days)
            )
            return installment.interest_fen + round_fen(self.accrued_interest + rest)
        outstanding = sum(
            i.principal_due_fen for i in self.installments if not i.billed and i.k >= installment.k
        )
        previous = self.installments[installment.k - 2].due_date
        return round_fen(
            Decimal(outstanding) * self.daily_rate * (installment.due_date - previous).days
        )

    def reported_penalty_fen(
        self, installment: LoanInstallment, on: date, *, penalty_multiplier: Decimal | DailyRate
    ) -> int:
        """Penalty billed, plus while unpaid the penalty accrued up to `on` (days from the
        due date to `on`, the DPD of a payment made on `on`), rounded."""
        accrued = installment.penalty_accrued
        if self.active and installment.billed and installment.principal_due_fen > 0:
            since = max(installment.penalty_to or installment.due_date, installment.due_date)
            # The close of a day accrues that day ahead; a report dated `on` stops at `on`.
            accrued += (
                Decimal(installment.principal_due_fen)
                * self.daily_rate
                * DailyRate.of(penalty_multiplier).over(since, on)
            )
        return installment.penalty_fen + max(0, round_fen(accrued))

    def principal_paid_fen(self) -> int:
        return sum(i.principal_paid_fen for i in self.installments)

    def interest_paid_fen(self) -> int:
        return sum(i.interest_paid_fen for i in self.installments)

    def penalty_paid_fen(self) -> int:
        return sum(i.penalty_paid_fen for i in self.installments)


def _copy(loan: Loan) -> Loan:
    """A working copy to compute what an operation would do, without doing it."""
    return cloner(Loan)(loan)


@dataclass(slots=True)
class LoanBook:
    """All of one customer's loans, by ref."""

    loans: dict[str, Loan] = field(default_factory=dict)
