"""Onboarding a customer with a joint limit, changing limits, and reading a customer back."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from creditlink.application.errors import DuplicateCustomer
from creditlink.application.parameters import current_parameters
from creditlink.application.ports import AuditRecord, Clock, UnitOfWork
from creditlink.domain.customer import (
    Customer,
    NationalId,
    parse_customer_id,
    parse_mobile,
    parse_name,
)
from creditlink.domain.errors import InvalidInput
from creditlink.domain.limits import JointLimit, LimitChange
from creditlink.domain.money import format_fen
from creditlink.domain.paylater.account import PayLaterAccount


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerView:
    customer: Customer
    limit: JointLimit
    on: date

    @property
    def available_paylater_fen(self) -> int:
        return self.limit.available_paylater(self.on)

    @property
    def available_loan_fen(self) -> int:
        return self.limit.available_loan(self.on)


def onboard_customer(
    uow: UnitOfWork,
    *,
    customer_id: str,
    name: str,
    national_id: str,
    mobile: str,
    joint_limit_fen: int,
    cap_paylater_fen: int | None,
    cap_loan_fen: int | None,
    on: date,
    actor: str,
    clock: Clock,
    statement_day: int | None = None,
    loan_daily_rate: Decimal | None = None,
) -> CustomerView:
    """Validate every field first, then record the customer and the limit together."""
    customer = Customer(
        customer_id=parse_customer_id(customer_id),
        name=parse_name(name),
        national_id_masked=(identity := NationalId.parse(national_id)).masked,
        mobile=parse_mobile(mobile),
        onboarded_on=on,
    )
    limit = JointLimit.open(
        joint_limit_fen=joint_limit_fen,
        cap_paylater_fen=cap_paylater_fen,
        cap_loan_fen=cap_loan_fen,
    )
    with uow:
        if uow.customers.find_by_national_id(identity) is not None:
            raise DuplicateCustomer(
                "a customer with this national ID already exists",
                field="national_id",
                rule="ONE_CUSTOMER_PER_PERSON",
            )
        if uow.customers.exists(customer.customer_id):
            raise DuplicateCustomer(
                f"customer {customer.customer_id!r} already exists",
                field="customer_id",
                rule="CUSTOMER_ID_UNIQUE",
            )
        if loan_daily_rate is None:
            # No score yet: price as the riskiest grade the parameters still lend to.
            rates = current_parameters(uow).values.loan_daily_rate_by_grade
            loan_daily_rate = max(rates.values())
        if not Decimal(0) < loan_daily_rate <= Decimal("0.01"):
            raise InvalidInput(
                f"must be above 0 and at most 0.01 a day, got {loan_daily_rate}",
                field="loan_daily_rate",
                rule="LOAN_RATE_RANGE",
            )
        customer = replace(customer, loan_daily_rate=loan_daily_rate)
        uow.customers.add(customer, national_id=identity)
        uow.limits.add(customer.customer_id, limit)
        day = statement_day or current_parameters(uow).values.paylater_statement_day
        if not 1 <= day <= 28:
            raise InvalidInput(
                f"must be from 1 to 28, got {day}",
                field="statement_day",
                rule="STATEMENT_DAY_RANGE",
            )
        uow.paylater.add(
            PayLaterAccount(customer_id=customer.customer_id, statement_day=day, opened_on=on),
            next_wake_on=None,
        )
        uow.audit.record(
            AuditRecord(
                at=clock.now(),
                actor=actor,
                action="customer.onboard",
                subject=customer.customer_id,
                reason="onboarding",
                details={
                    "on": on.isoformat(),
                    "joint_limit": format_fen(limit.joint_limit_fen),
                    "cap_paylater": format_fen(limit.cap_paylater_fen),
                    "cap_loan": format_fen(limit.cap_loan_fen),
                },
            )
        )
        uow.commit()
    return CustomerView(customer=customer, limit=limit, on=on)


def show_customer(uow: UnitOfWork, *, customer_id: str, on: date) -> CustomerView:
    with uow:
        customer = uow.customers.get(customer_id)
        limit = uow.limits.get(customer_id).apply_due_increase(on=on)
    return CustomerView(customer=customer, limit=limit, on=on)


def list_customers(uow: UnitOfWork, *, offset: int = 0, limit: int = 50) -> list[Customer]:
    with uow:
        return uow.customers.list(offset=offset, limit=limit)


def change_limits(
    uow: UnitOfWork,
    *,
    customer_id: str,
    on: date,
    actor: str,
    reason: str,
    clock: Clock,
    joint_limit_fen: int | None = None,
    cap_paylater_fen: int | None = None,
    cap_loan_fen: int | None = None,
) -> LimitChange:
    """Decreases at once, increases after `limit.increase_delay_days` (DOMAIN.md §2)."""
    with uow:
        parameters = current_parameters(uow)
        limit = uow.limits.get(customer_id, for_update=True).apply_due_increase(on=on)
        change = limit.change(
            on=on,
            delay_days=parameters.values.limit_increase_delay_days,
            joint_limit_fen=joint_limit_fen,
            cap_paylater_fen=cap_paylater_fen,
            cap_loan_fen=cap_loan_fen,
        )
        uow.limits.save(customer_id, change.limit)
        pending = change.pending
        uow.audit.record(
            AuditRecord(
                at=clock.now(),
                actor=actor,
                action="limit.change",
                subject=customer_id,
                reason=reason,
                details={
                    "on": on.isoformat(),
                    "applied_now": {k: format_fen(v) for k, v in change.applied_now.items()},
                    "pending_from": pending.effective_on.isoformat() if pending else None,
                },
            )
        )
        uow.commit()
    return change


def grant_temporary_limit(
    uow: UnitOfWork,
    *,
    customer_id: str,
    amount_fen: int,
    on: date,
    expires_on: date,
    actor: str,
    reason: str,
    clock: Clock,
) -> JointLimit:
    with uow:
        limit = uow.limits.get(customer_id, for_update=True).apply_due_increase(on=on)
        limit = limit.grant_temporary(amount_fen=amount_fen, on=on, expires_on=expires_on)
        uow.limits.save(customer_id, limit)
        uow.audit.record(
            AuditRecord(
                at=clock.now(),
                actor=actor,
                action="limit.temporary",
                subject=customer_id,
                reason=reason,
                details={
                    "amount": format_fen(amount_fen),
                    "from": on.isoformat(),
                    "expires_on": expires_on.isoformat(),
                },
            )
        )
        uow.commit()
    return limit
