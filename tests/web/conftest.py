"""The dashboard through FastAPI's TestClient: a small in-memory book, a key per role."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from creditlink.bootstrap import Book, memory_book
from tests.conftest import CLOCK, add_customer, national_id
from tests.service import Keys

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


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
    return Keys.made_in(web_book)


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
