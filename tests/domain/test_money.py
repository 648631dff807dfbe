from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditlink.domain.errors import InvalidInput
from creditlink.domain.money import (
    ceil_fen,
    format_fen,
    format_rate,
    parse_amount,
    parse_rate,
    parse_signed_amount,
    round_fen,
)


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("1234.50", 123450),
        ("1234.5", 123450),
        ("1234", 123400),
        ("0.01", 1),
        ("500.00", 50000),
        (" 7.05 ", 705),
    ],
)
def test_amounts_parse_to_whole_fen(text: str, fen: int) -> None:
    assert parse_amount(text) == fen


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("0.001", "AMOUNT_SUB_FEN"),
        ("12.345", "AMOUNT_SUB_FEN"),
        ("-5.00", "AMOUNT_POSITIVE"),
        ("0.00", "AMOUNT_POSITIVE"),
        ("0", "AMOUNT_POSITIVE"),
        ("1,234.50", "AMOUNT_FORMAT"),
        ("1e3", "AMOUNT_FORMAT"),
        ("", "AMOUNT_FORMAT"),
        ("abc", "AMOUNT_FORMAT"),
        ("+5", "AMOUNT_FORMAT"),
        ("01.00", "AMOUNT_FORMAT"),
        ("5.", "AMOUNT_FORMAT"),
        (12.5, "AMOUNT_FORMAT"),
        (100, "AMOUNT_FORMAT"),
        (True, "AMOUNT_FORMAT"),
        ("100000000000000.00", "AMOUNT_MAX"),
    ],
)
def test_bad_amounts_are_refused_naming_the_field_and_rule(text: object, rule: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_amount(text, field="joint_limit")
    assert raised.value.field == "joint_limit"
    assert raised.value.rule == rule


def test_zero_is_accepted_only_where_allowed() -> None:
    assert parse_amount("0.00", allow_zero=True) == 0


@pytest.mark.parametrize(
    ("fen", "text"),
    [(123450, "1234.50"), (5, "0.05"), (0, "0.00"), (-5, "-0.05"), (-123456, "-1234.56")],
)
def test_amounts_are_written_with_two_places(fen: int, text: str) -> None:
    assert format_fen(fen) == text


@given(st.integers(min_value=-(10**14), max_value=10**14))
def test_writing_then_reading_an_amount_gives_it_back(fen: int) -> None:
    assert parse_signed_amount(format_fen(fen)) == fen


@pytest.mark.parametrize(
    ("value", "fen"),
    [
        ("1282.5", 1283),
        ("607.5", 608),
        ("12.5", 13),
        ("12.4999", 12),
        ("-0.5", -1),
        ("-1.5", -2),
        ("0.5", 1),
        ("2.5", 3),
    ],
)
def test_rounding_is_half_up_away_from_zero(value: str, fen: int) -> None:
    # 12.825 and 6.075 yuan (1282.5 and 607.5 fen): the shared PayLater example's interest.
    assert round_fen(Decimal(value)) == fen


def test_the_minimum_payment_share_rounds_up() -> None:
    assert ceil_fen(Decimal("15000.01")) == 15001
    assert ceil_fen(Decimal("15000")) == 15000


@pytest.mark.parametrize(
    ("rate", "text"),
    [
        (Decimal("0.1825"), "0.1825"),
        (Decimal("0.18249"), "0.1825"),
        (Decimal("0.00005"), "0.0001"),
        (Decimal("0.24"), "0.2400"),
    ],
)
def test_rates_are_written_with_four_places_half_up(rate: Decimal, text: str) -> None:
    assert format_rate(rate) == text


def test_rates_parse_strictly() -> None:
    assert parse_rate("0.0005") == Decimal("0.0005")
    for bad in ("-0.1", "abc", "1.5", 0.0005):
        with pytest.raises(InvalidInput):
            parse_rate(bad, field="loan_daily_rate")
