"""What counts as a missing value and as a number, the same for files and for single records.

The CSV reader (`adapters.model_files`) reads every cell as text with exactly these missing
markers, and the fast scorer treats the same markers as missing, so a record scores the same
whether it arrives in a file or one at a time.
"""

from __future__ import annotations

import math

# Cells that mean "no value". Empty cells and the usual spellings of "not available".
MISSING_TEXT: frozenset[str] = frozenset(
    {"", "NA", "N/A", "n/a", "NaN", "nan", "NULL", "null", "None", "#N/A", "<NA>"}
)


def is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, str):
        return value in MISSING_TEXT
    return False


def to_number(value: object) -> float | None:
    """The value as a float, None when missing; ValueError when it is not a number."""
    if is_missing(value):
        return None
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if "_" in text:  # float() would read "1_000"; a file reader would not
            raise ValueError(f"{value!r} is not a number")
        number = float(text)
    else:
        raise ValueError(f"{value!r} is not a number")
    if math.isinf(number):
        raise ValueError(f"{value!r} is not a finite number")
    return number


def to_category(value: object) -> str | None:
    """The value as the text a file would hold, None when missing."""
    if is_missing(value):
        return None
    return value if isinstance(value, str) else str(value)
