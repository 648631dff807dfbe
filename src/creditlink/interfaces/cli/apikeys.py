"""`creditlink apikey …`: make, list and revoke the API's keys."""

from __future__ import annotations

from typing import Annotated

import typer

from creditlink.interfaces.cli.options import Db, Json
from creditlink.interfaces.cli.output import console, print_json, table

app = typer.Typer(help="Make, list and revoke API keys.", no_args_is_help=True)


@app.command("create")
def create(
    role: Annotated[str, typer.Option(help="customer, operator, risk_admin or auditor.")],
    customer: Annotated[
        str | None, typer.Option("--customer", help="The customer a customer key acts for.")
    ] = None,
    label: Annotated[str, typer.Option(help="Who or what holds the key.")] = "",
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Make an API key and print it once: only its hash is stored."""
    from creditlink.application.apikeys import create_api_key
    from creditlink.bootstrap import open_book

    book = open_book(db)
    key, principal = create_api_key(
        book.store.unit_of_work(),
        role=role,
        customer_id=customer,
        label=label,
        actor=book.actor,
        clock=book.clock,
    )
    if as_json:
        print_json(
            {
                "key_id": principal.key_id,
                "role": principal.role,
                "customer_id": principal.customer_id,
                "key": key,
            }
        )
        return
    out = console()
    out.print(key, markup=False, highlight=False)
    console(stderr=True).print(
        f"API key {principal.key_id} ({principal.role}"
        f"{f' for {principal.customer_id}' if principal.customer_id else ''}). "
        "[bold yellow]Keep it now: it is not shown again[/] (only its hash is stored)."
    )


@app.command("list")
def list_(db: Db = None, as_json: Json = False) -> None:
    """Every key: id, role, customer, label, when made, whether revoked (never the key)."""
    from creditlink.application.apikeys import list_api_keys
    from creditlink.bootstrap import open_book

    book = open_book(db, existing=True)
    rows = [
        {
            "key_id": key.key_id,
            "role": key.role,
            "customer_id": key.customer_id,
            "label": key.label,
            "created_at": key.created_at.isoformat(timespec="seconds"),
            "created_by": key.created_by,
            "revoked_at": key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else None,
        }
        for key in list_api_keys(book.store.reader())
    ]
    if as_json:
        print_json(rows)
        return
    console().print(
        table(
            "API keys",
            ["id", "role", "customer", "label", "created", "by", "revoked"],
            [[str(value or "") for value in row.values()] for row in rows],
        )
    )


@app.command("revoke")
def revoke(
    key_id: Annotated[int, typer.Argument(help="The key's id (see `apikey list`).")],
    reason: Annotated[str, typer.Option(help="Why: kept in the audit log.")],
    db: Db = None,
) -> None:
    """Stop a key from working, at once and for good."""
    from creditlink.application.apikeys import revoke_api_key
    from creditlink.bootstrap import open_book

    book = open_book(db)
    revoke_api_key(
        book.store.unit_of_work(), key_id=key_id, actor=book.actor, reason=reason, clock=book.clock
    )
    console().print(f"API key {key_id} revoked.")
