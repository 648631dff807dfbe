"""API keys: made once, stored as a digest, checked, revoked; roles and customers validated."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from creditlink.application.apikeys import (
    ROLES,
    ApiKeyNotFound,
    Principal,
    authenticate,
    create_api_key,
    end_session,
    list_api_keys,
    revoke_api_key,
)
from creditlink.application.errors import CustomerNotFound
from creditlink.bootstrap import Book
from creditlink.domain.errors import Conflict, InvalidInput
from tests.conftest import CLOCK, add_customer


def _create(book: Book, role: str, customer_id: str | None = None) -> tuple[str, Principal]:
    return create_api_key(
        book.store.unit_of_work(),
        role=role,
        customer_id=customer_id,
        label="  night   shift ",
        actor="admin",
        clock=CLOCK,
    )


def test_a_key_is_shown_once_and_only_its_digest_is_kept(book: Book) -> None:
    key, principal = _create(book, "operator")
    assert key.startswith("cl_")
    assert len(key) >= 40
    assert principal == Principal(key_id=principal.key_id, role="operator", customer_id=None)
    [stored] = list_api_keys(book.store.reader())
    assert stored.digest == hashlib.sha256(key.encode()).hexdigest()
    assert key not in repr(stored)
    assert stored.label == "night shift"
    assert (stored.created_by, stored.created_at, stored.revoked_at) == ("admin", CLOCK.now(), None)
    with book.store.reader() as uow:
        [audit] = uow.audit.recent(limit=1)
    assert (audit.action, audit.subject) == ("apikey.create", f"apikey:{principal.key_id}")
    assert key not in repr(audit)


def test_each_key_is_different(book: Book) -> None:
    keys = {_create(book, "auditor")[0] for _ in range(5)}
    assert len(keys) == 5
    assert len({p.key_id for p in (authenticate(book.store.reader(), k) for k in keys) if p}) == 5


def test_a_key_authenticates_as_its_principal_and_nothing_else_does(book: Book) -> None:
    add_customer(book.store, "c1", sequence=1)
    key, principal = _create(book, "customer", "c1")
    assert authenticate(book.store.reader(), key) == principal
    assert principal.customer_id == "c1"
    for wrong in (key[:-1], key + "a", "", "cl_", key.removeprefix("cl_"), "x" * 500):
        assert authenticate(book.store.reader(), wrong) is None


def test_a_revoked_key_no_longer_authenticates(book: Book) -> None:
    key, principal = _create(book, "risk_admin")
    revoked = revoke_api_key(
        book.store.unit_of_work(),
        key_id=principal.key_id,
        actor="admin",
        reason="laptop lost",
        clock=CLOCK,
    )
    assert revoked.revoked_at == CLOCK.now()
    assert authenticate(book.store.reader(), key) is None
    with pytest.raises(Conflict) as again:
        revoke_api_key(
            book.store.unit_of_work(),
            key_id=principal.key_id,
            actor="admin",
            reason="twice",
            clock=CLOCK,
        )
    assert again.value.rule == "API_KEY_ACTIVE"
    with pytest.raises(ApiKeyNotFound):
        revoke_api_key(
            book.store.unit_of_work(), key_id=999, actor="admin", reason="?", clock=CLOCK
        )


@pytest.mark.parametrize(
    ("role", "customer_id", "field", "rule"),
    [
        ("admin", None, "role", "ROLE_KNOWN"),
        ("customer", None, "customer_id", "CUSTOMER_KEY_NAMES_CUSTOMER"),
        ("operator", "c1", "customer_id", "ONLY_CUSTOMER_KEYS_NAME_CUSTOMER"),
    ],
)
def test_a_key_with_a_bad_role_or_customer_is_refused_and_nothing_is_kept(
    book: Book, role: str, customer_id: str | None, field: str, rule: str
) -> None:
    add_customer(book.store, "c1", sequence=1)
    with pytest.raises(InvalidInput) as refused:
        _create(book, role, customer_id)
    assert (refused.value.field, refused.value.rule) == (field, rule)
    assert list_api_keys(book.store.reader()) == []


def test_a_customer_key_names_an_existing_customer(book: Book) -> None:
    with pytest.raises(CustomerNotFound):
        _create(book, "customer", "nobody")
    assert list_api_keys(book.store.reader()) == []


def test_every_role_can_have_a_key(book: Book) -> None:
    add_customer(book.store, "c1", sequence=1)
    for role in ROLES:
        key, principal = _create(book, role, "c1" if role == "customer" else None)
        assert authenticate(book.store.reader(), key) == principal
    assert [stored.role for stored in list_api_keys(book.store.reader())] == list(ROLES)


def test_an_overlong_label_is_refused(book: Book) -> None:
    with pytest.raises(InvalidInput) as refused:
        create_api_key(
            book.store.unit_of_work(),
            role="operator",
            customer_id=None,
            label="x" * 101,
            actor="admin",
            clock=CLOCK,
        )
    assert refused.value.rule == "LABEL_LENGTH"


def test_ended_sessions_are_forgotten_once_they_would_have_expired(book: Book) -> None:
    _create(book, "operator")
    now = datetime(2026, 1, 5, 9, tzinfo=UTC)
    for digest, hours in (("a" * 64, 1), ("b" * 64, 3)):
        end_session(
            book.store.unit_of_work(),
            session_digest=digest,
            key_id=1,
            expires_at=now + timedelta(hours=hours),
            at=now,
        )
    end_session(  # signed out twice (two tabs): no error
        book.store.unit_of_work(),
        session_digest="b" * 64,
        key_id=1,
        expires_at=now + timedelta(hours=3),
        at=now,
    )
    with book.store.reader() as uow:
        assert uow.api_keys.session_ended("a" * 64)
        assert uow.api_keys.session_ended("b" * 64)
    end_session(
        book.store.unit_of_work(),
        session_digest="c" * 64,
        key_id=1,
        expires_at=now + timedelta(hours=5),
        at=now + timedelta(hours=2),
    )
    with book.store.reader() as uow:
        assert not uow.api_keys.session_ended("a" * 64)  # expired at 10:00: forgotten
        assert uow.api_keys.session_ended("b" * 64)
        assert uow.api_keys.session_ended("c" * 64)
