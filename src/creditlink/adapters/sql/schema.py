"""Bringing a database to the current schema: on `creditlink init` and on first use."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from creditlink.adapters.sql.engine import READONLY
from creditlink.adapters.sql.tables import book_settings
from creditlink.domain.errors import Conflict

SCHEMA_HEAD = "0014"
MIGRATIONS = Path(__file__).parent / "migrations"
ID_KEY_SETTING = "national_id_key"
ID_KEY_ENV = "CREDITLINK_ID_KEY"
_PG_MIGRATION_LOCK = 727_000_001


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        connection = connection.execution_options(**{READONLY: True})
        if not sa.inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def ensure_schema(engine: Engine) -> bool:
    """Apply any migration not yet applied. Returns True when something was applied."""
    if current_revision(engine) == SCHEMA_HEAD:
        return False
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Two processes starting on a new database must not both create the tables.
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        _ensure_id_key(connection)
    return True


def _ensure_id_key(connection: sa.Connection) -> None:
    """National IDs are stored as keyed hashes. The key is CREDITLINK_ID_KEY when set (keep
    it in a secret store); otherwise a random key is made for this book and kept in it."""
    exists = connection.execute(
        sa.select(book_settings.c.value).where(book_settings.c.key == ID_KEY_SETTING)
    ).first()
    if exists is not None:
        return
    from_environment = os.environ.get(ID_KEY_ENV)
    value = f"env:{_fingerprint(from_environment)}" if from_environment else secrets.token_hex(32)
    connection.execute(book_settings.insert().values(key=ID_KEY_SETTING, value=value))


def id_key_kept_in_book(connection: sa.Connection) -> bool:
    """Whether the book keeps its national-ID key itself (made at random, without
    CREDITLINK_ID_KEY): then a copy of the database gives the IDs back, since the mask leaves
    only a few thousand candidates for each."""
    stored = connection.execute(
        sa.select(book_settings.c.value).where(book_settings.c.key == ID_KEY_SETTING)
    ).scalar_one()
    return not str(stored).startswith("env:")


def national_id_key(connection: sa.Connection) -> bytes:
    stored = connection.execute(
        sa.select(book_settings.c.value).where(book_settings.c.key == ID_KEY_SETTING)
    ).scalar_one()
    if not stored.startswith("env:"):
        return bytes.fromhex(stored)
    from_environment = os.environ.get(ID_KEY_ENV)
    if not from_environment or not hmac.compare_digest(
        f"env:{_fingerprint(from_environment)}", stored
    ):
        raise Conflict(
            f"this book hashes national IDs with the key in {ID_KEY_ENV}; set it to "
            "the same value it had when the book was created",
            field=ID_KEY_ENV,
            rule="ID_KEY_MATCHES_BOOK",
        )
    return from_environment.encode()


def _fingerprint(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:16]
