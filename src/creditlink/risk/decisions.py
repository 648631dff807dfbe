"""Decisions for purchases and conversions (DOMAIN.md §6): APPROVE or DECLINE with every
failed rule, in the rulebook's order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from creditlink.domain.limits import AlertLevel, JointLimit
from creditlink.domain.parameters import Parameters
from creditlink.domain.products import Product


class Outcome(StrEnum):
    APPROVE = "APPROVE"
    DECLINE = "DECLINE"
    REVIEW = "REVIEW"


# The order in which failed rules are listed (DOMAIN.md §6).
REASON_ORDER = (
    "CUSTOMER_FROZEN",
    "LINKED_RESTRICTION",
    "BLOCKED_CATEGORY",
    "BELOW_LOAN_MINIMUM",
    "LIMIT_EXCEEDED",
)


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    reasons: tuple[str, ...]

    @property
    def approved(self) -> bool:
        return self.outcome is Outcome.APPROVE


def _verdict(reasons: list[str]) -> Verdict:
    known = [r for r in REASON_ORDER if r in reasons]
    rest = [r for r in reasons if r not in REASON_ORDER]
    ordered = tuple(known + rest)
    return Verdict(Outcome.DECLINE if ordered else Outcome.APPROVE, ordered)


def decide_purchase(
    *,
    limit: JointLimit,
    written_off: bool,
    category: str,
    amount_fen: int,
    on: date,
    parameters: Parameters,
) -> Verdict:
    """Under FREEZE (or after write-off) the only reason is CUSTOMER_FROZEN. LIMIT_EXCEEDED is
    judged on the limit formulas before a restriction zeroes availability."""
    if written_off or limit.level is AlertLevel.FREEZE:
        return _verdict(["CUSTOMER_FROZEN"])
    reasons = []
    if (
        limit.level is AlertLevel.RESTRICT
        and category not in parameters.linkage_essential_categories
    ):
        reasons.append("LINKED_RESTRICTION")
    if category in parameters.paylater_blocked_categories:
        reasons.append("BLOCKED_CATEGORY")
    if amount_fen > limit.within_limits(Product.PAYLATER, on):
        reasons.append("LIMIT_EXCEEDED")
    return _verdict(reasons)


def decide_conversion(*, limit: JointLimit, written_off: bool, refusal: str | None) -> Verdict:
    """Conversions are allowed under RESTRICT and refused under FREEZE; `refusal` is the
    product's own reason (NOT_CONVERTIBLE, APR_CAP_EXCEEDED), if any."""
    if written_off or limit.level is AlertLevel.FREEZE:
        return _verdict(["CUSTOMER_FROZEN"])
    return _verdict([refusal] if refusal else [])


def decide_draw(
    *,
    limit: JointLimit,
    written_off: bool,
    amount_fen: int,
    on: date,
    apr: Decimal,
    parameters: Parameters,
) -> Verdict:
    """A cash-loan draw: frozen, restricted, below the minimum, above the limit, above the
    APR cap, listed in that order."""
    if written_off or limit.level is AlertLevel.FREEZE:
        return _verdict(["CUSTOMER_FROZEN"])
    reasons = []
    if limit.level is AlertLevel.RESTRICT:
        reasons.append("LINKED_RESTRICTION")
    if amount_fen < parameters.loan_min_amount:
        reasons.append("BELOW_LOAN_MINIMUM")
    if amount_fen > limit.within_limits(Product.LOAN, on):
        reasons.append("LIMIT_EXCEEDED")
    if apr > parameters.apr_cap:
        reasons.append("APR_CAP_EXCEEDED")
    return _verdict(reasons)
