"""Cash-loan use cases: quote, draw, repay, and the close of day of one loan.

A draw and a purchase lock the same customer row, so the two products can never both pass
the joint-limit check at once. The limit's loan usage moves with every fen of principal drawn,
repaid or written off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal
from functools import cache

from creditlink.application.business_date import require_open
from creditlink.application.decisions import (
    context_for,
    judge,
    record_decision,
    replayed_decision,
)
from creditlink.application.errors import IdempotencyKeyReused
from creditlink.application.idempotency import post_entry
from creditlink.application.linkage import evaluate
from creditlink.application.parameters import current_parameters, penalty_multiplier
from creditlink.application.paylater import DayWork, DecisionResult, Shortcut
from creditlink.application.ports import UnitOfWork
from creditlink.application.scoring import rescore_if_due
from creditlink.domain.delinquency import ROLL_THRESHOLDS
from creditlink.domain.errors import Conflict, InvalidInput, NotFound
from creditlink.domain.ledger import (
    Account,
    AccountCode,
    EntryKind,
    JournalEntry,
    Line,
    credit,
    debit,
)
from creditlink.domain.limits import AlertLevel
from creditlink.domain.loan.loan import Loan, LoanAllocation, LoanWriteOff
from creditlink.domain.loan.schedule import Method, QuotedInstallment, loan_apr, quote
from creditlink.domain.money import format_fen
from creditlink.domain.parameters import ParameterSet
from creditlink.domain.products import Product
from creditlink.risk.decisions import DRAW

L = Product.LOAN
CASH = Account(AccountCode.FUNDING_CASH)


@cache  # accounts are immutable values; one per code
def _account(code: AccountCode) -> Account:
    return Account(code, L)


@dataclass(frozen=True, slots=True, kw_only=True)
class Quote:
    principal_fen: int
    term_months: int
    method: Method
    daily_rate: Decimal
    apr: Decimal
    drawn_on: date
    installments: list[QuotedInstallment]

    @property
    def interest_fen(self) -> int:
        return sum(i.interest_fen for i in self.installments)


def check_terms(*, amount_fen: int, term_months: int, parameters: ParameterSet) -> None:
    if amount_fen <= 0:
        raise InvalidInput("must be greater than 0.00", field="amount", rule="AMOUNT_POSITIVE")
    terms = parameters.values.loan_terms
    if term_months not in terms:
        raise InvalidInput(
            f"must be one of {', '.join(map(str, terms))} months, got {term_months}",
            field="term_months",
            rule="LOAN_TERM_OFFERED",
        )


def quote_loan(
    *,
    amount_fen: int,
    term_months: int,
    method: Method,
    daily_rate: Decimal,
    on: date,
    parameters: ParameterSet,
) -> Quote:
    """The schedule and APR an agent shows before a draw; refuses an APR above the cap, and
    an amount below the smallest draw (a draw of it would be declined)."""
    check_terms(amount_fen=amount_fen, term_months=term_months, parameters=parameters)
    smallest = parameters.values.loan_min_amount
    if amount_fen < smallest:
        raise InvalidInput(
            f"{format_fen(amount_fen)} is below the smallest loan, {format_fen(smallest)}",
            field="amount",
            rule="BELOW_LOAN_MINIMUM",
        )
    apr = loan_apr(daily_rate)
    if apr > parameters.values.apr_cap:
        raise Conflict(
            f"APR {apr:.4f} is above the cap {parameters.values.apr_cap:.4f}",
            field="rate",
            rule="APR_CAP_EXCEEDED",
        )
    return Quote(
        principal_fen=amount_fen,
        term_months=term_months,
        method=method,
        daily_rate=daily_rate,
        apr=apr,
        drawn_on=on,
        installments=quote(
            principal_fen=amount_fen,
            term_months=term_months,
            method=method,
            daily_rate=daily_rate,
            drawn_on=on,
        ),
    )


def next_wake_on(loan: Loan, *, closed_through: date, parameters: ParameterSet) -> date | None:
    """The loan's next due date, and the days its delinquency crosses a threshold."""
    if not loan.active:
        return None
    candidates = [
        i.due_date
        for i in loan.installments
        if not i.billed and not i.cancelled and i.due_date > closed_through
    ]
    values = parameters.values
    thresholds = (
        *ROLL_THRESHOLDS,  # the early-warning roll rates count these crossings
        values.linkage_watch_dpd,
        values.linkage_restrict_dpd,
        values.linkage_freeze_dpd,
        values.write_off_dpd,
    )
    overdue = [i.due_date for i in loan.installments if i.owing]
    if overdue:
        oldest = min(overdue)
        candidates += [
            oldest + timedelta(days=t)
            for t in sorted(thresholds)
            if oldest + timedelta(days=t) > closed_through
        ][:1]
    return min(candidates) if candidates else None


