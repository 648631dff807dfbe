"""The fast scorer: the scorecard JSON alone, one record at a time, the same answers as the
batch scorer."""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
from typing import Any

import pytest

from creditlink.domain.errors import InvalidInput
from creditlink.risk.scoring.model import TrainedModel, predict
from creditlink.risk.scoring.scorer import load_scorecard
from tests.risk.test_reasons import CARD


@pytest.mark.parametrize("name", ["taiwan", "german"])
def test_the_fast_scorer_agrees_with_the_batch_scorer(
    name: str, request: pytest.FixtureRequest
) -> None:
    model: TrainedModel = request.getfixturevalue(f"{name}_scorecard")
    frame = request.getfixturevalue(name).head(1000)
    batch = predict(model, frame)
    # through JSON, as the platform reads it
    card = load_scorecard(json.loads(json.dumps(model.artefact)))
    assert card.version == model.version
    for i, record in enumerate(frame.to_dict("records")):
        one = card.score(record)
        assert one.points == batch.scores[i]
        assert one.probability_bad == pytest.approx(batch.probability_bad[i], rel=1e-12)
        assert one.reasons == batch.reasons[i]


@pytest.mark.parametrize("name", ["taiwan", "german"])
def test_column_scoring_agrees_with_record_scoring(
    name: str, request: pytest.FixtureRequest
) -> None:
    model: TrainedModel = request.getfixturevalue(f"{name}_scorecard")
    frame = request.getfixturevalue(name).head(500)
    card = load_scorecard(model.artefact)
    columns = frame.to_dict("list")  # text cells and NaN, as the file reader gives them
    many = card.score_columns(columns)
    for i, record in enumerate(frame.to_dict("records")):
        one = card.score(record)
        assert many.points[i] == one.points
        assert many.reasons[i] == one.reasons
        assert many.probability_bad[i] == pytest.approx(one.probability_bad, rel=1e-12)
    assert card.score_columns(columns, reasons=1).reasons == [r[:1] for r in many.reasons]


def test_column_scoring_takes_the_values_record_scoring_takes() -> None:
    card = load_scorecard(CARD)
    records: list[dict[str, object]] = [
        {"age": 22, "housing": "rent", "months_late": 3},
        {"age": None, "housing": None, "months_late": float("nan")},
        {"age": "40", "housing": "castle", "months_late": "NA"},
        {"age": 25.0, "housing": "own", "months_late": 0.999},
    ]
    columns = {name: [r[name] for r in records] for name in records[0]}
    many = card.score_columns(columns)
    ones = [card.score(r) for r in records]
    assert many.points == [s.points for s in ones]
    assert many.reasons == [s.reasons for s in ones]
    assert many.probability_bad == pytest.approx([s.probability_bad for s in ones], rel=1e-12)
    assert card.score_columns({name: [] for name in columns}).points == []


@pytest.mark.parametrize(
    ("columns", "field", "rule"),
    [
        ({"age": [1], "housing": ["own"]}, "months_late", "FEATURE_PRESENT"),
        ({"age": [1, 2], "housing": ["own"], "months_late": [0, 0]}, "housing", "COLUMNS_ALIGNED"),
        ({"age": ["thirty"], "housing": ["own"], "months_late": [0]}, "age", "NUMBER_VALID"),
        ({"age": [1, math.inf], "housing": ["own"] * 2, "months_late": [0] * 2}, "age", None),
        ({"age": [True], "housing": ["own"], "months_late": [0]}, "age", "NUMBER_VALID"),
    ],
)
def test_column_scoring_refuses_what_record_scoring_refuses(
    columns: dict[str, list[object]], field: str, rule: str | None
) -> None:
    card = load_scorecard(CARD)
    with pytest.raises(InvalidInput) as error:
        card.score_columns(columns)
    assert error.value.field == field
    assert error.value.rule == (rule or "NUMBER_VALID")


def test_a_bin_may_state_its_edge_as_at_most_with_upper_the_next_float() -> None:
    above = math.nextafter(24.5, math.inf)
    card = copy.deepcopy(CARD)
    card["features"][0]["bins"][0].update(at_most=24.5, upper=above)
    scorer = load_scorecard(card)
    base = {"housing": "own", "months_late": 0}
    # bins: up to and including 24.5 scores 10, then up to 40 (excluded) 30
    assert scorer.score({**base, "age": 24.5}).points == 500 + 10 + 25 + 35
    assert scorer.score({**base, "age": above}).points == 500 + 30 + 25 + 35
    many = scorer.score_columns(
        {"age": [24.5, above], "housing": ["own"] * 2, "months_late": [0, 0]}
    )
    assert many.points == [570, 590]


def test_the_fast_scorer_takes_plain_python_values(taiwan_scorecard: TrainedModel) -> None:
    card = load_scorecard(taiwan_scorecard.artefact)
    record: dict[str, object] = dict.fromkeys(card.inputs, 0)
    as_text = dict.fromkeys(card.inputs, "0")
    assert card.score(record) == card.score(as_text)


def test_the_fast_scorer_imports_neither_pandas_nor_optbinning() -> None:
    code = (
        "import sys; from creditlink.risk.scoring.scorer import load_scorecard; "
        "heavy = {'pandas', 'optbinning', 'lightgbm', 'sklearn', 'numpy'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_record_without_a_feature_or_with_a_bad_number_is_refused() -> None:
    card = load_scorecard(CARD)
    with pytest.raises(InvalidInput) as missing:
        card.score({"age": 30, "housing": "own"})
    assert missing.value.field == "months_late"
    assert missing.value.rule == "FEATURE_PRESENT"
    with pytest.raises(InvalidInput) as bad:
        card.score({"age": "thirty", "housing": "own", "months_late": 0})
    assert bad.value.field == "age"
    assert bad.value.rule == "NUMBER_VALID"


def _broken(change: Any) -> dict[str, Any]:
    card = copy.deepcopy(CARD)
    change(card)
    return card


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda c: c.pop("version"), "version"),
        (lambda c: c.update(kind="gbdt"), "not a scorecard"),
        (lambda c: c["features"][0]["bins"][1].update(upper=10), "must increase"),
        (lambda c: c["features"][0]["bins"][2].update(upper=99), "upper null"),
        (lambda c: c["features"][0]["bins"][0].update(at_most=25), "next float above it"),
        (lambda c: c["features"][0]["bins"][0].update(at_most=24), "next float above it"),
        (lambda c: c["features"][0]["bins"][0].update(at_most="25"), "not a number"),
        (lambda c: c["features"][1]["bins"][1].update(categories=["own"]), "two bins"),
        (lambda c: c["features"][1].pop("other"), "other bin"),
        (lambda c: c["features"][2]["bins"][0].update(points="ten"), "not a number"),
        (lambda c: c["features"][2].update(type="date"), "numeric or categorical"),
        (lambda c: c.update(scaling={"base_points": 600}), "scaling"),
        (lambda c: c["features"].append(c["features"][0]), "listed twice"),
        (lambda c: c["features"][0].update(bins=[7]), "list of bins"),
        (lambda c: c.update(derived=[{"op": "max", "columns": ["a"]}]), "derived features"),
    ],
)
def test_a_malformed_scorecard_is_refused_with_what_is_wrong(change: Any, words: str) -> None:
    with pytest.raises(InvalidInput) as error:
        load_scorecard(_broken(change))
    assert words in str(error.value)
