"""Deciding an operation: the context from the store, the live and shadow judgements, and
the decision record. Purchases, draws and conversions all decide through here."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date, time
from decimal import Decimal
from typing import Any

from creditlink.application.errors import IdempotencyKeyReused
from creditlink.application.ports import DecisionRecord, UnitOfWork
from creditlink.domain.errors import Conflict
from creditlink.domain.limits import JointLimit
from creditlink.domain.parameters import ParameterSet
from creditlink.domain.products import Product
from creditlink.risk.decisions import DRAW, PURCHASE, Context, Verdict, decide

HOUR_SECONDS = 3600
_CREDIT_OPS = (PURCHASE, DRAW)


def _seconds(text: str) -> int:
    parts = [int(p) for p in text.split(":")]
    return parts[0] * 3600 + parts[1] * 60 + (parts[2] if len(parts) > 2 else 0)


def context_for(
    uow: UnitOfWork,
    *,
    op: str,
    customer_id: str,
    on: date,
    limit: JointLimit,
    written_off: bool,
    amount_fen: int = 0,
    at: time | None = None,
    category: str | None = None,
    apr: Decimal | None = None,
    refusal: str | None = None,
) -> Context:
    """The context of an operation: the limit's state and, for purchases and draws, what the
    customer owes and the purchases and draws approved earlier on `on` (and in the 60
    minutes up to `at`), counted from the stored decisions."""
    product = Product.PAYLATER if op == PURCHASE else Product.LOAN
    day_count = day_amount = hour_count = hour_amount = 0
    clock = at.isoformat(timespec="seconds") if at is not None else None
    if op in _CREDIT_OPS:
        now = _seconds(clock) if clock is not None else None
        for earlier in uow.decisions.approved_contexts_on(customer_id, on, _CREDIT_OPS):
            amount = int(earlier.get("amount_fen", 0))
            day_count += 1
            day_amount += amount
            then = earlier.get("at")
            if now is not None and then is not None and 0 <= now - _seconds(then) < HOUR_SECONDS:
                hour_count += 1
                hour_amount += amount
    return Context(
        op=op,
        amount_fen=amount_fen,
        level=limit.level,
        written_off=written_off,
        within_limits_fen=limit.within_limits(product, on) if op in _CREDIT_OPS else 0,
        category=category,
        apr=apr,
        refusal=refusal,
        owed_fen=limit.used_paylater_fen + limit.used_loan_fen,
        day_count=day_count,
        day_amount_fen=day_amount,
        hour_count=hour_count if clock is not None else None,
        hour_amount_fen=hour_amount if clock is not None else None,
        at=clock,
    )


def judge(
    uow: UnitOfWork, context: Context, parameters: ParameterSet
) -> tuple[Verdict, dict[str, Any] | None]:
    """The live verdict, and the candidate set's would-be verdict when one runs in shadow
    (recorded, never applied)."""
    verdict = decide(context, parameters.values)
    candidate = uow.parameters.candidate()
    if candidate is None:
        return verdict, None
    would = decide(context, candidate.parameters.values)
    shadow = {
        "candidate": candidate.candidate_id,
        "outcome": would.outcome.value,
        "reasons": list(would.reasons),
    }
    return verdict, shadow


def request_digest(*, op: str, customer_id: str, ref: str, asked: Mapping[str, object]) -> str:
    """A digest of what an operation was asked to do: its kind, customer and ref, and the
    fields that say what (`asked`: amount, merchant, term...). Not its date or time of day: a
    retry after midnight, or with the date it left out written in, is the same request."""
    text = json.dumps(
        [op, customer_id, ref, sorted(asked.items())], default=str, separators=(",", ":")
    )
    return hashlib.sha256(text.encode()).hexdigest()


def replayed_decision(
    uow: UnitOfWork,
    key: str,
    *,
    op: str,
    ref: str,
    customer_id: str,
    asked: Mapping[str, object],
) -> tuple[str, DecisionRecord | None]:
    """The request's digest (`request_digest`, for `record_decision`), and the decision
    already made under `key` for this very request, or None when the key is new. The key
    used for anything else (another customer, operation, ref, amount...) is refused: a retry
    must not be answered with what was decided for another request."""
    request = request_digest(op=op, customer_id=customer_id, ref=ref, asked=asked)
    existing = uow.decisions.find_by_key(key)
    if existing is None:
        # A key used by another kind of entry is caught when this one is stored.
        return request, None
    if (existing.op, existing.ref, existing.customer_id) != (op, ref, customer_id) or (
        existing.request is not None and existing.request != request
    ):
        raise IdempotencyKeyReused(key)
    return request, existing


def record_decision(
    uow: UnitOfWork,
    *,
    on: date,
    customer_id: str,
    op: str,
    ref: str,
    verdict: Verdict,
    parameters: ParameterSet,
    key: str,
    request: str,
    posted: bool,
    context: Context,
    shadow: dict[str, Any] | None,
    model_version: str | None,
) -> DecisionRecord:
    """Store the decision with what it was judged on and what was asked (`request`, from
    `request_digest`). A declined operation posts nothing, so its key must not already name
    an entry of another kind."""
    if not posted and uow.ledger.find_by_key(key) is not None:
        raise IdempotencyKeyReused(key)
    record = DecisionRecord(
        on=on,
        customer_id=customer_id,
        op=op,
        ref=ref,
        outcome=verdict.outcome.value,
        reasons=verdict.reasons,
        parameter_version=parameters.version,
        model_version=model_version,
        idempotency_key=key,
        context=context.to_dict(),
        shadow=shadow,
        request=request,
    )
    try:
        uow.decisions.add(record)
    except Conflict as error:  # a concurrent request under the key was stored first
        if error.rule == "IDEMPOTENCY_KEY_UNIQUE":
            raise IdempotencyKeyReused(key) from None
        raise
    return record


def model_version_of(uow: UnitOfWork, customer_id: str) -> str | None:
    """The version of the model behind the customer's score, if scored."""
    customer = uow.customers.get(customer_id)
    return customer.score.model_version if customer.score else None
