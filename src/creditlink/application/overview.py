"""The portfolio at a glance, as of a date: what the dashboard's overview and the API's
`GET /portfolio` show.

Figures follow TWIN.md "Figures":

- a product's **balance** is the principal still owed: PayLater's revolving lines and plans
  (`principal_outstanding_fen`), each active loan's unpaid principal; written-off accounts
  carry no balance and are counted apart;
- **DPD buckets** hold the accounts with a balance or days past due, by the days past due on
  `on`: current (0), 1–29, 30–59, 60–89 and 90+, so that "30+" and "90+" are the sums of the
  buckets from 30 and from 90 (the delinquency rates' definitions). These are reporting
  bands; the roll buckets of `domain.delinquency` (M1 = 1–30, …) are a different cut;
- **utilisation** is usage over limits summed across customers (usage as the joint limit
  records it, limits as of `on`, pending increases applied when due): per product over its
  caps, and joint over the joint limits (temporary limits not counted, as in
  `JointLimit.joint_utilisation`);
- **alerts** on the queue by status (`open`, `escalated`) and linkage level; recoveries apart;
- **incidents** still open (the tightened parameter set in force).

Everything is JSON-ready: amounts in integer fen with their text (`format_fen`), ratios as
decimal strings with four places (None where the denominator is 0).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date
from typing import Any

from creditlink.application.ports import UnitOfWork
from creditlink.domain.limits import AlertLevel
from creditlink.domain.loan.loan import LoanStatus
from creditlink.domain.money import format_fen

PRODUCTS = ("paylater", "loan")
# (name, lowest DPD): an account falls in the last band whose lowest DPD it reaches.
DPD_BANDS: tuple[tuple[str, int], ...] = (
    ("current", 0),
    ("1-29", 1),
    ("30-59", 30),
    ("60-89", 60),
    ("90+", 90),
)
LEVELS = tuple(level.value for level in AlertLevel if level is not AlertLevel.NONE)
QUEUE_STATUSES = ("open", "escalated")
BATCH = 1000


def dpd_band(dpd: int) -> str:
    """The reporting band of `dpd` days past due."""
    assert dpd >= 0, dpd
    name = DPD_BANDS[0][0]
    for band, lowest in DPD_BANDS:
        if dpd >= lowest:
            name = band
    return name


def ratio(part: int, whole: int) -> str | None:
    """`part / whole` as a decimal string with four places; None when `whole` is 0."""
    return f"{part / whole:.4f}" if whole else None


class _Product:
    """One product's additive figures."""

    def __init__(self) -> None:
        self.accounts = 0
        self.balance_fen = 0
        self.written_off = 0
        self.bands = {name: {"accounts": 0, "balance_fen": 0} for name, _ in DPD_BANDS}
        self.limit_fen = 0
        self.used_fen = 0

    def add(self, *, balance_fen: int, dpd: int, written_off: bool) -> None:
        if written_off:
            self.written_off += 1
            return
        if balance_fen <= 0 and dpd == 0:
            return  # nothing owed: not an account on the book today
        self.accounts += 1
        self.balance_fen += balance_fen
        band = self.bands[dpd_band(dpd)]
        band["accounts"] += 1
        band["balance_fen"] += balance_fen

    def to_dict(self) -> dict[str, Any]:
        over_30 = sum(self.bands[name]["balance_fen"] for name in ("30-59", "60-89", "90+"))
        over_90 = self.bands["90+"]["balance_fen"]
        return {
            "accounts": self.accounts,
            "balance_fen": self.balance_fen,
            "balance": format_fen(self.balance_fen),
            "dpd_buckets": {
                name: {**cell, "balance": format_fen(cell["balance_fen"])}
                for name, cell in self.bands.items()
            },
            "rate_30_plus": ratio(over_30, self.balance_fen),
            "rate_90_plus": ratio(over_90, self.balance_fen),
            "written_off_accounts": self.written_off,
            "limit_fen": self.limit_fen,
            "used_fen": self.used_fen,
            "utilisation": ratio(self.used_fen, self.limit_fen),
        }


def _by_level(counts: Mapping[str, int]) -> dict[str, Any]:
    return {
        "total": sum(counts.values()),
        "by_level": {level: counts.get(level, 0) for level in LEVELS},
    }


def portfolio_overview(uow: UnitOfWork, *, on: date) -> dict[str, Any]:
    """Customers, balances and DPD buckets per product, utilisation, the alert queue by level
    and open incidents, as of `on` (see the module's docstring for each figure)."""
    products = {product: _Product() for product in PRODUCTS}
    joint_limit_fen = joint_used_fen = customers = 0
    queue: dict[str, Counter[str]] = {status: Counter() for status in QUEUE_STATUSES}
    recoveries = 0
    with uow:
        after = ""
        while True:
            ids = uow.customers.ids(after=after, limit=BATCH)
            if not ids:
                break
            for customer_id in ids:
                limit = uow.limits.get(customer_id).apply_due_increase(on=on)
                customers += 1
                joint_limit_fen += limit.joint_limit_fen
                joint_used_fen += limit.used_fen
                products["paylater"].limit_fen += limit.cap_paylater_fen
                products["paylater"].used_fen += limit.used_paylater_fen
                products["loan"].limit_fen += limit.cap_loan_fen
                products["loan"].used_fen += limit.used_loan_fen
            after = ids[-1]
        for account in uow.paylater.all(read_only=True):
            off = account.written_off
            products["paylater"].add(
                balance_fen=0 if off else account.principal_outstanding_fen(),
                dpd=0 if off else account.dpd(on),
                written_off=off,
            )
        for loan in uow.loans.all(read_only=True):
            off = loan.status is LoanStatus.WRITTEN_OFF
            if not (loan.active or off):
                continue  # repaid
            products["loan"].add(
                balance_fen=0 if off else loan.outstanding_principal_fen(),
                dpd=0 if off else loan.dpd(on),
                written_off=off,
            )
        for (kind, status, level), count in uow.alerts.tally().items():
            if status not in QUEUE_STATUSES:
                continue
            if kind == "alert":
                queue[status][level] += count
            else:
                recoveries += count
        incidents = [i for i in uow.portfolio.incidents() if i.open]
    balance_fen = sum(p.balance_fen for p in products.values())
    return {
        "on": on.isoformat(),
        "customers": customers,
        "balance_fen": balance_fen,
        "balance": format_fen(balance_fen),
        "products": {name: figures.to_dict() for name, figures in products.items()},
        "utilisation": {
            "joint_limit_fen": joint_limit_fen,
            "used_fen": joint_used_fen,
            "joint": ratio(joint_used_fen, joint_limit_fen),
            **{name: ratio(p.used_fen, p.limit_fen) for name, p in products.items()},
        },
        "alerts": {
            **{status: _by_level(queue[status]) for status in QUEUE_STATUSES},
            "recoveries_to_acknowledge": recoveries,
        },
        "incidents": {
            "open": len(incidents),
            "open_ids": [i.incident_id for i in incidents],
        },
    }
