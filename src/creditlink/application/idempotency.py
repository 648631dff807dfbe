"""Idempotency keys make retries harmless: a replay returns the first result."""

from __future__ import annotations

from datetime import date

from creditlink.application.errors import IdempotencyKeyReused
from creditlink.application.ports import UnitOfWork
from creditlink.domain.errors import Conflict
from creditlink.domain.ledger import EntryDraft, EntryKind, JournalEntry, Line


def first_result(uow: UnitOfWork, draft: EntryDraft) -> JournalEntry | None:
    """The entry already posted under the draft's key, or None if the key is new.

    The same key with a different request is refused, and nothing is posted.
    """
    existing = uow.ledger.find_by_key(draft.idempotency_key)
    if existing is None:
        return None
    if existing.draft.content() != draft.content():
        raise IdempotencyKeyReused(draft.idempotency_key)
    return existing


def post_entry(
    uow: UnitOfWork,
    *,
    key: str,
    on: date,
    kind: EntryKind,
    customer_id: str,
    lines: list[Line],
    description: str = "",
) -> JournalEntry | None:
    """Post one balanced entry under `key`, or nothing when there are no lines. A key already
    taken by another entry is refused as reused, and the unit of work rolls back."""
    if not lines:
        return None
    try:
        return uow.ledger.append(
            EntryDraft(
                idempotency_key=key,
                business_date=on,
                kind=kind,
                customer_id=customer_id,
                lines=tuple(lines),
                description=description,
            )
        )
    except Conflict as error:
        if error.rule == "IDEMPOTENCY_KEY_UNIQUE":
            raise IdempotencyKeyReused(key) from None
        raise
