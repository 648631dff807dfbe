"""Every threshold, rate, fee, cut-off and delay as a named parameter in an immutable,
versioned set (DOMAIN.md §8).

Names are dotted (`paylater.revolving_daily_rate`); scenario files, `params set` and the audit
log use exactly these names. A `ParameterSet` never changes: `changed()` returns the next
version, and `diff()` says what differs between two versions.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from creditlink.domain.errors import InvalidInput, NotFound
from creditlink.domain.money import format_fen, parse_amount


class Kind(StrEnum):
    RATE = "rate"  # a Decimal in [0, 1]
    DECIMAL = "decimal"  # a non-negative Decimal
    MONEY = "money"  # whole fen, written as yuan with two places
    INTEGER = "integer"  # a whole number within its bounds
    NAMES = "names"  # a list of lower-case names
    TERMS = "terms"  # a list of month counts
    TERM_RATES = "term_rates"  # months -> rate
    GRADE_RATES = "grade_rates"  # grade letter -> rate
    GRADE_POINTS = "grade_points"  # grade letter -> lowest score points
    GRADE_MULTIPLES = "grade_multiples"  # grade letter -> non-negative decimal
    GRADE_RANGES = "grade_ranges"  # grade letter -> (lowest, highest) amount
    NAME = "name"  # one lower-case name, such as a model version


class UnknownParameter(NotFound):
    code = "UNKNOWN_PARAMETER"


@dataclass(frozen=True, slots=True)
class Definition:
    name: str
    kind: Kind
    doc: str
    minimum: int = 0
    maximum: int | None = None


def _param(
    default: Any, name: str, kind: Kind, doc: str, *, minimum: int = 0, maximum: int | None = None
) -> Any:
    definition = Definition(name, kind, doc, minimum, maximum)
    if isinstance(default, Mapping):
        frozen = MappingProxyType(dict(default))
        return field(default_factory=lambda: frozen, metadata={"definition": definition})
    return field(default=default, metadata={"definition": definition})


_D = Decimal


@dataclass(frozen=True, kw_only=True)
class Parameters:
    """The values in force. Attribute names are the dotted names with `_` for `.`."""

    apr_cap: Decimal = _param(
        _D("0.2400"),
        "apr_cap",
        Kind.RATE,
        "Highest APR any offer may show; offers above it are refused.",
    )
    limit_increase_delay_days: int = _param(
        7,
        "limit.increase_delay_days",
        Kind.INTEGER,
        "Days between a limit increase request and the start of the day it takes effect.",
        maximum=365,
    )
    paylater_statement_day: int = _param(
        1,
        "paylater.statement_day",
        Kind.INTEGER,
        "Default statement day of month for new PayLater accounts.",
        minimum=1,
        maximum=28,
    )
    paylater_grace_days: int = _param(
        9,
        "paylater.grace_days",
        Kind.INTEGER,
        "Calendar days from the statement date to its due date.",
        maximum=60,
    )
    paylater_min_payment_rate: Decimal = _param(
        _D("0.10"),
        "paylater.min_payment_rate",
        Kind.RATE,
        "Share of revolving principal in the minimum payment (rounded up to the fen).",
    )
    paylater_revolving_daily_rate: Decimal = _param(
        _D("0.0005"),
        "paylater.revolving_daily_rate",
        Kind.RATE,
        "Daily interest on PayLater principal unpaid after its due date.",
    )
    paylater_installment_fee_rates: Mapping[int, Decimal] = _param(
        {3: _D("0.025"), 6: _D("0.045"), 9: _D("0.065"), 12: _D("0.088")},
        "paylater.installment_fee_rates",
        Kind.TERM_RATES,
        "Total fee rate of an installment plan by number of periods.",
    )
    paylater_blocked_categories: tuple[str, ...] = _param(
        ("gambling", "securities", "cryptocurrency", "cash_withdrawal"),
        "paylater.blocked_categories",
        Kind.NAMES,
        "Merchant categories in which purchases are always declined.",
    )
    loan_min_amount: int = _param(50_000, "loan.min_amount", Kind.MONEY, "Smallest cash loan draw.")
    loan_terms: tuple[int, ...] = _param(
        (3, 6, 12), "loan.terms", Kind.TERMS, "Loan terms offered, in months."
    )
    loan_penalty_multiplier: Decimal = _param(
        _D("1.5"),
        "loan.penalty_multiplier",
        Kind.DECIMAL,
        "Penalty daily rate on overdue loan principal, as a multiple of the loan's daily rate.",
    )
    loan_daily_rate_by_grade: Mapping[str, Decimal] = _param(
        {"A": _D("0.0002"), "B": _D("0.0003"), "C": _D("0.0004"), "D": _D("0.0005")},
        "loan.daily_rate_by_grade",
        Kind.GRADE_RATES,
        "Loan daily rate by score grade; a grade not listed (E) is declined.",
    )
    score_grade_bands: Mapping[str, int] = _param(
        {"A": 680, "B": 640, "C": 600, "D": 560},
        "score.grade_bands",
        Kind.GRADE_POINTS,
        "Lowest score of each grade; below the D band a customer is grade E (declined).",
    )
    score_application_model: str = _param(
        "expert-application-1",
        "score.application_model",
        Kind.NAME,
        "Scorecard for the application score at onboarding.",
    )
    score_behaviour_model: str = _param(
        "expert-behaviour-1",
        "score.behaviour_model",
        Kind.NAME,
        "Scorecard for the behaviour score; an unknown one falls back to rules only.",
    )
    score_behaviour_interval_months: int = _param(
        1,
        "score.behaviour_interval_months",
        Kind.INTEGER,
        "Months between behaviour re-scores in the close of day.",
        minimum=1,
        maximum=12,
    )
    limit_income_multiple_by_grade: Mapping[str, Decimal] = _param(
        {"A": _D("3.0"), "B": _D("2.5"), "C": _D("2.0"), "D": _D("1.0")},
        "limit.income_multiple_by_grade",
        Kind.GRADE_MULTIPLES,
        "Joint limit as a multiple of declared monthly income, by grade.",
    )
    limit_range_by_grade: Mapping[str, tuple[int, int]] = _param(
        {
            "A": (2_000_000, 10_000_000),
            "B": (1_000_000, 5_000_000),
            "C": (500_000, 2_000_000),
            "D": (200_000, 800_000),
        },
        "limit.range_by_grade",
        Kind.GRADE_RANGES,
        "Lowest and highest joint limit of each grade.",
    )
    limit_paylater_cap_share: Decimal = _param(
        _D("0.75"),
        "limit.paylater_cap_share",
        Kind.RATE,
        "PayLater cap as a share of the joint limit, when limits are set from the score.",
    )
    limit_loan_cap_share: Decimal = _param(
        _D("1.00"),
        "limit.loan_cap_share",
        Kind.RATE,
        "Cash-loan cap as a share of the joint limit, when limits are set from the score.",
    )
    write_off_dpd: int = _param(
        180,
        "write_off_dpd",
        Kind.INTEGER,
        "Days past due at which a product's receivables are written off.",
        minimum=1,
        maximum=3650,
    )
    linkage_watch_dpd: int = _param(
        1, "linkage.watch_dpd", Kind.INTEGER, "DPD in either product that raises WATCH.", minimum=1
    )
    linkage_restrict_dpd: int = _param(
        4,
        "linkage.restrict_dpd",
        Kind.INTEGER,
        "DPD in either product that raises RESTRICT.",
        minimum=1,
    )
    linkage_freeze_dpd: int = _param(
        31,
        "linkage.freeze_dpd",
        Kind.INTEGER,
        "DPD in either product that raises FREEZE.",
        minimum=1,
    )
    linkage_watch_utilisation: Decimal = _param(
        _D("0.90"),
        "linkage.watch_utilisation",
        Kind.RATE,
        "Joint utilisation above which WATCH is raised.",
    )
    linkage_recovery_cycles: int = _param(
        2,
        "linkage.recovery_cycles",
        Kind.INTEGER,
        "On-time statements or installments in a row needed to step down one level.",
        minimum=1,
        maximum=24,
    )
    linkage_essential_categories: tuple[str, ...] = _param(
        ("grocery", "utilities", "pharmacy", "transport"),
        "linkage.essential_categories",
        Kind.NAMES,
        "PayLater categories still allowed under RESTRICT.",
    )
    linkage_borrow_to_repay_days: int = _param(
        2,
        "linkage.borrow_to_repay_days",
        Kind.INTEGER,
        "Dates after a draw within which a PayLater repayment counts as borrow-to-repay.",
        maximum=31,
    )
    linkage_borrow_to_repay_share: Decimal = _param(
        _D("0.5"),
        "linkage.borrow_to_repay_share",
        Kind.RATE,
        "Share of the draw a PayLater repayment must reach to count as borrow-to-repay.",
    )
    linkage_borrow_to_repay_window_days: int = _param(
        90,
        "linkage.borrow_to_repay_window_days",
        Kind.INTEGER,
        "Most days between the draw dates of two borrow-to-repay pairs.",
        minimum=1,
    )
    linkage_cashout_round_amount: int = _param(
        10_000,
        "linkage.cashout_round_amount",
        Kind.MONEY,
        "Purchases that are whole multiples of this amount count as round.",
    )
    linkage_cashout_round_count: int = _param(
        3,
        "linkage.cashout_round_count",
        Kind.INTEGER,
        "Round purchases on one date that make a cash-out pattern.",
        minimum=1,
    )
    linkage_cashout_refund_pairs: int = _param(
        2,
        "linkage.cashout_refund_pairs",
        Kind.INTEGER,
        "Purchase-then-refund pairs at one merchant that make a cash-out pattern.",
        minimum=1,
    )
    linkage_cashout_refund_window_days: int = _param(
        30,
        "linkage.cashout_refund_window_days",
        Kind.INTEGER,
        "Most days between a purchase and its refund for the pair to count.",
        minimum=1,
    )
    emergency_min_active_accounts: int = _param(
        1000,
        "emergency.min_active_accounts",
        Kind.INTEGER,
        "Active accounts needed before early-warning indicators are judged.",
    )
    emergency_new_overdue_rate_7d: Decimal = _param(
        _D("0.05"),
        "emergency.new_overdue_rate_7d",
        Kind.RATE,
        "Breach when accounts that turned 1 DPD in the last 7 dates exceed this share of the "
        "active accounts.",
    )
    emergency_roll_c_m1: Decimal = _param(
        _D("0.10"),
        "emergency.roll_c_m1",
        Kind.RATE,
        "Breach when, in either product, accounts that turned 1 DPD in the last 30 dates "
        "exceed this share of the accounts active 30 dates before.",
    )
    emergency_roll_m1_m2: Decimal = _param(
        _D("0.60"),
        "emergency.roll_m1_m2",
        Kind.RATE,
        "Breach when, in either product, accounts that turned 31 DPD in the last 30 dates "
        "exceed this share of those that turned 1 DPD in the 30 dates before.",
    )
    emergency_approval_volume_ratio: Decimal = _param(
        _D("3.0"),
        "emergency.approval_volume_ratio",
        Kind.DECIMAL,
        "Breach when a date's approvals exceed this multiple of the mean of the 7 dates "
        "before it (0 turns the indicator off).",
    )
    rules_velocity_hour_count: int = _param(
        10,
        "rules.velocity_hour_count",
        Kind.INTEGER,
        "Most approved purchases and draws per customer within 60 minutes; more go to REVIEW "
        "(0 turns the rule off; needs the operation's time).",
    )
    rules_velocity_hour_amount: int = _param(
        3_000_000,
        "rules.velocity_hour_amount",
        Kind.MONEY,
        "Most purchase and draw amount per customer within 60 minutes; more goes to REVIEW "
        "(0 turns the rule off; needs the operation's time).",
    )
    rules_velocity_day_count: int = _param(
        20,
        "rules.velocity_day_count",
        Kind.INTEGER,
        "Most approved purchases and draws per customer on one business date; more go to "
        "REVIEW (0 turns the rule off).",
    )
    rules_velocity_day_amount: int = _param(
        10_000_000,
        "rules.velocity_day_amount",
        Kind.MONEY,
        "Most purchase and draw amount per customer on one business date; more goes to REVIEW "
        "(0 turns the rule off).",
    )
    rules_exposure_cap: int = _param(
        20_000_000,
        "rules.exposure_cap",
        Kind.MONEY,
        "Most principal one borrower may owe across both products; a purchase or draw above "
        "it is declined with EXPOSURE_CAP_EXCEEDED (0 turns the rule off).",
    )
    ecl_lgd: Decimal = _param(
        _D("0.85"),
        "ecl.lgd",
        Kind.RATE,
        "Loss given default in expected credit loss (IFRS 9): the share of the exposure lost.",
    )
    ecl_ccf: Decimal = _param(
        _D("0.50"),
        "ecl.ccf",
        Kind.RATE,
        "Credit conversion factor: the share of an undrawn PayLater limit counted as exposure.",
    )

    def __post_init__(self) -> None:
        if not (self.linkage_watch_dpd <= self.linkage_restrict_dpd <= self.linkage_freeze_dpd):
            raise InvalidInput(
                "linkage thresholds must rise: watch_dpd ≤ restrict_dpd ≤ freeze_dpd "
                f"(got {self.linkage_watch_dpd}, {self.linkage_restrict_dpd}, "
                f"{self.linkage_freeze_dpd})",
                field="linkage.restrict_dpd",
                rule="LINKAGE_ORDER",
            )
        if self.linkage_freeze_dpd > self.write_off_dpd:
            raise InvalidInput(
                "linkage.freeze_dpd must not be above write_off_dpd",
                field="linkage.freeze_dpd",
                rule="LINKAGE_ORDER",
            )


def definitions() -> dict[str, tuple[str, Definition]]:
    """Dotted name -> (attribute name, definition), in the order of DOMAIN.md §8."""
    return dict(_DEFINITIONS)


_DEFINITIONS: dict[str, tuple[str, Definition]] = {
    f.metadata["definition"].name: (f.name, f.metadata["definition"])
    for f in dataclasses.fields(Parameters)
}


def definition(name: str) -> tuple[str, Definition]:
    try:
        return _DEFINITIONS[name]
    except KeyError:
        close = [known for known in _DEFINITIONS if name.split(".")[-1] in known]
        close = close or difflib.get_close_matches(name, _DEFINITIONS, n=3, cutoff=0.8)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise UnknownParameter(
            f"unknown parameter {name!r}{hint}; `creditlink params show` lists them",
            field="name",
            rule="UNKNOWN_PARAMETER",
        ) from None


# -- reading and writing values ------------------------------------------------------------


def _decimal(raw: object, name: str) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, str | int | Decimal):
        raise InvalidInput(
            f'must be a decimal written as a string such as "0.0005", got {raw!r}',
            field=name,
            rule="PARAMETER_FORMAT",
        )
    text = str(raw).strip()
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
        raise InvalidInput(
            f"must be a non-negative decimal, got {raw!r}", field=name, rule="PARAMETER_FORMAT"
        )
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern rules it out
        raise InvalidInput(f"is not a number: {raw!r}", field=name) from None


def _rate(raw: object, name: str) -> Decimal:
    value = _decimal(raw, name)
    if value > 1:
        raise InvalidInput(
            f"must be a rate between 0 and 1, got {raw}", field=name, rule="PARAMETER_RANGE"
        )
    return value


def _integer(raw: object, definition: Definition) -> int:
    name = definition.name
    if isinstance(raw, bool):
        raise InvalidInput(
            f"must be a whole number, got {raw!r}", field=name, rule="PARAMETER_FORMAT"
        )
    if isinstance(raw, str) and re.fullmatch(r"-?[0-9]+", raw.strip()):
        raw = int(raw.strip())
    if not isinstance(raw, int):
        raise InvalidInput(
            f"must be a whole number, got {raw!r}", field=name, rule="PARAMETER_FORMAT"
        )
    upper = definition.maximum
    if raw < definition.minimum or (upper is not None and raw > upper):
        bounds = f"from {definition.minimum}" + (f" to {upper}" if upper is not None else " up")
        raise InvalidInput(f"must be {bounds}, got {raw}", field=name, rule="PARAMETER_RANGE")
    return raw


def _items(raw: object, name: str) -> list[str]:
    if isinstance(raw, str):
        return [item.strip() for item in raw.split(",") if item.strip()]
    if isinstance(raw, list | tuple):
        return [str(item).strip() for item in raw]
    raise InvalidInput(
        f"must be a list or comma-separated names, got {raw!r}", field=name, rule="PARAMETER_FORMAT"
    )


def _names(raw: object, name: str) -> tuple[str, ...]:
    names = [item.lower() for item in _items(raw, name)]
    for item in names:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", item):
            raise InvalidInput(
                f"{item!r} is not a category name (lower-case letters, digits, _)",
                field=name,
                rule="PARAMETER_FORMAT",
            )
    return tuple(dict.fromkeys(names))


def _terms(raw: object, name: str) -> tuple[int, ...]:
    terms = []
    for item in _items(raw, name):
        if not item.isdigit() or not 1 <= int(item) <= 60:
            raise InvalidInput(
                f"{item!r} is not a term of 1 to 60 months", field=name, rule="PARAMETER_FORMAT"
            )
        terms.append(int(item))
    if not terms:
        raise InvalidInput("must list at least one term", field=name, rule="PARAMETER_FORMAT")
    return tuple(sorted(set(terms)))


def _table(
    raw: object,
    name: str,
    key: Callable[[str], Any],
    value: Callable[[object, str], Any] | None = None,
) -> Mapping[Any, Any]:
    pairs: list[tuple[object, object]]
    if isinstance(raw, Mapping):
        pairs = list(raw.items())
    elif isinstance(raw, str):
        pairs = []
        for item in _items(raw, name):
            left, sep, right = item.partition(":")
            if not sep:
                raise InvalidInput(
                    f"{item!r} must be written KEY:RATE", field=name, rule="PARAMETER_FORMAT"
                )
            pairs.append((left.strip(), right.strip()))
    else:
        raise InvalidInput(
            f"must be a mapping such as 3:0.025,6:0.045, got {raw!r}",
            field=name,
            rule="PARAMETER_FORMAT",
        )
    read = value or _rate
    table = {key(str(k).strip()): read(v, name) for k, v in pairs}
    if not table:
        raise InvalidInput("must not be empty", field=name, rule="PARAMETER_FORMAT")
    return MappingProxyType(dict(sorted(table.items())))


def _points(raw: object, name: str) -> int:
    text = str(raw).strip()
    if isinstance(raw, bool) or not text.isdigit() or not 0 < int(text) < 2000:
        raise InvalidInput(f"{raw!r} is not a score in points", field=name, rule="PARAMETER_FORMAT")
    return int(text)


def _range(raw: object, name: str) -> tuple[int, int]:
    low_text, sep, high_text = str(raw).partition("-")
    if not sep:
        raise InvalidInput(
            f"{raw!r} must be written LOW-HIGH, e.g. 2000.00-10000.00",
            field=name,
            rule="PARAMETER_FORMAT",
        )
    low = parse_amount(low_text.strip(), field=name, allow_zero=True)
    high = parse_amount(high_text.strip(), field=name, allow_zero=True)
    if low > high:
        raise InvalidInput(
            f"{raw!r}: the low end is above the high end", field=name, rule="PARAMETER_RANGE"
        )
    return low, high


def _term_key(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 60:
        raise InvalidInput(
            f"{text!r} is not a number of periods", field="periods", rule="PARAMETER_FORMAT"
        )
    return int(text)


def _grade_key(text: str) -> str:
    if not re.fullmatch(r"[A-Z]", text.upper()):
        raise InvalidInput(
            f"{text!r} is not a grade letter", field="grade", rule="PARAMETER_FORMAT"
        )
    return text.upper()


def parse_value(name: str, raw: object) -> Any:
    """Read a value for `name` from CLI text or from a YAML/JSON value."""
    _, found = definition(name)
    match found.kind:
        case Kind.RATE:
            return _rate(raw, name)
        case Kind.DECIMAL:
            return _decimal(raw, name)
        case Kind.MONEY:
            return parse_amount(raw, field=name, allow_zero=True)
        case Kind.INTEGER:
            return _integer(raw, found)
        case Kind.NAMES:
            return _names(raw, name)
        case Kind.TERMS:
            return _terms(raw, name)
        case Kind.TERM_RATES:
            return _table(raw, name, _term_key)
        case Kind.GRADE_RATES:
            return _table(raw, name, _grade_key)
        case Kind.GRADE_POINTS:
            return _table(raw, name, _grade_key, _points)
        case Kind.GRADE_MULTIPLES:
            return _table(raw, name, _grade_key, _decimal)
        case Kind.GRADE_RANGES:
            return _table(raw, name, _grade_key, _range)
        case Kind.NAME:
            text = str(raw).strip().lower()
            if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,63}", text):
                raise InvalidInput(
                    f"{raw!r} is not a name (letters, digits, '.', '_', '-')",
                    field=name,
                    rule="PARAMETER_FORMAT",
                )
            return text


def format_value(name: str, value: Any) -> str:
    """The canonical text of a value: what `params show` prints and the store keeps."""
    _, found = definition(name)
    match found.kind:
        case Kind.MONEY:
            return format_fen(value)
        case Kind.NAMES | Kind.TERMS:
            return ",".join(str(item) for item in value)
        case Kind.TERM_RATES | Kind.GRADE_RATES | Kind.GRADE_POINTS | Kind.GRADE_MULTIPLES:
            return ",".join(f"{key}:{rate}" for key, rate in value.items())
        case Kind.GRADE_RANGES:
            return ",".join(
                f"{key}:{format_fen(low)}-{format_fen(high)}" for key, (low, high) in value.items()
            )
        case _:
            return str(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class ParameterChange:
    name: str
    before: str
    after: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ParameterSet:
    """One immutable version of every parameter."""

    version: int
    values: Parameters = field(default_factory=Parameters)

    def get(self, name: str) -> Any:
        attribute, _ = definition(name)
        return getattr(self.values, attribute)

    def as_text(self) -> dict[str, str]:
        return {name: format_value(name, self.get(name)) for name in _DEFINITIONS}

    def changed(self, changes: Mapping[str, object]) -> ParameterSet:
        """The next version with `changes` (dotted name -> value) applied, all or nothing."""
        if not changes:
            raise InvalidInput(
                "name at least one parameter to change", field="name", rule="PARAMETER_REQUIRED"
            )
        updates = {}
        for name, raw in changes.items():
            try:
                attribute = definition(name)[0]
            except UnknownParameter as unknown:  # a name given as input: invalid, not a lookup
                raise InvalidInput(unknown.message, field=name, rule="UNKNOWN_PARAMETER") from None
            value = parse_value(name, raw)
            current = getattr(self.values, attribute)
            # An equal value written otherwise (0.10 for 0.1) keeps the text in force.
            updates[attribute] = current if value == current else value
        if all(value is getattr(self.values, a) for a, value in updates.items()):
            names = list(changes)
            also = f" (and {', '.join(names[1:])})" if len(names) > 1 else ""
            raise InvalidInput(
                f"already in force with this value{also}; a new version must change something",
                field=names[0],
                rule="PARAMETER_UNCHANGED",
            )
        try:
            values = dataclasses.replace(self.values, **updates)
        except InvalidInput as refused:
            # A rule across parameters names one of them; name the one this change sets.
            named = [n for n in _CROSS_CHECKED.get(refused.rule, ()) if n in changes]
            if not named or refused.field in named:
                raise
            raise InvalidInput(refused.message, field=named[0], rule=refused.rule) from None
        _check_grades_and_periods(values)
        return ParameterSet(version=self.version + 1, values=values)

    @classmethod
    def from_text(cls, version: int, stored: Mapping[str, str]) -> ParameterSet:
        """Rebuild a stored version; names added since it was stored take their defaults."""
        values = {
            definition(name)[0]: parse_value(name, raw)
            for name, raw in stored.items()
            if name in _DEFINITIONS
        }
        return cls(version=version, values=Parameters(**values))

    def diff(self, other: ParameterSet) -> list[ParameterChange]:
        before, after = self.as_text(), other.as_text()
        return [
            ParameterChange(name=name, before=before[name], after=after[name])
            for name in _DEFINITIONS
            if before[name] != after[name]
        ]


# The parameters each rule across parameters reads (Parameters.__post_init__).
_CROSS_CHECKED = {
    "LINKAGE_ORDER": (
        "linkage.watch_dpd",
        "linkage.restrict_dpd",
        "linkage.freeze_dpd",
        "write_off_dpd",
    ),
}
INSTALLMENT_PERIODS = (3, 6, 9, 12)  # DOMAIN.md section 3: the plans there can be
LOAN_TERMS = (3, 6, 12)  # DOMAIN.md section 4: the loan terms there can be


def _check_grades_and_periods(values: Parameters) -> None:
    """What a new version must keep true across parameters (checked when a version is made,
    so that a version stored before a check was added still loads): score bands fall from
    grade A down; a grade priced or limited has a score band (below the lowest band a
    customer is grade E, and E is declined: DOMAIN.md section 6); installment plans have
    periods DOMAIN.md section 3 offers, and loans terms section 4 offers."""
    bands = values.score_grade_bands
    grades = sorted(bands)
    for higher, lower in itertools.pairwise(grades):
        if bands[lower] >= bands[higher]:
            raise InvalidInput(
                f"bands must fall from grade to grade: {lower} starts at {bands[lower]} points, "
                f"not below {higher}'s {bands[higher]}",
                field="score.grade_bands",
                rule="GRADE_BANDS_ORDER",
            )
    for name, table in (
        ("loan.daily_rate_by_grade", values.loan_daily_rate_by_grade),
        ("limit.income_multiple_by_grade", values.limit_income_multiple_by_grade),
        ("limit.range_by_grade", values.limit_range_by_grade),
    ):
        for grade in table:
            if grade not in bands:
                raise InvalidInput(
                    f"grade {grade} has no band in score.grade_bands "
                    f"({', '.join(grades)}): below the lowest band a customer is declined",
                    field=name,
                    rule="GRADE_HAS_BAND",
                )
    for name, offered, allowed, what, rule in (
        ("loan.terms", values.loan_terms, LOAN_TERMS, "loans run {} months", "LOAN_TERMS"),
        (
            "paylater.installment_fee_rates",
            values.paylater_installment_fee_rates,
            INSTALLMENT_PERIODS,
            "plans have {} periods",
            "INSTALLMENT_PERIODS",
        ),
    ):
        for count in offered:
            if count not in allowed:
                listed = ", ".join(map(str, allowed))
                raise InvalidInput(f"{what.format(listed)}, not {count}", field=name, rule=rule)


DEFAULTS = ParameterSet(version=1)
