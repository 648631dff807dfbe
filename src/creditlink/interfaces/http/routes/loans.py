"""Cash loans: quote (at the customer's price), draw and repay (money-moving, so
idempotent), list a customer's loans and show one with its schedule."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from creditlink.application.customers import show_customer
from creditlink.application.loans import draw_loan, quote_loan, repay_loan
from creditlink.application.parameters import parameter_set
from creditlink.application.queries import CustomerState, customer_state
from creditlink.domain.calendar import EARLIEST_DATE, LATEST_DATE
from creditlink.domain.errors import NotFound
from creditlink.domain.loan.loan import Loan
from creditlink.domain.loan.schedule import Method
from creditlink.domain.money import AMOUNT_FEN_MAX, format_rate
from creditlink.interfaces.http.auth import Anyone, CustomerOrStaff, OwnCustomer
from creditlink.interfaces.http.deps import BookDep, ViewOn, business_date, view_date
from creditlink.interfaces.http.idempotency import IDEMPOTENT_RESPONSES, Idempotent
from creditlink.interfaces.http.routes.paylater import amount_or_shortcut, repayment_answer
from creditlink.interfaces.http.schemas import (
    ERROR_RESPONSES,
    DateText,
    DrawOut,
    DrawRequest,
    EntryOut,
    LoanInstallmentOut,
    LoanList,
    LoanMethod,
    LoanOut,
    LoanRepaymentRequest,
    QuotedInstallmentOut,
    QuoteOut,
)

router = APIRouter(tags=["loans"], responses=ERROR_RESPONSES)
BASE = "/customers/{customer_id}/loans"
LoanRef = Annotated[str, Path(min_length=1, max_length=128)]
AsOf = ViewOn


@router.get("/customers/{customer_id}/loan-quote", response_model=QuoteOut)
def quote(
    principal: Anyone,
    customer_id: OwnCustomer,
    book: BookDep,
    amount_fen: Annotated[int, Query(gt=0, le=AMOUNT_FEN_MAX, description="In fen.")],
    term_months: Annotated[int, Query(ge=1, le=120)],
    method: Annotated[LoanMethod, Query()],
    on: Annotated[
        date | None,
        DateText,
        Query(
            ge=EARLIEST_DATE,
            le=LATEST_DATE,
            description="Draw date (default: the open business date).",
        ),
    ] = None,
) -> QuoteOut:
    """The schedule and APR of a draw at the customer's daily rate, paid on time; 409 above
    the APR cap."""
    day = business_date(on, book)
    customer = show_customer(book.store.reader(), customer_id=customer_id, on=day).customer
    offer = quote_loan(
        amount_fen=amount_fen,
        term_months=term_months,
        method=Method(method),
        daily_rate=customer.loan_daily_rate,
        on=day,
        parameters=parameter_set(book.store.reader()),
    )
    return QuoteOut(
        principal_fen=offer.principal_fen,
        term_months=offer.term_months,
        method=offer.method.value,
        daily_rate=format_rate(offer.daily_rate),
        apr=format_rate(offer.apr),
        drawn_on=offer.drawn_on,
        total_interest_fen=offer.interest_fen,
        total_repaid_fen=offer.principal_fen + offer.interest_fen,
        installments=[
            QuotedInstallmentOut(
                k=i.k,
                due_date=i.due_date,
                principal_fen=i.principal_fen,
                interest_fen=i.interest_fen,
                total_fen=i.total_fen,
            )
            for i in offer.installments
        ],
    )


@router.post(
    BASE,
    response_model=DrawOut,
    status_code=201,
    responses={
        200: {"model": DrawOut, "description": "Declined: nothing was paid out."},
        **IDEMPOTENT_RESPONSES,
    },
)
def draw(
    principal: CustomerOrStaff,
    customer_id: OwnCustomer,
    body: DrawRequest,
    book: BookDep,
    idempotency: Idempotent,
) -> Response:
    """Decide a draw at the customer's daily rate and, when approved, pay it out: 201 when
    approved, 200 when declined (`decision.reasons` says why)."""

    def run() -> tuple[int, DrawOut]:
        result = draw_loan(
            book.store.unit_of_work(),
            customer_id=customer_id,
            ref=body.ref,
            amount_fen=body.amount_fen,
            term_months=body.term_months,
            method=Method(body.method),
            on=business_date(body.on, book),
            idempotency_key=idempotency.key or "",
            at=body.at,
        )
        return DrawOut.answer(customer_id, body.ref, body.amount_fen, result)

    return idempotency.respond(run)


def loan_out(loan: Loan, state: CustomerState) -> LoanOut:
    on = state.on
    charges = [state.reported_charges(loan, i) for i in loan.installments]
    return LoanOut(
        ref=loan.ref,
        customer_id=loan.customer_id,
        principal_fen=loan.principal_fen,
        term_months=loan.term_months,
        method=loan.method.value,
        daily_rate=format_rate(loan.daily_rate),
        apr=format_rate(loan.apr),
        drawn_on=loan.drawn_on,
        status=loan.status.value,
        outstanding_principal_fen=loan.outstanding_principal_fen(),
        dpd=loan.dpd(on),
        as_of=on,
        installments=[
            LoanInstallmentOut(
                k=i.k,
                due_date=i.due_date,
                principal_fen=i.principal_fen,
                interest_fen=interest,
                penalty_fen=penalty,
                principal_paid_fen=i.principal_paid_fen,
                interest_paid_fen=i.interest_paid_fen,
                penalty_paid_fen=i.penalty_paid_fen,
                billed=i.billed,
                state=i.state(on).value,
            )
            for i, (interest, penalty) in zip(loan.installments, charges, strict=True)
        ],
    )


@router.get(BASE, response_model=LoanList)
def list_loans(
    principal: Anyone, customer_id: OwnCustomer, book: BookDep, on: AsOf = None
) -> LoanList:
    """The customer's loans in the order drawn, each with its schedule."""
    state = customer_state(book.store.reader(), customer_id=customer_id, on=view_date(on, book))
    return LoanList(items=[loan_out(loan, state) for loan in state.loans])


