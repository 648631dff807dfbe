"""IFRS 9 staging and ECL (TWIN.md "Figures"), against numbers worked by hand.

On the rulebook's scale 600 points are odds 50:1, so PD = 1/51 = 0.019608 (six places), and
620 points are odds 100:1, PD = 1/101 = 0.009901. Lifetime PD (stage 2) is 1 − (1 − PD)²:
for 1/51 that is 101/2601 = 0.038831.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from creditlink.risk.ecl import expected_credit_loss, grades_down, stage

LGD, CCF = Decimal("0.85"), Decimal("0.5")


@pytest.mark.parametrize(
    ("dpd", "written_off", "down", "expected"),
    [
        (0, False, 0, 1),
        (29, False, 1, 1),
        (30, False, 0, 2),
        (0, False, 2, 2),
        (89, False, 4, 2),
        (90, False, 0, 3),
        (0, True, 0, 3),
    ],
)
def test_the_stage_follows_dpd_write_off_and_grades_down(
    dpd: int, written_off: bool, down: int, expected: int
) -> None:
    assert stage(dpd=dpd, written_off=written_off, grades_down=down) == expected


def test_grades_down_counts_only_falls_between_known_grades() -> None:
    assert grades_down("B", "D") == 2
    assert grades_down("D", "B") == 0
    assert grades_down("A", "E") == 4
    assert grades_down(None, "E") == 0
    assert grades_down("B", "") == 0
    assert grades_down("B", "Z") == 0


@pytest.mark.parametrize(
    ("stage_", "points", "drawn", "undrawn", "pd", "ead", "ecl"),
    [
        # 0.019608 × 0.85 × (100,000 + 0.5 × 50,000) = 2,083.35 → 2,083
        (1, 600, 100_000, 50_000, "0.019608", 125_000, 2_083),
        # 0.038831 × 0.85 × 125,000 = 4,125.79 → 4,126
        (2, 600, 100_000, 50_000, "0.038831", 125_000, 4_126),
        # 1 × 0.85 × 125,000
        (3, 600, 100_000, 50_000, "1.000000", 125_000, 106_250),
        # undrawn 33,333 × 0.5 = 16,666.5 → 16,667 (half up); 0.009901 × 0.85 × 16,667 = 140.27
        (1, 620, 0, 33_333, "0.009901", 16_667, 140),
    ],
)
def test_ecl_is_pd_times_lgd_times_ead_rounded_to_the_fen(
    stage_: int, points: int, drawn: int, undrawn: int, pd: str, ead: int, ecl: int
) -> None:
    figure = expected_credit_loss(
        stage=stage_, points=points, drawn_fen=drawn, undrawn_fen=undrawn, lgd=LGD, ccf=CCF
    )
    assert figure.stage == stage_
    assert figure.probability_of_default == Decimal(pd)
    assert figure.exposure_fen == ead
    assert figure.ecl_fen == ecl
