"""Fast deep copies of the domain's records (the in-memory store's copies, a loan's working
copy).

The store hands every reader its own copy of an aggregate and keeps its own copy of what was
saved, so no caller can reach stored state. Copying through the JSON codecs costs a parse of
every date and decimal; these copies are generated once per record class from its fields'
types and only rebuild what can change (records, lists and dicts): ints, strings, dates,
decimals, enums, tuples and frozen records are immutable and are shared.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

T = TypeVar("T")

_IMMUTABLE: tuple[type, ...] = (int, str, bool, float, Decimal, date, datetime, type(None))
_CLONERS: dict[type, Callable[[Any], Any]] = {}


def _immutable(hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return all(_immutable(arg) for arg in typing.get_args(hint))
    if origin is tuple:
        return all(_immutable(arg) for arg in typing.get_args(hint) if arg is not Ellipsis)
    if origin is not None:
        return False
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return bool(hint.__dataclass_params__.frozen)  # type: ignore[attr-defined]
    return hint in _IMMUTABLE or (isinstance(hint, type) and issubclass(hint, Enum))


def _expression(hint: Any, value: str, depth: int, helpers: dict[str, Any]) -> str:
    """Python source that copies `value` of type `hint`."""
    if _immutable(hint):
        return value
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    item = f"_v{depth}"
    if origin is list:
        if _immutable(args[0]):
            return f"list({value})"
        return f"[{_expression(args[0], item, depth + 1, helpers)} for {item} in {value}]"
    if origin is dict:
        if _immutable(args[1]):
            return f"dict({value})"
        key = f"_k{depth}"
        inner = _expression(args[1], item, depth + 1, helpers)
        return f"{{{key}: {inner} for {key}, {item} in {value}.items()}}"
    if origin in (typing.Union, types.UnionType):
        present = [arg for arg in args if arg is not type(None)]
        if len(present) == 1 and len(args) == 2:
            inner = _expression(present[0], value, depth, helpers)
            return f"(None if {value} is None else {inner})"
    if isinstance(hint, type) and hasattr(hint, "__copy__"):
        return f"{value}.__copy__()"  # a collection that knows how to copy itself
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        name = f"_clone_{hint.__name__}"
        helpers[name] = cloner(hint)  # records never contain themselves
        return f"{name}({value})"
    raise TypeError(f"cannot copy a field of type {hint!r}")


def _flat_record(hint: Any) -> bool:
    """A mutable record whose fields are all immutable: copied field by field."""
    if not (isinstance(hint, type) and dataclasses.is_dataclass(hint)) or _immutable(hint):
        return False
    hints = typing.get_type_hints(hint)
    return all(_immutable(hints[f.name]) for f in dataclasses.fields(hint))


def _copied_list(hint: Any, value: str, target: str, helpers: dict[str, Any]) -> list[str] | None:
    """Statements that copy a list of flat records `value` into `target`, the records built
    in the loop (no call per record: the lists of an account's records are its bulk)."""
    if typing.get_origin(hint) is not list or not _flat_record(typing.get_args(hint)[0]):
        return None
    record = typing.get_args(hint)[0]
    name = f"_cls_{record.__name__}"
    helpers[name] = record
    lines = [
        f"    {target} = _l = []",
        "    _append = _l.append",
        f"    for _v in {value}:",
        f"        _m = _new({name})",
    ]
    lines += [f"        _m.{f.name} = _v.{f.name}" for f in dataclasses.fields(record)]
    lines.append("        _append(_m)")
    return lines


def cloner(cls: type[T]) -> Callable[[T], T]:
    """A function that deep-copies instances of the dataclass `cls` (generated once)."""
    found = _CLONERS.get(cls)
    if found is not None:
        return found
    hints = typing.get_type_hints(cls)
    helpers: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    lines = ["def clone(o):", "    n = _new(_cls)"]
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        copied = _copied_list(hints[f.name], f"o.{f.name}", f"n.{f.name}", helpers)
        if copied is not None:
            lines += copied
            continue
        expression = _expression(hints[f.name], f"o.{f.name}", 0, helpers)
        lines.append(f"    n.{f.name} = {expression}")
    lines.append("    return n")
    namespace: dict[str, Any] = {}
    exec("\n".join(lines), helpers, namespace)  # noqa: S102 - source built from field types
    function: Callable[[T], T] = namespace["clone"]
    _CLONERS[cls] = function
    return function


def clone(obj: T) -> T:
    """A deep copy of the dataclass instance `obj`."""
    return cloner(type(obj))(obj)
