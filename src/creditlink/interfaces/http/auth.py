"""Who is calling: an API key in `Authorization: Bearer <key>` or `X-API-Key: <key>`.

- No key, or a key that is unknown or revoked: 401, with `WWW-Authenticate: Bearer`.
- A role the route does not allow: 403 (rule ROLE_ALLOWED).
- An auditor asking for anything but a read (GET, HEAD): 403 on every route, whatever the
  route allows (rule AUDITOR_READ_ONLY).
- A customer key naming another customer: 403 (rule OWN_CUSTOMER_ONLY), decided before the
  customer is looked up, so a customer key cannot learn which other customers exist.

Only `current_principal` reads the database (so FastAPI runs it in its thread pool); the role
and customer checks are `async def`, which FastAPI runs inline, without a thread hop.

In a handler, `principal: Annotated[Principal, requires(*roles)]` (or an alias below) both
authenticates and checks the role; `customer_id: OwnCustomer` takes `{customer_id}` from the
path and checks that the caller may act on that customer.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from creditlink.application.apikeys import ROLES, Principal, authenticate_and_find_response
from creditlink.interfaces.http.deps import BookDep
from creditlink.interfaces.http.problems import IDEMPOTENCY_HEADER, ProblemError

CUSTOMER, OPERATOR, RISK_ADMIN, AUDITOR = ROLES
EVERYONE = ROLES  # reads: a customer's only of its own customer
STAFF = (OPERATOR, RISK_ADMIN)  # onboarding, the alert queue
STAFF_AND_AUDITORS = (OPERATOR, RISK_ADMIN, AUDITOR)  # reads across customers
CUSTOMERS_AND_STAFF = (CUSTOMER, OPERATOR, RISK_ADMIN)  # money on one customer's account
RISK_ADMINS = (RISK_ADMIN,)  # parameters
READ_METHODS = frozenset({"GET", "HEAD"})

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer cl_…`.")
_api_key = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="An API key: `X-API-Key: cl_…`."
)


def current_principal(
    request: Request,
    book: BookDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header_key: Annotated[str | None, Depends(_api_key)],
) -> Principal:
    """The caller, from its API key; 401 without a valid one."""
    key = bearer.credentials if bearer is not None else header_key
    if not key:
        raise ProblemError(
            401,
            "send an API key: Authorization: Bearer <key>, or X-API-Key: <key>",
            rule="API_KEY_REQUIRED",
            field="Authorization",
            headers={"WWW-Authenticate": "Bearer"},
        )
    # A money-moving request needs its kept response too (see `idempotency`): one read.
    response_key = None
    if request.method not in READ_METHODS:
        response_key = request.headers.get(IDEMPOTENCY_HEADER) or None
    principal, kept = authenticate_and_find_response(
        book.store.reader(autocommit=True), key, response_key=response_key
    )
    if principal is None:
        raise ProblemError(
            401,
            "this API key is unknown or revoked",
            rule="API_KEY_VALID",
            field="Authorization",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    if principal.role == AUDITOR and request.method not in READ_METHODS:
        raise ProblemError(
            403, "auditors read everything and change nothing", rule="AUDITOR_READ_ONLY"
        )
    request.state.principal = principal
    request.state.kept_response = kept
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def requires(*roles: str) -> Any:
    """A dependency: the caller, when its role is one of `roles`; 403 otherwise."""
    assert roles, roles
    assert set(roles) <= set(ROLES), roles

    async def allowed(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles:
            raise ProblemError(
                403,
                f"a {principal.role} key may not do this (allowed: {', '.join(roles)})",
                rule="ROLE_ALLOWED",
            )
        return principal

    return Depends(allowed)


Anyone = Annotated[Principal, requires(*EVERYONE)]
Staff = Annotated[Principal, requires(*STAFF)]
StaffOrAuditor = Annotated[Principal, requires(*STAFF_AND_AUDITORS)]
CustomerOrStaff = Annotated[Principal, requires(*CUSTOMERS_AND_STAFF)]
RiskAdmin = Annotated[Principal, requires(*RISK_ADMINS)]


def check_customer_access(principal: Principal, customer_id: str) -> None:
    """A customer key acts on its own customer only; other roles on any."""
    if principal.role == CUSTOMER and principal.customer_id != customer_id:
        raise not_own_customer()


def not_own_customer() -> ProblemError:
    """What a customer key gets for anything not its own customer's."""
    return ProblemError(
        403,
        "a customer key may only reach its own customer",
        rule="OWN_CUSTOMER_ONLY",
        field="customer_id",
    )


async def own_customer(customer_id: str, principal: CurrentPrincipal) -> str:
    """`{customer_id}` from the path, once the caller may act on it."""
    check_customer_access(principal, customer_id)
    return customer_id


OwnCustomer = Annotated[str, Depends(own_customer)]
