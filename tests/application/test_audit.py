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
