"""From a table of text cells (as the CSV reader gives it) to typed model inputs.

Rules, each with the error a user sees when a file breaks it:

- the target column must exist, have no empty cells and exactly two values, one of them the
  *bad value*: `--bad-value`, else 1 for a numeric target, else "bad" when the values are
  exactly "bad" and "good";
- a column literally named `ID` or `id` is an identifier and is dropped (the artefact says so);
- a column whose filled cells are all numbers is numeric; one where at least
  `MOSTLY_NUMERIC` of them are numbers is a numeric column with typos, refused with the first
  bad cell named; any other column is categorical (its cells are compared as text);
- scoring files must hold every column the model needs, and the numeric ones must parse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from creditlink.domain.errors import InvalidInput

ColumnType = Literal["numeric", "categorical"]
ID_COLUMNS = ("ID", "id")
MOSTLY_NUMERIC = 0.9
FIRST_DATA_LINE = 2  # row 0 of the frame is line 2 of the file, after the header


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: ColumnType

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "type": self.type}


@dataclass(frozen=True, slots=True)
class Target:
    column: str
    bad_value: float | str
    good_value: float | str

    @property
    def numeric(self) -> bool:
        return isinstance(self.bad_value, float)

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "bad_value": self.bad_value, "good_value": self.good_value}

    @classmethod
    def from_dict(cls, block: dict[str, Any]) -> Target:
        bad, good = block["bad_value"], block["good_value"]
        numeric = isinstance(bad, int | float)
        return cls(
            column=str(block["column"]),
            bad_value=float(bad) if numeric else str(bad),
            good_value=float(good) if numeric else str(good),
        )


@dataclass(frozen=True, slots=True)
class Prepared:
    """Training data: typed features, the bad flag (1 = bad) and what was decided."""

    features: Any  # DataFrame: float64 for numeric columns, text (NaN = missing) otherwise
    y: Any  # numpy int array
    target: Target
    columns: tuple[Column, ...]
    dropped: tuple[dict[str, str], ...]


def _line(position: int) -> int:
    return position + FIRST_DATA_LINE


def _numbers(cells: Any) -> tuple[Any, Any]:
    """(float values, mask of filled cells that are not finite numbers)."""
    import numpy as np
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]

    values = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=float, copy=True)
    filled = cells.notna().to_numpy()
    bad = filled & ~np.isfinite(values)
    values[~filled | bad] = np.nan
    return values, bad


def _refuse_bad_numbers(name: str, cells: Any, bad: Any, *, why: str) -> None:
    import numpy as np

    positions = np.flatnonzero(bad)
    if len(positions) == 0:
        return
    first = int(positions[0])
    more = f" and {len(positions) - 1} more cells" if len(positions) > 1 else ""
    raise InvalidInput(
        f"{why}, but line {_line(first)} holds {cells.iloc[first]!r}{more}; "
        "fix or empty those cells",
        field=name,
        rule="NUMBER_VALID",
    )


def infer_column(name: str, cells: Any) -> Column:
    """Numeric when the filled cells are numbers; refuses a mostly numeric column with typos."""
    _, bad = _numbers(cells)
    filled = int(cells.notna().sum())
    wrong = int(bad.sum())
    if wrong == 0 and filled > 0:
        return Column(name, "numeric")
    if filled > 0 and (filled - wrong) / filled >= MOSTLY_NUMERIC:
        _refuse_bad_numbers(name, cells, bad, why="the column is numeric")
    return Column(name, "categorical")


def _target(frame: Any, *, column: str, bad_value: str | None) -> tuple[Any, Target]:
    import numpy as np

    if column not in frame.columns:
        raise InvalidInput(
            f"the file has no column {column!r} (columns: {', '.join(map(str, frame.columns))})",
            field="target",
            rule="TARGET_PRESENT",
        )
    cells = frame[column]
    empty = np.flatnonzero(cells.isna().to_numpy())
    if len(empty):
        raise InvalidInput(
            f"line {_line(int(empty[0]))} has no value in the target column {column!r} "
            f"({len(empty)} such rows)",
            field="target",
            rule="TARGET_FILLED",
        )
    values, bad = _numbers(cells)
    numeric = not bad.any()
    keys: list[float | str] = (
        sorted({float(v) for v in values}) if numeric else sorted({str(v) for v in cells})
    )
    if len(keys) < 2:
        raise InvalidInput(
            f"the target column {column!r} holds one class only ({keys[0]!r}); a model "
            "needs both good and bad rows",
            field="target",
            rule="TARGET_TWO_CLASSES",
        )
    if len(keys) > 2:
        shown = ", ".join(repr(k) for k in keys[:5])
        raise InvalidInput(
            f"the target column {column!r} must hold exactly two values, not {len(keys)} ({shown})",
            field="target",
            rule="TARGET_TWO_CLASSES",
        )
    bad_key: float | str
    if numeric:
        if bad_value is None:
            bad_key = 1.0
        else:
            try:
                bad_key = float(bad_value)
            except ValueError:
                raise InvalidInput(
                    f"the target is numeric, so the bad value must be a number, not {bad_value!r}",
                    field="bad_value",
                    rule="BAD_VALUE_PRESENT",
                ) from None
    elif bad_value is not None:
        bad_key = bad_value
    elif keys == ["bad", "good"]:
        bad_key = "bad"
    else:
        raise InvalidInput(
            f"the target {column!r} holds text ({keys[0]!r}, {keys[1]!r}); name the value "
            "that means bad with --bad-value",
            field="bad_value",
            rule="BAD_VALUE_REQUIRED",
        )
    if bad_key not in keys:
        shown = _show(bad_key)
        raise InvalidInput(
            f"no row of {column!r} has the bad value {shown} (values: "
            f"{_show(keys[0])}, {_show(keys[1])})",
            field="bad_value",
            rule="BAD_VALUE_PRESENT",
        )
    good_key = keys[1] if keys[0] == bad_key else keys[0]
    flags = (values == bad_key) if numeric else (cells.to_numpy(dtype=object) == bad_key)
    return np.asarray(flags, dtype=int), Target(column, bad_key, good_key)


def _show(key: float | str) -> str:
    if isinstance(key, float) and key.is_integer():
        return str(int(key))
    return repr(key)


def target_flags(frame: Any, target: Target) -> Any:
    """The bad flags of a file scored against a trained target (for evaluation)."""
    y, found = _target(frame, column=target.column, bad_value=_text(target.bad_value))
    if {found.bad_value, found.good_value} != {target.bad_value, target.good_value}:
        raise InvalidInput(
            f"the target {target.column!r} holds {_show(found.bad_value)} and "
            f"{_show(found.good_value)}, but the model was trained on "
            f"{_show(target.bad_value)} (bad) and {_show(target.good_value)} (good)",
            field="target",
            rule="TARGET_VALUES_MATCH",
        )
    return y


def _text(key: float | str) -> str:
    if isinstance(key, float):
        return str(int(key)) if key.is_integer() else repr(key)
    return key


def prepare_training(frame: Any, *, target: str, bad_value: str | None) -> Prepared:
    """Typed features and bad flags of a training file (a frame of text cells)."""
    if len(frame) == 0:
        raise InvalidInput("the file has a header but no rows", field="data", rule="ROWS_PRESENT")
    y, spec = _target(frame, column=target, bad_value=bad_value)
    dropped = tuple(
        {"name": name, "reason": "identifier column (named ID)"}
        for name in frame.columns
        if name in ID_COLUMNS and name != target
    )
    names = [c for c in frame.columns if c != target and c not in ID_COLUMNS]
    if not names:
        raise InvalidInput(
            "the file has no feature columns besides the target",
            field="data",
            rule="FEATURES_PRESENT",
        )
    columns = tuple(infer_column(name, frame[name]) for name in names)
    return Prepared(
        features=typed(frame, columns),
        y=y,
        target=spec,
        columns=columns,
        dropped=dropped,
    )


def typed(frame: Any, columns: Sequence[Column]) -> Any:
    """The columns a model needs, typed; refuses a missing column or a bad number."""
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]

    missing = [c.name for c in columns if c.name not in frame.columns]
    if missing:
        shown = ", ".join(repr(m) for m in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise InvalidInput(
            f"the file lacks the column{'s' if len(missing) > 1 else ''} {shown}{more} "
            "that the model needs",
            field="data",
            rule="FEATURE_PRESENT",
        )
    out: dict[str, Any] = {}
    for column in columns:
        cells = frame[column.name]
        if column.type == "numeric":
            values, bad = _numbers(cells)
            _refuse_bad_numbers(column.name, cells, bad, why="the model reads it as a number")
            out[column.name] = values
        else:
            out[column.name] = cells.astype("str")
    return pd.DataFrame(out, index=range(len(frame)))
