"""The API through FastAPI's TestClient, on every store (`book` from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from creditlink.bootstrap import Book
from creditlink.interfaces.http.app import create_app
from tests.conftest import add_customer
from tests.service import Keys

PROBLEM = "application/problem+json"


def auth(key: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **headers}


@pytest.fixture
def keys(book: Book) -> Keys:
    """Two customers (c1, c2) and a key for every role."""
    add_customer(book.store, "c1", sequence=1)
    add_customer(book.store, "c2", sequence=2)
    return Keys.made_in(book)


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
