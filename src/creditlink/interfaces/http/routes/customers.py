"""Customers: onboard (with the application decision), list by pages, show one."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Query, Response

from creditlink.application.customers import (
    apply_for_credit,
    customer_page,
    onboard_customer,
    show_customer,
)
from creditlink.application.queries import PAGE_LIMIT_MAX
from creditlink.bootstrap import Book
from creditlink.domain.errors import InvalidInput
from creditlink.interfaces.http.auth import CUSTOMER, Anyone, OwnCustomer, Staff
from creditlink.interfaces.http.deps import BookDep, ViewOn, business_date, view_date
from creditlink.interfaces.http.idempotency import OptionallyIdempotent
from creditlink.interfaces.http.schemas import (
    ERROR_RESPONSES,
    CustomerOut,
    CustomerPage,
    CustomerSummary,
    DecisionOut,
    OnboardOut,
    OnboardRequest,
)

router = APIRouter(tags=["customers"], responses=ERROR_RESPONSES)
OFFSET_MAX = 1_000_000_000


@router.post(
    "/customers",
    response_model=OnboardOut,
    status_code=201,
    responses={200: {"model": OnboardOut, "description": "Declined: no customer was made."}},
)
def onboard(
    principal: Staff, body: OnboardRequest, book: BookDep, idempotency: OptionallyIdempotent
) -> Response:
    """Onboard a customer: scored from `monthly_income_fen` (the application decision
    approves or declines), or with `joint_limit_fen` set by hand. 201 when a customer was
    made, 200 when the application was declined."""
    return idempotency.respond(lambda: _onboard(body, book, actor=principal.actor))


def _onboard(body: OnboardRequest, book: Book, *, actor: str) -> tuple[int, OnboardOut]:
    if body.joint_limit_fen is None and body.monthly_income_fen is None:
        raise InvalidInput(
            "give monthly_income_fen (to be scored) or joint_limit_fen (set by hand)",
            field="monthly_income_fen",
            rule="LIMIT_OR_INCOME_REQUIRED",
        )
    if body.joint_limit_fen is None and (body.cap_paylater_fen, body.cap_loan_fen) != (None, None):
        raise InvalidInput(
            "caps are set by hand with joint_limit_fen; a scored application gets them from "
            "its grade",
            field="cap_paylater_fen" if body.cap_paylater_fen is not None else "cap_loan_fen",
            rule="CAPS_NEED_JOINT_LIMIT",
        )
    customer_id = body.customer_id or f"C{secrets.token_hex(6)}"
    on = business_date(body.on, book)
    if body.joint_limit_fen is None:
        assert body.monthly_income_fen is not None
        outcome = apply_for_credit(
            book.store.unit_of_work(),
            customer_id=customer_id,
            name=body.name,
            national_id=body.national_id,
            mobile=body.mobile,
            monthly_income_fen=body.monthly_income_fen,
            on=on,
            actor=actor,
            clock=book.clock,
            statement_day=body.statement_day,
        )
        decision = DecisionOut.of(outcome.decision)
        if outcome.view is None:
            return 200, OnboardOut(customer_id=customer_id, decision=decision, customer=None)
        view = outcome.view
    else:
        decision = None
        view = onboard_customer(
            book.store.unit_of_work(),
            customer_id=customer_id,
            name=body.name,
            national_id=body.national_id,
            mobile=body.mobile,
            joint_limit_fen=body.joint_limit_fen,
            cap_paylater_fen=body.cap_paylater_fen,
            cap_loan_fen=body.cap_loan_fen,
            monthly_income_fen=body.monthly_income_fen,
            on=on,
            actor=actor,
            clock=book.clock,
            statement_day=body.statement_day,
        )
    customer = CustomerOut.of_view(view)
    return 201, OnboardOut(customer_id=customer_id, decision=decision, customer=customer)


@router.get("/customers", response_model=CustomerPage)
def list_customers(
    principal: Anyone,
    book: BookDep,
    offset: Annotated[int, Query(ge=0, le=OFFSET_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=PAGE_LIMIT_MAX)] = 50,
) -> CustomerPage:
    """Customers by id, a page at a time, with how many there are in all. A customer key
    sees only its own customer."""
    if principal.role == CUSTOMER:
        assert principal.customer_id is not None
        on = view_date(None, book)
        own = show_customer(book.store.reader(), customer_id=principal.customer_id, on=on)
        items = [CustomerSummary.of(own.customer)][offset : offset + limit]
        return CustomerPage(items=items, total=1, offset=offset, limit=limit)
    page = customer_page(book.store.reader(), offset=offset, limit=limit)
    return CustomerPage(
        items=[CustomerSummary.of(customer) for customer in page.items],
        total=page.total,
        offset=page.offset,
        limit=page.limit,
    )


@router.get("/customers/{customer_id}", response_model=CustomerOut)
def show(
    principal: Anyone,
    customer_id: OwnCustomer,
    book: BookDep,
    on: ViewOn = None,
) -> CustomerOut:
    """A customer: identity (masked), score with its reasons, limits, usage, availability."""
    view = show_customer(book.store.reader(), customer_id=customer_id, on=view_date(on, book))
    return CustomerOut.of_view(view)
