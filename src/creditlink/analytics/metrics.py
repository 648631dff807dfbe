"""Portfolio figures of the twin, defined as in ../shared/docs/TWIN.md, from the additive
figures its partitions report (`simulation.twin.engine`).

Partitions are merged first (sums, histograms, transition matrices), so the figures do not
depend on how the customers were split or in what order the partitions ran.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

PRODUCTS = ("paylater", "loan")
BUCKETS = ("C", "M1", "M2", "M3", "M4+")
ROLLS = (("C", "M1"), ("M1", "M2"), ("M2", "M3"))
INCOME = ("interest_income", "fee_income", "penalty_income")
SCORE_EDGES = list(range(300, 901, 25))
_LABELS = ("month", "end")


def _add(into: dict[str, Any], other: Mapping[str, Any]) -> None:
    """Add nested dicts of numbers (and lists of numbers) key by key."""
    for key, value in other.items():
        if key in _LABELS:  # which month it is, not an amount: the same in every partition
            assert into.get(key, value) == value, (key, into.get(key), value)
            into[key] = value
        elif isinstance(value, Mapping):
            _add(into.setdefault(key, {}), value)
        elif isinstance(value, list):
            have = into.setdefault(key, [0] * len(value))
            into[key] = [a + b for a, b in zip(have, value, strict=True)]
        elif isinstance(value, bool):
            into[key] = into.get(key, True) and value
        elif isinstance(value, int | float):
            into[key] = into.get(key, 0) + value
        else:
            into[key] = value


def merge(partitions: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One policy's partitions added up."""
    merged: dict[str, Any] = {"months": []}
    for part in partitions:
        for i, month in enumerate(part["months"]):
            if i == len(merged["months"]):
                merged["months"].append({})
            _add(merged["months"][i], month)
        for key in ("requests", "transitions", "vintage_sizes", "vintage_first_30"):
            _add(merged.setdefault(key, {}), part[key])
        for key in ("score_hist", "late", "ecl", "statement_payments"):
            _add(merged.setdefault(key, {}), part[key])
        merged.setdefault("ledgers", {}).update(part["ledgers"])
        merged.setdefault("model_scores", {}).update(part["model_scores"])
        merged.setdefault("first_30", {}).update(part["first_30"])
    return merged


def _rate(part: float, whole: float) -> float | None:
    return round(part / whole, 6) if whole else None


def _product_month(month: Mapping[str, Any], product: str) -> dict[str, Any]:
    balance = month["balance"][product]
    flows = month["flows"][product]
    requests = month["requests"]
    ops = ("purchase", "convert_installments") if product == "paylater" else ("draw_loan",)
    requested = sum(sum(requests.get(op, {}).values()) for op in ops)
    approved = sum(requests.get(op, {}).get("APPROVE", 0) for op in ops)
    return {
        "balance_fen": balance,
        "limit_fen": month["limit"][product],
        "utilisation": _rate(balance, month["limit"][product]),
        "accounts": month["accounts"][product],
        "buckets": month["buckets"][product],
        "rate_30_plus": _rate(month["over_30"][product], balance),
        "rate_90_plus": _rate(month["over_90"][product], balance),
        "rate_30_plus_count": _rate(month["count_30"][product], month["accounts"][product]),
        # TWIN.md: a loss is principal written off less recoveries; the write-off expense
        # also holds interest, fees and penalty written off, which were never lent.
        "written_off_fen": flows["principal_written_off"],
        "write_off_expense_fen": flows["write_off_expense"],
        "recovered_fen": flows["recovery_income"],
        "revenue_fen": sum(flows[name] for name in INCOME),
        "requested": requested,
        "approved": approved,
    }


def _joint(
    paylater: Mapping[str, Any], loan: Mapping[str, Any], siloed: bool, month: Mapping[str, Any]
) -> dict[str, Any]:
    balance = paylater["balance_fen"] + loan["balance_fen"]
    # A joint limit exists only where the policy has one; siloed credit is the two caps.
    limit = paylater["limit_fen"] + loan["limit_fen"] if siloed else month.get("joint_limit", 0)
    buckets = {b: paylater["buckets"][b] + loan["buckets"][b] for b in BUCKETS}
    over_30 = month["over_30"]["paylater"] + month["over_30"]["loan"]
    over_90 = month["over_90"]["paylater"] + month["over_90"]["loan"]
    accounts = paylater["accounts"] + loan["accounts"]
    return {
        "balance_fen": balance,
        "limit_fen": limit,
        "utilisation": _rate(balance, limit),
        "accounts": accounts,
        "buckets": buckets,
        "rate_30_plus": _rate(over_30, balance),
        "rate_90_plus": _rate(over_90, balance),
        "rate_30_plus_count": _rate(
            month["count_30"]["paylater"] + month["count_30"]["loan"], accounts
        ),
        "written_off_fen": paylater["written_off_fen"] + loan["written_off_fen"],
        "write_off_expense_fen": paylater["write_off_expense_fen"] + loan["write_off_expense_fen"],
        "recovered_fen": paylater["recovered_fen"] + loan["recovered_fen"],
        "revenue_fen": paylater["revenue_fen"] + loan["revenue_fen"],
        "requested": paylater["requested"] + loan["requested"],
        "approved": paylater["approved"] + loan["approved"],
    }


