"""Population stability: PSI per feature and for the score, with verdicts."""

from __future__ import annotations

from typing import Any

import pytest

from creditlink.risk.scoring.model import TrainedModel, monitor
from creditlink.risk.scoring.monitoring import psi_of_counts, verdict, worst


@pytest.mark.parametrize(
    ("psi", "expected"),
    [(0.0, "stable"), (0.0999, "stable"), (0.10, "watch"), (0.2499, "watch"), (0.25, "unstable")],
)
def test_verdicts_follow_the_thresholds(psi: float, expected: str) -> None:
    assert verdict(psi) == expected


def test_the_overall_verdict_is_the_worst_one() -> None:
    assert worst(["stable", "unstable", "watch"]) == "unstable"
    assert worst(["stable", "stable"]) == "stable"


def test_psi_is_zero_for_the_same_shares_and_finite_for_an_emptied_bin() -> None:
    assert psi_of_counts([10, 20, 30], [1, 2, 3]) == pytest.approx(0.0)
    assert 0.25 < psi_of_counts([50, 50], [100, 0]) < 10


def test_a_fresh_sample_of_the_same_population_is_stable(
    taiwan_scorecard: TrainedModel, taiwan: Any, taiwan_other: Any
) -> None:
    result = monitor(taiwan_scorecard, taiwan, taiwan_other)
    assert result.overall == "stable"
    assert result.score.verdict == "stable"
    assert result.moved == ()


def test_a_shifted_sample_names_the_features_that_moved(
    taiwan_gbdt: TrainedModel, taiwan: Any, taiwan_other: Any
) -> None:
    shifted = taiwan_other.copy()
    limits = shifted["LIMIT_BAL"].astype(float)
    shifted["LIMIT_BAL"] = (limits * 4).astype(int).astype(str)  # four times the limits
    late = shifted.index % 3 == 0  # a third of customers a month late on their last bill
    shifted.loc[late, "PAY_0"] = "1"
    result = monitor(taiwan_gbdt, taiwan, shifted)
    by_name = {f.name: f for f in result.features}
    assert by_name["LIMIT_BAL"].verdict == "unstable"
    assert by_name["PAY_0"].verdict in ("watch", "unstable")
    assert by_name["AGE"].verdict == "stable"
    # The limits moved, and with them every ratio over the limit (utilisation).
    assert result.moved[0].name.endswith("LIMIT_BAL")
    assert "LIMIT_BAL" in [f.name for f in result.moved]
    assert "PAY_0" in [f.name for f in result.moved]
    assert result.overall == "unstable"
    assert result.score.psi > 0.0
    payload = result.to_dict()
    assert payload["moved"][0] == result.moved[0].name
    assert payload["thresholds"] == {"watch": 0.10, "unstable": 0.25}
