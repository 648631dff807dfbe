"""Expected credit loss under IFRS 9 (TWIN.md, "Figures"): one rule for the twin, the monthly
portfolio job, the API and the report.

- Stage 3: DPD ≥ 90 or written off. Stage 2 (a significant increase in credit risk): DPD ≥ 30,
  or the behaviour grade two or more grades below the grade at onboarding. Stage 1: the rest.
- PD from the behaviour score on the rulebook's scale: the 12-month PD for stage 1, a
  lifetime PD for stage 2 (two years of the 12-month PD: 1 − (1 − PD)²), and 1 for stage 3.
- EAD = drawn + CCF × undrawn, rounded to the fen; ECL = PD × LGD × EAD, rounded to the fen.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from creditlink.domain.money import round_fen
from creditlink.risk.expert import probability_bad

GRADES = "ABCDE"
STAGE_2_DPD = 30
STAGE_3_DPD = 90
STAGE_2_GRADES_DOWN = 2
PD_PLACES = Decimal("0.000001")


def grades_down(before: str | None, after: str | None) -> int:
    """How many grades `after` is below `before` (0 when either is unknown or it is better)."""
    if not before or not after or before not in GRADES or after not in GRADES:
        return 0
    return max(0, GRADES.index(after) - GRADES.index(before))


def stage(*, dpd: int, written_off: bool, grades_down: int) -> int:
    if written_off or dpd >= STAGE_3_DPD:
        return 3
    if dpd >= STAGE_2_DPD or grades_down >= STAGE_2_GRADES_DOWN:
        return 2
    return 1


@dataclass(frozen=True, slots=True)
class Ecl:
    stage: int
    probability_of_default: Decimal
    exposure_fen: int
    ecl_fen: int


def expected_credit_loss(
    *,
    stage: int,
    points: int,
    drawn_fen: int,
    undrawn_fen: int,
    lgd: Decimal,
    ccf: Decimal,
) -> Ecl:
    """One account's ECL from its stage, the customer's behaviour points and its exposure."""
    assert stage in (1, 2, 3), stage
    assert drawn_fen >= 0, drawn_fen
    assert undrawn_fen >= 0, undrawn_fen
    twelve_month = Decimal(repr(probability_bad(points)))
    pd = {1: twelve_month, 2: 1 - (1 - twelve_month) ** 2, 3: Decimal(1)}[stage]
    pd = pd.quantize(PD_PLACES)
    exposure = drawn_fen + round_fen(ccf * undrawn_fen)
    return Ecl(stage, pd, exposure, round_fen(pd * lgd * exposure))
