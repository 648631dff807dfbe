"""The floor under `benchmarks/http.py`: the least a PostgreSQL write over HTTP can cost on
this machine with the service's own stack, so that its purchases per second have something
to be read against.

`create` is a FastAPI app served exactly as `creditlink serve --workers 2` serves the API
(the same worker supervisor, uvicorn with its access log, one `SO_REUSEPORT` socket per
worker, as many threads per worker). Its one route, `POST /floor/{customer_id}/purchases`,
takes the same JSON body as a purchase (validated by pydantic), reads one row by primary
key and inserts one row in one transaction on a connection kept per thread, and answers 201
with a small JSON body. No authentication, no idempotency record, no rules, no ledger: a
purchase must do at least this much, so its throughput cannot be above this one's.

The database URL comes from `CREDITLINK_FLOOR_URL`; `prepare(url)` makes the two tables.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Response
from pydantic import BaseModel, Field

from benchmarks.common import libpq_url
from creditlink.interfaces.http.app import threads_from_environment, use_threads

URL_ENV = "CREDITLINK_FLOOR_URL"
APP = "benchmarks.http_floor:create"


class Body(BaseModel):
    ref: str = Field(min_length=1, max_length=128)
    amount_fen: int = Field(gt=0)
    merchant: str = Field(min_length=1, max_length=200)
    category: str = Field(min_length=1, max_length=64)


def prepare(url: str) -> None:
    """The floor's two tables, in the schema that `url` names."""
    import psycopg

    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        connection.execute(
            "CREATE TABLE floor_keys (digest text PRIMARY KEY, role text NOT NULL);"
            "INSERT INTO floor_keys VALUES ('operator', 'operator');"
            "CREATE TABLE floor_rows (ref text PRIMARY KEY, customer_id text NOT NULL,"
            " body text NOT NULL)"
        )


def create() -> FastAPI:
    import psycopg

    url = libpq_url(os.environ[URL_ENV])
    threads = threads_from_environment()
    local = threading.local()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        use_threads(threads)  # as `serve --threads` sets it for the API
        yield

    app = FastAPI(lifespan=lifespan)

    @app.post("/floor/{customer_id}/purchases", status_code=201)
    def purchase(customer_id: str, body: Body) -> Response:
        connection: Any = getattr(local, "connection", None)
        if connection is None:
            connection = local.connection = psycopg.connect(url)
        with connection.transaction(), connection.cursor() as cursor:
            cursor.execute("SELECT role FROM floor_keys WHERE digest = %s", ("operator",))
            cursor.fetchone()
            cursor.execute(
                "INSERT INTO floor_rows (ref, customer_id, body) VALUES (%s, %s, %s)",
                (body.ref, customer_id, body.model_dump_json()),
            )
        return Response(
            json.dumps({"customer_id": customer_id, "ref": body.ref, "approved": True}),
            status_code=201,
            media_type="application/json",
        )

    return app
