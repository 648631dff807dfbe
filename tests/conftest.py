"""Shared fixtures: books on each store, and PostgreSQL when it can be reached.

PostgreSQL tests use CREDITLINK_TEST_PG_URL, else try postgresql://postgres@127.0.0.1:5432/test.
Where neither answers they skip and say why, unless CREDITLINK_REQUIRE_PG=1 (set by .ci/run),
which turns the skip into a failure so that CI can never pass without them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from creditlink.adapters.clock import FixedClock
from creditlink.application.customers import onboard_customer
from creditlink.application.loans import draw_loan
from creditlink.application.paylater import purchase
from creditlink.application.ports import Store
from creditlink.bootstrap import Book, memory_book, open_book
from creditlink.domain.customer import national_id_check_character
from creditlink.domain.limits import LimitExceeded
from creditlink.domain.loan.schedule import Method
from creditlink.domain.products import Product

settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=60, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

PG_DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CLOCK = FixedClock(datetime(2026, 1, 1, 9, 0, tzinfo=UTC))
DAY = date(2026, 1, 5)


def national_id(sequence: int, birth: str = "19900101") -> str:
    """A valid national ID for test customers (region 110105, Beijing Chaoyang)."""
    first_17 = f"110105{birth}{sequence % 1000:03d}"
    return first_17 + national_id_check_character(first_17)


def add_customer(
    store: Store,
    customer_id: str,
    *,
    joint: int = 2_000_000,
    cap_paylater: int | None = 1_500_000,
    cap_loan: int | None = None,
    sequence: int | None = None,
) -> None:
    number = sequence if sequence is not None else abs(hash(customer_id)) % 1000
    onboard_customer(
        store.unit_of_work(),
        customer_id=customer_id,
        name=f"Customer {customer_id}",
        national_id=national_id(number),
        mobile="13800138000",
        joint_limit_fen=joint,
        cap_paylater_fen=cap_paylater,
        cap_loan_fen=cap_loan,
        on=DAY,
        actor="test",
        clock=CLOCK,
    )


def _pg_base_url() -> str | None:
    """A reachable PostgreSQL URL, or None."""
    url = os.environ.get("CREDITLINK_TEST_PG_URL", PG_DEFAULT_URL)
    try:
        import psycopg

        plain = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(plain, connect_timeout=2):
            return url
    except Exception:
        return None


_PG_URL = _pg_base_url()
PG_SKIP_REASON = (
    "PostgreSQL not reachable (set CREDITLINK_TEST_PG_URL, or run one on "
    "127.0.0.1:5432 with database 'test')"
)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh schema in the test database, dropped afterwards."""
    if _PG_URL is None:
        if os.environ.get("CREDITLINK_REQUIRE_PG") == "1":
            pytest.fail(f"CREDITLINK_REQUIRE_PG=1 but {PG_SKIP_REASON}")
        pytest.skip(PG_SKIP_REASON)
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    plain = _PG_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in _PG_URL else "?"
    yield f"{_PG_URL}{separator}options=-csearch_path%3D{schema}"
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'book.db'}"


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def book(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Book]:
    """The same tests on every store behind the ports."""
    if request.param == "memory":
        yield memory_book(clock=CLOCK)
        return
    url = (
        f"sqlite:///{tmp_path / 'book.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    opened = open_book(url, clock=CLOCK)
    yield opened
    opened.store.dispose()


@pytest.fixture
def mem() -> Book:
    return memory_book(clock=CLOCK)


def spend(
    store: Store, customer_id: str, product: Product, amount: int, key: str, on: date = DAY
) -> int | None:
    """A purchase or a 3-month loan draw: the entry id, `LimitExceeded` when the limit says
    no, and None when declined for another reason."""
    if product is Product.PAYLATER:
        decided = purchase(
            store.unit_of_work(),
            customer_id=customer_id,
            ref=key,
            amount_fen=amount,
            merchant="m1",
            category="retail",
            on=on,
            idempotency_key=key,
        )
    else:
        decided = draw_loan(
            store.unit_of_work(),
            customer_id=customer_id,
            ref=key,
            amount_fen=amount,
            term_months=3,
            method=Method.EQUAL_PRINCIPAL,
            on=on,
            idempotency_key=key,
        )
    if not decided.approved:
        if "LIMIT_EXCEEDED" in decided.decision.reasons:
            raise LimitExceeded(product=product, amount_fen=amount, available_fen=-1)
        return None
    assert decided.entry is not None
    return decided.entry.entry_id
