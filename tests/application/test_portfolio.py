"""The monthly portfolio jobs over a book: the same result however the book is partitioned
and on whichever engine, and the command line around them."""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import shutil
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from creditlink.application.customers import apply_for_credit
from creditlink.application.parameters import current_parameters
from creditlink.application.portfolio import (
    ecl_partition,
    ecl_summary,
    onboarding_grade,
    partitions,
    sorted_lines,
)
from creditlink.bootstrap import Book, open_book
from creditlink.domain.products import Product
from creditlink.interfaces.cli.main import app
from creditlink.interfaces.cli.portfolio import run_job
from tests.conftest import CLOCK, national_id, spend

ON = date(2026, 3, 31)
START = date(2026, 1, 5)


@pytest.fixture(scope="module")
def tour(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tour's book: customers with statements, plans, loans and a late payer."""
    out = tmp_path_factory.mktemp("tour")
    result = CliRunner().invoke(app, ["tour", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out / "book.db"


def _copy(book: Path, tmp_path: Path, name: str) -> str:
    """A copy of the book (SQLite's backup, which includes what is still in the WAL)."""
    target = tmp_path / name
    with sqlite3.connect(book) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    return f"sqlite:///{target}"


def test_partitions_cover_every_customer_once(tour: Path) -> None:
    book = open_book(f"sqlite:///{tour}")
    with book.store.reader() as uow:
        everyone = uow.customers.ids(after="", limit=1000)
    for size in (1, 2, 1000):
        parts = partitions(book.store, size=size)
        assert len(parts) == -(-len(everyone) // size)
        assert parts[0].after == ""
        assert [p.last for p in parts][-1] == everyone[-1]
        assert all(a.last == b.after for a, b in itertools.pairwise(parts))


def test_ecl_lines_do_not_depend_on_the_partitions(tour: Path) -> None:
    book = open_book(f"sqlite:///{tour}")
    with book.store.reader() as uow:
        parameters = current_parameters(uow)
    by_size = {}
    for size in (1, 3, 1000):
        lines = [
            line
            for part in partitions(book.store, size=size)
            for line in ecl_partition(book.store, part, on=ON, parameters=parameters)
        ]
        by_size[size] = sorted_lines(lines)
    assert by_size[1] == by_size[3] == by_size[1000]
    lines = by_size[1]
    assert {line.product for line in lines} == {"paylater", "loan"}
    for line in lines:
        assert line.stage == (3 if line.dpd >= 90 else 2 if line.dpd >= 30 else line.stage)
        assert line.exposure_fen >= line.drawn_fen
    summary = ecl_summary(lines)
    assert summary["all"]["total"]["ecl_fen"] == sum(line.ecl_fen for line in lines)
    assert summary["all"]["total"]["accounts"] == len(lines)


def test_the_onboarding_decision_keeps_the_grade_for_staging(book: Book) -> None:
    application = apply_for_credit(
        book.store.unit_of_work(),
        customer_id="g1",
        name="g1",
        national_id=national_id(7, "19900101"),
        mobile="13800138000",
        monthly_income_fen=1_500_000,
        on=START,
        actor="test",
        clock=CLOCK,
    )
    assert application.view is not None
    # Later decisions of other operations: the onboarding decision is still the one read.
    assert spend(book.store, "g1", Product.PAYLATER, 10_000, "g1-buy", on=START) is not None
    with book.store.reader() as uow:
        assert [d.op for d in uow.decisions.list(customer_id="g1")] == ["onboard", "purchase"]
        assert [d.op for d in uow.decisions.list(customer_id="g1", op="purchase")] == ["purchase"]
        grade = onboarding_grade(uow, "g1")
        score = uow.customers.get("g1").score
    assert score is not None
    assert grade == score.grade
    with book.store.reader() as uow:
        assert onboarding_grade(uow, "nobody") is None


def test_the_monthly_command_scores_then_reports_ecl(tour: Path, tmp_path: Path) -> None:
    url = _copy(tour, tmp_path, "monthly.db")
    lines = tmp_path / "lines.csv"
    # The tour's book is closed through 4 February: a job dated later would score customers
    # and change limits on days the book has not reached. Nothing is scored.
    ahead = ["portfolio", "monthly", "--on", ON.isoformat(), "--db", url, "--json"]
    refused_ahead = CliRunner().invoke(app, ahead)
    assert getattr(refused_ahead.exception, "rule", None) == "JOB_DATE_CLOSED"
    assert "2026-02-04" in str(refused_ahead.exception)
    args = ["portfolio", "monthly", "--db", url, "--json"]  # the last closed date
    result = CliRunner().invoke(app, [*args, "--partition-size", "2", "--lines", str(lines)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["on"] == "2026-02-04"
    assert report["customers_scored"] >= 3
    assert report["ecl"]["partitions"] >= 2
    assert report["ecl"]["accounts"] == len(lines.read_text().splitlines()) - 1
    refused = CliRunner().invoke(app, ["portfolio", "ecl", "--db", url, "--engine", "gpu"])
    assert refused.exit_code != 0
    assert getattr(refused.exception, "rule", None) == "ENGINE_KNOWN"


def _why_no_spark() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "PySpark is not installed (uv sync --extra spark)"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java runtime for Spark"
    return None


@pytest.mark.slow
def test_the_jobs_give_the_same_book_on_spark_and_locally(tour: Path, tmp_path: Path) -> None:
    why = _why_no_spark()
    if why is not None:
        if os.environ.get("CREDITLINK_REQUIRE_SPARK") == "1":
            pytest.fail(f"CREDITLINK_REQUIRE_SPARK=1 but {why}")
        pytest.skip(why)
    results = {}
    for engine in ("local", "spark"):
        url = _copy(tour, tmp_path, f"{engine}.db")
        scored = run_job(url, "score", on=ON, engine=engine, partition_size=2, workers=1)
        ecl = run_job(url, "ecl", on=ON, engine=engine, partition_size=2, workers=1)
        book = open_book(url)
        with book.store.reader() as uow:
            customers = [uow.customers.get(c) for c in uow.customers.ids(after="", limit=1000)]
            limits = [uow.limits.get(c.customer_id) for c in customers]
        results[engine] = (scored, ecl, customers, limits)
    assert results["spark"] == results["local"]
    assert sum(results["local"][0]) == len(results["local"][2])
