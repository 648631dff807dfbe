"""The dashboard through FastAPI's TestClient: a small in-memory book, a key per role."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from creditlink.application.apikeys import create_api_key
from creditlink.application.ports import AlertRecord
from creditlink.bootstrap import Book, memory_book
from tests.conftest import CLOCK, DAY, add_customer, national_id

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


@dataclass(frozen=True)
class Keys:
    """One key per role; `customer` acts for c1, `other_customer` for c2."""

    operator: str
    risk_admin: str
    auditor: str
    customer: str
    other_customer: str


def make_key(book: Book, role: str, customer_id: str | None = None) -> str:
    key, _ = create_api_key(
        book.store.unit_of_work(),
        role=role,
        customer_id=customer_id,
        label=f"web test {role}",
        actor="test",
        clock=CLOCK,
    )
    return key


def add_alert(book: Book, customer_id: str, *, level: str = "WATCH") -> int:
    with book.store.unit_of_work() as uow:
        stored = uow.alerts.add(
            AlertRecord(
                on=DAY,
                customer_id=customer_id,
                kind="alert",
                level=level,
                cause="PAYLATER_DPD",
                products=("paylater", "loan"),
                evidence=f"{customer_id}: PayLater 3 days past due",
            )
        )
        uow.commit()
    return stored.alert_id


# The full national IDs of c1 and c2 (add_customer's sequence 1 and 2): never on a page.
FULL_IDS = (national_id(1), national_id(2))


@pytest.fixture
def web_book() -> Book:
    book = memory_book(clock=CLOCK)
    add_customer(book.store, "c1", sequence=1)
    add_customer(book.store, "c2", sequence=2)
    return book


@pytest.fixture
def keys(web_book: Book) -> Keys:
    return Keys(
        operator=make_key(web_book, "operator"),
        risk_admin=make_key(web_book, "risk_admin"),
        auditor=make_key(web_book, "auditor"),
        customer=make_key(web_book, "customer", "c1"),
        other_customer=make_key(web_book, "customer", "c2"),
    )


@pytest.fixture
def client(web_book: Book) -> Iterator[TestClient]:
    from creditlink.interfaces.http.app import create_app

    with TestClient(create_app(book=web_book), base_url="http://testserver") as test_client:
        yield test_client


def sign_in(client: TestClient, key: str) -> None:
    response = client.post("/ui/sign-in", data={"api_key": key}, follow_redirects=False)
    assert response.status_code == 303, response.text


def csrf_of(client: TestClient, path: str = "/ui/alerts") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = CSRF.search(page.text)
    assert found, "no CSRF token on the page"
    return found.group(1)
