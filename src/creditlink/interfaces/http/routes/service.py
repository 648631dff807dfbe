"""`/healthz` for load balancers and `/metrics` for Prometheus: no API key needed."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response

from creditlink.interfaces.http.deps import BookDep
from creditlink.interfaces.http.metrics import CONTENT_TYPE, HttpMetrics
from creditlink.interfaces.http.problems import ProblemError
from creditlink.interfaces.http.schemas import Health, Problem

router = APIRouter(tags=["service"])
log = logging.getLogger(__name__)


@router.get(
    "/healthz",
    response_model=Health,
    responses={503: {"model": Problem, "description": "The database did not answer."}},
)
def healthz(book: BookDep) -> Health:
    """Whether the service can reach its database."""
    try:
        with book.store.reader() as uow:
            uow.parameters.current()
    except Exception as error:
        log.warning("health check: the database did not answer: %s", error)
        raise ProblemError(503, "the database did not answer", rule="DATABASE_REACHABLE") from None
    return Health(status="ok", database="ok")


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus text exposition (see `interfaces.http.metrics`)."""
    collected: HttpMetrics = request.app.state.metrics
    return Response(collected.exposition(), media_type=CONTENT_TYPE)
