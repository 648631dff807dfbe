"""Applying cross-product linkage to one customer, inside the caller's transaction.

The close of day calls this for every customer it touches (their products were visited, or
they operated that day), after the products' own work: a DPD or utilisation cause raises the
level at once, in the same transaction, with an alert record dated that business date (in
force from the next). A level only steps down through recovery.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from creditlink.application.ports import AlertRecord, UnitOfWork
from creditlink.domain.limits import AlertLevel, JointLimit
from creditlink.domain.loan.loan import Loan, LoanStatus
from creditlink.domain.parameters import ParameterSet
from creditlink.domain.paylater.account import PayLaterAccount
from creditlink.risk.linkage import (
    PRODUCTS,
    PurchaseFact,
    borrow_to_repay,
    dpd_causes,
    recovered,
    refund_pairs,
    round_burst,
    worst,
)

_STEP_DOWN = {
    AlertLevel.FREEZE: AlertLevel.RESTRICT,
    AlertLevel.RESTRICT: AlertLevel.WATCH,
    AlertLevel.WATCH: AlertLevel.NONE,
}


def raise_level(
    uow: UnitOfWork,
    *,
    customer_id: str,
    limit: JointLimit,
    level: AlertLevel,
    cause: str,
    evidence: str,
    on: date,
) -> JointLimit:
    """Raise the customer's level (never lower it) and record the alert."""
    if level.rank <= limit.level.rank:
        return limit
    limit = replace(limit.with_level(level), cured_on=None)
    uow.alerts.add(
        AlertRecord(
            on=on,
            customer_id=customer_id,
            kind="alert",
            level=level.value,
            cause=cause,
            products=PRODUCTS,
            evidence=evidence,
        )
    )
    return limit


def evaluate(
    uow: UnitOfWork,
    *,
    customer_id: str,
    on: date,
    parameters: ParameterSet,
    limit: JointLimit | None = None,
    account: PayLaterAccount | None = None,
    loans: list[Loan] | None = None,
) -> JointLimit:
    """Raise the level for today's DPD and utilisation, or step down one level after a cure
    and `linkage.recovery_cycles` on-time due items in a row. Saves the limit when it
    changes. In a close of day, items due that very day count once the day is closing."""
    limit = limit if limit is not None else uow.limits.get(customer_id, for_update=True)
    before = limit
    account = account if account is not None else uow.paylater.get(customer_id, read_only=True)
    loans = loans if loans is not None else uow.loans.of_customer(customer_id, read_only=True)
    values = parameters.values
    if account.written_off or any(loan.status is LoanStatus.WRITTEN_OFF for loan in loans):
        return limit  # frozen for good
    causes = dpd_causes(
        paylater_dpd=account.dpd(on),
        loan_dpd=max((loan.dpd(on) for loan in loans), default=0),
        utilisation=limit.joint_utilisation,
        parameters=values,
    )
    top = worst(causes)
    if top is not None and top.level.rank > limit.level.rank:
        limit = raise_level(
            uow,
            customer_id=customer_id,
            limit=limit,
            level=top.level,
            cause=top.cause,
            evidence=top.evidence,
            on=on,
        )
    elif limit.level is not AlertLevel.NONE:
        if causes:
            limit = replace(limit, cured_on=None)
        elif limit.cured_on is None:
            limit = replace(limit, cured_on=on)
        else:
            # An item due today counts on time once met; unmet, the closing day makes it late.
            items = [
                (s.due_date, s.days_late(on) if s.due_date < on else int(s.minimum_met_on is None))
                for s in account.statements
                if s.minimum_own_fen > 0 and s.due_date <= on
            ]
            items += [
                (i.due_date, i.days_late(on) if i.due_date < on else int(i.paid_on is None))
                for loan in loans
                for i in loan.installments
                if not i.cancelled and i.due_date <= on
            ]
            if recovered(
                due_items=items, cured_on=limit.cured_on, cycles=values.linkage_recovery_cycles
            ):
                lower = _STEP_DOWN[limit.level]
                uow.alerts.add(
                    AlertRecord(
                        on=on,
                        customer_id=customer_id,
                        kind="recovery",
                        level=lower.value,
                        cause="RECOVERY",
                        products=PRODUCTS,
                        evidence=f"cured since {limit.cured_on.isoformat()}, "
                        f"{values.linkage_recovery_cycles} due items paid on time",
                    )
                )
                # Each further step needs a fresh run: only items due after this step count.
                limit = replace(limit.with_level(lower), cured_on=on + timedelta(days=1))
    if limit is not before and limit != before:
        uow.limits.save(customer_id, limit)
    return limit


