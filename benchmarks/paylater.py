"""PayLater throughput: purchases per second through the full use case (decision, posting,
commit) with p50/p99 latency on SQLite and PostgreSQL, beside the bare ledger posting of the
same entries as a baseline; and the close of day on a large book, on a statement day (every
account billed) and on a quiet day.

    uv run python benchmarks/paylater.py [--purchases N] [--accounts N] [--no-pg]

Prints one JSON object. Targets (issue 3): >= 1,500 purchases/s on SQLite in one process with
p99 <= 5 ms; for 1,000,000 accounts the statement day in <= 300 s and a quiet day in <= 5 s.
The large book is bulk-loaded (documents and ledger written in batches, not through the
use cases) so that the setup does not dominate; the close of day itself runs unchanged.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import PG_URL, percentile, pg_schema
from creditlink.adapters.clock import FixedClock
from creditlink.adapters.codecs import paylater_to_dict
from creditlink.adapters.sql.purchases import PURCHASE_COLUMNS, purchase_row
from creditlink.adapters.sql.store import SqlStore
from creditlink.adapters.sql.tables import (
    customer_limits,
    customers,
    paylater_accounts,
    paylater_purchases,
)
from creditlink.application.close_of_day import close_day
from creditlink.application.paylater import purchase
from creditlink.bootstrap import open_book
from creditlink.domain.customer import national_id_check_character
from creditlink.domain.ledger import Account, AccountCode, EntryDraft, EntryKind, credit, debit
from creditlink.domain.paylater.account import PayLaterAccount
from creditlink.domain.products import Product
from tests.conftest import add_customer

CLOCK = FixedClock(datetime(2026, 1, 1, 9, tzinfo=UTC))
DAY = date(2026, 1, 20)
RECEIVABLE = Account(AccountCode.PRINCIPAL_RECEIVABLE, Product.PAYLATER)
PAYABLE = Account(AccountCode.MERCHANT_PAYABLE, Product.PAYLATER)


def purchases(url: str, count: int, customers_count: int = 1_000) -> dict[str, Any]:
    """Purchases spread over `customers_count` customers, a few each, as on a real day (the
    velocity rules send a customer's 21st purchase of a date to review)."""
    book = open_book(url, clock=CLOCK)
    for number in range(customers_count):
        add_customer(
            book.store, f"c{number:05d}", joint=10**12, cap_paylater=10**12, sequence=number
        )
    latencies = []
    started = time.perf_counter()
    for number in range(count):
        begin = time.perf_counter()
        result = purchase(
            book.store.unit_of_work(),
            customer_id=f"c{number % customers_count:05d}",
            ref=f"p{number}",
            amount_fen=1_000 + number % 5_000,
            merchant="m",
            category="retail",
            on=DAY,
            idempotency_key=f"p{number}",
        )
        latencies.append(time.perf_counter() - begin)
        assert result.approved
    seconds = time.perf_counter() - started
    baseline = []
    for number in range(count):
        begin = time.perf_counter()
        with book.store.unit_of_work() as uow:
            amount = 1_000 + number % 5_000
            customer = f"c{number % customers_count:05d}"
            uow.ledger.append(
                EntryDraft(
                    idempotency_key=f"raw{number}",
                    business_date=DAY,
                    kind=EntryKind.PURCHASE,
                    customer_id=customer,
                    lines=(debit(RECEIVABLE, amount, customer), credit(PAYABLE, amount)),
                )
            )
            uow.commit()
        baseline.append(time.perf_counter() - begin)
    book.store.dispose()
    return {
        "purchases": count,
        "per_s": round(count / seconds, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 3),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 3),
        "baseline_ledger_posting_only": {
            "per_s": round(count / sum(baseline), 1),
            "p50_ms": round(percentile(baseline, 0.50) * 1000, 3),
            "p99_ms": round(percentile(baseline, 0.99) * 1000, 3),
        },
    }


