"""The API's request and response bodies: pydantic models, at this edge only.

Money is integer fen (`*_fen`), exact; rates are decimal strings (`"0.0005"`); dates are ISO
dates. National IDs and mobile numbers appear only masked. Request models refuse fields
they do not know, so a misspelt field is an error, not silently ignored.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal, Self, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from creditlink.application.customers import CustomerView
from creditlink.application.paylater import DecisionResult
from creditlink.application.ports import AlertRecord, DecisionRecord, Incident
from creditlink.domain.calendar import EARLIEST_DATE, LATEST_DATE
from creditlink.domain.customer import Customer
from creditlink.domain.limits import JointLimit
from creditlink.domain.money import AMOUNT_FEN_MAX
from creditlink.interfaces.http.problems import NUL_DETAIL, NUL_RULE

AmountFen = Annotated[
    int, Field(strict=True, gt=0, le=AMOUNT_FEN_MAX, description="An amount in fen (> 0).")
]
LimitFen = Annotated[
    int, Field(strict=True, ge=0, le=AMOUNT_FEN_MAX, description="A limit in fen (≥ 0).")
]


def _utc(moment: datetime) -> datetime:
    """Times are kept in UTC; a store that drops the offset (SQLite) gets it back here, so
    that every time sent is RFC 3339 with its offset."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


Timestamp = Annotated[datetime, AfterValidator(_utc)]
Ref = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][\w.:-]*$")]


ID_MAX = 2**31 - 1  # ids (alerts, incidents, versions) are 32-bit in the store

ON_OPERATION_DEFAULT = (
    "Default: the open business date, the day after the last close (today on a book never "
    "closed); an operation takes no other."
)
ON_OPERATION = "Business date. " + ON_OPERATION_DEFAULT


_DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date_text(value: Any) -> Any:
    """Dates come written YYYY-MM-DD: pydantic would also read a number, or a string of
    digits, as a Unix time (`on=0` as 1970-01-01)."""
    if value is None or isinstance(value, date):
        return value
    if isinstance(value, str) and _DATE_TEXT.fullmatch(value):
        return value
    raise PydanticCustomError("date_format", "must be a date written YYYY-MM-DD")


DateText = BeforeValidator(_date_text)  # for dates in queries: Annotated[date, DateText, ...]


