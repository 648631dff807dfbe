"""A prototype for the decision that issue 8's target needs; not the product.

docs/DECISIONS.md ("Where the purchase stands against the target") lists the ways to reach
1,000 purchases/s on two shared cores. One is to decide purchases against customer state
kept in memory and to write the changes to PostgreSQL in batches, answering each request
only once its batch has committed (group commit: nothing acknowledged is lost). This module
measures what that would give, with the real API and the real use cases:

- Each worker process holds its own customers (`CREDITLINK_WB_CUSTOMERS`). At start it
  builds an in-memory book (the same `MemoryStore` the twin uses) holding what the
  PostgreSQL book holds for them: the parameters, the API keys, and those customers,
  onboarded through the same use case with the same inputs. Requests must reach the worker
  that holds their customer: the benchmark's load generator sends them there (a deployment
  would need a router; its cost is not measured here).
- `create_app` serves that book, unchanged: authentication, idempotency, the purchase use
  case, the kept answer.
- A unit of work that commits hands what it changed (limits, PayLater accounts, decisions,
  ledger entries and their balances, kept answers) to one writer thread, as rows made while
  it still holds the book, in commit order. The writer commits everything waiting in one
  PostgreSQL transaction (COPY for new rows, one upsert per table for changed ones). It
  numbers and seals the ledger entries there, under the chain's lock, so that workers
  write one chain (the entry ids in the answers are the worker's own, which a product
  would have to settle). The request's thread waits for that commit before it answers.

What it leaves out, so that its figures are an upper bound for the design, not a product:
other writers of the book (close of day, the CLI, a worker for other customers) would need the
ownership rules that the decision must settle; onboarding and parameter changes are not
written behind (the driver makes them in PostgreSQL first); a failed batch fails its
requests, with no retry. `benchmarks/http.py --write-behind` runs it beside the API.

The database URL comes from `CREDITLINK_WB_URL`, the API keys (`role:key,...`) from
`CREDITLINK_WB_KEYS`, the customers to mirror from `CREDITLINK_WB_CUSTOMERS` (a JSON list
of `onboard_customer` arguments) and the parameter changes from `CREDITLINK_WB_PARAMETERS`.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI

from benchmarks.common import libpq_url
from creditlink.adapters.clock import SystemClock
from creditlink.adapters.memory import MemoryState, MemoryStore, MemoryUnitOfWork
from creditlink.adapters.sql.purchases import PURCHASE_COLUMNS, purchase_row
from creditlink.adapters.sql.store import (
    _PG_LEDGER_LOCK,
    DECISION_COLUMNS,
    ENTRY_COLUMNS,
    LINE_COLUMNS,
    _limit_row,
    decision_row,
    ledger_rows,
    paylater_row,
)
from creditlink.application.apikeys import create_api_key, digest_of
from creditlink.application.customers import onboard_customer
from creditlink.application.parameters import ensure_parameters, set_parameters
from creditlink.application.ports import ApiKeyRecord, Clock, Store
from creditlink.bootstrap import Book, open_book
from creditlink.domain.ledger import GENESIS_HASH, EntryDraft, chain
from creditlink.interfaces.http.app import create_app, threads_from_environment

URL_ENV = "CREDITLINK_WB_URL"
KEYS_ENV = "CREDITLINK_WB_KEYS"
CUSTOMERS_ENV = "CREDITLINK_WB_CUSTOMERS"
PARAMETERS_ENV = "CREDITLINK_WB_PARAMETERS"
LEAN_ENV = "CREDITLINK_WB_LEAN"  # set: purchases skip FastAPI's dependency injection
APP = "benchmarks.http_write_behind:create"

_RESPONSE_COLUMNS = "idempotency_key, fingerprint, request, status_code, body, created_at"


@dataclass
class Changes:
    """What one unit of work changed, as rows."""

    limits: dict[str, dict[str, Any]] = field(default_factory=dict)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    decisions: list[list[Any]] = field(default_factory=list)
    entries: list[EntryDraft] = field(default_factory=list)  # chained when written
    balances: dict[str, int] = field(default_factory=dict)
    responses: list[tuple[Any, ...]] = field(default_factory=list)
    purchases: list[tuple[Any, ...]] = field(default_factory=list)  # new ones only
    purchases_held: dict[str, int] = field(default_factory=dict)  # per account, once written

    def __bool__(self) -> bool:
        return bool(
            self.limits or self.accounts or self.decisions or self.entries or self.responses
        )

    def merge(self, later: Changes) -> None:
        self.limits.update(later.limits)
        self.accounts.update(later.accounts)
        self.decisions += later.decisions
        self.entries += later.entries
        for name, amount in later.balances.items():
            self.balances[name] = self.balances.get(name, 0) + amount
        self.responses += later.responses
        self.purchases += later.purchases


class Writer:
    """One thread that commits, in order, everything handed to it since its last commit."""

    def __init__(self, url: str):
        import psycopg

        self._connection = psycopg.connect(libpq_url(url))
        # One lock, two conditions: work for the writer, commits for the waiting requests
        # (a request handed over must not wake every request that waits).
        self._lock = threading.Lock()
        self._condition = threading.Condition(self._lock)
        self._committed_condition = threading.Condition(self._lock)
        self._waiting: list[Changes] = []
        self._handed = self._committed = 0
        self._failed: BaseException | None = None
        self.enabled = False
        self.held_purchases: dict[str, int] = {}  # per account, handed over (worker's threads)
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="write-behind", daemon=True)
        self._thread.start()

    def purchases_held(self, customer_id: str) -> int:
        """How many of the account's purchases are handed over (the book's lock is held)."""
        return self.held_purchases.get(customer_id, 0)

    def hand(self, changes: Changes) -> int:
        """Queue `changes` (call while holding the book, so that order is commit order);
        returns the ticket to `wait` for."""
        with self._condition:
            self._waiting.append(changes)
            self._handed += 1
            self._condition.notify()
            return self._handed

    def wait(self, ticket: int) -> None:
        with self._lock:
            while self._committed < ticket and self._failed is None:
                self._committed_condition.wait()
            if self._failed is not None:
                raise RuntimeError("the write-behind batch failed") from self._failed

    def close(self) -> None:
        """Commit what is waiting, then stop and close the connection."""
        with self._condition:
            self._closing = True
            self._condition.notify_all()
        self._thread.join()
        self._connection.close()

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._waiting and not self._closing:
                    self._condition.wait()
                if not self._waiting:
                    return
                batch, self._waiting = self._waiting, []
                last = self._handed
            try:
                self._commit(batch)
            except BaseException as error:  # the prototype stops at its first failure
                with self._lock:
                    self._failed = error
                    self._committed_condition.notify_all()
                raise
            with self._lock:
                self._committed = last
                self._committed_condition.notify_all()

    def _commit(self, batch: Sequence[Changes]) -> None:
        merged = Changes()
        for changes in batch:
            merged.merge(changes)
        connection = self._connection
        with connection.transaction(), connection.cursor() as cursor:
            entries, lines = [], []
            if merged.entries:
                # The chain is the book's, whoever writes: numbered and sealed here, under
                # its lock, once per batch (the answers' entry ids are the worker's own).
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", (_PG_LEDGER_LOCK,))
                cursor.execute(
                    "SELECT entry_id, hash FROM journal_entries ORDER BY entry_id DESC LIMIT 1"
                )
                head = cursor.fetchone()
                entry_id, previous = (head[0], head[1]) if head else (0, GENESIS_HASH)
                for draft in merged.entries:
                    entry_id += 1
                    entry = chain(draft, entry_id=entry_id, previous_hash=previous)
                    previous = entry.hash
                    row, entry_lines = ledger_rows(entry, draft.business_date)
                    entries.append(row)
                    lines += entry_lines
            for table, columns, rows in (
                ("decisions", ", ".join(DECISION_COLUMNS), merged.decisions),
                ("journal_entries", ", ".join(ENTRY_COLUMNS), entries),
                ("journal_lines", ", ".join(LINE_COLUMNS), lines),
                ("idempotent_responses", _RESPONSE_COLUMNS, merged.responses),
                ("paylater_purchases", ", ".join(PURCHASE_COLUMNS), merged.purchases),
            ):
                if rows:
                    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                        for values in rows:
                            copy.write_row(values)
            if merged.balances:
                _upsert(
                    cursor,
                    "ledger_balances",
                    ("account", "balance_fen"),
                    list(merged.balances.items()),
                    "balance_fen = ledger_balances.balance_fen + excluded.balance_fen",
                )
            for table, changed in (
                ("customer_limits", merged.limits),
                ("paylater_accounts", merged.accounts),
            ):
                if changed:
                    names = ["customer_id", *next(iter(changed.values()))]
                    rows = [(key, *row.values()) for key, row in changed.items()]
                    _update(cursor, table, names, rows)


def _upsert(cursor: Any, table: str, names: Sequence[str], rows: list[Any], on: str) -> None:
    marks = ", ".join(["%s"] * len(names))
    values = ", ".join([f"({marks})"] * len(rows))
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES {values} "
        f"ON CONFLICT ({names[0]}) DO UPDATE SET {on}",
        [value for row in rows for value in row],
    )


def _update(cursor: Any, table: str, names: Sequence[str], rows: list[Any]) -> None:
    """Rows that exist, changed: every column but the first (the key) set from `rows`."""
    sets = ", ".join(f"{name} = excluded.{name}" for name in names[1:])
    _upsert(cursor, table, names, rows, sets)


class _Recording:
    """A repository whose calls named in `record` are also reported to `seen`."""

    def __init__(
        self,
        inner: Any,
        seen: Callable[[str, tuple[Any, ...], dict[str, Any], Any], None],
        record: frozenset[str],
    ):
        self._inner, self._seen, self._record = inner, seen, record

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if name not in self._record:
            return attribute

        def recorded(*args: Any, **kwargs: Any) -> Any:
            result = attribute(*args, **kwargs)
            self._seen(name, args, kwargs, result)
            return result

        return recorded


class WriteBehindUnitOfWork(MemoryUnitOfWork):
    def __init__(self, state: MemoryState, writer: Writer):
        super().__init__(state)
        self._writer = writer
        self._changes = Changes()
        self._ticket = 0
        self._wrapped: dict[str, _Recording] = {}

    def _wrap(self, name: str, record: frozenset[str]) -> Any:
        wrapped = self._wrapped.get(name)
        if wrapped is None:
            inner = getattr(super(), name)
            wrapped = self._wrapped[name] = _Recording(inner, getattr(self, f"_saw_{name}"), record)
        return wrapped

    @property
    def limits(self) -> Any:
        return self._wrap("limits", frozenset({"save"}))

    @property
    def paylater(self) -> Any:
        return self._wrap("paylater", frozenset({"save"}))

    @property
    def decisions(self) -> Any:
        return self._wrap("decisions", frozenset({"add"}))

    @property
    def ledger(self) -> Any:
        return self._wrap("ledger", frozenset({"append", "append_many"}))

    @property
    def responses(self) -> Any:
        return self._wrap("responses", frozenset({"add"}))

    def _saw_limits(self, _: str, args: tuple[Any, ...], kwargs: dict[str, Any], __: Any) -> None:
        customer_id, limit = args
        self._changes.limits[customer_id] = _limit_row(limit)

    def _saw_paylater(self, _: str, args: tuple[Any, ...], kwargs: dict[str, Any], __: Any) -> None:
        (account,) = args
        customer_id = account.customer_id
        changes = self._changes
        changes.accounts[customer_id] = paylater_row(account, kwargs.get("next_wake_on"))
        # The prototype only adds purchases (no refunds, no conversions): the new ones are
        # those after the ones already handed to the writer, or earlier in this unit of work.
        held = list(account.purchases.values())
        before = changes.purchases_held.get(customer_id, self._writer.purchases_held(customer_id))
        changes.purchases += [purchase_row(customer_id, p) for p in held[before:]]
        changes.purchases_held[customer_id] = len(held)

    def _saw_decisions(self, _: str, args: tuple[Any, ...], __: dict[str, Any], ___: Any) -> None:
        (decision,) = args
        self._changes.decisions.append(decision_row(decision, decision.on))

    def _saw_ledger(self, name: str, _: tuple[Any, ...], __: dict[str, Any], result: Any) -> None:
        entries = [result] if name == "append" else list(result)
        changes = self._changes
        for entry in entries:
            changes.entries.append(entry.draft)
            for line in entry.draft.lines:
                account = line.account.name
                changes.balances[account] = changes.balances.get(account, 0) + line.signed_fen()

    def _saw_responses(self, _: str, args: tuple[Any, ...], __: dict[str, Any], kept: Any) -> None:
        (response,) = args
        if kept:
            self._changes.responses.append(
                (
                    response.idempotency_key,
                    response.fingerprint,
                    response.request,
                    response.status_code,
                    response.body,
                    response.created_at,
                )
            )

    def commit(self) -> None:
        super().commit()
        if self._changes and self._writer.enabled:  # still holding the book: commit order
            self._writer.held_purchases.update(self._changes.purchases_held)
            self._ticket = self._writer.hand(self._changes)
        self._changes = Changes()

    def __exit__(self, *exc: Any) -> None:
        self._changes = Changes()  # what was not committed is not written
        super().__exit__(*exc)
        ticket, self._ticket = self._ticket, 0
        if ticket:  # the book is free again; the answer waits for the commit
            self._writer.wait(ticket)


class WriteBehindStore(MemoryStore):
    def __init__(self, writer: Writer):
        super().__init__(checked=False)
        self.writer = writer

    def unit_of_work(self, *, autocommit: bool = False) -> WriteBehindUnitOfWork:
        return WriteBehindUnitOfWork(self.state, self.writer)

    def dispose(self) -> None:
        self.writer.close()

    def reader(self, *, autocommit: bool = False) -> WriteBehindUnitOfWork:
        return WriteBehindUnitOfWork(self.state, self.writer)


def stock(
    store: Store,
    clock: Clock,
    *,
    customers: Sequence[Mapping[str, Any]],
    parameters: Mapping[str, Any],
) -> None:
    """Put in a book the parameter changes and the customers (`onboard_customer`'s
    arguments) that the prototype's driver puts in PostgreSQL and its workers mirror."""
    if parameters:
        set_parameters(
            store.unit_of_work(),
            changes=dict(parameters),
            actor="benchmark",
            reason="load test",
            clock=clock,
        )
    for customer in customers:
        onboard_customer(
            store.unit_of_work(), on=clock.today(), actor="benchmark", clock=clock, **customer
        )


