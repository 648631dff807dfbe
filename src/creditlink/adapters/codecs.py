"""Aggregates to and from plain JSON-ready dicts, for the stores that keep them as documents.

The PayLater account is one document per customer: its records change together under the
customer's lock, and the columns the close of day and the reports query (next wake date,
balances) are kept beside it. Its purchases are not in it: they are rows of their own, read
by ref or by date (`Purchases`), so that the document does not grow with every purchase.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from creditlink.domain.loan.loan import Loan, LoanInstallment, LoanStatus
from creditlink.domain.loan.schedule import Method
from creditlink.domain.paylater.account import PayLaterAccount
from creditlink.domain.paylater.records import (
    AccountStatus,
    Cycle,
    Installment,
    InstallmentStatus,
    Plan,
    PlanStatus,
    PrincipalLine,
    Purchases,
    Statement,
)

FORMAT_VERSION = 2  # 1 held the purchases too (SQL migration 0011 moved them out)


def _d(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text is not None else None


def _req(text: str) -> date:
    return date.fromisoformat(text)


def paylater_to_dict(account: PayLaterAccount) -> dict[str, Any]:
    """The account but its purchases, which a store keeps as rows of their own."""
    return {
        "v": FORMAT_VERSION,
        "customer_id": account.customer_id,
        "statement_day": account.statement_day,
        "opened_on": _d(account.opened_on),
        "status": account.status.value,
        "lines": [
            [line.ref, _d(line.on), line.amount_fen, line.outstanding_fen, _d(line.statement_date)]
            for line in account.lines
        ],
        "plans": [
            {
                "ref": plan.ref,
                "source": plan.source,
                "source_ref": plan.source_ref,
                "created_on": _d(plan.created_on),
                "periods": plan.periods,
                "principal": plan.principal_fen,
                "fee": plan.fee_fen,
                "fee_rate": str(plan.fee_rate),
                "apr": str(plan.apr),
                "status": plan.status.value,
                **({"absorbed": plan.absorbed} if plan.absorbed else {}),
                "installments": [
                    [
                        i.k,
                        _d(i.statement_date),
                        i.principal_fen,
                        i.fee_fen,
                        i.status.value,
                        i.principal_paid_fen,
                        i.fee_paid_fen,
                    ]
                    for i in plan.installments
                ],
            }
            for plan in account.plans.values()
        ],
        "statements": [
            [
                _d(s.statement_date),
                _d(s.due_date),
                s.previous_balance_fen,
                s.purchases_fen,
                s.refunds_fen,
                s.installments_billed_fen,
                s.interest_fen,
                s.payments_fen,
                s.converted_fen,
                s.new_balance_fen,
                s.minimum_payment_fen,
                s.minimum_own_fen,
                s.minimum_filled_fen,
                s.window_paid_fen,
                s.paid_since_fen,
                s.converted_after_fen,
                s.interest_due_fen,
                _d(s.minimum_met_on),
            ]
            for s in account.statements
        ],
        "cycle": [
            account.cycle.purchases_fen,
            account.cycle.refunds_fen,
            account.cycle.payments_fen,
            account.cycle.converted_fen,
            account.cycle.prebilled_interest_fen,
            account.cycle.activity,
        ],
        "credit_balance": account.credit_balance_fen,
        "accrued_interest": str(account.accrued_interest),
        "accrued_to": _d(account.accrued_to),
        "written_off_on": _d(account.written_off_on),
        "write_off_dpd": account.write_off_dpd,
        "recovered": account.recovered_fen,
        "refunded_on": _d(account.refunded_on),
    }


def paylater_from_dict(data: dict[str, Any], purchases: Purchases) -> PayLaterAccount:
    """The account in `data` (`paylater_to_dict`), holding `purchases`: a document has none."""
    assert data["v"] == FORMAT_VERSION, data["v"]
    plans = {}
    for item in data["plans"]:
        plans[item["ref"]] = Plan(
            ref=item["ref"],
            source=item["source"],
            source_ref=item["source_ref"],
            created_on=_req(item["created_on"]),
            periods=item["periods"],
            principal_fen=item["principal"],
            fee_fen=item["fee"],
            fee_rate=Decimal(item["fee_rate"]),
            apr=Decimal(item["apr"]),
            status=PlanStatus(item["status"]),
            absorbed=dict(item.get("absorbed", {})),
            installments=[
                Installment(
                    row[0], _req(row[1]), row[2], row[3], InstallmentStatus(row[4]), row[5], row[6]
                )
                for row in item["installments"]
            ],
        )
    statements = [
        Statement(
            statement_date=_req(row[0]),
            due_date=_req(row[1]),
            previous_balance_fen=row[2],
            purchases_fen=row[3],
            refunds_fen=row[4],
            installments_billed_fen=row[5],
            interest_fen=row[6],
            payments_fen=row[7],
            converted_fen=row[8],
            new_balance_fen=row[9],
            minimum_payment_fen=row[10],
            minimum_own_fen=row[11],
            minimum_filled_fen=row[12],
            window_paid_fen=row[13],
            paid_since_fen=row[14],
            converted_after_fen=row[15],
            interest_due_fen=row[16],
            minimum_met_on=_date(row[17]) if len(row) > 17 else None,
        )
        for row in data["statements"]
    ]
    cycle = data["cycle"]
    return PayLaterAccount(
        customer_id=data["customer_id"],
        statement_day=data["statement_day"],
        opened_on=_req(data["opened_on"]),
        status=AccountStatus(data["status"]),
        purchases=purchases,
        lines=[
            PrincipalLine(row[0], _req(row[1]), row[2], row[3], _date(row[4]))
            for row in data["lines"]
        ],
        plans=plans,
        statements=statements,
        cycle=Cycle(cycle[0], cycle[1], cycle[2], cycle[3], cycle[4], cycle[5]),
        credit_balance_fen=data["credit_balance"],
        accrued_interest=Decimal(data["accrued_interest"]),
        accrued_to=_date(data["accrued_to"]),
        written_off_on=_date(data["written_off_on"]),
        write_off_dpd=data["write_off_dpd"],
        recovered_fen=data["recovered"],
        refunded_on=_date(data.get("refunded_on")),
    )


def loan_to_dict(loan: Loan) -> dict[str, Any]:
    return {
        "v": FORMAT_VERSION,
        "ref": loan.ref,
        "customer_id": loan.customer_id,
        "principal": loan.principal_fen,
        "term_months": loan.term_months,
        "method": loan.method.value,
        "daily_rate": str(loan.daily_rate),
        "drawn_on": _d(loan.drawn_on),
        "status": loan.status.value,
        "accrued_to": _d(loan.accrued_to),
        "accrued_interest": str(loan.accrued_interest),
        "written_off_on": _d(loan.written_off_on),
        "write_off_dpd": loan.write_off_dpd,
        "recovered": loan.recovered_fen,
        "installments": [
            [
                i.k,
                _d(i.due_date),
                i.principal_fen,
                i.interest_fen,
                i.penalty_fen,
                i.principal_paid_fen,
                i.interest_paid_fen,
                i.penalty_paid_fen,
                i.billed,
                i.cancelled,
                str(i.penalty_accrued),
                _d(i.penalty_to),
                _d(i.paid_on),
            ]
            for i in loan.installments
        ],
    }


def loan_from_dict(data: dict[str, Any]) -> Loan:
    assert data["v"] == FORMAT_VERSION, data["v"]
    return Loan(
        ref=data["ref"],
        customer_id=data["customer_id"],
        principal_fen=data["principal"],
        term_months=data["term_months"],
        method=Method(data["method"]),
        daily_rate=Decimal(data["daily_rate"]),
        drawn_on=_req(data["drawn_on"]),
        status=LoanStatus(data["status"]),
        accrued_to=_date(data["accrued_to"]),
        accrued_interest=Decimal(data["accrued_interest"]),
        written_off_on=_date(data["written_off_on"]),
        write_off_dpd=data["write_off_dpd"],
        recovered_fen=data["recovered"],
        installments=[
            LoanInstallment(
                row[0],
                _req(row[1]),
                row[2],
                row[3],
                row[4],
                row[5],
                row[6],
                row[7],
                row[8],
                row[9],
                Decimal(row[10]),
                _date(row[11]),
                _date(row[12]) if len(row) > 12 else None,
            )
            for row in data["installments"]
        ],
    )
