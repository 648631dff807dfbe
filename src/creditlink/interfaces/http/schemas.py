"""The API's request and response bodies: pydantic models, at this edge only.

Money is integer fen (`*_fen`), exact; rates are decimal strings (`"0.0005"`); dates are ISO
dates. National IDs and mobile numbers appear only masked. Request models refuse fields
they do not know, so a misspelt field is an error, not silently ignored.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from creditlink.application.customers import CustomerView
from creditlink.application.ports import AlertRecord, DecisionRecord
from creditlink.domain.customer import Customer
from creditlink.domain.limits import JointLimit
from creditlink.domain.money import AMOUNT_FEN_MAX

AmountFen = Annotated[
    int, Field(strict=True, gt=0, le=AMOUNT_FEN_MAX, description="An amount in fen (> 0).")
]
LimitFen = Annotated[
    int, Field(strict=True, ge=0, le=AMOUNT_FEN_MAX, description="A limit in fen (≥ 0).")
]
Ref = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][\w.:-]*$")]


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- problems ------------------------------------------------------------------------------


class ProblemField(BaseModel):
    field: str = Field(description="The field, dotted for nested fields; empty for the body.")
    location: str = Field(description="body, query, path, header or request.")
    rule: str
    detail: str


class Problem(BaseModel):
    """An RFC 9457 problem detail, sent as `application/problem+json`."""

    type: str = Field(description='"urn:creditlink:rule:<RULE>", or "about:blank".')
    title: str
    status: int
    detail: str
    instance: str | None = None
    field: str | None = Field(None, description="The field the problem is about, if one.")
    rule: str | None = Field(None, description="The rule that was broken, if one.")
    errors: list[ProblemField] | None = None


# -- decisions -------------------------------------------------------------------------------


class DecisionOut(BaseModel):
    on: date
    op: str
    ref: str
    outcome: str = Field(description="APPROVE or DECLINE.")
    reasons: list[str] = Field(description="Every rule the request failed.")
    parameter_version: int
    model_version: str | None

    @classmethod
    def of(cls, decision: DecisionRecord) -> DecisionOut:
        return cls(
            on=decision.on,
            op=decision.op,
            ref=decision.ref,
            outcome=decision.outcome,
            reasons=list(decision.reasons),
            parameter_version=decision.parameter_version,
            model_version=decision.model_version,
        )


# -- customers -------------------------------------------------------------------------------


class OnboardRequest(RequestBody):
    """Scored (give `monthly_income_fen`) or with limits set by hand (`joint_limit_fen`)."""

    customer_id: str | None = Field(
        None, min_length=1, max_length=64, description="Default: generated."
    )
    name: str = Field(min_length=1, max_length=200)
    national_id: str = Field(
        min_length=1, max_length=32, description="18 characters (GB 11643); never sent back."
    )
    mobile: str = Field(min_length=1, max_length=32)
    monthly_income_fen: AmountFen | None = None
    joint_limit_fen: LimitFen | None = None
    cap_paylater_fen: LimitFen | None = None
    cap_loan_fen: LimitFen | None = None
    statement_day: int | None = Field(None, strict=True, ge=1, le=28)
    on: date | None = Field(None, description="Business date (default: today).")


class ScoreOut(BaseModel):
    points: int
    grade: str
    model_version: str
    reasons: list[str]
    scored_on: date


class TemporaryLimitOut(BaseModel):
    amount_fen: int
    granted_on: date
    expires_on: date
    in_force: bool


class PendingIncreaseOut(BaseModel):
    requested_on: date
    effective_on: date
    joint_limit_fen: int | None
    cap_paylater_fen: int | None
    cap_loan_fen: int | None


class LimitsOut(BaseModel):
    joint_limit_fen: int
    cap_paylater_fen: int
    cap_loan_fen: int
    used_paylater_fen: int
    used_loan_fen: int
    available_paylater_fen: int
    available_loan_fen: int
    alert_level: str
    temporary_limit: TemporaryLimitOut | None
    pending_increase: PendingIncreaseOut | None

    @classmethod
    def of(cls, limit: JointLimit, on: date) -> LimitsOut:
        temporary, pending = limit.temporary, limit.pending
        return cls(
            joint_limit_fen=limit.joint_limit_fen,
            cap_paylater_fen=limit.cap_paylater_fen,
            cap_loan_fen=limit.cap_loan_fen,
            used_paylater_fen=limit.used_paylater_fen,
            used_loan_fen=limit.used_loan_fen,
            available_paylater_fen=limit.available_paylater(on),
            available_loan_fen=limit.available_loan(on),
            alert_level=limit.level.value,
            temporary_limit=None
            if temporary is None
            else TemporaryLimitOut(
                amount_fen=temporary.amount_fen,
                granted_on=temporary.granted_on,
                expires_on=temporary.expires_on,
                in_force=temporary.valid_on(on),
            ),
            pending_increase=None
            if pending is None
            else PendingIncreaseOut(
                requested_on=pending.requested_on,
                effective_on=pending.effective_on,
                joint_limit_fen=pending.joint_limit_fen,
                cap_paylater_fen=pending.cap_paylater_fen,
                cap_loan_fen=pending.cap_loan_fen,
            ),
        )


class CustomerSummary(BaseModel):
    customer_id: str
    name: str
    national_id: str = Field(description="Masked: region and check character only.")
    onboarded_on: date

    @classmethod
    def of(cls, customer: Customer) -> CustomerSummary:
        return cls(
            customer_id=customer.customer_id,
            name=customer.name,
            national_id=customer.national_id_masked,
            onboarded_on=customer.onboarded_on,
        )


class CustomerOut(CustomerSummary):
    mobile: str = Field(description="Masked.")
    as_of: date
    loan_daily_rate: str = Field(description='A decimal string, e.g. "0.0005".')
    pricing_pinned: bool
    monthly_income_fen: int | None
    score: ScoreOut | None
    limits: LimitsOut

    @classmethod
    def of_view(cls, view: CustomerView) -> CustomerOut:
        customer, score = view.customer, view.customer.score
        return cls(
            **CustomerSummary.of(customer).model_dump(),
            mobile=customer.mobile_masked,
            as_of=view.on,
            loan_daily_rate=str(customer.loan_daily_rate),
            pricing_pinned=customer.pricing_pinned,
            monthly_income_fen=customer.monthly_income_fen,
            score=None
            if score is None
            else ScoreOut(
                points=score.points,
                grade=score.grade,
                model_version=score.model_version,
                reasons=list(score.reasons),
                scored_on=score.scored_on,
            ),
            limits=LimitsOut.of(view.limit, view.on),
        )


class OnboardOut(BaseModel):
    customer_id: str
    decision: DecisionOut | None = Field(
        description="The application decision; null when the limits were set by hand."
    )
    customer: CustomerOut | None = Field(description="The new customer; null when declined.")


class CustomerPage(BaseModel):
    items: list[CustomerSummary]
    total: int
    offset: int
    limit: int


# -- PayLater ------------------------------------------------------------------------------


class PurchaseRequest(RequestBody):
    ref: Ref = Field(description="The merchant's reference for the purchase, unique per account.")
    amount_fen: AmountFen
    merchant: str = Field(min_length=1, max_length=100)
    category: str = Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_]+$")
    on: date | None = Field(None, description="Business date (default: today).")
    at: time | None = Field(None, description="Time of day, for the hourly velocity rules.")


class PurchaseOut(BaseModel):
    customer_id: str
    ref: str
    amount_fen: int
    approved: bool
    decision: DecisionOut
    entry_id: int | None = Field(description="The ledger entry posted, when approved.")


# -- alerts --------------------------------------------------------------------------------


class AlertOut(BaseModel):
    alert_id: int
    customer_id: str
    on: date
    kind: str = Field(description="alert (a level raised) or recovery (stepped down).")
    level: str
    cause: str
    products: list[str]
    evidence: str
    status: str = Field(description="open, acknowledged or escalated.")
    status_by: str | None
    status_at: datetime | None
    status_note: str | None

    @classmethod
    def of(cls, alert: AlertRecord) -> AlertOut:
        return cls(
            alert_id=alert.alert_id,
            customer_id=alert.customer_id,
            on=alert.on,
            kind=alert.kind,
            level=alert.level,
            cause=alert.cause,
            products=list(alert.products),
            evidence=alert.evidence,
            status=alert.status,
            status_by=alert.status_by,
            status_at=alert.status_at,
            status_note=alert.status_note,
        )


class AlertPage(BaseModel):
    items: list[AlertOut]
    total: int
    offset: int
    limit: int


class AlertActionRequest(RequestBody):
    note: str = Field("", max_length=2000, description="Why; required to escalate.")


# -- service -------------------------------------------------------------------------------


class Health(BaseModel):
    status: str = Field(description='"ok"')
    database: str = Field(description='"ok": the database answered.')


# The errors most routes can answer with, for the OpenAPI document (as problem+json).
ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"model": Problem, "description": "No API key, or an unknown or revoked one."},
    403: {"model": Problem, "description": "The key's role or customer does not allow this."},
    404: {"model": Problem, "description": "Not found."},
    409: {"model": Problem, "description": "Conflicts with what is recorded."},
    422: {"model": Problem, "description": "Invalid input: each field and the rule it broke."},
}
