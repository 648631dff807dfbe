"""`creditlink demo` and `creditlink simulate`: the digital twin, its metrics and report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from creditlink.interfaces.cli.output import console, table

if TYPE_CHECKING:
    from creditlink.simulation.twin.engine import Policy, TwinConfig

DEMO_CUSTOMERS = 10_000
DEMO_MONTHS = 12
DEMO_SHOCK = 9
DEMO_SEED = 7


def _policy_from_file(path: Path) -> Policy:
    from creditlink.interfaces.cli.params import read_candidate
    from creditlink.simulation.twin.engine import Policy

    return Policy(path.stem, changes=read_candidate(path, field="policy"))


def _run(
    config: TwinConfig,
    policies: list[Policy],
    out: Path,
    *,
    engine: str,
    workers: int | None,
    quiet: bool,
) -> dict[str, Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from creditlink.analytics.report import render_report
    from creditlink.simulation.twin.run import check_run, simulate, write_metrics

    # Everything that can be refused is refused before the run, and before the folder is made.
    check_run(config, policies, engine=engine, workers=workers)
    _prepare_out(out)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console(stderr=True),
        transient=True,
        disable=quiet,
    ) as bar:
        tasks = {
            p.name: bar.add_task(
                f"{p.name}: customers × {config.months} months", total=config.customers
            )
            for p in policies
        }
        metrics = simulate(
            config,
            policies,
            engine=engine,
            workers=workers,
            progress=lambda name, done: bar.advance(tasks[name], done),
        )
    write_metrics(metrics, out / "metrics.json")
    report = out / "report.html"
    report.write_text(render_report(metrics), encoding="utf-8")
    return metrics


def _prepare_out(out: Path) -> None:
    """Make the --out folder and check that its two files can be written there, so that a
    run is not lost at its end to a folder it cannot write."""
    from creditlink.domain.errors import InvalidInput

    def refuse(why: str) -> InvalidInput:
        return InvalidInput(f"{out}: {why}", field="out", rule="OUT_FOLDER_WRITABLE")

    if out.exists() and not out.is_dir():
        raise refuse("is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name in ("metrics.json", "report.html"):
            if (out / name).is_dir():
                raise refuse(f"{name} there is a folder")
        probe = out / ".creditlink-write-check"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise refuse(f"cannot write there ({error.strerror or error})") from None


def _summary(metrics: dict[str, Any], out: Path) -> None:
    from creditlink.domain.money import format_fen

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value * 100:.2f}%"

    rows = [
        [
            row["policy"],
            row["period"].replace("_", " "),
            pct(row["loss_rate"]),
            pct(row["rate_30_plus"]),
            pct(row["approval_rate"]),
            format_fen(row["revenue_fen"]),
        ]
        for row in metrics["headline"]["rows"]
    ]
    screen = console()
    screen.print(
        table(
            "Linked against siloed risk control",
            [
                "policy",
                "period",
                "loss rate (annualised)",
                "30+ DPD (of balance)",
                "approval rate",
                "revenue",
            ],
            rows,
        )
    )
    ledgers = metrics["ledger"]
    verified = all(book["verified"] for book in ledgers.values())
    screen.print(
        f"Ledgers: {'all verified' if verified else 'NOT VERIFIED'} "
        f"({sum(b['entries'] for b in ledgers.values()):,} entries, "
        f"{sum(b['books'] for b in ledgers.values())} books)."
    )
    screen.print(f"Report: {out / 'report.html'}   Metrics: {out / 'metrics.json'}")
    if not verified:
        raise typer.Exit(1)


def demo(
    out: Annotated[Path, typer.Option(help="Folder for report.html and metrics.json.")] = Path(
        "creditlink-demo"
    ),
    customers: Annotated[int, typer.Option(help="Synthetic customers.")] = DEMO_CUSTOMERS,
    months: Annotated[int, typer.Option(help="Months to run.")] = DEMO_MONTHS,
    seed: Annotated[
        int, typer.Option(help="Seed: the same seed gives the same metrics.json.")
    ] = DEMO_SEED,
    workers: Annotated[int | None, typer.Option(help="Processes (default: one per CPU).")] = None,
) -> None:
    """Run the digital twin: linked against siloed control on the same synthetic customers,
    a macro shock in month 9, and a risk report."""
    from creditlink.simulation.twin.engine import TwinConfig
    from creditlink.simulation.twin.run import LINKED, SILOED

    shock = DEMO_SHOCK if months >= DEMO_SHOCK else None
    config = TwinConfig(customers=customers, months=months, seed=seed, shock_month=shock)
    metrics = _run(config, [LINKED, SILOED], out, engine="local", workers=workers, quiet=False)
    _summary(metrics, out)


def simulate(
    out: Annotated[Path, typer.Option(help="Folder for report.html and metrics.json.")],
    customers: Annotated[int, typer.Option(help="Synthetic customers.")] = 1_000,
    months: Annotated[int, typer.Option(help="Months to run.")] = 12,
    policy: Annotated[
        list[Path] | None,
        typer.Option(
            "--policy",
            help="A parameter file (YAML/JSON, names to values) run as a further policy, named "
            "by its file name; repeatable. Linked and siloed always run.",
        ),
    ] = None,
    shock: Annotated[
        int | None, typer.Option(help="Month (1-based) the macro shock starts.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed.")] = DEMO_SEED,
    engine: Annotated[str, typer.Option(help="local or spark (needs the spark extra).")] = "local",
    workers: Annotated[
        int | None, typer.Option(help="Local processes (default: one per CPU).")
    ] = None,
    partition_size: Annotated[int, typer.Option(help="Customers per partition.")] = 2_500,
    as_json: Annotated[bool, typer.Option("--json", help="Print metrics.json's headline.")] = False,
) -> None:
    """Run the twin with any policies, size, shock and engine."""
    from creditlink.interfaces.cli.output import print_json
    from creditlink.simulation.twin.engine import TwinConfig
    from creditlink.simulation.twin.run import LINKED, SILOED

    config = TwinConfig(
        customers=customers,
        months=months,
        seed=seed,
        shock_month=shock,
        partition_size=partition_size,
    )
    policies = [LINKED, SILOED, *(_policy_from_file(p) for p in policy or [])]
    metrics = _run(config, policies, out, engine=engine, workers=workers, quiet=as_json)
    if as_json:
        print_json({"headline": metrics["headline"], "ledger": metrics["ledger"]})
        return
    _summary(metrics, out)
