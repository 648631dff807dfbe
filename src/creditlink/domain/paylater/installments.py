"""Installment plans (DOMAIN.md §3): the fee schedule, the split into periods, and the APR.

fee = principal × fee rate, rounded; the first n − 1 installments carry round(principal / n)
and round(fee / n); the last takes the remainders. APR = 12 × r, where r solves
principal = Σ payment_k / (1 + r)^k over monthly periods k = 1..n.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

from creditlink.domain.money import round_fen

_NEWTON_ITERATIONS = 30
_BISECTION_ITERATIONS = 200
_SETTLED = Decimal("1e-40")
_APR_PLACES = Decimal("1e-30")


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
    """12 × the monthly rate r at which the payments' present value equals the principal,
    to 30 decimal places; a plan with no fee has APR 0. Actual dates are ignored, as the
    rulebook says.

    The present value falls and is convex in r, so Newton's method from a float estimate
    converges (quadratically) to the root; bisection on the same function is the fallback
    should it ever fail to settle.
    """
    assert principal_fen > 0, principal_fen
    if sum(payments_fen) <= principal_fen:
        return Decimal(0)
    with localcontext() as context:
        context.prec = 50
        principal = Decimal(principal_fen)
        payments = [Decimal(p) for p in payments_fen]

        def value_and_slope(rate: Decimal) -> tuple[Decimal, Decimal]:
            factor = 1 / (1 + rate)
            discount, value, slope = Decimal(1), Decimal(0), Decimal(0)
            for k, payment in enumerate(payments, start=1):
                discount *= factor
                value += payment * discount
                slope -= k * payment * discount * factor
            return value - principal, slope

        rate = Decimal(repr(_float_root(principal_fen, payments_fen)))
        for _ in range(_NEWTON_ITERATIONS):
            gap, slope = value_and_slope(rate)
            step = gap / slope
            rate -= step
            if abs(step) < _SETTLED:
                return (12 * rate).quantize(_APR_PLACES)
        low, high = Decimal(0), Decimal(1)  # not reached for any real plan; kept for safety
        for _ in range(_BISECTION_ITERATIONS):
            middle = (low + high) / 2
            low, high = (middle, high) if value_and_slope(middle)[0] > 0 else (low, middle)
        return (12 * (low + high) / 2).quantize(_APR_PLACES)


def _float_root(principal_fen: int, payments_fen: list[int]) -> float:
    """The monthly rate to about 1e-12, by bisection: Newton's starting point."""
    low, high = 0.0, 1.0
    for _ in range(40):
        middle = (low + high) / 2
        value = sum(p / (1 + middle) ** k for k, p in enumerate(payments_fen, start=1))
        low, high = (middle, high) if value > principal_fen else (low, middle)
    return (low + high) / 2
