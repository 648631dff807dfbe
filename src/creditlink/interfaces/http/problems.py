"""Every error as an RFC 9457 problem detail (`application/problem+json`).

A problem names the rule that was broken (`rule`, also the end of `type`) and the field it is
about (`field`), so a client can act on it without parsing the sentence in `detail`:

    {"type": "urn:creditlink:rule:AMOUNT_POSITIVE", "title": "Amount positive",
     "status": 422, "detail": "amount_fen: must be greater than 0.00",
     "instance": "/customers/c1/paylater/purchases",
     "field": "amount_fen", "rule": "AMOUNT_POSITIVE",
     "errors": [{"field": "amount_fen", "location": "body", "rule": "AMOUNT_POSITIVE",
                 "detail": "must be greater than 0.00"}]}

The use cases' errors map by kind: not found → 404, a conflict with what is recorded (limits,
states, a reused key) → 409, bad input → 422. Errors of HTTP itself (an unknown path, a
method not allowed) have `type` "about:blank". A server error says only that it happened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from creditlink.domain.errors import Conflict, CreditlinkError, InvalidInput, NotFound
from creditlink.domain.limits import LimitExceeded, ProductStopped

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:creditlink:rule:"
IDEMPOTENCY_HEADER = "Idempotency-Key"

# The core names a few fields as people type them on the command line; the API names them
# by its own request fields.
_API_FIELD = {
    "amount": "amount_fen",
    "income": "monthly_income_fen",
    "joint_limit": "joint_limit_fen",
    "cap_paylater": "cap_paylater_fen",
    "cap_loan": "cap_loan_fen",
    "idempotency_key": IDEMPOTENCY_HEADER,
}


class ProblemError(Exception):
    """An error the HTTP edge raises itself: authentication, roles, idempotency."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        rule: str,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ):
        super().__init__(detail)
        self.status, self.detail, self.rule, self.field = status, detail, rule, field
        self.headers = dict(headers or {})


def status_of(error: CreditlinkError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, Conflict | LimitExceeded | ProductStopped):
        return 409
    assert isinstance(error, CreditlinkError)
    return 422  # InvalidInput, and any other refusal of what was asked


def problem(
    request: Request,
    status: int,
    detail: str,
    *,
    rule: str | None = None,
    field: str | None = None,
    errors: Sequence[Mapping[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"{TYPE_PREFIX}{rule}" if rule else "about:blank",
        "title": _title(rule) if rule else HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "field": field,
        "rule": rule,
    }
    if errors is not None:
        body["errors"] = list(errors)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _title(rule: str) -> str:
    return rule.replace("_", " ").capitalize()


def api_field(field: str | None) -> str | None:
    return None if field is None else _API_FIELD.get(field, field)


async def _creditlink_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, CreditlinkError)
    field = api_field(error.field)
    detail = f"{field}: {error.message}" if field else error.message
    status = status_of(error)
    errors = None
    if isinstance(error, InvalidInput) or status == 422:
        errors = [
            {
                "field": field or "",
                "location": "request",
                "rule": error.rule,
                "detail": error.message,
            }
        ]
    return problem(request, status, detail, rule=error.rule, field=field, errors=errors)


async def _problem_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ProblemError)
    return problem(
        request,
        error.status,
        error.detail,
        rule=error.rule,
        field=error.field,
        headers=error.headers,
    )


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    """Every field that failed, each with its location and rule. A missing Idempotency-Key
    is its own answer, 428, so that a client can tell it from a bad body."""
    assert isinstance(error, RequestValidationError)
    errors = [_field_error(item) for item in error.errors()]
    missing_key = any(
        item["field"] == IDEMPOTENCY_HEADER and item["rule"] == "MISSING" for item in errors
    )
    if missing_key:
        return problem(
            request,
            428,
            f"{IDEMPOTENCY_HEADER}: this request moves money, so it needs an "
            f"{IDEMPOTENCY_HEADER} header (any unique string up to 128 characters); a retry "
            "with the same key and body gets the first response",
            rule="IDEMPOTENCY_KEY_REQUIRED",
            field=IDEMPOTENCY_HEADER,
            errors=errors,
        )
    first = errors[0] if errors else {"field": "", "rule": "INVALID", "detail": "invalid"}
    detail = "; ".join(f"{item['field']}: {item['detail']}" for item in errors) or "invalid"
    return problem(
        request, 422, detail, rule=first["rule"], field=first["field"] or None, errors=errors
    )


def _field_error(item: Mapping[str, Any]) -> dict[str, str]:
    location = [str(part) for part in item.get("loc", ())]
    where = location[0] if location else "body"
    path = location[1:] if where in {"body", "query", "path", "header", "cookie"} else location
    field = ".".join(path)
    if item.get("type") == "json_invalid":
        field = "body"  # the location after it is an offset in the text, not a field
    if where == "header" and field.lower() == IDEMPOTENCY_HEADER.lower():
        field = IDEMPOTENCY_HEADER
    return {
        "field": field,
        "location": where,
        "rule": str(item.get("type", "invalid")).upper().replace(".", "_"),
        "detail": str(item.get("msg", "invalid")),
    }


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    detail = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
    if error.status_code == 400:
        # FastAPI's answer to a body it cannot decode at all (not UTF-8, say): a bad body,
        # answered as every other one is.
        return problem(
            request,
            422,
            f"body: {detail}; send JSON encoded as UTF-8",
            rule="BODY_INVALID",
            field="body",
            errors=[
                {"field": "body", "location": "body", "rule": "BODY_INVALID", "detail": detail}
            ],
        )
    return problem(request, error.status_code, detail, headers=error.headers)


async def _server_error(request: Request, error: Exception) -> JSONResponse:
    # Nothing about the error leaves the server: the traceback goes to the server's log.
    return problem(request, 500, "the server could not answer this request; see its log")


def install(app: FastAPI) -> None:
    app.add_exception_handler(CreditlinkError, _creditlink_error)
    app.add_exception_handler(ProblemError, _problem_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _server_error)


NUL_RULE = "TEXT_NUL"
NUL_DETAIL = "must not contain the NUL character (U+0000)"


class RefuseNul:
    """A path or query parameter with the NUL character is refused with 422, naming it,
    before any route runs. PostgreSQL cannot store NUL in text, so it would otherwise fail
    deep in a use case (500), or on SQLite be stored where PostgreSQL would refuse it. JSON
    bodies are checked by their schemas (`schemas.RequestBody`), dashboard forms by
    `web.session.require_csrf`. Plain ASGI, as the other middlewares."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            field = _nul_in(scope)
            if field is not None:
                response = problem(
                    Request(scope), 422, f"{field}: {NUL_DETAIL}", rule=NUL_RULE, field=field
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _nul_in(scope: Scope) -> str | None:
    """The parameter that holds a NUL: a query parameter's name, or "path"."""
    if "\x00" in scope.get("path", ""):
        return "path"
    query: bytes = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if "\x00" in name or "\x00" in value:
                return name.replace("\x00", "") or "query"
    return None
