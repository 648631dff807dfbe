"""From score to grade, and from grade to limits and price (DOMAIN.md §6).

Grades A–E by score band; each grade has an income multiple and a joint-limit range, and a
loan daily rate (E is declined). Caps are shares of the joint limit. All of it comes from
the parameter set in force.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from creditlink.domain.money import round_fen
from creditlink.domain.parameters import Parameters

GRADES = ("A", "B", "C", "D", "E")


def grade_of(points: int, bands: dict[str, int]) -> str:
    """The best grade whose lower bound the points reach; E below every band."""
    for grade in GRADES[:-1]:
        if points >= bands[grade]:
            return grade
    return "E"


@dataclass(frozen=True, slots=True, kw_only=True)
class Offer:
    grade: str
    joint_limit_fen: int
    cap_paylater_fen: int
    cap_loan_fen: int
    loan_daily_rate: Decimal | None  # None: grade E, no loan

    @property
    def declined(self) -> bool:
        return self.loan_daily_rate is None and self.joint_limit_fen == 0


def offer_for(*, grade: str, monthly_income_fen: int, parameters: Parameters) -> Offer:
    """Joint limit = income × the grade's multiple, within the grade's range; caps as shares
    of it; the loan rate of the grade. Grade E gets nothing."""
    if grade == "E":
        return Offer(
            grade=grade, joint_limit_fen=0, cap_paylater_fen=0, cap_loan_fen=0, loan_daily_rate=None
        )
    low, high = parameters.limit_range_by_grade[grade]
    joint = min(
        high,
        max(
            low,
            round_fen(
                Decimal(monthly_income_fen) * parameters.limit_income_multiple_by_grade[grade]
            ),
        ),
    )
    joint = joint // 10_000 * 10_000  # whole hundreds of yuan, as a lender quotes them
    return Offer(
        grade=grade,
        joint_limit_fen=joint,
        cap_paylater_fen=round_fen(joint * parameters.limit_paylater_cap_share),
        cap_loan_fen=round_fen(joint * parameters.limit_loan_cap_share),
        loan_daily_rate=parameters.loan_daily_rate_by_grade.get(grade),
    )
