"""Read-only views that every edge shares: the CLI, the scenario runner, later the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

from creditlink.application.parameters import penalty_multiplier
from creditlink.application.ports import AlertRecord, AuditRecord, DecisionRecord, UnitOfWork
from creditlink.domain.customer import Customer
from creditlink.domain.delinquency import Bucket, bucket_of
from creditlink.domain.errors import InvalidInput
from creditlink.domain.limits import JointLimit
from creditlink.domain.loan.loan import Loan, LoanInstallment, LoanStatus
from creditlink.domain.money import format_fen
from creditlink.domain.paylater.account import PayLaterAccount
from creditlink.domain.rates import DailyRate

T = TypeVar("T")
PAGE_LIMIT_MAX = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class Page(Generic[T]):
    """One page of a longer list: its items, and how many there are in all."""

    items: list[T]
    total: int
    offset: int
    limit: int


def check_paging(*, offset: int, limit: int) -> None:
    if offset < 0:
        raise InvalidInput(f"must be 0 or more, got {offset}", field="offset", rule="OFFSET_RANGE")
    if not 1 <= limit <= PAGE_LIMIT_MAX:
        raise InvalidInput(
            f"must be from 1 to {PAGE_LIMIT_MAX}, got {limit}", field="limit", rule="LIMIT_RANGE"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerState:
    """What a customer's views show, read in one unit of work. The PayLater account's
    purchases are not for use after it: their number is `purchase_count`."""

    customer: Customer
    limit: JointLimit
    paylater: PayLaterAccount
    loans: list[Loan]
    on: date
    purchase_count: int
    penalty_multiplier: DailyRate  # by business day, for the penalty loans show accrued to `on`

    def reported_charges(self, loan: Loan, installment: LoanInstallment) -> tuple[int, int]:
        """(interest, penalty) an installment of `loan` shows as of `on`: the interest billed,
        or for the running period what it will be if paid on time; the penalty billed plus
        what has accrued to `on` while it is unpaid (DOMAIN.md section 4), as the scenario
        results report them."""
        return (
            loan.reported_interest_fen(installment, self.on),
            loan.reported_penalty_fen(
                installment, self.on, penalty_multiplier=self.penalty_multiplier
            ),
        )

    @property
    def paylater_dpd(self) -> int:
        return self.paylater.dpd(self.on)

    @property
    def dpd(self) -> int:
        """The customer's DPD: the worst over products."""
        return max([self.paylater_dpd, *(loan.dpd(self.on) for loan in self.loans)])

    @property
    def written_off(self) -> bool:
        return self.paylater.written_off or any(
            loan.status is LoanStatus.WRITTEN_OFF for loan in self.loans
        )

    @property
    def bucket(self) -> Bucket:
        return bucket_of(self.dpd, written_off=self.written_off)

    @property
    def credit_balance_fen(self) -> int:
        return self.paylater.credit_balance_fen


def customer_state(uow: UnitOfWork, *, customer_id: str, on: date) -> CustomerState:
    with uow:
        customer = uow.customers.get(customer_id)
        account = uow.paylater.get(customer_id)
        return CustomerState(
            customer=customer,
            limit=uow.limits.get(customer_id).apply_due_increase(on=on),
            paylater=account,
            loans=uow.loans.of_customer(customer_id),
            on=on,
            purchase_count=len(account.purchases),
            penalty_multiplier=penalty_multiplier(uow),
        )


def decisions(uow: UnitOfWork, *, customer_id: str | None = None) -> list[DecisionRecord]:
    with uow:
        return uow.decisions.list(customer_id=customer_id)


def alerts(uow: UnitOfWork, *, customer_id: str | None = None) -> list[AlertRecord]:
    with uow:
        return uow.alerts.list(customer_id=customer_id)


def limit_figures(limit: JointLimit, on: date) -> dict[str, str]:
    """The limit, usage and availability figures every edge shows, as of `on`."""
    return {
        "joint_limit": format_fen(limit.joint_limit_fen),
        "cap_paylater": format_fen(limit.cap_paylater_fen),
        "cap_loan": format_fen(limit.cap_loan_fen),
        "used_paylater": format_fen(limit.used_paylater_fen),
        "used_loan": format_fen(limit.used_loan_fen),
        "available_paylater": format_fen(limit.available_paylater(on)),
        "available_loan": format_fen(limit.available_loan(on)),
    }


def decision_page(
    uow: UnitOfWork, *, customer_id: str | None = None, offset: int, limit: int
) -> Page[DecisionRecord]:
    """Decisions, newest first (all, or one customer's), `limit` of them from `offset`, with
    how many there are in all. A customer named must exist."""
    check_paging(offset=offset, limit=limit)
    with uow:
        if customer_id is not None:
            uow.customers.get(customer_id)  # CustomerNotFound for an unknown one
        items, total = uow.decisions.page(customer_id=customer_id, offset=offset, limit=limit)
    return Page(items=list(items), total=total, offset=offset, limit=limit)


def audit_page(
    uow: UnitOfWork,
    *,
    offset: int,
    limit: int,
    action: str | None = None,
    actor: str | None = None,
    subject: str | None = None,
) -> list[AuditRecord]:
    """The audit log, newest first: `limit` records from `offset`; only those of `action`
    (or its family: `limit` is `limit.change`, `limit.temporary`, ...), `actor` and
    `subject` where given."""
    check_paging(offset=offset, limit=limit)
    for field, value in (("action", action), ("actor", actor), ("subject", subject)):
        if value is not None and not value.strip():
            raise InvalidInput(
                "must not be blank when given", field=field, rule="AUDIT_FILTER_NOT_BLANK"
            )
    with uow:
        return uow.audit.recent(
            limit=limit, offset=offset, action=action, actor=actor, subject=subject
        )
