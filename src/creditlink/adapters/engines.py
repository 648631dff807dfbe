"""Where partitioned work runs: in this process, in local processes, or on Apache Spark.

The twin and the monthly portfolio jobs both split their work into independent tasks (a
partition of customers each) and run one function over them. Each task's result depends only
on the task, so every engine gives the same results; only the wall time differs.

Spark (PySpark, the optional `spark` extra) runs the tasks with `local[*]` unless
`CREDITLINK_SPARK_MASTER` names a cluster. Each task's function and the shared data travel
to the executors by pickle; the shared data once per executor, as a broadcast.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from creditlink.domain.errors import InvalidInput

ENGINES = ("local", "spark")
SPARK_MASTER_ENV = "CREDITLINK_SPARK_MASTER"

T = TypeVar("T")
R = TypeVar("R")

_SHARED: dict[str, Any] = {}


def check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise InvalidInput(
            f"must be one of {', '.join(ENGINES)}", field="engine", rule="ENGINE_KNOWN"
        )


def _init_worker(function: Callable[[Any, Any], Any], shared: Any) -> None:
    _SHARED.update(function=function, shared=shared)


def _in_worker(task: Any) -> tuple[Any, Any]:
    return task, _SHARED["function"](_SHARED["shared"], task)


def run_local(
    function: Callable[[Any, T], R], tasks: Sequence[T], *, shared: Any, workers: int
) -> Iterator[tuple[T, R]]:
    """(task, result) as each finishes: in this process, or in `workers` forked processes."""
    if workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            yield task, function(shared, task)
        return
    import multiprocessing

    context = multiprocessing.get_context("spawn" if os.name == "nt" else "fork")
    with context.Pool(workers, initializer=_init_worker, initargs=(function, shared)) as pool:
        yield from pool.imap_unordered(_in_worker, tasks)


def run_spark(
    function: Callable[[Any, T], R], tasks: Sequence[T], *, shared: Any, app_name: str
) -> list[tuple[T, R]]:
    """(task, result) for every task, run as one Spark job of len(tasks) partitions."""
    try:
        from pyspark.sql import SparkSession  # type: ignore[import-not-found,unused-ignore]
    except ImportError as error:
        raise InvalidInput(
            "the Spark engine needs PySpark: install the extra with `uv sync --extra spark`",
            field="engine",
            rule="ENGINE_AVAILABLE",
        ) from error
    spark = (
        SparkSession.builder.master(os.environ.get(SPARK_MASTER_ENV, "local[*]"))
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        context = spark.sparkContext
        broadcast = context.broadcast(shared)

        def run(task: T) -> tuple[T, R]:
            return task, function(broadcast.value, task)

        collected: list[tuple[T, R]] = (
            context.parallelize(list(tasks), max(1, len(tasks))).map(run).collect()
        )
    finally:
        spark.stop()
    return collected
