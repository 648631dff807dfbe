"""`creditlink ledger …`: check the books."""

from __future__ import annotations

import typer

from creditlink.interfaces.cli.options import Db, Json
from creditlink.interfaces.cli.output import console, print_json, table

app = typer.Typer(help="Check the double-entry ledger.", no_args_is_help=True)


@app.command("verify")
def verify(db: Db = None, as_json: Json = False) -> None:
    """Check every invariant of the ledger; exit 1 naming each entry or account that breaks.

    Every entry balanced, the trial balance zero, the hash chain intact, each account's
    stored balance equal to the sum of its entries, and each customer's receivables equal
    to what the product records say is owed.
    """
    from creditlink.application.ledger import verify_ledger
    from creditlink.bootstrap import open_book
    from creditlink.interfaces.cli.views import report_data

    book = open_book(db, existing=True)
    report = verify_ledger(book.store.reader())
    data = report_data(report)
    if as_json:
        print_json(data)
    else:
        _print_report(data)
    if not report.ok:
        raise typer.Exit(1)


def _print_report(data: dict[str, object]) -> None:
    out = console()
    mark = {True: "[green]ok[/]", False: "[bold red]FAILED[/]"}
    out.print(
        table(
            "Ledger verification",
            ["check", "result"],
            [
                ["entries", str(data["entries"])],
                ["every entry balanced", mark[bool(data["balanced"])]],
                [
                    "trial balance",
                    f"{data['trial_balance']} {mark[data['trial_balance'] == '0.00']}",
                ],
                ["hash chain intact", mark[bool(data["chain_ok"])]],
                ["account balances = sum of entries", mark[bool(data["account_balances_ok"])]],
                ["receivables = product records", mark[bool(data["receivables_ok"])]],
            ],
        )
    )
    accounts = data["accounts"]
    assert isinstance(accounts, dict)
    if accounts:
        out.print(
            table(
                "Account balances (debit-normal)",
                ["account", "balance"],
                [[name, value] for name, value in accounts.items()],
            )
        )
    problems = data["problems"]
    assert isinstance(problems, list)
    for problem in problems:
        out.print(
            f"[bold red]✗[/] {problem['subject']}: {problem['message']} "
            f"[dim]({problem['check']})[/]"
        )
    hidden = int(str(data["problem_count"])) - len(problems)
    if hidden > 0:
        out.print(f"… and {hidden} more problems (see --json for the first 100)")
    if data["ok"]:
        out.print("[green]The ledger verifies.[/]")
