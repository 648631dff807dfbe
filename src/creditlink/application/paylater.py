"""PayLater use cases: purchase, refund, repay, convert to installments, settle early.

Each is one unit of work: lock the customer (its limit row), replay a known idempotency key,
decide, change the account, post one balanced entry, keep the limit's usage equal to the
account's unpaid principal, and commit. The close of day uses `close_paylater_day`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, time, timedelta
from enum import StrEnum
from functools import cache

from creditlink.application.business_date import require_open
from creditlink.application.decisions import (
    context_for,
    judge,
    model_version_of,
    record_decision,
    replayed_decision,
)
from creditlink.application.errors import IdempotencyKeyReused
from creditlink.application.idempotency import post_entry
from creditlink.application.linkage import check_patterns, evaluate, purchases_since
from creditlink.application.parameters import current_parameters, revolving_daily_rate
from creditlink.application.ports import DecisionRecord, UnitOfWork
from creditlink.application.scoring import rescore_if_due
from creditlink.domain.delinquency import M1_START, M2_START, ROLL_THRESHOLDS, crossed
from creditlink.domain.errors import CreditlinkError, InvalidInput
from creditlink.domain.ledger import (
    Account,
    AccountCode,
    EntryKind,
    JournalEntry,
    Line,
    Side,
    credit,
    debit,
)
from creditlink.domain.limits import AlertLevel, JointLimit
from creditlink.domain.money import format_fen
from creditlink.domain.parameters import ParameterSet
from creditlink.domain.paylater.account import PayLaterAccount, Terms
from creditlink.domain.paylater.records import Allocation, Billing, Plan, WriteOff
from creditlink.domain.products import Product
from creditlink.risk.decisions import CONVERSION, PURCHASE

P = Product.PAYLATER
CASH = Account(AccountCode.FUNDING_CASH)


@cache  # accounts are immutable values; one per code
def _account(code: AccountCode) -> Account:
    return Account(code, P)


def terms_of(uow: UnitOfWork, parameters: ParameterSet) -> Terms:
    """What a PayLater operation needs of `parameters`, the version in force; the revolving
    rate with its changes by business day, for interest accrued across one."""
    values = parameters.values
    return Terms(
        revolving_daily_rate=revolving_daily_rate(uow),
        min_payment_rate=values.paylater_min_payment_rate,
        grace_days=values.paylater_grace_days,
        installment_fee_rates=dict(values.paylater_installment_fee_rates),
        apr_cap=values.apr_cap,
        write_off_dpd=values.write_off_dpd,
    )


@cache  # a handful of parameter sets in a book's life
def _wake_thresholds(*dpds: int) -> tuple[timedelta, ...]:
    """The DPDs whose crossing wakes an account, lowest first: the early-warning roll rates
    count these crossings (ROLL_THRESHOLDS), and linkage levels and write-off act on them."""
    return tuple(timedelta(days=days) for days in sorted({*ROLL_THRESHOLDS, *dpds}))


def next_wake_on(
    account: PayLaterAccount, *, closed_through: date, parameters: ParameterSet
) -> date | None:
    """The next date the close of day must look at this account: the eve of its next
    statement while it has anything to bill, and the days its delinquency crosses a
    threshold (the linkage levels and write-off)."""
    if account.written_off:
        return None
    candidates: list[date] = []
    busy = (
        account.cycle.activity
        or account.principal_outstanding_fen() > 0
        or account.billed_due_fen() > 0
        or account.credit_balance_fen > 0
        or (account.statements and account.statements[-1].new_balance_fen != 0)
    )
    if busy:
        candidates.append(
            account.next_statement_date(closed_through + timedelta(days=1)) - timedelta(days=1)
        )
    values = parameters.values
    thresholds = _wake_thresholds(
        values.linkage_watch_dpd,
        values.linkage_restrict_dpd,
        values.linkage_freeze_dpd,
        values.write_off_dpd,
    )
    for statement in account.statements:
        if statement.minimum_unmet_fen <= 0:
            continue
        for days in thresholds:
            day = statement.due_date + days
            if day > closed_through:
                candidates.append(day)
                break
    return min(candidates) if candidates else None


def _save(
    uow: UnitOfWork, account: PayLaterAccount, limit: JointLimit, parameters: ParameterSet, on: date
) -> JointLimit:
    """Keep the limit's PayLater usage equal to the account's unpaid principal."""
    limit = limit.with_usage(P, account.principal_outstanding_fen())
    uow.limits.save(account.customer_id, limit)
    uow.paylater.save(
        account,
        next_wake_on=next_wake_on(
            account, closed_through=on - timedelta(days=1), parameters=parameters
        ),
    )
    return limit


def _paid_lines(customer_id: str, allocation: Allocation) -> list[Line]:
    """The credit side of money coming in, in allocation order."""
    lines = []
    for code, amount in (
        (AccountCode.FEE_RECEIVABLE, allocation.fee_fen),
        (AccountCode.INTEREST_RECEIVABLE, allocation.interest_fen),
        (AccountCode.PRINCIPAL_RECEIVABLE, allocation.principal_fen),
        (AccountCode.CUSTOMER_CREDIT_BALANCE, allocation.credit_balance_fen),
    ):
        if amount:
            lines.append(credit(_account(code), amount, customer_id))
    if allocation.recovery_fen:
        lines.append(credit(_account(AccountCode.RECOVERY_INCOME), allocation.recovery_fen))
    return lines


# -- purchases ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionResult:
    decision: DecisionRecord
    entry: JournalEntry | None
    replayed: bool

    @property
    def approved(self) -> bool:
        return self.decision.outcome == "APPROVE"


def _replayed_entry(
    uow: UnitOfWork, key: str, customer_id: str, request: str
) -> JournalEntry | None:
    """The first result for a key already used by this very request (same customer, same
    request text); any other use of the key is refused."""
    existing = uow.ledger.find_by_key(key)
    if existing is None:
        if uow.decisions.find_by_key(key) is not None:
            raise IdempotencyKeyReused(key)
        return None
    if (existing.draft.customer_id, existing.draft.description) != (customer_id, request):
        raise IdempotencyKeyReused(key)
    return existing


def purchase(
    uow: UnitOfWork,
    *,
    customer_id: str,
    ref: str,
    amount_fen: int,
    merchant: str,
    category: str,
    on: date,
    idempotency_key: str,
    at: time | None = None,
) -> DecisionResult:
    """Decide a purchase and, when approved, post it at once. `at`, the time of day, lets
    the hourly velocity rules count it."""
    if amount_fen <= 0:
        raise InvalidInput("must be greater than 0.00", field="amount", rule="AMOUNT_POSITIVE")
    with uow:
        limit = uow.limits.get(customer_id, for_update=True).apply_due_increase(on=on)
        require_open(uow, on)
        request, replay = replayed_decision(
            uow,
            idempotency_key,
            op=PURCHASE,
            ref=ref,
            customer_id=customer_id,
            asked={"amount_fen": amount_fen, "merchant": merchant, "category": category},
        )
        if replay is not None:
            entry = uow.ledger.find_by_key(idempotency_key)
            return DecisionResult(decision=replay, entry=entry, replayed=True)
        parameters = current_parameters(uow)
        account = uow.paylater.get(
            customer_id, refs=(ref,), since=purchases_since("purchase", on, parameters)
        )
        context = context_for(
            uow,
            op=PURCHASE,
            customer_id=customer_id,
            on=on,
            limit=limit,
            written_off=account.written_off,
            amount_fen=amount_fen,
            at=at,
            category=category,
        )
        verdict, shadow = judge(uow, context, parameters)
        if verdict.approved:
            limit = limit.draw(P, amount_fen, on=on)
            account.purchase(
                ref=ref, amount_fen=amount_fen, merchant=merchant, category=category, on=on
            )
            limit = check_patterns(
                uow,
                customer_id=customer_id,
                limit=limit,
                account=account,
                on=on,
                parameters=parameters,
                trigger="purchase",
                merchant=None,
            )
            _save(uow, account, limit, parameters, on)
        record = record_decision(
            uow,
            on=on,
            customer_id=customer_id,
            op=PURCHASE,
            ref=ref,
            verdict=verdict,
            parameters=parameters,
            key=idempotency_key,
            request=request,
            posted=verdict.approved,
            context=context,
            shadow=shadow,
            model_version=model_version_of(uow, customer_id),
        )
        # Posted last: on PostgreSQL the entry takes the book-wide lock of the ledger's hash
        # chain, held until the commit, so nothing else should run after it.
        entry = None
        if verdict.approved:
            entry = post_entry(
                uow,
                key=idempotency_key,
                on=on,
                kind=EntryKind.PURCHASE,
                customer_id=customer_id,
                description=f"{merchant} ({category})",
                lines=[
                    debit(_account(AccountCode.PRINCIPAL_RECEIVABLE), amount_fen, customer_id),
                    credit(_account(AccountCode.MERCHANT_PAYABLE), amount_fen),
                ],
            )
        uow.commit()
    return DecisionResult(decision=record, entry=entry, replayed=False)


# -- refunds and repayments -------------------------------------------------------------


def refund(
    uow: UnitOfWork,
    *,
    customer_id: str,
    purchase_ref: str,
    amount_fen: int,
    on: date,
    idempotency_key: str,
) -> JournalEntry:
    """A merchant refund: Dr merchant payable / Cr what it pays (principal first)."""
    with uow:
        limit = uow.limits.get(customer_id, for_update=True).apply_due_increase(on=on)
        require_open(uow, on)
        parameters = current_parameters(uow)
        account = uow.paylater.get(
            customer_id,
            refs=(purchase_ref,),
            since=purchases_since("refund", on, parameters),
        )
        request = f"refund of {purchase_ref}: {format_fen(amount_fen)}"
        replay = _replayed_entry(uow, idempotency_key, customer_id, request)
        if replay is not None:
            return replay
        allocation = account.refund(
            purchase_ref=purchase_ref, amount_fen=amount_fen, on=on, terms=terms_of(uow, parameters)
        )
        entry = post_entry(
            uow,
            key=idempotency_key,
            on=on,
            kind=EntryKind.REFUND,
            customer_id=customer_id,
            description=request,
            lines=[
                debit(_account(AccountCode.MERCHANT_PAYABLE), amount_fen),
                *_paid_lines(customer_id, allocation),
            ],
        )
        assert entry is not None
        limit = check_patterns(
            uow,
            customer_id=customer_id,
            limit=limit,
            account=account,
            on=on,
            parameters=parameters,
            trigger="refund",
            merchant=account.purchases[purchase_ref].merchant,
        )
        _save(uow, account, limit, parameters, on)
        uow.commit()
    return entry


class Shortcut(StrEnum):
    MINIMUM = "minimum"
    DUE = "due"
    ALL = "all"


@dataclass(frozen=True, slots=True, kw_only=True)
class Repayment:
    amount_fen: int
    entry: JournalEntry | None


def repay(
    uow: UnitOfWork, *, customer_id: str, amount: int | Shortcut, on: date, idempotency_key: str
) -> Repayment:
    """A PayLater repayment of an amount, or of `minimum`, `due` or `all` (DOMAIN.md §5).
    A shortcut that comes to 0 does nothing."""
    with uow:
        limit = uow.limits.get(customer_id, for_update=True).apply_due_increase(on=on)
        require_open(uow, on)
        parameters = current_parameters(uow)
        terms = terms_of(uow, parameters)
        request = f"repayment: {amount if isinstance(amount, Shortcut) else format_fen(amount)}"
        replay = _replayed_entry(uow, idempotency_key, customer_id, request)
        if replay is not None:
            return Repayment(amount_fen=_cash_in(replay), entry=replay)
        account = uow.paylater.get(customer_id)
        lines: list[Line] = []
        if amount is Shortcut.ALL and not account.written_off:
            settled, interest, allocation, from_credit = account.pay_all(on=on, terms=terms)
            allocation.principal_fen += settled
            allocation.interest_fen += interest
            total = allocation.total_fen
            if interest:
                lines += [
                    debit(_account(AccountCode.INTEREST_RECEIVABLE), interest, customer_id),
                    credit(_account(AccountCode.INTEREST_INCOME), interest),
                ]
            lines += _credit_used_lines(customer_id, from_credit)
        else:
            total = _shortcut_amount(account, amount, on)
            if total <= 0:
                return Repayment(amount_fen=0, entry=None)
            allocation = account.repay(amount_fen=total, on=on, terms=terms)
        cash = [debit(CASH, total)] if total > 0 else []
        if not cash and not lines:
            return Repayment(amount_fen=0, entry=None)
        entry = post_entry(
            uow,
            key=idempotency_key,
            on=on,
            kind=EntryKind.RECOVERY if account.written_off else EntryKind.REPAYMENT,
            customer_id=customer_id,
            description=request,
            lines=[*cash, *lines, *_paid_lines(customer_id, allocation)],
        )
        limit = check_patterns(
            uow,
            customer_id=customer_id,
            limit=limit,
            account=account,
            on=on,
            parameters=parameters,
            trigger="repayment",
            merchant=None,
        )
        _save(uow, account, limit, parameters, on)
        uow.commit()
    return Repayment(amount_fen=total, entry=entry)


def _cash_in(entry: JournalEntry) -> int:
    """What a repayment's entry took in money (an `all` may also use a credit balance)."""
    return sum(
        line.amount_fen for line in entry.lines if line.account == CASH and line.side is Side.DEBIT
    )


