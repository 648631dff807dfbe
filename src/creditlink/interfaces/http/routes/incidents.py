"""Early-warning incidents: list them; risk_admin restores the normal parameter set."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from creditlink.application.emergency import list_incidents, restore_parameters
from creditlink.interfaces.http.auth import RiskAdmin, StaffOrAuditor
from creditlink.interfaces.http.deps import BookDep
from creditlink.interfaces.http.idempotency import IDEMPOTENT_RESPONSES, OptionallyIdempotent
from creditlink.interfaces.http.schemas import ERROR_RESPONSES, ID_MAX, IncidentOut, RestoreRequest

router = APIRouter(tags=["incidents"], responses=ERROR_RESPONSES)
IncidentId = Annotated[int, Path(ge=1, le=ID_MAX)]


@router.get("/incidents", response_model=list[IncidentOut])
def list_(principal: StaffOrAuditor, book: BookDep) -> list[IncidentOut]:
    """Every incident, oldest first: what breached, the tightened version, the restore."""
    return [IncidentOut.of(incident) for incident in list_incidents(book.store.reader())]


@router.post(
    "/incidents/{incident_id}/restore", response_model=IncidentOut, responses=IDEMPOTENT_RESPONSES
)
def restore(
    principal: RiskAdmin,
    incident_id: IncidentId,
    body: RestoreRequest,
    book: BookDep,
    idempotency: OptionallyIdempotent,
) -> Response:
    """Put the normal parameter set back in force and close the incident, with a reason
    (audited). 409 when it is already closed. risk_admin only."""

    def run() -> tuple[int, IncidentOut]:
        closed = restore_parameters(
            book.store.unit_of_work(),
            incident_id=incident_id,
            actor=principal.actor,
            reason=body.reason,
            clock=book.clock,
        )
        return 200, IncidentOut.of(closed)

    return idempotency.respond(run)
