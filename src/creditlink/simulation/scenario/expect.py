"""Checking a result against a scenario's `expect` block."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_MISSING = object()


@dataclass(frozen=True, slots=True)
class Failure:
    path: str
    expected: Any
    actual: Any
    line: int | None


def lookup(result: Any, path: str) -> Any:
    """The value at a dotted path with [i] for list items; `_MISSING` when there is none."""
    value = result
    position = 0
    for match in _STEP.finditer(path):
        if match.start() not in (position, position + 1):
            return _MISSING
        position = match.end()
        key, index = match.groups()
        if index is not None:
            if not isinstance(value, list) or int(index) >= len(value):
                return _MISSING
            value = value[int(index)]
        elif isinstance(value, dict) and key in value:
            value = value[key]
        else:
            return _MISSING
    return value


def _normal(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


def check(result: Any, expect: dict[str, Any], lines: dict[str, int]) -> list[Failure]:
    failures = []
    for path, wanted in expect.items():
        actual = lookup(result, path)
        shown = "(missing)" if actual is _MISSING else actual
        if isinstance(wanted, dict) and set(wanted) == {"contains"}:
            item = _normal(wanted["contains"])
            if not isinstance(actual, list) or item not in actual:
                failures.append(Failure(path, {"contains": item}, shown, lines.get(path)))
            continue
        if (
            actual is _MISSING
            or _normal(wanted) != actual
            or type(_normal(wanted)) is not type(actual)
        ):
            failures.append(Failure(path, _normal(wanted), shown, lines.get(path)))
    return failures