def _shortcut_amount(account: PayLaterAccount, amount: int | Shortcut, on: date) -> int:
    if isinstance(amount, Shortcut):
        if account.written_off:
            return 0
        if amount is Shortcut.MINIMUM:
            return account.minimum_unmet_fen(on)
        return account.due_fen()
    if amount <= 0:
        raise InvalidInput("must be greater than 0.00", field="amount", rule="AMOUNT_POSITIVE")
    return amount


# -- installment plans ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversionResult:
    decision: DecisionRecord
    plan: Plan | None
    replayed: bool


def convert_to_installments(
    uow: UnitOfWork,
    *,
    customer_id: str,
    plan_ref: str,
    periods: int,
    on: date,
    idempotency_key: str,
    purchase_ref: str | None = None,
    statement_date: date | None = None,
) -> ConversionResult:
    """Convert a purchase not yet billed, or a statement's unpaid revolving principal, into an
    installment plan. The decision is recorded; a refused conversion changes nothing else."""
    if (purchase_ref is None) == (statement_date is None):
        raise InvalidInput(
            "name either a purchase or a statement", field="purchase", rule="CONVERSION_SOURCE"
        )
    with uow:
        limit = uow.limits.get(customer_id, for_update=True).apply_due_increase(on=on)
        require_open(uow, on)
        request, replay = replayed_decision(
            uow,
            idempotency_key,
            op=CONVERSION,
            ref=plan_ref,
            customer_id=customer_id,
            asked={
                "periods": periods,
                "purchase_ref": purchase_ref,
                "statement_date": statement_date,
            },
        )
        if replay is not None:
            account = uow.paylater.get(customer_id)
            return ConversionResult(
                decision=replay, plan=account.plans.get(plan_ref), replayed=True
            )
        parameters = current_parameters(uow)
        account = uow.paylater.get(
            customer_id, refs=() if purchase_ref is None else (purchase_ref,)
        )
        plan, refusal = None, None
        context = context_for(
            uow,
            op=CONVERSION,
            customer_id=customer_id,
            on=on,
            limit=limit,
            written_off=account.written_off,
        )
        verdict, shadow = judge(uow, context, parameters)
        if verdict.approved:
            try:
                terms = terms_of(uow, parameters)
                if purchase_ref is not None:
                    plan = account.convert_purchase(
                        purchase_ref=purchase_ref,
                        plan_ref=plan_ref,
                        periods=periods,
                        on=on,
                        terms=terms,
                    )
                else:
                    assert statement_date is not None
                    plan = account.convert_statement(
                        statement_date=statement_date,
                        plan_ref=plan_ref,
                        periods=periods,
                        on=on,
                        terms=terms,
                    )
            except CreditlinkError as error:
                if error.rule not in ("NOT_CONVERTIBLE", "APR_CAP_EXCEEDED"):
                    raise
                refusal = error.rule
                account = uow.paylater.get(customer_id)
                context = dataclasses.replace(context, refusal=refusal)
                verdict, shadow = judge(uow, context, parameters)
        if plan is not None:
            _save(uow, account, limit, parameters, on)
        record = record_decision(
            uow,
            on=on,
            customer_id=customer_id,
            op=CONVERSION,
            ref=plan_ref,
            verdict=verdict,
            parameters=parameters,
            key=idempotency_key,
            request=request,
            posted=False,
            context=context,
            shadow=shadow,
            model_version=model_version_of(uow, customer_id),
        )
        uow.commit()
    return ConversionResult(decision=record, plan=plan, replayed=False)


