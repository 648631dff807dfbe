"""The score scale of DOMAIN.md §6 on a scale object and on the predictions of both kinds."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from creditlink.domain.errors import InvalidInput
from creditlink.risk.scoring.model import TrainedModel, predict
from creditlink.risk.scoring.scaling import Scaling, round_points


def test_600_points_are_odds_of_50_to_1_and_20_more_points_double_them() -> None:
    scale = Scaling()
    assert scale.points(math.log(50)) == pytest.approx(600)
    assert scale.points(math.log(100)) == pytest.approx(620)
    assert scale.factor == pytest.approx(20 / math.log(2))
    assert scale.offset == pytest.approx(600 - 20 / math.log(2) * math.log(50))
    assert scale.probability_bad(600) == pytest.approx(1 / 51)
    assert scale.probability_bad(620) == pytest.approx(1 / 101)


def test_the_probability_of_bad_inverts_the_points_without_overflowing() -> None:
    scale = Scaling()
    for points in (-5000.0, 0.0, 487.1, 600.0, 900.0, 50_000.0):
        p = scale.probability_bad(points)
        assert 0.0 <= p <= 1.0
        if 0 < p < 1:
            assert scale.points(math.log((1 - p) / p)) == pytest.approx(points, abs=1e-6)


def test_points_round_half_up() -> None:
    assert [round_points(x) for x in (599.5, 600.49, -0.5, 0.5)] == [600, 600, 0, 1]


def test_a_scale_without_positive_odds_is_refused() -> None:
    with pytest.raises(InvalidInput):
        Scaling(base_odds=0)


def _odds_good(p: Any) -> Any:
    return (1 - p) / p


@pytest.mark.parametrize("kind", ["scorecard", "gbdt"])
def test_twenty_more_points_double_the_odds_in_predictions(
    kind: str, request: pytest.FixtureRequest, taiwan: Any
) -> None:
    model: TrainedModel = request.getfixturevalue(f"taiwan_{kind}")
    predictions = predict(model, taiwan)
    scale = Scaling()
    exact = scale.points(np.log(_odds_good(predictions.probability_bad)))
    # each score is its probability's points rounded: within half a point
    assert np.abs(exact - predictions.scores).max() <= 0.5 + 1e-9
    # rows 20 points apart have twice the odds, within what rounding both allows
    pairs_of_rows = zip(predictions.scores, predictions.probability_bad, strict=True)
    by_score = {int(s): float(p) for s, p in pairs_of_rows}
    pairs = [(s, s + 20) for s in by_score if s + 20 in by_score]
    assert len(pairs) >= 20
    slack = math.exp(1 / scale.factor)
    for low, high in pairs:
        ratio = _odds_good(by_score[high]) / _odds_good(by_score[low])
        assert 2 / slack <= ratio <= 2 * slack, (low, high, ratio)
