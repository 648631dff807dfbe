"""`creditlink params …`: the versioned parameter set risk officers change at run time."""

from __future__ import annotations

from pathlib import Path
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

    book = open_book(db, existing=True)
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


@app.command("set", context_settings={"ignore_unknown_options": True})
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
    """Every version: when, by whom and why, and the first business day whose close it
    prices (interest and penalty accrued across a change price each day at the version in
    force at its close)."""
    from creditlink.application.parameters import parameter_history
    from creditlink.bootstrap import open_book

    book = open_book(db, existing=True)
    rows = [
        {
            "version": item.version,
            "at": item.created_at.isoformat(),
            "in_force_from": item.in_force_from.isoformat() if item.in_force_from else None,
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
            ["version", "at", "prices from", "actor", "reason"],
            [
                [
                    str(row["version"]),
                    str(row["at"]),
                    str(row["in_force_from"] or "the start"),
                    str(row["actor"]),
                    str(row["reason"]),
                ]
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

    book = open_book(db, existing=True)
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


def read_candidate(path: Path, *, field: str = "candidate") -> dict[str, object]:
    """A candidate file: YAML or JSON mapping dotted parameter names to values, at the top
    or under `parameters:` (the form scenario files use). Errors name `field`, the option
    the file came with."""
    import yaml

    from creditlink.domain.errors import InvalidInput

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InvalidInput(
            f"cannot read {path}: {error.strerror}", field=field, rule="FILE_READABLE"
        ) from error
    except yaml.YAMLError as error:
        raise InvalidInput(
            f"{path} is not YAML or JSON: {error}", field=field, rule="FILE_PARSES"
        ) from error
    if isinstance(document, dict) and isinstance(document.get("parameters"), dict):
        document = document["parameters"]
    if not isinstance(document, dict) or not document:
        raise InvalidInput(
            f"{path} must map parameter names to values, e.g. `linkage.restrict_dpd: 2`",
            field=field,
            rule="CANDIDATE_MAPPING",
        )
    return {str(name): value for name, value in document.items()}


Candidate = Annotated[
    Path,
    typer.Option(
        "--candidate",
        help="YAML or JSON file mapping parameter names to the candidate's values; the rest "
        "are the live set's.",
    ),
]
Reason = Annotated[str, typer.Option(help="Why: kept in the audit log.")]

shadow_app = typer.Typer(
    help="Run a candidate parameter set in shadow beside the live one (champion/challenger).",
    no_args_is_help=True,
)
app.add_typer(shadow_app, name="shadow")


@shadow_app.command("start")
def shadow_start(
    candidate: Candidate, reason: Reason, db: Db = None, as_json: Json = False
) -> None:
    """Judge every decision under the candidate too, from the next one; recorded, not applied."""
    from creditlink.application.challenger import start_shadow
    from creditlink.bootstrap import open_book

    book = open_book(db)
    started = start_shadow(
        book.store.unit_of_work(),
        changes=read_candidate(candidate),
        actor=book.actor,
        reason=reason,
        clock=book.clock,
    )
    if as_json:
        print_json(
            {"candidate": started.candidate_id, "started_at": started.started_at.isoformat()}
        )
        return
    console().print(
        f"Candidate {started.candidate_id} runs in shadow from the next decision. "
        "See `creditlink params shadow-report`."
    )


@shadow_app.command("stop")
def shadow_stop(reason: Reason, db: Db = None) -> None:
    """Stop judging decisions under the candidate (its report stays)."""
    from creditlink.application.challenger import stop_shadow
    from creditlink.bootstrap import open_book

    book = open_book(db)
    stopped = stop_shadow(
        book.store.unit_of_work(), actor=book.actor, reason=reason, clock=book.clock
    )
    console().print(f"Candidate {stopped.candidate_id} stopped.")


def _print_comparison(title: str, report: dict[str, object]) -> None:
    screen = console()
    screen.rule(title)
    screen.print(
        f"Decisions: {report['decisions']}   live {report['live_outcomes']}   "
        f"candidate {report['candidate_outcomes']}   changed: {report['changed']}   "
        f"same outcome, other reasons: {report['reasons_only']}"
    )
    transitions = report["transitions"]
    assert isinstance(transitions, list)
    if transitions:
        screen.print(
            table(
                "Where they differ",
                ["op", "live", "candidate", "decisions"],
                [[t["op"], t["live"], t["candidate"], str(t["count"])] for t in transitions],
            )
        )
    samples = report["samples"]
    assert isinstance(samples, list)
    if samples:
        screen.print(
            table(
                "Examples",
                ["date", "customer", "op", "ref", "live", "candidate"],
                [
                    [
                        s["on"],
                        s["customer"],
                        s["op"],
                        s["ref"],
                        " ".join([s["live"]["outcome"], *s["live"]["reasons"]]),
                        " ".join([s["candidate"]["outcome"], *s["candidate"]["reasons"]]),
                    ]
                    for s in samples
                ],
            )
        )


@app.command("shadow-report")
def shadow_report(
    candidate: Annotated[
        int | None,
        typer.Option("--candidate", help="Candidate number (default: running, else the last)."),
    ] = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Where the candidate's would-be outcomes differ from the live ones."""
    from creditlink.application.challenger import shadow_report as report_of
    from creditlink.bootstrap import open_book

    book = open_book(db, existing=True)
    report = report_of(book.store.reader(), candidate_id=candidate)
    if as_json:
        print_json(report)
        return
    if report["candidate"] is None:
        console().print("No candidate has run in shadow. Start one with `params shadow start`.")
        return
    state = "running" if report["running"] else "stopped"
    _print_comparison(f"Shadow report: candidate {report['candidate']} ({state})", report)


@app.command("backtest")
def backtest(
    candidate: Candidate,
    from_: Annotated[str, typer.Option("--from", help="First business date YYYY-MM-DD.")],
    to: Annotated[str, typer.Option("--to", help="Last business date YYYY-MM-DD.")],
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Replay recorded decisions through the candidate's rules, and show the later
    delinquency of the customers whose outcome would change."""
    from creditlink.application.challenger import backtest as run_backtest
    from creditlink.bootstrap import open_book
    from creditlink.domain.calendar import parse_date

    book = open_book(db, existing=True)
    report = run_backtest(
        book.store.reader(),
        changes=read_candidate(candidate),
        first=parse_date(from_, field="from"),
        last=parse_date(to, field="to"),
    )
    if as_json:
        print_json(report)
        return
    _print_comparison(f"Back-test {report['from']} to {report['to']}", report)
    later = report["later_delinquency"]
    console().print(
        f"Customers whose outcome would change: {later['customers']}; later 1+ DPD "
        f"{later['dpd_1_plus']}, 30+ {later['dpd_30_plus']}, 90+ {later['dpd_90_plus']}, "
        f"written off {later['written_off']} (as of {later['as_of']})."
    )


@app.command("incidents")
def incidents(db: Db = None, as_json: Json = False) -> None:
    """Early-warning incidents: what breached, the tightened version, and the restore."""
    from creditlink.application.emergency import list_incidents
    from creditlink.bootstrap import open_book

    book = open_book(db, existing=True)
    found = list_incidents(book.store.reader())
    rows = [
        {
            "incident": i.incident_id,
            "opened_on": i.opened_on.isoformat(),
            "open": i.open,
            "breaches": list(i.breaches),
            "normal_version": i.normal_version,
            "tightened_version": i.tightened_version,
            "closed_by": i.closed_by,
            "close_reason": i.close_reason,
            "restored_version": i.restored_version,
        }
        for i in found
    ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console().print("No incidents.")
        return
    console().print(
        table(
            "Incidents",
            ["#", "opened", "state", "breaches", "versions", "restore"],
            [
                [
                    str(i.incident_id),
                    i.opened_on.isoformat(),
                    "open" if i.open else "closed",
                    "; ".join(
                        f"{b['indicator']} {b['value']} > {b['threshold']}" for b in i.breaches
                    ),
                    f"{i.normal_version} → {i.tightened_version}",
                    "" if i.open else f"v{i.restored_version} by {i.closed_by}: {i.close_reason}",
                ]
                for i in found
            ],
        )
    )


@app.command("restore")
def restore(
    incident: Annotated[int, typer.Option("--incident", help="The open incident's number.")],
    reason: Reason,
    db: Db = None,
) -> None:
    """Put the normal parameter set back in force after an incident, with a reason."""
    from creditlink.application.emergency import restore_parameters
    from creditlink.bootstrap import open_book

    book = open_book(db)
    closed = restore_parameters(
        book.store.unit_of_work(),
        incident_id=incident,
        actor=book.actor,
        reason=reason,
        clock=book.clock,
    )
    console().print(
        f"Incident {closed.incident_id} closed; version {closed.restored_version} in force."
    )
