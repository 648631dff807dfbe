"""`creditlink params …`: the versioned parameter set risk officers change at run time."""

from __future__ import annotations

from typing import Annotated

import typer

from creditlink.interfaces.cli.options import Db, Json
from creditlink.interfaces.cli.output import console, print_json, table

app = typer.Typer(
    help="Show, change and compare the versioned parameter set.", no_args_is_help=True
)


@app.command("show")
def show(
    version: Annotated[int | None, typer.Option(help="A past version (default: in force).")] = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Show every parameter with its value and what it does."""
    from creditlink.application.parameters import parameter_set
    from creditlink.bootstrap import open_book
    from creditlink.domain.parameters import definitions

    book = open_book(db)
    parameters = parameter_set(book.store.reader(), version=version)
    values = parameters.as_text()
    if as_json:
        print_json({"version": parameters.version, "parameters": values})
        return
    docs = {name: found.doc for name, (_, found) in definitions().items()}
    console().print(
        table(
            f"Parameter set version {parameters.version}",
            ["name", "value", "meaning"],
            [[name, value, docs[name]] for name, value in values.items()],
        )
    )


@app.command("set")
def set_(
    name: Annotated[str, typer.Argument(help="Dotted name, e.g. loan.penalty_multiplier.")],
    value: Annotated[str, typer.Argument(help="New value, e.g. 1.5 or grocery,pharmacy.")],
    reason: Annotated[str, typer.Option(help="Why: kept in the audit log.")],
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Put a new version in force from the next operation, with the reason audited."""
    from creditlink.application.parameters import set_parameters
    from creditlink.bootstrap import open_book

    book = open_book(db)
    before_after = set_parameters(
        book.store.unit_of_work(),
        changes={name: value},
        actor=book.actor,
        reason=reason,
        clock=book.clock,
    )
    if as_json:
        print_json(
            {"version": before_after.version, "name": name, "value": before_after.as_text()[name]}
        )
    else:
        console().print(
            f"Version {before_after.version} in force: {name} = {before_after.as_text()[name]}"
        )


@app.command("history")
def history(db: Db = None, as_json: Json = False) -> None:
    """Every version: when, by whom and why."""
    from creditlink.application.parameters import parameter_history
    from creditlink.bootstrap import open_book

    book = open_book(db)
    rows = [
        {
            "version": item.version,
            "at": item.created_at.isoformat(),
            "actor": item.actor,
            "reason": item.reason,
        }
        for item in parameter_history(book.store.reader())
    ]
    if as_json:
        print_json(rows)
        return
    console().print(
        table(
            "Parameter versions",
            ["version", "at", "actor", "reason"],
            [
                [str(row["version"]), str(row["at"]), str(row["actor"]), str(row["reason"])]
                for row in rows
            ],
        )
    )


@app.command("diff")
def diff(
    first: Annotated[int, typer.Argument(help="The earlier version.")],
    second: Annotated[int, typer.Argument(help="The later version.")],
    db: Db = None,
    as_json: Json = False,
) -> None:
    """What differs between two versions."""
    from creditlink.application.parameters import parameter_set
    from creditlink.bootstrap import open_book

    book = open_book(db)
    before = parameter_set(book.store.reader(), version=first)
    after = parameter_set(book.store.reader(), version=second)
    changes = before.diff(after)
    if as_json:
        print_json([{"name": c.name, "before": c.before, "after": c.after} for c in changes])
        return
    if not changes:
        console().print(f"Versions {first} and {second} are the same.")
        return
    console().print(
        table(
            f"Version {first} → {second}",
            ["name", "before", "after"],
            [[c.name, c.before, c.after] for c in changes],
        )
    )
