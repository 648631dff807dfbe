"""Reason codes: the features that cost the most points (scorecard) or raised the risk most
(GBDT)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from creditlink.risk.scoring.binning import all_bins, assign
from creditlink.risk.scoring.model import TrainedModel, model_inputs, predict
from creditlink.risk.scoring.scorer import load_scorecard

CARD: dict[str, Any] = {
    "kind": "scorecard",
    "version": "hand-made-1",
    "scaling": {"base_points": 600, "base_odds": 50, "pdo": 20},
    "intercept_points": 500,
    "features": [
        {
            "name": "age",
            "type": "numeric",
            "reason": "YOUNG",
            "bins": [
                {"upper": 25, "points": 10},
                {"upper": 40, "points": 30},
                {"upper": None, "points": 40},
            ],
            "missing": {"points": 20},
        },
        {
            "name": "housing",
            "type": "categorical",
            "bins": [{"categories": ["own"], "points": 25}, {"categories": ["rent"], "points": 5}],
            "missing": {"points": 0},
            "other": {"points": 10},
        },
        {
            "name": "months_late",
            "type": "numeric",
            "bins": [{"upper": 1, "points": 35}, {"upper": None, "points": 0}],
            "missing": {"points": 0},
        },
    ],
}


def test_reasons_are_the_features_that_lost_most_points_against_their_best_bin() -> None:
    card = load_scorecard(CARD)
    score = card.score({"age": 22, "housing": "rent", "months_late": 3})
    # lost: age 30 (named by its reason code), housing 20, months_late 35
    assert score.reasons == ("months_late", "YOUNG", "housing")
    assert score.points == 500 + 10 + 5 + 0


def test_a_feature_in_its_best_bin_is_never_a_reason() -> None:
    card = load_scorecard(CARD)
    assert card.score({"age": 41, "housing": "own", "months_late": 0}).reasons == ()
    assert card.score({"age": 30, "housing": "own", "months_late": 0}).reasons == ("YOUNG",)


def test_bin_edges_include_the_lower_edge_and_exclude_the_upper() -> None:
    card = load_scorecard(CARD)
    base = {"housing": "own", "months_late": 0}
    assert card.score({**base, "age": 24.999}).points == 500 + 10 + 25 + 35
    assert card.score({**base, "age": 25}).points == 500 + 30 + 25 + 35
    assert card.score({**base, "age": None}).points == 500 + 20 + 25 + 35
    assert card.score({**base, "age": "NA"}).points == 500 + 20 + 25 + 35


def test_an_unseen_category_scores_other_and_a_missing_one_missing() -> None:
    card = load_scorecard(CARD)
    base = {"age": 50, "months_late": 0}
    assert card.score({**base, "housing": "boat"}).points == 500 + 40 + 10 + 35
    assert card.score({**base, "housing": ""}).points == 500 + 40 + 0 + 35


def test_trained_scorecard_reasons_match_the_points_lost_in_the_artefact(
    taiwan_scorecard: TrainedModel, taiwan: Any
) -> None:
    rows = taiwan.head(200)
    predictions = predict(taiwan_scorecard, rows)
    x = model_inputs(taiwan_scorecard, rows)
    features = taiwan_scorecard.artefact["features"]
    lost = np.column_stack(
        [
            (lambda table: table.max() - table[assign(x[f["name"]], f)])(
                np.array([b["points"] for b in all_bins(f)])
            )
            for f in features
        ]
    )
    for i, reasons in enumerate(predictions.reasons):
        worst = sorted(range(len(features)), key=lambda j: -lost[i, j])[:3]
        assert reasons == tuple(features[j]["name"] for j in worst if lost[i, j] > 0)
    assert sum(1 for r in predictions.reasons if len(r) == 3) > 150


def test_gbdt_reasons_name_the_features_that_raised_the_risk(
    taiwan_gbdt: TrainedModel, taiwan: Any
) -> None:
    rows = taiwan.head(50).copy()
    late = rows.copy()
    for column in ("PAY_0", "PAY_2", "PAY_3"):
        late[column] = "4"  # four months late, three months running
    before, after = predict(taiwan_gbdt, rows), predict(taiwan_gbdt, late)
    assert (after.scores < before.scores).mean() > 0.9
    pay = {"PAY_0", "PAY_2", "PAY_3", "PAY_max", "PAY_mean", "PAY_count_positive"}
    assert all(set(r) & pay for r in after.reasons)
    assert all(0 < len(r) <= 3 for r in after.reasons)


def test_a_blank_or_unseen_category_is_trained_and_scored_in_its_own_bin(german: Any) -> None:
    """Real application files have blank categorical cells: training puts them in the
    missing bin, and scoring gives a blank its missing points and a category never seen in
    training its other points (under pandas' copy-on-write this once crashed)."""
    from tests.risk.conftest import GERMAN_TARGET, trained

    frame = german.copy()
    frame.loc[:59, "purpose"] = None  # 60 blank cells
    model = trained(frame, target=GERMAN_TARGET, kind="scorecard", cv_folds=2)
    rows = german.head(3).copy()
    rows.loc[0, "purpose"] = None
    rows.loc[1, "purpose"] = "spaceship"
    [purpose] = [f for f in model.artefact["features"] if f["name"] == "purpose"]
    n = len(purpose["bins"])
    x = model_inputs(model, rows)
    assert list(assign(x["purpose"], purpose)[:2]) == [n, n + 1]
    table = np.array([b["points"] for b in all_bins(purpose)])
    scored = predict(model, rows)
    plain = predict(model, german.head(3))
    kept = assign(model_inputs(model, german.head(3))["purpose"], purpose)
    for row, slot in ((0, n), (1, n + 1)):
        assert scored.points[row] - plain.points[row] == pytest.approx(
            table[slot] - table[kept[row]]
        )
