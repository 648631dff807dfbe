"""The one place that wires adapters into use cases, from settings.

Settings come from the command line first, then the environment:
`CREDITLINK_DB` (the database URL; default `sqlite:///creditlink.db` in the working folder)
and `CREDITLINK_ACTOR` (who is acting, for the audit log; default the login name).
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path

from creditlink.adapters.clock import SystemClock
from creditlink.adapters.memory import MemoryStore
from creditlink.application.parameters import ensure_parameters
from creditlink.application.ports import Clock, Store
from creditlink.domain.errors import NotFound

DEFAULT_DATABASE_URL = "sqlite:///creditlink.db"
DATABASE_ENV = "CREDITLINK_DB"
ACTOR_ENV = "CREDITLINK_ACTOR"


def database_url(option: str | None = None) -> str:
    return option or os.environ.get(DATABASE_ENV) or DEFAULT_DATABASE_URL


def current_actor() -> str:
    from_environment = os.environ.get(ACTOR_ENV)
    if from_environment:
        return from_environment
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return "unknown"


@dataclass(frozen=True, slots=True)
class Book:
    """A store with its clock and actor: what every use case call needs from outside."""

    store: Store
    clock: Clock
    actor: str
    url: str
    # The book keeps the key of its national-ID hashes itself (no CREDITLINK_ID_KEY).
    id_key_in_book: bool = False


def open_book(
    url: str | None = None, *, clock: Clock | None = None, existing: bool = False
) -> Book:
    """Open (creating and migrating on first use) the book at `url`. With `existing`, a
    SQLite book that is not there is refused rather than made: a command that only reads
    must not answer a mistyped path with a new, empty book (that "verifies")."""
    from creditlink.adapters.sql.engine import normalise_url
    from creditlink.adapters.sql.store import SqlStore

    resolved = normalise_url(database_url(url))
    if existing and resolved.startswith("sqlite:///"):
        path = Path(resolved.removeprefix("sqlite:///").split("?", 1)[0])
        if str(path) not in ("", ":memory:") and not path.exists():
            raise NotFound(
                f"there is no book at {path}: check --db (or {DATABASE_ENV}); commands that "
                "change a book create it",
                field="db",
                rule="BOOK_EXISTS",
            )
    clock = clock or SystemClock()
    store = SqlStore(resolved)
    ensure_parameters(store.unit_of_work(), clock=clock)
    return Book(
        store=store,
        clock=clock,
        actor=current_actor(),
        url=resolved,
        id_key_in_book=store.id_key_in_book,
    )


def memory_book(*, clock: Clock | None = None, checked: bool = True) -> Book:
    """A book in memory, with the default parameters stored as version 1. `checked=False`
    drops the store's defensive copies and checks (see `adapters.memory`), for the twin."""
    clock = clock or SystemClock()
    store = MemoryStore(checked=checked)
    ensure_parameters(store.unit_of_work(), clock=clock)
    return Book(store=store, clock=clock, actor=current_actor(), url="memory://")
