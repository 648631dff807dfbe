"""The HTTP service's records on every store: alert status, API keys, kept responses."""

from __future__ import annotations

import dataclasses

from creditlink.adapters.memory import MemoryStore
from creditlink.application.ports import AlertRecord, ApiKeyRecord, StoredResponse
from creditlink.bootstrap import Book
from tests.conftest import CLOCK, DAY


def _alert(customer_id: str) -> AlertRecord:
    return AlertRecord(
        on=DAY,
        customer_id=customer_id,
        kind="alert",
        level="WATCH",
        cause="UTILISATION",
        products=("paylater",),
        evidence="92% used",
    )


def test_a_status_change_left_uncommitted_is_undone(book: Book) -> None:
    with book.store.unit_of_work() as uow:
        stored = [uow.alerts.add(_alert(c)) for c in ("c1", "c2", "c1")]
        uow.commit()
    moved = dataclasses.replace(
        stored[2], status="escalated", status_by="ops", status_at=CLOCK.now(), status_note="why"
    )
    with book.store.unit_of_work() as uow:
        uow.alerts.save(moved)
        assert uow.alerts.get(moved.alert_id) == moved
        assert uow.alerts.list(customer_id="c1") == [stored[0], moved]
    with book.store.reader() as uow:
        assert uow.alerts.list() == stored
        assert uow.alerts.count(status="escalated") == 0
    with book.store.unit_of_work() as uow:
        uow.alerts.save(moved)
        uow.commit()
    with book.store.reader() as uow:
        assert uow.alerts.list() == [stored[0], stored[1], moved]
        assert uow.alerts.page(status="escalated", offset=0, limit=10) == [moved]
        assert uow.alerts.count(customer_id="c1", kind="alert") == 2
    if isinstance(book.store, MemoryStore):  # the index stays what a scan would give
        state = book.store.state
        for customer_id, listed in state.alerts_by_customer.items():
            assert listed == [a for a in state.alerts if a.customer_id == customer_id]


def test_the_tally_counts_alerts_by_kind_status_and_level(book: Book) -> None:
    shapes = [
        ("alert", "WATCH", "open"),
        ("alert", "WATCH", "open"),
        ("alert", "RESTRICT", "escalated"),
        ("alert", "FREEZE", "acknowledged"),
        ("recovery", "WATCH", "open"),
        ("alert", "RESTRICT", "open"),
    ]
    with book.store.unit_of_work() as uow:
        assert uow.alerts.tally() == {}
        for number, (kind, level, status) in enumerate(shapes):
            stored = uow.alerts.add(
                dataclasses.replace(_alert(f"c{number % 2}"), kind=kind, level=level)
            )
            uow.alerts.save(dataclasses.replace(stored, status=status))
        uow.commit()
    with book.store.reader() as uow:
        assert uow.alerts.tally() == {
            ("alert", "open", "WATCH"): 2,
            ("alert", "escalated", "RESTRICT"): 1,
            ("alert", "acknowledged", "FREEZE"): 1,
            ("recovery", "open", "WATCH"): 1,
            ("alert", "open", "RESTRICT"): 1,
        }


def test_a_response_is_kept_once_per_key(book: Book) -> None:
    first = StoredResponse(
        idempotency_key="k1",
        fingerprint="a" * 64,
        request="POST /x",
        status_code=201,
        body='{"ok": true}',
        created_at=CLOCK.now(),
    )
    with book.store.unit_of_work() as uow:
        assert uow.responses.add(first) is True
        uow.commit()
    with book.store.unit_of_work() as uow:
        assert uow.responses.add(dataclasses.replace(first, fingerprint="b" * 64)) is False
        uow.commit()
    with book.store.reader() as uow:
        assert uow.responses.find("k1") == first
        assert uow.responses.find("k2") is None


def test_api_keys_are_found_by_digest_and_an_uncommitted_revoke_is_undone(book: Book) -> None:
    record = ApiKeyRecord(
        key_id=0,
        digest="d" * 64,
        role="operator",
        customer_id=None,
        label="ops",
        created_at=CLOCK.now(),
        created_by="admin",
    )
    with book.store.unit_of_work() as uow:
        stored = uow.api_keys.add(record)
        uow.commit()
    assert stored == dataclasses.replace(record, key_id=stored.key_id)
    with book.store.unit_of_work() as uow:
        uow.api_keys.revoke(stored.key_id, at=CLOCK.now())
        assert uow.api_keys.get(stored.key_id).revoked_at == CLOCK.now()  # type: ignore[union-attr]
    with book.store.reader() as uow:
        assert uow.api_keys.find_by_digest("d" * 64) == stored
        assert uow.api_keys.find_by_digest("e" * 64) is None
        assert uow.api_keys.list() == [stored]
