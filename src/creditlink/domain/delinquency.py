"""Delinquency buckets (DOMAIN.md §5)."""

from __future__ import annotations

from enum import StrEnum


class Bucket(StrEnum):
    C = "C"
    M1 = "M1"
    M2 = "M2"
    M3 = "M3"
    M4_PLUS = "M4+"
    WO = "WO"


def bucket_of(dpd: int, *, written_off: bool = False) -> Bucket:
    """C (0), M1 (1–30), M2 (31–60), M3 (61–90), M4+ (91 and more), WO once written off."""
    assert dpd >= 0, dpd
    if written_off:
        return Bucket.WO
    if dpd == 0:
        return Bucket.C
    if dpd <= 30:
        return Bucket.M1
    if dpd <= 60:
        return Bucket.M2
    if dpd <= 90:
        return Bucket.M3
    return Bucket.M4_PLUS


M1_START = 1  # the first day past due: current (C) rolls into M1
M2_START = 31  # M1 rolls into M2
ROLL_THRESHOLDS = (M1_START, M2_START)


def crossed(threshold: int, *, before: int, after: int) -> bool:
    """Whether DPD went from below `threshold` to at or above it."""
    return before < threshold <= after
