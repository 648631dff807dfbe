"""Installment plans (DOMAIN.md §3): the fee schedule, the split into periods, and the APR.

fee = principal × fee rate, rounded; the first n − 1 installments carry round(principal / n)
and round(fee / n); the last takes the remainders. APR = 12 × r, where r solves
principal = Σ payment_k / (1 + r)^k over monthly periods k = 1..n.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

from creditlink.domain.money import round_fen

_IRR_ITERATIONS = 200


@dataclass(frozen=True, slots=True)
class Split:
    principal_fen: int
    fee_fen: int


def plan_fee(principal_fen: int, fee_rate: Decimal) -> int:
    return round_fen(Decimal(principal_fen) * fee_rate)


def split(principal_fen: int, fee_fen: int, periods: int) -> list[Split]:
    """Each of the first n − 1 installments carries the rounded share; the last the rest."""
    assert periods >= 1, periods
    assert principal_fen > 0, principal_fen
    assert fee_fen >= 0, fee_fen
    share = round_fen(Decimal(principal_fen) / periods)
    fee_share = round_fen(Decimal(fee_fen) / periods)
    parts = [Split(share, fee_share) for _ in range(periods - 1)]
    parts.append(Split(principal_fen - share * (periods - 1), fee_fen - fee_share * (periods - 1)))
    assert sum(p.principal_fen for p in parts) == principal_fen
    assert sum(p.fee_fen for p in parts) == fee_fen
    return parts


def plan_apr(principal_fen: int, payments_fen: list[int]) -> Decimal:
    """12 × the monthly rate r at which the payments' present value equals the principal.

    Found by bisection to far below the fourth decimal of the APR; a plan with no fee has
    APR 0. Actual dates are ignored, as the rulebook says.
    """
    assert principal_fen > 0, principal_fen
    if sum(payments_fen) <= principal_fen:
        return Decimal(0)
    with localcontext() as context:
        context.prec = 40
        principal = Decimal(principal_fen)

        def present_value(rate: Decimal) -> Decimal:
            return sum(
                (Decimal(p) / (1 + rate) ** k for k, p in enumerate(payments_fen, start=1)),
                Decimal(0),
            )

        low, high = Decimal(0), Decimal(1)
        for _ in range(_IRR_ITERATIONS):
            middle = (low + high) / 2
            if present_value(middle) > principal:
                low = middle
            else:
                high = middle
        return 12 * (low + high) / 2
