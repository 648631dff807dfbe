from __future__ import annotations

from typing import Any

import pytest

from tests.analytics.metrics_fixture import build_metrics


@pytest.fixture
def metrics() -> dict[str, Any]:
    return build_metrics()
