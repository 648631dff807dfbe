"""A `metrics.json` as the twin writes it, built from formulas so that every figure is plausible.

Deterministic on purpose (no random draws): the report's tests compare bytes. The shape is
the schema the twin writes; the numbers follow a calm book for eight months and a macro shock
from month 9, the siloed policy a little worse on losses and a little better on approvals, so
that a chart that swapped its series would show it.
"""

from __future__ import annotations

from typing import Any

MONTHS = 12
SHOCK_MONTH = 9
POLICIES = ("linked", "siloed")
PRODUCTS = ("paylater", "loan")
SCORE_EDGES = list(range(300, 851, 50))
MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _stress(month: int) -> float:
    """1 in normal months, rising to about 2.2 under the shock."""
    return 1.0 if month < SHOCK_MONTH else 1.0 + 0.3 * (month - SHOCK_MONTH + 1)


def _product_month(policy: str, product: str, month: int) -> dict[str, Any]:
    worse = 1.0 if policy == "linked" else 1.25
    size = 1.0 if product == "paylater" else 1.6
    limit_fen = int(4_000_000_000 * size)
    utilisation = (0.34 + 0.008 * month) if product == "paylater" else (0.22 + 0.006 * month)
    balance_fen = int(limit_fen * utilisation)
    late = 0.018 * worse * _stress(month)
    buckets = {
        "C": int(balance_fen * (1 - late * 1.6)),
        "M1": int(balance_fen * late * 0.6),
        "M2": int(balance_fen * late * 0.45),
        "M3": int(balance_fen * late * 0.3),
        "M4+": int(balance_fen * late * 0.25),
    }
    requested = 9_000 + 40 * month
    approved = int(requested * (0.93 if policy == "linked" else 0.95) / _stress(month) ** 0.2)
    return {
        "balance_fen": balance_fen,
        "limit_fen": limit_fen,
        "utilisation": round(utilisation, 4),
        "accounts": 6_000 + 150 * month,
        "buckets": buckets,
        "rate_30_plus": round(late, 5),
        "rate_90_plus": round(late * 0.25, 5),
        "rate_30_plus_count": round(late * 1.3, 5),
        "written_off_fen": 0 if month < 4 else int(balance_fen * late * 0.08),
        "recovered_fen": 0 if month < 5 else int(balance_fen * late * 0.01),
        "revenue_fen": int(balance_fen * 0.012),
        "requested": requested,
        "approved": approved,
    }


def _joint(parts: list[dict[str, Any]]) -> dict[str, Any]:
    joint: dict[str, Any] = {}
    for key in (
        "balance_fen",
        "limit_fen",
        "accounts",
        "written_off_fen",
        "recovered_fen",
        "revenue_fen",
        "requested",
        "approved",
    ):
        joint[key] = sum(p[key] for p in parts)
    joint["utilisation"] = round(joint["balance_fen"] / joint["limit_fen"], 4)
    joint["buckets"] = {b: sum(p["buckets"][b] for p in parts) for b in parts[0]["buckets"]}
    for key in ("rate_30_plus", "rate_90_plus", "rate_30_plus_count"):
        joint[key] = round(sum(p[key] * p["balance_fen"] for p in parts) / joint["balance_fen"], 5)
    return joint


