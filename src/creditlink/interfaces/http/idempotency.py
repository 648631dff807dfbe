"""`Idempotency-Key` on money-moving requests: a retry gets the first response.

The first successful (2xx) response to a request is kept in the book under its key, with a
fingerprint of the request (method, path, query and body, the body's JSON compared without
regard to spacing or key order). The fingerprint is keyed with the book's national-ID key
(`Store.keyed_digest`): an onboarding's body holds a national ID, and a plain digest of it
could be matched against the few thousand IDs its mask leaves open. Then:

- the same key with the same request returns the kept response (status and body), with the
  header `Idempotent-Replayed: true`, and changes nothing;
- the same key with another request is refused with 409 (rule IDEMPOTENCY_KEY_REUSED);
- a refused request (4xx) changed nothing, so nothing is kept and the key stays free.

Responses live in the database, so replays survive a restart and reach every worker. The key
also goes to the use case as its idempotency key: two requests racing with one key are
serialised there (the customer's lock), the second is answered from the first's result, and
only one response is kept (the first to be stored; `ResponseRepository.add`). A crash after
the use case committed but before the response was kept is covered the same way: the retry
runs the use case, which replays its first result.

Keys are global, as the ledger's are: a key used once, by anyone, for anything, is spent.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from pydantic import BaseModel

from creditlink.application.apikeys import Principal
from creditlink.application.ports import StoredResponse
from creditlink.bootstrap import Book
from creditlink.interfaces.http.auth import CurrentPrincipal
from creditlink.interfaces.http.deps import BookDep
from creditlink.interfaces.http.problems import IDEMPOTENCY_HEADER, ProblemError
from creditlink.interfaces.http.schemas import Problem

KEY_LENGTH_MAX = 128  # the ledger's idempotency_key column
KEY_PATTERN = r"^[\x21-\x7e]+$"  # printable ASCII, no spaces
REPLAYED_HEADER = "Idempotent-Replayed"
_DESCRIPTION = (
    "A unique string for this operation (for example a UUID). A retry with the same key and "
    "body returns the first response; the same key with another body gets 409."
)


class Idempotency:
    """One request's key and fingerprint; `respond` runs the operation at most once."""

    def __init__(
        self,
        *,
        book: Book,
        key: str | None,
        fingerprint: str,
        request: str,
        kept: StoredResponse | None,
        may_see_others: bool,
        unkeyed: str = "",
    ):
        self.book, self.key, self.fingerprint, self.request = book, key, fingerprint, request
        # The plain digest that answers kept before fingerprints were keyed hold (schema 0014).
        self.unkeyed = unkeyed
        self.kept = kept  # read with the caller's API key (`auth.current_principal`)
        # Whether a 409 may name the request that spent the key: staff see every customer,
        # a customer key must not learn another customer's id or what was done for them.
        self.may_see_others = may_see_others

    def respond(self, run: Callable[[], tuple[int, BaseModel]]) -> Response:
        """The kept response for this key, or the response of `run()` (status, body),
        kept when it succeeded."""
        if self.key is None:
            status, model = run()
            return _json(status, model.model_dump_json())
        if self.kept is not None:
            return self._replay(self.kept)
        status, model = run()
        body = model.model_dump_json()
        if not 200 <= status < 300:
            return _json(status, body)
        with self.book.store.unit_of_work(autocommit=True) as uow:  # one statement
            stored = uow.responses.add(
                StoredResponse(
                    idempotency_key=self.key,
                    fingerprint=self.fingerprint,
                    request=self.request[:300],
                    status_code=status,
                    body=body,
                    created_at=self.book.clock.now(),
                )
            )
            uow.commit()
        if not stored:  # a concurrent request with this key was kept first
            with self.book.store.reader() as uow:
                kept = uow.responses.find(self.key)
            assert kept is not None
            return self._replay(kept)
        return _json(status, body)

    def _replay(self, kept: StoredResponse) -> Response:
        if kept.fingerprint not in (self.fingerprint, self.unkeyed):
            which = f" ({kept.request})" if self.may_see_others else ""
            raise ProblemError(
                409,
                f"{IDEMPOTENCY_HEADER} {self.key!r} was already used for a different "
                f"request{which}; use a new key for a new operation",
                rule="IDEMPOTENCY_KEY_REUSED",
                field=IDEMPOTENCY_HEADER,
            )
        return _json(kept.status_code, kept.body, replayed=True)


def _json(status: int, body: str, *, replayed: bool = False) -> Response:
    headers = {REPLAYED_HEADER: "true"} if replayed else None
    return Response(body, status_code=status, media_type="application/json", headers=headers)


async def _fingerprint(request: Request, book: Book) -> tuple[str, str, str]:
    """The request as described in a 409 (method, path and query), its keyed fingerprint
    and its plain one."""
    raw = await request.body()
    try:
        canonical = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"))
        content = canonical.encode()
    except ValueError:  # not JSON: the bytes as sent
        content = raw
    described = f"{request.method} {request.url.path}"
    if request.url.query:
        described += f"?{request.url.query}"
    data = described.encode() + b"\n" + content
    return described, book.store.keyed_digest(data), hashlib.sha256(data).hexdigest()


async def _idempotency(
    request: Request, book: Book, key: str | None, principal: Principal
) -> Idempotency:
    """This request's fingerprint, with the response kept under its key (read with the API
    key by `auth.current_principal`)."""
    described, digest, unkeyed = await _fingerprint(request, book)
    kept: StoredResponse | None = getattr(request.state, "kept_response", None)
    return Idempotency(
        book=book,
        key=key,
        fingerprint=digest,
        request=described,
        kept=kept,
        may_see_others=principal.customer_id is None,
        unkeyed=unkeyed,
    )


def _key_header() -> Any:
    return Header(
        alias=IDEMPOTENCY_HEADER,
        min_length=1,
        max_length=KEY_LENGTH_MAX,
        pattern=KEY_PATTERN,
        description=_DESCRIPTION,
    )


async def idempotency_required(
    request: Request,
    book: BookDep,
    principal: CurrentPrincipal,  # authenticate first: no replay for a caller without a key
    key: Annotated[str, _key_header()],
) -> Idempotency:
    return await _idempotency(request, book, key, principal)


async def idempotency_optional(
    request: Request,
    book: BookDep,
    principal: CurrentPrincipal,
    key: Annotated[str | None, _key_header()] = None,
) -> Idempotency:
    return await _idempotency(request, book, key, principal)


# For money-moving POSTs: without the header the request is refused with 428.
Idempotent = Annotated[Idempotency, Depends(idempotency_required)]
# For other POSTs that create something: a key, when sent, works the same way.
OptionallyIdempotent = Annotated[Idempotency, Depends(idempotency_optional)]

IDEMPOTENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {
        "model": Problem,
        "description": "Conflicts with what is recorded, or the Idempotency-Key was already "
        "used for a different request.",
    },
    428: {"model": Problem, "description": "The Idempotency-Key header is missing."},
}
