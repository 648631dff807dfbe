"""The API through FastAPI's TestClient, on every store (`book` from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from creditlink.application.apikeys import create_api_key
from creditlink.application.ports import AlertRecord
from creditlink.bootstrap import Book
from creditlink.interfaces.http.app import create_app
from tests.conftest import CLOCK, DAY, add_customer

PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class Keys:
    """One key per role; `customer` acts for c1, `other_customer` for c2."""

    operator: str
    risk_admin: str
    auditor: str
    customer: str
    other_customer: str


def auth(key: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **headers}


def make_key(book: Book, role: str, customer_id: str | None = None) -> str:
    key, _ = create_api_key(
        book.store.unit_of_work(),
        role=role,
        customer_id=customer_id,
        label=f"test {role}",
        actor="test",
        clock=CLOCK,
    )
    return key


def add_alert(book: Book, customer_id: str, *, kind: str = "alert") -> int:
    with book.store.unit_of_work() as uow:
        stored = uow.alerts.add(
            AlertRecord(
                on=DAY,
                customer_id=customer_id,
                kind=kind,
                level="WATCH" if kind == "alert" else "NONE",
                cause="PAYLATER_DPD" if kind == "alert" else "RECOVERY",
                products=("paylater", "loan"),
                evidence="PayLater 3 days past due",
            )
        )
        uow.commit()
    return stored.alert_id


@pytest.fixture
def keys(book: Book) -> Keys:
    """Two customers (c1, c2) and a key for every role."""
    add_customer(book.store, "c1", sequence=1)
    add_customer(book.store, "c2", sequence=2)
    return Keys(
        operator=make_key(book, "operator"),
        risk_admin=make_key(book, "risk_admin"),
        auditor=make_key(book, "auditor"),
        customer=make_key(book, "customer", "c1"),
        other_customer=make_key(book, "customer", "c2"),
    )


@pytest.fixture
def client(book: Book) -> Iterator[TestClient]:
    with TestClient(create_app(book=book)) as test_client:
        yield test_client


def assert_problem(
    response: Response, status: int, rule: str, field: str | None = None
) -> dict[str, Any]:
    """An RFC 9457 problem with this status and rule (and field, when given)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:creditlink:rule:{rule}"
    assert body["status"] == status
    assert body["rule"] == rule
    assert body["title"]
    assert body["detail"]
    if field is not None:
        assert body["field"] == field
    return body
