"""Decisions for purchases, draws and conversions (DOMAIN.md §6): APPROVE, DECLINE or REVIEW
with every failed rule, in the rulebook's order.

A decision is judged on a `Context`: what was asked and what the store said at that moment
(the level, the availability under the limit formulas, what the customer owes, and the
purchases and draws approved earlier that date and hour). The context is stored with the
decision, so the same `decide()` judges it again under other parameters: the shadow
(champion/challenger) judgement beside every live one, and the back-test of a candidate set
over recorded decisions.

Hard rules decline: `CUSTOMER_FROZEN`, `LINKED_RESTRICTION`, `BLOCKED_CATEGORY`,
`BELOW_LOAN_MINIMUM`, `LIMIT_EXCEEDED`, then `APR_CAP_EXCEEDED`, `EXPOSURE_CAP_EXCEEDED` and
the product's own refusals. Velocity rules (count and amount per business date, and per 60
minutes when the operation carries a time) send an operation that passes every hard rule to
REVIEW: unusual, not forbidden. REVIEW posts nothing; the operation may be asked again after
a person has looked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from operator import attrgetter
from typing import Any

from creditlink.domain.limits import AlertLevel
from creditlink.domain.parameters import Parameters


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
VELOCITY_REASONS = (
    "VELOCITY_HOUR_COUNT",
    "VELOCITY_HOUR_AMOUNT",
    "VELOCITY_DAY_COUNT",
    "VELOCITY_DAY_AMOUNT",
)
PURCHASE, DRAW, CONVERSION = "purchase", "draw_loan", "convert_installments"
JUDGED = (PURCHASE, DRAW, CONVERSION)  # the operations decide() judges


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    reasons: tuple[str, ...]

    @property
    def approved(self) -> bool:
        return self.outcome is Outcome.APPROVE


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """What a decision is judged on (see the module docstring). Amounts in fen; `hour_*` is
    None when the operation carried no time."""

    op: str
    amount_fen: int = 0
    level: AlertLevel = AlertLevel.NONE
    written_off: bool = False
    within_limits_fen: int = 0
    category: str | None = None
    apr: Decimal | None = None
    refusal: str | None = None
    owed_fen: int = 0
    day_count: int = 0
    day_amount_fen: int = 0
    hour_count: int | None = None
    hour_amount_fen: int | None = None
    at: str | None = None  # the operation's time of day, HH:MM[:SS], when the caller gave one

    def to_dict(self) -> dict[str, Any]:
        """The fields in declaration order, those that are None left out; the level as its
        value and the APR as text. Every field is a plain value, so nothing needs copying."""
        out: dict[str, Any] = {
            name: value
            for name, value in zip(_CONTEXT_FIELDS, _context_values(self), strict=True)
            if value is not None
        }
        out["level"] = self.level.value
        if self.apr is not None:
            out["apr"] = str(self.apr)
        return out

    @classmethod
    def from_dict(cls, block: Mapping[str, Any]) -> Context:
        values = dict(block)
        values["level"] = AlertLevel(values.get("level", AlertLevel.NONE.value))
        if values.get("apr") is not None:
            values["apr"] = Decimal(values["apr"])
        return cls(**values)


_CONTEXT_FIELDS = tuple(Context.__dataclass_fields__)  # in declaration order
_context_values = attrgetter(*_CONTEXT_FIELDS)


def _verdict(reasons: list[str], soft: list[str]) -> Verdict:
    known = [r for r in REASON_ORDER if r in reasons]
    rest = [r for r in reasons if r not in REASON_ORDER]
    ordered = tuple(known + rest)
    if ordered:
        return Verdict(Outcome.DECLINE, ordered)
    if soft:
        return Verdict(Outcome.REVIEW, tuple(soft))
    return Verdict(Outcome.APPROVE, ())


def decide(context: Context, parameters: Parameters) -> Verdict:
    """Under FREEZE (or after write-off) the only reason is CUSTOMER_FROZEN. LIMIT_EXCEEDED is
    judged on the limit formulas before a restriction zeroes availability. Conversions are
    allowed under RESTRICT; their only other reason is the product's own refusal."""
    if context.written_off or context.level is AlertLevel.FREEZE:
        return _verdict(["CUSTOMER_FROZEN"], [])
    if context.op == CONVERSION:
        return _verdict([context.refusal] if context.refusal else [], [])
    reasons: list[str] = []
    restricted = context.level is AlertLevel.RESTRICT
    if context.op == PURCHASE:
        if restricted and context.category not in parameters.linkage_essential_categories:
            reasons.append("LINKED_RESTRICTION")
        if context.category in parameters.paylater_blocked_categories:
            reasons.append("BLOCKED_CATEGORY")
    else:
        if restricted:
            reasons.append("LINKED_RESTRICTION")
        if context.amount_fen < parameters.loan_min_amount:
            reasons.append("BELOW_LOAN_MINIMUM")
    if context.amount_fen > context.within_limits_fen:
        reasons.append("LIMIT_EXCEEDED")
    if context.apr is not None and context.apr > parameters.apr_cap:
        reasons.append("APR_CAP_EXCEEDED")
    cap = parameters.rules_exposure_cap
    if cap and context.owed_fen + context.amount_fen > cap:
        reasons.append("EXPOSURE_CAP_EXCEEDED")
    return _verdict(reasons, _velocity(context, parameters))


def _velocity(context: Context, parameters: Parameters) -> list[str]:
    """The velocity rules this operation would break, counting itself; a limit of 0 is off."""
    p, amount = parameters, context.amount_fen
    checks = (
        ("VELOCITY_HOUR_COUNT", context.hour_count, 1, p.rules_velocity_hour_count),
        ("VELOCITY_HOUR_AMOUNT", context.hour_amount_fen, amount, p.rules_velocity_hour_amount),
        ("VELOCITY_DAY_COUNT", context.day_count, 1, p.rules_velocity_day_count),
        ("VELOCITY_DAY_AMOUNT", context.day_amount_fen, amount, p.rules_velocity_day_amount),
    )
    return [
        reason
        for reason, earlier, this, most in checks
        if earlier is not None and most and earlier + this > most
    ]
