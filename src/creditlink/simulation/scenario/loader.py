"""Reading a scenario file, checking every field, and naming the line of anything wrong."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from creditlink.domain.calendar import parse_date, parse_time
from creditlink.domain.errors import CreditlinkError
from creditlink.domain.money import format_fen, parse_amount, parse_rate

OPERATIONS: dict[str, tuple[set[str], set[str]]] = {
    # op: (required fields, optional fields), besides on, customer, op
    "purchase": ({"ref", "amount", "merchant"}, {"category", "at"}),
    "refund": ({"purchase", "amount"}, set()),
    "convert_installments": ({"periods", "ref"}, {"purchase", "statement"}),
    "settle_installments": ({"plan"}, set()),
    "draw_loan": ({"ref", "amount", "term_months", "method"}, {"at"}),
    "repay": ({"product", "amount"}, {"loan"}),
    "set_limit": (set(), {"joint_limit", "cap_paylater", "cap_loan", "reason"}),
    "temp_limit": ({"amount", "expires_on"}, {"reason"}),
    "set_parameter": ({"name", "value"}, {"reason"}),
}
SHORTCUTS = ("minimum", "due", "all")
MAX_DAYS = 366 * 30


class ScenarioError(Exception):
    """A malformed scenario: the message names the file, the line and the field."""

    def __init__(self, path: str, line: int | None, field: str | None, message: str):
        where = f"{path}:{line}" if line else path
        what = f" {field}:" if field else ""
        super().__init__(f"{where}:{what} {message}")
        self.line, self.field = line, field


class _Mapping(dict[Any, Any]):
    """A YAML mapping that remembers the line of itself and of each key."""

    line: int = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_lines: dict[Any, int] = {}


class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans only: in YAML 1.1 the key `on:` (every event has one) reads as
    True, and `no`, `yes` and `off` as booleans too. Dates stay text, so that a bad one is
    reported with its field and line by the scenario's own checks."""


