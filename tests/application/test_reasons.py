"""Every manual change to what is in force carries a reason for the audit log: one left
empty is refused before anything changes (REASON_REQUIRED)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from creditlink.application.apikeys import authenticate, create_api_key, revoke_api_key
from creditlink.application.customers import change_limits, grant_temporary_limit
from creditlink.bootstrap import Book
from creditlink.domain.errors import InvalidInput
from tests.conftest import CLOCK, DAY, add_customer


@pytest.mark.parametrize("reason", ["", "   "])
def test_limit_changes_and_key_revocations_need_a_reason(book: Book, reason: str) -> None:
    add_customer(book.store, "c1")
    key, principal = create_api_key(
        book.store.unit_of_work(),
        role="operator",
        customer_id=None,
        label="k",
        actor="t",
        clock=CLOCK,
    )
    with book.store.reader() as uow:
        limit_before, audit_before = uow.limits.get("c1"), uow.audit.recent(limit=1_000)
    changes: list[Callable[[], object]] = [
        lambda: change_limits(
            book.store.unit_of_work(),
            customer_id="c1",
            on=DAY,
            actor="ops",
            reason=reason,
            clock=CLOCK,
            joint_limit_fen=1_000_000,
        ),
        lambda: grant_temporary_limit(
            book.store.unit_of_work(),
            customer_id="c1",
            amount_fen=50_000,
            on=DAY,
            expires_on=DAY + timedelta(days=5),
            actor="ops",
            reason=reason,
            clock=CLOCK,
        ),
        lambda: revoke_api_key(
            book.store.unit_of_work(),
            key_id=principal.key_id,
            actor="ops",
            reason=reason,
            clock=CLOCK,
        ),
    ]
    for change in changes:
        with pytest.raises(InvalidInput) as refused:
            change()
        assert (refused.value.field, refused.value.rule) == ("reason", "REASON_REQUIRED")
    with book.store.reader() as uow:
        assert uow.limits.get("c1") == limit_before
        assert uow.audit.recent(limit=1_000) == audit_before
    assert authenticate(book.store.reader(), key) == principal
