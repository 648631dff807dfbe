"""Printing for people (Rich tables) and for machines (`--json`)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from creditlink.bootstrap import Book


def console(*, stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")


def table(title: str | None, columns: list[str], rows: list[list[str]]) -> Any:
    from rich.table import Table

    grid = Table(title=title, title_justify="left", show_lines=False)
    for column in columns:
        numeric = column.lower().endswith(
            (
                "limit",
                "cap",
                "used",
                "available",
                "balance",
                "amount",
                "debit",
                "credit",
                "purchases",
                "minimum",
                "paid",
                "principal",
                "interest",
            )
        )
        grid.add_column(column, justify="right" if numeric else "left")
    for row in rows:
        grid.add_row(*row)
    return grid


def fail(message: str, *, code: int = 1) -> None:
    """A user error: one clear sentence on stderr and a non-zero exit, never a traceback."""
    console(stderr=True).print(f"[bold red]error:[/] {message}")
    raise SystemExit(code)


def warn_if_id_key_in_book(book: Book) -> None:
    """Say, on standard error, that a book keeps the key of its national-ID hashes itself."""
    if book.id_key_in_book:
        console(stderr=True).print(
            "[yellow]warning:[/] this book keeps the key that hashes national IDs in its own "
            "database, so a copy of the database gives the IDs back. For real customers, "
            "create the book with CREDITLINK_ID_KEY set from a secret store."
        )
