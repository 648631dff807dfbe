"""A PayLater account and everything that happens to it (DOMAIN.md §3 and §5).

The account is the aggregate: a use case loads it, calls one operation with the business date
and the parameters in force, saves it, and posts the journal entry the operation describes.

Interest is accrued exactly (unrounded) and lazily: principal past its due date earns
`amount × rate × days` over each stretch in which it did not change, and every operation
first accrues up to its own date, so a payment on date t stops accrual from t. The interest is
rounded once, when a statement (or an `all` payment) bills it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from operator import attrgetter

from creditlink.domain.calendar import add_months
from creditlink.domain.errors import Conflict, InvalidInput, NotFound
from creditlink.domain.money import ceil_fen, format_fen, format_rate, round_fen
from creditlink.domain.paylater.installments import plan_apr, plan_fee, split
from creditlink.domain.paylater.records import (
    AccountStatus,
    Allocation,
    Billing,
    Cycle,
    Installment,
    InstallmentStatus,
    Plan,
    PlanStatus,
    PrincipalLine,
    Purchase,
    Purchases,
    Statement,
    WriteOff,
)
from creditlink.domain.rates import DailyRate

_OUTSTANDING = attrgetter("outstanding_fen")
_UNPAID = frozenset((InstallmentStatus.PENDING, InstallmentStatus.BILLED))


class NotConvertible(Conflict):
    code = "NOT_CONVERTIBLE"


class AprCapExceeded(Conflict):
    code = "APR_CAP_EXCEEDED"


@dataclass(frozen=True, slots=True, kw_only=True)
class Terms:
    """The parameters a PayLater operation needs, taken from the set in force."""

    revolving_daily_rate: Decimal | DailyRate  # each day's, where it changed (DailyRate)
    min_payment_rate: Decimal
    grace_days: int
    installment_fee_rates: dict[int, Decimal]
    apr_cap: Decimal
    write_off_dpd: int


@dataclass(slots=True, kw_only=True)
class PayLaterAccount:
    customer_id: str
    statement_day: int
    opened_on: date
    status: AccountStatus = AccountStatus.ACTIVE
    purchases: Purchases = field(default_factory=Purchases)
    lines: list[PrincipalLine] = field(default_factory=list)
    plans: dict[str, Plan] = field(default_factory=dict)
    statements: list[Statement] = field(default_factory=list)
    cycle: Cycle = field(default_factory=Cycle)
    credit_balance_fen: int = 0
    accrued_interest: Decimal = Decimal(0)
    accrued_to: date | None = None
    written_off_on: date | None = None
    write_off_dpd: int = 0
    recovered_fen: int = 0
    # The latest refund's date, of any purchase: who never had a refund in a period needs
    # no look at the purchases of that period (`Purchases` may be kept out of memory).
    refunded_on: date | None = None

    def __post_init__(self) -> None:
        assert 1 <= self.statement_day <= 28, self.statement_day
        if self.accrued_to is None:
            self.accrued_to = self.opened_on

    # -- what is owed -------------------------------------------------------------------

    @property
    def written_off(self) -> bool:
        return self.status is AccountStatus.WRITTEN_OFF

    def principal_outstanding_fen(self) -> int:
        """Unpaid principal: revolving lines plus every plan's unpaid principal (the usage)."""
        if self.written_off:
            return 0
        owed: int = sum(map(_OUTSTANDING, self.lines))
        for plan in self.plans.values():
            for i in plan.installments:
                if i.status in _UNPAID:
                    owed += i.principal_fen - i.principal_paid_fen
        return owed

    def interest_due_fen(self) -> int:
        if self.written_off:
            return 0
        return sum(s.interest_due_fen for s in self.statements)

    def fee_due_fen(self) -> int:
        if self.written_off:
            return 0
        return sum(i.fee_due_fen for plan in self.plans.values() for i in plan.installments)

    def billed_due_fen(self) -> int:
        """Every billed amount still unpaid."""
        lines = sum(line.outstanding_fen for line in self.lines if line.statement_date)
        installments = sum(
            i.principal_due_fen + i.fee_due_fen
            for plan in self.plans.values()
            for i in plan.installments
        )
        return lines + installments + self.interest_due_fen()

    def unbilled_principal_fen(self) -> int:
        return sum(line.outstanding_fen for line in self.lines if line.statement_date is None)

    # -- dates --------------------------------------------------------------------------

    def next_statement_date(self, after: date) -> date:
        """The first statement date strictly after `after`."""
        candidate = date(after.year, after.month, self.statement_day)
        return candidate if candidate > after else add_months(candidate, 1)

    def statement_due_on_eod(self, on: date) -> bool:
        """A statement dated S is produced in the close of the day before S."""
        return (on + timedelta(days=1)).day == self.statement_day

    def _statement_of(self, statement_date: date | None) -> Statement | None:
        for statement in self.statements:
            if statement.statement_date == statement_date:
                return statement
        return None

    def _due_date_of(self, statement_date: date) -> date:
        statement = self._statement_of(statement_date)
        assert statement is not None, statement_date
        return statement.due_date

    # -- accrual ------------------------------------------------------------------------

    def _accruing(self) -> Iterator[tuple[int, date]]:
        """(principal, the due date from which it accrues) for every billed principal."""
        due_dates = {s.statement_date: s.due_date for s in self.statements}
        for line in self.lines:
            if line.statement_date is not None and line.outstanding_fen > 0:
                yield line.outstanding_fen, due_dates[line.statement_date]
        for plan in self.plans.values():
            for installment in plan.installments:
                if installment.principal_due_fen > 0:
                    yield installment.principal_due_fen, due_dates[installment.statement_date]

    def accrue(self, to: date, rate: Decimal | DailyRate) -> None:
        """Accrue interest on past-due principal over [accrued_to, to), each day at the rate
        in force at its close."""
        assert self.accrued_to is not None
        start = self.accrued_to
        if to <= start or self.written_off:
            return
        daily = DailyRate.of(rate)
        for principal, due in self._accruing():
            begin = max(start, due)
            if to > begin:
                self.accrued_interest += Decimal(principal) * daily.over(begin, to)
        self.accrued_to = to

    def interest_accrued_fen(self, on: date, rate: Decimal | DailyRate) -> int:
        """Interest accrued but not yet billed, as of `on`, rounded (for `all` and reports)."""
        probe = PayLaterAccount(
            customer_id=self.customer_id,
            statement_day=self.statement_day,
            opened_on=self.opened_on,
            lines=self.lines,
            plans=self.plans,
            statements=self.statements,
            accrued_interest=self.accrued_interest,
            accrued_to=self.accrued_to,
        )
        probe.accrue(on, rate)
        return round_fen(probe.accrued_interest)

    # -- purchases ----------------------------------------------------------------------

    def purchase(
        self, *, ref: str, amount_fen: int, merchant: str, category: str, on: date
    ) -> None:
        """Record an approved purchase; the limit was checked by the caller."""
        self._require_active()
        if ref in self.purchases:
            raise Conflict(
                f"purchase {ref!r} already exists", field="ref", rule="PURCHASE_REF_UNIQUE"
            )
        if amount_fen <= 0:
            raise InvalidInput("must be greater than 0.00", field="amount", rule="AMOUNT_POSITIVE")
        self.purchases[ref] = Purchase(ref, on, amount_fen, merchant, category)
        self.lines.append(PrincipalLine(ref, on, amount_fen, amount_fen))
        self.cycle.purchases_fen += amount_fen
        self.cycle.activity = True

    def _purchase(self, ref: str) -> Purchase:
        try:
            return self.purchases[ref]
        except KeyError:
            raise NotFound(
                f"no purchase {ref!r}", field="purchase", rule="PURCHASE_EXISTS"
            ) from None

    def _line(self, ref: str) -> PrincipalLine | None:
        index = self._line_index(ref)
        return None if index is None else self.lines[index]

    def _line_index(self, ref: str) -> int | None:
        for index, line in enumerate(self.lines):
            if line.ref == ref:
                return index
        return None

    def _pay_line(self, index: int, left: int, allocation: Allocation) -> int:
        """Pay what it can of line `index` from `left`; what is left."""
        line = self.lines[index]
        paid = min(left, line.outstanding_fen)
        if paid:
            self.lines[index] = line.paid_down(paid)
            allocation.principal_fen += paid
        return left - paid

    # -- paying -------------------------------------------------------------------------

    def _allocate(self, amount_fen: int, *, billed_only: bool = False) -> tuple[Allocation, int]:
        """Apply `amount_fen` oldest statement first (fees, interest, installment principal,
        revolving principal), then unbilled principal oldest first. Returns the allocation
        and what is left over."""
        left = amount_fen
        allocation = Allocation()
        if left and self.statements:
            installments, lines = self._billed_by_statement()
            for statement in self.statements:
                if left == 0:
                    break
                day = statement.statement_date
                left = self._pay_statement(
                    statement, left, allocation, installments.get(day, ()), lines.get(day, ())
                )
            # Paying can only complete plans; their status is not read while paying.
            self._complete_plans()
        if not billed_only:
            for index, line in enumerate(self.lines):
                if left == 0:
                    break
                if line.statement_date is None and line.outstanding_fen > 0:
                    left = self._pay_line(index, left, allocation)
        return allocation, left

    def _billed_by_statement(self) -> tuple[dict[date, list[Installment]], dict[date, list[int]]]:
        """Per statement date, its billed installments (plans and installments in order) and
        the positions of its revolving lines with principal outstanding (in order)."""
        installments: dict[date, list[Installment]] = {}
        for plan in self.plans.values():
            for installment in plan.installments:
                if installment.billed:
                    installments.setdefault(installment.statement_date, []).append(installment)
        lines: dict[date, list[int]] = {}
        for index, line in enumerate(self.lines):
            if line.statement_date is not None and line.outstanding_fen > 0:
                lines.setdefault(line.statement_date, []).append(index)
        return installments, lines

    def _pay_statement(
        self,
        statement: Statement,
        left: int,
        allocation: Allocation,
        installments: Sequence[Installment],
        lines: Sequence[int],
    ) -> int:
        """Pay `statement`: its installments' fees, its interest, its installments'
        principal, then its revolving lines (`lines`, positions in `self.lines`)."""
        for installment in installments:
            paid = min(left, installment.fee_due_fen)
            installment.fee_paid_fen += paid
            allocation.fee_fen += paid
            left -= paid
        paid = min(left, statement.interest_due_fen)
        statement.interest_due_fen -= paid
        allocation.interest_fen += paid
        left -= paid
        for installment in installments:
            paid = min(left, installment.principal_due_fen)
            installment.principal_paid_fen += paid
            allocation.principal_fen += paid
            left -= paid
            installment.settle_if_paid()
        for index in lines:
            if self.lines[index].outstanding_fen > 0:
                left = self._pay_line(index, left, allocation)
        return left

    def _credit_statements(self, amount_fen: int, on: date) -> None:
        """Payments and credits dated from a statement's date fill unmet minimums, oldest
        first, and count toward `paid_in_full` within the statement's window."""
        left = amount_fen
        for statement in self.statements:
            if statement.statement_date > on:
                continue
            statement.paid_since_fen += amount_fen
            if on <= statement.due_date:
                statement.window_paid_fen += amount_fen
            filled = min(left, max(0, statement.minimum_unmet_fen))
            statement.minimum_filled_fen += filled
            left -= filled
            if statement.minimum_unmet_fen <= 0 and statement.minimum_met_on is None:
                statement.minimum_met_on = on

    def repay(self, *, amount_fen: int, on: date, terms: Terms) -> Allocation:
        """A repayment: statements oldest first, then unbilled principal, then credit."""
        if amount_fen <= 0:
            raise InvalidInput("must be greater than 0.00", field="amount", rule="AMOUNT_POSITIVE")
        if self.written_off:
            self.recovered_fen += amount_fen
            return Allocation(recovery_fen=amount_fen)
        self.accrue(on, terms.revolving_daily_rate)
        allocation, left = self._allocate(amount_fen)
        self.credit_balance_fen += left
        allocation.credit_balance_fen = left
        self._credit_statements(amount_fen, on)
        self.cycle.payments_fen += amount_fen
        self.cycle.activity = True
        self._drop_settled_lines()
        return allocation

    def bill_accrued_interest(self, *, on: date, terms: Terms) -> int:
        """Bill the interest accrued to `on` now (inside an `all` payment); the next statement
        prints it under `interest`. Returns the amount billed."""
        self.accrue(on, terms.revolving_daily_rate)
        billed = round_fen(self.accrued_interest)
        self.accrued_interest = Decimal(0)
        self.cycle.prebilled_interest_fen += billed
        self.cycle.activity = True
        return billed

    def pay_all(self, *, on: date, terms: Terms) -> tuple[int, int, Allocation, Allocation]:
        """Pay everything: plans settled early (unbilled fees waived), interest accrued to
        today billed and paid, then every billed and unbilled amount, the credit balance
        first. Returns (principal settled outside the statements, interest billed now,
        allocation of the money paid for the rest, allocation of the credit used)."""
        self._require_active()
        settled = sum(
            self.settle_plan(plan_ref=plan.ref, on=on)
            for plan in list(self.plans.values())
            if plan.status is PlanStatus.ACTIVE
        )
        interest = self.bill_accrued_interest(on=on, terms=terms)
        self.cycle.payments_fen += interest
        from_credit = Allocation()
        if self.credit_balance_fen:
            # The credit pays what is owed, billed first, as at a statement; what it pays on
            # statements counts toward them as a payment would.
            from_credit, left = self._allocate(self.credit_balance_fen, billed_only=True)
            if from_credit.total_fen:
                self._credit_statements(from_credit.total_fen, on)
            unbilled, left = self._allocate(left)
            from_credit.add(unbilled)
            self.credit_balance_fen = left
            self._drop_settled_lines()
        rest = self.billed_due_fen() + self.unbilled_principal_fen()
        allocation = self.repay(amount_fen=rest, on=on, terms=terms) if rest > 0 else Allocation()
        if interest:
            self._credit_statements(interest, on)
        return settled, interest, allocation, from_credit

    # -- shortcuts (DOMAIN.md §5) -------------------------------------------------------

    def minimum_unmet_fen(self, on: date) -> int:
        return sum(max(0, s.minimum_unmet_fen) for s in self.statements if s.statement_date <= on)

    def due_fen(self) -> int:
        """The latest statement's new balance less payments and credits since."""
        if not self.statements:
            return 0
        return self.statements[-1].amount_still_due_fen

    # -- refunds ------------------------------------------------------------------------

    def refund(self, *, purchase_ref: str, amount_fen: int, on: date, terms: Terms) -> Allocation:
        """A merchant refund of (part of) a purchase, in whichever state the purchase is."""
        purchase = self._purchase(purchase_ref)
        if amount_fen <= 0:
            raise InvalidInput("must be greater than 0.00", field="amount", rule="AMOUNT_POSITIVE")
        refundable = purchase.amount_fen - purchase.refunded_fen
        if amount_fen > refundable:
            raise InvalidInput(
                f"{format_fen(amount_fen)} is more than the {format_fen(refundable)} left to "
                f"refund on purchase {purchase_ref!r}",
                field="amount",
                rule="REFUND_ABOVE_PURCHASE",
            )
        purchase = replace(
            purchase, refunded_fen=purchase.refunded_fen + amount_fen, refunded_on=on
        )
        self.purchases[purchase_ref] = purchase
        self.refunded_on = on
        if self.written_off:
            self.recovered_fen += amount_fen
            return Allocation(recovery_fen=amount_fen)
        self.accrue(on, terms.revolving_daily_rate)
        self.cycle.refunds_fen += amount_fen
        self.cycle.activity = True
        allocation = Allocation()
        left = amount_fen
        # What pays principal not yet billed (the purchase's own unbilled line, or a
        # converted purchase's moved principal) is owed on no statement: it must not count
        # toward any statement's minimum or paid_in_full. The rest does.
        unbilled_paid = 0
        if purchase.plan_ref is not None:
            left, unbilled_paid = self._refund_plan(
                self.plans[purchase.plan_ref], left, on, allocation
            )
        else:
            left, unbilled_paid = self._refund_principal(purchase_ref, left, on, allocation)
        counted = amount_fen - unbilled_paid
        if left:
            more, left = self._allocate(left)
            allocation.add(more)
        self.credit_balance_fen += left
        allocation.credit_balance_fen += left
        if counted:
            self._credit_statements(counted, on)
        self._drop_settled_lines()
        return allocation

    def _refund_principal(
        self, ref: str, left: int, on: date, allocation: Allocation
    ) -> tuple[int, int]:
        """Pay the principal line `ref` (a purchase's, or a refunded plan's moved principal)
        from `left`, wherever it is now: its line, or the statement's plan that took it. No
        line and no plan: it was billed and paid, and has been dropped
        (`_drop_settled_lines`). (what is left, what paid principal not yet billed)"""
        index = self._line_index(ref)
        if index is not None:
            return self._refund_line(index, left, allocation)
        for plan in self.plans.values():
            if plan.status is PlanStatus.ACTIVE and plan.absorbed.get(ref):
                return self._refund_in_plan(plan, ref, left, on, allocation)
        return left, 0

    def _refund_line(self, index: int, left: int, allocation: Allocation) -> tuple[int, int]:
        """Pay principal line `index` from `left`: (what is left, what it paid if the line
        is not yet billed, else 0)."""
        unbilled = self.lines[index].statement_date is None
        rest = self._pay_line(index, left, allocation)
        return rest, (left - rest) if unbilled else 0

    def _refund_plan(
        self, plan: Plan, left: int, on: date, allocation: Allocation
    ) -> tuple[int, int]:
        """Cancel unbilled installments and fees, move the unbilled principal into the cycle,
        then pay the plan's billed principal first and that moved principal next: (what is
        left, what paid principal not yet billed)."""
        if plan.status is PlanStatus.ACTIVE:
            moved = plan.unbilled_principal_fen
            for installment in plan.installments:
                if installment.status is InstallmentStatus.PENDING:
                    installment.status = InstallmentStatus.CANCELLED
            if moved:
                self.lines.append(PrincipalLine(f"{plan.ref}:moved", on, moved, moved))
                self.cycle.purchases_fen += moved
            plan.status = PlanStatus.REFUNDED
        left = _pay_billed_principal(plan, left, allocation)
        return self._refund_principal(f"{plan.ref}:moved", left, on, allocation)

    def _refund_in_plan(
        self, plan: Plan, purchase_ref: str, left: int, on: date, allocation: Allocation
    ) -> tuple[int, int]:
        """A purchase converted with its statement: the refund pays its principal where it
        now is, the statement's plan, up to what the purchase put in. Billed installments'
        principal first; then principal comes out of the unbilled installments, the last
        first (one left with none is cancelled, and its fee with it), into the cycle, and
        the refund pays it there, as for a converted purchase (the statement shows it under
        purchases and the refund under refunds). The plan goes on for the rest of the
        statement. (what is left, what paid principal not yet billed)."""
        share = min(left, plan.absorbed[purchase_ref])
        rest = _pay_billed_principal(plan, share, allocation)
        moved = 0
        for installment in reversed(plan.installments):
            if installment.status is not InstallmentStatus.PENDING:
                continue
            taken = min(rest, installment.principal_fen)
            installment.principal_fen -= taken
            moved += taken
            rest -= taken
            if installment.principal_fen == 0:
                installment.status = InstallmentStatus.CANCELLED
        plan.absorbed[purchase_ref] -= share - rest
        plan.principal_fen -= moved  # what the plan holds; its fee stays as agreed
        left -= share - rest - moved
        unbilled_paid = 0
        if moved:
            self.lines.append(PrincipalLine(f"{plan.ref}:{purchase_ref}", on, moved, moved))
            self.cycle.purchases_fen += moved
            left, unbilled_paid = self._refund_line(len(self.lines) - 1, left, allocation)
        self._complete_plans()
        return left, unbilled_paid

    # -- installment plans --------------------------------------------------------------

    def _new_plan(
        self,
        *,
        ref: str,
        source: str,
        source_ref: str,
        principal_fen: int,
        periods: int,
        on: date,
        terms: Terms,
    ) -> Plan:
        if ref in self.plans:
            raise Conflict(f"plan {ref!r} already exists", field="ref", rule="PLAN_REF_UNIQUE")
        fee_rate = terms.installment_fee_rates.get(periods)
        if fee_rate is None:
            offered = ", ".join(str(n) for n in sorted(terms.installment_fee_rates))
            raise InvalidInput(
                f"must be one of {offered}, got {periods}", field="periods", rule="PERIODS_OFFERED"
            )
        fee = plan_fee(principal_fen, fee_rate)
        parts = split(principal_fen, fee, periods)
        if any(part.principal_fen <= 0 or part.fee_fen < 0 for part in parts):
            # DOMAIN.md §3's split gives the last installment what is left, which for a small
            # amount is nothing, or a fee below zero that no statement can bill.
            raise NotConvertible(
                f"{format_fen(principal_fen)} is too small to split into {periods} "
                "installments (one would carry no principal, or a negative fee)",
                field="periods",
                rule="NOT_CONVERTIBLE",
            )
        apr = plan_apr(principal_fen, [p.principal_fen + p.fee_fen for p in parts])
        if apr > terms.apr_cap:
            raise AprCapExceeded(
                f"the plan's APR {format_rate(apr)} is above the cap {format_rate(terms.apr_cap)}",
                field="periods",
                rule="APR_CAP_EXCEEDED",
            )
        first = self.next_statement_date(on)
        installments = [
            Installment(k, add_months(first, k - 1), part.principal_fen, part.fee_fen)
            for k, part in enumerate(parts, start=1)
        ]
        return Plan(
            ref=ref,
            source=source,
            source_ref=source_ref,
            created_on=on,
            periods=periods,
            principal_fen=principal_fen,
            fee_fen=fee,
            fee_rate=fee_rate,
            apr=apr,
            installments=installments,
        )

    def convert_purchase(
        self, *, purchase_ref: str, plan_ref: str, periods: int, on: date, terms: Terms
    ) -> Plan:
        """Turn a purchase not yet billed into a plan; it never appears under `purchases`."""
        self._require_active()
        purchase = self._purchase(purchase_ref)
        line = self._line(purchase_ref)
        if purchase.plan_ref is not None or line is None or line.statement_date is not None:
            raise NotConvertible(
                f"purchase {purchase_ref!r} is billed or already converted",
                field="purchase",
                rule="NOT_CONVERTIBLE",
            )
        if line.outstanding_fen != purchase.amount_fen:
            raise NotConvertible(
                f"purchase {purchase_ref!r} was partly refunded or repaid",
                field="purchase",
                rule="NOT_CONVERTIBLE",
            )
        plan = self._new_plan(
            ref=plan_ref,
            source="purchase",
            source_ref=purchase_ref,
            principal_fen=purchase.amount_fen,
            periods=periods,
            on=on,
            terms=terms,
        )
        self.lines.remove(line)
        self.purchases[purchase_ref] = replace(purchase, plan_ref=plan_ref)
        self.plans[plan_ref] = plan
        self.cycle.purchases_fen -= purchase.amount_fen
        return plan

    def convert_statement(
        self, *, statement_date: date, plan_ref: str, periods: int, on: date, terms: Terms
    ) -> Plan:
        """Turn a statement's unpaid revolving principal into a plan, from its statement date
        through its due date. The statement keeps its printed figures; what is still due on
        it falls by the converted principal."""
        self._require_active()
        statement = self._statement_of(statement_date)
        if statement is None:
            raise NotFound(
                f"no statement dated {statement_date.isoformat()}",
                field="statement",
                rule="STATEMENT_EXISTS",
            )
        if not statement.statement_date <= on <= statement.due_date:
            raise NotConvertible(
                f"a statement converts from its date through its due date "
                f"({statement.statement_date.isoformat()} to {statement.due_date.isoformat()})",
                field="statement",
                rule="NOT_CONVERTIBLE",
            )
        self.accrue(on, terms.revolving_daily_rate)
        lines = [
            index
            for index, line in enumerate(self.lines)
            if line.statement_date is not None
            and line.statement_date <= statement_date
            and line.outstanding_fen > 0
        ]
        principal = sum(self.lines[index].outstanding_fen for index in lines)
        if principal == 0:
            raise NotConvertible(
                "the statement has no unpaid revolving principal",
                field="statement",
                rule="NOT_CONVERTIBLE",
            )
        plan = self._new_plan(
            ref=plan_ref,
            source="statement",
            source_ref=statement_date.isoformat(),
            principal_fen=principal,
            periods=periods,
            on=on,
            terms=terms,
        )
        for index in lines:
            line = self.lines[index]
            plan.absorbed[line.ref] = plan.absorbed.get(line.ref, 0) + line.outstanding_fen
            self.lines[index] = line.paid_down(line.outstanding_fen)
        self.plans[plan_ref] = plan
        statement.converted_after_fen += principal
        self.cycle.converted_fen += principal
        self.cycle.activity = True
        self._cap_unmet_minimums(statement, on)
        self._drop_settled_lines()
        return plan

    def _cap_unmet_minimums(self, statement: Statement, on: date) -> None:
        """What is still unmet on and before `statement` never exceeds what is still due."""
        excess = (
            sum(
                max(0, s.minimum_unmet_fen)
                for s in self.statements
                if s.statement_date <= statement.statement_date
            )
            - statement.amount_still_due_fen
        )
        for earlier in reversed(self.statements):
            if excess <= 0:
                break
            if earlier.statement_date > statement.statement_date:
                continue
            cut = min(excess, max(0, earlier.minimum_unmet_fen))
            earlier.minimum_own_fen -= cut
            excess -= cut
            if earlier.minimum_unmet_fen <= 0 and earlier.minimum_met_on is None:
                earlier.minimum_met_on = on

    def settle_plan(self, *, plan_ref: str, on: date) -> int:
        """Early settlement: the unbilled principal is paid now, outside the statements;
        unbilled fees are waived. Returns the principal paid."""
        self._require_active()
        plan = self.plans.get(plan_ref)
        if plan is None:
            raise NotFound(f"no installment plan {plan_ref!r}", field="plan", rule="PLAN_EXISTS")
        if plan.status is not PlanStatus.ACTIVE:
            raise Conflict(
                f"plan {plan_ref!r} is {plan.status.value}", field="plan", rule="PLAN_ACTIVE"
            )
        paid = plan.unbilled_principal_fen
        for installment in plan.installments:
            if installment.status is InstallmentStatus.PENDING:
                installment.status = InstallmentStatus.CANCELLED
        plan.status = PlanStatus.SETTLED
        return paid

    def _complete_plans(self) -> None:
        for plan in self.plans.values():
            if plan.status is PlanStatus.ACTIVE and all(
                i.status in (InstallmentStatus.PAID, InstallmentStatus.CANCELLED)
                for i in plan.installments
            ):
                plan.status = PlanStatus.COMPLETED

    # -- the statement ------------------------------------------------------------------

    def close_statement(self, *, statement_date: date, terms: Terms) -> Billing | None:
        """Produce the statement dated `statement_date` (in the close of the day before).

        None when there is nothing to print: a zero previous balance and no activity.
        """
        if self.written_off:
            return None
        assert statement_date.day == self.statement_day, statement_date
        self.accrue(statement_date, terms.revolving_daily_rate)
        new_interest = round_fen(self.accrued_interest)
        self.accrued_interest = Decimal(0)
        due = [
            i
            for plan in self.plans.values()
            for i in plan.installments
            if i.statement_date == statement_date and i.status is InstallmentStatus.PENDING
        ]
        previous = self.statements[-1].new_balance_fen if self.statements else 0
        cycle = self.cycle
        if previous == 0 and not cycle.activity and not due and new_interest == 0:
            return None
        for installment in due:
            installment.status = InstallmentStatus.BILLED
        for index, line in enumerate(self.lines):
            if line.statement_date is None:
                self.lines[index] = line.billed_on(statement_date)
        installments_billed = sum(i.principal_fen + i.fee_fen for i in due)
        interest = new_interest + cycle.prebilled_interest_fen
        new_balance = (
            previous
            + cycle.purchases_fen
            - cycle.refunds_fen
            + installments_billed
            + interest
            - cycle.payments_fen
            - cycle.converted_fen
        )
        statement = Statement(
            statement_date=statement_date,
            due_date=statement_date + timedelta(days=terms.grace_days),
            previous_balance_fen=previous,
            purchases_fen=cycle.purchases_fen,
            refunds_fen=cycle.refunds_fen,
            installments_billed_fen=installments_billed,
            interest_fen=interest,
            payments_fen=cycle.payments_fen,
            converted_fen=cycle.converted_fen,
            new_balance_fen=new_balance,
            minimum_payment_fen=0,
            minimum_own_fen=0,
            interest_due_fen=new_interest,
        )
        self.statements.append(statement)
        billing = Billing(interest_fen=new_interest, fee_fen=sum(i.fee_fen for i in due))
        if self.credit_balance_fen:
            used, left = self._allocate(self.credit_balance_fen, billed_only=True)
            self.credit_balance_fen = left
            billing.from_credit = used
        self._set_minimum(statement, terms)
        self.cycle = Cycle()
        self._check_balance(statement)
        self._drop_settled_lines()
        return billing

    def _drop_settled_lines(self) -> None:
        """Forget the lines billed and paid in full (after a statement, a repayment, a refund
        or a statement's conversion): nothing changes them again, and a refund of their
        purchase reads a missing line as one (`refund`). Kept, they would make every
        operation's cost grow with the account's age."""
        self.lines = [
            line for line in self.lines if line.outstanding_fen or line.statement_date is None
        ]

    def _set_minimum(self, statement: Statement, terms: Terms) -> None:
        if statement.new_balance_fen <= 0:
            statement.minimum_met_on = statement.statement_date
            return
        revolving = sum(
            line.outstanding_fen for line in self.lines if line.statement_date is not None
        )
        unmet_earlier = sum(max(0, s.minimum_unmet_fen) for s in self.statements[:-1])
        raw = (
            ceil_fen(Decimal(revolving) * terms.min_payment_rate)
            + statement.installments_billed_fen
            + statement.interest_fen
        )
        minimum = max(0, min(raw + unmet_earlier, statement.new_balance_fen))
        statement.minimum_payment_fen = minimum
        statement.minimum_own_fen = max(0, minimum - unmet_earlier)
        if statement.minimum_own_fen == 0:
            statement.minimum_met_on = statement.statement_date

    def _check_balance(self, statement: Statement) -> None:
        """The printed new balance is what the billed records say is owed, less credit."""
        owed = self.billed_due_fen() - self.credit_balance_fen
        assert owed == statement.new_balance_fen, (owed, statement)

    # -- delinquency --------------------------------------------------------------------

    def oldest_unmet_due_date(self) -> date | None:
        for statement in self.statements:
            if statement.minimum_unmet_fen > 0:
                return statement.due_date
        return None

    def dpd(self, on: date) -> int:
        """Days past due on `on`: `on` minus the oldest due date whose minimum is unmet."""
        if self.written_off:
            return self.write_off_dpd
        oldest = self.oldest_unmet_due_date()
        if oldest is None or on <= oldest:
            return 0
        return (on - oldest).days

    def write_off(self, *, on: date, dpd: int) -> WriteOff:
        """Write off every receivable; accrual and statements stop; DPD stays at `dpd`."""
        self._require_active()
        principal = self.principal_outstanding_fen()
        result = WriteOff(
            principal_fen=principal,
            interest_fen=self.interest_due_fen(),
            fee_fen=self.fee_due_fen(),
        )
        for index, line in enumerate(self.lines):
            if line.outstanding_fen:
                self.lines[index] = line.paid_down(line.outstanding_fen)
        for statement in self.statements:
            statement.interest_due_fen = 0
        for plan in self.plans.values():
            for installment in plan.installments:
                if installment.status is InstallmentStatus.PENDING:
                    installment.status = InstallmentStatus.CANCELLED
            if plan.status is PlanStatus.ACTIVE:
                plan.status = PlanStatus.WRITTEN_OFF
        self.accrued_interest = Decimal(0)
        self.status = AccountStatus.WRITTEN_OFF
        self.written_off_on = on
        self.write_off_dpd = dpd
        return result

    def _require_active(self) -> None:
        if self.written_off:
            raise Conflict(
                "the PayLater account is written off", field="customer_id", rule="CUSTOMER_FROZEN"
            )


def _pay_billed_principal(plan: Plan, amount_fen: int, allocation: Allocation) -> int:
    """Pay `plan`'s billed installments' principal from `amount_fen`, in order: what is
    left."""
    for installment in plan.installments:
        paid = min(amount_fen, installment.principal_due_fen)
        installment.principal_paid_fen += paid
        allocation.principal_fen += paid
        amount_fen -= paid
        installment.settle_if_paid()
    return amount_fen
