"""`creditlink portfolio`: the monthly portfolio jobs over a whole book, on an engine.

- `portfolio score`: behaviour scoring and the limit review for every customer (the same
  `rescore` the close of day runs for a customer whose score is due).
- `portfolio ecl`: expected credit loss under IFRS 9 (`risk.ecl`), by product and stage.
- `portfolio monthly`: both, scoring first, so the ECL uses the fresh scores.

The book is split into partitions of customer ids; `--engine local` runs them in this process
(or `--workers` processes), `--engine spark` as one Spark job, each task opening the book at
`--db` itself. Every engine gives the same result (a test holds them to it).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from creditlink.interfaces.cli.options import Db, Json
from creditlink.interfaces.cli.output import console, print_json, table

if TYPE_CHECKING:
    from creditlink.application.portfolio import EclLine, Partition

AsOf = Annotated[
    str | None,
    typer.Option(
        "--on",
        help="As of this date, YYYY-MM-DD (default: the last closed date; today on a book "
        "never closed). Reports refuse a date before the last close, the scoring jobs one "
        "after it.",
    ),
]

app = typer.Typer(
    help="Monthly portfolio jobs: behaviour scoring with the limit review, and IFRS 9 ECL.",
    no_args_is_help=True,
)

Engine = Annotated[
    str, typer.Option("--engine", help="Where partitions run: local or spark (the extra).")
]
PartitionSize = Annotated[
    int, typer.Option("--partition-size", min=1, help="Customers per partition (task).")
]
Workers = Annotated[
    int, typer.Option("--workers", min=1, help="Local processes for --engine local.")
]
Lines = Annotated[
    str | None,
    typer.Option("--lines", help="Also write every account's ECL line to this CSV file."),
]


def _task(shared: tuple[str, str, date, int], partition: Partition) -> Any:
    """One partition of one job, in whichever process or executor runs it: every task uses
    the parameter version the job started with."""
    from creditlink.application.parameters import parameter_set
    from creditlink.application.portfolio import ecl_partition, rescore_partition
    from creditlink.bootstrap import open_book

    url, job, on, version = shared
    book = open_book(url)
    try:
        parameters = parameter_set(book.store.reader(), version=version)
        if job == "score":
            return rescore_partition(book.store, partition, on=on, parameters=parameters)
        return ecl_partition(book.store, partition, on=on, parameters=parameters)
    finally:
        book.store.dispose()


def run_job(
    url: str,
    job: str,
    *,
    on: date,
    engine: str,
    partition_size: int,
    workers: int,
) -> list[Any]:
    """Run `job` ("score" or "ecl") over every partition; results in partition order."""
    from creditlink.adapters.engines import check_engine, run_local, run_spark
    from creditlink.application.parameters import current_parameters
    from creditlink.application.portfolio import partitions
    from creditlink.bootstrap import open_book

    check_engine(engine)
    book = open_book(url)
    try:
        with book.store.reader() as uow:
            parameters = current_parameters(uow)
        parts = partitions(book.store, size=partition_size)
    finally:
        book.store.dispose()
    shared = (book.url, job, on, parameters.version)
    if engine == "spark":
        finished = run_spark(_task, parts, shared=shared, app_name=f"creditlink-{job}")
    else:
        finished = list(run_local(_task, parts, shared=shared, workers=workers))
    results = dict(finished)
    return [results[part] for part in parts]


def _date(text: str | None, db: str | None, *, job: bool) -> date:
    """The date given with --on, or the book's last closed date (today on a book never
    closed). A report is refused before the last close (it would show today's book under
    a past date); a job that scores and reviews limits, after it."""
    from creditlink.application import business_date as dates
    from creditlink.bootstrap import open_book
    from creditlink.domain.calendar import parse_date

    on = parse_date(text, field="on") if text else None
    book = open_book(db, existing=True)
    try:
        rule = dates.job_date if job else dates.report_date
        return rule(book.store.reader(), on, today=book.clock.today())
    finally:
        book.store.dispose()


@app.command("score")
def score(
    on: AsOf = None,
    engine: Engine = "local",
    partition_size: PartitionSize = 5_000,
    workers: Workers = 1,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Behaviour-score every customer and review their limits (decreases at once, increases
    after the delay); safe to repeat for a date."""
    day = _date(on, db, job=True)
    counts = _score(day, engine=engine, partition_size=partition_size, workers=workers, db=db)
    result = {"on": day.isoformat(), "engine": engine, "partitions": len(counts)}
    result["customers_scored"] = sum(counts)
    if as_json:
        print_json(result)
        return
    console().print(
        f"scored {result['customers_scored']} customers on {day.isoformat()} "
        f"in {len(counts)} partitions ({engine})"
    )


