"""The Spark engine gives the same figures as the local one for the same seed (needs the
`spark` extra and Java; CI installs both and requires this test to run)."""

from __future__ import annotations

import importlib.util
import os
import shutil

import pytest

from creditlink.simulation.twin.engine import TwinConfig
from creditlink.simulation.twin.run import LINKED, SILOED, simulate


def _why_not() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "PySpark is not installed (uv sync --extra spark)"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java runtime for Spark"
    return None


@pytest.mark.slow
def test_local_and_spark_engines_agree() -> None:
    why = _why_not()
    if why is not None:
        if os.environ.get("CREDITLINK_REQUIRE_SPARK") == "1":
            pytest.fail(f"CREDITLINK_REQUIRE_SPARK=1 but {why}")
        pytest.skip(why)
    config = TwinConfig(customers=40, months=2, seed=11, shock_month=2, partition_size=20)
    local = simulate(config, [LINKED, SILOED], engine="local", workers=1)
    spark = simulate(config, [LINKED, SILOED], engine="spark")
    assert spark == local
    assert all(book["verified"] for book in spark["ledger"].values())
