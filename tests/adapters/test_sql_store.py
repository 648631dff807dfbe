"""The SQL store on SQLite and PostgreSQL: schema, serialisation, tamper evidence."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creditlink.adapters.sql.engine import create_engine, normalise_url
from creditlink.adapters.sql.schema import MIGRATIONS, SCHEMA_HEAD, current_revision
from creditlink.adapters.sql.tables import journal_lines, metadata
from creditlink.application.ledger import post_adjustment, verify_ledger
from creditlink.application.paylater import repay as repay_paylater
from creditlink.bootstrap import Book, open_book
from creditlink.domain.errors import Conflict, CreditlinkError, InvalidInput
from creditlink.domain.ledger import Account, AccountCode, credit, debit
from creditlink.domain.limits import LimitExceeded
from creditlink.domain.products import Product
from tests.conftest import CLOCK, DAY, add_customer, spend


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url"))


@pytest.fixture
def sql_book(sql_url: str) -> Iterator[Book]:
    book = open_book(sql_url, clock=CLOCK)
    yield book
    book.store.dispose()


def test_the_head_revision_is_the_one_the_code_expects() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == SCHEMA_HEAD


def test_migrations_build_exactly_the_tables_the_code_uses(sql_book: Book) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = sql_book.store.engine  # type: ignore[attr-defined]
    assert current_revision(engine) == SCHEMA_HEAD
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_first_use_migrates_and_a_second_open_changes_nothing(sql_url: str) -> None:
    first = open_book(sql_url, clock=CLOCK)
    add_customer(first.store, "c1")
    first.store.dispose()
    second = open_book(sql_url, clock=CLOCK)
    with second.store.reader() as uow:
        assert uow.customers.count() == 1
        assert uow.parameters.current() is not None
        assert [item.version for item in uow.parameters.history()] == [1]
    second.store.dispose()


def test_sqlite_runs_in_wal_mode(sqlite_url: str) -> None:
    book = open_book(sqlite_url, clock=CLOCK)
    with book.store.engine.connect() as connection:  # type: ignore[attr-defined]
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    book.store.dispose()


def test_the_database_itself_refuses_a_second_entry_with_one_key(sql_book: Book) -> None:
    add_customer(sql_book.store, "c1")
    draft_key = "same-key"
    spend(sql_book.store, "c1", Product.LOAN, 50_000, draft_key, on=DAY)
    with sql_book.store.unit_of_work() as uow:
        first = uow.ledger.find_by_key(draft_key)
        assert first is not None
        with pytest.raises(Conflict):
            uow.ledger.append(first.draft)


def at_once(threads: int, work: Callable[[int], None]) -> list[BaseException]:
    """`work(n)` on `threads` threads released together; what they raised."""
    barrier = threading.Barrier(threads)
    unexpected: list[BaseException] = []

    def worker(number: int) -> None:
        barrier.wait()
        try:
            work(number)
        except BaseException as error:
            unexpected.append(error)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=120)
    return unexpected


def race(
    book: Book, *, threads: int, attempts: int, amount: int, products: list[Product]
) -> list[BaseException]:
    """`threads` threads each try `attempts` draws of `amount` on customer c1 at once."""

    def work(number: int) -> None:
        for attempt in range(attempts):
            product = products[(number + attempt) % len(products)]
            with contextlib.suppress(LimitExceeded):
                spend(book.store, "c1", product, amount, f"t{number}-{attempt}", on=DAY)

    return at_once(threads, work)


def test_eight_threads_racing_for_one_limit_never_exceed_it(sql_book: Book) -> None:
    # Joint limit 10,000.00; 8 threads x 10 attempts of 501.00 = 40,080.00 asked for, half as
    # purchases (cap 7,000.00) and half as loan draws (cap 6,000.00, minimum 500.00). Not a
    # round amount: three round purchases in a day would be a cash-out pattern.
    add_customer(sql_book.store, "c1", joint=1_000_000, cap_paylater=700_000, cap_loan=600_000)
    errors = race(
        sql_book, threads=8, attempts=10, amount=50_100, products=[Product.PAYLATER, Product.LOAN]
    )
    assert errors == []
    with sql_book.store.reader() as uow:
        limit = uow.limits.get("c1")
        entries = uow.ledger.count()
    assert limit.used_paylater_fen <= 700_000
    assert limit.used_loan_fen <= 600_000
    assert limit.used_fen <= 1_000_000
    # 10,000.00 / 501.00 = 19 fit and no more; all 19 happened.
    assert limit.used_fen == 19 * 50_100
    assert entries == 19
    report = verify_ledger(sql_book.store.reader())
    assert report.ok, report.problems


def test_customers_posting_at_once_keep_one_unbroken_chain(sql_book: Book) -> None:
    # Eight customers, eight threads, no shared limit: nothing serialises them but the
    # ledger's own chain lock, which must hand every posting a fresh head.
    threads, attempts = 8, 12
    for number in range(threads):
        add_customer(sql_book.store, f"c{number}", sequence=number + 1)

    def work(number: int) -> None:
        for attempt in range(attempts):
            amount = 10_000 + 100 * attempt + number  # not round: no cash-out pattern
            spend(
                sql_book.store,
                f"c{number}",
                Product.PAYLATER,
                amount,
                f"k{number}-{attempt}",
                on=DAY,
            )

    assert at_once(threads, work) == []
    with sql_book.store.reader() as uow:
        assert uow.ledger.count() == threads * attempts
    report = verify_ledger(sql_book.store.reader())
    assert report.ok, report.problems


def test_changing_one_stored_amount_makes_verify_fail_and_name_the_entry(sql_book: Book) -> None:
    add_customer(sql_book.store, "c1")
    for number in range(1, 4):
        spend(sql_book.store, "c1", Product.PAYLATER, 10_000 * number, f"p{number}", on=DAY)
    engine = sql_book.store.engine  # type: ignore[attr-defined]
    with engine.begin() as connection:
        connection.execute(
            journal_lines.update()
            .where(journal_lines.c.entry_id == 2, journal_lines.c.line_no == 1)
            .values(amount_fen=20_001)
        )
    report = verify_ledger(sql_book.store.reader())
    assert not report.ok
    assert not report.balanced
    assert not report.chain_ok
    subjects = {problem.subject for problem in report.problems}
    assert "entry 2" in subjects
    assert "entry 1" not in subjects
    assert "entry 3" not in subjects
    assert "account paylater.principal_receivable" in subjects


def test_a_deleted_entry_breaks_the_chain(sql_book: Book) -> None:
    add_customer(sql_book.store, "c1")
    for number in range(1, 4):
        spend(sql_book.store, "c1", Product.LOAN, 50_000, f"d{number}", on=DAY)
    engine = sql_book.store.engine  # type: ignore[attr-defined]
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM journal_lines WHERE entry_id = 2"))
        connection.execute(sa.text("DELETE FROM journal_entries WHERE entry_id = 2"))
    report = verify_ledger(sql_book.store.reader())
    assert not report.chain_ok
    assert any(problem.subject == "entry 3" for problem in report.problems)
    assert not report.receivables_ok


@pytest.mark.parametrize("url", ["mysql://x/y", "  "])
def test_unsupported_database_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput):
        normalise_url(url)


def test_plain_paths_and_postgres_urls_are_understood(tmp_path: object) -> None:
    assert normalise_url("book.db") == "sqlite:///book.db"
    assert normalise_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert create_engine("sqlite:///:memory:").dialect.name == "sqlite"


postings = st.lists(
    st.tuples(
        st.sampled_from(["adjust", "paylater", "loan", "repay"]),
        st.integers(min_value=1, max_value=400_000),
    ),
    min_size=1,
    max_size=15,
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(script=postings)
def test_any_sequence_of_postings_on_sqlite_verifies(
    tmp_path: Path, script: list[tuple[str, int]]
) -> None:
    book = open_book(f"sqlite:///{tmp_path / f'{uuid.uuid4().hex}.db'}", clock=CLOCK)
    add_customer(book.store, "c1", joint=1_000_000, cap_paylater=700_000, cap_loan=600_000)
    for number, (kind, amount) in enumerate(script):
        key = f"k{number}"
        try:
            if kind == "adjust":
                post_adjustment(
                    book.store.unit_of_work(),
                    lines=[
                        debit(Account(AccountCode.FUNDING_CASH), amount),
                        credit(Account(AccountCode.FEE_INCOME, Product.LOAN), amount),
                    ],
                    on=DAY,
                    description="fee received",
                    idempotency_key=key,
                )
            elif kind == "repay":
                with contextlib.suppress(CreditlinkError):
                    repay_paylater(
                        book.store.unit_of_work(),
                        customer_id="c1",
                        amount=amount,
                        on=DAY,
                        idempotency_key=key,
                    )
            else:
                spend(book.store, "c1", Product(kind), amount, key, on=DAY)
        except (LimitExceeded, InvalidInput):
            pass
    report = verify_ledger(book.store.reader())
    book.store.dispose()
    assert report.ok, report.problems
    assert report.trial_balance_fen == 0


def test_no_interleaving_lets_a_restricted_customer_draw(sql_book: Book) -> None:
    """The close of 14 February raises RESTRICT (PayLater DPD 4) while threads keep asking
    for draws dated 14 and 15 February: every approved draw is dated 14 February and
    committed before the close began; none dated 15 February gets through."""
    from datetime import date, timedelta

    from creditlink.application import paylater
    from creditlink.application.close_of_day import close_day
    from creditlink.application.loans import draw_loan
    from creditlink.application.parameters import set_parameters
    from creditlink.domain.loan.schedule import Method

    add_customer(sql_book.store, "c1", joint=10**11, cap_paylater=1_000_000)
    set_parameters(  # the threads draw hundreds of times a day: no velocity or exposure cap
        sql_book.store.unit_of_work(),
        changes={
            "rules.velocity_day_count": 0,
            "rules.velocity_day_amount": "0",
            "rules.exposure_cap": "0",
        },
        actor="test",
        reason="a stress test, not a customer",
        clock=CLOCK,
    )
    paylater.purchase(
        sql_book.store.unit_of_work(),
        customer_id="c1",
        ref="p1",
        amount_fen=100_001,
        merchant="m",
        category="retail",
        on=date(2026, 1, 5),
        idempotency_key="p1",
    )
    day = date(2026, 1, 5)
    while day < date(2026, 2, 14):
        close_day(sql_book.store, on=day, clock=CLOCK)
        day += timedelta(days=1)
    approved: list[date] = []
    refused: list[str] = []
    stop = threading.Event()

    def ask(number: int) -> None:
        attempt = 0
        while not stop.is_set() and attempt < 200:
            attempt += 1
            on = date(2026, 2, 14) if attempt % 2 else date(2026, 2, 15)
            try:
                result = draw_loan(
                    sql_book.store.unit_of_work(),
                    customer_id="c1",
                    ref=f"L{number}-{attempt}",
                    amount_fen=50_000,
                    term_months=3,
                    method=Method.EQUAL_PRINCIPAL,
                    on=on,
                    idempotency_key=f"L{number}-{attempt}",
                )
            except Conflict as error:
                refused.append(error.rule)
                continue
            if result.approved:
                approved.append(on)
            else:
                refused.append(",".join(result.decision.reasons))

    pool = [threading.Thread(target=ask, args=(n,)) for n in range(4)]
    for thread in pool:
        thread.start()
    report = close_day(sql_book.store, on=date(2026, 2, 14), clock=CLOCK)
    stop.set()
    for thread in pool:
        thread.join(timeout=120)
    assert not report.already_closed
    assert date(2026, 2, 15) not in approved
    with sql_book.store.reader() as uow:
        [alert] = [a for a in uow.alerts.list() if a.level == "RESTRICT"]
        assert alert.on == date(2026, 2, 14)
        assert uow.limits.get("c1").level.value == "RESTRICT"
    after = draw_loan(
        sql_book.store.unit_of_work(),
        customer_id="c1",
        ref="late",
        amount_fen=50_000,
        term_months=3,
        method=Method.EQUAL_PRINCIPAL,
        on=date(2026, 2, 15),
        idempotency_key="late",
    )
    assert after.decision.reasons == ("LINKED_RESTRICTION",)
    # Every refusal was one of the date rules or the restriction itself.
    allowed = {
        "BUSINESS_DATE_CLOSING",
        "BUSINESS_DATE_NOT_OPEN",
        "BUSINESS_DATE_CLOSED",
        "LINKED_RESTRICTION",
    }
    assert set(refused) <= allowed, set(refused)


@pytest.mark.postgres
@pytest.mark.parametrize("idle_s", [0.0, 3600.0], ids=["pinged", "not-pinged"])
def test_a_pooled_connection_cut_while_idle_is_replaced_before_use(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, idle_s: float
) -> None:
    # A connection idle longer than PING_AFTER_IDLE_S is pinged at checkout, and a dead one
    # replaced; one in steady use is not (no round trip), so a cut then reaches the caller.
    import psycopg

    from creditlink.adapters.sql import engine as engines

    monkeypatch.setattr(engines, "PING_AFTER_IDLE_S", idle_s)
    book = open_book(pg_url, clock=CLOCK)
    try:
        engine = book.store.engine  # type: ignore[attr-defined]
        with engine.connect() as connection:
            backend = connection.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        plain = pg_url.split("?")[0].replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(plain, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (backend,))
        if idle_s == 0.0:
            with book.store.reader() as uow:
                assert uow.parameters.current() is not None
        else:
            with pytest.raises(sa.exc.OperationalError), book.store.reader() as uow:
                uow.parameters.current()
    finally:
        book.store.dispose()


@pytest.mark.postgres
def test_readers_keep_the_statements_prepared_on_their_connection(pg_url: str) -> None:
    # psycopg prepares a statement on its fifth run on a connection, and forgets all of
    # them at a ROLLBACK. A reader ends with COMMIT (it ran READ ONLY), so statements stay
    # prepared across readers and writers instead of being parsed and planned every time.
    book = open_book(pg_url, clock=CLOCK)
    try:
        add_customer(book.store, "c1")
        for _ in range(8):
            with book.store.reader() as uow:
                assert uow.customers.get("c1").customer_id == "c1"
        engine = book.store.engine  # type: ignore[attr-defined]
        with engine.connect() as connection:  # the pool's one connection, used above
            prepared = connection.execute(
                sa.text("SELECT count(*) FROM pg_prepared_statements")
            ).scalar()
        assert prepared, "every reader's ROLLBACK made psycopg deallocate its statements"
    finally:
        book.store.dispose()


@pytest.mark.postgres
def test_postgresql_itself_refuses_a_write_in_a_reader(pg_url: str) -> None:
    # Why a reader may end with COMMIT: the database would have refused any write in it.
    book = open_book(pg_url, clock=CLOCK)
    try:
        refused = pytest.raises(sa.exc.DBAPIError, match="read-only transaction")
        with refused, book.store.reader() as uow:
            uow._connection.execute(  # type: ignore[attr-defined]
                sa.text("INSERT INTO book_settings (key, value) VALUES ('x', 'y')")
            )
        with book.store.reader() as uow:  # the pool's connection is still good
            assert uow.parameters.current() is not None
    finally:
        book.store.dispose()


def _in_transaction(uow: object) -> bool:
    """Whether the unit of work's PostgreSQL connection has a transaction open."""
    from psycopg.pq import TransactionStatus

    connection = uow._connection.connection.driver_connection  # type: ignore[attr-defined]
    return bool(connection.info.transaction_status != TransactionStatus.IDLE)