def _policy(policy: str) -> dict[str, Any]:
    worse = 1.0 if policy == "linked" else 1.25
    monthly: list[dict[str, Any]] = []
    for month in range(1, MONTHS + 1):
        parts = {product: _product_month(policy, product, month) for product in PRODUCTS}
        monthly.append(
            {
                "month": month,
                "end": f"2027-{month:02d}-{MONTH_DAYS[month - 1]}",
                **parts,
                "joint": _joint(list(parts.values())),
            }
        )
    roll_rates = {
        product: [
            {
                "month": month,
                "C->M1": round(0.012 * worse * _stress(month), 4),
                "M1->M2": round(0.35 * worse * _stress(month) ** 0.5, 4),
                # No balance reached M2 in the first months: not computable, so null.
                "M2->M3": None if month < 4 else round(0.55 * _stress(month) ** 0.3, 4),
            }
            for month in range(2, MONTHS + 1)
        ]
        for product in PRODUCTS
    }
    vintages = {
        f"2027-{v:02d}": [
            round(min(0.2, 0.004 * worse * mob * _stress(v + mob)), 4) if mob else 0.0
            for mob in range(MONTHS - v + 1)
        ]
        for v in range(1, MONTHS + 1)
    }
    centre = 5 if policy == "linked" else 6
    counts = {
        str(m): [
            max(5, 1_400 - 120 * (i - centre - (m == 12)) ** 2) for i in range(len(SCORE_EDGES) - 1)
        ]
        for m in (3, 12)
    }
    written_off = sum(m[p]["written_off_fen"] for m in monthly for p in PRODUCTS)
    recovered = sum(m[p]["recovered_fen"] for m in monthly for p in PRODUCTS)
    return {
        "monthly": monthly,
        "roll_rates": roll_rates,
        "vintages": vintages,
        "contagion": {
            "paylater->loan": {
                "conditional": 0.31 * worse,
                "unconditional": 0.06,
                "lift": round(0.31 * worse / 0.06, 4),
            },
            "loan->paylater": {
                "conditional": 0.24 * worse,
                "unconditional": 0.05,
                "lift": round(0.24 * worse / 0.05, 4),
            },
        },
        "ecl": {
            "stages": {
                "1": {"accounts": 9_400, "ead_fen": 3_900_000_000, "ecl_fen": 46_800_000},
                "2": {"accounts": 420, "ead_fen": 190_000_000, "ecl_fen": int(41_000_000 * worse)},
                "3": {"accounts": 180, "ead_fen": 75_000_000, "ecl_fen": 63_750_000},
            },
            "total_ecl_fen": 46_800_000 + int(41_000_000 * worse) + 63_750_000,
        },
        "scores": {"edges": SCORE_EDGES, "counts_by_month": counts},
        "model_quality": {"auc": 0.781 if policy == "linked" else 0.742, "ks": 0.41, "psi": 0.064},
        "losses": {
            "written_off_fen": written_off,
            "recovered_fen": recovered,
            "loss_fen": written_off - recovered,
            "loss_rate": round(0.021 * worse, 5),
        },
        "approvals": {
            "purchase": {"requested": 61_000, "approved": 57_100},
            "draw_loan": {"requested": 8_200, "approved": 6_900 if policy == "linked" else 7_300},
            "convert_installments": {"requested": 3_100, "approved": 2_950},
        },
    }


def _headline_rows() -> list[dict[str, Any]]:
    rows = []
    for policy in POLICIES:
        worse = 1.0 if policy == "linked" else 1.25
        for period, stress in (("before_shock", 1.0), ("after_shock", 1.9), ("all", 1.3)):
            rows.append(
                {
                    "policy": policy,
                    "period": period,
                    "loss_rate": round(0.021 * worse * stress, 5),
                    "rate_30_plus": round(0.017 * worse * stress, 5),
                    "approval_rate": round((0.93 if policy == "linked" else 0.95) / stress**0.2, 4),
                    "revenue_fen": int(123_456_789 * (1 if period == "all" else 0.6) / worse**0.1),
                }
            )
    return rows


def build_metrics() -> dict[str, Any]:
    """A fresh metrics document (callers may mutate it)."""
    return {
        "config": {
            "customers": 10_000,
            "months": MONTHS,
            "seed": 7,
            "shock_month": SHOCK_MONTH,
            "start": "2027-01-01",
            "policies": list(POLICIES),
        },
        "calibration": {
            "linked": {
                "rate_30_plus_normal_months": 0.018,
                "paylater_utilisation": 0.38,
                "statements_paid_in_full": 0.71,
            }
        },
        "headline": {"rows": _headline_rows()},
        "policies": {policy: _policy(policy) for policy in POLICIES},
        "ledger": {
            "linked": {"verified": True, "entries": 1_284_337},
            "siloed/paylater": {"verified": True, "entries": 803_112},
            "siloed/loan": {"verified": True, "entries": 402_954},
        },
    }
