"""The alert queue: list alerts, show one, acknowledge, escalate."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from creditlink.application.alerts import acknowledge_alert, alert_page, escalate_alert, get_alert
from creditlink.application.queries import PAGE_LIMIT_MAX
from creditlink.domain.errors import NotFound
from creditlink.interfaces.http.auth import (
    CUSTOMER,
    Anyone,
    Staff,
    check_customer_access,
    not_own_customer,
)
from creditlink.interfaces.http.deps import BookDep
from creditlink.interfaces.http.idempotency import IDEMPOTENT_RESPONSES, OptionallyIdempotent
from creditlink.interfaces.http.schemas import (
    ERROR_RESPONSES,
    ID_MAX,
    AlertActionRequest,
    AlertOut,
    AlertPage,
)

router = APIRouter(tags=["alerts"], responses=ERROR_RESPONSES)
AlertId = Annotated[int, Path(ge=1, le=ID_MAX)]
OFFSET_MAX = 1_000_000_000


@router.get("/alerts", response_model=AlertPage)
def list_alerts(
    principal: Anyone,
    book: BookDep,
    customer_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    status: Annotated[Literal["open", "acknowledged", "escalated"] | None, Query()] = None,
    kind: Annotated[Literal["alert", "recovery"] | None, Query()] = None,
    offset: Annotated[int, Query(ge=0, le=OFFSET_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=PAGE_LIMIT_MAX)] = 50,
) -> AlertPage:
    """Alerts, newest first, filtered by customer, status and kind. A customer key sees
    only its own customer's."""
    if principal.role == CUSTOMER:
        if customer_id is not None:
            check_customer_access(principal, customer_id)
        customer_id = principal.customer_id
    page = alert_page(
        book.store.reader(),
        customer_id=customer_id,
        status=status,
        kind=kind,
        offset=offset,
        limit=limit,
    )
    return AlertPage(
        items=[AlertOut.of(alert) for alert in page.items],
        total=page.total,
        offset=page.offset,
        limit=page.limit,
    )


@router.get("/alerts/{alert_id}", response_model=AlertOut)
def show_alert(principal: Anyone, alert_id: AlertId, book: BookDep) -> AlertOut:
    try:
        alert = get_alert(book.store.reader(), alert_id=alert_id)
    except NotFound:
        if principal.role != CUSTOMER:
            raise
        # Another customer's alert is refused; so is one that does not exist, or a customer
        # key could tell which alert ids exist.
        raise not_own_customer() from None
    check_customer_access(principal, alert.customer_id)
    return AlertOut.of(alert)


@router.post(
    "/alerts/{alert_id}/acknowledge", response_model=AlertOut, responses=IDEMPOTENT_RESPONSES
)
def acknowledge(
    principal: Staff,
    alert_id: AlertId,
    book: BookDep,
    idempotency: OptionallyIdempotent,
    body: AlertActionRequest | None = None,
) -> Response:
    """Take an open or escalated alert off the queue; `note` is optional. 409 when it is
    already acknowledged (with an Idempotency-Key, a retry gets the first answer)."""

    def run() -> tuple[int, AlertOut]:
        alert = acknowledge_alert(
            book.store.unit_of_work(),
            alert_id=alert_id,
            actor=principal.actor,
            note=body.note if body else "",
            clock=book.clock,
        )
        return 200, AlertOut.of(alert)

    return idempotency.respond(run)


@router.post("/alerts/{alert_id}/escalate", response_model=AlertOut, responses=IDEMPOTENT_RESPONSES)
def escalate(
    principal: Staff,
    alert_id: AlertId,
    body: AlertActionRequest,
    book: BookDep,
    idempotency: OptionallyIdempotent,
) -> Response:
    """Hand an open or acknowledged alert to a risk officer; `note` says why (required).
    409 when it is already escalated, or records a recovery (with an Idempotency-Key, a
    retry gets the first answer)."""

    def run() -> tuple[int, AlertOut]:
        alert = escalate_alert(
            book.store.unit_of_work(),
            alert_id=alert_id,
            actor=principal.actor,
            note=body.note,
            clock=book.clock,
        )
        return 200, AlertOut.of(alert)

    return idempotency.respond(run)
