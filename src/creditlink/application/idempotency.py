"""Idempotency keys make retries harmless: a replay returns the first result."""

from __future__ import annotations

from creditlink.application.errors import IdempotencyKeyReused
from creditlink.application.ports import UnitOfWork
from creditlink.domain.ledger import EntryDraft, JournalEntry


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
