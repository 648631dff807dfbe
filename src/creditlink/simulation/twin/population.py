"""The twin's customers, drawn once from the seed (TWIN.md, Behaviour).

Every exogenous random number a customer will ever use is drawn here or from the customer's
own stream (`stream()`), never from a shared one, so that policies see the same customers
and the same shocks, and a customer's draws do not depend on which partition runs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

CATEGORIES = (
    "retail",
    "travel",
    "electronics",
    "grocery",
    "utilities",
    "pharmacy",
    "transport",
    "education",
)
KIND_NORMAL, KIND_CASH_OUT, KIND_FRAUD = "normal", "cash_out", "fraud"


@dataclass(frozen=True, slots=True)
class Person:
    index: int
    customer_id: str
    national_id: str
    income_fen: int  # declared monthly income
    irregular: bool  # income varies month to month
    quality: float  # latent credit quality q ~ N(0, 1); lower misses more
    purchases_per_month: float
    basket_fen: int  # typical purchase
    category_weights: tuple[float, ...]
    installment_taste: float  # chance to convert a large purchase
    loan_need_per_month: float  # chance of a cash need a loan would meet
    savings_months: float  # buffer against shocks, in months of income
    shock_rate: float  # idiosyncratic shocks (job loss, medical bill) per month
    kind: str
    onboard_month: int  # 0-based month of the run


def _national_id(index: int) -> str:
    from creditlink.domain.customer import national_id_check_character

    birth = date(1960, 1, 1).toordinal() + (index * 7919) % (40 * 365)
    born = date.fromordinal(birth)
    first_17 = f"110105{born:%Y%m%d}{index % 1000:03d}"
    return first_17 + national_id_check_character(first_17)


def draw_population(customers: int, *, seed: int, months: int) -> list[Person]:
    """`customers` people; the same seed gives the same people."""
    rng = np.random.default_rng([seed, 1])
    income = np.clip(rng.lognormal(np.log(8_000), 0.5, customers), 2_000, 80_000)
    quality = rng.standard_normal(customers)
    kinds = rng.random(customers)
    onboard_late = rng.random(customers) < 0.5
    onboard_month = np.where(onboard_late, rng.integers(1, max(2, min(6, months)), customers), 0)
    people = []
    for i in range(customers):
        kind = KIND_NORMAL
        if kinds[i] < 0.01:
            kind = KIND_CASH_OUT
        elif kinds[i] < 0.015:
            kind = KIND_FRAUD
        weights = rng.dirichlet(np.ones(len(CATEGORIES)) * 0.8)
        people.append(
            Person(
                index=i,
                customer_id=f"t{i:06d}",
                national_id=_national_id(i),
                income_fen=round(income[i]) * 100,
                irregular=bool(rng.random() < 0.05),
                quality=float(quality[i]),
                purchases_per_month=float(rng.gamma(2.5, 1.2)),
                basket_fen=round(float(income[i]) * rng.uniform(0.06, 0.16)) * 100,
                category_weights=tuple(float(w) for w in weights),
                installment_taste=float(rng.beta(1.0, 6.0)),
                loan_need_per_month=float(rng.beta(1.2, 12.0)),
                savings_months=float(rng.exponential(1.0)),
                shock_rate=float(rng.uniform(0.005, 0.02)),
                kind=kind,
                onboard_month=int(onboard_month[i]),
            )
        )
    return people


def stream(seed: int, person: Person, month: int) -> np.random.Generator:
    """The person's own random numbers for one month of the run."""
    return np.random.default_rng([seed, 2, person.index, month])
