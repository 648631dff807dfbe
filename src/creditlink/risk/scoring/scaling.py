"""The score scale (DOMAIN.md §6): points = offset + factor × ln(odds good:bad), with
`base_points` (600) at odds `base_odds` (50:1) and `pdo` (20) points to double the odds."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from creditlink.domain.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Scaling:
    base_points: float = 600.0
    base_odds: float = 50.0
    pdo: float = 20.0

    def __post_init__(self) -> None:
        if not (self.base_odds > 0 and self.pdo > 0 and math.isfinite(self.base_points)):
            raise InvalidInput(
                "the scale needs positive base odds and points to double the odds",
                field="scaling",
                rule="SCALING_VALID",
            )

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2)

    @property
    def offset(self) -> float:
        return self.base_points - self.factor * math.log(self.base_odds)

    def points(self, log_odds_good: float) -> float:
        return self.offset + self.factor * log_odds_good

    def log_odds_good(self, points: float) -> float:
        return (points - self.offset) / self.factor

    def probability_bad(self, points: float) -> float:
        """Invert the scale; stable for very high and very low points."""
        z = self.log_odds_good(points)
        if z >= 0:
            e = math.exp(-z)
            return e / (1.0 + e)
        return 1.0 / (1.0 + math.exp(z))

    def to_dict(self) -> dict[str, float]:
        return {
            "base_points": self.base_points,
            "base_odds": self.base_odds,
            "pdo": self.pdo,
            "factor": round(self.factor, 10),
            "offset": round(self.offset, 10),
        }

    @classmethod
    def from_dict(cls, block: Mapping[str, Any]) -> Scaling:
        try:
            return cls(
                base_points=float(block["base_points"]),
                base_odds=float(block["base_odds"]),
                pdo=float(block["pdo"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidInput(
                "the scaling block needs numbers base_points, base_odds and pdo",
                field="scaling",
                rule="SCALING_VALID",
            ) from error


def round_points(points: float) -> int:
    """Half up, the same in the fast scorer and the batch scorer (numpy: floor(x + 0.5))."""
    return math.floor(points + 0.5)