def prepare(
    url: str, *, customers: Sequence[Mapping[str, Any]], parameters: Mapping[str, Any]
) -> str:
    """The PostgreSQL book at `url` stocked for the prototype; an operator's API key to it."""
    book = open_book(url)
    try:
        key, _ = create_api_key(
            book.store.unit_of_work(),
            role="operator",
            customer_id=None,
            label="benchmark",
            actor="benchmark",
            clock=book.clock,
        )
        stock(book.store, book.clock, customers=customers, parameters=parameters)
        return key
    finally:
        book.store.dispose()


def mirrored_book(url: str) -> Book:
    """An in-memory book holding what the driver put in the PostgreSQL book at `url`."""
    clock = SystemClock()
    store = WriteBehindStore(Writer(url))
    ensure_parameters(store.unit_of_work(), clock=clock)
    with store.unit_of_work() as uow:
        for pair in filter(None, os.environ.get(KEYS_ENV, "").split(",")):
            role, key = pair.split(":", 1)
            uow.api_keys.add(
                ApiKeyRecord(
                    key_id=0,
                    digest=digest_of(key),
                    role=role,
                    customer_id=None,
                    label="benchmark",
                    created_at=datetime.now(UTC),
                    created_by="benchmark",
                )
            )
        uow.commit()
    stock(
        store,
        clock,
        customers=json.loads(os.environ.get(CUSTOMERS_ENV, "[]")),
        parameters=json.loads(os.environ.get(PARAMETERS_ENV, "{}")),
    )
    store.writer.enabled = True
    return Book(store=store, clock=clock, actor="benchmark", url="memory://")


