"""Cross-product linkage, the "dual warning" (DOMAIN.md §6): a risk seen in one product acts
on both, in the same transaction that sees it.

Levels, lowest first: WATCH (DPD ≥ linkage.watch_dpd in either product, or joint utilisation
above linkage.watch_utilisation), RESTRICT (DPD ≥ linkage.restrict_dpd, borrow-to-repay or
cash-out), FREEZE (DPD ≥ linkage.freeze_dpd, or fraud). A level only rises here; recovery
steps down one level at a time once every cause is cured and enough due items in a row were
paid on time.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from creditlink.domain.limits import AlertLevel
from creditlink.domain.parameters import Parameters

PRODUCTS = ("paylater", "loan")


@dataclass(frozen=True, slots=True)
class Cause:
    level: AlertLevel
    cause: str  # PAYLATER_DPD, LOAN_DPD, HIGH_UTILISATION, BORROW_TO_REPAY, CASH_OUT
    evidence: str


def dpd_causes(
    *, paylater_dpd: int, loan_dpd: int, utilisation: Decimal, parameters: Parameters
) -> list[Cause]:
    """What DPD and utilisation say today, most severe first."""
    causes = []
    for product, dpd in (("PAYLATER", paylater_dpd), ("LOAN", loan_dpd)):
        for threshold, level in (
            (parameters.linkage_freeze_dpd, AlertLevel.FREEZE),
            (parameters.linkage_restrict_dpd, AlertLevel.RESTRICT),
            (parameters.linkage_watch_dpd, AlertLevel.WATCH),
        ):
            if dpd >= threshold:
                causes.append(Cause(level, f"{product}_DPD", f"dpd {dpd} >= {threshold}"))
                break
    if utilisation > parameters.linkage_watch_utilisation:
        causes.append(
            Cause(
                AlertLevel.WATCH,
                "HIGH_UTILISATION",
                f"joint utilisation {utilisation:.4f} > {parameters.linkage_watch_utilisation}",
            )
        )
    if len(causes) < 2:
        return causes  # sorted already
    return sorted(causes, key=lambda c: -c.level.rank)


def worst(causes: Sequence[Cause]) -> Cause | None:
    return max(causes, key=lambda c: c.level.rank, default=None)


def recovered(*, due_items: Sequence[tuple[date, int]], cured_on: date, cycles: int) -> bool:
    """`cycles` statements or installments in a row, due on or after the cure, paid on time
    (days late 0); a late one restarts the count."""
    streak = 0
    for due, late in sorted(due_items):
        if due < cured_on:
            continue
        streak = streak + 1 if late == 0 else 0
        if streak >= cycles:
            return True
    return False


def borrow_to_repay(
    *,
    draws: Sequence[tuple[date, int]],
    repayments: Sequence[tuple[date, int]],
    days: int,
    share: Decimal,
    window_days: int,
) -> list[date] | None:
    """Draw dates of two borrow-to-repay pairs at most `window_days` apart, or None.

    A pair is a PayLater repayment of at least `share` of a loan draw, on the draw's date or
    within the next `days` dates; each draw and each repayment is in at most one pair. So
    two draws make two pairs when each has a repayment that fits it and, between them, they
    have two different ones: whichever way the repayments are handed out, not only the
    first that fits each draw in turn."""
    ordered = sorted(draws)
    fits = [
        {
            index
            for index, (paid_on, paid) in enumerate(repayments)
            if drawn_on <= paid_on <= drawn_on + timedelta(days=days) and paid >= share * amount
        }
        for drawn_on, amount in ordered
    ]
    for first, second in itertools.combinations(range(len(ordered)), 2):
        if (ordered[second][0] - ordered[first][0]).days > window_days:
            continue
        if fits[first] and fits[second] and len(fits[first] | fits[second]) >= 2:
            return [ordered[first][0], ordered[second][0]]
    return None


@dataclass(frozen=True, slots=True)
class PurchaseFact:
    ref: str
    on: date
    amount_fen: int
    merchant: str
    refunded_on: date | None = None


def round_burst(
    purchases: Sequence[PurchaseFact], *, on: date, round_fen: int, count: int
) -> list[str] | None:
    """At least `count` approved purchases on `on` that are whole multiples of `round_fen`."""
    refs = [p.ref for p in purchases if p.on == on and p.amount_fen % round_fen == 0]
    return refs if len(refs) >= count else None


def refund_pairs(
    purchases: Sequence[PurchaseFact], *, merchant: str, window_days: int, pairs: int
) -> list[str] | None:
    """At least `pairs` purchases at one merchant refunded within `window_days` of purchase."""
    refs = [
        p.ref
        for p in purchases
        if p.merchant == merchant
        and p.refunded_on is not None
        and (p.refunded_on - p.on).days <= window_days
    ]
    return refs if len(refs) >= pairs else None
