"""The expert scorecards as JSON cards, scored by the one scorer (`risk.scoring.scorer`), give
every score the hand-set tables gave: same points, probability, reasons and model version.

`OLD` below is a literal copy of the hand-set tables as `risk.expert` held them before they
became JSON cards, with their own rule: a band holds the values `<= upper`. The JSON cards use
the scorecard format's rule (`value < upper`) with `upper` the next float above the old edge.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import creditlink.risk.expert as expert
from creditlink.domain.errors import InvalidInput, NotFound
from creditlink.risk.expert import APPLICATION, BEHAVIOUR, SCORECARDS, load_card, score_columns
from creditlink.risk.scoring.scaling import Scaling

# (version, base points, characteristics); each characteristic is
# (feature, reason, ((upper, points), ...), missing points); the last upper is None.
Table = tuple[str, int, tuple[tuple[str, str, tuple[tuple[float | None, int], ...], int], ...]]

OLD_APPLICATION: Table = (
    "expert-application-1",
    590,
    (
        ("age", "AGE_YOUNG", ((21, -10), (25, 0), (35, 10), (50, 15), (None, 10)), -10),
        (
            "monthly_income_yuan",
            "INCOME_LOW",
            ((2_999.99, -15), (5_999.99, 0), (11_999.99, 12), (24_999.99, 20), (None, 25)),
            -15,
        ),
    ),
)

OLD_BEHAVIOUR: Table = (
    "expert-behaviour-1",
    590,
    (
        ("max_dpd_paylater_12m", "PAYLATER_LATE_12M", ((0, 15), (3, 0), (30, -25), (None, -60)), 0),
        ("max_dpd_loan_12m", "LOAN_LATE_12M", ((0, 15), (3, 0), (30, -25), (None, -60)), 0),
        ("on_time_streak", "SHORT_ON_TIME_HISTORY", ((0, 0), (2, 5), (5, 12), (None, 20)), 0),
        (
            "utilisation_joint",
            "HIGH_UTILISATION",
            ((0.30, 10), (0.60, 5), (0.90, 0), (None, -15)),
            0,
        ),
        ("borrow_to_repay_12m", "BORROW_TO_REPAY", ((0, 0), (None, -30)), 0),
        ("refunds_12m", "MANY_REFUNDS", ((2, 0), (None, -5)), 0),
        ("tenure_months", "SHORT_TENURE", ((2, -5), (11, 0), (None, 8)), 0),
        ("draws_6m", "FREQUENT_DRAWS", ((2, 0), (None, -10)), 0),
    ),
)

OLD = {OLD_APPLICATION[0]: OLD_APPLICATION, OLD_BEHAVIOUR[0]: OLD_BEHAVIOUR}
SCALE = Scaling()  # the rulebook's scale, as the hand-set tables used it


def old_points(bands: tuple[tuple[float | None, int], ...], missing: int, value: object) -> int:
    """The hand-set rule: the first band whose upper is None or >= the value."""
    if value is None:
        return missing
    number = float(value)  # type: ignore[arg-type]
    for upper, points in bands:
        if upper is None or number <= upper:
            return points
    return bands[-1][1]


def old_score(table: Table, record: Mapping[str, object]) -> tuple[int, float, tuple[str, ...]]:
    """(points, probability of bad, reasons) as the hand-set scorecards computed them."""
    _, base, characteristics = table
    got = [
        (max(p for _, p in bands), old_points(bands, missing, record.get(feature)), reason)
        for feature, reason, bands, missing in characteristics
    ]
    points = base + sum(p for _, p, _ in got)
    lost = sorted(
        ((best - p, index, reason) for index, (best, p, reason) in enumerate(got) if best > p),
        key=lambda item: (-item[0], item[1]),
    )
    return (
        points,
        round(SCALE.probability_bad(points), 6),
        tuple(reason for _, _, reason in lost[:3]),
    )


def edges(table: Table) -> list[tuple[str, float]]:
    return [
        (feature, float(upper))
        for feature, _, bands, _ in table[2]
        for upper, _ in bands
        if upper is not None
    ]


def around(upper: float) -> list[float]:
    """The edge itself, the floats either side of it, and a step of one either side."""
    values = [upper, math.nextafter(upper, math.inf), math.nextafter(upper, -math.inf)]
    values += [upper + 1, upper - 1, upper + 0.01, upper - 0.01]
    return values


CASES = [
    (version, feature, value)
    for version, table in OLD.items()
    for feature, upper in edges(table)
    for value in around(upper)
]


def test_the_cards_are_the_hand_set_tables() -> None:
    assert set(SCORECARDS) == set(OLD)
    for version, (_, base, characteristics) in OLD.items():
        card = SCORECARDS[version]
        assert card.version == version
        assert card.card.intercept_points == base
        assert card.card.inputs == tuple(feature for feature, *_ in characteristics)


@pytest.mark.parametrize(("version", "feature", "value"), CASES)
def test_a_value_at_or_beside_each_old_edge_scores_as_before(
    version: str, feature: str, value: float
) -> None:
    table = OLD[version]
    card = SCORECARDS[version]
    # every other characteristic at a fixed, ordinary value; the one under test moves
    base: dict[str, object] = dict.fromkeys(card.card.inputs, 1)
    records = [{**base, feature: value}]
    if value.is_integer():
        records.append({**base, feature: int(value)})  # counts arrive as int too
    [(bands, missing)] = [(b, m) for f, _, b, m in table[2] if f == feature]
    [scored] = [f for f in card.card.features if f.name == feature]
    for record in records:
        # the characteristic's own points, then the whole score
        assert scored.points_of(record[feature]) == old_points(bands, missing, record[feature])
        new = card.score(record)
        assert (new.points, new.probability_bad, new.reasons) == old_score(table, record)
        assert new.model_version == version


def test_every_characteristic_scores_each_band_as_before() -> None:
    for version, table in OLD.items():
        card = SCORECARDS[version]
        for feature, _, bands, _ in table[2]:
            uppers = [u for u, _ in bands if u is not None]
            values: list[object] = [None, -1e9, 1e9, *uppers, *(u + 0.5 for u in uppers)]
            for value in values:
                record = {**dict.fromkeys(card.card.inputs, None), feature: value}
                new = card.score(record)
                assert (new.points, new.probability_bad, new.reasons) == old_score(table, record)


number = st.one_of(
    st.none(),
    st.integers(-5, 200),
    st.floats(-5, 40_000, allow_nan=False),
    st.sampled_from(sorted({u for t in OLD.values() for _, u in edges(t)})),
    st.sampled_from(
        sorted({math.nextafter(u, math.inf) for t in OLD.values() for _, u in edges(t)})
    ),
)


@given(st.sampled_from(sorted(OLD)), st.data())
def test_any_record_scores_as_the_hand_set_table_did(version: str, data: st.DataObject) -> None:
    table = OLD[version]
    record = {feature: data.draw(number, label=feature) for feature, *_ in table[2]}
    new = SCORECARDS[version].score(record)
    assert (new.points, new.probability_bad, new.reasons) == old_score(table, record)
    assert new.model_version == version


@given(st.lists(st.fixed_dictionaries({f: number for f, *_ in OLD_BEHAVIOUR[2]}), min_size=1))
def test_batch_scoring_gives_the_hand_set_points_too(rows: list[dict[str, object]]) -> None:
    columns = {name: [row[name] for row in rows] for name in rows[0]}
    scored = score_columns(BEHAVIOUR, columns)  # type: ignore[arg-type]
    old = [old_score(OLD_BEHAVIOUR, row) for row in rows]
    assert scored.points == [p for p, _, _ in old]
    assert scored.top_reason == [r[0] if r else "" for _, _, r in old]
    assert scored.probability_bad == pytest.approx([p for _, p, _ in old], abs=5e-7)


def test_twenty_points_double_the_odds_on_the_expert_cards() -> None:
    def odds_good(probability_bad: float) -> float:
        return (1 - probability_bad) / probability_bad

    for card in (APPLICATION, BEHAVIOUR):
        scaling = card.card.scaling
        assert (scaling.base_points, scaling.base_odds, scaling.pdo) == (600, 50, 20)
        for points in (500.0, 580.0, 600.0, 617.0, 700.0):
            ratio = odds_good(scaling.probability_bad(points + 20)) / odds_good(
                scaling.probability_bad(points)
            )
            assert ratio == pytest.approx(2.0, rel=1e-12)
        assert odds_good(scaling.probability_bad(600)) == pytest.approx(50.0, rel=1e-12)
    # and on real scores: a long on-time streak is worth 20 points more than none
    record: dict[str, object] = {
        "max_dpd_paylater_12m": 0,
        "max_dpd_loan_12m": 0,
        "on_time_streak": 8,
        "utilisation_joint": 0.2,
        "borrow_to_repay_12m": 0,
        "refunds_12m": 0,
        "tenure_months": 24,
        "draws_6m": 1,
    }
    long, none = BEHAVIOUR.card.score(record), BEHAVIOUR.card.score({**record, "on_time_streak": 0})
    assert long.points - none.points == 20
    assert odds_good(long.probability_bad) / odds_good(none.probability_bad) == pytest.approx(
        2.0, rel=1e-12
    )


# -- the card files ---------------------------------------------------------------------------


def _card_file(tmp_path: Path, change: Any = None, name: str = "behaviour.json") -> Path:
    document = json.loads((Path(expert.__file__).parent / "cards" / name).read_text())
    if change is not None:
        change(document)
    (tmp_path / name).write_text(json.dumps(document))
    return tmp_path / name


def test_the_shipped_cards_load_from_their_files(tmp_path: Path) -> None:
    card = load_card(_card_file(tmp_path))
    assert card.version == "expert-behaviour-1"
    record = dict.fromkeys(card.card.inputs, 3)
    assert card.score(record) == BEHAVIOUR.score(record)


def test_a_missing_card_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(NotFound) as error:
        load_card(tmp_path / "nowhere.json")
    assert "nowhere.json" in str(error.value)
    assert "does not exist" in str(error.value)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"upper": NaN}', "NaN"),
    ],
)
def test_a_card_file_that_is_not_a_card_is_named(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "broken.json"
    path.write_text(text)
    with pytest.raises(InvalidInput) as error:
        load_card(path)
    assert "broken.json" in str(error.value)
    assert words in str(error.value)


def _bins(document: dict[str, Any], feature: int) -> list[dict[str, Any]]:
    bins: list[dict[str, Any]] = document["features"][feature]["bins"]
    return bins


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda d: d.pop("version"), "version"),
        (lambda d: d.pop("scaling"), "scaling"),
        (lambda d: d["scaling"].update(pdo=40), "rulebook's scale"),
        (lambda d: d["features"][0].pop("bins"), "'max_dpd_paylater_12m' needs a list of bins"),
        (lambda d: d["features"][2]["missing"].pop("points"), "missing bin of 'on_time_streak'"),
        (lambda d: _bins(d, 3)[1].pop("at_most"), "bin 2 of 'utilisation_joint' needs at_most"),
        (lambda d: _bins(d, 3)[1].update(upper=0.6), "bin 2 of 'utilisation_joint'"),
        (lambda d: _bins(d, 3)[1].update(at_most=0.61), "bin 2 of 'utilisation_joint'"),
        (lambda d: _bins(d, 0)[0].update(upper=0), "bin 1 of 'max_dpd_paylater_12m'"),
    ],
)
def test_a_malformed_card_names_its_file_and_field(tmp_path: Path, change: Any, words: str) -> None:
    with pytest.raises(InvalidInput) as error:
        load_card(_card_file(tmp_path, change))
    assert "behaviour.json" in str(error.value)
    assert words in str(error.value)
