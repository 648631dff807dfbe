"""`creditlink`: the command line. Each command reads like one sentence calling one use case.

Heavy libraries (SQLAlchemy, Alembic) are imported inside commands, so `--help` is quick.
"""

from __future__ import annotations

import inspect
import os
import sys

import typer

from creditlink import __version__
from creditlink.interfaces.cli import (
    apikeys,
    audit,
    customers,
    demo,
    eod,
    ledger,
    loans,
    model,
    params,
    portfolio,
    scenario,
    serve,
    service,
    setup,
    twin,
)

app = typer.Typer(
    name="creditlink",
    help="PayLater and Cash Loan on one shared risk core, with one joint limit per customer.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"creditlink {__version__}")
        raise typer.Exit


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """PayLater and Cash Loan on one shared risk core, with one joint limit per customer."""


app.command("init")(setup.init)
app.command("demo")(twin.demo)
app.command("simulate")(twin.simulate)
app.command("tour")(demo.demo)
app.command("eod")(eod.eod)
app.command("serve")(serve.serve)
app.command("audit")(audit.audit)
app.add_typer(apikeys.app, name="apikey")
app.add_typer(customers.app, name="customer")
app.add_typer(ledger.app, name="ledger")
app.add_typer(loans.app, name="loan")
app.add_typer(model.app, name="model")
app.add_typer(params.app, name="params")
app.add_typer(portfolio.app, name="portfolio")
app.add_typer(scenario.app, name="scenario")
app.add_typer(service.app, name="service")


def _paragraphs_as_lines(commands: typer.Typer) -> None:
    """Docstrings are wrapped at the source's width, and typer keeps their line breaks, which
    the terminal then breaks again mid-sentence. Each paragraph becomes one line, for the
    terminal to wrap at its own width."""
    for info in commands.registered_commands:
        if info.help is None and info.callback is not None and info.callback.__doc__:
            paragraphs = inspect.cleandoc(info.callback.__doc__).split("\n\n")
            info.help = "\n\n".join(" ".join(p.split()) for p in paragraphs)
    for group in commands.registered_groups:
        if group.typer_instance is not None:
            _paragraphs_as_lines(group.typer_instance)


_paragraphs_as_lines(app)

DEBUG_ENV = "CREDITLINK_DEBUG"


def run() -> None:
    """The console script: user errors become one sentence and exit 1, never a traceback."""
    from creditlink.domain.errors import CreditlinkError
    from creditlink.interfaces.cli.output import console

    err = console(stderr=True)
    try:
        app()
    except CreditlinkError as error:
        err.print(f"[bold red]error:[/] {error} [dim]({error.rule})[/]")
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/]: nothing half-done was committed")
        sys.exit(130)
    except Exception as error:
        if os.environ.get(DEBUG_ENV):
            raise
        if type(error).__module__.startswith("sqlalchemy"):
            cause = getattr(error, "orig", None) or error
            err.print(
                f"[bold red]error:[/] the database refused the request: "
                f"{str(cause).splitlines()[0]}"
            )
            sys.exit(1)
        err.print(
            f"[bold red]internal error:[/] {type(error).__name__}: {error}\n"
            f"Nothing half-done was committed. Set {DEBUG_ENV}=1 to see the traceback, "
            "and please report it."
        )
        sys.exit(70)
