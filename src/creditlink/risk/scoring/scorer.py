"""The fast scorer: one record through a scorecard artefact, in plain Python.

It reads only the JSON (no pandas, no optbinning), takes a few tens of microseconds per
record and gives the same points, probability and reasons as the batch scorer
(`risk.scoring.model.predict`). Trained scorecards (`creditlink model train --kind
scorecard`, `model.json`) and the expert ones (`risk.expert`, `risk/cards/*.json`) share this
format, and this module is the one place that puts a value in a bin and gives its points.
`Scorecard.score_columns` scores many records at once with numpy (imported only then), through
the same bins and the same rule, and agrees with `score` record by record.

The scorecard format (a JSON object; keys not listed here are kept for people and ignored)::

    {
      "kind": "scorecard",                 # optional; anything else is refused
      "version": "application-2026-01",   # required: recorded with every decision
      "scaling": {"base_points": 600, "base_odds": 50, "pdo": 20},
      "intercept_points": 487.12,         # optional, default 0: added to every score
      "derived": [                        # optional: features computed from other fields
        {"name": "PAY_max", "op": "max", "columns": ["PAY_0", "PAY_2", "PAY_3"]}
      ],                                  #   op: max, mean, count_positive, or a ratio
                                          #   first_over, mean_over (last column: denominator)
      "features": [
        {"name": "LIMIT_BAL", "type": "numeric", "reason": "LOW_LIMIT",
         "bins": [{"upper": 30000, "points": -18.2},
                  {"upper": 140000, "points": 2.5},
                  {"upper": null, "points": 21.0}],
         "missing": {"points": 0}},
        {"name": "age", "type": "numeric",
         "bins": [{"at_most": 21, "upper": 21.000000000000004, "points": -10},
                  {"upper": null, "points": 5}],
         "missing": {"points": -10}},
        {"name": "housing", "type": "categorical",
         "bins": [{"categories": ["own"], "points": 9},
                  {"categories": ["rent", "for free"], "points": -12}],
         "missing": {"points": 0},
         "other": {"points": -12}}
      ]
    }

- `scaling`: points = offset + factor × ln(odds good:bad), `base_points` at odds
  `base_odds`:1 and `pdo` points to double the odds (DOMAIN.md §6: 600, 50, 20).
- A numeric feature's bins are ordered by `upper`, strictly increasing, the last one `null`
  (no upper edge). A value goes to the FIRST bin whose `upper` is GREATER than it: the bins
  are [previous upper, upper), lower edge included, upper edge excluded.
- A bin may also state `at_most`, the largest value it holds, for edges set by people as
  "up to and including" (the expert cards). Its `upper` must then be the next float above
  `at_most` (`math.nextafter(at_most, inf)`): for every float x, x <= at_most exactly when
  x < upper, so the rule above still decides, for every reader of the format, and `at_most`
  only shows the edge as it was set and guards it against a hand edit of one of the two.
- A categorical feature's bins list disjoint groups of categories, compared as text (a number
  is compared as `str(number)`); a category in no group scores `other`.
- A missing value (absent from the record is an error; None, NaN, or a text in
  `values.MISSING_TEXT` such as "" or "NA") scores `missing`.
- The score is intercept_points + the points of each feature's bin, rounded half up to an
  integer; the probability of bad comes from the unrounded points through the scale.
- The reasons are the (at most 3) features that lost the most points against their best bin
  (`missing` and `other` included), most first, ties in the order of `features`, only those
  that lost any; each is named by its `reason` when given, else by its `name`.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from creditlink.domain.errors import InvalidInput
from creditlink.risk.scoring.derived import OPS, RATIO_OPS, Derived
from creditlink.risk.scoring.scaling import Scaling, round_points
from creditlink.risk.scoring.values import to_category, to_number

REASONS = 3


@dataclass(frozen=True, slots=True)
class Score:
    points: int
    probability_bad: float
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Scores:
    """The scores of many records, in the records' order."""

    points: list[int]
    probability_bad: list[float]
    reasons: list[tuple[str, ...]]


