"""Limits: show a customer's; staff change them and grant temporary PayLater limits."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Response

from creditlink.application.customers import change_limits, grant_temporary_limit, show_customer
from creditlink.bootstrap import Book
from creditlink.domain.errors import InvalidInput
from creditlink.interfaces.http.auth import Anyone, OwnCustomer, Staff
from creditlink.interfaces.http.deps import BookDep, ViewOn, business_date, view_date
from creditlink.interfaces.http.idempotency import IDEMPOTENT_RESPONSES, OptionallyIdempotent
from creditlink.interfaces.http.schemas import (
    ERROR_RESPONSES,
    LimitChangeOut,
    LimitChangeRequest,
    LimitsOut,
    TemporaryLimitRequest,
)

router = APIRouter(tags=["limits"], responses=ERROR_RESPONSES)
PATH = "/customers/{customer_id}/limits"


def _limits(book: Book, customer_id: str, on: date) -> LimitsOut:
    view = show_customer(book.store.reader(), customer_id=customer_id, on=on)
    return LimitsOut.of(view.limit, view.on)


@router.get(PATH, response_model=LimitsOut)
def show_limits(
    principal: Anyone,
    customer_id: OwnCustomer,
    book: BookDep,
    on: ViewOn = None,
) -> LimitsOut:
    """The joint limit, the caps, usage and what is available in each product."""
    return _limits(book, customer_id, view_date(on, book))


@router.post(PATH, response_model=LimitChangeOut, responses=IDEMPOTENT_RESPONSES)
def set_limits(
    principal: Staff,
    customer_id: OwnCustomer,
    body: LimitChangeRequest,
    book: BookDep,
    idempotency: OptionallyIdempotent,
) -> Response:
    """Change the joint limit or a cap, with a reason (audited): decreases take effect at
    once, increases after `limit.increase_delay_days`."""

    def run() -> tuple[int, LimitChangeOut]:
        amounts = {
            "joint_limit_fen": body.joint_limit_fen,
            "cap_paylater_fen": body.cap_paylater_fen,
            "cap_loan_fen": body.cap_loan_fen,
        }
        if all(value is None for value in amounts.values()):
            raise InvalidInput(
                "give at least one of joint_limit_fen, cap_paylater_fen, cap_loan_fen",
                field="joint_limit_fen",
                rule="LIMIT_REQUIRED",
            )
        on = business_date(body.on, book)
        change = change_limits(
            book.store.unit_of_work(),
            customer_id=customer_id,
            on=on,
            actor=principal.actor,
            reason=body.reason,
            clock=book.clock,
            **amounts,
        )
        pending = change.pending
        return 200, LimitChangeOut(
            applied_now={f"{name}_fen": value for name, value in change.applied_now.items()},
            pending_from=pending.effective_on if pending else None,
            limits=_limits(book, customer_id, on),
        )

    return idempotency.respond(run)


@router.post(f"{PATH}/temporary", response_model=LimitsOut, responses=IDEMPOTENT_RESPONSES)
def grant_temporary(
    principal: Staff,
    customer_id: OwnCustomer,
    body: TemporaryLimitRequest,
    book: BookDep,
    idempotency: OptionallyIdempotent,
) -> Response:
    """Grant a temporary PayLater limit from the business date through `expires_on`, with a
    reason (audited)."""

    def run() -> tuple[int, LimitsOut]:
        on = business_date(body.on, book)
        grant_temporary_limit(
            book.store.unit_of_work(),
            customer_id=customer_id,
            amount_fen=body.amount_fen,
            on=on,
            expires_on=body.expires_on,
            actor=principal.actor,
            reason=body.reason,
            clock=book.clock,
        )
        return 200, _limits(book, customer_id, on)

    return idempotency.respond(run)
