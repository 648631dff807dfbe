"""Running the twin: customers split into fixed partitions, each partition run under each
policy on an engine (local processes, or PySpark), and the figures merged.

The partitions are the same on every engine (customers in index order, `partition_size` to a
partition), and each partition's result depends only on the seed, the policy and its own
customers, so the local and Spark engines give the same figures for the same seed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from creditlink.adapters.engines import check_engine, run_local, run_spark
from creditlink.analytics.metrics import calibration, headline, merge, policy_figures
from creditlink.domain.errors import InvalidInput
from creditlink.simulation.twin.engine import MODEL_MONTH, Policy, TwinConfig, run_partition
from creditlink.simulation.twin.population import Person, draw_population

Task = tuple[int, int]  # (policy index, partition index)
Progress = Callable[[str, int], None]  # (policy name, customers done)

LINKED = Policy("linked")
SILOED = Policy("siloed", siloed=True)


def check_config(config: TwinConfig) -> None:
    if config.customers < 1:
        raise InvalidInput("must be at least 1", field="customers", rule="CUSTOMERS_POSITIVE")
    if not 1 <= config.months <= 60:
        raise InvalidInput("must be 1 to 60", field="months", rule="MONTHS_RANGE")
    if config.shock_month is not None and not 1 <= config.shock_month <= config.months:
        raise InvalidInput(
            f"must be a month of the run, 1 to {config.months}",
            field="shock",
            rule="SHOCK_IN_RUN",
        )
    if config.seed < 0:
        raise InvalidInput(f"must be 0 or more, got {config.seed}", field="seed", rule="SEED_RANGE")
    if config.partition_size < 1:
        raise InvalidInput(
            f"must be at least 1, got {config.partition_size}",
            field="partition_size",
            rule="PARTITION_SIZE_POSITIVE",
        )


def check_run(
    config: TwinConfig, policies: Sequence[Policy], *, engine: str, workers: int | None
) -> None:
    """Everything about a run that can be refused, refused before it starts."""
    check_config(config)
    check_engine(engine)
    check_workers(workers)
    check_policy_names([p.name for p in policies])


def check_workers(workers: int | None) -> None:
    """None: one process per CPU; otherwise at least one."""
    if workers is not None and workers < 1:
        raise InvalidInput(
            f"must be at least 1 (leave it out for one per CPU), got {workers}",
            field="workers",
            rule="WORKERS_POSITIVE",
        )


def check_policy_names(names: Sequence[str]) -> None:
    """Policies are told apart by name: linked, siloed, and each file's name."""
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise InvalidInput(
            f"policy names must differ: {', '.join(repr(n) for n in twice)} is given more than "
            "once (a policy file is named by its file name, and linked and siloed are taken)",
            field="policy",
            rule="POLICY_UNIQUE",
        )


def partitions(people: Sequence[Person], size: int) -> list[list[Person]]:
    return [list(people[i : i + size]) for i in range(0, len(people), size)]


def _run_task(
    shared: tuple[TwinConfig, Sequence[Policy], Sequence[Sequence[Person]]], task: Task
) -> dict[str, Any]:
    config, policies, chunks = shared
    policy_index, partition_index = task
    return run_partition(config, policies[policy_index], chunks[partition_index])


def simulate(
    config: TwinConfig,
    policies: Sequence[Policy],
    *,
    engine: str = "local",
    workers: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run every policy on the same customers; the metrics (TWIN.md) as plain data."""
    check_run(config, policies, engine=engine, workers=workers)
    names = [p.name for p in policies]
    people = draw_population(config.customers, seed=config.seed, months=config.months)
    chunks = partitions(people, config.partition_size)
    tasks = [(p, c) for p in range(len(policies)) for c in range(len(chunks))]

    def done(task: Task) -> None:
        if progress is not None:
            progress(policies[task[0]].name, len(chunks[task[1]]))

    shared = (config, list(policies), [list(chunk) for chunk in chunks])
    results: dict[Task, dict[str, Any]] = {}
    if engine == "spark":
        finished: Iterable[tuple[Task, dict[str, Any]]] = run_spark(
            _run_task, tasks, shared=shared, app_name="creditlink-twin"
        )
    else:
        finished = run_local(
            _run_task, tasks, shared=shared, workers=workers or (os.cpu_count() or 1)
        )
    for task, result in finished:
        results[(task[0], task[1])] = result
        done(task)
    figures: dict[str, Any] = {}
    ledgers: dict[str, Any] = {}
    for index, policy in enumerate(policies):
        merged = merge([results[(index, c)] for c in range(len(chunks))])
        figures[policy.name] = policy_figures(
            merged,
            siloed=policy.siloed,
            months=config.months,
            model_month=min(MODEL_MONTH, config.months),
            start=config.start.isoformat(),
        )
        for c in range(len(chunks)):
            for name, report in results[(index, c)]["ledgers"].items():
                seen = ledgers.setdefault(name, {"verified": True, "entries": 0, "books": 0})
                seen["verified"] = seen["verified"] and report["verified"]
                seen["entries"] += report["entries"]
                seen["books"] += 1
    return {
        "config": {
            **{k: v for k, v in asdict(config).items() if k != "start"},
            "start": config.start.isoformat(),
            "engine_partitions": len(chunks),
            "policies": names,
            "policy_changes": {p.name: dict(p.changes) for p in policies if p.changes},
        },
        "calibration": {
            name: calibration(f, shock_month=config.shock_month) for name, f in figures.items()
        },
        "headline": headline(figures, shock_month=config.shock_month),
        "policies": figures,
        "ledger": ledgers,
    }


def write_metrics(metrics: Mapping[str, Any], path: Path) -> None:
    """metrics.json: sorted keys, so that the same run gives the same bytes."""
    text = json.dumps(metrics, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    temporary = path.with_suffix(".json.partial")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
