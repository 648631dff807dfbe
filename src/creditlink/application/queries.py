"""Read-only views that every edge shares: the CLI, the scenario runner, later the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from creditlink.application.ports import DecisionRecord, UnitOfWork
from creditlink.domain.customer import Customer
from creditlink.domain.delinquency import Bucket, bucket_of
from creditlink.domain.limits import JointLimit
from creditlink.domain.paylater.account import PayLaterAccount


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerState:
    customer: Customer
    limit: JointLimit
    paylater: PayLaterAccount
    on: date

    @property
    def paylater_dpd(self) -> int:
        return self.paylater.dpd(self.on)

    @property
    def dpd(self) -> int:
        """The customer's DPD: the worst over products."""
        return self.paylater_dpd

    @property
    def bucket(self) -> Bucket:
        return bucket_of(self.dpd, written_off=self.paylater.written_off)

    @property
    def credit_balance_fen(self) -> int:
        return self.paylater.credit_balance_fen


def customer_state(uow: UnitOfWork, *, customer_id: str, on: date) -> CustomerState:
    with uow:
        return CustomerState(
            customer=uow.customers.get(customer_id),
            limit=uow.limits.get(customer_id).apply_due_increase(on=on),
            paylater=uow.paylater.get(customer_id),
            on=on,
        )


def decisions(uow: UnitOfWork, *, customer_id: str | None = None) -> list[DecisionRecord]:
    with uow:
        return uow.decisions.list(customer_id=customer_id)
