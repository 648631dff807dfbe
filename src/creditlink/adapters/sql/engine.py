"""Engines for the two supported databases, set up the way the store relies on.

SQLite: WAL mode (readers never block the writer), `synchronous=NORMAL` (a committed
transaction survives a crash of the process; a power cut can lose the last few commits but
never corrupts the book), foreign keys on, and every write transaction opened with
`BEGIN IMMEDIATE`, which takes the database's write lock at once. That lock is what
serialises two operations on one customer: the second waits (up to the busy timeout) and
then reads what the first committed.

PostgreSQL: psycopg 3; per-customer serialisation is a row lock (`SELECT … FOR UPDATE`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from creditlink.domain.errors import InvalidInput

READONLY = "creditlink_readonly"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def normalise_url(url: str) -> str:
    """Accept `sqlite:///path`, a plain file path, or `postgresql://…` (psycopg 3)."""
    text = url.strip()
    if not text:
        raise InvalidInput("must not be empty", field="db", rule="DATABASE_URL")
    for prefix in ("postgresql+psycopg://", "sqlite://"):
        if text.startswith(prefix):
            return text
    for prefix in ("postgresql://", "postgres://"):
        if text.startswith(prefix):
            return "postgresql+psycopg://" + text[len(prefix) :]
    if "://" in text:
        raise InvalidInput(
            f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql://…",
            field="db",
            rule="DATABASE_URL",
        )
    return f"sqlite:///{Path(text)}"


def create_engine(url: str, **options: Any) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        return _sqlite_engine(url, **options)
    options.setdefault("pool_size", 10)
    options.setdefault("max_overflow", 20)
    options.setdefault("pool_pre_ping", True)
    return sa.create_engine(url, **options)


def _sqlite_engine(url: str, **options: Any) -> Engine:
    database = sa.engine.make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **options
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" hook below decide how each transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # 64 MiB of page cache per connection (the default is 2 MiB): the hot pages of a
        # busy book (limits, accounts, the ledger's tail) stay in memory.
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        readonly = connection.get_execution_options().get(READONLY, False)
        # Straight to the driver: this runs once per unit of work, on the hot path.
        driver = connection.connection.driver_connection
        assert driver is not None
        driver.execute("BEGIN" if readonly else "BEGIN IMMEDIATE")

    return engine
