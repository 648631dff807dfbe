"""An account's history: it keeps every purchase, but an operation's cost must not grow with
it. A statement drops the lines it billed that are paid; the SQL stores keep purchases as
rows and read only those an operation names or the days it looks at."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from creditlink.adapters.sql import store as sql_store
from creditlink.adapters.sql.purchases import StoredPurchases
from creditlink.adapters.sql.schema import MIGRATIONS, SCHEMA_HEAD
from creditlink.application import paylater
from creditlink.application.close_of_day import close_day
from creditlink.application.ledger import verify_ledger
from creditlink.application.parameters import current_parameters
from creditlink.application.portfolio import Partition, ecl_partition
from creditlink.application.queries import customer_state
from creditlink.bootstrap import Book, open_book
from creditlink.domain.errors import Conflict
from creditlink.domain.ledger import AccountCode, JournalEntry, Side
from creditlink.domain.paylater.records import Purchase
from creditlink.risk.features import behaviour_features
from tests.conftest import CLOCK, add_customer

FIRST = date(2026, 1, 2)
BOUGHT = 20  # two a day from FIRST, amounts 100.50 + n fen


def amount(n: int) -> int:
    return 10_050 + n


def buy(book: Book, ref: str, fen: int, on: date, key: str | None = None) -> None:
    result = paylater.purchase(
        book.store.unit_of_work(),
        customer_id="c1",
        ref=ref,
        amount_fen=fen,
        merchant=f"shop{ref}",
        category="retail",
        on=on,
        idempotency_key=key or f"k-{ref}",
    )
    assert result.approved, result.decision.reasons


def refund(book: Book, ref: str, fen: int, on: date) -> JournalEntry:
    return paylater.refund(
        book.store.unit_of_work(),
        customer_id="c1",
        purchase_ref=ref,
        amount_fen=fen,
        on=on,
        idempotency_key=f"refund-{ref}",
    )


def close_through(book: Book, first: date, last: date) -> None:
    day = first
    while day <= last:
        close_day(book.store, on=day, clock=CLOCK)
        day += timedelta(days=1)


def statement_on_or_after(day: date, statement_day: int) -> date:
    while day.day != statement_day:
        day += timedelta(days=1)
    return day


def history(book: Book) -> date:
    """c1 buys BOUGHT purchases, is billed for them, pays the statement in full, and is
    billed again a month later; the first open date after that."""
    add_customer(book.store, "c1")
    with book.store.reader() as uow:
        statement_day = uow.paylater.get("c1").statement_day
    day = FIRST  # each day is closed after its purchases
    for n in range(BOUGHT):
        on = FIRST + timedelta(days=n // 2)
        if on > day:
            close_through(book, day, on - timedelta(days=1))
            day = on
        buy(book, f"p{n}", amount(n), on)
    first_statement = statement_on_or_after(FIRST + timedelta(days=BOUGHT // 2), statement_day)
    close_through(book, day, first_statement)
    paid = paylater.repay(
        book.store.unit_of_work(),
        customer_id="c1",
        amount=paylater.Shortcut.ALL,
        on=first_statement + timedelta(days=1),
        idempotency_key="pay-all",
    )
    assert paid.amount_fen == sum(amount(n) for n in range(BOUGHT))
    second_statement = statement_on_or_after(first_statement + timedelta(days=1), statement_day)
    close_through(book, first_statement + timedelta(days=1), second_statement)
    return second_statement + timedelta(days=1)


def test_a_statement_drops_the_lines_it_billed_once_they_are_paid(book: Book) -> None:
    today = history(book)
    with book.store.reader() as uow:
        account = uow.paylater.get("c1")
        assert len(account.purchases) == BOUGHT  # the purchases themselves are all kept
    assert account.lines == []
    assert account.principal_outstanding_fen() == 0
    # A purchase after the statements has its line until it is billed and paid.
    buy(book, "new", 5_000, today)
    with book.store.reader() as uow:
        assert [line.ref for line in uow.paylater.get("c1").lines] == ["new"]


def test_an_old_purchase_is_still_refunded_and_its_ref_never_reused(book: Book) -> None:
    today = history(book)
    # p3 was billed and paid in full, and its line dropped: the refund is owed to the
    # customer, as a credit balance, and counts for nothing else.
    entry = refund(book, "p3", 4_000, today)
    assert {(line.account.code, line.side, line.amount_fen) for line in entry.lines} == {
        (AccountCode.MERCHANT_PAYABLE, Side.DEBIT, 4_000),
        (AccountCode.CUSTOMER_CREDIT_BALANCE, Side.CREDIT, 4_000),
    }
    assert len(entry.lines) == 2
    with book.store.reader() as uow:
        account = uow.paylater.get("c1")
        assert account.credit_balance_fen == 4_000
        assert account.purchases["p3"].refunded_fen == 4_000
        assert account.purchases["p3"].refunded_on == today
    assert verify_ledger(book.store.reader()).ok
    with pytest.raises(Conflict) as refused:
        buy(book, "p3", 1_000, today, key="another-key")
    assert refused.value.rule == "PURCHASE_REF_UNIQUE"


def test_purchases_keep_the_order_they_were_made_in(book: Book) -> None:
    add_customer(book.store, "c1")
    refs = ["z", "a", "m", "b"]  # not sorted: the order is the order of purchase
    for ref in refs:
        buy(book, ref, 10_001, FIRST)
    with book.store.reader() as uow:
        account = uow.paylater.get("c1")
        assert list(account.purchases) == refs
        assert [p.ref for p in account.purchases.since(FIRST)] == refs
        assert account.purchases.since(FIRST + timedelta(days=1)) == []


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_book(request: pytest.FixtureRequest) -> Iterator[Book]:
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
    book = open_book(url, clock=CLOCK)
    yield book
    book.store.dispose()


def document(book: Book) -> dict[str, Any]:
    engine = book.store.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        text = connection.execute(
            sa.text("SELECT document FROM paylater_accounts WHERE customer_id = 'c1'")
        ).scalar_one()
    return dict(json.loads(text))


class RowsRead:
    """The rows of `paylater_purchases` the SQL store reads, counted where it takes them."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.rows = 0
        original = StoredPurchases._take

        def counted(purchases: StoredPurchases, rows: Any, **kwargs: Any) -> None:
            rows = list(rows)
            self.rows += len(rows)
            original(purchases, rows, **kwargs)

        monkeypatch.setattr(StoredPurchases, "_take", counted)


