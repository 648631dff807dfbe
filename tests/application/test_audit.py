"""The audit log as auditors page through it."""

from creditlink.application.ports import AuditRecord
from creditlink.application.queries import audit_page
from creditlink.bootstrap import Book
from tests.conftest import CLOCK


def test_the_audit_log_pages_newest_first_from_any_offset(book: Book) -> None:
    with book.store.unit_of_work() as uow:
        for n in range(7):
            uow.audit.record(
                AuditRecord(
                    at=CLOCK.now(),
                    actor="test",
                    action=f"step.{n}",
                    subject="s",
                    reason="r",
                    details={},
                )
            )
        uow.commit()
    with book.store.reader() as uow:
        every = [record.action for record in uow.audit.recent(limit=1_000)]
    assert every[:7] == [f"step.{n}" for n in reversed(range(7))]  # newest first
    for offset in (0, 1, 3, 6, len(every) - 1, len(every), len(every) + 5):
        for limit in (1, 2, 5):
            page = audit_page(book.store.reader(), offset=offset, limit=limit)
            assert [record.action for record in page] == every[offset : offset + limit]


def test_a_limit_change_is_audited_with_what_was_asked_and_what_it_did(book: Book) -> None:
    """An auditor must be able to tell what an operator asked for: the values asked, the
    values before, what fell at once and what rises later (DOMAIN.md §2)."""
    from creditlink.application.customers import change_limits
    from tests.conftest import DAY, add_customer

    add_customer(book.store, "c1", joint=2_000_000, cap_paylater=1_500_000)
    change_limits(
        book.store.unit_of_work(),
        customer_id="c1",
        on=DAY,
        actor="ops",
        reason="raise the line, lower the loan cap",
        clock=CLOCK,
        joint_limit_fen=2_500_000,
        cap_loan_fen=1_000_000,
    )
    with book.store.reader() as uow:
        [record] = uow.audit.recent(limit=1)
    assert record.action == "limit.change"
    assert record.details["asked"] == {"joint_limit": "25000.00", "cap_loan": "10000.00"}
    assert record.details["before"] == {
        "joint_limit": "20000.00",
        "cap_paylater": "15000.00",
        "cap_loan": "20000.00",
    }
    assert record.details["applied_now"] == {"cap_loan": "10000.00"}
    assert record.details["pending"] == {"joint_limit": "25000.00"}
    assert record.details["pending_from"] == "2026-01-12"


def test_the_audit_log_filters_by_action_family_actor_and_subject(book: Book) -> None:
    import pytest

    from creditlink.domain.errors import InvalidInput

    with book.store.unit_of_work() as uow:
        for action, actor, subject in [
            ("limit.change", "ops.a", "c1"),
            ("limit.temporary", "ops.b", "c1"),
            ("limit.change", "ops.a", "c2"),
            ("limitless.thing", "ops.a", "c1"),  # not of the family `limit`
            ("parameters.set", "risk.x", "version 2"),
            ("limit_change", "ops.a", "c1"),  # `_` is no wildcard
        ]:
            uow.audit.record(
                AuditRecord(
                    at=CLOCK.now(),
                    actor=actor,
                    action=action,
                    subject=subject,
                    reason="r",
                    details={},
                )
            )
        uow.commit()

    def found(**matching: str) -> list[tuple[str, str, str]]:
        page = audit_page(book.store.reader(), offset=0, limit=100, **matching)
        return [(record.action, record.actor, record.subject) for record in page]

    assert found(action="limit") == [
        ("limit.change", "ops.a", "c2"),
        ("limit.temporary", "ops.b", "c1"),
        ("limit.change", "ops.a", "c1"),
    ]
    assert found(action="limit.change", subject="c1") == [("limit.change", "ops.a", "c1")]
    assert found(actor="ops.a", subject="c1") == [
        ("limit_change", "ops.a", "c1"),
        ("limitless.thing", "ops.a", "c1"),
        ("limit.change", "ops.a", "c1"),
    ]
    assert found(action="limit_") == []
    page = audit_page(book.store.reader(), offset=1, limit=1, action="limit")
    assert [(r.action, r.subject) for r in page] == [("limit.temporary", "c1")]
    with pytest.raises(InvalidInput) as raised:
        audit_page(book.store.reader(), offset=0, limit=10, actor=" ")
    assert (raised.value.field, raised.value.rule) == ("actor", "AUDIT_FILTER_NOT_BLANK")
