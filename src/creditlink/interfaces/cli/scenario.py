"""`creditlink scenario run`: executable product examples (SCENARIOS.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from creditlink.interfaces.cli.output import console

app = typer.Typer(
    help="Run scenario files: scripted customers and dated operations.", no_args_is_help=True
)


@app.command("run")
def run(
    file: Annotated[Path, typer.Argument(help="The scenario YAML file.")],
    db: Annotated[
        str | None,
        typer.Option(
            "--db", help="Keep the book in this new database (default: a temporary SQLite file)."
        ),
    ] = None,
) -> None:
    """Run a scenario and print its result JSON; exit 1 when an expectation fails and 2 when
    the file is malformed (the message names the line and the field)."""
    from creditlink.simulation.scenario.loader import ScenarioError, load
    from creditlink.simulation.scenario.runner import run as run_scenario

    err = console(stderr=True)
    from rich.markup import escape

    try:
        scenario = load(file)
        outcome = run_scenario(scenario, db=db)
    except ScenarioError as error:
        err.print(f"[bold red]error:[/] {error}")
        raise typer.Exit(2) from None
    sys.stdout.write(json.dumps(outcome.result, indent=2, ensure_ascii=False) + "\n")
    if outcome.failures:
        for failure in outcome.failures:
            where = f"line {failure.line}: " if failure.line else ""
            err.print(f"[bold red]✗[/] {where}{escape(failure.describe())}")
        err.print(f"{len(outcome.failures)} of {len(scenario.expect)} expectations failed")
        raise typer.Exit(1)
    if scenario.expect:
        err.print(f"[green]all {len(scenario.expect)} expectations hold[/]")
