"""schemathesis against the app (in-process, ASGI) on a seeded SQLite book: no operation
answers with a server error, and every response matches the schema /openapi.json gives.

The book holds two customers with purchases, a statement, a plan, a loan, an alert and an
incident; generated path parameters are steered to those half of the time, so that the
fuzzing reaches the handlers' real work, not only their 404s.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from creditlink.application.close_of_day import close_day
from creditlink.application.loans import draw_loan
from creditlink.application.paylater import convert_to_installments, purchase
from creditlink.application.ports import Incident
from creditlink.bootstrap import Book, memory_book, open_book
from creditlink.domain.loan.schedule import Method
from creditlink.interfaces.http.app import create_app
from tests.conftest import CLOCK, DAY, add_customer
from tests.service import add_alert, make_key

# Known resources the generated path parameters are steered to.
KNOWN = {
    "customer_id": "c1",
    "loan_ref": "L1",
    "plan_ref": "plan1",
    "alert_id": 1,
    "incident_id": 1,
    "version": 1,
}


def _seed(book: Book) -> None:
    for n, customer_id in enumerate(("c1", "c2"), start=1):
        add_customer(book.store, customer_id, sequence=n)
        for ref in ("p1", "p2"):
            purchase(
                book.store.unit_of_work(),
                customer_id=customer_id,
                ref=ref,
                amount_fen=40_000,
                merchant="Grocer",
                category="retail",
                on=DAY,
                idempotency_key=f"{customer_id}-{ref}",
            )
    convert_to_installments(
        book.store.unit_of_work(),
        customer_id="c1",
        plan_ref="plan1",
        periods=3,
        on=DAY,
        idempotency_key="c1-plan1",
        purchase_ref="p1",
    )
    draw_loan(
        book.store.unit_of_work(),
        customer_id="c1",
        ref="L1",
        amount_fen=300_000,
        term_months=3,
        method=Method.EQUAL_PRINCIPAL,
        on=DAY,
        idempotency_key="c1-L1",
    )
    day = DAY
    while day <= DAY + timedelta(days=28):  # through the first statement (1 February)
        close_day(book.store, on=day, clock=CLOCK)
        day += timedelta(days=1)
    add_alert(book, "c1")
    with book.store.unit_of_work() as uow:
        uow.portfolio.add_incident(
            Incident(
                incident_id=0,
                opened_on=DAY,
                opened_at=CLOCK.now(),
                breaches=(
                    {"indicator": "new_overdue_rate_7d", "value": "1.0", "threshold": "0.05"},
                ),
                normal_version=1,
                tightened_version=1,
            )
        )
        uow.commit()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, str]]:
    path: Path = tmp_path_factory.mktemp("fuzz") / "book.db"
    book = open_book(f"sqlite:///{path}", clock=CLOCK)
    _seed(book)
    key = make_key(book, "risk_admin")
    yield create_app(book=book), key
    book.store.dispose()


@pytest.fixture(scope="module")
def api_schema(seeded: tuple[FastAPI, str]) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", seeded[0])


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every operation /openapi.json lists (from an empty app: the
    schema does not depend on the book). schemathesis's own `from_fixture` needs a pytest
    internal that pytest 9 no longer has, so the operations are parametrized here."""
    document = create_app(book=memory_book()).openapi()
    return [
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    ]


def _steer(case: Any) -> None:
    """Half the time (decided by the generated value itself), name a known resource."""
    for name, value in list((case.path_parameters or {}).items()):
        if name in KNOWN and len(str(value)) % 2 == 0:
            case.path_parameters[name] = KNOWN[name]


CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]


@pytest.mark.slow
@pytest.mark.parametrize(("method", "path"), _operations())
def test_no_server_error_and_every_response_matches_the_schema(
    method: str, path: str, api_schema: Any, seeded: tuple[FastAPI, str]
) -> None:
    operation = api_schema[path][method]
    headers = {"Authorization": f"Bearer {seeded[1]}"}

    @given(case=operation.as_strategy())
    @settings(
        max_examples=8,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: Any) -> None:
        _steer(case)
        case.call_and_validate(headers=headers, checks=CHECKS)

    fuzz()
