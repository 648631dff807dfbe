"""Money in integer fen, rates as Decimal, and the one rounding rule (DOMAIN.md §1).

Amounts never pass through a float. External formats write amounts as decimal strings with
exactly two places (`"1234.50"`) and rates with exactly four (`"0.1825"`). Rounding happens
once, where an amount is billed, paid or posted: half-up to the fen, half a fen away from
zero. The one exception, the percentage part of a minimum payment, rounds up (`ceil_fen`).
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation

from creditlink.domain.errors import InvalidInput

FEN_PER_YUAN = 100
# The largest amount accepted from outside: one trillion yuan, far above any credit line,
# and well inside a signed 64-bit column.
AMOUNT_FEN_MAX = 100_000_000_000_000

_AMOUNT = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]{1,2})?")
_RATE = re.compile(r"(0|[1-9][0-9]*)(\.[0-9]+)?")
_RATE_PLACES = Decimal("0.0001")


def parse_amount(text: object, *, field: str = "amount", allow_zero: bool = False) -> int:
    """Parse a positive decimal string of yuan (at most two places) into fen.

    Strict on purpose: `"1234.5"` and `"1234.50"` are accepted; `"1,234.50"`, `"1e3"`,
    `"0.001"` (a sub-fen amount), floats, negatives and zero are refused with a message
    naming the field and the rule.
    """
    fen = parse_signed_amount(text, field=field)
    if fen < 0:
        raise InvalidInput(f"must be positive, got {text!s}", field=field, rule="AMOUNT_POSITIVE")
    if fen == 0 and not allow_zero:
        raise InvalidInput("must be greater than 0.00", field=field, rule="AMOUNT_POSITIVE")
    return fen


def parse_signed_amount(text: object, *, field: str = "amount") -> int:
    """Parse a decimal string of yuan that may be negative (a credit balance) into fen."""
    if isinstance(text, bool) or not isinstance(text, str):
        raise InvalidInput(
            f'must be a decimal string such as "1234.50", got {text!r}',
            field=field,
            rule="AMOUNT_FORMAT",
        )
    candidate = text.strip()
    if not _AMOUNT.fullmatch(candidate):
        if re.fullmatch(r"-?[0-9]+\.[0-9]{3,}", candidate):
            raise InvalidInput(
                f"{text!r} has more than two decimal places: amounts are whole fen",
                field=field,
                rule="AMOUNT_SUB_FEN",
            )
        raise InvalidInput(
            f'must be a decimal string such as "1234.50", got {text!r}',
            field=field,
            rule="AMOUNT_FORMAT",
        )
    fen = int(Decimal(candidate) * FEN_PER_YUAN)
    if abs(fen) > AMOUNT_FEN_MAX:
        raise InvalidInput(
            f"{text} is above the largest amount accepted ({format_fen(AMOUNT_FEN_MAX)})",
            field=field,
            rule="AMOUNT_MAX",
        )
    return fen


def format_fen(fen: int) -> str:
    """Write fen as yuan with exactly two places: 123450 -> "1234.50", -5 -> "-0.05"."""
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}{whole}.{part:02d}"


_ONE_FEN = Decimal(1)


def round_fen(amount_fen: Decimal) -> int:
    """The one rounding rule: half-up to the fen, half a fen away from zero."""
    return int(amount_fen.quantize(_ONE_FEN, rounding=ROUND_HALF_UP))


def ceil_fen(amount_fen: Decimal) -> int:
    """Round up to the fen; used only for the percentage part of a minimum payment."""
    return int(amount_fen.quantize(_ONE_FEN, rounding=ROUND_CEILING))


def parse_rate(text: object, *, field: str = "rate", maximum: Decimal = Decimal(1)) -> Decimal:
    """Parse a non-negative decimal string rate, such as "0.0005", into a Decimal."""
    if isinstance(text, bool) or not isinstance(text, str | Decimal | int):
        raise InvalidInput(
            f'must be a decimal string such as "0.0005", got {text!r}',
            field=field,
            rule="RATE_FORMAT",
        )
    candidate = str(text).strip()
    if not _RATE.fullmatch(candidate):
        raise InvalidInput(
            f'must be a non-negative decimal such as "0.0005", got {text!r}',
            field=field,
            rule="RATE_FORMAT",
        )
    try:
        rate = Decimal(candidate)
    except InvalidOperation as error:  # pragma: no cover - the pattern already rules it out
        raise InvalidInput(f"is not a number: {text!r}", field=field) from error
    if rate > maximum:
        raise InvalidInput(
            f"must be at most {maximum}, got {candidate}", field=field, rule="RATE_RANGE"
        )
    return rate


def format_rate(rate: Decimal) -> str:
    """Write a rate or APR with exactly four places, half-up: 0.1825 -> "0.1825"."""
    return str(rate.quantize(_RATE_PLACES, rounding=ROUND_HALF_UP))
