"""Cross-product linkage, the "dual warning" (DOMAIN.md §6): a risk seen in one product acts
on both, in the same transaction that sees it.

Levels, lowest first: WATCH (DPD ≥ linkage.watch_dpd in either product, or joint utilisation
above linkage.watch_utilisation), RESTRICT (DPD ≥ linkage.restrict_dpd, borrow-to-repay or
cash-out), FREEZE (DPD ≥ linkage.freeze_dpd, or fraud). A level only rises here; recovery
steps down one level at a time once every cause is cured and enough due items in a row were
paid on time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
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