def settle_installments(
    uow: UnitOfWork, *, customer_id: str, plan_ref: str, on: date, idempotency_key: str
) -> JournalEntry | None:
    """Early settlement: the plan's unbilled principal is paid now; unbilled fees waived."""
    with uow:
        limit = uow.limits.get(customer_id, for_update=True).apply_due_increase(on=on)
        require_open(uow, on)
        request = f"early settlement of {plan_ref}"
        replay = _replayed_entry(uow, idempotency_key, customer_id, request)
        if replay is not None:
            return replay
        parameters = current_parameters(uow)
        account = uow.paylater.get(customer_id)
        paid = account.settle_plan(plan_ref=plan_ref, on=on)
        entry = post_entry(
            uow,
            key=idempotency_key,
            on=on,
            kind=EntryKind.REPAYMENT,
            customer_id=customer_id,
            description=request,
            lines=[
                debit(CASH, paid),
                credit(_account(AccountCode.PRINCIPAL_RECEIVABLE), paid, customer_id),
            ]
            if paid
            else [],
        )
        _save(uow, account, limit, parameters, on)
        uow.commit()
    return entry


# -- the close of day, one account -----------------------------------------------------


@dataclass(slots=True)
class DayWork:
    statements: int = 0
    write_offs: int = 0
    rescored: int = 0
    into_m1: int = 0  # accounts whose DPD reached 1 today
    into_m2: int = 0  # ... and 31

    def count_roll(self, *, before: int, after: int) -> None:
        self.into_m1 += crossed(M1_START, before=before, after=after)
        self.into_m2 += crossed(M2_START, before=before, after=after)


