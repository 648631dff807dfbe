"""The result JSON of a scenario (SCENARIOS.md), built from the same queries as every edge."""

from __future__ import annotations

from typing import Any

from creditlink.application.ledger import LedgerReport
from creditlink.application.ports import AlertRecord, DecisionRecord
from creditlink.application.queries import CustomerState, limit_figures
from creditlink.application.scoring import RULES_ONLY
from creditlink.domain.loan.loan import Loan
from creditlink.domain.money import format_fen, format_rate
from creditlink.domain.paylater.account import PayLaterAccount


def customer_json(state: CustomerState) -> dict[str, Any]:
    limit, on = state.limit, state.on
    return {
        "limits": limit_figures(limit, on),
        "dpd": state.dpd,
        "bucket": state.bucket.value,
        "alert_level": limit.level.value,
        # null where no model ran: the rules-only fallback grades but does not score
        "score": state.customer.score.points
        if state.customer.score and state.customer.score.model_version != RULES_ONLY
        else None,
        "grade": state.customer.score.grade if state.customer.score else None,
        "score_reasons": list(state.customer.score.reasons) if state.customer.score else [],
        "credit_balance": format_fen(state.credit_balance_fen),
        "paylater": paylater_json(state.paylater),
        "loans": {loan.ref: loan_json(loan, state) for loan in state.loans},
    }


def loan_json(loan: Loan, state: CustomerState) -> dict[str, Any]:
    on = state.on
    charges = [state.reported_charges(loan, i) for i in loan.installments]
    return {
        "status": loan.status.value,
        "principal": format_fen(loan.principal_fen),
        "method": loan.method.value,
        "term_months": loan.term_months,
        "daily_rate": format_rate(loan.daily_rate),
        "apr": format_rate(loan.apr),
        "drawn_on": loan.drawn_on.isoformat(),
        "outstanding_principal": format_fen(loan.outstanding_principal_fen()),
        "dpd": loan.dpd(on),
        "principal_paid": format_fen(loan.principal_paid_fen()),
        "interest_paid": format_fen(loan.interest_paid_fen()),
        "penalty_paid": format_fen(loan.penalty_paid_fen()),
        "installments": [
            {
                "k": i.k,
                "due_date": i.due_date.isoformat(),
                "principal": format_fen(i.principal_fen),
                "interest": format_fen(interest),
                "penalty": format_fen(penalty),
                "paid": format_fen(i.paid_fen),
                "status": i.state(on).value,
            }
            for i, (interest, penalty) in zip(loan.installments, charges, strict=True)
        ],
    }


def paylater_json(account: PayLaterAccount) -> dict[str, Any]:
    return {
        "statement_day": account.statement_day,
        "status": account.status.value,
        "statements": [
            {
                "statement_date": s.statement_date.isoformat(),
                "due_date": s.due_date.isoformat(),
                "previous_balance": format_fen(s.previous_balance_fen),
                "purchases": format_fen(s.purchases_fen),
                "refunds": format_fen(s.refunds_fen),
                "installments_billed": format_fen(s.installments_billed_fen),
                "interest": format_fen(s.interest_fen),
                "payments": format_fen(s.payments_fen),
                "converted": format_fen(s.converted_fen),
                "new_balance": format_fen(s.new_balance_fen),
                "minimum_payment": format_fen(s.minimum_payment_fen),
                "paid_in_full": s.paid_in_full,
            }
            for s in account.statements
        ],
        "installment_plans": {
            plan.ref: {
                "periods": plan.periods,
                "principal": format_fen(plan.principal_fen),
                "fee": format_fen(plan.fee_fen),
                "apr": format_rate(plan.apr),
                "status": plan.status.value,
                "installments": [
                    {
                        "k": i.k,
                        "statement_date": i.statement_date.isoformat(),
                        "principal": format_fen(i.principal_fen),
                        "fee": format_fen(i.fee_fen),
                        "status": i.status.value,
                    }
                    for i in plan.installments
                ],
            }
            for plan in account.plans.values()
        },
    }


def decision_json(decision: DecisionRecord) -> dict[str, Any]:
    return {
        "on": decision.on.isoformat(),
        "customer": decision.customer_id,
        "op": decision.op,
        "ref": decision.ref,
        "outcome": decision.outcome,
        "reasons": list(decision.reasons),
        "parameter_version": decision.parameter_version,
        "model_version": decision.model_version,
    }


def ledger_json(report: LedgerReport) -> dict[str, Any]:
    return {
        "entries": report.entries,
        "balanced": report.balanced,
        "trial_balance": format_fen(report.trial_balance_fen),
        "chain_ok": report.chain_ok,
        "verified": report.ok,
    }


def alert_json(alert: AlertRecord) -> dict[str, Any]:
    return {
        "on": alert.on.isoformat(),
        "customer": alert.customer_id,
        "level": alert.level,
        "cause": alert.cause,
        "products": list(alert.products),
        "evidence": alert.evidence,
    }
