"""The digital twin's speed: customer-days per second on each engine.

    uv run python benchmarks/twin.py [--customers N] [--months M] [--engines local,spark]

Runs linked and siloed on the same customers (a shock in month 9 when the run is that long)
and prints one JSON object: per engine, the wall time and customer-days per second (customers
× days × policies / seconds), and whether the engines' metrics are identical. The issue's
target is 100,000 customers for 12 months, both policies, in 15 minutes locally: pass
`--customers 100000` to measure it (the default is a quick 2,000).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from creditlink.simulation.twin.engine import TwinConfig
from creditlink.simulation.twin.run import LINKED, SILOED, simulate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--engines", default="local,spark")
    parser.add_argument("--partition-size", type=int, default=2_500)
    args = parser.parse_args()
    config = TwinConfig(
        customers=args.customers,
        months=args.months,
        seed=args.seed,
        shock_month=9 if args.months >= 9 else None,
        partition_size=args.partition_size,
    )
    days = (config.month_start(config.months) - config.start).days
    report: dict[str, object] = {
        "benchmark": "twin",
        "cpus": os.cpu_count(),
        "customers": args.customers,
        "months": args.months,
        "days": days,
        "policies": 2,
    }
    results = {}
    for engine in args.engines.split(","):
        began = time.perf_counter()
        try:
            results[engine] = simulate(config, [LINKED, SILOED], engine=engine)
        except Exception as error:  # report why an engine could not run
            report[engine] = {"skipped": str(error)}
            continue
        seconds = time.perf_counter() - began
        report[engine] = {
            "seconds": round(seconds, 1),
            "customer_days_per_s": round(args.customers * days * 2 / seconds),
            "ledgers_verified": all(b["verified"] for b in results[engine]["ledger"].values()),
        }
    if len(results) == 2:
        first, second = results.values()
        report["engines_agree"] = first == second
    target_days = 100_000 * 365 * 2
    if "local" in results and isinstance(report["local"], dict):
        rate = report["local"]["customer_days_per_s"]
        report["projected_100k_12m_minutes"] = round(target_days / rate / 60, 1)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
