"""Decisions: every approve or decline with its reasons and the versions that decided."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from creditlink.application.ports import DecisionRecord
from creditlink.application.queries import PAGE_LIMIT_MAX, Page, decision_page
from creditlink.interfaces.http.auth import Anyone, OwnCustomer, StaffOrAuditor
from creditlink.interfaces.http.deps import BookDep
from creditlink.interfaces.http.schemas import (
    ERROR_RESPONSES,
    DecisionItem,
    DecisionOut,
    DecisionPage,
)

router = APIRouter(tags=["decisions"], responses=ERROR_RESPONSES)
OFFSET_MAX = 1_000_000_000
Offset = Annotated[int, Query(ge=0, le=OFFSET_MAX)]
Limit = Annotated[int, Query(ge=1, le=PAGE_LIMIT_MAX)]


def _page(page: Page[DecisionRecord]) -> DecisionPage:
    return DecisionPage(
        items=[
            DecisionItem(**DecisionOut.of(d).model_dump(), customer_id=d.customer_id)
            for d in page.items
        ],
        total=page.total,
        offset=page.offset,
        limit=page.limit,
    )


@router.get("/decisions", response_model=DecisionPage)
def list_decisions(
    principal: StaffOrAuditor,
    book: BookDep,
    customer_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> DecisionPage:
    """Decisions, newest first, of every customer or of `customer_id`."""
    return _page(
        decision_page(book.store.reader(), customer_id=customer_id, offset=offset, limit=limit)
    )


@router.get("/customers/{customer_id}/decisions", response_model=DecisionPage)
def customer_decisions(
    principal: Anyone,
    customer_id: OwnCustomer,
    book: BookDep,
    offset: Offset = 0,
    limit: Limit = 50,
) -> DecisionPage:
    """One customer's decisions, newest first."""
    return _page(
        decision_page(book.store.reader(), customer_id=customer_id, offset=offset, limit=limit)
    )
