"""Behaviour features of one customer from the records of BOTH products (DOMAIN.md §6).

One score is fed by both products: paying PayLater on time improves the score that prices the
loan, and the other way round. Every feature is computed from the product records as of a
business date; none reads a clock. Windows are calendar months back from that date.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from creditlink.domain.calendar import add_months
from creditlink.domain.limits import JointLimit
from creditlink.domain.loan.loan import Loan
from creditlink.domain.paylater.account import PayLaterAccount

WINDOWS_MONTHS = (3, 6, 12)


@dataclass(frozen=True, slots=True)
class MoneyEvent:
    """A dated movement the product records summarise: a PayLater repayment or a draw."""

    on: date
    kind: str  # "paylater_repayment" or "loan_draw"
    amount_fen: int


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 6) if whole > 0 else 0.0


def _due_items(
    paylater: PayLaterAccount, loans: Sequence[Loan], on: date
) -> list[tuple[date, str, int]]:
    """(due date, product, days late) of every minimum and installment due by `on`."""
    items = [
        (s.due_date, "paylater", s.days_late(on))
        for s in paylater.statements
        if s.minimum_own_fen > 0 and s.due_date <= on
    ]
    for loan in loans:
        items += [
            (i.due_date, "loan", i.days_late(on))
            for i in loan.installments
            if not i.cancelled and i.due_date <= on
        ]
    return sorted(items)


def borrow_to_repay_count(
    events: Iterable[MoneyEvent], *, days: int = 2, share: float = 0.5
) -> int:
    """PayLater repayments of at least `share` of a draw on its date or the next `days`
    dates; each draw and each repayment counts in at most one pair."""
    ordered = sorted(events, key=lambda e: (e.on, e.kind))
    draws = [e for e in ordered if e.kind == "loan_draw"]
    repayments = [e for e in ordered if e.kind == "paylater_repayment"]
    used: set[int] = set()
    pairs = 0
    for draw in draws:
        for index, repayment in enumerate(repayments):
            if index in used:
                continue
            if (
                draw.on <= repayment.on <= draw.on + timedelta(days=days)
                and repayment.amount_fen >= share * draw.amount_fen
            ):
                used.add(index)
                pairs += 1
                break
    return pairs


def behaviour_features(
    *,
    limit: JointLimit,
    paylater: PayLaterAccount,
    loans: Sequence[Loan],
    events: Sequence[MoneyEvent],
    onboarded_on: date,
    on: date,
) -> dict[str, float]:
    """The feature vector the behaviour scorecard reads."""
    features: dict[str, float] = {
        "utilisation_joint": _ratio(limit.used_fen, limit.joint_limit_fen),
        "utilisation_paylater": _ratio(limit.used_paylater_fen, limit.cap_paylater_fen),
        "utilisation_loan": _ratio(limit.used_loan_fen, limit.cap_loan_fen),
        "tenure_months": float(
            max(0, (on.year - onboarded_on.year) * 12 + on.month - onboarded_on.month)
        ),
    }
    items = _due_items(paylater, loans, on)
    for months in WINDOWS_MONTHS:
        since = add_months(on, -months)
        for product in ("paylater", "loan"):
            days_late = [d for due, p, d in items if p == product and due > since]
            features[f"max_dpd_{product}_{months}m"] = float(max(days_late, default=0))
    streak = 0
    for _, _, late in reversed(items):
        if late > 0:
            break
        streak += 1
    features["on_time_streak"] = float(streak)
    features["due_items"] = float(len(items))
    three_months_ago = add_months(on, -3)
    recent = [s for s in paylater.statements if s.statement_date > three_months_ago]
    features["paylater_payment_ratio_3m"] = _ratio(
        sum(s.payments_fen for s in recent), sum(max(0, s.previous_balance_fen) for s in recent)
    )
    year_ago = add_months(on, -12)
    features["installment_plans_12m"] = float(
        sum(1 for plan in paylater.plans.values() if plan.created_on > year_ago)
    )
    refunds = 0
    # A purchase after `year_ago` refunded means a refund after it: without one, no purchase
    # of the year needs reading.
    if paylater.refunded_on is not None and paylater.refunded_on > year_ago:
        refunds = sum(
            1
            for purchase in paylater.purchases.since(year_ago + timedelta(days=1))
            if purchase.refunded_fen
        )
    features["refunds_12m"] = float(refunds)
    six_months_ago = add_months(on, -6)
    features["draws_6m"] = float(sum(1 for loan in loans if loan.drawn_on > six_months_ago))
    features["borrow_to_repay_12m"] = float(
        borrow_to_repay_count(e for e in events if e.on > year_ago)
    )
    return features
