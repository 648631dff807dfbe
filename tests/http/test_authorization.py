"""Every route refuses a missing key (401), a role it does not allow (403) and, where it is
about one customer, another customer's key (403); and lets the roles it allows through.

Routes are enumerated from `app.routes`, and the expected roles of each are written out here:
a route added to the app without an entry in ROLES, or a public one not in PUBLIC, fails
`test_every_route_is_in_the_matrix`, so no route escapes the matrix.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from creditlink.application.parameters import set_parameters
from creditlink.application.ports import Incident
from creditlink.bootstrap import Book
from creditlink.interfaces.http.app import create_app
from tests.conftest import CLOCK, DAY, add_customer
from tests.http.conftest import assert_problem, auth
from tests.service import add_alert, make_key

C, OP, R, A = "customer", "operator", "risk_admin", "auditor"
ALL = frozenset({C, OP, R, A})
STAFF = frozenset({OP, R})
STAFF_AUDITOR = frozenset({OP, R, A})
CUSTOMER_STAFF = frozenset({C, OP, R})

# (method, path template) -> the roles allowed. Auditors may only read: a non-GET route that
# lists them would be a mistake, and test_auditors_are_never_allowed_to_write says so.
ROLES: dict[tuple[str, str], frozenset[str]] = {
    ("POST", "/customers"): STAFF,
    ("GET", "/customers"): ALL,
    ("GET", "/customers/{customer_id}"): ALL,
    ("GET", "/customers/{customer_id}/limits"): ALL,
    ("POST", "/customers/{customer_id}/limits"): STAFF,
    ("POST", "/customers/{customer_id}/limits/temporary"): STAFF,
    ("POST", "/customers/{customer_id}/paylater/purchases"): CUSTOMER_STAFF,
    ("POST", "/customers/{customer_id}/paylater/refunds"): STAFF,
    ("POST", "/customers/{customer_id}/paylater/repayments"): CUSTOMER_STAFF,
    ("GET", "/customers/{customer_id}/paylater"): ALL,
    ("GET", "/customers/{customer_id}/paylater/statements"): ALL,
    ("GET", "/customers/{customer_id}/paylater/plans"): ALL,
    ("POST", "/customers/{customer_id}/paylater/plans"): CUSTOMER_STAFF,
    ("POST", "/customers/{customer_id}/paylater/plans/{plan_ref}/settle"): CUSTOMER_STAFF,
    ("GET", "/customers/{customer_id}/loan-quote"): ALL,
    ("POST", "/customers/{customer_id}/loans"): CUSTOMER_STAFF,
    ("GET", "/customers/{customer_id}/loans"): ALL,
    ("GET", "/customers/{customer_id}/loans/{loan_ref}"): ALL,
    ("POST", "/customers/{customer_id}/loans/{loan_ref}/repayments"): CUSTOMER_STAFF,
    ("GET", "/decisions"): STAFF_AUDITOR,
    ("GET", "/customers/{customer_id}/decisions"): ALL,
    ("GET", "/alerts"): ALL,
    ("GET", "/alerts/{alert_id}"): ALL,
    ("POST", "/alerts/{alert_id}/acknowledge"): STAFF,
    ("POST", "/alerts/{alert_id}/escalate"): STAFF,
    ("GET", "/parameters"): STAFF_AUDITOR,
    ("POST", "/parameters"): frozenset({R}),
    ("GET", "/parameters/versions"): STAFF_AUDITOR,
    ("GET", "/parameters/versions/{version}"): STAFF_AUDITOR,
    ("GET", "/parameters/diff"): STAFF_AUDITOR,
    ("GET", "/parameters/shadow"): STAFF_AUDITOR,
    ("POST", "/parameters/shadow"): frozenset({R}),
    ("POST", "/parameters/shadow/stop"): frozenset({R}),
    ("GET", "/incidents"): STAFF_AUDITOR,
    ("POST", "/incidents/{incident_id}/restore"): frozenset({R}),
    ("GET", "/ledger/verify"): STAFF_AUDITOR,
    ("GET", "/audit"): frozenset({A, R}),
    ("GET", "/portfolio/ecl"): STAFF_AUDITOR,
    ("GET", "/portfolio"): STAFF_AUDITOR,
}
# Routes anyone may call: the service's own, and the API's documentation.
PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
}
# The dashboard's pages (`interfaces.web`) sign in with a session cookie, not a key: without
# one, each refuses (a redirect to the sign-in form, or 401/403). Their roles are tested with
# the pages (tests/web). These need no session: the sign-in form and the static files.
PAGES = "/ui"
PUBLIC_PAGES = {("GET", "/ui/sign-in"), ("POST", "/ui/sign-in")}
PUBLIC_PAGE_PREFIX = "/ui/static"
# Valid-looking bodies and queries, so that a refusal is about the key, not the input.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/customers"): {
        "name": "Li Lei",
        "national_id": "11010519900101001X",
        "mobile": "13912345678",
        "joint_limit_fen": 100_000,
    },
    ("POST", "/customers/{customer_id}/limits"): {"cap_loan_fen": 1_000_000, "reason": "review"},
    ("POST", "/customers/{customer_id}/limits/temporary"): {
        "amount_fen": 10_000,
        "expires_on": "2026-02-01",
        "reason": "holiday",
        "on": "2026-01-05",
    },
    ("POST", "/customers/{customer_id}/paylater/purchases"): {
        "ref": "p1",
        "amount_fen": 1_000,
        "merchant": "Grocer",
        "category": "retail",
        "on": "2026-01-05",
    },
    ("POST", "/customers/{customer_id}/paylater/refunds"): {
        "purchase_ref": "p0",
        "amount_fen": 100,
        "on": "2026-01-05",
    },
    ("POST", "/customers/{customer_id}/paylater/repayments"): {
        "amount_fen": 100,
        "on": "2026-01-05",
    },
    ("POST", "/customers/{customer_id}/paylater/plans"): {
        "plan_ref": "plan1",
        "periods": 3,
        "purchase_ref": "p0",
        "on": "2026-01-05",
    },
    ("POST", "/customers/{customer_id}/paylater/plans/{plan_ref}/settle"): {"on": "2026-01-05"},
    ("POST", "/customers/{customer_id}/loans"): {
        "ref": "L2",
        "amount_fen": 100_000,
        "term_months": 3,
        "method": "equal_principal",
        "on": "2026-01-05",
    },
    ("POST", "/customers/{customer_id}/loans/{loan_ref}/repayments"): {
        "amount_fen": 100,
        "on": "2026-01-05",
    },
    ("POST", "/alerts/{alert_id}/acknowledge"): {"note": "called"},
    ("POST", "/alerts/{alert_id}/escalate"): {"note": "promise missed"},
    ("POST", "/parameters"): {"changes": {"linkage.restrict_dpd": "5"}, "reason": "pilot"},
    ("POST", "/parameters/shadow"): {"changes": {"linkage.restrict_dpd": "3"}, "reason": "try"},
    ("POST", "/parameters/shadow/stop"): {"reason": "done"},
    ("POST", "/incidents/{incident_id}/restore"): {"reason": "recovered"},
}
QUERIES = {
    ("GET", "/customers/{customer_id}/loan-quote"): (
        "?amount_fen=100000&term_months=3&method=equal_principal"
    ),
    ("GET", "/parameters/diff"): "?from=1&to=1",
    ("GET", "/alerts"): "?customer_id={customer_id}",
}


def every_route(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every route the app answers, included routers' routes too."""

    def walk(routes: list[Any]) -> Iterator[Any]:
        for route in routes:
            if hasattr(route, "effective_route_contexts"):  # an included router
                yield from route.effective_route_contexts()
            elif hasattr(route, "routes") and not hasattr(route, "methods"):  # a Mount
                yield route
            else:
                yield route

    found = []
    for route in walk(list(app.routes)):
        methods = getattr(route, "methods", None) or {"GET"}
        for method in sorted(set(methods) - {"HEAD"}):
            found.append((method, route.path))
    return found