def lean_purchases(app: FastAPI, book: Book) -> None:
    """Put before the API's purchase route one that does the same without FastAPI's
    dependency injection: the same authentication, role and customer checks, idempotency and
    use case, in one thread hop instead of two. How much of a purchase's CPU the framework
    takes, measured; a product would have to keep the routes' shared checks in one place."""
    from pydantic import ValidationError
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from creditlink.application.apikeys import authenticate_and_find_response
    from creditlink.interfaces.http.auth import (
        CUSTOMERS_AND_STAFF,
        check_customer_access,
    )
    from creditlink.interfaces.http.idempotency import Idempotency, _fingerprint
    from creditlink.interfaces.http.problems import IDEMPOTENCY_HEADER, ProblemError
    from creditlink.interfaces.http.routes.paylater import purchase_answer
    from creditlink.interfaces.http.schemas import PurchaseRequest

    async def purchases(request: Request) -> Response:
        authorization = request.headers.get("authorization", "")
        key = authorization.removeprefix("Bearer ") or request.headers.get("x-api-key", "")
        response_key = request.headers.get(IDEMPOTENCY_HEADER) or None
        customer_id = str(request.path_params["customer_id"])
        described, digest, _ = await _fingerprint(request, book)
        try:
            body = PurchaseRequest.model_validate_json(await request.body())
        except ValidationError as error:
            raise ProblemError(422, str(error), rule="SCHEMA") from error

        def work() -> Response:
            principal, kept = authenticate_and_find_response(
                book.store.reader(autocommit=True), key, response_key=response_key
            )
            if principal is None:
                raise ProblemError(401, "this API key is unknown or revoked", rule="API_KEY_VALID")
            if principal.role not in CUSTOMERS_AND_STAFF:
                raise ProblemError(403, "role", rule="ROLE_ALLOWED")
            check_customer_access(principal, customer_id)
            if response_key is None:
                raise ProblemError(428, "an Idempotency-Key is required", rule="IDEMPOTENCY_KEY")
            idempotency = Idempotency(
                book=book,
                key=response_key,
                fingerprint=digest,
                request=described,
                kept=kept,
                may_see_others=principal.customer_id is None,
            )
            return idempotency.respond(
                lambda: purchase_answer(book, customer_id, body, response_key)
            )

        return await run_in_threadpool(work)

    app.router.routes.insert(
        0, Route("/customers/{customer_id}/paylater/purchases", purchases, methods=["POST"])
    )


def create() -> FastAPI:
    book = mirrored_book(os.environ[URL_ENV])
    app = create_app(book=book, threads=threads_from_environment())
    if os.environ.get(LEAN_ENV):
        lean_purchases(app, book)
    return app
