"""The two products that share one joint limit."""

from __future__ import annotations

from enum import StrEnum


class Product(StrEnum):
    PAYLATER = "paylater"
    LOAN = "loan"