def customers_operating(uow: UnitOfWork, on: date, *, after: str, limit: int) -> list[str]:
    return uow.ledger.customers_posting_on(on, after=after, limit=limit)


def purchases_since(trigger: str, on: date, parameters: ParameterSet) -> date | None:
    """The earliest date of the purchases `check_patterns` reads for `trigger` (None: it
    reads none), for a use case to name when it loads the account."""
    if trigger == "purchase":
        return on
    if trigger == "refund":
        # A pair counts when the refund comes at most `window` days after its purchase: a
        # purchase `window` days before today's refund still counts.
        window = parameters.values.linkage_cashout_refund_window_days
        return on - timedelta(days=window)
    return None


def check_patterns(
    uow: UnitOfWork,
    *,
    customer_id: str,
    limit: JointLimit,
    account: PayLaterAccount,
    on: date,
    parameters: ParameterSet,
    trigger: str,
    merchant: str | None = None,
) -> JointLimit:
    """Pattern causes (DOMAIN.md §6), raised by the operation that completes the pattern, in
    its own transaction: a purchase can complete a round-amount burst, a refund a run of
    purchase-then-refund pairs (both cash-out), a PayLater repayment borrow-to-repay; each
    trigger checks only the pattern it can complete."""
    values = parameters.values

    def facts() -> list[PurchaseFact]:
        """The account's purchases the trigger's patterns look at (not its whole history)."""
        since = purchases_since(trigger, on, parameters)
        assert since is not None, trigger
        return [
            PurchaseFact(p.ref, p.on, p.amount_fen, p.merchant, p.refunded_on)
            for p in account.purchases.since(since)
        ]

    burst = trigger == "purchase" and round_burst(
        facts(),
        on=on,
        round_fen=values.linkage_cashout_round_amount,
        count=values.linkage_cashout_round_count,
    )
    if burst:
        limit = raise_level(
            uow,
            customer_id=customer_id,
            limit=limit,
            level=AlertLevel.RESTRICT,
            cause="CASH_OUT",
            evidence=f"round purchases on {on.isoformat()}: {', '.join(burst)}",
            on=on,
        )
    if trigger == "refund" and merchant is not None:
        pairs = refund_pairs(
            facts(),
            merchant=merchant,
            window_days=values.linkage_cashout_refund_window_days,
            pairs=values.linkage_cashout_refund_pairs,
        )
        if pairs:
            limit = raise_level(
                uow,
                customer_id=customer_id,
                limit=limit,
                level=AlertLevel.RESTRICT,
                cause="CASH_OUT",
                evidence=f"purchases refunded at {merchant}: {', '.join(pairs)}",
                on=on,
            )
    if trigger != "repayment":
        return limit
    window = values.linkage_borrow_to_repay_window_days + values.linkage_borrow_to_repay_days
    since = on - timedelta(days=window)
    draws = [
        (loan.drawn_on, loan.principal_fen)
        for loan in uow.loans.of_customer(customer_id, read_only=True)
        if loan.drawn_on >= since
    ]
    if draws:
        repayments = [
            (paid_on, amount)
            for paid_on, kind, amount, second in uow.ledger.money_events(customer_id, since=since)
            if kind == "repayment" and second.startswith("paylater.")
        ]
        found = borrow_to_repay(
            draws=draws,
            repayments=repayments,
            days=values.linkage_borrow_to_repay_days,
            share=values.linkage_borrow_to_repay_share,
            window_days=values.linkage_borrow_to_repay_window_days,
        )
        if found:
            limit = raise_level(
                uow,
                customer_id=customer_id,
                limit=limit,
                level=AlertLevel.RESTRICT,
                cause="BORROW_TO_REPAY",
                evidence="PayLater repaid from loans drawn on "
                + " and ".join(d.isoformat() for d in found),
                on=on,
            )
    return limit