@router.get(f"{BASE}/{{loan_ref}}", response_model=LoanOut)
def show_loan(
    principal: Anyone, customer_id: OwnCustomer, loan_ref: LoanRef, book: BookDep, on: AsOf = None
) -> LoanOut:
    """One loan and its schedule: what each installment owes and has paid, and its state."""
    state = customer_state(book.store.reader(), customer_id=customer_id, on=view_date(on, book))
    for loan in state.loans:
        if loan.ref == loan_ref:
            return loan_out(loan, state)
    raise NotFound(
        f"customer {customer_id!r} has no loan {loan_ref!r}", field="loan_ref", rule="LOAN_EXISTS"
    )


@router.post(
    f"{BASE}/{{loan_ref}}/repayments",
    response_model=EntryOut,
    responses={
        201: {"model": EntryOut, "description": "Paid: the entry posted."},
        **IDEMPOTENT_RESPONSES,
    },
)
def repay(
    principal: CustomerOrStaff,
    customer_id: OwnCustomer,
    loan_ref: LoanRef,
    body: LoanRepaymentRequest,
    book: BookDep,
    idempotency: Idempotent,
) -> Response:
    """Repay a loan: an amount, or `due`/`minimum` (everything past due with penalty, and
    what is due today) or `all` (the payoff). 201 with the entry posted; 200 with
    `amount_fen` 0 when a shortcut came to nothing."""
    amount = amount_or_shortcut(body.amount_fen, body.shortcut)

    def run() -> tuple[int, EntryOut]:
        paid = repay_loan(
            book.store.unit_of_work(),
            customer_id=customer_id,
            loan_ref=loan_ref,
            amount=amount,
            on=business_date(body.on, book),
            idempotency_key=idempotency.key or "",
        )
        return repayment_answer(customer_id, paid.amount_fen, paid.entry)

    return idempotency.respond(run)
