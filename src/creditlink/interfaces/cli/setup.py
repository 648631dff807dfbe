"""`creditlink init`: create or migrate a book."""

from __future__ import annotations

from creditlink.interfaces.cli.options import Db
from creditlink.interfaces.cli.output import console, warn_if_id_key_in_book


def init(db: Db = None) -> None:
    """Create the book (or bring its schema up to date) and store the default parameters."""
    from creditlink.adapters.sql.engine import create_engine, normalise_url
    from creditlink.adapters.sql.schema import SCHEMA_HEAD, ensure_schema
    from creditlink.bootstrap import database_url, open_book

    url = normalise_url(database_url(db))
    engine = create_engine(url)
    applied = ensure_schema(engine)
    engine.dispose()
    book = open_book(url)
    with book.store.reader() as uow:
        parameters = uow.parameters.current()
    state = "created or migrated" if applied else "already up to date"
    version = parameters.version if parameters else "-"
    console().print(
        f"Book at [bold]{_redact(url)}[/]: schema {SCHEMA_HEAD}, {state}; "
        f"parameter set version {version} in force."
    )
    warn_if_id_key_in_book(book)


def _redact(url: str) -> str:
    """Hide a password in a URL before printing it."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
