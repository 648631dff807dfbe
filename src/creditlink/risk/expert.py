"""Expert scorecards: points per characteristic band, set by the risk team, on the scale of
DOMAIN.md §6 (600 points at odds 50:1, 20 points to double the odds).

The platform scores with these until a trained scorecard is deployed: an application
scorecard at onboarding (age and declared income) and a behaviour scorecard over BOTH
products' records (`risk.features`). Each characteristic's reason code names what cost
points; the codes of the characteristics that lost most against their best band are the
score's reasons.

The cards are JSON files shipped in the package, `risk/cards/application.json` and
`risk/cards/behaviour.json`, in the scorecard format that trained scorecards use (see
`risk.scoring.scorer`), and the one scorer of that format scores them: this module only loads
them and keeps the names the platform uses. A characteristic is a numeric feature; its
`reason` is the reason code; the card's `version` is the score's `model_version`
(`expert-application-1`, `expert-behaviour-1`), and `intercept_points` the base points.

Band edges. The risk team sets a band as the values up to AND INCLUDING an edge; the format's
bins hold [previous upper, upper), the upper edge excluded. Each band of an expert card with a
finite edge states both: `at_most`, the edge as set, and `upper`, the next float above it
(`math.nextafter(at_most, inf)`: 21 → 21.000000000000004, 0.3 → 0.30000000000000004,
0 → 5e-324), which the scorer reads. For every float x, x <= at_most exactly when x < upper,
so every value (a count, a ratio such as utilisation, an income in yuan) lands in the band it
landed in under the hand-set `<=` rule, and every score is what it was. Adding 1 to the edge
would be exact only for whole numbers, and a separate "edge included" flag would be one more
rule that every reader of the format (the batch scorer, stability monitoring) must learn. The
scorer refuses a bin whose `upper` is not the next float above its `at_most`, and this loader
refuses an expert band without `at_most`, so the two can never drift apart.

A record may leave a characteristic out, or give None: it scores that characteristic's
`missing` points.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from creditlink.domain.errors import InvalidInput, NotFound
from creditlink.risk.scoring.scaling import Scaling
from creditlink.risk.scoring.scorer import Scorecard, load_scorecard

SCALE = Scaling()  # the rulebook's scale, shared with the trained models
FACTOR = SCALE.factor
OFFSET = SCALE.offset
CARDS = resources.files("creditlink.risk").joinpath("cards")


def probability_bad(points: float) -> float:
    """Invert points = offset + factor × ln(good:bad odds)."""
    return SCALE.probability_bad(points)


@dataclass(frozen=True, slots=True)
class Score:
    points: int
    probability_bad: float  # rounded to 6 decimals
    reasons: tuple[str, ...]
    model_version: str


@dataclass(frozen=True, slots=True)
class PointsScorecard:
    """An expert card, scored by `risk.scoring.scorer`."""

    card: Scorecard
    inputs: tuple[str, ...] = field(init=False)  # the characteristics, in the card's order

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", self.card.inputs)

    @property
    def version(self) -> str:
        return self.card.version

    def score(self, record: Mapping[str, object]) -> Score:
        scored = self.card.score({name: record.get(name) for name in self.inputs})
        return Score(
            points=scored.points,
            probability_bad=round(scored.probability_bad, 6),
            reasons=scored.reasons,
            model_version=self.card.version,
        )


@dataclass(frozen=True, slots=True)
class BatchScores:
    points: list[int]
    probability_bad: list[float]
    top_reason: list[str]


def score_columns(
    card: PointsScorecard, columns: Mapping[str, Sequence[float | None]]
) -> BatchScores:
    """Score many rows at once (one sequence per feature; an absent one is missing), with the
    top reason of each row ("" when the row lost no points)."""
    size = len(next(iter(columns.values()), ()))
    full = {name: columns[name] if name in columns else [None] * size for name in card.inputs}
    scored = card.card.score_columns(full, reasons=1)
    return BatchScores(
        points=scored.points,
        probability_bad=scored.probability_bad,
        top_reason=[reasons[0] if reasons else "" for reasons in scored.reasons],
    )


# -- the card files ---------------------------------------------------------------------------


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def load_card(path: Traversable | Path) -> PointsScorecard:
    """The expert card in the JSON file at `path`; NotFound or InvalidInput naming the file
    and what in it is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound(
            f"the scorecard file {path} does not exist", field="scorecard", rule="FILE_EXISTS"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise _invalid(path, f"cannot be read ({error})") from None
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise _invalid(path, f"is not valid JSON ({error})") from None
    except ValueError as error:  # NaN or Infinity
        raise _invalid(path, f"is not valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise _invalid(path, "must hold a JSON object (a scorecard)")
    try:
        card = load_scorecard(document)
    except InvalidInput as error:
        raise _invalid(path, error.message) from None
    if card.scaling != SCALE:
        raise _invalid(
            path,
            f"scaling must be the rulebook's scale ({SCALE.base_points:g} points at odds "
            f"{SCALE.base_odds:g}:1, {SCALE.pdo:g} points to double the odds)",
        )
    for spec in document["features"]:
        if spec["type"] != "numeric":
            continue
        for k, block in enumerate(spec["bins"][:-1]):
            if "at_most" not in block:
                raise _invalid(
                    path,
                    f"bin {k + 1} of {spec['name']!r} needs at_most, the largest value it holds "
                    "(its upper is the next float above it)",
                )
    return PointsScorecard(card)


def _invalid(path: Traversable | Path, message: str) -> InvalidInput:
    return InvalidInput(f"{path}: {message}", field="scorecard", rule="SCORECARD_VALID")


APPLICATION = load_card(CARDS / "application.json")
BEHAVIOUR = load_card(CARDS / "behaviour.json")

SCORECARDS = {card.version: card for card in (APPLICATION, BEHAVIOUR)}
