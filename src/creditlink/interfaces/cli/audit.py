"""`creditlink audit`: read the audit log, as auditors do through `GET /audit`."""

from __future__ import annotations

from typing import Annotated

import typer

from creditlink.interfaces.cli.options import Db, Json
from creditlink.interfaces.cli.output import console, print_json, table


def audit(
    db: Db = None,
    action: Annotated[
        str | None,
        typer.Option(
            help="Only this action, or its family: limit is limit.change, limit.temporary, ..."
        ),
    ] = None,
    actor: Annotated[str | None, typer.Option(help="Only this actor.")] = None,
    subject: Annotated[
        str | None, typer.Option(help="Only this subject (a customer id, 'version 3', ...).")
    ] = None,
    limit: Annotated[int, typer.Option(help="How many records, 1 to 1000.")] = 50,
    offset: Annotated[int, typer.Option(help="Records to skip, newest first.")] = 0,
    as_json: Json = False,
) -> None:
    """The audit log, newest first: every parameter change, manual action and key issued,
    with who, when, why and the details."""
    from creditlink.application.queries import audit_page
    from creditlink.bootstrap import open_book

    book = open_book(db, existing=True)
    records = audit_page(
        book.store.reader(),
        offset=offset,
        limit=limit,
        action=action,
        actor=actor,
        subject=subject,
    )
    rows = [
        {
            "at": record.at.isoformat(),
            "actor": record.actor,
            "action": record.action,
            "subject": record.subject,
            "reason": record.reason,
            "details": dict(record.details),
        }
        for record in records
    ]
    if as_json:
        print_json(rows)
        return
    console().print(
        table(
            "Audit log, newest first",
            ["at", "actor", "action", "subject", "reason"],
            [
                [
                    str(row["at"]),
                    str(row["actor"]),
                    str(row["action"]),
                    str(row["subject"]),
                    str(row["reason"]),
                ]
                for row in rows
            ],
        )
    )
    if not rows:
        console().print("No records match." if offset == 0 else "No records past this offset.")
