"""Turning use-case results into plain data: the JSON that `--json` prints and the rows of
the tables people read. Amounts are decimal strings with two places (DOMAIN.md §1)."""

from __future__ import annotations

from datetime import date
from typing import Any

from creditlink.application.customers import CustomerView
from creditlink.application.ledger import LedgerReport
from creditlink.application.queries import limit_figures
from creditlink.domain.limits import JointLimit
from creditlink.domain.money import format_fen, format_rate


def limit_data(limit: JointLimit, on: date) -> dict[str, Any]:
    temporary, pending = limit.temporary, limit.pending
    return {
        **limit_figures(limit, on),
        "joint_utilisation": format_rate(limit.joint_utilisation)
        if limit.joint_limit_fen
        else None,
        "temporary_limit": None
        if temporary is None
        else {
            "amount": format_fen(temporary.amount_fen),
            "from": temporary.granted_on.isoformat(),
            "expires_on": temporary.expires_on.isoformat(),
            "in_force": temporary.valid_on(on),
        },
        "pending_increase": None
        if pending is None
        else {
            "requested_on": pending.requested_on.isoformat(),
            "effective_on": pending.effective_on.isoformat(),
            **{
                name: format_fen(value)
                for name, value in (
                    ("joint_limit", pending.joint_limit_fen),
                    ("cap_paylater", pending.cap_paylater_fen),
                    ("cap_loan", pending.cap_loan_fen),
                )
                if value is not None
            },
        },
    }


def customer_data(view: CustomerView) -> dict[str, Any]:
    customer = view.customer
    return {
        "customer_id": customer.customer_id,
        "name": customer.name,
        "national_id": customer.national_id_masked,
        "mobile": customer.mobile_masked,
        "onboarded_on": customer.onboarded_on.isoformat(),
        "as_of": view.on.isoformat(),
        "alert_level": view.limit.level.value,
        "limits": limit_data(view.limit, view.on),
        "loan_daily_rate": format_rate(customer.loan_daily_rate),
        "pricing_pinned": customer.pricing_pinned,
        "score": None
        if customer.score is None
        else {
            "points": customer.score.points,
            "grade": customer.score.grade,
            "model_version": customer.score.model_version,
            "reasons": list(customer.score.reasons),
            "scored_on": customer.score.scored_on.isoformat(),
        },
    }


def report_data(report: LedgerReport) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "entries": report.entries,
        "balanced": report.balanced,
        "unbalanced_entries": report.unbalanced_entries,
        "trial_balance": format_fen(report.trial_balance_fen),
        "chain_ok": report.chain_ok,
        "account_balances_ok": report.balances_ok,
        "receivables_ok": report.receivables_ok,
        "accounts": {name: format_fen(value) for name, value in report.accounts.items()},
        "problem_count": report.problem_count,
        "problems": [
            {"check": p.check, "subject": p.subject, "message": p.message} for p in report.problems
        ],
    }
