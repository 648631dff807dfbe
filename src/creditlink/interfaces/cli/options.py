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
    typer.Option("--on", help="Business date YYYY-MM-DD (default: today)."),
]


def business_date(text: str | None, book: Book) -> date:
    """The date given with --on, or today by the book's clock."""
    from creditlink.domain.calendar import parse_date

    return parse_date(text, field="on") if text else book.clock.today()
