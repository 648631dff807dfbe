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

import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from creditlink.domain.errors import InvalidInput

READONLY = "creditlink_readonly"
PING_AFTER_IDLE_S = 5.0
_IDLE_SINCE = "creditlink_idle_since"
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
    # A failed statement's error names its values, and the service logs it: a customer's
    # mobile, name or income would reach the logs. The statement itself is still shown.
    options.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        return _sqlite_engine(url, **options)
    # Kept open: enough for a busy worker's steady concurrency. A connection above
    # `pool_size` is closed when it comes back, so a pool smaller than the requests usually
    # in flight opens and closes a PostgreSQL backend (a fork, its caches cold) for a share
    # of them: with 10, `benchmarks/http.py` at 32 in flight on 2 workers opened about 60
    # sessions a second on /healthz; with 20, none. The ceiling stays 30 per process.
    options.setdefault("pool_size", 20)
    options.setdefault("max_overflow", 10)
    engine = sa.create_engine(url, **options)
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use when it has lain idle for PING_AFTER_IDLE_S.

    SQLAlchemy's `pool_pre_ping` pings on every checkout: one more round trip on every unit
    of work, several per API request. A connection in steady use needs none; one that lay
    idle may have been cut (a database restart, a firewall's idle timeout) and is replaced
    before use. A connection cut while in use fails its request, and SQLAlchemy then
    discards the whole pool, so only the requests in flight at the cut see an error.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_S:
            return
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            dbapi_connection.rollback()
        except Exception as error:
            # The pool discards this connection and tries another (a fresh one if need be).
            raise sa.exc.DisconnectionError(f"a pooled connection was cut: {error}") from error


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
