"""`creditlink eod`: close business dates, in order."""

from __future__ import annotations

from typing import Annotated

import typer

from creditlink.interfaces.cli.options import Db, Json
from creditlink.interfaces.cli.output import console, print_json, table


def eod(
    date_: Annotated[
        str,
        typer.Option(
            "--date", help="The business date to close, YYYY-MM-DD (with --through: the first one)."
        ),
    ],
    through: Annotated[
        str | None, typer.Option(help="Close every date from --date through this one, day by day.")
    ] = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Close business dates: statements, interest, ageing, write-offs, limit changes.

    Idempotent for a date already closed; refuses to skip a date; runs alone on a book;
    after a crash, run it again and it finishes what was left. When a date is refused
    partway through a range, the dates closed before it are listed, then the error.
    """
    from datetime import timedelta

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from creditlink.application.close_of_day import close_day
    from creditlink.bootstrap import open_book
    from creditlink.domain.calendar import parse_date
    from creditlink.domain.errors import CreditlinkError, InvalidInput

    first = parse_date(date_, field="date")
    last = parse_date(through, field="through") if through else first
    if last < first:
        raise InvalidInput("must be on or after --date", field="through", rule="DATE_ORDER")
    batch_size = _batch_size()
    book = open_book(db)
    reports = []
    refused: CreditlinkError | None = None
    days = (last - first).days + 1
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console(stderr=True),
        transient=True,
        disable=as_json,
    ) as bar:
        task = bar.add_task("closing", total=days)
        accounts = bar.add_task("accounts", total=None)
        day = first
        while day <= last:
            bar.update(task, description=f"closing {day.isoformat()}")
            bar.reset(accounts, description="accounts visited")
            try:
                report = close_day(
                    book.store,
                    on=day,
                    clock=book.clock,
                    batch_size=batch_size,
                    progress=lambda n: bar.advance(accounts, n),
                    actor=book.actor,
                )
            except CreditlinkError as error:
                refused = error  # the dates before it stay closed: say which
                break
            reports.append(report)
            bar.advance(task)
            day += timedelta(days=1)
    rows = [
        {
            "date": r.on.isoformat(),
            "already_closed": r.already_closed,
            "accounts": r.accounts,
            "statements": r.statements,
            "write_offs": r.write_offs,
            "limits": r.limits,
        }
        for r in reports
    ]
    if refused is not None and not rows:
        raise refused
    if as_json:
        print_json(rows)
    else:
        _print_days(rows)
    if refused is not None:
        raise refused


def _print_days(rows: list[dict[str, object]]) -> None:
    console().print(
        table(
            "Close of day",
            ["date", "result", "accounts", "statements", "write-offs", "limits"],
            [
                [
                    str(row["date"]),
                    "already closed" if row["already_closed"] else "closed",
                    str(row["accounts"]),
                    str(row["statements"]),
                    str(row["write_offs"]),
                    str(row["limits"]),
                ]
                for row in rows
            ],
        )
    )


BATCH_ENV = "CREDITLINK_EOD_BATCH_SIZE"
BATCH_MAX = 100_000


def _batch_size() -> int:
    """Accounts closed per transaction, from CREDITLINK_EOD_BATCH_SIZE (default 200). Refused
    unless a whole number from 1 to 100,000: 0 closed dates doing nothing, for good."""
    import os

    from creditlink.domain.errors import InvalidInput

    text = os.environ.get(BATCH_ENV, "200").strip()
    if not text.isdigit() or not 1 <= int(text) <= BATCH_MAX:
        raise InvalidInput(
            f"must be a whole number from 1 to {BATCH_MAX:,}, got {text!r}",
            field=BATCH_ENV,
            rule="BATCH_SIZE_RANGE",
        )
    return int(text)
