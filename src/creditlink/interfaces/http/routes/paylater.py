"""PayLater: purchases (money-moving, so idempotent)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from creditlink.application.paylater import purchase
from creditlink.interfaces.http.auth import CustomerOrStaff, OwnCustomer
from creditlink.interfaces.http.deps import BookDep, business_date
from creditlink.interfaces.http.idempotency import IDEMPOTENT_RESPONSES, Idempotent
from creditlink.interfaces.http.schemas import (
    ERROR_RESPONSES,
    DecisionOut,
    PurchaseOut,
    PurchaseRequest,
)

router = APIRouter(tags=["paylater"], responses=ERROR_RESPONSES)


@router.post(
    "/customers/{customer_id}/paylater/purchases",
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

    def run() -> tuple[int, PurchaseOut]:
        result = purchase(
            book.store.unit_of_work(),
            customer_id=customer_id,
            ref=body.ref,
            amount_fen=body.amount_fen,
            merchant=body.merchant,
            category=body.category,
            on=business_date(body.on, book),
            idempotency_key=idempotency.key or "",
            at=body.at,
        )
        out = PurchaseOut(
            customer_id=customer_id,
            ref=body.ref,
            amount_fen=body.amount_fen,
            approved=result.approved,
            decision=DecisionOut.of(result.decision),
            entry_id=None if result.entry is None else result.entry.entry_id,
        )
        return (201 if result.approved else 200), out

    return idempotency.respond(run)
