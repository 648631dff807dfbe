"""In-platform scoring speed: the expert behaviour scorecard on one customer inside a
decision (features from both products' records, then points and reasons), the scorecard
alone, and batch scoring rows per second; beside a baseline that only builds the features.

    uv run python benchmarks/scoring.py [--customers N] [--rows N]

Prints one JSON object. Targets (issue 5): one customer <= 1 ms p99 in-process; batch scoring
>= 100,000 rows/s.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import percentile
from creditlink.adapters.clock import FixedClock
from creditlink.application import paylater
from creditlink.application.close_of_day import close_day
from creditlink.application.parameters import current_parameters
from creditlink.application.scoring import score_behaviour
from creditlink.bootstrap import memory_book
from creditlink.risk.expert import BEHAVIOUR, score_columns
from tests.conftest import add_customer

CLOCK = FixedClock(datetime(2026, 1, 1, 9, tzinfo=UTC))


def micros(samples: list[float]) -> dict[str, float]:
    return {
        "p50_us": round(percentile(samples, 0.5) * 1e6, 1),
        "p99_us": round(percentile(samples, 0.99) * 1e6, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    book = memory_book(clock=CLOCK)
    start = date(2026, 1, 5)
    for number in range(args.customers):
        customer_id = f"c{number:05d}"
        add_customer(book.store, customer_id, sequence=number)
        paylater.purchase(
            book.store.unit_of_work(),
            customer_id=customer_id,
            ref="p1",
            amount_fen=50_000 + number,
            merchant="m",
            category="retail",
            on=start,
            idempotency_key=f"p{number}",
        )
    day = start
    while day <= date(2026, 3, 31):
        close_day(book.store, on=day, clock=CLOCK)
        day += timedelta(days=1)
    on = date(2026, 4, 1)
    with book.store.reader() as uow:
        parameters = current_parameters(uow)
    inside: list[float] = []
    for _ in range(5):
        for number in range(args.customers):
            customer_id = f"c{number:05d}"
            begin = time.perf_counter()
            with book.store.reader() as uow:
                customer = uow.customers.get(customer_id)
                limit = uow.limits.get(customer_id)
                score_behaviour(uow, customer=customer, limit=limit, on=on, parameters=parameters)
            inside.append(time.perf_counter() - begin)
    rng = random.Random(7)
    rows = [
        {
            "max_dpd_paylater_12m": rng.choice([0, 0, 0, 2, 10, 40]),
            "max_dpd_loan_12m": rng.choice([0, 0, 5, 45]),
            "on_time_streak": rng.randint(0, 12),
            "utilisation_joint": rng.random(),
            "borrow_to_repay_12m": rng.choice([0, 0, 0, 1]),
            "refunds_12m": rng.randint(0, 4),
            "tenure_months": rng.randint(0, 36),
            "draws_6m": rng.randint(0, 4),
        }
        for _ in range(args.rows)
    ]
    alone = []
    for row in rows[:20_000]:
        begin = time.perf_counter()
        BEHAVIOUR.score(row)
        alone.append(time.perf_counter() - begin)
    columns = {name: [row[name] for row in rows] for name in rows[0]}
    began = time.perf_counter()
    batch = score_columns(BEHAVIOUR, columns)
    batch_seconds = time.perf_counter() - began
    assert batch.points[:100] == [BEHAVIOUR.score(row).points for row in rows[:100]]
    result: dict[str, Any] = {
        "benchmark": "scoring",
        "one_customer_in_a_decision": micros(inside),
        "scorecard_alone": micros(alone),
        "batch_rows_per_s": round(args.rows / batch_seconds, 1),
        "model_version": BEHAVIOUR.version,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
