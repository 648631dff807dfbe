"""Derived features over *series*: numeric columns that share a name and differ only by a
trailing number (`PAY_0`, `PAY_2` … `PAY_6`; `BILL_AMT1` … `BILL_AMT6`), which is how files
lay out a history of monthly measurements. For each series of at least `SERIES_MIN` columns
we add its maximum, its mean and the count of its positive values (`PAY_max`, `PAY_mean`,
`PAY_count_positive`).

Nothing here knows any particular file: a file without series gets no derived features. The
same code runs on a single record (the fast scorer) and, column-wise, on a frame (batch), and
both add values in the same order so that they agree to the last bit.

A series of *amounts* (every column with more than `FEW_VALUES` distinct values, so not a
status code) is also set against each standalone amount column (one that belongs to no
series): its first column over it and its mean over it (`BILL_AMT_first_over_LIMIT_BAL`,
`BILL_AMT_mean_over_LIMIT_BAL`: how much of the limit the latest and the average bill use).
Such a ratio's last column is the denominator; the ratio is missing when either side is, or
when the denominator is not positive.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SERIES_MIN = 3
OPS = ("max", "mean", "count_positive")
RATIO_OPS = ("first_over", "mean_over")
_SERIES_NAME = re.compile(r"(.*\D)(\d+)")


@dataclass(frozen=True, slots=True)
class Derived:
    name: str
    op: str
    columns: tuple[str, ...]

    def __post_init__(self) -> None:
        assert self.op in OPS + RATIO_OPS, self.op
        assert self.columns, "a derived feature needs at least one column"
        assert self.op in OPS or len(self.columns) >= 2, "a ratio needs a denominator"

    @property
    def rises_with(self) -> tuple[str, ...]:
        """The columns it never falls as they rise: every item of a series' max, mean and
        count of positives; a ratio's numerator (while the numerator is not negative)."""
        if self.op == "first_over":
            return self.columns[:1]
        if self.op == "mean_over":
            return self.columns[:-1]
        return self.columns

    @property
    def denominator(self) -> str | None:
        """A ratio's denominator, which it falls as it rises; None for the others."""
        return self.columns[-1] if self.op in RATIO_OPS else None

    def value(self, numbers: Sequence[float | None]) -> float | None:
        """The derived value of one record's series; None (missing) when all are missing."""
        if self.op in RATIO_OPS:
            return self._ratio(numbers)
        present = [x for x in numbers if x is not None]
        if self.op == "count_positive":
            return float(sum(1 for x in present if x > 0))
        if not present:
            return None
        if self.op == "max":
            return max(present)
        total = 0.0
        for x in present:
            total += x
        return total / len(present)

    def _ratio(self, numbers: Sequence[float | None]) -> float | None:
        denominator = numbers[-1]
        if denominator is None or denominator <= 0:
            return None
        if self.op == "first_over":
            first = numbers[0]
            return None if first is None else first / denominator
        mean = Derived(self.name, "mean", self.columns[:-1]).value(numbers[:-1])
        return None if mean is None else mean / denominator

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "op": self.op, "columns": list(self.columns)}

    @classmethod
    def from_dict(cls, block: Mapping[str, Any]) -> Derived:
        return cls(
            name=str(block["name"]),
            op=str(block["op"]),
            columns=tuple(str(c) for c in block["columns"]),
        )


def find_series(
    numeric_columns: Sequence[str], *, taken: set[str], amounts: Sequence[str] = ()
) -> list[Derived]:
    """The derived features of every series among `numeric_columns`, skipping any name in
    `taken` (a column of the file never gets shadowed). `amounts` names the numeric columns
    with more than `FEW_VALUES` distinct values: series of amounts get ratios to the
    standalone amount columns."""
    series: dict[str, list[str]] = {}
    for column in numeric_columns:
        match = _SERIES_NAME.fullmatch(column)
        if match:
            series.setdefault(match.group(1), []).append(column)
    derived: list[Derived] = []
    for stem, columns in series.items():
        if len(columns) < SERIES_MIN:
            continue
        base = stem.rstrip("_- .") or stem
        for op in OPS:
            _add(derived, taken, Derived(name=f"{base}_{op}", op=op, columns=tuple(columns)))
    in_series = {c for d in derived for c in d.columns}
    alone = [c for c in numeric_columns if c in amounts and c not in in_series]
    for stem, columns in series.items():
        if len(columns) < SERIES_MIN or not all(c in amounts for c in columns):
            continue
        base = stem.rstrip("_- .") or stem
        for denominator in alone:
            for op in RATIO_OPS:
                name = f"{base}_{op}_{denominator}"
                _add(derived, taken, Derived(name=name, op=op, columns=(*columns, denominator)))
    return derived


def _add(derived: list[Derived], taken: set[str], feature: Derived) -> None:
    if feature.name not in taken:
        derived.append(feature)
        taken.add(feature.name)


def add_derived(frame: Any, derived: Sequence[Derived]) -> Any:
    """A copy of the (numeric) frame with the derived columns added."""
    import numpy as np

    out = frame.copy()
    for feature in derived:
        if feature.op in RATIO_OPS:
            out[feature.name] = _ratio_column(frame, feature)
            continue
        matrix = [frame[c].to_numpy(dtype=float) for c in feature.columns]
        present = [~np.isnan(column) for column in matrix]
        count = np.zeros(len(frame))
        for mask in present:
            count += mask
        if feature.op == "count_positive":
            positive = np.zeros(len(frame))
            for column, mask in zip(matrix, present, strict=True):
                positive += mask & (np.where(mask, column, 0.0) > 0)
            out[feature.name] = positive
            continue
        if feature.op == "max":
            best = np.full(len(frame), -math.inf)
            for column, mask in zip(matrix, present, strict=True):
                best = np.where(mask & (column > best), column, best)
            out[feature.name] = np.where(count > 0, best, np.nan)
            continue
        total = np.zeros(len(frame))
        for column, mask in zip(matrix, present, strict=True):
            total = total + np.where(mask, column, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[feature.name] = np.where(count > 0, total / count, np.nan)
    return out


def _ratio_column(frame: Any, feature: Derived) -> Any:
    import numpy as np

    denominator = frame[feature.columns[-1]].to_numpy(dtype=float)
    if feature.op == "first_over":
        numerator = frame[feature.columns[0]].to_numpy(dtype=float)
    else:
        mean = Derived(feature.name, "mean", feature.columns[:-1])
        numerator = add_derived(frame[list(mean.columns)], [mean])[mean.name].to_numpy()
    usable = ~np.isnan(denominator) & (denominator > 0) & ~np.isnan(numerator)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(usable, numerator / np.where(usable, denominator, 1.0), np.nan)
