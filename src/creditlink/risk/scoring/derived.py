"""Derived features over *series*: numeric columns that share a name and differ only by a
trailing number (`PAY_0`, `PAY_2` … `PAY_6`; `BILL_AMT1` … `BILL_AMT6`), which is how files
lay out a history of monthly measurements. For each series of at least `SERIES_MIN` columns
we add its maximum, its mean and the count of its positive values (`PAY_max`, `PAY_mean`,
`PAY_count_positive`).

Nothing here knows any particular file: a file without series gets no derived features. The
same code runs on a single record (the fast scorer) and, column-wise, on a frame (batch), and
both add values in the same order so that they agree to the last bit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SERIES_MIN = 3
OPS = ("max", "mean", "count_positive")
_SERIES_NAME = re.compile(r"(.*\D)(\d+)")


@dataclass(frozen=True, slots=True)
class Derived:
    name: str
    op: str
    columns: tuple[str, ...]

    def __post_init__(self) -> None:
        assert self.op in OPS, self.op
        assert self.columns, "a derived feature needs at least one column"

    def value(self, numbers: Sequence[float | None]) -> float | None:
        """The derived value of one record's series; None (missing) when all are missing."""
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

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "op": self.op, "columns": list(self.columns)}

    @classmethod
    def from_dict(cls, block: Mapping[str, Any]) -> Derived:
        return cls(
            name=str(block["name"]),
            op=str(block["op"]),
            columns=tuple(str(c) for c in block["columns"]),
        )


def find_series(numeric_columns: Sequence[str], *, taken: set[str]) -> list[Derived]:
    """The derived features of every series among `numeric_columns`, skipping any name in
    `taken` (a column of the file never gets shadowed)."""
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
            name = f"{base}_{op}"
            if name not in taken:
                derived.append(Derived(name=name, op=op, columns=tuple(columns)))
                taken.add(name)
    return derived


def add_derived(frame: Any, derived: Sequence[Derived]) -> Any:
    """A copy of the (numeric) frame with the derived columns added."""
    import numpy as np

    out = frame.copy()
    for feature in derived:
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