def _number(value: object, field: str) -> float | None:
    try:
        return to_number(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a number", field=field, rule="NUMBER_VALID") from None


_PLAIN = frozenset({int, float, type(None)})


def _number_column(values: Sequence[object], field: str) -> Any:
    """`_number` of each value as a float array, NaN for missing."""
    import numpy as np

    if set(map(type, values)) <= _PLAIN:  # the usual case, without a call per value
        numbers = np.array(values, dtype=float)
        if np.isinf(numbers).any():
            _number(values[int(np.argmax(np.isinf(numbers)))], field)  # raises
        return numbers
    return np.array([np.nan if x is None else x for x in (_number(v, field) for v in values)])


@dataclass(frozen=True, slots=True)
class _Numeric:
    name: str
    reason: str
    uppers: tuple[float, ...]  # the finite upper edges; len(points) == len(uppers) + 1
    points: tuple[float, ...]
    missing: float
    best: float

    def points_of(self, value: object) -> float:
        number = _number(value, self.name)
        if number is None:
            return self.missing
        # the first bin whose upper is greater than the value
        return self.points[bisect.bisect_right(self.uppers, number)]

    def points_of_column(self, values: Sequence[object]) -> Any:
        """`points_of` of each value, as a float array: the same bins by the same rule."""
        import numpy as np

        numbers = _number_column(values, self.name)
        slot = np.searchsorted(np.array(self.uppers, dtype=float), numbers, side="right")
        return np.where(np.isnan(numbers), self.missing, np.array(self.points)[slot])


@dataclass(frozen=True, slots=True)
class _Categorical:
    name: str
    reason: str
    lookup: Mapping[str, float]
    missing: float
    other: float
    best: float

    def points_of(self, value: object) -> float:
        category = to_category(value)
        if category is None:
            return self.missing
        return self.lookup.get(category, self.other)

    def points_of_column(self, values: Sequence[object]) -> Any:
        import numpy as np

        return np.array([self.points_of(v) for v in values], dtype=float)


_Feature = _Numeric | _Categorical


@dataclass(frozen=True, slots=True)
class Scorecard:
    version: str
    scaling: Scaling
    intercept_points: float
    derived: tuple[Derived, ...]
    features: tuple[_Feature, ...]

    @property
    def inputs(self) -> tuple[str, ...]:
        """The record fields the scorecard reads."""
        made = {d.name for d in self.derived}
        names = [f.name for f in self.features if f.name not in made]
        names += [c for d in self.derived for c in d.columns]
        return tuple(dict.fromkeys(names))

    def score(self, record: Mapping[str, object]) -> Score:
        values = {d.name: d.value(self._numbers(record, d.columns)) for d in self.derived}
        total = self.intercept_points
        lost = []
        for feature in self.features:
            value = values[feature.name] if feature.name in values else _field(record, feature)
            points = feature.points_of(value)
            total += points
            lost.append(feature.best - points)
        order = sorted(range(len(lost)), key=lambda i: -lost[i])[:REASONS]
        return Score(
            points=round_points(total),
            probability_bad=self.scaling.probability_bad(total),
            reasons=tuple(self.features[i].reason for i in order if lost[i] > 0),
        )

    @staticmethod
    def _numbers(record: Mapping[str, object], columns: Sequence[str]) -> list[float | None]:
        out = []
        for column in columns:
            if column not in record:
                raise InvalidInput("the record lacks it", field=column, rule="FEATURE_PRESENT")
            out.append(_number(record[column], column))
        return out

    def score_columns(
        self, columns: Mapping[str, Sequence[object]], *, reasons: int = REASONS
    ) -> Scores:
        """Score many records given as columns (one sequence of values per field, all of one
        length): for each record what `score` gives it, with its first `reasons` (at most 3)
        reasons.
        Points and reasons are the same to the last bit; the probability too wherever numpy's
        exp is the C library's (else within a unit in the last place)."""
        import numpy as np

        for name in self.inputs:
            if name not in columns:
                raise InvalidInput("the columns lack it", field=name, rule="FEATURE_PRESENT")
        size = len(columns[self.inputs[0]])
        for name in self.inputs:
            if len(columns[name]) != size:
                raise InvalidInput(
                    f"{len(columns[name])} values, not {size} like the other columns",
                    field=name,
                    rule="COLUMNS_ALIGNED",
                )
        derived: dict[str, Sequence[object]] = {}
        for d in self.derived:
            numbers = [[_number(v, c) for v in columns[c]] for c in d.columns]
            derived[d.name] = [d.value(row) for row in zip(*numbers, strict=True)]
        total = np.full(size, self.intercept_points)
        lost = np.zeros((len(self.features), size))
        for j, feature in enumerate(self.features):
            source = derived if feature.name in derived else columns
            points = feature.points_of_column(source[feature.name])
            total = total + points  # in the order of `score`: the same sums to the last bit
            lost[j] = feature.best - points
        # the stable form of `Scaling.probability_bad`, element by element
        z = (total - self.scaling.offset) / self.scaling.factor
        e = np.exp(-np.abs(z))
        probability = np.where(z >= 0, e / (1.0 + e), 1.0 / (1.0 + e))
        return Scores(
            points=np.floor(total + 0.5).astype(np.int64).tolist(),  # `round_points`
            probability_bad=probability.tolist(),
            reasons=self._reasons(lost, min(max(0, reasons), REASONS)),
        )

    def _reasons(self, lost: Any, count: int) -> list[tuple[str, ...]]:
        """Each column's reasons: the features that lost most, most first, ties in the order of
        the features (as `score` sorts them), only those that lost any."""
        import numpy as np

        order = np.argsort(-lost, axis=0, kind="stable")[:count]
        kept = np.take_along_axis(lost, order, axis=0) > 0
        # One code per list of reasons; each distinct list is made once and then shared.
        code = np.zeros(lost.shape[1], dtype=np.int64)
        for picked, keep in zip(order, kept, strict=True):
            code = code * (len(self.features) + 1) + np.where(keep, picked + 1, 0)
        _, first, inverse = np.unique(code, return_index=True, return_inverse=True)
        table = [
            tuple(self.features[j].reason for j in itertools.compress(order[:, r], kept[:, r]))
            for r in first.tolist()
        ]
        return [table[i] for i in inverse.reshape(-1).tolist()]


def _field(record: Mapping[str, object], feature: _Feature) -> object:
    if feature.name not in record:
        raise InvalidInput("the record lacks it", field=feature.name, rule="FEATURE_PRESENT")
    return record[feature.name]


def _invalid(message: str) -> InvalidInput:
    return InvalidInput(message, field="scorecard", rule="SCORECARD_VALID")


def _points(block: Any, where: str) -> float:
    try:
        value = block["points"]
    except (KeyError, TypeError):
        raise _invalid(f"{where} has no points") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _invalid(f"{where} has points {value!r}, not a number")
    return float(value)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _numeric(spec: Mapping[str, Any], name: str, reason: str) -> _Numeric:
    bins = spec["bins"]
    uppers: list[float] = []
    for k, block in enumerate(bins[:-1]):
        upper = block.get("upper")
        if not _is_number(upper):
            raise _invalid(f"bin {k + 1} of {name!r} needs a numeric upper edge")
        if uppers and not float(upper) > uppers[-1]:
            raise _invalid(f"the upper edges of {name!r} must increase")
        if "at_most" in block:
            at_most = block["at_most"]
            if not _is_number(at_most) or not math.isfinite(at_most):
                raise _invalid(f"bin {k + 1} of {name!r} has at_most {at_most!r}, not a number")
            edge = math.nextafter(float(at_most), math.inf)
            # `at_most < upper` too: it fails where the process flushes subnormal floats to
            # zero (at_most 0 has upper 5e-324), which would move the value 0 up a bin
            if float(upper) != edge or not float(at_most) < float(upper):
                raise _invalid(
                    f"bin {k + 1} of {name!r} holds values up to at_most {at_most!r}, so its "
                    f"upper must be the next float above it, {edge!r}, not {upper!r}"
                )
        uppers.append(float(upper))
    if bins[-1].get("upper") is not None:
        raise _invalid(f"the last bin of {name!r} must have upper null (no edge)")
    points = tuple(_points(b, f"bin {k + 1} of {name!r}") for k, b in enumerate(bins))
    missing = _points(spec.get("missing"), f"the missing bin of {name!r}")
    return _Numeric(name, reason, tuple(uppers), points, missing, max(*points, missing))


def _categorical(spec: Mapping[str, Any], name: str, reason: str) -> _Categorical:
    lookup: dict[str, float] = {}
    for k, block in enumerate(spec["bins"]):
        points = _points(block, f"bin {k + 1} of {name!r}")
        categories = block.get("categories")
        if not isinstance(categories, list) or not categories:
            raise _invalid(f"bin {k + 1} of {name!r} needs a list of categories")
        for category in categories:
            if str(category) in lookup:
                raise _invalid(f"{category!r} is in two bins of {name!r}")
            lookup[str(category)] = points
    missing = _points(spec.get("missing"), f"the missing bin of {name!r}")
    other = _points(spec.get("other"), f"the other bin of {name!r}")
    best = max(*lookup.values(), missing, other)
    return _Categorical(name, reason, lookup, missing, other, best)


def load_scorecard(artefact: Mapping[str, Any]) -> Scorecard:
    """The scorecard of an artefact in the format above; InvalidInput naming what is wrong."""
    if artefact.get("kind", "scorecard") != "scorecard":
        raise _invalid(f"a {artefact.get('kind')!r} model is not a scorecard")
    version = artefact.get("version")
    if not isinstance(version, str) or not version:
        raise _invalid("the scorecard needs a version")
    if not isinstance(artefact.get("scaling"), Mapping):
        raise _invalid("the scorecard needs a scaling block")
    scaling = Scaling.from_dict(artefact["scaling"])
    derived = []
    for block in artefact.get("derived", []):
        columns = block.get("columns") if isinstance(block, Mapping) else None
        if (
            not isinstance(block, Mapping)
            or not isinstance(block.get("name"), str)
            or block.get("op") not in OPS + RATIO_OPS
            or not isinstance(columns, list)
            or not columns
            or not all(isinstance(c, str) for c in columns)
            or (block.get("op") in RATIO_OPS and len(columns) < 2)
        ):
            raise _invalid(
                f"derived features need a name, an op ({', '.join(OPS + RATIO_OPS)}) and "
                "columns (a ratio's last column is its denominator)"
            )
        derived.append(Derived.from_dict(block))
    specs = artefact.get("features")
    if not isinstance(specs, list) or not specs:
        raise _invalid("the scorecard needs a list of features")
    features: list[_Feature] = []
    for spec in specs:
        name = spec.get("name") if isinstance(spec, Mapping) else None
        if not isinstance(name, str) or not name:
            raise _invalid("every feature needs a name")
        bins = spec.get("bins")
        if not isinstance(bins, list) or not bins or not all(isinstance(b, Mapping) for b in bins):
            raise _invalid(f"{name!r} needs a list of bins")
        if any(f.name == name for f in features):
            raise _invalid(f"{name!r} is listed twice")
        reason = str(spec.get("reason") or name)
        if spec.get("type") == "numeric":
            features.append(_numeric(spec, name, reason))
        elif spec.get("type") == "categorical":
            features.append(_categorical(spec, name, reason))
        else:
            raise _invalid(f"{name!r} must be numeric or categorical")
    intercept = artefact.get("intercept_points", 0)
    if isinstance(intercept, bool) or not isinstance(intercept, int | float):
        raise _invalid("intercept_points must be a number")
    return Scorecard(version, scaling, float(intercept), tuple(derived), tuple(features))
