"""SQL repositories and the unit of work over one SQLAlchemy connection per transaction."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import hmac
import json
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace, TracebackType
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from creditlink.adapters.codecs import (
    loan_from_dict,
    loan_to_dict,
    paylater_from_dict,
    paylater_to_dict,
)
from creditlink.adapters.sql.driver import Driver, timestamp_out
from creditlink.adapters.sql.engine import READONLY, SQLITE_BUSY_TIMEOUT_MS, create_engine
from creditlink.adapters.sql.purchases import (
    UPSERT_PURCHASE,
    StoredPurchases,
    purchase_writes,
    send_purchases,
    with_document,
    write_purchases,
    written,
)
from creditlink.adapters.sql.schema import ensure_schema, id_key_kept_in_book, national_id_key
from creditlink.adapters.sql.tables import (
    alerts,
    api_keys,
    audit_log,
    book_settings,
    closed_days,
    customer_limits,
    customers,
    daily_indicators,
    decisions,
    ended_sessions,
    incidents,
    journal_entries,
    journal_lines,
    ledger_balances,
    loans,
    parameter_versions,
    paylater_accounts,
)
from creditlink.adapters.sql.turns import WriterTurn, exclusive_file
from creditlink.application.errors import CustomerNotFound, DuplicateCustomer
from creditlink.application.ports import (
    AlertRecord,
    ApiKeyRecord,
    AuditRecord,
    Candidate,
    DecisionRecord,
    Incident,
    ParameterVersion,
    StoredResponse,
)
from creditlink.domain.customer import Customer, CustomerScore, NationalId
from creditlink.domain.errors import Conflict
from creditlink.domain.ledger import (
    GENESIS_HASH,
    Account,
    EntryDraft,
    EntryKind,
    JournalEntry,
    Line,
    Side,
    StoredEntry,
    StoredLine,
    chain,
)
from creditlink.domain.limits import (
    AlertLevel,
    JointLimit,
    PendingIncrease,
    TemporaryLimit,
    limit_wake_on,
)
from creditlink.domain.loan.loan import Loan
from creditlink.domain.parameters import ParameterSet
from creditlink.domain.paylater.account import PayLaterAccount

# Every posting takes this transaction-scoped lock on PostgreSQL just before it reads the
# chain head, so entries are numbered without gaps in commit order. SQLite's write lock
# already gives the same order.
_PG_LEDGER_LOCK = 727_000_002
_PG_CLOSE_STATE_LOCK = 727_000_003  # CloseOfDayLog.hold
_ONLY_ONE_SPACE = 72_700  # pg_try_advisory_lock(space, key) for Store.only_one


_CUSTOMER_COLUMNS = (
    "customer_id",
    "name",
    "national_id_masked",
    "mobile",
    "onboarded_on",
    "loan_daily_rate",
    "monthly_income_fen",
    "pricing_pinned",
    "score",
    "grade",
    "score_model",
    "score_reasons",
    "scored_on",
)


class _Customers:
    def __init__(self, connection: sa.Connection, driver: Driver, id_key: bytes):
        self._c, self._d, self._key = connection, driver, id_key

    def _digest(self, national_id: NationalId) -> str:
        return hmac.new(self._key, national_id.value.encode(), hashlib.sha256).hexdigest()

    def add(self, customer: Customer, *, national_id: NationalId) -> None:
        try:
            self._c.execute(
                customers.insert().values(
                    customer_id=customer.customer_id,
                    name=customer.name,
                    national_id_digest=self._digest(national_id),
                    national_id_masked=customer.national_id_masked,
                    mobile=customer.mobile,
                    onboarded_on=customer.onboarded_on,
                    loan_daily_rate=str(customer.loan_daily_rate),
                    monthly_income_fen=customer.monthly_income_fen,
                    pricing_pinned=customer.pricing_pinned,
                )
            )
        except sa.exc.IntegrityError as error:
            # The use case looked first; a concurrent onboarding of the same person, or
            # under the same id, committed in between.
            if "national_id" in str(error.orig):
                raise DuplicateCustomer.same_person() from None
            raise DuplicateCustomer.same_id(customer.customer_id) from None
        if customer.score is not None:
            self.update(customer)

    def get(self, customer_id: str) -> Customer:
        driver = self._d
        row = driver.one(
            f"SELECT {', '.join(_CUSTOMER_COLUMNS)} FROM customers WHERE customer_id = %s",
            (customer_id,),
        )
        if row is None:
            raise CustomerNotFound(customer_id)
        values = dict(zip(_CUSTOMER_COLUMNS, row, strict=True))
        values["onboarded_on"] = driver.date_out(values["onboarded_on"])
        values["scored_on"] = driver.date_out(values["scored_on"])
        return _customer(SimpleNamespace(**values))

    def update(self, customer: Customer) -> None:
        """Save what may change after onboarding: price, income, score."""
        score = customer.score
        changed = self._d.run(
            "UPDATE customers SET loan_daily_rate = %s, monthly_income_fen = %s, "
            "pricing_pinned = %s, score = %s, grade = %s, score_model = %s, "
            "score_reasons = %s, scored_on = %s WHERE customer_id = %s",
            (
                str(customer.loan_daily_rate),
                customer.monthly_income_fen,
                customer.pricing_pinned,
                score.points if score else None,
                score.grade if score else None,
                score.model_version if score else None,
                ",".join(score.reasons) if score else None,
                self._d.date_in(score.scored_on if score else None),
                customer.customer_id,
            ),
        )
        assert changed == 1, customer.customer_id

    def ids(self, *, after: str, limit: int) -> list[str]:
        rows = self._d.cursor.execute(
            self._d.sql(
                "SELECT customer_id FROM customers WHERE customer_id > %s ORDER BY customer_id "
                "LIMIT %s"
            ),
            (after, limit),
        ).fetchall()
        return [row[0] for row in rows]

    def exists(self, customer_id: str) -> bool:
        return (
            self._c.execute(
                sa.select(customers.c.customer_id).where(customers.c.customer_id == customer_id)
            ).first()
            is not None
        )

    def find_by_national_id(self, national_id: NationalId) -> str | None:
        return self._c.execute(
            sa.select(customers.c.customer_id).where(
                customers.c.national_id_digest == self._digest(national_id)
            )
        ).scalar()

    def list(self, *, offset: int, limit: int) -> list[Customer]:
        rows = self._c.execute(
            sa.select(customers).order_by(customers.c.customer_id).offset(offset).limit(limit)
        )
        return [_customer(row) for row in rows]

    def count(self) -> int:
        return int(self._c.execute(sa.select(sa.func.count()).select_from(customers)).scalar_one())


def _customer(row: Any) -> Customer:
    score = None
    if row.score is not None:
        score = CustomerScore(
            points=row.score,
            grade=row.grade,
            model_version=row.score_model,
            reasons=tuple(r for r in (row.score_reasons or "").split(",") if r),
            scored_on=row.scored_on,
        )
    return Customer(
        monthly_income_fen=row.monthly_income_fen,
        pricing_pinned=bool(row.pricing_pinned),
        score=score,
        customer_id=row.customer_id,
        name=row.name,
        national_id_masked=row.national_id_masked,
        mobile=row.mobile,
        onboarded_on=row.onboarded_on,
        loan_daily_rate=Decimal(row.loan_daily_rate),
    )


class _Limits:
    def __init__(self, connection: sa.Connection, driver: Driver):
        self._c, self._d = connection, driver

    def add(self, customer_id: str, limit: JointLimit) -> None:
        self._c.execute(
            customer_limits.insert().values(customer_id=customer_id, **_limit_row(limit))
        )

    def get(self, customer_id: str, *, for_update: bool = False) -> JointLimit:
        driver = self._d
        lock = " FOR UPDATE" if for_update and driver.postgres else ""
        row = driver.one(f"{_LIMIT_SELECT}{lock}", (customer_id,))
        if row is None:
            raise CustomerNotFound(customer_id)
        values = dict(zip(_LIMIT_COLUMNS, row, strict=True))
        for name in _LIMIT_DATES:
            values[name] = driver.date_out(values[name])
        return _limit(SimpleNamespace(**values))

    def save(self, customer_id: str, limit: JointLimit) -> None:
        driver, values = self._d, _limit_row(limit)
        row = [
            driver.date_in(values[name]) if name in _LIMIT_DATES else values[name]
            for name in _LIMIT_COLUMNS
        ]
        assert driver.run(_LIMIT_UPDATE, (*row, customer_id)) == 1, customer_id

    def due(self, on: date, *, after: str, limit: int) -> list[str]:
        rows = self._c.execute(
            sa.select(customer_limits.c.customer_id)
            .where(customer_limits.c.next_wake_on <= on, customer_limits.c.customer_id > after)
            .order_by(customer_limits.c.customer_id)
            .limit(limit)
        )
        return [row.customer_id for row in rows]

    def all_usage(self) -> Iterator[tuple[str, int, int]]:
        rows = self._c.execute(
            sa.select(
                customer_limits.c.customer_id,
                customer_limits.c.used_paylater_fen,
                customer_limits.c.used_loan_fen,
            ).order_by(customer_limits.c.customer_id)
        )
        for row in rows:
            yield row.customer_id, row.used_paylater_fen, row.used_loan_fen


# Statements built once: SQLAlchemy then reuses their compiled form on the hot paths.
_KEY: sa.BindParameter[Any] = sa.bindparam("key")
_LIMIT_COLUMNS = [c.name for c in customer_limits.c if c.name != "customer_id"]
_LIMIT_DATES = frozenset(c.name for c in customer_limits.c if isinstance(c.type, sa.Date))
_LIMIT_SELECT = f"SELECT {', '.join(_LIMIT_COLUMNS)} FROM customer_limits WHERE customer_id = %s"
_LIMIT_UPDATE = (
    f"UPDATE customer_limits SET {', '.join(f'{n} = %s' for n in _LIMIT_COLUMNS)} "
    "WHERE customer_id = %s"
)


def _limit_row(limit: JointLimit) -> dict[str, Any]:
    temporary, pending = limit.temporary, limit.pending
    return {
        "joint_limit_fen": limit.joint_limit_fen,
        "cap_paylater_fen": limit.cap_paylater_fen,
        "cap_loan_fen": limit.cap_loan_fen,
        "used_paylater_fen": limit.used_paylater_fen,
        "used_loan_fen": limit.used_loan_fen,
        "temp_amount_fen": temporary.amount_fen if temporary else None,
        "temp_granted_on": temporary.granted_on if temporary else None,
        "temp_expires_on": temporary.expires_on if temporary else None,
        "pending_requested_on": pending.requested_on if pending else None,
        "pending_effective_on": pending.effective_on if pending else None,
        "pending_joint_limit_fen": pending.joint_limit_fen if pending else None,
        "pending_cap_paylater_fen": pending.cap_paylater_fen if pending else None,
        "pending_cap_loan_fen": pending.cap_loan_fen if pending else None,
        "alert_level": limit.level.value,
        "next_wake_on": limit_wake_on(limit),
        "cured_on": limit.cured_on,
    }


def _limit(row: Any) -> JointLimit:
    temporary = (
        TemporaryLimit(row.temp_amount_fen, row.temp_granted_on, row.temp_expires_on)
        if row.temp_amount_fen is not None
        else None
    )
    pending = (
        PendingIncrease(
            requested_on=row.pending_requested_on,
            effective_on=row.pending_effective_on,
            joint_limit_fen=row.pending_joint_limit_fen,
            cap_paylater_fen=row.pending_cap_paylater_fen,
            cap_loan_fen=row.pending_cap_loan_fen,
        )
        if row.pending_effective_on is not None
        else None
    )
    return JointLimit(
        joint_limit_fen=row.joint_limit_fen,
        cap_paylater_fen=row.cap_paylater_fen,
        cap_loan_fen=row.cap_loan_fen,
        used_paylater_fen=row.used_paylater_fen,
        used_loan_fen=row.used_loan_fen,
        temporary=temporary,
        pending=pending,
        level=AlertLevel(row.alert_level),
        cured_on=row.cured_on,
    )


_ENTRY_BY_KEY = sa.select(journal_entries).where(journal_entries.c.idempotency_key == _KEY)


class _Ledger:
    """Postings go through the driver's cursor with fixed SQL: the ledger is the hottest
    write path, and SQLAlchemy's per-statement machinery cost more than the inserts."""

    def __init__(self, connection: sa.Connection, driver: Driver):
        self._c, self._d = connection, driver

    def append(self, draft: EntryDraft) -> JournalEntry:
        return self.append_many([draft])[0]

    def append_many(self, drafts: Sequence[EntryDraft]) -> list[JournalEntry]:
        assert drafts, "nothing to post"
        sql, driver = _LEDGER_SQL, self._d
        # On PostgreSQL the chain's lock is held from here to the commit. The head is read
        # by a statement of its own, after the lock is held: a statement's snapshot is taken
        # when it starts, so a head read in the lock's statement could miss the entry that
        # the lock's previous holder committed while this one waited.
        if driver.postgres:
            driver.send(sql.lock, (_PG_LEDGER_LOCK,))
        head = driver.one(sql.head)
        entry_id, previous = (head[0], head[1]) if head else (0, GENESIS_HASH)
        entries, entry_rows, line_rows = [], [], []
        changes: dict[str, int] = {}
        for draft in drafts:
            entry_id += 1
            entry = chain(draft, entry_id=entry_id, previous_hash=previous)
            previous = entry.hash
            entries.append(entry)
            entry_row, lines = ledger_rows(entry, driver.date_in(draft.business_date))
            entry_rows.append(entry_row)
            line_rows += lines
            for line in draft.lines:
                name = line.account.name
                changes[name] = changes.get(name, 0) + line.signed_fen()
        balance_rows = list(changes.items())
        try:
            if (
                driver.postgres
                and balance_rows
                and max(len(entry_rows), len(line_rows)) <= _FEW_ROWS
            ):
                # A posting (a purchase: one entry, two lines, two balances) in one
                # statement; psycopg's pipeline mode costs more than the round trips it saves.
                text, values = _one_statement(entry_rows, line_rows, balance_rows)
                driver.send(text, values)
            else:
                with driver.pipeline():
                    _insert_rows(driver, sql.insert_entry, entry_rows)
                    _insert_rows(driver, sql.insert_line, line_rows)
                    _insert_rows(driver, sql.upsert_balance, balance_rows)
        except driver.integrity_error as error:
            # Under the lock, entry ids and line numbers are fresh: the unique key that can
            # clash is the idempotency key.
            raise _key_taken(*(d.idempotency_key for d in drafts[:3])) from error
        return entries

    def find_by_key(self, idempotency_key: str) -> JournalEntry | None:
        row = self._c.execute(_ENTRY_BY_KEY, {"key": idempotency_key}).first()
        return self._entry(row) if row is not None else None

    def get(self, entry_id: int) -> JournalEntry | None:
        row = self._c.execute(
            sa.select(journal_entries).where(journal_entries.c.entry_id == entry_id)
        ).first()
        return self._entry(row) if row is not None else None

    def _entry(self, row: sa.Row[Any]) -> JournalEntry:
        lines = self._c.execute(
            sa.select(journal_lines)
            .where(journal_lines.c.entry_id == row.entry_id)
            .order_by(journal_lines.c.line_no)
        )
        draft = EntryDraft(
            idempotency_key=row.idempotency_key,
            business_date=row.business_date,
            kind=EntryKind(row.kind),
            customer_id=row.customer_id,
            description=row.description,
            reverses_entry_id=row.reverses_entry_id,
            lines=tuple(
                Line(
                    Account.parse(line.account), Side(line.side), line.amount_fen, line.customer_id
                )
                for line in lines
            ),
        )
        return JournalEntry(
            entry_id=row.entry_id, draft=draft, previous_hash=row.previous_hash, hash=row.hash
        )

    def customers_posting_on(self, on: date, *, after: str, limit: int) -> list[str]:
        rows = self._c.execute(
            sa.select(journal_entries.c.customer_id)
            .distinct()
            .where(journal_entries.c.business_date == on, journal_entries.c.customer_id > after)
            .order_by(journal_entries.c.customer_id)
            .limit(limit)
        )
        return [row.customer_id for row in rows]

    def money_events(self, customer_id: str, *, since: date) -> list[tuple[date, str, int, str]]:
        driver = self._d
        rows = driver.cursor.execute(
            driver.sql(
                "SELECT e.business_date, e.kind, first.amount_fen, second.account "
                "FROM journal_entries e "
                "JOIN journal_lines first ON first.entry_id = e.entry_id AND first.line_no = 1 "
                "JOIN journal_lines second ON second.entry_id = e.entry_id AND second.line_no = 2 "
                "WHERE e.customer_id = %s AND e.business_date >= %s "
                "AND e.kind IN ('repayment', 'loan_draw') ORDER BY e.entry_id"
            ),
            (customer_id, driver.date_in(since)),
        ).fetchall()
        return [(driver.date_out(row[0]) or since, row[1], row[2], row[3]) for row in rows]

    def customer_entries(self, customer_id: str, *, since: date) -> list[JournalEntry]:
        rows = self._c.execute(
            sa.select(journal_entries)
            .where(
                journal_entries.c.customer_id == customer_id,
                journal_entries.c.business_date >= since,
            )
            .order_by(journal_entries.c.entry_id)
        )
        return [self._entry(row) for row in rows]

    def reversal_of(self, entry_id: int) -> int | None:
        return self._c.execute(
            sa.select(journal_entries.c.entry_id).where(
                journal_entries.c.reverses_entry_id == entry_id
            )
        ).scalar()

    def scan(self, *, batch_size: int = 5000) -> Iterator[StoredEntry]:
        after = 0
        while True:
            rows = self._c.execute(
                sa.select(journal_entries)
                .where(journal_entries.c.entry_id > after)
                .order_by(journal_entries.c.entry_id)
                .limit(batch_size)
            ).all()
            if not rows:
                return
            lines: dict[int, list[StoredLine]] = {}
            for line in self._c.execute(
                sa.select(journal_lines)
                .where(journal_lines.c.entry_id.between(rows[0].entry_id, rows[-1].entry_id))
                .order_by(journal_lines.c.entry_id, journal_lines.c.line_no)
            ):
                lines.setdefault(line.entry_id, []).append(
                    StoredLine(line.account, line.side, line.amount_fen, line.customer_id)
                )
            for row in rows:
                yield StoredEntry(
                    entry_id=row.entry_id,
                    idempotency_key=row.idempotency_key,
                    business_date=_iso(row.business_date),
                    kind=row.kind,
                    customer_id=row.customer_id,
                    description=row.description,
                    reverses_entry_id=row.reverses_entry_id,
                    lines=tuple(lines.get(row.entry_id, ())),
                    previous_hash=row.previous_hash,
                    hash=row.hash,
                )
            after = rows[-1].entry_id

    def stored_balances(self) -> Mapping[str, int]:
        return {row.account: row.balance_fen for row in self._c.execute(sa.select(ledger_balances))}

    def count(self) -> int:
        return int(
            self._c.execute(sa.select(sa.func.count()).select_from(journal_entries)).scalar_one()
        )


