"""Onboarding a customer with a joint limit, changing limits, and reading a customer back."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from creditlink.application.business_date import require_open
from creditlink.application.errors import DuplicateCustomer
from creditlink.application.parameters import current_parameters, require_reason
from creditlink.application.ports import AuditRecord, Clock, DecisionRecord, UnitOfWork
from creditlink.application.queries import Page, check_paging
from creditlink.application.scoring import offer_of, score_application
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
from creditlink.domain.parameters import ParameterSet
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
    monthly_income_fen: int | None = None,
) -> CustomerView:
    """Onboard with limits set by hand: they and the price stay as given whatever the score
    (pinned). Validate every field first, then record the customer and the limit together."""
    customer, identity = _new_customer(
        customer_id=customer_id,
        name=name,
        national_id=national_id,
        mobile=mobile,
        on=on,
        monthly_income_fen=monthly_income_fen,
    )
    limit = JointLimit.open(
        joint_limit_fen=joint_limit_fen,
        cap_paylater_fen=cap_paylater_fen,
        cap_loan_fen=cap_loan_fen,
    )
    with uow:
        require_open(uow, on)
        parameters = current_parameters(uow)
        if loan_daily_rate is None:
            # No score decides the price: the riskiest grade the parameters still lend to.
            loan_daily_rate = max(parameters.values.loan_daily_rate_by_grade.values())
        score = score_application(
            national_id=identity,
            monthly_income_fen=monthly_income_fen,
            on=on,
            parameters=parameters,
        )
        customer = replace(
            customer, loan_daily_rate=loan_daily_rate, pricing_pinned=True, score=score
        )
        _open(uow, customer, identity, limit, statement_day, parameters)
        _audit_onboarding(uow, customer, limit, actor=actor, clock=clock, on=on)
        uow.commit()
    return CustomerView(customer=customer, limit=limit, on=on)


@dataclass(frozen=True, slots=True, kw_only=True)
class Application:
    """The outcome of an application: the decision, and the customer when approved."""

    decision: DecisionRecord
    view: CustomerView | None


def apply_for_credit(
    uow: UnitOfWork,
    *,
    customer_id: str,
    name: str,
    national_id: str,
    mobile: str,
    monthly_income_fen: int,
    on: date,
    actor: str,
    clock: Clock,
    statement_day: int | None = None,
) -> Application:
    """Onboard through the application score: grade, joint limit and caps from the grade and
    the declared income, the loan price from the grade. Grade E is declined."""
    if monthly_income_fen <= 0:
        raise InvalidInput("must be greater than 0.00", field="income", rule="AMOUNT_POSITIVE")
    customer, identity = _new_customer(
        customer_id=customer_id,
        name=name,
        national_id=national_id,
        mobile=mobile,
        on=on,
        monthly_income_fen=monthly_income_fen,
    )
    with uow:
        require_open(uow, on)
        parameters = current_parameters(uow)
        score = score_application(
            national_id=identity,
            monthly_income_fen=monthly_income_fen,
            on=on,
            parameters=parameters,
        )
        offer = offer_of(customer, score, parameters)
        approved = offer.loan_daily_rate is not None and offer.joint_limit_fen > 0
        # Reasons are failed rules only, and an APPROVE has none (DOMAIN.md section 6): a
        # rules-only fallback says so in the decision's model_version and the score's reasons.
        reasons: tuple[str, ...] = () if approved else ("SCORE_BELOW_CUTOFF",)
        decision = DecisionRecord(
            on=on,
            customer_id=customer.customer_id,
            op="onboard",
            ref=customer.customer_id,
            outcome="APPROVE" if approved else "DECLINE",
            reasons=reasons,
            parameter_version=parameters.version,
            model_version=score.model_version,
            idempotency_key=f"onboard:{customer.customer_id}:{identity.masked}",
            context={"grade": score.grade, "points": score.points},  # for IFRS 9 staging
        )
        view = None
        if approved:
            assert offer.loan_daily_rate is not None
            customer = replace(customer, loan_daily_rate=offer.loan_daily_rate, score=score)
            limit = JointLimit.open(
                joint_limit_fen=offer.joint_limit_fen,
                cap_paylater_fen=offer.cap_paylater_fen,
                cap_loan_fen=offer.cap_loan_fen,
            )
            _open(uow, customer, identity, limit, statement_day, parameters)
            _audit_onboarding(uow, customer, limit, actor=actor, clock=clock, on=on)
            view = CustomerView(customer=customer, limit=limit, on=on)
        if uow.decisions.find_by_key(decision.idempotency_key) is None:
            uow.decisions.add(decision)
        uow.commit()
    return Application(decision=decision, view=view)


def _new_customer(
    *,
    customer_id: str,
    name: str,
    national_id: str,
    mobile: str,
    on: date,
    monthly_income_fen: int | None,
) -> tuple[Customer, NationalId]:
    identity = NationalId.parse(national_id)
    customer = Customer(
        customer_id=parse_customer_id(customer_id),
        name=parse_name(name),
        national_id_masked=identity.masked,
        mobile=parse_mobile(mobile),
        onboarded_on=on,
        monthly_income_fen=monthly_income_fen,
    )
    return customer, identity


def _open(
    uow: UnitOfWork,
    customer: Customer,
    identity: NationalId,
    limit: JointLimit,
    statement_day: int | None,
    parameters: ParameterSet,
) -> None:
    """Record a new customer, the joint limit and an empty PayLater account together."""
    if uow.customers.find_by_national_id(identity) is not None:
        raise DuplicateCustomer.same_person()
    if uow.customers.exists(customer.customer_id):
        raise DuplicateCustomer.same_id(customer.customer_id)
    if not Decimal(0) < customer.loan_daily_rate <= Decimal("0.01"):
        raise InvalidInput(
            f"must be above 0 and at most 0.01 a day, got {customer.loan_daily_rate}",
            field="loan_daily_rate",
            rule="LOAN_RATE_RANGE",
        )
    day = statement_day or parameters.values.paylater_statement_day
    if not 1 <= day <= 28:
        raise InvalidInput(
            f"must be from 1 to 28, got {day}", field="statement_day", rule="STATEMENT_DAY_RANGE"
        )
    uow.customers.add(customer, national_id=identity)
    uow.limits.add(customer.customer_id, limit)
    uow.paylater.add(
        PayLaterAccount(
            customer_id=customer.customer_id, statement_day=day, opened_on=customer.onboarded_on
        ),
        next_wake_on=None,
    )


def _audit_onboarding(
    uow: UnitOfWork, customer: Customer, limit: JointLimit, *, actor: str, clock: Clock, on: date
) -> None:
    score = customer.score
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
                "pinned": customer.pricing_pinned,
                "score": score.points if score else None,
                "grade": score.grade if score else None,
            },
        )
    )


def show_customer(uow: UnitOfWork, *, customer_id: str, on: date) -> CustomerView:
    with uow:
        customer = uow.customers.get(customer_id)
        limit = uow.limits.get(customer_id).apply_due_increase(on=on)
    return CustomerView(customer=customer, limit=limit, on=on)


def list_customers(uow: UnitOfWork, *, offset: int = 0, limit: int = 50) -> list[Customer]:
    with uow:
        return uow.customers.list(offset=offset, limit=limit)


def customer_page(uow: UnitOfWork, *, offset: int, limit: int) -> Page[Customer]:
    """Customers by id, `limit` of them from `offset`, with how many there are in all."""
    check_paging(offset=offset, limit=limit)
    with uow:
        items = uow.customers.list(offset=offset, limit=limit)
        total = uow.customers.count()
    return Page(items=items, total=total, offset=offset, limit=limit)


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
    require_reason(reason, what="a limit change")
    with uow:
        parameters = current_parameters(uow)
        limit = uow.limits.get(customer_id, for_update=True).apply_due_increase(on=on)
        require_open(uow, on)
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
                    "asked": _limits_text(
                        joint_limit=joint_limit_fen,
                        cap_paylater=cap_paylater_fen,
                        cap_loan=cap_loan_fen,
                    ),
                    "before": _limits_text(
                        joint_limit=limit.joint_limit_fen,
                        cap_paylater=limit.cap_paylater_fen,
                        cap_loan=limit.cap_loan_fen,
                    ),
                    "applied_now": {k: format_fen(v) for k, v in change.applied_now.items()},
                    "pending": _limits_text(
                        joint_limit=pending.joint_limit_fen,
                        cap_paylater=pending.cap_paylater_fen,
                        cap_loan=pending.cap_loan_fen,
                    )
                    if pending
                    else {},
                    "pending_from": pending.effective_on.isoformat() if pending else None,
                },
            )
        )
        uow.commit()
    return change


def _limits_text(**amounts: int | None) -> dict[str, str]:
    """The amounts given, as text for the audit log."""
    return {name: format_fen(fen) for name, fen in amounts.items() if fen is not None}


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
    require_reason(reason, what="a temporary limit")
    with uow:
        limit = uow.limits.get(customer_id, for_update=True).apply_due_increase(on=on)
        require_open(uow, on)
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
