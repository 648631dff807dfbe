"""Cash-loan throughput: draws and repayments per second through the use cases, with p50/p99
latency, on SQLite and PostgreSQL; and the close of day for a large book of active loans on a
day when 1/30 of them fall due.

    uv run python benchmarks/loan.py [--operations N] [--loans N] [--no-pg]

Prints one JSON object. Targets (issue 4): >= 1,500 operations/s on SQLite in one process;
the close of day for 1,000,000 active loans with 1/30 due in <= 60 s. The large book is
bulk-loaded (documents and ledger written in batches); the close of day runs unchanged.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import PG_URL, percentile, pg_schema
from creditlink.adapters.clock import FixedClock
from creditlink.adapters.codecs import loan_to_dict, paylater_to_dict
from creditlink.adapters.sql.store import SqlStore
from creditlink.adapters.sql.tables import customer_limits, customers, loans, paylater_accounts
from creditlink.application.close_of_day import close_day
from creditlink.application.loans import draw_loan, repay_loan
from creditlink.application.parameters import ensure_parameters
from creditlink.bootstrap import open_book
from creditlink.domain.ledger import Account, AccountCode, EntryDraft, EntryKind, credit, debit
from creditlink.domain.loan.loan import Loan
from creditlink.domain.loan.schedule import Method
from creditlink.domain.paylater.account import PayLaterAccount
from creditlink.domain.products import Product
from tests.conftest import add_customer

CLOCK = FixedClock(datetime(2026, 1, 1, 9, tzinfo=UTC))
DAY = date(2026, 3, 2)
RATE = Decimal("0.0005")


def stats(samples: list[float]) -> dict[str, float]:
    return {
        "per_s": round(len(samples) / sum(samples), 1),
        "p50_ms": round(percentile(samples, 0.5) * 1000, 3),
        "p99_ms": round(percentile(samples, 0.99) * 1000, 3),
    }


def operations(url: str, count: int, customers_count: int = 200) -> dict[str, Any]:
    """`count` draws, then `count` repayments (a part of each loan, early)."""
    book = open_book(url, clock=CLOCK)
    for number in range(customers_count):
        add_customer(
            book.store,
            f"c{number:05d}",
            joint=10**12,
            cap_paylater=10**11,
            cap_loan=10**12,
            sequence=number,
        )
    draws, repayments = [], []
    for number in range(count):
        begin = time.perf_counter()
        customer = f"c{number % customers_count:05d}"
        result = draw_loan(
            book.store.unit_of_work(),
            customer_id=customer,
            ref=f"L{number}",
            amount_fen=100_000 + number % 50_000,
            term_months=12,
            method=Method.EQUAL_INSTALLMENT,
            on=DAY,
            idempotency_key=f"d{number}",
        )
        draws.append(time.perf_counter() - begin)
        assert result.approved, result.decision
    for number in range(count):
        begin = time.perf_counter()
        repay_loan(
            book.store.unit_of_work(),
            customer_id=f"c{number % customers_count:05d}",
            loan_ref=f"L{number}",
            amount=10_000,
            on=DAY + timedelta(days=3),
            idempotency_key=f"r{number}",
        )
        repayments.append(time.perf_counter() - begin)
    book.store.dispose()
    return {
        "draws": stats(draws),
        "repayments": stats(repayments),
        "all_operations": stats(draws + repayments),
    }


def bulk_book(path: Path, count: int) -> SqlStore:
    """`count` customers, each with one 12-month loan drawn on one of 30 consecutive days, so
    that 1/30 of them fall due on any later day."""
    store = SqlStore(f"sqlite:///{path}")
    ensure_parameters(store.unit_of_work(), clock=CLOCK)
    receivable = Account(AccountCode.PRINCIPAL_RECEIVABLE, Product.LOAN)
    cash = Account(AccountCode.FUNDING_CASH)
    batch = 10_000
    first_draw = date(2026, 1, 1)
    for first in range(0, count, batch):
        rows_c, rows_l, rows_p, rows_loans, drafts = [], [], [], [], []
        for number in range(first, min(count, first + batch)):
            customer_id = f"c{number:07d}"
            drawn = first_draw + timedelta(days=number % 30)
            amount = 100_000 + number % 900_000
            rows_c.append(
                {
                    "customer_id": customer_id,
                    "name": customer_id,
                    "national_id_digest": uuid.uuid4().hex + uuid.uuid4().hex,
                    "national_id_masked": "110105********0000",
                    "mobile": "13800138000",
                    "onboarded_on": first_draw,
                    "loan_daily_rate": str(RATE),
                }
            )
            rows_l.append(
                {
                    "customer_id": customer_id,
                    "joint_limit_fen": 2_000_000,
                    "cap_paylater_fen": 1_000_000,
                    "cap_loan_fen": 2_000_000,
                    "used_paylater_fen": 0,
                    "used_loan_fen": amount,
                    "alert_level": "NONE",
                }
            )
            account = PayLaterAccount(
                customer_id=customer_id, statement_day=1, opened_on=first_draw
            )
            rows_p.append(
                {
                    "customer_id": customer_id,
                    "statement_day": 1,
                    "status": "active",
                    "principal_fen": 0,
                    "next_wake_on": None,
                    "document": json.dumps(paylater_to_dict(account)),
                }
            )
            loan = Loan.draw(
                ref="L1",
                customer_id=customer_id,
                principal_fen=amount,
                term_months=12,
                method=Method.EQUAL_INSTALLMENT,
                daily_rate=RATE,
                on=drawn,
            )
            rows_loans.append(
                {
                    "customer_id": customer_id,
                    "ref": "L1",
                    "status": "active",
                    "outstanding_principal_fen": amount,
                    "next_wake_on": loan.installments[0].due_date,
                    "closed_through": None,
                    "document": json.dumps(loan_to_dict(loan), separators=(",", ":")),
                }
            )
            drafts.append(
                EntryDraft(
                    idempotency_key=f"draw:{customer_id}",
                    business_date=drawn,
                    kind=EntryKind.LOAN_DRAW,
                    customer_id=customer_id,
                    lines=(debit(receivable, amount, customer_id), credit(cash, amount)),
                )
            )
        with store.engine.begin() as connection:
            connection.execute(customers.insert(), rows_c)
            connection.execute(customer_limits.insert(), rows_l)
            connection.execute(paylater_accounts.insert(), rows_p)
            connection.execute(loans.insert(), rows_loans)
        with store.unit_of_work() as uow:
            uow.ledger.append_many(drafts)
            uow.commit()
    return store


def close_of_day(count: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        store = bulk_book(Path(folder) / "loans.db", count)
        load_seconds = time.perf_counter() - started
        # The book has been closed through 31 January; 1 February is the first due date of
        # the loans drawn on 1 January: 1/30 of the book, each paid by nobody.
        with store.unit_of_work() as uow:
            uow.eod.mark_closed(date(2026, 1, 31), at=CLOCK.now(), summary={})
            uow.commit()
        started = time.perf_counter()
        report = close_day(store, on=date(2026, 2, 1), clock=CLOCK, batch_size=500)
        seconds = time.perf_counter() - started
        store.dispose()
    return {
        "active_loans": count,
        "due_today": report.loans,
        "bulk_load_s": round(load_seconds, 1),
        "close_of_day_s": round(seconds, 2),
        "due_loans_per_s": round(report.loans / seconds, 1) if seconds else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=3000)
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    result: dict[str, Any] = {"benchmark": "loan", "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as folder:
        result["sqlite"] = operations(f"sqlite:///{Path(folder) / 'ops.db'}", args.operations)
    if not args.no_pg:
        try:
            with pg_schema(args.pg_url) as url:
                result["postgresql"] = operations(url, args.operations)
        except Exception as error:  # report an unreachable server rather than hide it
            result["postgresql"] = {"skipped": f"{type(error).__name__}: {error}"}
    result["close_of_day_sqlite"] = close_of_day(args.loans)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
