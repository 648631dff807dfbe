"""Customers and their validated identity: name, national ID (GB 11643) and mobile number."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from creditlink.domain.errors import InvalidInput

# GB 11643-1999: the 18th character is a check over the first 17 digits, weighted by
# 2^(17-i) mod 11 and mapped through this table (a remainder of 2 gives "X").
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARACTERS = "10X98765432"
_NATIONAL_ID = re.compile(r"[1-9][0-9]{16}[0-9X]")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_CUSTOMER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
NAME_LENGTH_MAX = 100


def national_id_check_character(first_17_digits: str) -> str:
    """The GB 11643 check character for the first 17 digits of a national ID."""
    assert len(first_17_digits) == 17, first_17_digits
    assert first_17_digits.isdigit(), first_17_digits
    total = sum(
        int(digit) * weight for digit, weight in zip(first_17_digits, _WEIGHTS, strict=True)
    )
    return _CHECK_CHARACTERS[total % 11]


@dataclass(frozen=True, slots=True)
class NationalId:
    """An 18-character resident identity number whose check character and birth date hold."""

    value: str

    @classmethod
    def parse(cls, text: object, *, field: str = "national_id") -> NationalId:
        if not isinstance(text, str):
            raise InvalidInput(
                "must be an 18-character national ID", field=field, rule="NATIONAL_ID_FORMAT"
            )
        candidate = text.strip().upper()
        if not _NATIONAL_ID.fullmatch(candidate):
            raise InvalidInput(
                "must be 18 characters: 17 digits then a digit or X "
                f"(got {len(candidate)} characters)",
                field=field,
                rule="NATIONAL_ID_FORMAT",
            )
        try:
            date(int(candidate[6:10]), int(candidate[10:12]), int(candidate[12:14]))
        except ValueError:
            raise InvalidInput(
                # Not echoed: they are the digits the mask hides (a mistyped real ID).
                "characters 7-14 must be a real birth date, YYYYMMDD",
                field=field,
                rule="NATIONAL_ID_BIRTH_DATE",
            ) from None
        expected = national_id_check_character(candidate[:17])
        if candidate[17] != expected:
            raise InvalidInput(
                "fails the GB 11643 check digit (the last character does not match the "
                "first 17 digits)",
                field=field,
                rule="NATIONAL_ID_CHECK_DIGIT",
            )
        return cls(candidate)

    @property
    def birth_date(self) -> date:
        return date(int(self.value[6:10]), int(self.value[10:12]), int(self.value[12:14]))

    @property
    def masked(self) -> str:
        """Shown wherever a person or a log could read it: region and check character only."""
        return f"{self.value[:6]}********{self.value[14:]}"

    def __repr__(self) -> str:  # never print the whole number, even in a traceback
        return f"NationalId({self.masked!r})"


def parse_mobile(text: object, *, field: str = "mobile") -> str:
    """An 11-digit mainland mobile number (1[3-9]xxxxxxxxx); +86, spaces and dashes dropped."""
    if not isinstance(text, str):
        raise InvalidInput("must be an 11-digit mobile number", field=field, rule="MOBILE_FORMAT")
    candidate = re.sub(r"[\s-]", "", text)
    if candidate.startswith("+86"):
        candidate = candidate[3:]
    if not _MOBILE.fullmatch(candidate):
        # Not echoed: a mistyped real number would go whole into client logs and tickets,
        # where mobiles are shown masked.
        digits = sum(character.isdigit() for character in candidate)
        raise InvalidInput(
            f"must be an 11-digit mobile number starting 13-19 (got {digits} digits)",
            field=field,
            rule="MOBILE_FORMAT",
        )
    return candidate


def parse_name(text: object, *, field: str = "name") -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("must not be empty", field=field, rule="NAME_REQUIRED")
    name = " ".join(text.split())
    if len(name) > NAME_LENGTH_MAX:
        raise InvalidInput(
            f"must be at most {NAME_LENGTH_MAX} characters", field=field, rule="NAME_LENGTH"
        )
    if any(not character.isprintable() for character in name):
        raise InvalidInput(
            "must contain printable characters only", field=field, rule="NAME_FORMAT"
        )
    return name


def parse_customer_id(text: object, *, field: str = "customer_id") -> str:
    if not isinstance(text, str) or not _CUSTOMER_ID.fullmatch(text):
        raise InvalidInput(
            "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit, "
            f"got {text!r}",
            field=field,
            rule="CUSTOMER_ID_FORMAT",
        )
    return text


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerScore:
    """The latest score: points, grade, the model that gave it, what lowered it, when."""

    points: int
    grade: str
    model_version: str
    reasons: tuple[str, ...]
    scored_on: date


@dataclass(frozen=True, slots=True, kw_only=True)
class Customer:
    """A borrower. The full national ID is never kept here: only its masked form."""

    customer_id: str
    name: str
    national_id_masked: str
    mobile: str
    onboarded_on: date
    loan_daily_rate: Decimal = Decimal("0.0005")
    monthly_income_fen: int | None = None
    pricing_pinned: bool = False  # limits and price set by hand: scores never change them
    score: CustomerScore | None = None

    @property
    def mobile_masked(self) -> str:
        return f"{self.mobile[:3]}****{self.mobile[7:]}"
