"""`creditlink service …`: housekeeping of the HTTP service's records."""

from __future__ import annotations

from typing import Annotated

import typer

from creditlink.interfaces.cli.options import Db, Json
from creditlink.interfaces.cli.output import console, print_json

app = typer.Typer(help="Housekeeping of the HTTP service's records.", no_args_is_help=True)

DEFAULT_DAYS = 30


@app.command("forget-answers")
def forget_answers(
    older_than_days: Annotated[
        int,
        typer.Option(
            "--older-than-days",
            help="Drop the answers kept more than this many days ago (at least 1).",
        ),
    ] = DEFAULT_DAYS,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Drop old answers kept under Idempotency-Keys, so the table stays the size of the
    retention; run it daily beside `eod`.

    A retry of a purchase, refund, repayment, plan or draw after that still gets its first
    outcome and posts nothing (the ledger and the decisions keep the key spent); a retry of
    an onboarding, a parameter change, an alert action or a restore runs again. Audited.
    """
    from creditlink.application.apikeys import forget_kept_answers
    from creditlink.bootstrap import open_book

    book = open_book(db, existing=True)
    forgotten = forget_kept_answers(
        book.store, older_than_days=older_than_days, actor=book.actor, clock=book.clock
    )
    if as_json:
        print_json({"forgotten": forgotten, "older_than_days": older_than_days})
        return
    console().print(f"{forgotten} kept answers older than {older_than_days} days forgotten.")