@dataclass(frozen=True)
class World:
    client: TestClient
    keys: dict[str, str]  # by role; the customer's is c1's
    other_customer: str  # c2's key
    alert_id: int
    incident_id: int


@pytest.fixture
def world(mem: Book) -> Iterator[World]:
    book = mem
    add_customer(book.store, "c1", sequence=1)
    add_customer(book.store, "c2", sequence=2)
    keys = {role: make_key(book, role, "c1" if role == C else None) for role in sorted(ALL)}
    other = make_key(book, C, "c2")
    alert_id = add_alert(book, "c1")
    tightened = set_parameters(
        book.store.unit_of_work(),
        changes={"linkage.restrict_dpd": "2"},
        actor="system:emergency",
        reason="breach",
        clock=CLOCK,
    )
    with book.store.unit_of_work() as uow:
        incident = uow.portfolio.add_incident(
            Incident(
                incident_id=0,
                opened_on=DAY,
                opened_at=CLOCK.now(),
                breaches=(),
                normal_version=1,
                tightened_version=tightened.version,
            )
        )
        uow.commit()
    with TestClient(create_app(book=book)) as client:
        yield World(client, keys, other, alert_id, incident.incident_id)


_counter = itertools.count()


def _call(world: World, method: str, template: str, key: str | None) -> Any:
    values = {
        "customer_id": "c1",
        "alert_id": str(world.alert_id),
        "incident_id": str(world.incident_id),
        "loan_ref": "L1",
        "plan_ref": "plan1",
        "version": "1",
    }
    path = template.format(**values) + QUERIES.get((method, template), "").format(**values)
    headers = {"Idempotency-Key": f"authz-{next(_counter)}"}
    if key is not None:
        headers.update(auth(key))
    body = BODIES.get((method, template))
    return world.client.request(method, path, json=body, headers=headers)