def close_paylater_day(
    uow: UnitOfWork, *, customer_id: str, on: date, parameters: ParameterSet, work: DayWork
) -> None:
    """Inside the close of `on`: produce tomorrow's statement if due, write off at the
    write-off DPD, and set the next wake date. Called within the caller's unit of work."""
    limit = uow.limits.get(customer_id, for_update=True)
    account = uow.paylater.get(customer_id)
    terms = terms_of(uow, parameters)
    if not account.written_off and account.statement_due_on_eod(on):
        statement_date = on + timedelta(days=1)
        billing = account.close_statement(statement_date=statement_date, terms=terms)
        if billing is not None:
            work.statements += 1
            post_entry(
                uow,
                key=f"eod:{on.isoformat()}:paylater:bill:{customer_id}",
                on=on,
                kind=EntryKind.BILLING,
                customer_id=customer_id,
                description=f"statement {statement_date.isoformat()}",
                lines=_billing_lines(customer_id, billing),
            )
    dpd = account.dpd(on)
    if not account.written_off:
        work.count_roll(before=account.dpd(on - timedelta(days=1)), after=dpd)
    if not account.written_off and dpd >= parameters.values.write_off_dpd:
        # A written-off customer is frozen (DOMAIN.md §6): limits cut to usage before the
        # write-off clears it, so that no limit is given back to a defaulted customer.
        if limit.level is not AlertLevel.FREEZE:
            limit = limit.with_level(AlertLevel.FREEZE)
        written = account.write_off(on=on, dpd=parameters.values.write_off_dpd)
        work.write_offs += 1
        post_entry(
            uow,
            key=f"eod:{on.isoformat()}:paylater:write_off:{customer_id}",
            on=on,
            kind=EntryKind.WRITE_OFF,
            customer_id=customer_id,
            lines=_write_off_lines(customer_id, written),
        )
    limit = limit.with_usage(P, account.principal_outstanding_fen())
    uow.limits.save(customer_id, limit)
    uow.paylater.save(
        account,
        closed_through=on,
        next_wake_on=next_wake_on(account, closed_through=on, parameters=parameters),
    )
    if account.statements and account.statements[-1].statement_date == on + timedelta(days=1):
        # About monthly per active customer, on the visit the statement brings anyway.
        loans = uow.loans.of_customer(customer_id, read_only=True)
        work.rescored += rescore_if_due(
            uow, customer_id=customer_id, on=on, parameters=parameters, account=account, loans=loans
        )
    else:
        loans = None
    # The dual warning: what this account's ageing means for both products, now.
    evaluate(
        uow, customer_id=customer_id, on=on, parameters=parameters, account=account, loans=loans
    )


