from datetime import date

import pytest

from creditlink.domain.customer import (
    NationalId,
    national_id_check_character,
    parse_customer_id,
    parse_mobile,
    parse_name,
)
from creditlink.domain.errors import InvalidInput


def independent_check_character(first_17: str) -> str:
    """GB 11643 restated from the standard: weight 2^(17-i) mod 11 for position i = 0..16,
    check value (12 - sum mod 11) mod 11, with 10 written X."""
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(first_17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


@pytest.mark.parametrize(
    "first_17",
    [
        "11010519491231002",
        "44030419800101001",
        "31011519850615123",
        "51010719991231999",
        "65010219700101000",
        "11010119900307387",
    ],
)
def test_the_check_character_matches_the_standard(first_17: str) -> None:
    assert national_id_check_character(first_17) == independent_check_character(first_17)


def test_a_well_known_sample_id_is_valid_and_masked() -> None:
    identity = NationalId.parse("11010519491231002x")
    assert identity.value == "11010519491231002X"
    assert identity.birth_date == date(1949, 12, 31)
    assert identity.masked == "110105********002X"
    assert "19491231" not in repr(identity)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("110105194912310021", "NATIONAL_ID_CHECK_DIGIT"),
        ("11010519491231002", "NATIONAL_ID_FORMAT"),
        ("1101051949123100XX", "NATIONAL_ID_FORMAT"),
        ("01010519491231002X", "NATIONAL_ID_FORMAT"),
        ("110105194902300025", "NATIONAL_ID_BIRTH_DATE"),
        ("", "NATIONAL_ID_FORMAT"),
        (None, "NATIONAL_ID_FORMAT"),
    ],
)
def test_malformed_or_wrong_check_digit_ids_are_refused(text: object, rule: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        NationalId.parse(text)
    assert raised.value.rule == rule
    assert raised.value.field == "national_id"
    if isinstance(text, str) and len(text) >= 14:  # what the mask hides is never shown
        assert text[6:14] not in str(raised.value)


def test_mobile_numbers_are_normalised_and_checked() -> None:
    assert parse_mobile("+86 138-0013-8000") == "13800138000"
    for bad in ("12800138000", "1380013800", "138001380001", "phone"):
        with pytest.raises(InvalidInput) as raised:
            parse_mobile(bad)
        assert raised.value.rule == "MOBILE_FORMAT"
        assert bad[3:7] not in str(raised.value)  # what the mask hides is never shown


def test_names_and_ids_are_checked() -> None:
    assert parse_name("  Wang   Fang ") == "Wang Fang"
    with pytest.raises(InvalidInput):
        parse_name("   ")
    with pytest.raises(InvalidInput):
        parse_name("x" * 101)
    assert parse_customer_id("c-1.a_b") == "c-1.a_b"
    with pytest.raises(InvalidInput):
        parse_customer_id("-c1")
    with pytest.raises(InvalidInput):
        parse_customer_id("c 1")