def _save(
    uow: UnitOfWork,
    loan: Loan,
    parameters: ParameterSet,
    on: date,
    closed_through: date | None = None,
) -> None:
    uow.loans.save(
        loan,
        closed_through=closed_through,
        next_wake_on=next_wake_on(
            loan, closed_through=closed_through or on - timedelta(days=1), parameters=parameters
        ),
    )


def _written_off(uow: UnitOfWork, customer_id: str) -> bool:
    """Any product written off freezes the customer (DOMAIN.md §6)."""
    return uow.paylater.written_off(customer_id) or uow.loans.written_off(customer_id)


def draw_loan(
    uow: UnitOfWork,
    *,
    customer_id: str,
    ref: str,
    amount_fen: int,
    term_months: int,
    method: Method,
    on: date,
    idempotency_key: str,
    at: time | None = None,
) -> DecisionResult:
    """Decide a draw at the customer's daily rate and, when approved, pay it out. `at`, the
    time of day, lets the hourly velocity rules count it."""
    with uow:
        limit = uow.limits.get(customer_id, for_update=True).apply_due_increase(on=on)
        require_open(uow, on)
        request, existing = replayed_decision(
            uow,
            idempotency_key,
            op=DRAW,
            ref=ref,
            customer_id=customer_id,
            asked={"amount_fen": amount_fen, "term_months": term_months, "method": method},
        )
        if existing is not None:
            return DecisionResult(
                decision=existing, replayed=True, entry=uow.ledger.find_by_key(idempotency_key)
            )
        parameters = current_parameters(uow)
        check_terms(amount_fen=amount_fen, term_months=term_months, parameters=parameters)
        customer = uow.customers.get(customer_id)
        if uow.loans.find(customer_id, ref) is not None:
            raise Conflict(f"loan {ref!r} already exists", field="ref", rule="LOAN_REF_UNIQUE")
        context = context_for(
            uow,
            op=DRAW,
            customer_id=customer_id,
            on=on,
            limit=limit,
            written_off=_written_off(uow, customer_id),
            amount_fen=amount_fen,
            at=at,
            apr=loan_apr(customer.loan_daily_rate),
        )
        verdict, shadow = judge(uow, context, parameters)
        entry = None
        if verdict.approved:
            limit = limit.draw(L, amount_fen, on=on)
            loan = Loan.draw(
                ref=ref,
                customer_id=customer_id,
                principal_fen=amount_fen,
                term_months=term_months,
                method=method,
                daily_rate=customer.loan_daily_rate,
                on=on,
            )
            uow.loans.add(
                loan,
                next_wake_on=next_wake_on(
                    loan, closed_through=on - timedelta(days=1), parameters=parameters
                ),
            )
            uow.limits.save(customer_id, limit)
            entry = post_entry(
                uow,
                key=idempotency_key,
                on=on,
                kind=EntryKind.LOAN_DRAW,
                customer_id=customer_id,
                description=f"draw of loan {ref}",
                lines=[
                    debit(_account(AccountCode.PRINCIPAL_RECEIVABLE), amount_fen, customer_id),
                    credit(CASH, amount_fen),
                ],
            )
        record = record_decision(
            uow,
            on=on,
            customer_id=customer_id,
            op=DRAW,
            ref=ref,
            verdict=verdict,
            parameters=parameters,
            key=idempotency_key,
            request=request,
            posted=entry is not None,
            context=context,
            shadow=shadow,
            model_version=customer.score.model_version if customer.score else None,
        )
        uow.commit()
    return DecisionResult(decision=record, entry=entry, replayed=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class LoanRepayment:
    amount_fen: int
    entry: JournalEntry | None


def repay_loan(
    uow: UnitOfWork,
    *,
    customer_id: str,
    loan_ref: str,
    amount: int | Shortcut,
    on: date,
    idempotency_key: str,
) -> LoanRepayment:
    """Repay a loan: an amount, or `due` / `minimum` (everything past due with penalty to
    today plus what is due today) or `all` (that, all remaining principal and the interest
    accrued to today). A shortcut that comes to 0 does nothing."""
    with uow:
        limit = uow.limits.get(customer_id, for_update=True).apply_due_increase(on=on)
        require_open(uow, on)
        request = f"loan {loan_ref} repayment: " + (
            amount.value if isinstance(amount, Shortcut) else format_fen(amount)
        )
        existing = uow.ledger.find_by_key(idempotency_key)
        if existing is not None:
            if (existing.draft.customer_id, existing.draft.description) != (customer_id, request):
                raise IdempotencyKeyReused(idempotency_key)
            return LoanRepayment(amount_fen=existing.lines[0].amount_fen, entry=existing)
        parameters = current_parameters(uow)
        multiplier = penalty_multiplier(uow)
        loan = _loan(uow, customer_id, loan_ref)
        if isinstance(amount, Shortcut):
            due, everything = loan.payoff_fen(on, penalty_multiplier=multiplier)
            total = everything if amount is Shortcut.ALL else due
            if total <= 0:
                return LoanRepayment(amount_fen=0, entry=None)
        else:
            total = amount
        allocation = loan.repay(amount_fen=total, on=on, penalty_multiplier=multiplier)
        entry = post_entry(
            uow,
            key=idempotency_key,
            on=on,
            kind=EntryKind.RECOVERY if allocation.recovery_fen else EntryKind.REPAYMENT,
            customer_id=customer_id,
            description=request,
            lines=_repayment_lines(customer_id, total, allocation),
        )
        if allocation.principal_fen:
            limit = limit.with_usage(L, limit.used_loan_fen - allocation.principal_fen)
            uow.limits.save(customer_id, limit)
        _save(uow, loan, parameters, on)
        uow.commit()
    return LoanRepayment(amount_fen=total, entry=entry)


def _loan(uow: UnitOfWork, customer_id: str, ref: str) -> Loan:
    loan = uow.loans.find(customer_id, ref)
    if loan is None:
        raise NotFound(
            f"customer {customer_id!r} has no loan {ref!r}", field="loan", rule="LOAN_EXISTS"
        )
    return loan


def _repayment_lines(customer_id: str, total: int, allocation: LoanAllocation) -> list[Line]:
    lines = [debit(CASH, total)]
    for receivable, income, amount in (
        (
            AccountCode.INTEREST_RECEIVABLE,
            AccountCode.INTEREST_INCOME,
            allocation.interest_billed_fen,
        ),
        (AccountCode.PENALTY_RECEIVABLE, AccountCode.PENALTY_INCOME, allocation.penalty_billed_fen),
    ):
        if amount:
            lines += [
                debit(_account(receivable), amount, customer_id),
                credit(_account(income), amount),
            ]
    for code, amount in (
        (AccountCode.PENALTY_RECEIVABLE, allocation.penalty_fen),
        (AccountCode.INTEREST_RECEIVABLE, allocation.interest_fen),
        (AccountCode.PRINCIPAL_RECEIVABLE, allocation.principal_fen),
    ):
        if amount:
            lines.append(credit(_account(code), amount, customer_id))
    if allocation.recovery_fen:
        lines.append(credit(_account(AccountCode.RECOVERY_INCOME), allocation.recovery_fen))
    return lines


@dataclass(slots=True)
class LoanDayWork(DayWork):
    billed: int = 0


def close_loan_day(
    uow: UnitOfWork,
    *,
    customer_id: str,
    ref: str,
    on: date,
    parameters: ParameterSet,
    work: LoanDayWork,
) -> None:
    """Inside the close of `on`: bill an installment due today and still unpaid, accrue
    penalty, write off at the write-off DPD, and set the next wake date."""
    limit = uow.limits.get(customer_id, for_update=True)
    loan = _loan(uow, customer_id, ref)
    values = parameters.values
    if loan.active:
        work.count_roll(before=loan.dpd(on - timedelta(days=1)), after=loan.dpd(on))
    billed = loan.close_day(on, penalty_multiplier=penalty_multiplier(uow))
    if billed:
        work.billed += 1
        post_entry(
            uow,
            key=f"eod:{on.isoformat()}:loan:{ref}:bill:{customer_id}",
            on=on,
            kind=EntryKind.BILLING,
            customer_id=customer_id,
            description=f"interest of loan {ref}",
            lines=[
                debit(_account(AccountCode.INTEREST_RECEIVABLE), billed, customer_id),
                credit(_account(AccountCode.INTEREST_INCOME), billed),
            ],
        )
    if loan.active and loan.dpd(on) >= values.write_off_dpd:
        if limit.level is not AlertLevel.FREEZE:
            limit = limit.with_level(AlertLevel.FREEZE)
        written = loan.write_off(on=on, dpd=values.write_off_dpd)
        work.write_offs += 1
        post_entry(
            uow,
            key=f"eod:{on.isoformat()}:loan:{ref}:write_off:{customer_id}",
            on=on,
            kind=EntryKind.WRITE_OFF,
            customer_id=customer_id,
            description=f"write-off of loan {ref}",
            lines=_write_off_lines(customer_id, written),
        )
        limit = limit.with_usage(L, limit.used_loan_fen - written.principal_fen)
        uow.limits.save(customer_id, limit)
    _save(uow, loan, parameters, on, closed_through=on)
    if any(i.due_date == on for i in loan.installments):
        work.rescored += rescore_if_due(uow, customer_id=customer_id, on=on, parameters=parameters)
    evaluate(uow, customer_id=customer_id, on=on, parameters=parameters)


def _write_off_lines(customer_id: str, written: LoanWriteOff) -> list[Line]:
    if not written.total_fen:
        return []
    lines = [debit(_account(AccountCode.WRITE_OFF_EXPENSE), written.total_fen)]
    for code, amount in (
        (AccountCode.PRINCIPAL_RECEIVABLE, written.principal_fen),
        (AccountCode.INTEREST_RECEIVABLE, written.interest_fen),
        (AccountCode.PENALTY_RECEIVABLE, written.penalty_fen),
    ):
        if amount:
            lines.append(credit(_account(code), amount, customer_id))
    return lines


def expected_balances(loans: list[Loan]) -> dict[str, int]:
    """What one customer's loan records say each loan account of the ledger holds."""
    return {
        _account(AccountCode.PRINCIPAL_RECEIVABLE).name: sum(
            loan.outstanding_principal_fen() for loan in loans
        ),
        _account(AccountCode.INTEREST_RECEIVABLE).name: sum(
            loan.interest_due_fen() for loan in loans
        ),
        _account(AccountCode.PENALTY_RECEIVABLE).name: sum(
            loan.penalty_due_fen() for loan in loans
        ),
    }