def _billing_lines(customer_id: str, billing: Billing) -> list[Line]:
    lines = []
    if billing.interest_fen:
        lines += [
            debit(_account(AccountCode.INTEREST_RECEIVABLE), billing.interest_fen, customer_id),
            credit(_account(AccountCode.INTEREST_INCOME), billing.interest_fen),
        ]
    if billing.fee_fen:
        lines += [
            debit(_account(AccountCode.FEE_RECEIVABLE), billing.fee_fen, customer_id),
            credit(_account(AccountCode.FEE_INCOME), billing.fee_fen),
        ]
    return lines + _credit_used_lines(customer_id, billing.from_credit)


def _credit_used_lines(customer_id: str, used: Allocation) -> list[Line]:
    """A credit balance paying what is owed: from the customer's credit to receivables."""
    if not used.total_fen:
        return []
    return [
        debit(_account(AccountCode.CUSTOMER_CREDIT_BALANCE), used.total_fen, customer_id),
        *_paid_lines(customer_id, used),
    ]


def _write_off_lines(customer_id: str, written: WriteOff) -> list[Line]:
    lines = (
        [debit(_account(AccountCode.WRITE_OFF_EXPENSE), written.total_fen)]
        if written.total_fen
        else []
    )
    for code, amount in (
        (AccountCode.PRINCIPAL_RECEIVABLE, written.principal_fen),
        (AccountCode.INTEREST_RECEIVABLE, written.interest_fen),
        (AccountCode.FEE_RECEIVABLE, written.fee_fen),
    ):
        if amount:
            lines.append(credit(_account(code), amount, customer_id))
    return lines


def expected_balances(account: PayLaterAccount) -> dict[str, int]:
    """What the PayLater records say each customer account of the ledger should hold."""
    return {
        _account(AccountCode.PRINCIPAL_RECEIVABLE).name: account.principal_outstanding_fen(),
        _account(AccountCode.INTEREST_RECEIVABLE).name: account.interest_due_fen(),
        _account(AccountCode.FEE_RECEIVABLE).name: account.fee_due_fen(),
        _account(AccountCode.CUSTOMER_CREDIT_BALANCE).name: -account.credit_balance_fen,
    }