ENTRY_COLUMNS = (
    "entry_id",
    "idempotency_key",
    "business_date",
    "kind",
    "customer_id",
    "reverses_entry_id",
    "description",
    "previous_hash",
    "hash",
)
LINE_COLUMNS = ("entry_id", "line_no", "account", "customer_id", "side", "amount_fen")


def ledger_rows(
    entry: JournalEntry, business_date: Any
) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    """An entry's row of `journal_entries` and its rows of `journal_lines`, in the order of
    ENTRY_COLUMNS and LINE_COLUMNS; `business_date` as the database takes it."""
    draft = entry.draft
    row = (
        entry.entry_id,
        draft.idempotency_key,
        business_date,
        draft.kind.value,
        draft.customer_id,
        draft.reverses_entry_id,
        draft.description,
        entry.previous_hash,
        entry.hash,
    )
    lines = [
        (
            entry.entry_id,
            number,
            line.account.name,
            line.customer_id,
            line.side.value,
            line.amount_fen,
        )
        for number, line in enumerate(draft.lines, start=1)
    ]
    return row, lines


@dataclass(frozen=True, slots=True)
class _LedgerSql:
    head: str
    insert_entry: str
    insert_line: str
    upsert_balance: str
    lock: str


def _ledger_sql(mark: str) -> _LedgerSql:
    def marks(count: int) -> str:
        return ", ".join([mark] * count)

    return _LedgerSql(
        head="SELECT entry_id, hash FROM journal_entries ORDER BY entry_id DESC LIMIT 1",
        insert_entry=(
            f"INSERT INTO journal_entries ({', '.join(ENTRY_COLUMNS)}) "
            f"VALUES ({marks(len(ENTRY_COLUMNS))})"
        ),
        insert_line=(
            f"INSERT INTO journal_lines ({', '.join(LINE_COLUMNS)}) "
            f"VALUES ({marks(len(LINE_COLUMNS))})"
        ),
        upsert_balance=(
            f"INSERT INTO ledger_balances (account, balance_fen) VALUES ({marks(2)}) "
            "ON CONFLICT (account) DO UPDATE SET "
            "balance_fen = ledger_balances.balance_fen + excluded.balance_fen"
        ),
        lock=f"SELECT pg_advisory_xact_lock({mark})",
    )


