"""Options shared by many commands."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from creditlink.bootstrap import Book

Db = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="CREDITLINK_DB",
        show_envvar=True,
        help="Database URL: sqlite:///PATH (default sqlite:///creditlink.db) or "
        "postgresql://USER@HOST:PORT/DB.",
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
On = Annotated[
    str | None,
    typer.Option(
        "--on",
        help="Business date YYYY-MM-DD (default: the open business date, the day after the "
        "last close; today on a book never closed).",
    ),
]


def business_date(text: str | None, book: Book) -> date:
    """The date given with --on, or the book's open business date (today by the book's
    clock on a book never closed): the operation's use case refuses any other."""
    from creditlink.application.business_date import open_business_date
    from creditlink.domain.calendar import parse_date

    if text:
        return parse_date(text, field="on")
    return open_business_date(book.store.reader(), today=book.clock.today())


def view_date(text: str | None, book: Book) -> date:
    """The date a view is as of: --on (not before the open business date) or the open
    business date."""
    from creditlink.application.business_date import view_date as rule
    from creditlink.domain.calendar import parse_date

    on = parse_date(text, field="on") if text else None
    return rule(book.store.reader(), on, today=book.clock.today())
