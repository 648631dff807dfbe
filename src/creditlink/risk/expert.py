"""Expert scorecards: points per characteristic band, set by the risk team, on the scale of
DOMAIN.md §6 (600 points at odds 50:1, 20 points to double the odds).

The platform scores with these until a trained scorecard is deployed: an application
scorecard at onboarding (age and declared income) and a behaviour scorecard over BOTH
products' records (`risk.features`). Each characteristic's reason code names what cost
points; the codes of the characteristics that lost most against their best band are the
score's reasons.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from creditlink.risk.scoring.scaling import Scaling

SCALE = Scaling()  # the rulebook's scale, shared with the trained models
FACTOR = SCALE.factor
OFFSET = SCALE.offset


def probability_bad(points: float) -> float:
    """Invert points = offset + factor × ln(good:bad odds)."""
    return SCALE.probability_bad(points)


@dataclass(frozen=True, slots=True)
class Band:
    upper: float | None  # the band holds values <= upper; None is the last, open band
    points: int


@dataclass(frozen=True, slots=True)
class Characteristic:
    feature: str
    reason: str
    bands: tuple[Band, ...]
    missing_points: int = 0

    def points(self, value: object) -> int:
        if value is None:
            return self.missing_points
        number = float(value)  # type: ignore[arg-type]
        for band in self.bands:
            if band.upper is None or number <= band.upper:
                return band.points
        return self.bands[-1].points

    @property
    def best(self) -> int:
        return max(band.points for band in self.bands)


@dataclass(frozen=True, slots=True)
class Score:
    points: int
    probability_bad: float
    reasons: tuple[str, ...]
    model_version: str


@dataclass(frozen=True, slots=True)
class PointsScorecard:
    version: str
    base_points: int
    characteristics: tuple[Characteristic, ...]

    def score(self, record: Mapping[str, object]) -> Score:
        got = [(c, c.points(record.get(c.feature))) for c in self.characteristics]
        points = self.base_points + sum(p for _, p in got)
        # Most points lost first; ties in the scorecard's own order of characteristics.
        lost = sorted(
            ((c.best - p, index, c.reason) for index, (c, p) in enumerate(got) if c.best > p),
            key=lambda item: (-item[0], item[1]),
        )
        return Score(
            points=points,
            probability_bad=round(probability_bad(points), 6),
            reasons=tuple(reason for _, _, reason in lost[:3]),
            model_version=self.version,
        )


def _bands(*pairs: tuple[float | None, int]) -> tuple[Band, ...]:
    return tuple(Band(upper, points) for upper, points in pairs)


APPLICATION = PointsScorecard(
    version="expert-application-1",
    base_points=590,
    characteristics=(
        Characteristic(
            "age",
            "AGE_YOUNG",
            _bands((21, -10), (25, 0), (35, 10), (50, 15), (None, 10)),
            missing_points=-10,
        ),
        Characteristic(
            "monthly_income_yuan",
            "INCOME_LOW",
            _bands((2_999.99, -15), (5_999.99, 0), (11_999.99, 12), (24_999.99, 20), (None, 25)),
            missing_points=-15,
        ),
    ),
)

BEHAVIOUR = PointsScorecard(
    version="expert-behaviour-1",
    base_points=590,
    characteristics=(
        Characteristic(
            "max_dpd_paylater_12m",
            "PAYLATER_LATE_12M",
            _bands((0, 15), (3, 0), (30, -25), (None, -60)),
        ),
        Characteristic(
            "max_dpd_loan_12m", "LOAN_LATE_12M", _bands((0, 15), (3, 0), (30, -25), (None, -60))
        ),
        Characteristic(
            "on_time_streak", "SHORT_ON_TIME_HISTORY", _bands((0, 0), (2, 5), (5, 12), (None, 20))
        ),
        Characteristic(
            "utilisation_joint",
            "HIGH_UTILISATION",
            _bands((0.30, 10), (0.60, 5), (0.90, 0), (None, -15)),
        ),
        Characteristic("borrow_to_repay_12m", "BORROW_TO_REPAY", _bands((0, 0), (None, -30))),
        Characteristic("refunds_12m", "MANY_REFUNDS", _bands((2, 0), (None, -5))),
        Characteristic("tenure_months", "SHORT_TENURE", _bands((2, -5), (11, 0), (None, 8))),
        Characteristic("draws_6m", "FREQUENT_DRAWS", _bands((2, 0), (None, -10))),
    ),
)


def score_columns(
    card: PointsScorecard, columns: Mapping[str, Sequence[float | None]]
) -> BatchScores:
    """Score many rows at once (one array per feature), with the top reason of each row."""
    import numpy as np

    size = len(next(iter(columns.values())))
    total = np.full(size, float(card.base_points))
    losses = np.zeros((len(card.characteristics), size))
    for index, characteristic in enumerate(card.characteristics):
        raw = np.array(
            [np.nan if v is None else v for v in columns[characteristic.feature]], dtype=float
        )
        uppers = np.array([np.inf if b.upper is None else b.upper for b in characteristic.bands])
        points = np.array([b.points for b in characteristic.bands], dtype=float)
        slot = np.minimum(np.searchsorted(uppers, raw, side="left"), len(uppers) - 1)
        got = np.where(np.isnan(raw), characteristic.missing_points, points[slot])
        total += got
        losses[index] = characteristic.best - got
    worst = np.argmax(losses, axis=0)
    reasons = [
        card.characteristics[i].reason if losses[i, row] > 0 else ""
        for row, i in enumerate(worst.tolist())
    ]
    odds_good = np.exp((total - OFFSET) / FACTOR)
    return BatchScores(
        points=[int(p) for p in total.tolist()],
        probability_bad=(1.0 / (1.0 + odds_good)).tolist(),
        top_reason=reasons,
    )


@dataclass(frozen=True, slots=True)
class BatchScores:
    points: list[int]
    probability_bad: list[float]
    top_reason: list[str]


SCORECARDS = {card.version: card for card in (APPLICATION, BEHAVIOUR)}
