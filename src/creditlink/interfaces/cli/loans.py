"""`creditlink loan …`: what a customer-service agent shows before a draw."""

from __future__ import annotations

from typing import Annotated

import typer

from creditlink.interfaces.cli.options import Db, Json
from creditlink.interfaces.cli.output import console, print_json, table

app = typer.Typer(help="Cash loans: quotes.", no_args_is_help=True)


@app.command("quote")
def quote(
    amount: Annotated[str, typer.Option(help='Principal to draw, e.g. "12000.00".')],
    term: Annotated[int, typer.Option(help="Term in months (loan.terms: 3, 6 or 12).")],
    method: Annotated[
        str, typer.Option(help="equal_installment, equal_principal or interest_first.")
    ],
    rate: Annotated[str, typer.Option(help='Daily rate, e.g. "0.0005".')],
    date_: Annotated[str, typer.Option("--date", help="Draw date, YYYY-MM-DD.")],
    db: Db = None,
    as_json: Json = False,
) -> None:
    """The schedule and APR of a draw paid on time; refused above the APR cap."""
    from creditlink.application.loans import quote_loan
    from creditlink.application.parameters import parameter_set
    from creditlink.bootstrap import open_book
    from creditlink.domain.calendar import parse_date
    from creditlink.domain.loan.schedule import Method
    from creditlink.domain.money import format_fen, format_rate, parse_amount, parse_rate

    principal = parse_amount(amount, field="amount")
    daily_rate = parse_rate(rate, field="rate")
    drawn_on = parse_date(date_, field="date")
    chosen = Method.parse(method)
    book = open_book(db, existing=True)
    offer = quote_loan(
        amount_fen=principal,
        term_months=term,
        method=chosen,
        daily_rate=daily_rate,
        on=drawn_on,
        parameters=parameter_set(book.store.reader()),
    )
    data = {
        "principal": format_fen(offer.principal_fen),
        "term_months": offer.term_months,
        "method": offer.method.value,
        "daily_rate": format_rate(offer.daily_rate),
        "apr": format_rate(offer.apr),
        "drawn_on": offer.drawn_on.isoformat(),
        "total_interest": format_fen(offer.interest_fen),
        "total_repaid": format_fen(offer.principal_fen + offer.interest_fen),
        "installments": [
            {
                "k": i.k,
                "due_date": i.due_date.isoformat(),
                "principal": format_fen(i.principal_fen),
                "interest": format_fen(i.interest_fen),
                "total": format_fen(i.total_fen),
            }
            for i in offer.installments
        ],
    }
    if as_json:
        print_json(data)
        return
    out = console()
    out.print(
        f"{data['principal']} over {term} months, {chosen.value}, "
        f"{data['daily_rate']} a day: [bold]APR {data['apr']}[/]"
    )
    rows = [
        [
            str(i.k),
            i.due_date.isoformat(),
            format_fen(i.principal_fen),
            format_fen(i.interest_fen),
            format_fen(i.total_fen),
        ]
        for i in offer.installments
    ]
    grid = table(None, ["k", "due date", "principal", "interest", "total amount"], rows)
    grid.caption = (
        f"total interest {data['total_interest']}, total repaid "
        f"{data['total_repaid']}; interest follows actual days, paid on time"
    )
    out.print(grid)