def test_an_operation_reads_only_the_purchases_it_looks_at(
    sql_book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    today = history(sql_book)
    assert "purchases" not in document(sql_book)
    read = RowsRead(monkeypatch)
    buy(sql_book, "new", 5_000, today)
    assert read.rows == 0  # no purchase yet on `today`; the ref was looked for and not found
    buy(sql_book, "newer", 5_000, today)
    assert read.rows == 1  # "new", the day's only other purchase (the round-amount rule)
    read.rows = 0
    # A refund reads its purchase and those in the refund window (30 days): p19's window
    # is long past, so it reads p19 and the two bought today.
    refund(sql_book, "p19", 1_000, today)
    assert read.rows == 3


def migrate(book: Book, target: str, *, down: bool) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with book.store.engine.begin() as connection:  # type: ignore[attr-defined]
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, target)


def test_migration_0011_moves_purchases_out_of_documents_and_back(sql_book: Book) -> None:
    add_customer(sql_book.store, "c1")
    refs = ["z", "a", "m"]
    for n, ref in enumerate(refs):
        buy(sql_book, ref, 10_000 + n, FIRST)
    refund(sql_book, "a", 500, FIRST)
    with sql_book.store.reader() as uow:
        before = list(uow.paylater.get("c1").purchases.values())
    assert before[1] == Purchase("a", FIRST, 10_001, "shopa", "retail", 500, None, FIRST)

    migrate(sql_book, "0010", down=True)
    old = document(sql_book)
    assert old["v"] == 1
    assert "refunded_on" not in old
    assert [row[0] for row in old["purchases"]] == refs
    assert old["purchases"][1] == [
        "a",
        "2026-01-02",
        10_001,
        "shopa",
        "retail",
        500,
        None,
        "2026-01-02",
    ]

    migrate(sql_book, SCHEMA_HEAD, down=False)
    assert "purchases" not in document(sql_book)
    assert document(sql_book)["v"] == 2
    assert document(sql_book)["refunded_on"] == "2026-01-02"  # from the purchases moved out
    with sql_book.store.reader() as uow:
        assert list(uow.paylater.get("c1").purchases.values()) == before


def refunds_12m(book: Book, on: date) -> float:
    with book.store.unit_of_work() as uow:
        features = behaviour_features(
            limit=uow.limits.get("c1"),
            paylater=uow.paylater.get("c1"),
            loans=[],
            events=[],
            onboarded_on=FIRST,
            on=on,
        )
    return features["refunds_12m"]


def test_the_refunds_of_the_year_count_whatever_the_account_keeps_in_memory(book: Book) -> None:
    today = history(book)
    assert refunds_12m(book, today) == 0
    refund(book, "p3", 1_000, today)  # bought on 3 January 2026
    assert refunds_12m(book, today) == 1
    assert refunds_12m(book, date(2027, 1, 2)) == 1  # bought within the 12 months
    assert refunds_12m(book, date(2027, 1, 3)) == 0  # bought 12 months ago: out


def test_scoring_an_account_never_refunded_reads_none_of_its_purchases(
    sql_book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    today = history(sql_book)
    read = RowsRead(monkeypatch)
    assert refunds_12m(sql_book, today) == 0
    assert read.rows == 0


def test_purchases_asked_for_after_their_unit_of_work_ended_say_why(sql_book: Book) -> None:
    add_customer(sql_book.store, "c1")
    buy(sql_book, "p0", 10_001, FIRST)
    with sql_book.store.unit_of_work() as uow:
        account = uow.paylater.get("c1")  # a writer's account: purchases read when asked
    with pytest.raises(RuntimeError, match="unit of work that read the account, which has ended"):
        account.purchases["p0"]
    with sql_book.store.reader() as uow:
        viewed = uow.paylater.get("c1")
        assert viewed.purchases["p0"].amount_fen == 10_001  # inside it: read
    with pytest.raises(RuntimeError, match="take what is needed of them before it ends"):
        len(viewed.purchases)  # a reader's account too: "p1" may have been bought since


def test_views_and_the_ecl_job_count_purchases_without_reading_them(
    sql_book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    today = history(sql_book)
    read = RowsRead(monkeypatch)
    state = customer_state(sql_book.store.reader(), customer_id="c1", on=today)
    assert state.purchase_count == BOUGHT
    with sql_book.store.reader() as uow:
        parameters = current_parameters(uow)
        assert len(uow.decisions.list(customer_id="c1")) == BOUGHT
    decided = []
    original = sql_store._decision

    def counted(row: Any) -> Any:
        decided.append(row.op)
        return original(row)

    monkeypatch.setattr(sql_store, "_decision", counted)
    lines = ecl_partition(sql_book.store, Partition("", None), on=today, parameters=parameters)
    assert [line.product for line in lines] == ["paylater"]
    assert read.rows == 0
    assert "purchase" not in decided  # the grade at onboarding is read, no purchase's