def _is_date(annotation: Any) -> bool:
    return annotation is date or date in get_args(annotation)


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _dates_as_text(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        return _date_text(value) if field and _is_date(field.annotation) else value

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        """No text of a body may hold NUL: PostgreSQL cannot store it (see
        `problems.RefuseNul` for paths and queries)."""
        texts = [*value.keys(), *value.values()] if isinstance(value, dict) else [value]
        if any(isinstance(text, str) and "\x00" in text for text in texts):
            raise PydanticCustomError(NUL_RULE.lower(), NUL_DETAIL)
        return value


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
    on: date | None = Field(
        None,
        ge=EARLIEST_DATE,
        le=LATEST_DATE,
        description=ON_OPERATION,
    )


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
    on: date | None = Field(
        None,
        ge=EARLIEST_DATE,
        le=LATEST_DATE,
        description=ON_OPERATION,
    )
    at: time | None = Field(None, description="Time of day, for the hourly velocity rules.")


class _DecidedOut(BaseModel):
    """The answer to an operation that is decided and, when approved, posted."""

    customer_id: str
    ref: str
    amount_fen: int
    approved: bool
    decision: DecisionOut
    entry_id: int | None = Field(description="The ledger entry posted, when approved.")

    @classmethod
    def answer(
        cls, customer_id: str, ref: str, amount_fen: int, result: DecisionResult
    ) -> tuple[int, Self]:
        """The status and the answer: 201 when approved, 200 when declined."""
        out = cls(
            customer_id=customer_id,
            ref=ref,
            amount_fen=amount_fen,
            approved=result.approved,
            decision=DecisionOut.of(result.decision),
            entry_id=None if result.entry is None else result.entry.entry_id,
        )
        return (201 if result.approved else 200), out


class PurchaseOut(_DecidedOut):
    pass


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
    status_at: Timestamp | None
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


# -- limits ------------------------------------------------------------------------------


Reason = Annotated[
    str, Field(min_length=1, max_length=2000, description="Why: kept in the audit log.")
]


class LimitChangeRequest(RequestBody):
    """Decreases take effect at once, increases after `limit.increase_delay_days`."""

    joint_limit_fen: LimitFen | None = None
    cap_paylater_fen: LimitFen | None = None
    cap_loan_fen: LimitFen | None = None
    reason: Reason
    on: date | None = Field(
        None,
        ge=EARLIEST_DATE,
        le=LATEST_DATE,
        description=ON_OPERATION,
    )


class LimitChangeOut(BaseModel):
    applied_now: dict[str, int] = Field(description="What took effect at once, in fen.")
    pending_from: date | None = Field(description="When a held increase takes effect.")
    limits: LimitsOut


class TemporaryLimitRequest(RequestBody):
    amount_fen: AmountFen
    expires_on: date = Field(
        ge=EARLIEST_DATE, le=LATEST_DATE, description="The last day it is valid."
    )
    reason: Reason
    on: date | None = Field(
        None,
        ge=EARLIEST_DATE,
        le=LATEST_DATE,
        description="Business date, its first day. " + ON_OPERATION_DEFAULT,
    )


# -- PayLater: refunds, repayments, statements, plans --------------------------------------

ShortcutName = Literal["minimum", "due", "all"]


class RefundRequest(RequestBody):
    purchase_ref: Ref
    amount_fen: AmountFen
    on: date | None = Field(
        None,
        ge=EARLIEST_DATE,
        le=LATEST_DATE,
        description=ON_OPERATION,
    )


class EntryOut(BaseModel):
    customer_id: str
    amount_fen: int = Field(description="What was paid or refunded; 0 when nothing was due.")
    entry_id: int | None = Field(description="The ledger entry posted; null when none was.")


class RepaymentRequest(RequestBody):
    """Repay `amount_fen`, or what a shortcut comes to (`minimum`, `due`, `all`)."""

    amount_fen: AmountFen | None = None
    shortcut: ShortcutName | None = None
    on: date | None = Field(
        None,
        ge=EARLIEST_DATE,
        le=LATEST_DATE,
        description=ON_OPERATION,
    )


class StatementOut(BaseModel):
    statement_date: date
    due_date: date
    previous_balance_fen: int
    purchases_fen: int
    refunds_fen: int
    installments_billed_fen: int
    interest_fen: int
    payments_fen: int
    converted_fen: int
    new_balance_fen: int
    minimum_payment_fen: int
    minimum_unmet_fen: int
    amount_still_due_fen: int
    paid_in_full: bool
    minimum_met_on: date | None


class InstallmentOut(BaseModel):
    k: int
    statement_date: date
    principal_fen: int
    fee_fen: int
    status: str
    principal_paid_fen: int
    fee_paid_fen: int


class PlanOut(BaseModel):
    plan_ref: str
    source: str = Field(description="purchase or statement.")
    source_ref: str = Field(description="The purchase ref, or the statement date.")
    created_on: date
    periods: int
    principal_fen: int
    fee_fen: int
    fee_rate: str
    apr: str
    status: str
    unbilled_principal_fen: int
    installments: list[InstallmentOut]


class PayLaterOut(BaseModel):
    customer_id: str
    as_of: date
    status: str
    statement_day: int
    principal_outstanding_fen: int
    unbilled_principal_fen: int
    billed_due_fen: int
    minimum_unmet_fen: int
    credit_balance_fen: int
    dpd: int
    purchases: int
    statements: int
    plans: int


class ConversionRequest(RequestBody):
    """Convert a purchase not yet billed (`purchase_ref`) or a statement's unpaid revolving
    principal (`statement_date`) into a plan of `periods` installments."""

    plan_ref: Ref
    periods: int = Field(strict=True, ge=1, le=60)
    purchase_ref: Ref | None = None
    statement_date: date | None = Field(None, ge=EARLIEST_DATE, le=LATEST_DATE)
    on: date | None = Field(
        None,
        ge=EARLIEST_DATE,
        le=LATEST_DATE,
        description=ON_OPERATION,
    )


class ConversionOut(BaseModel):
    customer_id: str
    plan_ref: str
    approved: bool
    decision: DecisionOut
    plan: PlanOut | None


class SettlementRequest(RequestBody):
    on: date | None = Field(
        None,
        ge=EARLIEST_DATE,
        le=LATEST_DATE,
        description=ON_OPERATION,
    )


# -- loans -------------------------------------------------------------------------------

LoanMethod = Literal["equal_installment", "equal_principal", "interest_first"]


class QuotedInstallmentOut(BaseModel):
    k: int
    due_date: date
    principal_fen: int
    interest_fen: int
    total_fen: int


class QuoteOut(BaseModel):
    principal_fen: int
    term_months: int
    method: str
    daily_rate: str
    apr: str
    drawn_on: date
    total_interest_fen: int
    total_repaid_fen: int
    installments: list[QuotedInstallmentOut]


class DrawRequest(RequestBody):
    ref: Ref = Field(description="The loan's reference, unique per customer.")
    amount_fen: AmountFen
    term_months: int = Field(strict=True, ge=1, le=120)
    method: LoanMethod
    on: date | None = Field(
        None,
        ge=EARLIEST_DATE,
        le=LATEST_DATE,
        description=ON_OPERATION,
    )
    at: time | None = Field(None, description="Time of day, for the hourly velocity rules.")


class DrawOut(_DecidedOut):
    pass


class LoanInstallmentOut(BaseModel):
    k: int
    due_date: date
    principal_fen: int
    interest_fen: int
    penalty_fen: int
    principal_paid_fen: int
    interest_paid_fen: int
    penalty_paid_fen: int
    billed: bool
    state: str = Field(description="pending, due, overdue, paid or cancelled.")


class LoanOut(BaseModel):
    ref: str
    customer_id: str
    principal_fen: int
    term_months: int
    method: str
    daily_rate: str
    apr: str
    drawn_on: date
    status: str
    outstanding_principal_fen: int
    dpd: int
    as_of: date
    installments: list[LoanInstallmentOut]


class LoanList(BaseModel):
    items: list[LoanOut]


class LoanRepaymentRequest(RequestBody):
    """Repay `amount_fen`, or what a shortcut comes to (`minimum`/`due`: everything past due
    and due today; `all`: the payoff)."""

    amount_fen: AmountFen | None = None
    shortcut: ShortcutName | None = None
    on: date | None = Field(
        None,
        ge=EARLIEST_DATE,
        le=LATEST_DATE,
        description=ON_OPERATION,
    )


# -- decisions -------------------------------------------------------------------------------


class DecisionItem(DecisionOut):
    customer_id: str


class DecisionPage(BaseModel):
    items: list[DecisionItem]
    total: int
    offset: int
    limit: int


# -- parameters ------------------------------------------------------------------------------


class ParameterVersionOut(BaseModel):
    version: int
    created_at: Timestamp
    actor: str
    reason: str
    in_force_from: date | None = Field(
        description="The first business day whose close it prices: interest and penalty "
        "accrued across a change price each day at the version in force at that day's "
        "close. Null for the first version and for versions stored before versions were "
        "dated."
    )


class ParameterSetOut(BaseModel):
    version: int
    parameters: dict[str, str] = Field(description="Dotted name -> value, as text.")


class ParameterChangeRequest(RequestBody):
    changes: dict[Annotated[str, Field(min_length=1, max_length=100)], str] = Field(
        min_length=1,
        description='Dotted name -> new value as text, e.g. {"linkage.restrict_dpd": "5"}.',
    )
    reason: Reason


class ParameterDiffItem(BaseModel):
    name: str
    before: str
    after: str


class ParameterDiff(BaseModel):
    first: int
    second: int
    changes: list[ParameterDiffItem]


class ShadowStartRequest(RequestBody):
    changes: dict[Annotated[str, Field(min_length=1, max_length=100)], str] = Field(
        min_length=1, description="The candidate's values; the rest are the live set's."
    )
    reason: Reason


class ShadowStopRequest(RequestBody):
    reason: Reason


class CandidateOut(BaseModel):
    candidate_id: int
    started_at: Timestamp
    actor: str
    reason: str
    parameters: dict[str, str]


class ShadowTransition(BaseModel):
    op: str
    live: str
    candidate: str
    count: int


class ShadowReport(BaseModel):
    candidate: int | None = Field(description="The candidate reported on; null if none ran.")
    running: bool
    decisions: int
    live_outcomes: dict[str, int]
    candidate_outcomes: dict[str, int]
    changed: int = Field(description="Decisions whose outcome the candidate would change.")
    reasons_only: int = Field(
        description="Decisions with the same outcome under the candidate, for other reasons."
    )
    by_op: dict[str, dict[str, int]]
    transitions: list[ShadowTransition]
    reasons_added: dict[str, int]
    samples: list[dict[str, Any]]


# -- incidents -------------------------------------------------------------------------------


class IncidentOut(BaseModel):
    incident_id: int
    opened_on: date
    opened_at: Timestamp
    open: bool
    breaches: list[dict[str, Any]]
    normal_version: int
    tightened_version: int
    closed_at: Timestamp | None
    closed_by: str | None
    close_reason: str | None
    restored_version: int | None

    @classmethod
    def of(cls, incident: Incident) -> IncidentOut:
        return cls(
            incident_id=incident.incident_id,
            opened_on=incident.opened_on,
            opened_at=incident.opened_at,
            open=incident.open,
            breaches=[dict(b) for b in incident.breaches],
            normal_version=incident.normal_version,
            tightened_version=incident.tightened_version,
            closed_at=incident.closed_at,
            closed_by=incident.closed_by,
            close_reason=incident.close_reason,
            restored_version=incident.restored_version,
        )


class RestoreRequest(RequestBody):
    reason: Reason


# -- ledger, audit, portfolio ----------------------------------------------------------------


class LedgerProblemOut(BaseModel):
    check: str
    subject: str
    message: str


class LedgerReportOut(BaseModel):
    ok: bool
    entries: int
    balanced: bool
    unbalanced_entries: int
    trial_balance_fen: int
    chain_ok: bool
    account_balances_ok: bool
    receivables_ok: bool
    accounts: dict[str, int] = Field(description="Balance per account, debit-normal, in fen.")
    problem_count: int
    problems: list[LedgerProblemOut] = Field(description="The first 100 problems.")


class AuditOut(BaseModel):
    at: Timestamp
    actor: str
    action: str
    subject: str
    reason: str
    details: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditOut]
    offset: int
    limit: int


class EclCell(BaseModel):
    accounts: int
    exposure_fen: int
    ecl_fen: int
    coverage: str = Field(description="ECL / exposure, a decimal string.")


class EclProduct(BaseModel):
    stages: dict[str, EclCell] = Field(description="By IFRS 9 stage (1, 2, 3).")
    total: EclCell


class EclReport(BaseModel):
    on: date
    partitions: int
    accounts: int
    by_product: dict[str, EclProduct] = Field(description="paylater, loan, and all.")


class PortfolioOverview(BaseModel):
    """The portfolio at a glance (`application.overview`): amounts in fen (with their text),
    ratios as decimal strings, null where the denominator is 0."""

    model_config = ConfigDict(extra="allow")

    on: date
    customers: int
    balance_fen: int
    products: dict[str, dict[str, Any]] = Field(
        description="paylater and loan: accounts, balance, DPD buckets, written off, limits."
    )
    utilisation: dict[str, Any] = Field(description="Usage over limits, joint and per product.")
    alerts: dict[str, Any] = Field(description="The alert queue by status and level.")
    incidents: dict[str, Any] = Field(description="Incidents still open.")


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
