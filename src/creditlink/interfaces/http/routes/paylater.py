"""PayLater: purchases, refunds, repayments (money-moving, so idempotent); the account, its
statements and installment plans (convert a purchase or a statement, settle early)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Response

from creditlink.application.paylater import (
    Shortcut,
    convert_to_installments,
    purchase,
    refund,
    repay,
    settle_installments,
)
from creditlink.application.queries import CustomerState, customer_state
from creditlink.bootstrap import Book
from creditlink.domain.errors import InvalidInput
from creditlink.domain.ledger import JournalEntry
from creditlink.domain.money import format_rate
from creditlink.domain.paylater.records import Plan, Statement
from creditlink.interfaces.http.auth import Anyone, CustomerOrStaff, OwnCustomer, Staff
from creditlink.interfaces.http.deps import BookDep, ViewOn, business_date, view_date
from creditlink.interfaces.http.idempotency import IDEMPOTENT_RESPONSES, Idempotent
from creditlink.interfaces.http.schemas import (
    ERROR_RESPONSES,
    ConversionOut,
    ConversionRequest,
    DecisionOut,
    EntryOut,
    InstallmentOut,
    PayLaterOut,
    PlanOut,
    PurchaseOut,
    PurchaseRequest,
    RefundRequest,
    RepaymentRequest,
    SettlementRequest,
    StatementOut,
)

router = APIRouter(tags=["paylater"], responses=ERROR_RESPONSES)
BASE = "/customers/{customer_id}/paylater"
PlanRef = Annotated[str, Path(min_length=1, max_length=128)]
AsOf = ViewOn


@router.post(
    f"{BASE}/purchases",
    response_model=PurchaseOut,
    status_code=201,
    responses={
        200: {"model": PurchaseOut, "description": "Declined: nothing was posted."},
        **IDEMPOTENT_RESPONSES,
    },
)
def create_purchase(
    principal: CustomerOrStaff,
    customer_id: OwnCustomer,
    body: PurchaseRequest,
    book: BookDep,
    idempotency: Idempotent,
) -> Response:
    """Decide a purchase and, when approved, post it: 201 when approved, 200 when declined
    (`decision.reasons` says why). Needs an `Idempotency-Key`."""
    return idempotency.respond(lambda: purchase_answer(book, customer_id, body, idempotency.key))


def purchase_answer(
    book: Book, customer_id: str, body: PurchaseRequest, key: str | None
) -> tuple[int, PurchaseOut]:
    """The purchase and its answer: 201 when approved, 200 when declined."""
    result = purchase(
        book.store.unit_of_work(),
        customer_id=customer_id,
        ref=body.ref,
        amount_fen=body.amount_fen,
        merchant=body.merchant,
        category=body.category,
        on=business_date(body.on, book),
        idempotency_key=key or "",
        at=body.at,
    )
    return PurchaseOut.answer(customer_id, body.ref, body.amount_fen, result)


@router.post(
    f"{BASE}/refunds", response_model=EntryOut, status_code=201, responses=IDEMPOTENT_RESPONSES
)
def create_refund(
    principal: Staff,
    customer_id: OwnCustomer,
    body: RefundRequest,
    book: BookDep,
    idempotency: Idempotent,
) -> Response:
    """A merchant's refund of (part of) a purchase: it pays what the purchase owes, principal
    first. Staff only (a refund comes from the merchant, not the customer)."""

    def run() -> tuple[int, EntryOut]:
        entry = refund(
            book.store.unit_of_work(),
            customer_id=customer_id,
            purchase_ref=body.purchase_ref,
            amount_fen=body.amount_fen,
            on=business_date(body.on, book),
            idempotency_key=idempotency.key or "",
        )
        return 201, EntryOut(
            customer_id=customer_id, amount_fen=body.amount_fen, entry_id=entry.entry_id
        )

    return idempotency.respond(run)


def repayment_answer(
    customer_id: str, amount_fen: int, entry: JournalEntry | None
) -> tuple[int, EntryOut]:
    """A repayment's answer, PayLater's or a loan's: 201 with the entry posted, 200 when a
    shortcut came to nothing."""
    entry_id = None if entry is None else entry.entry_id
    out = EntryOut(customer_id=customer_id, amount_fen=amount_fen, entry_id=entry_id)
    return (201 if entry_id is not None else 200), out


def amount_or_shortcut(amount_fen: int | None, shortcut: str | None) -> int | Shortcut:
    if (amount_fen is None) == (shortcut is None):
        raise InvalidInput(
            "give either amount_fen or shortcut (minimum, due or all)",
            field="amount_fen",
            rule="AMOUNT_OR_SHORTCUT",
        )
    if shortcut is not None:
        return Shortcut(shortcut)
    assert amount_fen is not None
    return amount_fen


@router.post(
    f"{BASE}/repayments",
    response_model=EntryOut,
    responses={
        201: {"model": EntryOut, "description": "Paid: the entry posted."},
        **IDEMPOTENT_RESPONSES,
    },
)
def create_repayment(
    principal: CustomerOrStaff,
    customer_id: OwnCustomer,
    body: RepaymentRequest,
    book: BookDep,
    idempotency: Idempotent,
) -> Response:
    """Repay an amount, or what `minimum`, `due` or `all` comes to (DOMAIN.md §5): 201 with
    the entry posted; 200 with `amount_fen` 0 when a shortcut came to nothing."""
    amount = amount_or_shortcut(body.amount_fen, body.shortcut)

    def run() -> tuple[int, EntryOut]:
        paid = repay(
            book.store.unit_of_work(),
            customer_id=customer_id,
            amount=amount,
            on=business_date(body.on, book),
            idempotency_key=idempotency.key or "",
        )
        return repayment_answer(customer_id, paid.amount_fen, paid.entry)

    return idempotency.respond(run)


def _state(book: Book, customer_id: str, on: date | None) -> CustomerState:
    return customer_state(book.store.reader(), customer_id=customer_id, on=view_date(on, book))


@router.get(BASE, response_model=PayLaterOut)
def show_account(
    principal: Anyone, customer_id: OwnCustomer, book: BookDep, on: AsOf = None
) -> PayLaterOut:
    """The PayLater account: what is owed, billed and unbilled, days past due."""
    state = _state(book, customer_id, on)
    account = state.paylater
    return PayLaterOut(
        customer_id=customer_id,
        as_of=state.on,
        status=account.status.value,
        statement_day=account.statement_day,
        principal_outstanding_fen=account.principal_outstanding_fen(),
        unbilled_principal_fen=account.unbilled_principal_fen(),
        billed_due_fen=account.billed_due_fen(),
        minimum_unmet_fen=account.minimum_unmet_fen(state.on),
        credit_balance_fen=account.credit_balance_fen,
        dpd=state.paylater_dpd,
        purchases=state.purchase_count,
        statements=len(account.statements),
        plans=len(account.plans),
    )


def statement_out(statement: Statement) -> StatementOut:
    return StatementOut(
        statement_date=statement.statement_date,
        due_date=statement.due_date,
        previous_balance_fen=statement.previous_balance_fen,
        purchases_fen=statement.purchases_fen,
        refunds_fen=statement.refunds_fen,
        installments_billed_fen=statement.installments_billed_fen,
        interest_fen=statement.interest_fen,
        payments_fen=statement.payments_fen,
        converted_fen=statement.converted_fen,
        new_balance_fen=statement.new_balance_fen,
        minimum_payment_fen=statement.minimum_payment_fen,
        minimum_unmet_fen=statement.minimum_unmet_fen,
        amount_still_due_fen=statement.amount_still_due_fen,
        paid_in_full=statement.paid_in_full,
        minimum_met_on=statement.minimum_met_on,
    )


def plan_out(plan: Plan) -> PlanOut:
    return PlanOut(
        plan_ref=plan.ref,
        source=plan.source,
        source_ref=plan.source_ref,
        created_on=plan.created_on,
        periods=plan.periods,
        principal_fen=plan.principal_fen,
        fee_fen=plan.fee_fen,
        fee_rate=format_rate(plan.fee_rate),
        apr=format_rate(plan.apr),
        status=plan.status.value,
        unbilled_principal_fen=plan.unbilled_principal_fen,
        installments=[
            InstallmentOut(
                k=i.k,
                statement_date=i.statement_date,
                principal_fen=i.principal_fen,
                fee_fen=i.fee_fen,
                status=i.status.value,
                principal_paid_fen=i.principal_paid_fen,
                fee_paid_fen=i.fee_paid_fen,
            )
            for i in plan.installments
        ],
    )


@router.get(f"{BASE}/statements", response_model=list[StatementOut])
def list_statements(
    principal: Anyone, customer_id: OwnCustomer, book: BookDep
) -> list[StatementOut]:
    """Every statement printed, oldest first."""
    state = _state(book, customer_id, None)
    return [statement_out(s) for s in state.paylater.statements]


@router.get(f"{BASE}/plans", response_model=list[PlanOut])
def list_plans(principal: Anyone, customer_id: OwnCustomer, book: BookDep) -> list[PlanOut]:
    """Every installment plan, in the order made."""
    state = _state(book, customer_id, None)
    return [plan_out(plan) for plan in state.paylater.plans.values()]


@router.post(
    f"{BASE}/plans",
    response_model=ConversionOut,
    status_code=201,
    responses={
        200: {"model": ConversionOut, "description": "Declined: nothing was converted."},
        **IDEMPOTENT_RESPONSES,
    },
)
def convert(
    principal: CustomerOrStaff,
    customer_id: OwnCustomer,
    body: ConversionRequest,
    book: BookDep,
    idempotency: Idempotent,
) -> Response:
    """Convert a purchase not yet billed (`purchase_ref`) or a statement's unpaid revolving
    principal (`statement_date`) into installments: 201 when made, 200 when declined."""

    def run() -> tuple[int, ConversionOut]:
        result = convert_to_installments(
            book.store.unit_of_work(),
            customer_id=customer_id,
            plan_ref=body.plan_ref,
            periods=body.periods,
            on=business_date(body.on, book),
            idempotency_key=idempotency.key or "",
            purchase_ref=body.purchase_ref,
            statement_date=body.statement_date,
        )
        approved = result.plan is not None
        out = ConversionOut(
            customer_id=customer_id,
            plan_ref=body.plan_ref,
            approved=approved,
            decision=DecisionOut.of(result.decision),
            plan=None if result.plan is None else plan_out(result.plan),
        )
        return (201 if approved else 200), out

    return idempotency.respond(run)


@router.post(
    f"{BASE}/plans/{{plan_ref}}/settle", response_model=EntryOut, responses=IDEMPOTENT_RESPONSES
)
def settle(
    principal: CustomerOrStaff,
    customer_id: OwnCustomer,
    plan_ref: PlanRef,
    book: BookDep,
    idempotency: Idempotent,
    body: SettlementRequest | None = None,
) -> Response:
    """Settle a plan early: its unbilled principal is paid now, unbilled fees waived."""
    on = body.on if body is not None else None

    def run() -> tuple[int, EntryOut]:
        entry = settle_installments(
            book.store.unit_of_work(),
            customer_id=customer_id,
            plan_ref=plan_ref,
            on=business_date(on, book),
            idempotency_key=idempotency.key or "",
        )
        paid = 0 if entry is None else entry.lines[0].amount_fen
        return 200, EntryOut(
            customer_id=customer_id,
            amount_fen=paid,
            entry_id=None if entry is None else entry.entry_id,
        )

    return idempotency.respond(run)
