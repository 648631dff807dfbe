"""The fast scorer: the scorecard JSON alone, one record at a time, the same answers as the
batch scorer."""

from __future__ import annotations

import copy
import json
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
