"""The ports the use cases need. Adapters (SQL, in-memory) implement them."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Any, Protocol, Self

from creditlink.domain.customer import Customer, NationalId
from creditlink.domain.ledger import EntryDraft, JournalEntry, StoredEntry
from creditlink.domain.limits import JointLimit
from creditlink.domain.loan.loan import Loan
from creditlink.domain.parameters import ParameterSet
from creditlink.domain.paylater.account import PayLaterAccount


class CustomerRepository(Protocol):
    def add(self, customer: Customer, *, national_id: NationalId) -> None: ...

    def get(self, customer_id: str) -> Customer:
        """The customer, or `CustomerNotFound`."""
        ...

    def exists(self, customer_id: str) -> bool: ...

    def update(self, customer: Customer) -> None:
        """Save what may change after onboarding: price, income, score."""
        ...

    def ids(self, *, after: str, limit: int) -> list[str]:
        """Customer ids after `after`, in order: for portfolio jobs in batches."""
        ...

    def find_by_national_id(self, national_id: NationalId) -> str | None:
        """The id of the customer holding this national ID, if any."""
        ...

    def list(self, *, offset: int, limit: int) -> list[Customer]: ...

    def count(self) -> int: ...


class LimitRepository(Protocol):
    def add(self, customer_id: str, limit: JointLimit) -> None: ...

    def get(self, customer_id: str, *, for_update: bool = False) -> JointLimit:
        """The limit, or `CustomerNotFound`. `for_update` serialises every operation on this
        customer until the unit of work ends (a row lock, or SQLite's write lock)."""
        ...

    def save(self, customer_id: str, limit: JointLimit) -> None: ...

    def all_usage(self) -> Iterator[tuple[str, int, int]]:
        """(customer_id, used_paylater_fen, used_loan_fen) for every customer."""
        ...

    def due(self, on: date, *, after: str, limit: int) -> list[str]:
        """Customers after `after` (by id) whose limit wakes on or before `on`."""
        ...


class LedgerRepository(Protocol):
    def append(self, draft: EntryDraft) -> JournalEntry:
        """Number the draft after the last entry, chain it, store it and its balances."""
        ...

    def append_many(self, drafts: Sequence[EntryDraft]) -> list[JournalEntry]:
        """Post several drafts in order, as one batch (close of day, bulk jobs)."""
        ...

    def find_by_key(self, idempotency_key: str) -> JournalEntry | None: ...

    def get(self, entry_id: int) -> JournalEntry | None: ...

    def customers_posting_on(self, on: date, *, after: str, limit: int) -> list[str]:
        """Customers after `after` (by id) with an entry dated `on`."""
        ...

    def money_events(self, customer_id: str, *, since: date) -> list[tuple[date, str, int, str]]:
        """(date, kind, amount, second line's account) of the customer's repayments and
        draws since `since`: what behaviour features and pattern rules read."""
        ...

    def customer_entries(self, customer_id: str, *, since: date) -> list[JournalEntry]:
        """The customer's entries dated on or after `since`, in posting order."""
        ...

    def reversal_of(self, entry_id: int) -> int | None:
        """The id of the entry that reverses `entry_id`, if any."""
        ...

    def scan(self, *, batch_size: int = 5000) -> Iterator[StoredEntry]:
        """Every entry as stored, in entry order, without validation."""
        ...

    def stored_balances(self) -> Mapping[str, int]:
        """The balance kept per account name (debit-normal)."""
        ...

    def count(self) -> int: ...


class PayLaterRepository(Protocol):
    def add(self, account: PayLaterAccount, *, next_wake_on: date | None) -> None: ...

    def get(
        self,
        customer_id: str,
        *,
        read_only: bool = False,
        refs: Collection[str] = (),
        since: date | None = None,
    ) -> PayLaterAccount:
        """The account, or `CustomerNotFound`. Lock the customer's limit first to change it.

        With `read_only` the caller promises not to change the account (nor save it): a store
        may then hand out what it holds without copying it (the in-memory store does).

        `refs` and `since` say which purchases the caller will read: those it names, and
        those dated on or after `since`. A store that keeps an account's purchases apart (the
        SQL store) reads them with the account; it reads any other when asked for it."""
        ...

    def save(
        self,
        account: PayLaterAccount,
        *,
        next_wake_on: date | None,
        closed_through: date | None = None,
    ) -> None: ...

    def written_off(self, customer_id: str) -> bool: ...

    def due(self, on: date, *, limit: int) -> list[str]:
        """Customers whose account wakes on or before `on` and is not yet closed for `on`."""
        ...

    def wake_by(self, on: date) -> int:
        """Every account due to wake after `on` wakes on `on` instead: how many."""
        ...

    def all(self, *, read_only: bool = False) -> Iterator[PayLaterAccount]: ...


class LoanRepository(Protocol):
    def add(self, loan: Loan, *, next_wake_on: date | None) -> None: ...

    def find(self, customer_id: str, ref: str) -> Loan | None: ...

    def of_customer(self, customer_id: str, *, read_only: bool = False) -> list[Loan]:
        """The customer's loans in the order drawn; `read_only` as for PayLater's `get`."""
        ...

    def save(
        self, loan: Loan, *, next_wake_on: date | None, closed_through: date | None = None
    ) -> None: ...

    def written_off(self, customer_id: str) -> bool:
        """Whether any of the customer's loans is written off."""
        ...

    def due(self, on: date, *, limit: int) -> list[tuple[str, str]]:
        """(customer_id, ref) of loans that wake on or before `on`, not yet closed for it."""
        ...

    def wake_by(self, on: date) -> int:
        """Every loan due to wake after `on` wakes on `on` instead: how many."""
        ...

    def all(self, *, read_only: bool = False) -> Iterator[Loan]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionRecord:
    """A decision as stored: what was asked, the outcome, every failed rule, and the
    versions of the parameters and model that decided."""

    on: date
    customer_id: str
    op: str
    ref: str
    outcome: str
    reasons: tuple[str, ...]
    parameter_version: int
    model_version: str | None
    idempotency_key: str
    context: Mapping[str, Any] | None = None  # what it was judged on (risk.decisions.Context)
    shadow: Mapping[str, Any] | None = None  # the candidate set's would-be outcome, if one ran
    # A digest of what was asked (`decisions.request_digest`), so that a retry under the key
    # is told from another request; None on decisions stored before it was kept.
    request: str | None = None


class DecisionRepository(Protocol):
    def add(self, decision: DecisionRecord) -> None: ...

    def find_by_key(self, idempotency_key: str) -> DecisionRecord | None: ...

    def list(
        self, *, customer_id: str | None = None, op: str | None = None
    ) -> list[DecisionRecord]:
        """In the order made: all, or one customer's; with `op`, only that operation's (read
        without the others)."""
        ...

    def page(
        self, *, customer_id: str | None, offset: int, limit: int
    ) -> tuple[Sequence[DecisionRecord], int]:
        """Newest first: `limit` decisions from `offset` (all, or one customer's), and how
        many there are in all; without reading the rest."""
        ...

    def approved_contexts_on(
        self, customer_id: str, on: date, ops: Collection[str]
    ) -> Sequence[Mapping[str, Any]]:
        """The recorded contexts of the customer's approved decisions dated `on` whose op is
        one of `ops`, in the order made (an empty mapping where none was recorded): what the
        velocity rules count. Read-only."""
        ...

    def between(self, first: date, last: date) -> Iterator[DecisionRecord]:
        """Every decision dated `first` to `last` inclusive, in the order made."""
        ...

    def outcomes_on(self, on: date) -> Mapping[str, int]:
        """How many decisions dated `on` had each outcome."""
        ...


ALERT_STATUSES = ("open", "acknowledged", "escalated")


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertRecord:
    """A level raised (kind "alert") or stepped down (kind "recovery") for a customer, with
    where staff have taken it (`status`, one of ALERT_STATUSES) and who last moved it, when
    and why. `alert_id` is 0 until the record is stored."""

    on: date
    customer_id: str
    kind: str
    level: str
    cause: str
    products: tuple[str, ...]
    evidence: str
    alert_id: int = 0
    status: str = "open"
    status_by: str | None = None
    status_at: datetime | None = None
    status_note: str | None = None


class AlertRepository(Protocol):
    def add(self, alert: AlertRecord) -> AlertRecord:
        """Store a new alert; it is returned with its `alert_id`."""
        ...

    def get(self, alert_id: int) -> AlertRecord | None: ...

    def save(self, alert: AlertRecord) -> None:
        """Save a stored alert's status fields (nothing else about an alert changes)."""
        ...

    def page(
        self,
        *,
        customer_id: str | None = None,
        status: str | None = None,
        kind: str | None = None,
        offset: int,
        limit: int,
    ) -> list[AlertRecord]:
        """The alerts that match every filter given, newest first."""
        ...

    def count(
        self, *, customer_id: str | None = None, status: str | None = None, kind: str | None = None
    ) -> int: ...

    def list(self, *, customer_id: str | None = None) -> list[AlertRecord]:
        """In the order raised."""
        ...

    def tally(self) -> dict[tuple[str, str, str], int]:
        """How many alerts of the book there are by (kind, status, level), counted in the
        store: whole-book reports need the numbers, not the records and their evidence."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """A candidate parameter set running in shadow beside the live one."""

    candidate_id: int
    parameters: ParameterSet
    started_at: datetime
    actor: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Incident:
    """A breach of an early-warning indicator: the tightened set put in force, until an
    operator restores the normal one."""

    incident_id: int
    opened_on: date
    opened_at: datetime
    breaches: tuple[Mapping[str, Any], ...]
    normal_version: int
    tightened_version: int
    closed_at: datetime | None = None
    closed_by: str | None = None
    close_reason: str | None = None
    restored_version: int | None = None

    @property
    def open(self) -> bool:
        return self.closed_at is None


class PortfolioRepository(Protocol):
    """The close's early-warning indicators per date, and incidents."""

    def add_indicators(self, on: date, values: Mapping[str, Any]) -> None: ...

    def indicators(self, first: date, last: date) -> list[tuple[date, Mapping[str, Any]]]: ...

    def add_incident(self, incident: Incident) -> Incident:
        """Store a new incident; its `incident_id` is given here."""
        ...

    def save_incident(self, incident: Incident) -> None: ...

    def incidents(self) -> list[Incident]:
        """Every incident, oldest first."""
        ...

    def count_active(self) -> Mapping[str, int]:
        """Accounts that owe principal, per product value ("paylater", "loan")."""
        ...


class CloseOfDayLog(Protocol):
    def last_closed(self) -> date | None: ...

    def latest(self) -> tuple[date, str] | None:
        """The latest date being closed or closed, with its status ("closing", "closed")."""
        ...

    def is_closed(self, on: date) -> bool: ...

    def operation_dates(self) -> tuple[date, date] | None:
        """The earliest and the latest business date of any decision or journal entry (None
        on an empty book): a book's first close is the date of its operations."""
        ...

    def mark_closing(self, on: date, *, at: datetime) -> None:
        """Mark `on` as being closed, before its close starts (kept after a crash). Waits for
        a transaction that holds the close's state (`hold`) to end."""
        ...

    def hold(self) -> None:
        """Hold the close's state until this transaction ends: a close cannot be marked
        closing meanwhile, so what this transaction read of it stays true to its commit."""
        ...

    def mark_closed(self, on: date, *, at: datetime, summary: Mapping[str, int]) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ParameterVersion:
    version: int
    created_at: datetime
    actor: str
    reason: str
    # The first business day whose close it prices; None for the first version, and for
    # versions stored before versions were dated (book schema 0014).
    in_force_from: date | None = None


class ParameterRepository(Protocol):
    def current(self) -> ParameterSet | None: ...

    def get(self, version: int) -> ParameterSet | None: ...

    def add(
        self,
        parameters: ParameterSet,
        *,
        actor: str,
        reason: str,
        at: datetime,
        in_force_from: date | None,
    ) -> None: ...

    def history(self) -> list[ParameterVersion]: ...

    def by_business_day(self) -> Sequence[tuple[date | None, ParameterSet]]:
        """Every version in order with its `in_force_from`: what accrual prices each day
        of a stretch by. Cheap to ask again while no version is added."""
        ...

    def candidate(self) -> Candidate | None:
        """The candidate running in shadow, if any."""
        ...

    def set_candidate(self, candidate: Candidate | None) -> None: ...

    def next_candidate_id(self) -> int: ...

    def candidates_started(self) -> int:
        """How many candidates have ever run in shadow (their ids are 1 to this)."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRecord:
    at: datetime
    actor: str
    action: str
    subject: str
    reason: str
    details: Mapping[str, object]


class AuditLog(Protocol):
    def record(self, record: AuditRecord) -> None: ...

    def recent(
        self,
        *,
        limit: int,
        offset: int = 0,
        action: str | None = None,
        actor: str | None = None,
        subject: str | None = None,
    ) -> list[AuditRecord]:
        """Newest first: `limit` records from `offset`, without reading the ones before;
        only those of `action` (exactly, or its family: `limit` is `limit.change`,
        `limit.temporary`, ...), `actor` and `subject` where given."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKeyRecord:
    """An API key as stored: only the SHA-256 of the key is kept, never the key itself.
    `key_id` is 0 until the record is stored."""

    key_id: int
    digest: str
    role: str
    customer_id: str | None
    label: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None = None


class ApiKeyRepository(Protocol):
    def add(self, key: ApiKeyRecord) -> ApiKeyRecord:
        """Store a new key; it is returned with its `key_id`."""
        ...

    def find_by_digest(self, digest: str) -> ApiKeyRecord | None: ...

    def get(self, key_id: int) -> ApiKeyRecord | None: ...

    def list(self) -> list[ApiKeyRecord]:
        """Every key, oldest first."""
        ...

    def revoke(self, key_id: int, *, at: datetime) -> None: ...

    def end_session(self, session_digest: str, *, key_id: int, expires_at: datetime) -> None:
        """Remember that a dashboard session (by the digest of its id) was signed out, until
        it would have expired anyway; already ended is no error."""
        ...

    def session_ended(self, session_digest: str) -> bool: ...

    def forget_sessions_expired(self, *, at: datetime) -> int:
        """Drop ended sessions that have expired by `at` (they can no longer be used): how
        many."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredResponse:
    """The first response given to a request under an idempotency key, kept so that a retry
    gets it again. `fingerprint` is a digest of the request (method, path, body)."""

    idempotency_key: str
    fingerprint: str
    request: str
    status_code: int
    body: str
    created_at: datetime


class ResponseRepository(Protocol):
    def find(self, idempotency_key: str) -> StoredResponse | None: ...

    def add(self, response: StoredResponse) -> bool:
        """Keep the response, or nothing when its key is already taken (a concurrent request
        with the same key got there first): returns whether it was kept."""
        ...

    def forget_kept_before(self, at: datetime, *, limit: int) -> int:
        """Drop at most `limit` responses kept before `at`, oldest first: how many."""
        ...


class UnitOfWork(Protocol):
    """One transaction. Leaving the block without `commit()` rolls everything back."""

    @property
    def customers(self) -> CustomerRepository: ...

    @property
    def limits(self) -> LimitRepository: ...

    @property
    def ledger(self) -> LedgerRepository: ...

    @property
    def parameters(self) -> ParameterRepository: ...

    @property
    def audit(self) -> AuditLog: ...

    @property
    def paylater(self) -> PayLaterRepository: ...

    @property
    def loans(self) -> LoanRepository: ...

    @property
    def decisions(self) -> DecisionRepository: ...

    @property
    def alerts(self) -> AlertRepository: ...

    @property
    def eod(self) -> CloseOfDayLog: ...

    @property
    def portfolio(self) -> PortfolioRepository: ...

    @property
    def api_keys(self) -> ApiKeyRepository: ...

    @property
    def responses(self) -> ResponseRepository: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...


class Store(Protocol):
    """Where a book lives. Each call gives a fresh unit of work."""

    def unit_of_work(self, *, autocommit: bool = False) -> UnitOfWork:
        """A unit of work; with `autocommit`, see `reader`."""
        ...

    def reader(self, *, autocommit: bool = False) -> UnitOfWork:
        """A unit of work for reads only: it takes no write lock.

        `autocommit`: each statement is its own transaction, with no BEGIN or COMMIT around
        them, on a database server where those are round trips of their own (PostgreSQL);
        elsewhere it changes nothing. For work of one statement, or of reads that need not
        see one snapshot: authenticating a request, keeping its answer."""
        ...

    def dispose(self) -> None:
        """Close connections; the store is not used afterwards."""
        ...

    def only_one(self, name: str) -> AbstractContextManager[bool]:
        """Hold the book's lock `name` for the block, if no one, in any process, holds it:
        yields whether it was taken. A process that ends, however it ends, lets it go."""
        ...

    def keyed_digest(self, data: bytes) -> str:
        """A digest of `data` that may hold personal data (a request with a national ID),
        keyed with the book's national-ID key: without the key, it cannot be matched
        against guesses."""
        ...


class Clock(Protocol):
    """Wall-clock time, for audit records only: business logic is handed its date."""

    def now(self) -> datetime: ...

    def today(self) -> date: ...