_LEDGER_SQL = _ledger_sql("%s")
_FEW_ROWS = 4  # up to this many rows go in one statement; more, one statement per row


@functools.cache
def _with_rows(sql: str, count: int) -> str:
    """`sql`, whose single row of values is `VALUES (...)` followed by the rest, with `count`
    rows of values."""
    head, _, tail = sql.partition("VALUES (")
    row, _, rest = tail.partition(")")
    return f"{head}VALUES {', '.join([f'({row})'] * count)}{rest}"


@functools.cache
def _posting_sql(entries: int, lines: int, balances: int) -> str:
    """PostgreSQL: the inserts of a few entries, their lines and the balances they change,
    as one statement (data-modifying CTEs; the lines' foreign key is checked at its end)."""
    sql = _LEDGER_SQL
    return (
        f"WITH entries AS ({_with_rows(sql.insert_entry, entries)} RETURNING 1), "
        f"lines AS ({_with_rows(sql.insert_line, lines)} RETURNING 1) "
        f"{_with_rows(sql.upsert_balance, balances)}"
    )


def _one_statement(
    entry_rows: Sequence[Sequence[Any]],
    line_rows: Sequence[Sequence[Any]],
    balance_rows: Sequence[Sequence[Any]],
) -> tuple[str, list[Any]]:
    text = _posting_sql(len(entry_rows), len(line_rows), len(balance_rows))
    values = [
        value for rows in (entry_rows, line_rows, balance_rows) for row in rows for value in row
    ]
    return text, values


