"""The driver's own cursor, for the few statements on every operation's path.

SQLAlchemy's per-statement machinery costs more than these small keyed reads and writes, so
they go straight to the DBAPI cursor of the unit of work's connection, inside the same
transaction. SQL is written with `%s` and turned into `?` for SQLite; SQLite keeps dates as
ISO text (as SQLAlchemy does), PostgreSQL as dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

import sqlalchemy as sa


@cache
def _qmark(sql: str) -> str:
    return sql.replace("%s", "?")


def timestamp_out(value: Any) -> datetime | None:
    """A timestamp column's value, read through SQLAlchemy or the driver, as an aware
    datetime: SQLite keeps timestamps without their offset (the clock gives them in UTC), and
    its driver hands them out as text."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Driver:
    def __init__(self, connection: sa.Connection):
        self.postgres = connection.dialect.name == "postgresql"
        driver_connection = connection.connection.driver_connection
        assert driver_connection is not None
        self.cursor = driver_connection.cursor()
        self.integrity_error: type[Exception] = connection.dialect.loaded_dbapi.IntegrityError
        self.closed = False

    def sql(self, text: str) -> str:
        return text if self.postgres else _qmark(text)

    def date_in(self, day: date | None) -> date | str | None:
        if day is None or self.postgres:
            return day
        return day.isoformat()

    def date_out(self, value: Any) -> date | None:
        if value is None or isinstance(value, date):
            return value
        return date.fromisoformat(value)

    def timestamp_in(self, moment: datetime) -> datetime | str:
        """A timestamp as SQLAlchemy's DateTime column keeps it: itself on PostgreSQL; text
        without the offset on SQLite (where the clock's times are UTC)."""
        if self.postgres:
            return moment
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f")

    def pipeline(self) -> AbstractContextManager[object]:
        """On PostgreSQL, statements sent inside go to the server together and are answered
        together (one round trip; an error surfaces by the end of the block at the latest).
        SQLite runs in-process: nothing to batch."""
        if not self.postgres:
            return nullcontext()
        pipeline: AbstractContextManager[object] = self.cursor.connection.pipeline()
        return pipeline

    def send(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run a statement whose result is not wanted (in a pipeline: queued, not awaited)."""
        self.cursor.execute(self.sql(sql), params)

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        self.cursor.execute(self.sql(sql), params)
        row: tuple[Any, ...] | None = self.cursor.fetchone()
        return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.cursor.execute(self.sql(sql), params)
        return list(self.cursor.fetchall())

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        self.cursor.execute(self.sql(sql), params)
        return int(self.cursor.rowcount)

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.cursor.executemany(self.sql(sql), rows)

    def close(self) -> None:
        self.closed = True
        self.cursor.close()