@pytest.mark.postgres
def test_an_autocommit_unit_of_work_opens_no_transaction(pg_url: str) -> None:
    # Authenticating a request and keeping its answer are one statement each: with
    # autocommit they go without a BEGIN and a COMMIT, each a round trip of its own.
    book = open_book(pg_url, clock=CLOCK)
    try:
        add_customer(book.store, "c1")
        with book.store.reader(autocommit=True) as uow:
            assert uow.customers.get("c1").customer_id == "c1"
            assert not _in_transaction(uow)
        with book.store.reader() as uow:  # a plain reader holds one snapshot
            assert uow.customers.get("c1").customer_id == "c1"
            assert _in_transaction(uow)
    finally:
        book.store.dispose()


@pytest.mark.postgres
def test_a_kept_answer_skips_only_its_own_wal_flush(pg_url: str) -> None:
    # The insert turns synchronous_commit off for its own transaction (set_config, local),
    # so that it can run in autocommit; the connection's setting is left as it was.
    from datetime import UTC, datetime

    from creditlink.application.ports import StoredResponse

    book = open_book(pg_url, clock=CLOCK)
    kept = StoredResponse(
        idempotency_key="k1",
        fingerprint="f",
        request="POST /x",
        status_code=201,
        body="{}",
        created_at=datetime(2026, 1, 5, 9, tzinfo=UTC),
    )

    def setting(uow: object) -> str:
        found = uow._connection.execute(sa.text("SHOW synchronous_commit"))  # type: ignore[attr-defined]
        return str(found.scalar())

    try:
        with book.store.unit_of_work() as uow:
            assert setting(uow) == "on"
            assert uow.responses.add(kept)
            assert setting(uow) == "off"  # for this transaction only
            uow.commit()
        with book.store.unit_of_work(autocommit=True) as uow:
            assert not uow.responses.add(kept)  # the key is taken: nothing kept twice
            assert setting(uow) == "on"
        with book.store.reader(autocommit=True) as uow:
            found = uow.responses.find("k1")
            assert found is not None
            assert found.status_code == 201
    finally:
        book.store.dispose()