def auc_ks(scores: Iterable[tuple[float, int]]) -> tuple[float | None, float | None]:
    """AUC and KS of a score where a higher score means safer (bad = 1)."""
    pairs = sorted(scores)
    bads = sum(y for _, y in pairs)
    goods = len(pairs) - bads
    if not bads or not goods:
        return None, None
    # AUC: probability a random bad scores lower than a random good (ties count half).
    rank_sum, i = 0.0, 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        average_rank = (i + j + 1) / 2
        rank_sum += average_rank * sum(1 for k in range(i, j) if pairs[k][1] == 0)
        i = j
    auc = (rank_sum - goods * (goods + 1) / 2) / (goods * bads)
    ks, seen_bad, seen_good = 0.0, 0, 0
    i = 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            seen_bad += pairs[j][1]
            seen_good += 1 - pairs[j][1]
            j += 1
        ks = max(ks, abs(seen_bad / bads - seen_good / goods))
        i = j
    return round(auc, 4), round(ks, 4)


def psi(expected: Sequence[int], actual: Sequence[int]) -> float | None:
    import math

    total_e, total_a = sum(expected), sum(actual)
    if not total_e or not total_a:
        return None
    value = 0.0
    for e, a in zip(expected, actual, strict=True):
        pe, pa = max(e / total_e, 1e-4), max(a / total_a, 1e-4)
        value += (pa - pe) * math.log(pa / pe)
    return round(value, 4)


# Fewer bads than this, and AUC and KS say more about a few customers than about the score
# (with one bad, AUC is 0 or 1): they are not computed.
MIN_BADS = 20


def policy_figures(
    merged: Mapping[str, Any], *, siloed: bool, months: int, model_month: int, start: str
) -> dict[str, Any]:
    """The figures of TWIN.md for one policy."""
    monthly = []
    for month in merged["months"]:
        paylater = _product_month(month, "paylater")
        loan = _product_month(month, "loan")
        monthly.append(
            {
                "month": month["month"],
                "end": month["end"],
                "paylater": paylater,
                "loan": loan,
                "joint": _joint(paylater, loan, siloed, month),
            }
        )
    roll_rates: dict[str, list[dict[str, Any]]] = {}
    for product in PRODUCTS:
        rows = []
        for month_key, matrix in sorted(
            merged["transitions"].get(product, {}).items(), key=lambda kv: int(kv[0])
        ):
            row: dict[str, Any] = {"month": int(month_key)}
            for before, after in ROLLS:
                row[f"{before}->{after}"] = _rate(
                    matrix.get(f"{before}->{after}", 0), matrix.get(f"{before}->*", 0)
                )
            rows.append(row)
        roll_rates[product] = rows
    vintages: dict[str, list[float]] = {}
    year, month_no = int(start[:4]), int(start[5:7])
    for vintage_key, size in sorted(merged["vintage_sizes"].items(), key=lambda kv: int(kv[0])):
        v = int(vintage_key)
        firsts = merged["vintage_first_30"].get(vintage_key, {})
        curve, ever = [], 0
        for on_book in range(months - v):
            ever += firsts.get(str(on_book), 0)
            curve.append(round(ever / size, 6) if size else 0.0)
        label_month = (month_no - 1 + v) % 12 + 1
        label_year = year + (month_no - 1 + v) // 12
        vintages[f"{label_year}-{label_month:02d}"] = curve
    late = merged["late"]
    customers = late.get("customers", 0)
    contagion = {}
    for a, b in (("paylater", "loan"), ("loan", "paylater")):
        unconditional = _rate(late.get(b, 0), customers)
        conditional = _rate(late.get("both", 0), late.get(a, 0))
        lift = (
            round(conditional / unconditional, 4)
            if conditional is not None and unconditional
            else None
        )
        contagion[f"{a}->{b}"] = {
            "conditional": conditional,
            "unconditional": unconditional,
            "lift": lift,
        }
    ecl = {stage: dict(v) for stage, v in sorted(merged["ecl"].items())}
    # The outcome window: the six months after scoring, as far as the run goes.
    window = range(model_month + 1, min(model_month + 6, months) + 1)
    pairs = [
        (float(points), 1 if merged["first_30"].get(cid) in window else 0)
        for cid, points in sorted(merged["model_scores"].items())
        if merged["first_30"].get(cid) is None or merged["first_30"][cid] > model_month
    ]
    bads = sum(y for _, y in pairs)
    auc, ks = auc_ks(pairs) if bads >= MIN_BADS else (None, None)
    hist = merged["score_hist"]
    last = str(months)
    quality = {
        "auc": auc,
        "ks": ks,
        "psi": psi(hist[str(model_month)], hist[last])
        if str(model_month) in hist and last in hist
        else None,
        "scored_at_month": model_month,
        "outcome": f"30+ DPD in months {window.start} to {window.stop - 1}"
        if window
        else "none: the run ends in the month scored",
        "customers": len(pairs),
        "bads": bads,
    }
    written = sum(m["joint"]["written_off_fen"] for m in monthly)
    recovered = sum(m["joint"]["recovered_fen"] for m in monthly)
    average_balance = sum(m["joint"]["balance_fen"] for m in monthly) / max(1, len(monthly))
    years = len(monthly) / 12
    approvals = {
        op: {"requested": sum(c.values()), "approved": c.get("APPROVE", 0)}
        for op, c in sorted(merged["requests"].items())
    }
    return {
        "monthly": monthly,
        "roll_rates": roll_rates,
        "vintages": vintages,
        "contagion": contagion,
        "ecl": {
            "stages": ecl,
            "total_ecl_fen": sum(v["ecl_fen"] for v in ecl.values()),
        },
        "scores": {
            "edges": SCORE_EDGES,
            "counts_by_month": {k: hist[k] for k in sorted(hist, key=int)},
        },
        "model_quality": quality,
        "losses": {
            "written_off_fen": written,  # principal
            "write_off_expense_fen": sum(m["joint"]["write_off_expense_fen"] for m in monthly),
            "recovered_fen": recovered,
            "loss_fen": written - recovered,
            "loss_rate": _rate((written - recovered) / years, average_balance) if years else None,
        },
        "approvals": approvals,
        "statement_payments": dict(sorted(merged.get("statement_payments", {}).items())),
    }