_BOOL = "tag:yaml.org,2002:bool"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag not in (_BOOL, _TIMESTAMP)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _Mapping:
    mapping = _Mapping()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise ScenarioError(
                "", key_node.start_mark.line + 1, str(key), "appears twice in one mapping"
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = key_node.start_mark.line + 1
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    joint_limit_fen: int
    cap_paylater_fen: int | None
    cap_loan_fen: int | None
    loan_daily_rate: Any
    statement_day: int | None
    line: int


@dataclass(frozen=True, slots=True)
class Event:
    index: int
    on: date
    customer: str
    op: str
    fields: dict[str, Any]
    line: int


@dataclass(slots=True)
class Scenario:
    name: str
    start: date
    end: date
    path: str
    parameters: dict[str, Any] = field(default_factory=dict)
    customers: list[Customer] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    expect: dict[str, Any] = field(default_factory=dict)
    expect_lines: dict[str, int] = field(default_factory=dict)


def load(path: Path) -> Scenario:
    """Read and check a scenario file; raise `ScenarioError` naming the line and field."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(name, None, None, f"cannot read the file: {error.strerror}") from None
    try:
        document = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except ScenarioError as error:
        raise ScenarioError(name, error.line, error.field, str(error).split(": ", 1)[-1]) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(error, "problem", None) or str(error)
        raise ScenarioError(name, line, None, f"not valid YAML: {problem}") from None
    return _Checker(name).scenario(document)


class _Checker:
    def __init__(self, path: str):
        self.path = path

    def fail(self, where: _Mapping | None, key: str | None, message: str) -> ScenarioError:
        line = None
        if where is not None:
            line = where.key_lines.get(key, where.line) if key is not None else where.line
        return ScenarioError(self.path, line, key, message)

    def mapping(self, value: Any, parent: _Mapping | None, key: str | None) -> _Mapping:
        if not isinstance(value, _Mapping):
            raise self.fail(parent, key, "must be a mapping of names to values")
        return value

    def required(self, where: _Mapping, key: str) -> Any:
        if key not in where or where[key] is None:
            raise self.fail(where, None, f"'{key}' is required here")
        return where[key]

    def unknown(self, where: _Mapping, allowed: set[str]) -> None:
        for key in where:
            if key not in allowed:
                raise self.fail(
                    where, str(key), f"unknown field; expected one of {', '.join(sorted(allowed))}"
                )

    def convert(self, where: _Mapping, key: str, parse: Any) -> Any:
        try:
            return parse(where[key])
        except CreditlinkError as error:
            raise self.fail(where, key, error.message) from None

    def scenario(self, document: Any) -> Scenario:
        if not isinstance(document, _Mapping):
            raise ScenarioError(
                self.path,
                1,
                None,
                "a scenario is a mapping with name, start, end, customers and events",
            )
        self.unknown(
            document, {"name", "start", "end", "parameters", "customers", "events", "expect"}
        )
        name = self.required(document, "name")
        if not isinstance(name, str):
            raise self.fail(document, "name", "must be text")
        start = (
            self.convert(document, "start", lambda v: parse_date(v, field="start"))
            if self.required(document, "start")
            else None
        )
        end = (
            self.convert(document, "end", lambda v: parse_date(v, field="end"))
            if self.required(document, "end")
            else None
        )
        assert start is not None
        assert end is not None
        if end < start:
            raise self.fail(document, "end", "must be on or after start")
        if (end - start).days > MAX_DAYS:
            raise self.fail(document, "end", "a scenario spans at most 30 years")
        scenario = Scenario(name=name, start=start, end=end, path=self.path)
        parameters = document.get("parameters") or _Mapping()
        if not isinstance(parameters, dict):
            raise self.fail(document, "parameters", "must map parameter names to values")
        scenario.parameters = dict(parameters)
        self._check_parameters(document, parameters)
        customers = self.required(document, "customers")
        if not isinstance(customers, list) or not customers:
            raise self.fail(document, "customers", "must be a list of at least one customer")
        for item in customers:
            scenario.customers.append(self.customer(self.mapping(item, document, "customers")))
        ids = [c.id for c in scenario.customers]
        if len(set(ids)) != len(ids):
            raise self.fail(document, "customers", "customer ids must be unique")
        events = document.get("events") or []
        if not isinstance(events, list):
            raise self.fail(document, "events", "must be a list of operations")
        for index, item in enumerate(events):
            event = self.event(index, self.mapping(item, document, "events"), set(ids))
            if not start <= event.on <= end:
                raise ScenarioError(
                    self.path, event.line, "on", f"{event.on.isoformat()} is outside start..end"
                )
            scenario.events.append(event)
        expect = document.get("expect") or _Mapping()
        if not isinstance(expect, _Mapping):
            raise self.fail(document, "expect", "must map result paths to expected values")
        scenario.expect = {str(k): v for k, v in expect.items()}
        scenario.expect_lines = {str(k): line for k, line in expect.key_lines.items()}
        return scenario

    def _check_parameters(self, document: _Mapping, parameters: dict[str, Any]) -> None:
        from creditlink.domain.parameters import DEFAULTS

        if not parameters:
            return
        try:
            DEFAULTS.changed({str(k): _plain(v) for k, v in parameters.items()})
        except CreditlinkError as error:
            where = parameters if isinstance(parameters, _Mapping) else document
            key = error.field if error.field in parameters else None
            raise self.fail(where, key or "parameters", error.message) from None

    def customer(self, item: _Mapping) -> Customer:
        self.unknown(
            item,
            {"id", "joint_limit", "cap_paylater", "cap_loan", "loan_daily_rate", "statement_day"},
        )
        customer_id = self.required(item, "id")
        self.required(item, "joint_limit")

        def amount(key: str) -> int | None:
            if key not in item:
                return None
            return int(
                self.convert(item, key, lambda v: parse_amount(v, field=key, allow_zero=True))
            )

        rate = None
        if "loan_daily_rate" in item:
            rate = self.convert(
                item, "loan_daily_rate", lambda v: parse_rate(_plain(v), field="loan_daily_rate")
            )
        day = item.get("statement_day")
        if day is not None and (not isinstance(day, int) or not 1 <= day <= 28):
            raise self.fail(item, "statement_day", "must be a day from 1 to 28")
        joint = amount("joint_limit")
        assert joint is not None
        for cap in ("cap_paylater", "cap_loan"):
            value = amount(cap)
            if value is not None and value > joint:
                raise self.fail(
                    item,
                    cap,
                    f"{format_fen(value)} is above the joint limit {format_fen(joint)}: a cap "
                    "is at most the joint limit (CAP_ABOVE_JOINT_LIMIT)",
                )
        return Customer(
            id=str(customer_id),
            joint_limit_fen=joint,
            cap_paylater_fen=amount("cap_paylater"),
            cap_loan_fen=amount("cap_loan"),
            loan_daily_rate=rate,
            statement_day=day,
            line=item.line,
        )

    def event(self, index: int, item: _Mapping, customers: set[str]) -> Event:
        op = self.required(item, "op")
        if op not in OPERATIONS:
            raise self.fail(
                item, "op", f"unknown operation {op!r}; expected one of {', '.join(OPERATIONS)}"
            )
        required, optional = OPERATIONS[op]
        self.unknown(item, {"on", "customer", "op"} | required | optional)
        on = (
            self.convert(item, "on", lambda v: parse_date(v, field="on"))
            if self.required(item, "on")
            else None
        )
        customer = self.required(item, "customer")
        if customer not in customers:
            raise self.fail(item, "customer", f"no customer {customer!r} in customers")
        for key in sorted(required):
            self.required(item, key)
        fields = {key: item[key] for key in item if key not in ("on", "customer", "op")}
        self._check_fields(op, item, fields)
        assert on is not None
        return Event(
            index=index, on=on, customer=str(customer), op=op, fields=fields, line=item.line
        )

    def _check_fields(self, op: str, item: _Mapping, fields: dict[str, Any]) -> None:
        for key in ("amount", "joint_limit", "cap_paylater", "cap_loan"):
            if key not in fields:
                continue
            value = fields[key]
            if key == "amount" and op == "repay" and value in SHORTCUTS:
                continue
            allow_zero = key != "amount"
            fields[key] = self.convert(
                item, key, lambda v, k=key, z=allow_zero: parse_amount(v, field=k, allow_zero=z)
            )
        for key in ("periods", "term_months"):
            if key in fields and (not isinstance(fields[key], int) or fields[key] <= 0):
                raise self.fail(item, key, "must be a whole number of months")
        for key in ("expires_on", "statement"):
            if key in fields:
                fields[key] = self.convert(item, key, lambda v, k=key: parse_date(v, field=k))
        if "at" in fields:
            fields["at"] = self.convert(item, "at", lambda v: parse_time(v, field="at"))
        if op == "repay" and fields["product"] not in ("paylater", "loan"):
            raise self.fail(item, "product", "must be paylater or loan")
        if op == "repay" and fields["product"] == "loan" and "loan" not in fields:
            raise self.fail(item, "loan", "a loan repayment names the loan (its ref)")
        if op == "convert_installments" and ("purchase" in fields) == ("statement" in fields):
            raise self.fail(item, "purchase", "name either a purchase or a statement")
        if op == "set_limit" and not {"joint_limit", "cap_paylater", "cap_loan"} & set(fields):
            raise self.fail(item, "op", "set_limit needs joint_limit, cap_paylater or cap_loan")
        for key in ("ref", "purchase", "plan", "loan", "merchant", "category", "name"):
            if key in fields and not isinstance(fields[key], str | int):
                raise self.fail(item, key, "must be text")
            if key in fields:
                fields[key] = str(fields[key])


def _plain(value: Any) -> Any:
    """YAML values as the parameter parser expects them (dates and floats as text)."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