def _score(
    day: date, *, engine: str, partition_size: int, workers: int, db: str | None
) -> list[int]:
    """How many customers each partition scored."""
    from creditlink.bootstrap import database_url

    return run_job(
        database_url(db),
        "score",
        on=day,
        engine=engine,
        partition_size=partition_size,
        workers=workers,
    )


def ecl_report(lines: list[EclLine], *, on: date, engine: str, partitions: int) -> dict[str, Any]:
    from creditlink.application.portfolio import ecl_summary

    return {
        "on": on.isoformat(),
        "engine": engine,
        "partitions": partitions,
        "accounts": len(lines),
        "by_product": ecl_summary(lines),
    }


def _write_lines(lines: list[EclLine], path: str) -> None:
    import csv
    import dataclasses
    from pathlib import Path

    from creditlink.domain.errors import InvalidInput

    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    try:
        handle = partial.open("w", newline="", encoding="utf-8")
    except OSError as error:
        raise InvalidInput(
            f"cannot write {target}: {error.strerror}", field="lines", rule="FILE_WRITABLE"
        ) from error
    with handle:
        fields = [f.name for f in dataclasses.fields(lines[0])] if lines else ["customer_id"]
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for line in lines:
            writer.writerow(dataclasses.asdict(line))
    partial.replace(target)


@app.command("ecl")
def ecl(
    on: AsOf = None,
    engine: Engine = "local",
    partition_size: PartitionSize = 5_000,
    workers: Workers = 1,
    lines: Lines = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Expected credit loss (IFRS 9) of every account: stage, exposure and ECL by product."""
    report = _ecl(
        _date(on, db, job=False),
        engine=engine,
        partition_size=partition_size,
        workers=workers,
        lines=lines,
        db=db,
        show=not as_json,
    )
    if as_json:
        print_json(report)


def _ecl(
    day: date,
    *,
    engine: str,
    partition_size: int,
    workers: int,
    lines: str | None,
    db: str | None,
    show: bool,
) -> dict[str, Any]:
    from creditlink.application.portfolio import sorted_lines
    from creditlink.bootstrap import database_url

    parts = run_job(
        database_url(db),
        "ecl",
        on=day,
        engine=engine,
        partition_size=partition_size,
        workers=workers,
    )
    every = sorted_lines([line for part in parts for line in part])
    if lines:
        _write_lines(every, lines)
    report = ecl_report(every, on=day, engine=engine, partitions=len(parts))
    if not show:
        return report
    rows = []
    for product, figures in report["by_product"].items():
        for stage_name, cell in [*figures["stages"].items(), ("all", figures["total"])]:
            rows.append(
                [
                    product,
                    stage_name,
                    str(cell["accounts"]),
                    cell["exposure"],
                    cell["ecl"],
                    cell["coverage"],
                ]
            )
    console().print(
        table(
            f"Expected credit loss on {day.isoformat()} ({report['accounts']} accounts, {engine})",
            ["product", "stage", "accounts", "exposure", "ECL", "coverage"],
            rows,
        )
    )
    return report


@app.command("monthly")
def monthly(
    on: AsOf = None,
    engine: Engine = "local",
    partition_size: PartitionSize = 5_000,
    workers: Workers = 1,
    lines: Lines = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """The month-end run: behaviour scoring and the limit review, then ECL on the new scores."""
    day = _date(on, db, job=True)
    counts = _score(day, engine=engine, partition_size=partition_size, workers=workers, db=db)
    if not as_json:
        console().print(f"scored {sum(counts)} customers on {day.isoformat()} ({engine})")
    report = _ecl(
        day,
        engine=engine,
        partition_size=partition_size,
        workers=workers,
        lines=lines,
        db=db,
        show=not as_json,
    )
    if as_json:
        print_json({"on": day.isoformat(), "customers_scored": sum(counts), "ecl": report})
