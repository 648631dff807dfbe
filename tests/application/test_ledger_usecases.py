"""Adjustments, reversals and `verify` through the use cases."""

from datetime import date

import pytest

from creditlink.application.errors import EntryNotFound
from creditlink.application.ledger import post_adjustment, reverse_entry, verify_ledger
from creditlink.bootstrap import Book
from creditlink.domain.errors import Conflict
from creditlink.domain.ledger import Account, AccountCode, credit, debit
from creditlink.domain.products import Product
from tests.conftest import DAY, add_customer, spend

CASH = Account(AccountCode.FUNDING_CASH)
PROVISION = Account(AccountCode.LOSS_PROVISION, Product.LOAN)
RECEIVABLE = Account(AccountCode.PRINCIPAL_RECEIVABLE, Product.LOAN)


def adjust(book: Book, key: str = "a1") -> int:
    entry = post_adjustment(
        book.store.unit_of_work(),
        lines=[debit(CASH, 10_000), credit(PROVISION, 10_000)],
        on=DAY,
        description="opening funding",
        idempotency_key=key,
    )
    return entry.entry_id


def test_an_adjustment_is_reversed_once(book: Book) -> None:
    entry_id = adjust(book)
    reversal = reverse_entry(
        book.store.unit_of_work(),
        entry_id=entry_id,
        on=date(2026, 1, 6),
        reason="posted to the wrong account",
        idempotency_key="rev-1",
    )
    assert reversal.draft.reverses_entry_id == entry_id
    replay = reverse_entry(
        book.store.unit_of_work(),
        entry_id=entry_id,
        on=date(2026, 1, 6),
        reason="posted to the wrong account",
        idempotency_key="rev-1",
    )
    assert replay.entry_id == reversal.entry_id
    with pytest.raises(Conflict) as raised:
        reverse_entry(
            book.store.unit_of_work(),
            entry_id=entry_id,
            on=date(2026, 1, 6),
            reason="again",
            idempotency_key="rev-2",
        )
    assert raised.value.rule == "REVERSED_ONCE"
    report = verify_ledger(book.store.reader())
    assert report.ok
    assert report.accounts == {"funding_cash": 0, "loan.loss_provision": 0}


def test_customer_accounts_move_only_through_product_operations(book: Book) -> None:
    add_customer(book.store, "c1")
    with pytest.raises(Conflict):
        post_adjustment(
            book.store.unit_of_work(),
            lines=[debit(RECEIVABLE, 1, "c1"), credit(CASH, 1)],
            on=DAY,
            description="x",
            idempotency_key="a1",
        )
    posted = spend(book.store, "c1", Product.LOAN, 50_000, "d1", on=DAY)
    assert posted is not None
    with pytest.raises(Conflict) as raised:
        reverse_entry(
            book.store.unit_of_work(),
            entry_id=posted,
            on=DAY,
            reason="x",
            idempotency_key="r1",
        )
    assert raised.value.rule == "REVERSE_ADJUSTMENTS_ONLY"
    with pytest.raises(EntryNotFound):
        reverse_entry(
            book.store.unit_of_work(), entry_id=99, on=DAY, reason="x", idempotency_key="r2"
        )
    assert verify_ledger(book.store.reader()).entries == 1


def test_an_empty_book_verifies(book: Book) -> None:
    report = verify_ledger(book.store.reader())
    assert report.ok
    assert report.entries == 0