def headline(
    policies: Mapping[str, Mapping[str, Any]], *, shock_month: int | None
) -> dict[str, Any]:
    """Loss rate, 30+ rate, approval rate and revenue per policy, before and after the shock
    (and over the whole run)."""
    rows = []
    for name, figures in policies.items():
        monthly = figures["monthly"]
        periods: dict[str, list[Mapping[str, Any]]] = {"all": monthly}
        if shock_month is not None:
            periods["before_shock"] = [m for m in monthly if m["month"] < shock_month]
            periods["after_shock"] = [m for m in monthly if m["month"] >= shock_month]
        for period, months in periods.items():
            if not months:
                continue
            joint = [m["joint"] for m in months]
            loss = sum(j["written_off_fen"] - j["recovered_fen"] for j in joint)
            average = sum(j["balance_fen"] for j in joint) / len(joint)
            over_30 = [j["rate_30_plus"] for j in joint if j["rate_30_plus"] is not None]
            requested = sum(j["requested"] for j in joint)
            rows.append(
                {
                    "policy": name,
                    "period": period,
                    "loss_rate": _rate(loss * 12 / len(joint), average),
                    "rate_30_plus": round(sum(over_30) / len(over_30), 6) if over_30 else None,
                    "approval_rate": _rate(sum(j["approved"] for j in joint), requested),
                    "revenue_fen": sum(j["revenue_fen"] for j in joint),
                }
            )
    return {"rows": rows}


def calibration(figures: Mapping[str, Any], *, shock_month: int | None) -> dict[str, Any]:
    """The figures TWIN.md asks a reader to judge the baseline by."""
    normal = [m for m in figures["monthly"] if shock_month is None or m["month"] < shock_month]
    rates = [m["joint"]["rate_30_plus"] for m in normal if m["joint"]["rate_30_plus"] is not None]
    utilisation = [
        m["paylater"]["utilisation"] for m in normal if m["paylater"]["utilisation"] is not None
    ]
    payments = figures.get("statement_payments", {})
    return {
        "rate_30_plus_normal_months": round(sum(rates) / len(rates), 6) if rates else None,
        "statements_paid_in_full": _rate(payments.get("full", 0), sum(payments.values())),
        "paylater_utilisation": round(sum(utilisation) / len(utilisation), 6)
        if utilisation
        else None,
    }