def test_a_unit_of_work_sees_its_own_changes_to_the_book_state(sql_book: Book) -> None:
    # The latest close, the version in force and the candidate are fetched together once
    # per unit of work; a write to any of them in the same unit of work must show at once.
    from datetime import UTC, datetime

    from creditlink.application.ports import Candidate

    at = datetime(2026, 1, 5, 18, tzinfo=UTC)
    with sql_book.store.unit_of_work() as uow:
        first = uow.parameters.current()
        assert first is not None
        assert uow.eod.latest() is None
        assert uow.parameters.candidate() is None
        second = first.changed({"rules.velocity_day_count": 7})
        uow.parameters.add(second, actor="t", reason="t", at=at, in_force_from=None)
        current = uow.parameters.current()
        assert current is not None
        assert current.version == first.version + 1
        uow.eod.mark_closing(DAY, at=at)
        assert uow.eod.latest() == (DAY, "closing")
        uow.eod.mark_closed(DAY, at=at, summary={})
        assert uow.eod.latest() == (DAY, "closed")
        candidate = Candidate(
            candidate_id=1, parameters=second, started_at=at, actor="t", reason="t"
        )
        uow.parameters.set_candidate(candidate)
        shadow = uow.parameters.candidate()
        assert shadow is not None
        assert shadow.candidate_id == 1
        uow.parameters.set_candidate(None)
        assert uow.parameters.candidate() is None
        uow.commit()
    with sql_book.store.reader() as uow:
        assert uow.eod.latest() == (DAY, "closed")


