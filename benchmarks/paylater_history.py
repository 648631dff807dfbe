"""PayLater purchases on an aged account: the CPU and time of one purchase through the full
use case as the account's history grows, beside the same purchase on a new account (the
baseline, measured in the same run), on SQLite and PostgreSQL.

    uv run python benchmarks/paylater_history.py [--purchases 2000] [--per-day 3] [--no-pg]

The aged customer buys `--per-day` purchases every business day; every day is closed, so
statements come monthly, and the customer pays each statement in full the day after. At each
checkpoint (a number of purchases made so far) it times `--sample` purchases by the aged
customer and as many by a customer onboarded for that checkpoint, then as many reads of each
account's view (what `GET /customers/{id}/paylater` reads: customer, limit, account, loans,
and the number of purchases). An account keeps every
purchase, but an operation should cost the same whatever the account's age: the ratio of the
two is what to watch. CPU is this process's (the use case, the driver; on SQLite the database
too); PostgreSQL's own is not counted. The stored document's size is reported beside it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from benchmarks.common import PG_URL, percentile, pg_schema
from benchmarks.http import WIDE_OPEN, _customer
from creditlink.adapters.clock import FixedClock
from creditlink.application.close_of_day import close_day
from creditlink.application.customers import onboard_customer
from creditlink.application.parameters import set_parameters
from creditlink.application.paylater import Shortcut, purchase, repay
from creditlink.application.queries import customer_state
from creditlink.bootstrap import Book, open_book

START = date(2026, 1, 1)
CHECKPOINTS = (0, 100, 500, 1000, 2000, 5000)


class Run:
    def __init__(self, book: Book, per_day: int):
        self.book, self.per_day = book, per_day
        self.day, self.bought, self.number = START, 0, 0
        self.customers = 0

    def onboard(self) -> str:
        customer = {**_customer(self.customers), "cap_loan_fen": None}
        self.customers += 1
        onboard_customer(
            self.book.store.unit_of_work(),
            on=self.day,
            actor="benchmark",
            clock=self.book.clock,
            **customer,
        )
        return str(customer["customer_id"])

    def buy(self, customer_id: str) -> None:
        self.number += 1
        decided = purchase(
            self.book.store.unit_of_work(),
            customer_id=customer_id,
            ref=f"r{self.number}",
            amount_fen=1_003 + self.number % 5_000,
            merchant="Grocer",
            category="retail",
            on=self.day,
            idempotency_key=f"k{self.number}",
        )
        assert decided.approved, decided.decision.reasons

    def next_day(self, aged: str) -> None:
        """Close the day, open the next; pay in full the day after a statement."""
        close_day(self.book.store, on=self.day, clock=self.book.clock)
        self.day += timedelta(days=1)
        with self.book.store.reader() as uow:
            statements = uow.paylater.get(aged, read_only=True).statements
        if statements and statements[-1].statement_date == self.day - timedelta(days=1):
            repay(
                self.book.store.unit_of_work(),
                customer_id=aged,
                amount=Shortcut.ALL,
                on=self.day,
                idempotency_key=f"pay-{self.day.isoformat()}",
            )

    def age(self, aged: str, purchases: int) -> None:
        """The aged customer's history up to `purchases` purchases."""
        while self.bought < purchases:
            for _ in range(min(self.per_day, purchases - self.bought)):
                self.buy(aged)
                self.bought += 1
            self.next_day(aged)

    def view(self, customer_id: str) -> None:
        """What the account view reads (`GET /customers/{id}/paylater`)."""
        state = customer_state(self.book.store.reader(), customer_id=customer_id, on=self.day)
        assert state.purchase_count >= 0

    def sample(self, customer_id: str, count: int, *, view: bool = False) -> dict[str, float]:
        cpu, wall = [], []
        for _ in range(count):
            c0, w0 = time.process_time(), time.perf_counter()
            if view:
                self.view(customer_id)
            else:
                self.buy(customer_id)
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
        return {
            "cpu_ms_mean": round(sum(cpu) / count * 1000, 3),
            "wall_ms_p50": round(percentile(wall, 0.5) * 1000, 3),
            "wall_ms_p99": round(percentile(wall, 0.99) * 1000, 3),
        }


def _document_bytes(book: Book, customer_id: str) -> int:
    engine = book.store.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        text = connection.execute(
            sa.text("SELECT document FROM paylater_accounts WHERE customer_id = :c"),
            {"c": customer_id},
        ).scalar_one()
    return len(text)


def measure(url: str, args: argparse.Namespace) -> dict[str, Any]:
    clock = FixedClock(datetime(2026, 1, 1, 9, 0, tzinfo=UTC))
    book = open_book(url, clock=clock)
    try:
        set_parameters(
            book.store.unit_of_work(),
            changes=dict(WIDE_OPEN),
            actor="benchmark",
            reason="load test",
            clock=clock,
        )
        run = Run(book, args.per_day)
        aged = run.onboard()
        points: list[dict[str, Any]] = []
        started = time.perf_counter()
        for checkpoint in [c for c in CHECKPOINTS if c <= args.purchases]:
            run.age(aged, checkpoint)
            fresh = run.onboard()
            points.append(
                {
                    "purchases_before": checkpoint,
                    "business_date": run.day.isoformat(),
                    "aged": run.sample(aged, args.sample),
                    "new_account_baseline": run.sample(fresh, args.sample),
                    "aged_view": run.sample(aged, args.sample, view=True),
                    "new_account_view": run.sample(fresh, args.sample, view=True),
                    "aged_document_bytes": _document_bytes(book, aged),
                }
            )
            run.bought += args.sample
        for point in points:
            point["aged_over_baseline_cpu"] = round(
                point["aged"]["cpu_ms_mean"] / point["new_account_baseline"]["cpu_ms_mean"], 2
            )
            point["aged_over_new_view_cpu"] = round(
                point["aged_view"]["cpu_ms_mean"] / point["new_account_view"]["cpu_ms_mean"], 2
            )
        return {"checkpoints": points, "seconds": round(time.perf_counter() - started, 1)}
    finally:
        book.store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--purchases", type=int, default=2000, help="The aged account's last checkpoint."
    )
    parser.add_argument("--per-day", type=int, default=3)
    parser.add_argument("--sample", type=int, default=30, help="Purchases timed per checkpoint.")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--pg-url", default=PG_URL)
    args = parser.parse_args()
    out: dict[str, Any] = {
        "benchmark": "paylater purchases on an aged account",
        "per_day": args.per_day,
        "sample": args.sample,
    }
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            out["sqlite"] = measure(f"sqlite:///{Path(folder) / 'book.db'}", args)
    if not args.no_pg:
        from benchmarks.http import _pg_reachable

        reason = _pg_reachable(args.pg_url)
        if reason is not None:
            out["postgresql"] = {"skipped": reason}
        else:
            with pg_schema(args.pg_url) as url:
                out["postgresql"] = measure(url, args)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