def _is_page(route: tuple[str, str]) -> bool:
    return route[1] == PAGES or route[1].startswith(f"{PAGES}/")


def test_every_route_is_in_the_matrix(world: World) -> None:
    routes = {r for r in every_route(world.client.app) if not _is_page(r)}  # type: ignore[arg-type]
    assert routes - PUBLIC - set(ROLES) == set(), "routes missing from ROLES (or PUBLIC)"
    assert set(ROLES) - routes == set(), "ROLES lists routes the app does not have"
    assert len(routes) > 30


def test_auditors_are_never_allowed_to_write() -> None:
    assert all(A not in roles for (method, _), roles in ROLES.items() if method != "GET")


@pytest.mark.parametrize(("method", "template"), sorted(ROLES))
def test_a_route_refuses_a_missing_key_and_a_wrong_role_and_lets_its_roles_in(
    world: World, method: str, template: str
) -> None:
    allowed = ROLES[(method, template)]
    missing = _call(world, method, template, None)
    assert_problem(missing, 401, "API_KEY_REQUIRED", "Authorization")
    bad = _call(world, method, template, "cl_not-a-key")
    assert_problem(bad, 401, "API_KEY_VALID")
    for role in sorted(ALL - allowed):
        refused = _call(world, method, template, world.keys[role])
        rule = "AUDITOR_READ_ONLY" if role == A and method != "GET" else "ROLE_ALLOWED"
        assert_problem(refused, 403, rule)
    for role in sorted(allowed):
        answered = _call(world, method, template, world.keys[role])
        assert answered.status_code not in {401, 403}, (role, answered.text)
        assert answered.status_code < 500, (role, answered.text)


CUSTOMER_SCOPED = [
    *sorted(
        (method, template)
        for (method, template), roles in ROLES.items()
        if C in roles and ("{customer_id}" in template or "{alert_id}" in template)
    ),
    ("GET", "/alerts"),  # with ?customer_id= another customer
]


@pytest.mark.parametrize(("method", "template"), CUSTOMER_SCOPED)
def test_a_customer_route_refuses_another_customers_key(
    world: World, method: str, template: str
) -> None:
    """c2's key on c1's resources: 403 before anything is looked up or changed."""
    refused = _call(world, method, template, world.other_customer)
    assert_problem(refused, 403, "OWN_CUSTOMER_ONLY")


def test_the_matrix_holds_for_customer_scoped_routes_found_in_the_app(world: World) -> None:
    """Every route with {customer_id} in its path that a customer may call is checked with
    another customer's key above."""
    scoped = {
        route
        for route in every_route(world.client.app)  # type: ignore[arg-type]
        if "{customer_id}" in route[1] and C in ROLES.get(route, frozenset())
    }
    assert scoped <= set(CUSTOMER_SCOPED)


def test_every_protected_operation_documents_401_and_403(world: World) -> None:
    schema = world.client.get("/openapi.json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if (method.upper(), path) in PUBLIC:
                continue
            assert {"401", "403"} <= set(operation["responses"]), (method, path)


def test_every_dashboard_page_refuses_a_caller_without_a_session(world: World) -> None:
    """Pages found in the app, whatever they are: an API key is not a session either."""
    pages = [
        route
        for route in every_route(world.client.app)  # type: ignore[arg-type]
        if _is_page(route)
        and route not in PUBLIC_PAGES
        and not route[1].startswith(PUBLIC_PAGE_PREFIX)
    ]
    for method, template in pages:
        path = template.format(customer_id="c1", alert_id=world.alert_id)
        for headers in ({}, auth(world.keys[R])):
            response = world.client.request(
                method, path, headers=headers, data={}, follow_redirects=False
            )
            if response.status_code in {302, 303, 307}:
                assert response.headers["location"].startswith("/ui/sign-in"), (method, path)
            else:
                assert response.status_code in {401, 403}, (method, path, response.status_code)