def bulk_book(path: Path, accounts: int) -> SqlStore:
    """`accounts` customers, each with one unbilled purchase of the cycle ending 31 January
    (the account's document and the purchase's row)."""
    store = SqlStore(f"sqlite:///{path}")
    from creditlink.application.parameters import ensure_parameters

    ensure_parameters(store.unit_of_work(), clock=CLOCK)
    batch = 10_000
    eve = date(2026, 1, 31)
    for first in range(0, accounts, batch):
        rows_c, rows_l, rows_p, rows_u, drafts = [], [], [], [], []
        for number in range(first, min(accounts, first + batch)):
            customer_id = f"c{number:07d}"
            first_17 = f"110105{19800101 + number % 28:08d}{number % 1000:03d}"
            rows_c.append(
                {
                    "customer_id": customer_id,
                    "name": customer_id,
                    "national_id_digest": uuid.uuid4().hex + uuid.uuid4().hex,
                    "national_id_masked": first_17[:6]
                    + "********"
                    + first_17[14:17]
                    + national_id_check_character(first_17),
                    "mobile": "13800138000",
                    "onboarded_on": date(2026, 1, 1),
                }
            )
            amount = 10_000 + number % 90_000
            account = PayLaterAccount(
                customer_id=customer_id, statement_day=1, opened_on=date(2026, 1, 1)
            )
            account.purchase(ref="p1", amount_fen=amount, merchant="m", category="retail", on=DAY)
            rows_l.append(
                {
                    "customer_id": customer_id,
                    "joint_limit_fen": 2_000_000,
                    "cap_paylater_fen": 1_500_000,
                    "cap_loan_fen": 2_000_000,
                    "used_paylater_fen": amount,
                    "used_loan_fen": 0,
                    "alert_level": "NONE",
                }
            )
            rows_p.append(
                {
                    "customer_id": customer_id,
                    "statement_day": 1,
                    "status": "active",
                    "principal_fen": amount,
                    "next_wake_on": eve,
                    "closed_through": date(2026, 1, 30),
                    "document": json.dumps(paylater_to_dict(account), separators=(",", ":")),
                }
            )
            rows_u += [
                dict(zip(PURCHASE_COLUMNS, purchase_row(customer_id, p), strict=True))
                for p in account.purchases.values()
            ]
            drafts.append(
                EntryDraft(
                    idempotency_key=f"p1:{customer_id}",
                    business_date=DAY,
                    kind=EntryKind.PURCHASE,
                    customer_id=customer_id,
                    lines=(debit(RECEIVABLE, amount, customer_id), credit(PAYABLE, amount)),
                )
            )
        with store.engine.begin() as connection:
            connection.execute(customers.insert(), rows_c)
            connection.execute(customer_limits.insert(), rows_l)
            connection.execute(paylater_accounts.insert(), rows_p)
            connection.execute(paylater_purchases.insert(), rows_u)
        with store.unit_of_work() as uow:
            uow.ledger.append_many(drafts)
            uow.commit()
    with store.unit_of_work() as uow:
        uow.eod.mark_closed(date(2026, 1, 30), at=CLOCK.now(), summary={})
        uow.commit()
    return store


def close_of_day(accounts: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        store = bulk_book(Path(folder) / "big.db", accounts)
        load_seconds = time.perf_counter() - started
        started = time.perf_counter()
        report = close_day(store, on=date(2026, 1, 31), clock=CLOCK, batch_size=500)
        statement_seconds = time.perf_counter() - started
        assert report.statements == accounts, report
        started = time.perf_counter()
        quiet = close_day(store, on=date(2026, 2, 1), clock=CLOCK)
        quiet_seconds = time.perf_counter() - started
        assert quiet.accounts == 0
        store.dispose()
    return {
        "accounts": accounts,
        "bulk_load_s": round(load_seconds, 1),
        "statement_day_s": round(statement_seconds, 2),
        "statement_day_accounts_per_s": round(accounts / statement_seconds, 1),
        "quiet_day_s": round(quiet_seconds, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--purchases", type=int, default=5000)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    result: dict[str, Any] = {"benchmark": "paylater", "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as folder:
        result["sqlite"] = purchases(f"sqlite:///{Path(folder) / 'p.db'}", args.purchases)
    if not args.no_pg:
        try:
            with pg_schema(args.pg_url) as url:
                result["postgresql"] = purchases(url, args.purchases)
        except Exception as error:  # report an unreachable server rather than hide it
            result["postgresql"] = {"skipped": f"{type(error).__name__}: {error}"}
    result["close_of_day_sqlite"] = close_of_day(args.accounts)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
