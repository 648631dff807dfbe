"""Ledger throughput: balanced entries per second through the store's ledger port, one entry
per transaction and in batches of 1,000, on SQLite and PostgreSQL, each beside raw-SQL
inserts of the same rows (entry, lines, balance upserts) with the bare driver in the same run.

    uv run python benchmarks/ledger.py [--single N] [--batches N] [--pg-url URL | --no-pg]

Prints one JSON object. Targets (issue 2): one per transaction >= 2,000/s on SQLite and within
3x of its raw baseline; batched >= 20,000/s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from creditlink.adapters.sql.store import SqlStore
from creditlink.domain.ledger import (
    GENESIS_HASH,
    Account,
    AccountCode,
    EntryDraft,
    EntryKind,
    JournalEntry,
    chain,
    credit,
    debit,
)
from creditlink.domain.products import Product

DAY = date(2026, 1, 5)
RECEIVABLE = Account(AccountCode.PRINCIPAL_RECEIVABLE, Product.PAYLATER)
PAYABLE = Account(AccountCode.MERCHANT_PAYABLE, Product.PAYLATER)
BATCH = 1000


def draft(number: int, prefix: str) -> EntryDraft:
    customer = f"c{number % 500}"
    amount = 1_000 + number % 9_000
    return EntryDraft(
        idempotency_key=f"{prefix}-{number}",
        business_date=DAY,
        kind=EntryKind.PURCHASE,
        customer_id=customer,
        lines=(debit(RECEIVABLE, amount, customer), credit(PAYABLE, amount)),
    )


def sealed(count: int, prefix: str) -> list[JournalEntry]:
    """Entries numbered and chained in advance, for the raw baseline to insert."""
    entries, previous = [], GENESIS_HASH
    for number in range(1, count + 1):
        entry = chain(draft(number, prefix), entry_id=number, previous_hash=previous)
        entries.append(entry)
        previous = entry.hash
    return entries


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1)


def through_the_port(store: SqlStore, *, single: int, batches: int) -> dict[str, float]:
    started = time.perf_counter()
    for number in range(1, single + 1):
        with store.unit_of_work() as uow:
            uow.ledger.append(draft(number, "one"))
            uow.commit()
    single_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for batch in range(batches):
        with store.unit_of_work() as uow:
            numbers = range(batch * BATCH + 1, (batch + 1) * BATCH + 1)
            uow.ledger.append_many([draft(number, "batch") for number in numbers])
            uow.commit()
    batch_seconds = time.perf_counter() - started
    return {
        "one_per_transaction_per_s": rate(single, single_seconds),
        "batched_1000_per_s": rate(batches * BATCH, batch_seconds),
    }


def raw_rows(
    entry: JournalEntry,
) -> tuple[tuple[Any, ...], list[tuple[Any, ...]], list[tuple[str, int]]]:
    d = entry.draft
    head = (
        entry.entry_id,
        d.idempotency_key,
        d.business_date.isoformat(),
        d.kind.value,
        d.customer_id,
        None,
        d.description,
        entry.previous_hash,
        entry.hash,
    )
    lines = [
        (entry.entry_id, n, line.account.name, line.customer_id, line.side.value, line.amount_fen)
        for n, line in enumerate(d.lines, start=1)
    ]
    balances = [(line.account.name, line.signed_fen()) for line in d.lines]
    return head, lines, balances


def raw_baseline(
    execute: Callable[..., Any],
    executemany: Callable[..., Any],
    begin: Callable[[], Any],
    commit: Callable[[], Any],
    placeholder: str,
    *,
    single: int,
    batches: int,
) -> dict[str, float]:
    p = placeholder
    insert_entry = (
        "INSERT INTO journal_entries (entry_id, idempotency_key, business_date, "
        "kind, customer_id, reverses_entry_id, description, previous_hash, hash) "
        f"VALUES ({', '.join([p] * 9)})"
    )
    insert_line = (
        "INSERT INTO journal_lines (entry_id, line_no, account, customer_id, side, "
        f"amount_fen) VALUES ({', '.join([p] * 6)})"
    )
    upsert = (
        f"INSERT INTO ledger_balances (account, balance_fen) VALUES ({p}, {p}) "
        "ON CONFLICT (account) DO UPDATE SET balance_fen = "
        "ledger_balances.balance_fen + excluded.balance_fen"
    )
    one = [raw_rows(e) for e in sealed(single, "raw-one")]
    started = time.perf_counter()
    for head, lines, balances in one:
        begin()
        execute(insert_entry, head)
        executemany(insert_line, lines)
        executemany(upsert, balances)
        commit()
    single_seconds = time.perf_counter() - started
    offset = single
    many = [raw_rows(e) for e in sealed(batches * BATCH, "raw-batch")]
    many = [
        ((head[0] + offset, *head[1:]), [(row[0] + offset, *row[1:]) for row in lines], balances)
        for head, lines, balances in many
    ]
    started = time.perf_counter()
    for batch in range(batches):
        chunk = many[batch * BATCH : (batch + 1) * BATCH]
        begin()
        executemany(insert_entry, [head for head, _, _ in chunk])
        executemany(insert_line, [row for _, lines, _ in chunk for row in lines])
        executemany(upsert, [row for _, _, balances in chunk for row in balances])
        commit()
    batch_seconds = time.perf_counter() - started
    return {
        "one_per_transaction_per_s": rate(single, single_seconds),
        "batched_1000_per_s": rate(batches * BATCH, batch_seconds),
    }


@contextmanager
def sqlite_book() -> Iterator[tuple[SqlStore, Path]]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        store = SqlStore(f"sqlite:///{path}")
        try:
            yield store, path
        finally:
            store.dispose()


def bench_sqlite(single: int, batches: int) -> dict[str, Any]:
    with sqlite_book() as (store, _):
        ours = through_the_port(store, single=single, batches=batches)
    with sqlite_book() as (store, path):
        store.dispose()
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        cursor = connection.cursor()
        raw = raw_baseline(
            cursor.execute,
            cursor.executemany,
            lambda: cursor.execute("BEGIN IMMEDIATE"),
            lambda: cursor.execute("COMMIT"),
            "?",
            single=single,
            batches=batches,
        )
        connection.close()
    return {
        "creditlink": ours,
        "raw_sql": raw,
        "ratio_raw_over_creditlink": {key: round(raw[key] / ours[key], 2) for key in ours},
    }


def bench_postgres(url: str, single: int, batches: int) -> dict[str, Any]:
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    results: dict[str, dict[str, float]] = {}
    for which in ("creditlink", "raw_sql"):
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(plain, autocommit=True) as admin:
            admin.execute(f'CREATE SCHEMA "{schema}"')
        scoped = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
        try:
            store = SqlStore(scoped)
            if which == "creditlink":
                results[which] = through_the_port(store, single=single, batches=batches)
                store.dispose()
                continue
            store.dispose()
            with psycopg.connect(plain, options=f"-csearch_path={schema}") as connection:
                cursor = connection.cursor()
                results[which] = raw_baseline(
                    cursor.execute,
                    cursor.executemany,
                    lambda: None,
                    connection.commit,
                    "%s",
                    single=single,
                    batches=batches,
                )
        finally:
            with psycopg.connect(plain, autocommit=True) as admin:
                admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
    ours, raw = results["creditlink"], results["raw_sql"]
    return {
        "creditlink": ours,
        "raw_sql": raw,
        "ratio_raw_over_creditlink": {key: round(raw[key] / ours[key], 2) for key in ours},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--single", type=int, default=5000, help="entries posted one per transaction"
    )
    parser.add_argument("--batches", type=int, default=20, help="batches of 1,000 entries")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "CREDITLINK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    args = parser.parse_args()
    result: dict[str, Any] = {
        "benchmark": "ledger",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "entries": {"one_per_transaction": args.single, "batched": args.batches * BATCH},
        "sqlite": bench_sqlite(args.single, args.batches),
    }
    if not args.no_pg:
        try:
            result["postgresql"] = bench_postgres(args.pg_url, args.single, args.batches)
        except Exception as error:  # report, don't hide, an unreachable server
            result["postgresql"] = {"skipped": f"{type(error).__name__}: {error}"}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