def _insert_rows(driver: Driver, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """A posting's few rows in one statement (a purchase: one entry, two lines, two
    balances); a batch's many one by one. Each statement costs the server more than a row."""
    if not rows:
        return
    if len(rows) <= _FEW_ROWS:
        driver.send(_with_rows(sql, len(rows)), [value for row in rows for value in row])
    else:
        driver.many(sql, rows)


def _iso(day: date | str) -> str:
    return day if isinstance(day, str) else day.isoformat()


_PAYLATER_DOCUMENT = "SELECT document FROM paylater_accounts WHERE customer_id = %s"
_PAYLATER_SET = "status = %s, principal_fen = %s, next_wake_on = %s, document = %s"
_PAYLATER_UPDATE = f"UPDATE paylater_accounts SET {_PAYLATER_SET} WHERE customer_id = %s"
_PAYLATER_CLOSE = (
    f"UPDATE paylater_accounts SET {_PAYLATER_SET}, closed_through = %s WHERE customer_id = %s"
)


def paylater_row(account: PayLaterAccount, next_wake_on: date | None) -> dict[str, Any]:
    """An account's columns in `paylater_accounts`, but its key and `closed_through`."""
    return {
        "statement_day": account.statement_day,
        "status": account.status.value,
        "principal_fen": account.principal_outstanding_fen(),
        "next_wake_on": next_wake_on,
        "document": json.dumps(paylater_to_dict(account), separators=(",", ":")),
    }


class _PayLater:
    def __init__(self, connection: sa.Connection, driver: Driver):
        self._c, self._d = connection, driver

    def add(self, account: PayLaterAccount, *, next_wake_on: date | None) -> None:
        self._c.execute(
            paylater_accounts.insert().values(
                customer_id=account.customer_id, **paylater_row(account, next_wake_on)
            )
        )
        write_purchases(self._d, account.customer_id, account.purchases)

    def get(
        self,
        customer_id: str,
        *,
        read_only: bool = False,
        refs: Collection[str] = (),
        since: date | None = None,
    ) -> PayLaterAccount:
        # The purchases named come with the document (one round trip), any other when
        # asked for, inside the unit of work.
        hinted = bool(refs) or since is not None
        if hinted:
            sql, params = with_document(self._d, customer_id, refs, since)
        else:
            sql, params = _PAYLATER_DOCUMENT, [customer_id]
        row = self._d.one(sql, params)
        if row is None:
            raise CustomerNotFound(customer_id)
        purchases = StoredPurchases.read_with_document(
            self._d, customer_id, refs=refs, since=since, found=row[1] if hinted else None
        )
        return paylater_from_dict(json.loads(row[0]), purchases)

    def save(
        self,
        account: PayLaterAccount,
        *,
        next_wake_on: date | None,
        closed_through: date | None = None,
    ) -> None:
        driver = self._d
        document = json.dumps(paylater_to_dict(account), separators=(",", ":"))
        row = [
            account.status.value,
            account.principal_outstanding_fen(),
            driver.date_in(next_wake_on),
            document,
        ]
        purchases = purchase_writes(driver, account.customer_id, account.purchases)
        if closed_through is None:
            sql, params = _PAYLATER_UPDATE, [*row, account.customer_id]
        else:
            sql = _PAYLATER_CLOSE
            params = [*row, driver.date_in(closed_through), account.customer_id]
        if driver.postgres and len(purchases) == 1:
            # A purchase's row and the account's in one statement: one round trip.
            sql = f"WITH purchase AS ({UPSERT_PURCHASE}) {sql}"
            params = [*purchases.pop(), *params]
        changed = driver.run(sql, params)
        assert changed == 1, account.customer_id
        send_purchases(driver, purchases)
        written(account.purchases)

    def written_off(self, customer_id: str) -> bool:
        row = self._d.one(
            "SELECT status FROM paylater_accounts WHERE customer_id = %s", (customer_id,)
        )
        return row is not None and row[0] == "written_off"

    def due(self, on: date, *, limit: int) -> list[str]:
        # The front of the (next_wake_on, customer_id) index: a closed account's next wake
        # date moves past `on`, so each batch reads only the rows it will process.
        rows = self._d.cursor.execute(
            self._d.sql(
                "SELECT customer_id FROM paylater_accounts WHERE next_wake_on <= %s "
                "AND (closed_through IS NULL OR closed_through < %s) "
                "ORDER BY next_wake_on, customer_id LIMIT %s"
            ),
            (self._d.date_in(on), self._d.date_in(on), limit),
        ).fetchall()
        return [row[0] for row in rows]

    def wake_by(self, on: date) -> int:
        day = self._d.date_in(on)
        return self._d.run(
            "UPDATE paylater_accounts SET next_wake_on = %s WHERE next_wake_on > %s", (day, day)
        )

    def all(self, *, read_only: bool = False) -> Iterator[PayLaterAccount]:
        rows = self._c.execute(
            sa.select(paylater_accounts.c.customer_id, paylater_accounts.c.document).order_by(
                paylater_accounts.c.customer_id
            )
        )
        for row in rows:
            # Purchases when asked for: the callers read balances, and run inside the reader.
            purchases = StoredPurchases(self._d, row.customer_id)
            yield paylater_from_dict(json.loads(row.document), purchases)


class _Loans:
    def __init__(self, connection: sa.Connection, driver: Driver):
        self._c, self._d = connection, driver

    def add(self, loan: Loan, *, next_wake_on: date | None) -> None:
        self._d.run(
            "INSERT INTO loans (customer_id, ref, status, outstanding_principal_fen, "
            "next_wake_on, document) VALUES (%s, %s, %s, %s, %s, %s)",
            (
                loan.customer_id,
                loan.ref,
                loan.status.value,
                loan.outstanding_principal_fen(),
                self._d.date_in(next_wake_on),
                _loan_document(loan),
            ),
        )

    def find(self, customer_id: str, ref: str) -> Loan | None:
        row = self._d.one(
            "SELECT document FROM loans WHERE customer_id = %s AND ref = %s", (customer_id, ref)
        )
        return loan_from_dict(json.loads(row[0])) if row is not None else None

    def of_customer(self, customer_id: str, *, read_only: bool = False) -> list[Loan]:
        rows = self._d.cursor.execute(
            self._d.sql("SELECT document FROM loans WHERE customer_id = %s"), (customer_id,)
        ).fetchall()
        found = [loan_from_dict(json.loads(row[0])) for row in rows]
        return sorted(found, key=lambda loan: (loan.drawn_on, loan.ref))

    def save(
        self, loan: Loan, *, next_wake_on: date | None, closed_through: date | None = None
    ) -> None:
        driver = self._d
        row = [
            loan.status.value,
            loan.outstanding_principal_fen(),
            driver.date_in(next_wake_on),
            _loan_document(loan),
        ]
        if closed_through is None:
            changed = driver.run(_LOAN_UPDATE, (*row, loan.customer_id, loan.ref))
        else:
            changed = driver.run(
                _LOAN_CLOSE, (*row, driver.date_in(closed_through), loan.customer_id, loan.ref)
            )
        assert changed == 1, (loan.customer_id, loan.ref)

    def written_off(self, customer_id: str) -> bool:
        row = self._d.one(
            "SELECT 1 FROM loans WHERE customer_id = %s AND status = %s LIMIT 1",
            (customer_id, "written_off"),
        )
        return row is not None

    def due(self, on: date, *, limit: int) -> list[tuple[str, str]]:
        rows = self._d.cursor.execute(
            self._d.sql(
                "SELECT customer_id, ref FROM loans WHERE next_wake_on <= %s "
                "AND (closed_through IS NULL OR closed_through < %s) "
                "ORDER BY next_wake_on, customer_id, ref LIMIT %s"
            ),
            (self._d.date_in(on), self._d.date_in(on), limit),
        ).fetchall()
        return [(row[0], row[1]) for row in rows]

    def wake_by(self, on: date) -> int:
        day = self._d.date_in(on)
        return self._d.run("UPDATE loans SET next_wake_on = %s WHERE next_wake_on > %s", (day, day))

    def all(self, *, read_only: bool = False) -> Iterator[Loan]:
        rows = self._c.execute(
            sa.select(loans.c.document).order_by(loans.c.customer_id, loans.c.ref)
        )
        for row in rows:
            yield loan_from_dict(json.loads(row.document))


def _loan_document(loan: Loan) -> str:
    return json.dumps(loan_to_dict(loan), separators=(",", ":"))


_LOAN_SET = "status = %s, outstanding_principal_fen = %s, next_wake_on = %s, document = %s"
_LOAN_UPDATE = f"UPDATE loans SET {_LOAN_SET} WHERE customer_id = %s AND ref = %s"
_LOAN_CLOSE = (
    f"UPDATE loans SET {_LOAN_SET}, closed_through = %s WHERE customer_id = %s AND ref = %s"
)


_DECISION_FIELDS = tuple(c.name for c in decisions.columns)
_APPROVED_CONTEXTS_OF_DAY = (
    "SELECT op, context_json FROM decisions WHERE customer_id = %s AND business_date = %s "
    "AND outcome = 'APPROVE' ORDER BY decision_id"
)
_DECISION_BY_KEY = f"SELECT {', '.join(_DECISION_FIELDS)} FROM decisions WHERE idempotency_key = %s"
DECISION_COLUMNS = _DECISION_FIELDS[1:]  # all but decision_id, which the database gives
_DECISION_INSERT = (
    f"INSERT INTO decisions ({', '.join(DECISION_COLUMNS)})"
    f" VALUES ({', '.join(['%s'] * len(DECISION_COLUMNS))})"
)


def decision_row(decision: DecisionRecord, business_date: Any) -> list[Any]:
    """A decision's row of `decisions` in the order of DECISION_COLUMNS (the database numbers
    it); `business_date` as the database takes it."""
    values = {
        "business_date": business_date,
        "customer_id": decision.customer_id,
        "op": decision.op,
        "ref": decision.ref,
        "outcome": decision.outcome,
        "reasons": ",".join(decision.reasons),
        "parameter_version": decision.parameter_version,
        "model_version": decision.model_version,
        "idempotency_key": decision.idempotency_key,
        "context_json": _json_or_none(decision.context),
        "shadow_json": _json_or_none(decision.shadow),
        "request_digest": decision.request,
    }
    return [values[name] for name in DECISION_COLUMNS]


class _Decisions:
    def __init__(self, connection: sa.Connection, driver: Driver):
        self._c, self._d = connection, driver

    # `add`, `find_by_key` and `approved_contexts_on` are on every purchase and draw's path: the
    # driver's cursor.

    def add(self, decision: DecisionRecord) -> None:
        try:
            self._d.send(_DECISION_INSERT, decision_row(decision, self._d.date_in(decision.on)))
        except self._d.integrity_error as error:
            # Its only unique key: a concurrent request under the same key (for another
            # customer, so not behind the same lock) was stored first.
            raise _key_taken(decision.idempotency_key) from error

    def find_by_key(self, idempotency_key: str) -> DecisionRecord | None:
        row = self._d.one(_DECISION_BY_KEY, (idempotency_key,))
        return None if row is None else self._from_driver(row)

    def list(
        self, *, customer_id: str | None = None, op: str | None = None
    ) -> list[DecisionRecord]:
        query = sa.select(decisions).order_by(decisions.c.decision_id)
        if customer_id is not None:
            query = query.where(decisions.c.customer_id == customer_id)
        if op is not None:
            query = query.where(decisions.c.op == op)
        return [_decision(row) for row in self._c.execute(query)]

    def page(
        self, *, customer_id: str | None, offset: int, limit: int
    ) -> tuple[Sequence[DecisionRecord], int]:
        query = sa.select(decisions)
        count = sa.select(sa.func.count()).select_from(decisions)
        if customer_id is not None:
            query = query.where(decisions.c.customer_id == customer_id)
            count = count.where(decisions.c.customer_id == customer_id)
        query = query.order_by(decisions.c.decision_id.desc()).offset(offset).limit(limit)
        rows = [_decision(row) for row in self._c.execute(query)]
        return rows, int(self._c.execute(count).scalar_one())

    def approved_contexts_on(
        self, customer_id: str, on: date, ops: Collection[str]
    ) -> Sequence[Mapping[str, Any]]:
        # Two columns, not whole decisions: a busy customer's day can hold many.
        rows = self._d.all(_APPROVED_CONTEXTS_OF_DAY, (customer_id, self._d.date_in(on)))
        return [json.loads(context) if context else {} for op, context in rows if op in ops]

    def _from_driver(self, row: Sequence[Any]) -> DecisionRecord:
        fields = dict(zip(_DECISION_FIELDS, row, strict=True))
        fields["business_date"] = self._d.date_out(fields["business_date"])
        return _decision(SimpleNamespace(**fields))

    def between(self, first: date, last: date) -> Iterator[DecisionRecord]:
        query = (
            sa.select(decisions)
            .where(decisions.c.business_date.between(first, last))
            .order_by(decisions.c.decision_id)
        )
        for row in self._c.execute(query):
            yield _decision(row)

    def outcomes_on(self, on: date) -> Mapping[str, int]:
        query = (
            sa.select(decisions.c.outcome, sa.func.count())
            .where(decisions.c.business_date == on)
            .group_by(decisions.c.outcome)
        )
        return {row[0]: int(row[1]) for row in self._c.execute(query)}


def _key_taken(*keys: str) -> Conflict:
    """The error for an idempotency key that a concurrent transaction stored first."""
    named = ", ".join(repr(key) for key in keys)
    return Conflict(
        f"idempotency key already used ({named})",
        field="idempotency_key",
        rule="IDEMPOTENCY_KEY_UNIQUE",
    )


def _json_or_none(value: Mapping[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, separators=(",", ":"))


def _decision(row: Any) -> DecisionRecord:
    """From a SQLAlchemy row, or a namespace of the same fields."""
    return DecisionRecord(
        on=row.business_date,
        customer_id=row.customer_id,
        op=row.op,
        ref=row.ref,
        outcome=row.outcome,
        reasons=tuple(r for r in row.reasons.split(",") if r),
        parameter_version=row.parameter_version,
        model_version=row.model_version,
        idempotency_key=row.idempotency_key,
        context=json.loads(row.context_json) if row.context_json else None,
        shadow=json.loads(row.shadow_json) if row.shadow_json else None,
        request=row.request_digest,
    )


class _Alerts:
    def __init__(self, connection: sa.Connection):
        self._c = connection

    def add(self, alert: AlertRecord) -> AlertRecord:
        new_id = self._c.execute(
            alerts.insert().values(
                customer_id=alert.customer_id,
                business_date=alert.on,
                kind=alert.kind,
                level=alert.level,
                cause=alert.cause,
                products=",".join(alert.products),
                evidence=alert.evidence,
                **_alert_status(alert),
            )
        ).inserted_primary_key
        assert new_id is not None
        return dataclasses.replace(alert, alert_id=int(new_id[0]))

    def get(self, alert_id: int) -> AlertRecord | None:
        row = self._c.execute(sa.select(alerts).where(alerts.c.alert_id == alert_id)).first()
        return None if row is None else _alert(row)

    def save(self, alert: AlertRecord) -> None:
        self._c.execute(
            alerts.update()
            .where(alerts.c.alert_id == alert.alert_id)
            .values(**_alert_status(alert))
        )

    def page(
        self,
        *,
        customer_id: str | None = None,
        status: str | None = None,
        kind: str | None = None,
        offset: int,
        limit: int,
    ) -> list[AlertRecord]:
        query = (
            sa.select(alerts)
            .where(*_alert_filters(customer_id, status, kind))
            .order_by(alerts.c.alert_id.desc())
            .offset(offset)
            .limit(limit)
        )
        return [_alert(row) for row in self._c.execute(query)]

    def count(
        self, *, customer_id: str | None = None, status: str | None = None, kind: str | None = None
    ) -> int:
        query = sa.select(sa.func.count()).where(*_alert_filters(customer_id, status, kind))
        return int(self._c.execute(query.select_from(alerts)).scalar() or 0)

    def list(self, *, customer_id: str | None = None) -> list[AlertRecord]:
        query = sa.select(alerts).order_by(alerts.c.alert_id)
        if customer_id is not None:
            query = query.where(alerts.c.customer_id == customer_id)
        return [_alert(row) for row in self._c.execute(query)]

    def tally(self) -> dict[tuple[str, str, str], int]:
        columns = (alerts.c.kind, alerts.c.status, alerts.c.level)
        query = sa.select(*columns, sa.func.count()).group_by(*columns)
        return {(kind, status, level): n for kind, status, level, n in self._c.execute(query)}


def _alert_filters(
    customer_id: str | None, status: str | None, kind: str | None
) -> list[sa.ColumnElement[bool]]:
    filters = []
    if customer_id is not None:
        filters.append(alerts.c.customer_id == customer_id)
    if status is not None:
        filters.append(alerts.c.status == status)
    if kind is not None:
        filters.append(alerts.c.kind == kind)
    return filters


def _alert_status(alert: AlertRecord) -> dict[str, Any]:
    return {
        "status": alert.status,
        "status_by": alert.status_by,
        "status_at": alert.status_at,
        "status_note": alert.status_note,
    }


def _alert(row: Any) -> AlertRecord:
    return AlertRecord(
        alert_id=row.alert_id,
        on=row.business_date,
        customer_id=row.customer_id,
        kind=row.kind,
        level=row.level,
        cause=row.cause,
        products=tuple(p for p in row.products.split(",") if p),
        evidence=row.evidence,
        status=row.status,
        status_by=row.status_by,
        status_at=timestamp_out(row.status_at),
        status_note=row.status_note,
    )


_BOOK_STATE = (
    "SELECT (SELECT max(version) FROM parameter_versions), latest.business_date, "
    "latest.status, (SELECT value FROM book_settings WHERE key = %s) "
    "FROM (SELECT 1 AS one) AS here LEFT JOIN (SELECT business_date, status FROM closed_days "
    "ORDER BY business_date DESC LIMIT 1) AS latest ON 1 = 1"
)


class _BookState:
    """What every operation asks before it acts: the latest close and its status, the
    parameter version in force and the candidate in shadow. One statement fetches all
    three, on first use in a unit of work (each would otherwise be a statement of its
    own); the unit of work's own writes to any of them make it fetch again."""

    def __init__(self, driver: Driver):
        self._d = driver
        self._row: tuple[Any, ...] | None = None

    def row(self) -> tuple[Any, ...]:
        if self._row is None:
            row = self._d.one(_BOOK_STATE, (_CANDIDATE,))
            assert row is not None  # one row, always
            self._row = row
        return self._row

    def forget(self) -> None:
        self._row = None


class _CloseOfDay:
    def __init__(self, connection: sa.Connection, driver: Driver, state: _BookState):
        self._c, self._d, self._state = connection, driver, state

    def last_closed(self) -> date | None:
        row = self._d.one(
            "SELECT max(business_date) FROM closed_days WHERE status = %s", ("closed",)
        )
        return self._d.date_out(row[0]) if row else None

    def latest(self) -> tuple[date, str] | None:
        _, last, status, _ = self._state.row()
        day = self._d.date_out(last)
        return None if day is None else (day, str(status))

    def is_closed(self, on: date) -> bool:
        row = self._d.one(
            "SELECT status FROM closed_days WHERE business_date = %s", (self._d.date_in(on),)
        )
        return row is not None and row[0] == "closed"

    def operation_dates(self) -> tuple[date, date] | None:
        days: list[date] = []
        for table in (decisions, journal_entries):
            row = self._c.execute(
                sa.select(sa.func.min(table.c.business_date), sa.func.max(table.c.business_date))
            ).one()
            days += [day for day in (self._d.date_out(row[0]), self._d.date_out(row[1])) if day]
        return (min(days), max(days)) if days else None

    def hold(self) -> None:
        # SQLite: one writer at a time already; PostgreSQL: a lock until the commit.
        if self._d.postgres:
            self._d.one("SELECT pg_advisory_xact_lock(%s)", (_PG_CLOSE_STATE_LOCK,))
            self._state.forget()  # read the state again, now that it cannot change

    def mark_closing(self, on: date, *, at: datetime) -> None:
        self.hold()
        self._state.forget()
        row = self._d.one(
            "SELECT status FROM closed_days WHERE business_date = %s", (self._d.date_in(on),)
        )
        if row is None:
            self._c.execute(
                closed_days.insert().values(
                    business_date=on, closed_at=at, summary_json="{}", status="closing"
                )
            )

    def mark_closed(self, on: date, *, at: datetime, summary: Mapping[str, int]) -> None:
        self._state.forget()
        text = json.dumps(dict(summary), sort_keys=True)
        changed = self._c.execute(
            closed_days.update()
            .where(closed_days.c.business_date == on)
            .values(closed_at=at, summary_json=text, status="closed")
        ).rowcount
        if not changed:
            self._c.execute(
                closed_days.insert().values(
                    business_date=on, closed_at=at, summary_json=text, status="closed"
                )
            )


_VERSION = sa.select(parameter_versions).where(parameter_versions.c.version == _KEY)


class _Parameters:
    """Versions never change once stored, so each is read and parsed once per store. A
    version this unit of work added is kept out of the store's caches: it may roll back,
    and another writer then store a different version under its number."""

    def __init__(
        self,
        connection: sa.Connection,
        driver: Driver,
        cache: dict[int, ParameterSet],
        days: dict[int, tuple[tuple[date | None, ParameterSet], ...]],
        state: _BookState,
    ):
        self._c, self._d, self._cache, self._days, self._state = (
            connection,
            driver,
            cache,
            days,
            state,
        )
        self._added: int | None = None  # the first version this unit of work added

    def _committed(self, version: int) -> bool:
        return self._added is None or version < self._added

    def current(self) -> ParameterSet | None:
        version = self._state.row()[0]
        return self.get(version) if version is not None else None

    def get(self, version: int) -> ParameterSet | None:
        cached = self._cache.get(version)
        if cached is not None:
            return cached
        row = self._c.execute(_VERSION, {"key": version}).first()
        return None if row is None else self._parsed(row)

    def _parsed(self, row: Any) -> ParameterSet:
        cached = self._cache.get(row.version)
        if cached is not None:
            return cached
        parameters = _parameters(row)
        if self._committed(row.version):
            self._cache[row.version] = parameters
        return parameters

    def by_business_day(self) -> tuple[tuple[date | None, ParameterSet], ...]:
        latest = self._state.row()[0]
        if latest is None:
            return ()
        kept = self._days.get(latest)
        if kept is not None:
            return kept
        rows = self._c.execute(sa.select(parameter_versions).order_by(parameter_versions.c.version))
        found = tuple((self._d.date_out(row.in_force_from), self._parsed(row)) for row in rows)
        if self._committed(latest):
            self._days[latest] = found
        return found

    def add(
        self,
        parameters: ParameterSet,
        *,
        actor: str,
        reason: str,
        at: datetime,
        in_force_from: date | None,
    ) -> None:
        self._state.forget()
        latest = self._c.execute(sa.select(sa.func.max(parameter_versions.c.version))).scalar()
        expected = (latest or 0) + 1
        if parameters.version != expected:
            raise Conflict(
                f"parameter version {parameters.version} is not the next version ({expected})",
                field="version",
                rule="PARAMETER_VERSION_NEXT",
            )
        if self._added is None:
            self._added = parameters.version
        self._c.execute(
            parameter_versions.insert().values(
                version=parameters.version,
                created_at=at,
                actor=actor,
                reason=reason,
                values_json=json.dumps(parameters.as_text(), sort_keys=True),
                in_force_from=in_force_from,
            )
        )

    def history(self) -> list[ParameterVersion]:
        rows = self._c.execute(
            sa.select(
                parameter_versions.c.version,
                parameter_versions.c.created_at,
                parameter_versions.c.actor,
                parameter_versions.c.reason,
                parameter_versions.c.in_force_from,
            ).order_by(parameter_versions.c.version)
        )
        return [
            ParameterVersion(
                version=row.version,
                created_at=row.created_at,
                actor=row.actor,
                reason=row.reason,
                in_force_from=self._d.date_out(row.in_force_from),
            )
            for row in rows
        ]

    def candidate(self) -> Candidate | None:
        text = self._state.row()[3]
        if text is None:
            return None
        block = json.loads(text)
        return Candidate(
            candidate_id=block["candidate_id"],
            parameters=ParameterSet.from_text(block["version"], block["values"]),
            started_at=datetime.fromisoformat(block["started_at"]),
            actor=block["actor"],
            reason=block["reason"],
        )

    def set_candidate(self, candidate: Candidate | None) -> None:
        self._state.forget()
        self._c.execute(book_settings.delete().where(book_settings.c.key == _CANDIDATE))
        if candidate is None:
            return
        block = {
            "candidate_id": candidate.candidate_id,
            "version": candidate.parameters.version,
            "values": candidate.parameters.as_text(),
            "started_at": candidate.started_at.isoformat(),
            "actor": candidate.actor,
            "reason": candidate.reason,
        }
        self._c.execute(book_settings.insert().values(key=_CANDIDATE, value=json.dumps(block)))

    def candidates_started(self) -> int:
        return int(_setting(self._c, _CANDIDATES_STARTED) or 0)

    def next_candidate_id(self) -> int:
        started = self.candidates_started() + 1
        self._c.execute(book_settings.delete().where(book_settings.c.key == _CANDIDATES_STARTED))
        self._c.execute(book_settings.insert().values(key=_CANDIDATES_STARTED, value=str(started)))
        return started


_CANDIDATE = "shadow_candidate"
_CANDIDATES_STARTED = "shadow_candidates_started"


def _setting(connection: sa.Connection, key: str) -> str | None:
    return connection.execute(
        sa.select(book_settings.c.value).where(book_settings.c.key == key)
    ).scalar()


class _Portfolio:
    def __init__(self, connection: sa.Connection):
        self._c = connection

    def add_indicators(self, on: date, values: Mapping[str, Any]) -> None:
        self._c.execute(
            daily_indicators.insert().values(
                business_date=on, values_json=json.dumps(values, sort_keys=True)
            )
        )

    def indicators(self, first: date, last: date) -> list[tuple[date, Mapping[str, Any]]]:
        rows = self._c.execute(
            sa.select(daily_indicators)
            .where(daily_indicators.c.business_date.between(first, last))
            .order_by(daily_indicators.c.business_date)
        )
        return [(row.business_date, json.loads(row.values_json)) for row in rows]

    def add_incident(self, incident: Incident) -> Incident:
        values = _incident_row(incident)
        values.pop("incident_id")
        new_id = self._c.execute(incidents.insert().values(**values)).inserted_primary_key
        assert new_id is not None
        return dataclasses.replace(incident, incident_id=int(new_id[0]))

    def save_incident(self, incident: Incident) -> None:
        self._c.execute(
            incidents.update()
            .where(incidents.c.incident_id == incident.incident_id)
            .values(**_incident_row(incident))
        )

    def incidents(self) -> list[Incident]:
        rows = self._c.execute(sa.select(incidents).order_by(incidents.c.incident_id))
        return [
            Incident(
                incident_id=row.incident_id,
                opened_on=row.opened_on,
                opened_at=row.opened_at,
                breaches=tuple(json.loads(row.breaches_json)),
                normal_version=row.normal_version,
                tightened_version=row.tightened_version,
                closed_at=row.closed_at,
                closed_by=row.closed_by,
                close_reason=row.close_reason,
                restored_version=row.restored_version,
            )
            for row in rows
        ]

    def count_active(self) -> Mapping[str, int]:
        paylater = self._c.execute(
            sa.select(sa.func.count()).where(customer_limits.c.used_paylater_fen > 0)
        ).scalar()
        active_loans = self._c.execute(
            sa.select(sa.func.count()).where(loans.c.status == "active")
        ).scalar()
        return {"paylater": int(paylater or 0), "loan": int(active_loans or 0)}


def _incident_row(incident: Incident) -> dict[str, Any]:
    return {
        "incident_id": incident.incident_id,
        "opened_on": incident.opened_on,
        "opened_at": incident.opened_at,
        "breaches_json": json.dumps(list(incident.breaches), sort_keys=True),
        "normal_version": incident.normal_version,
        "tightened_version": incident.tightened_version,
        "closed_at": incident.closed_at,
        "closed_by": incident.closed_by,
        "close_reason": incident.close_reason,
        "restored_version": incident.restored_version,
    }


def _parameters(row: sa.Row[Any]) -> ParameterSet:
    return ParameterSet.from_text(row.version, json.loads(row.values_json))


class _Audit:
    def __init__(self, connection: sa.Connection):
        self._c = connection

    def record(self, record: AuditRecord) -> None:
        self._c.execute(
            audit_log.insert().values(
                at=record.at,
                actor=record.actor,
                action=record.action,
                subject=record.subject,
                reason=record.reason,
                details_json=json.dumps(record.details, sort_keys=True, default=str),
            )
        )

    def recent(
        self,
        *,
        limit: int,
        offset: int = 0,
        action: str | None = None,
        actor: str | None = None,
        subject: str | None = None,
    ) -> list[AuditRecord]:
        query = sa.select(audit_log)
        if action is not None:
            query = query.where(
                (audit_log.c.action == action)
                | audit_log.c.action.startswith(f"{action}.", autoescape=True)
            )
        if actor is not None:
            query = query.where(audit_log.c.actor == actor)
        if subject is not None:
            query = query.where(audit_log.c.subject == subject)
        rows = self._c.execute(
            query.order_by(audit_log.c.audit_id.desc()).offset(offset).limit(limit)
        )
        return [
            AuditRecord(
                at=row.at,
                actor=row.actor,
                action=row.action,
                subject=row.subject,
                reason=row.reason,
                details=json.loads(row.details_json),
            )
            for row in rows
        ]


class _ApiKeys:
    def __init__(self, connection: sa.Connection, driver: Driver):
        self._c, self._d = connection, driver

    def add(self, key: ApiKeyRecord) -> ApiKeyRecord:
        values = _api_key_row(key)
        values.pop("key_id")
        new_id = self._c.execute(api_keys.insert().values(**values)).inserted_primary_key
        assert new_id is not None
        return dataclasses.replace(key, key_id=int(new_id[0]))

    def find_by_digest(self, digest: str) -> ApiKeyRecord | None:
        # Every API request asks this: straight to the driver.
        row = self._d.one(_API_KEY_BY_DIGEST, (digest,))
        return None if row is None else _api_key(row)

    def get(self, key_id: int) -> ApiKeyRecord | None:
        row = self._c.execute(sa.select(api_keys).where(api_keys.c.key_id == key_id)).first()
        return None if row is None else _api_key(row)

    def list(self) -> list[ApiKeyRecord]:
        rows = self._c.execute(sa.select(api_keys).order_by(api_keys.c.key_id))
        return [_api_key(row) for row in rows]

    def revoke(self, key_id: int, *, at: datetime) -> None:
        self._c.execute(api_keys.update().where(api_keys.c.key_id == key_id).values(revoked_at=at))

    def end_session(self, session_digest: str, *, key_id: int, expires_at: datetime) -> None:
        # Two sign-outs of one session at once: the second changes nothing, and fails not.
        expires = self._d.timestamp_in(expires_at)
        self._d.send(_END_SESSION, (session_digest, key_id, expires))

    def session_ended(self, session_digest: str) -> bool:
        column = ended_sessions.c.session_digest
        found = self._c.execute(sa.select(column).where(column == session_digest)).first()
        return found is not None

    def forget_sessions_expired(self, *, at: datetime) -> int:
        gone = self._c.execute(
            ended_sessions.delete().where(ended_sessions.c.expires_at <= at)
        ).rowcount
        return int(gone or 0)


def _api_key_row(key: ApiKeyRecord) -> dict[str, Any]:
    return {field.name: getattr(key, field.name) for field in dataclasses.fields(key)}


def _api_key(row: Sequence[Any]) -> ApiKeyRecord:
    """A key from a row of `api_keys` in its column order (`_API_KEY_BY_DIGEST`'s too)."""
    key_id, digest, role, customer_id, label, created_at, created_by, revoked_at = row
    created = timestamp_out(created_at)
    assert created is not None, key_id
    return ApiKeyRecord(
        key_id=key_id,
        digest=digest,
        role=role,
        customer_id=customer_id,
        label=label,
        created_at=created,
        created_by=created_by,
        revoked_at=timestamp_out(revoked_at),
    )


_API_KEY_BY_DIGEST = (
    "SELECT key_id, digest, role, customer_id, label, created_at, created_by, revoked_at"
    " FROM api_keys WHERE digest = %s"
)
_END_SESSION = (
    "INSERT INTO ended_sessions (session_digest, key_id, expires_at) VALUES (%s, %s, %s)"
    " ON CONFLICT (session_digest) DO NOTHING"
)
_RESPONSE_BY_KEY = (
    "SELECT idempotency_key, fingerprint, request, status_code, body, created_at"
    " FROM idempotent_responses WHERE idempotency_key = %s"
)
_KEEP_RESPONSE = (
    "INSERT INTO idempotent_responses"
    " (idempotency_key, fingerprint, request, status_code, body, created_at)"
    " VALUES (%s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key"
)
# On PostgreSQL the same insert also sets `synchronous_commit` off for its own transaction
# (set_config's third argument: local), in one statement, so that it can run on its own in
# autocommit: a `SET LOCAL` there would be a transaction of its own and change nothing.
_KEEP_RESPONSE_PG = (
    "INSERT INTO idempotent_responses"
    " (idempotency_key, fingerprint, request, status_code, body, created_at)"
    " SELECT %s, %s, %s, %s, %s, %s"
    " WHERE set_config('synchronous_commit', 'off', true) = 'off'"
    " ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key"
)

# Oldest first, a batch at a time (`created_at` is indexed): a purge of months of answers
# holds no long transaction.
_FORGET_RESPONSES = (
    "DELETE FROM idempotent_responses WHERE idempotency_key IN ("
    "SELECT idempotency_key FROM idempotent_responses WHERE created_at < %s"
    " ORDER BY created_at LIMIT %s)"
)


class _Responses:
    """Kept HTTP responses, on every money-moving request's path: straight to the driver."""

    def __init__(self, driver: Driver):
        self._d = driver

    def find(self, idempotency_key: str) -> StoredResponse | None:
        row = self._d.one(_RESPONSE_BY_KEY, (idempotency_key,))
        if row is None:
            return None
        created_at = timestamp_out(row[5])
        assert created_at is not None
        return StoredResponse(
            idempotency_key=row[0],
            fingerprint=row[1],
            request=row[2],
            status_code=row[3],
            body=row[4],
            created_at=created_at,
        )

    def add(self, response: StoredResponse) -> bool:
        # ON CONFLICT DO NOTHING, not a caught unique violation: on PostgreSQL an error
        # would abort the whole transaction.
        # On PostgreSQL a kept response need not wait for its WAL flush: if a crash loses
        # it, the retry runs the use case again, which replays its own (durable) first
        # result. Only this transaction is affected (local), and it holds nothing else.
        row = self._d.one(
            _KEEP_RESPONSE_PG if self._d.postgres else _KEEP_RESPONSE,
            (
                response.idempotency_key,
                response.fingerprint,
                response.request,
                response.status_code,
                response.body,
                self._d.timestamp_in(response.created_at),
            ),
        )
        return row is not None

    def forget_kept_before(self, at: datetime, *, limit: int) -> int:
        return self._d.run(_FORGET_RESPONSES, (self._d.timestamp_in(at), limit))


class SqlUnitOfWork:
    customers: _Customers
    limits: _Limits
    ledger: _Ledger
    parameters: _Parameters
    audit: _Audit
    paylater: _PayLater
    loans: _Loans
    decisions: _Decisions
    alerts: _Alerts
    eod: _CloseOfDay
    portfolio: _Portfolio
    api_keys: _ApiKeys
    responses: _Responses

    _driver: Driver

    def __init__(self, store: SqlStore, *, readonly: bool, autocommit: bool = False):
        self._store, self._readonly = store, readonly
        # Only where BEGIN and COMMIT cost round trips (see `Store.reader`).
        self._autocommit = autocommit and store.engine.dialect.name == "postgresql"
        self._turn = None if readonly else store.writer_turn  # SQLite writers take turns
        self._connection: sa.Connection | None = None
        self._transaction: sa.RootTransaction | None = None

    def __enter__(self) -> Self:
        assert self._connection is None, "a unit of work is entered once at a time"
        turn = self._turn
        if turn is not None and not turn.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise TimeoutError(
                f"another unit of work held the book's write lock for {SQLITE_BUSY_TIMEOUT_MS} ms"
            )
        try:
            return self._open()
        except BaseException:
            if turn is not None:
                turn.release()
            raise

    def _open(self) -> Self:
        connection = self._store.engine.connect()
        if self._autocommit:
            # No transaction: each statement commits on its own, and a reader's are not held
            # to one snapshot. COMMIT and ROLLBACK below send nothing.
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        elif self._readonly:
            options: dict[str, Any] = {READONLY: True}
            if connection.dialect.name == "postgresql":
                # One consistent snapshot for a whole report such as `ledger verify`; READ
                # ONLY, so that PostgreSQL itself refuses a write and ending with COMMIT
                # (below) can keep nothing.
                options["isolation_level"] = "REPEATABLE READ"
                options["postgresql_readonly"] = True
            connection = connection.execution_options(**options)
        self._connection = connection
        self._transaction = connection.begin()
        driver = self._driver = Driver(connection)
        self.customers = _Customers(connection, driver, self._store.id_key)
        self.limits = _Limits(connection, driver)
        self.ledger = _Ledger(connection, driver)
        state = _BookState(driver)
        self.parameters = _Parameters(
            connection, driver, self._store.parameter_cache, self._store.parameter_days, state
        )
        self.audit = _Audit(connection)
        self.paylater = _PayLater(connection, driver)
        self.loans = _Loans(connection, driver)
        self.decisions = _Decisions(connection, driver)
        self.alerts = _Alerts(connection)
        self.eod = _CloseOfDay(connection, driver, state)
        self.portfolio = _Portfolio(connection)
        self.api_keys = _ApiKeys(connection, driver)
        self.responses = _Responses(driver)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        assert self._connection is not None
        try:
            if self._transaction is not None and self._transaction.is_active:
                if self._readonly and kind is None and self._driver.postgres:
                    # PostgreSQL ran this reader READ ONLY, so COMMIT and ROLLBACK end it
                    # alike; but on a ROLLBACK psycopg forgets every statement it prepared on
                    # the connection (and its counts), so with readers between writers
                    # nothing was ever prepared and every statement was parsed and planned
                    # afresh. (SQLite enforces no READ ONLY: there a reader rolls back.)
                    self._transaction.commit()
                else:
                    self._transaction.rollback()
        finally:
            try:
                self._driver.close()
                self._connection.close()
            finally:
                self._connection = self._transaction = None
                if self._turn is not None:
                    self._turn.release()

    def commit(self) -> None:
        assert self._transaction is not None, "commit() inside `with uow:` only"
        self._transaction.commit()


class SqlStore:
    """A book in SQLite or PostgreSQL. The schema is brought up to date on first use."""

    def __init__(self, url: str, *, engine: Engine | None = None):
        self.url = url
        self.engine = engine if engine is not None else create_engine(url)
        self.parameter_cache: dict[int, ParameterSet] = {}
        # Every version with its first business day, by the latest version number.
        self.parameter_days: dict[int, tuple[tuple[date | None, ParameterSet], ...]] = {}
        # SQLite has one writer at a time: writers take turns (see turns.py) instead of
        # waiting in SQLite's busy handler.
        self.writer_turn = None
        self._on_disk: Path | None = None
        self._locks: dict[str, threading.Lock] = {}  # `only_one` on a book in memory
        if self.engine.dialect.name == "sqlite":
            database = self.engine.url.database
            # On disk, as engine.py's SQLite check has it; in memory, threads only.
            self._on_disk = Path(database) if database and database != ":memory:" else None
            self.writer_turn = WriterTurn(self._on_disk)
        ensure_schema(self.engine)
        with self.engine.connect() as connection:
            connection = connection.execution_options(**{READONLY: True})
            self.id_key = national_id_key(connection)
            self.id_key_in_book = id_key_kept_in_book(connection)

    def unit_of_work(self, *, autocommit: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self, readonly=False, autocommit=autocommit)

    def reader(self, *, autocommit: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self, readonly=True, autocommit=autocommit)

    def dispose(self) -> None:
        self.engine.dispose()

    def keyed_digest(self, data: bytes) -> str:
        return hmac.new(self.id_key, data, hashlib.sha256).hexdigest()

    @contextlib.contextmanager
    def only_one(self, name: str) -> Iterator[bool]:
        if self.engine.dialect.name != "postgresql":
            with exclusive_file(self._on_disk, name, self._locks) as taken:
                yield taken
            return
        # A session-level advisory lock on a connection of its own: the server lets it go
        # when the connection ends, with its process.
        key = int(hashlib.sha256(name.encode()).hexdigest()[:7], 16)
        with self.engine.connect() as connection:
            taken = bool(
                connection.execute(
                    sa.text("SELECT pg_try_advisory_lock(:space, :key)"),
                    {"space": _ONLY_ONE_SPACE, "key": key},
                ).scalar()
            )
            connection.commit()
            try:
                yield taken
            finally:
                if taken:
                    connection.execute(
                        sa.text("SELECT pg_advisory_unlock(:space, :key)"),
                        {"space": _ONLY_ONE_SPACE, "key": key},
                    )
                    connection.commit()
