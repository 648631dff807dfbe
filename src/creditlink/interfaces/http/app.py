"""The FastAPI application: `create_app` for tests and embedding, `app_from_environment`
for `creditlink serve` (uvicorn imports it by name in each worker).

`app.state` holds:
- `book`: the `creditlink.bootstrap.Book` served (store, clock, actor, URL);
- `metrics`: the `HttpMetrics` behind `/metrics`.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI

from creditlink import __version__
from creditlink.bootstrap import DATABASE_ENV, Book, open_book
from creditlink.domain.errors import InvalidInput
from creditlink.interfaces import web
from creditlink.interfaces.http import problems
from creditlink.interfaces.http.metrics import HttpMetrics, MetricsMiddleware
from creditlink.interfaces.http.problems import PROBLEM_MEDIA_TYPE
from creditlink.interfaces.http.routes import (
    alerts,
    books,
    customers,
    decisions,
    incidents,
    limits,
    loans,
    parameters,
    paylater,
    service,
)

DESCRIPTION = """\
PayLater and Cash Loan on one shared risk core, with one joint limit per customer.

Authenticate with an API key (`creditlink apikey create`): `Authorization: Bearer <key>`
or `X-API-Key: <key>`. Money is integer fen; rates are decimal strings. Money-moving POSTs
need an `Idempotency-Key` header. Errors are RFC 9457 problem details
(`application/problem+json`) naming the field and the rule.
"""


THREADS_ENV = "CREDITLINK_THREADS"


def create_app(
    *, db_url: str | None = None, book: Book | None = None, threads: int | None = None
) -> FastAPI:
    """The API over `book`, or over the book at `db_url` (opened, and migrated on first use,
    here; closed when the app shuts down). Given a book, the caller closes it.

    `threads`: how many requests at once may run their database work (the routes and
    dependencies that are plain functions run on a thread pool of this size); None leaves
    anyio's default, 40. See `creditlink serve --threads` for the trade-off."""
    owned = book is None
    served = book if book is not None else open_book(db_url)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        use_threads(threads)
        yield
        if owned:
            served.store.dispose()

    app = FastAPI(
        title="creditlink",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.book = served
    app.state.metrics = HttpMetrics()
    problems.install(app)
    app.add_middleware(problems.RefuseNul)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    for module in (
        service,
        customers,
        limits,
        paylater,
        loans,
        decisions,
        alerts,
        parameters,
        incidents,
        books,
    ):
        app.include_router(module.router)
    _publish_problems_as_problem_json(app)
    web.mount(app)
    return app


def use_threads(threads: int | None) -> None:
    """Inside a running app (its lifespan): `threads` for its thread pool, or anyio's own
    when None."""
    if threads is not None:
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads


def app_from_environment() -> FastAPI:
    """The app over the book named by CREDITLINK_DB, with CREDITLINK_THREADS threads when
    set: uvicorn's factory for `serve`."""
    return create_app(db_url=os.environ.get(DATABASE_ENV), threads=threads_from_environment())


def threads_from_environment() -> int | None:
    raw = os.environ.get(THREADS_ENV, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise InvalidInput(
            f"{THREADS_ENV}={raw!r} must be a whole number of at least 1",
            field=THREADS_ENV,
            rule="THREADS_POSITIVE",
        )
    return int(raw)


def _publish_problems_as_problem_json(app: FastAPI) -> None:
    """Say in /openapi.json that errors come as `application/problem+json`, as they do."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if status[0] in "45" and "application/json" in content:
                        content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