@pytest.mark.parametrize("pairs", [1, 2, 3])
def test_postings_of_any_size_keep_the_chain_and_the_balances(sql_book: Book, pairs: int) -> None:
    # A posting of up to four lines goes to PostgreSQL as one statement, a longer one line
    # by line: both must chain and keep the stored balances.
    cash = Account(AccountCode.FUNDING_CASH)
    income = Account(AccountCode.FEE_INCOME, Product.LOAN)
    for number in range(3):
        lines = []
        for pair in range(pairs):
            amount = 1_000 * (number + 1) + pair
            lines += [debit(cash, amount), credit(income, amount)]
        post_adjustment(
            sql_book.store.unit_of_work(),
            lines=lines,
            on=DAY,
            description=f"adjustment {number}",
            idempotency_key=f"adj-{pairs}-{number}",
        )
    report = verify_ledger(sql_book.store.reader())
    assert report.ok, report.problems
    with sql_book.store.reader() as uow:
        balances = uow.ledger.stored_balances()
    expected = sum(1_000 * (number + 1) * pairs + sum(range(pairs)) for number in range(3))
    assert balances[cash.name] == expected
    assert balances[income.name] == -expected


def test_an_onboarding_that_loses_a_race_is_a_duplicate_not_an_error(sql_book: Book) -> None:
    """The use case looks for the person and the id first; a concurrent onboarding can
    commit in between, and the insert then meets the unique keys. It is refused as the
    duplicate it is (409), naming the field, and nothing of the values reaches the error."""
    from creditlink.application.errors import DuplicateCustomer
    from creditlink.domain.customer import NationalId
    from tests.conftest import national_id

    add_customer(sql_book.store, "c1", sequence=7)
    with sql_book.store.reader() as uow:
        first = uow.customers.get("c1")
    for customer_id, sequence, field, rule in (
        ("c2", 7, "national_id", "ONE_CUSTOMER_PER_PERSON"),
        ("c1", 8, "customer_id", "CUSTOMER_ID_UNIQUE"),
    ):
        with sql_book.store.unit_of_work() as uow, pytest.raises(DuplicateCustomer) as refused:
            uow.customers.add(
                dataclasses.replace(first, customer_id=customer_id, mobile="13912345678"),
                national_id=NationalId.parse(national_id(sequence)),
            )
        assert (refused.value.field, refused.value.rule) == (field, rule)
        assert "13912345678" not in str(refused.value)
    with sql_book.store.reader() as uow:
        assert uow.customers.count() == 1


def test_a_failed_statement_does_not_show_its_values(sql_book: Book) -> None:
    engine = sql_book.store.engine  # type: ignore[attr-defined]
    insert = sa.text(
        "INSERT INTO idempotent_responses"
        " (idempotency_key, fingerprint, request, status_code, body, created_at)"
        " VALUES ('k1', 'f', 'r', 201, :body, :at)"
    )
    values = {"body": '{"mobile": "13912345678"}', "at": CLOCK.now()}
    with engine.begin() as connection:
        connection.execute(insert, values)
    with engine.connect() as connection, pytest.raises(sa.exc.IntegrityError) as failed:
        connection.execute(insert, values)  # the same key again
    assert "13912345678" not in str(failed.value)
