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
    why: str | None = None  # where the path itself is the trouble, in words

    def describe(self) -> str:
        """One line: what was expected and what the result holds, or why it could not be
        compared."""
        import json

        if self.why is not None:
            return f"{self.path}: {self.why}"
        return f"{self.path}: expected {json.dumps(self.expected)}, got {json.dumps(self.actual)}"


NO_SUCH_VALUE = (
    "the result has no value at this path (names joined by dots, [n] for the n-th item of a "
    "list, from 0)"
)


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
        why = NO_SUCH_VALUE if actual is _MISSING else None
        if isinstance(wanted, dict) and set(wanted) == {"contains"}:
            item = _normal(wanted["contains"])
            if why is None and not isinstance(actual, list):
                kind = "a mapping" if isinstance(actual, dict) else repr(actual)[:60]
                why = f"`contains` needs a list, and the result holds {kind} here"
            if why is not None or item not in actual:
                failures.append(Failure(path, {"contains": item}, shown, lines.get(path), why))
            continue
        if (
            actual is _MISSING
            or _normal(wanted) != actual
            or type(_normal(wanted)) is not type(actual)
        ):
            failures.append(Failure(path, _normal(wanted), shown, lines.get(path), why))
    return failures
