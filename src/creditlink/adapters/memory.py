"""An in-memory store behind the same ports as SQL: for fast tests and the twin.

One lock serialises units of work (the SQL store serialises per customer; here one process
owns everything). Writes go straight into the state and record how to undo themselves;
leaving a unit of work without `commit()` undoes them, newest first.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import TracebackType
from typing import Any, Self

from creditlink.adapters.codecs import (
    loan_from_dict,
    loan_to_dict,
    paylater_from_dict,
    paylater_to_dict,
)
from creditlink.application.errors import CustomerNotFound
from creditlink.application.ports import (
    AlertRecord,
    AuditRecord,
    Candidate,
    DecisionRecord,
    Incident,
    ParameterVersion,
)
from creditlink.domain.customer import Customer, NationalId
from creditlink.domain.errors import Conflict
from creditlink.domain.ledger import GENESIS_HASH, EntryDraft, JournalEntry, StoredEntry, chain
from creditlink.domain.limits import JointLimit, limit_wake_on
from creditlink.domain.loan.loan import Loan
from creditlink.domain.parameters import ParameterSet
from creditlink.domain.paylater.account import PayLaterAccount

Undo = Callable[[], object]  # a step that puts the state back; its value is ignored


@dataclass
class MemoryState:
    customers: dict[str, Customer] = field(default_factory=dict)
    national_ids: dict[str, str] = field(default_factory=dict)
    limits: dict[str, JointLimit] = field(default_factory=dict)
    entries: list[JournalEntry] = field(default_factory=list)
    entries_by_key: dict[str, JournalEntry] = field(default_factory=dict)
    reversed_by: dict[int, int] = field(default_factory=dict)
    balances: dict[str, int] = field(default_factory=dict)
    parameters: list[tuple[ParameterSet, ParameterVersion]] = field(default_factory=list)
    audit: list[AuditRecord] = field(default_factory=list)
    # customer_id -> (account document, next wake date, closed through)
    paylater: dict[str, tuple[dict[str, Any], date | None, date | None]] = field(
        default_factory=dict
    )
    # (customer_id, ref) -> (loan document, next wake date, closed through)
    loans: dict[tuple[str, str], tuple[dict[str, Any], date | None, date | None]] = field(
        default_factory=dict
    )
    alerts: list[AlertRecord] = field(default_factory=list)
    decisions: list[DecisionRecord] = field(default_factory=list)
    decisions_by_key: dict[str, DecisionRecord] = field(default_factory=dict)
    closed_days: dict[date, tuple[str, Mapping[str, int]]] = field(default_factory=dict)
    decisions_by_day: dict[tuple[str, date], list[DecisionRecord]] = field(default_factory=dict)
    candidate: Candidate | None = None
    candidates_started: int = 0
    indicators: dict[date, Mapping[str, Any]] = field(default_factory=dict)
    incidents: list[Incident] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)


def _id_digest(national_id: NationalId) -> str:
    return hashlib.sha256(national_id.value.encode()).hexdigest()


class _Customers:
    def __init__(self, state: MemoryState, undo: list[Undo]):
        self._state, self._undo = state, undo

    def add(self, customer: Customer, *, national_id: NationalId) -> None:
        digest = _id_digest(national_id)
        assert customer.customer_id not in self._state.customers
        assert digest not in self._state.national_ids
        self._state.customers[customer.customer_id] = customer
        self._state.national_ids[digest] = customer.customer_id
        self._undo.append(lambda: self._state.customers.pop(customer.customer_id))
        self._undo.append(lambda: self._state.national_ids.pop(digest))

    def get(self, customer_id: str) -> Customer:
        try:
            return self._state.customers[customer_id]
        except KeyError:
            raise CustomerNotFound(customer_id) from None

    def exists(self, customer_id: str) -> bool:
        return customer_id in self._state.customers

    def update(self, customer: Customer) -> None:
        before = self.get(customer.customer_id)
        self._state.customers[customer.customer_id] = customer
        self._undo.append(lambda: self._state.customers.__setitem__(customer.customer_id, before))

    def ids(self, *, after: str, limit: int) -> list[str]:
        return [key for key in sorted(self._state.customers) if key > after][:limit]

    def find_by_national_id(self, national_id: NationalId) -> str | None:
        return self._state.national_ids.get(_id_digest(national_id))

    def list(self, *, offset: int, limit: int) -> list[Customer]:
        ordered = sorted(self._state.customers)
        return [self._state.customers[key] for key in ordered[offset : offset + limit]]

    def count(self) -> int:
        return len(self._state.customers)


class _Limits:
    def __init__(self, state: MemoryState, undo: list[Undo]):
        self._state, self._undo = state, undo

    def add(self, customer_id: str, limit: JointLimit) -> None:
        assert customer_id not in self._state.limits
        self._state.limits[customer_id] = limit
        self._undo.append(lambda: self._state.limits.pop(customer_id))

    def get(self, customer_id: str, *, for_update: bool = False) -> JointLimit:
        try:
            return self._state.limits[customer_id]
        except KeyError:
            raise CustomerNotFound(customer_id) from None

    def save(self, customer_id: str, limit: JointLimit) -> None:
        before = self.get(customer_id)
        self._state.limits[customer_id] = limit
        self._undo.append(lambda: self._state.limits.__setitem__(customer_id, before))

    def all_usage(self) -> Iterator[tuple[str, int, int]]:
        for customer_id, limit in sorted(self._state.limits.items()):
            yield customer_id, limit.used_paylater_fen, limit.used_loan_fen

    def due(self, on: date, *, after: str, limit: int) -> list[str]:
        due = [
            customer_id
            for customer_id, state in sorted(self._state.limits.items())
            if customer_id > after and (wake := limit_wake_on(state)) is not None and wake <= on
        ]
        return due[:limit]


class _Ledger:
    def __init__(self, state: MemoryState, undo: list[Undo]):
        self._state, self._undo = state, undo

    def append(self, draft: EntryDraft) -> JournalEntry:
        state = self._state
        if draft.idempotency_key in state.entries_by_key:
            raise Conflict(
                f"idempotency key {draft.idempotency_key!r} is already posted",
                field="idempotency_key",
                rule="IDEMPOTENCY_KEY_UNIQUE",
            )
        previous = state.entries[-1].hash if state.entries else GENESIS_HASH
        entry = chain(draft, entry_id=len(state.entries) + 1, previous_hash=previous)
        state.entries.append(entry)
        state.entries_by_key[draft.idempotency_key] = entry
        if draft.reverses_entry_id is not None:
            assert draft.reverses_entry_id not in state.reversed_by
            state.reversed_by[draft.reverses_entry_id] = entry.entry_id
        changes: dict[str, int] = {}
        for line in draft.lines:
            changes[line.account.name] = changes.get(line.account.name, 0) + line.signed_fen()
        for name, change in changes.items():
            state.balances[name] = state.balances.get(name, 0) + change

        def undo() -> None:
            state.entries.pop()
            del state.entries_by_key[draft.idempotency_key]
            if draft.reverses_entry_id is not None:
                del state.reversed_by[draft.reverses_entry_id]
            for name, change in changes.items():
                state.balances[name] -= change

        self._undo.append(undo)
        return entry

    def append_many(self, drafts: Sequence[EntryDraft]) -> list[JournalEntry]:
        return [self.append(draft) for draft in drafts]

    def find_by_key(self, idempotency_key: str) -> JournalEntry | None:
        return self._state.entries_by_key.get(idempotency_key)

    def get(self, entry_id: int) -> JournalEntry | None:
        if 1 <= entry_id <= len(self._state.entries):
            return self._state.entries[entry_id - 1]
        return None

    def reversal_of(self, entry_id: int) -> int | None:
        return self._state.reversed_by.get(entry_id)

    def customers_posting_on(self, on: date, *, after: str, limit: int) -> list[str]:
        found = {
            e.draft.customer_id
            for e in reversed(self._state.entries)
            if e.business_date == on and e.draft.customer_id is not None
        }
        return sorted(c for c in found if c is not None and c > after)[:limit]

    def money_events(self, customer_id: str, *, since: date) -> list[tuple[date, str, int, str]]:
        return [
            (e.business_date, e.kind.value, e.lines[0].amount_fen, e.lines[1].account.name)
            for e in self.customer_entries(customer_id, since=since)
            if e.kind.value in ("repayment", "loan_draw")
        ]

    def customer_entries(self, customer_id: str, *, since: date) -> list[JournalEntry]:
        return [
            entry
            for entry in self._state.entries
            if entry.draft.customer_id == customer_id and entry.business_date >= since
        ]

    def scan(self, *, batch_size: int = 5000) -> Iterator[StoredEntry]:
        for entry in self._state.entries:
            yield entry.stored()

    def stored_balances(self) -> Mapping[str, int]:
        return dict(self._state.balances)

    def count(self) -> int:
        return len(self._state.entries)


class _PayLater:
    """Accounts are kept as their JSON documents, so these tests exercise the codec too."""

    def __init__(self, state: MemoryState, undo: list[Undo]):
        self._state, self._undo = state, undo

    def _put(
        self, customer_id: str, value: tuple[dict[str, Any], date | None, date | None]
    ) -> None:
        before = self._state.paylater.get(customer_id)
        self._state.paylater[customer_id] = value
        if before is None:
            self._undo.append(lambda: self._state.paylater.pop(customer_id))
        else:
            self._undo.append(lambda: self._state.paylater.__setitem__(customer_id, before))

    def add(self, account: PayLaterAccount, *, next_wake_on: date | None) -> None:
        assert account.customer_id not in self._state.paylater
        self._put(account.customer_id, (paylater_to_dict(account), next_wake_on, None))

    def get(self, customer_id: str) -> PayLaterAccount:
        try:
            document = self._state.paylater[customer_id][0]
        except KeyError:
            raise CustomerNotFound(customer_id) from None
        return paylater_from_dict(copy.deepcopy(document))

    def save(
        self,
        account: PayLaterAccount,
        *,
        next_wake_on: date | None,
        closed_through: date | None = None,
    ) -> None:
        _, _, closed = self._state.paylater[account.customer_id]
        self._put(
            account.customer_id, (paylater_to_dict(account), next_wake_on, closed_through or closed)
        )

    def written_off(self, customer_id: str) -> bool:
        return bool(self._state.paylater[customer_id][0]["status"] == "written_off")

    def due(self, on: date, *, limit: int) -> list[str]:
        due = sorted(
            (wake, customer_id)
            for customer_id, (_, wake, closed) in self._state.paylater.items()
            if wake is not None and wake <= on and (closed is None or closed < on)
        )
        return [customer_id for _, customer_id in due[:limit]]

    def all(self) -> Iterator[PayLaterAccount]:
        for customer_id in sorted(self._state.paylater):
            yield self.get(customer_id)


class _Loans:
    def __init__(self, state: MemoryState, undo: list[Undo]):
        self._state, self._undo = state, undo

    def _put(
        self, key: tuple[str, str], value: tuple[dict[str, Any], date | None, date | None]
    ) -> None:
        before = self._state.loans.get(key)
        self._state.loans[key] = value
        if before is None:
            self._undo.append(lambda: self._state.loans.pop(key))
        else:
            self._undo.append(lambda: self._state.loans.__setitem__(key, before))

    def add(self, loan: Loan, *, next_wake_on: date | None) -> None:
        key = (loan.customer_id, loan.ref)
        assert key not in self._state.loans
        self._put(key, (loan_to_dict(loan), next_wake_on, None))

    def find(self, customer_id: str, ref: str) -> Loan | None:
        found = self._state.loans.get((customer_id, ref))
        return loan_from_dict(copy.deepcopy(found[0])) if found is not None else None

    def of_customer(self, customer_id: str) -> list[Loan]:
        return [
            loan_from_dict(copy.deepcopy(document))
            for (owner, _), (document, _, _) in self._state.loans.items()
            if owner == customer_id
        ]

    def save(
        self, loan: Loan, *, next_wake_on: date | None, closed_through: date | None = None
    ) -> None:
        key = (loan.customer_id, loan.ref)
        _, _, closed = self._state.loans[key]
        self._put(key, (loan_to_dict(loan), next_wake_on, closed_through or closed))

    def written_off(self, customer_id: str) -> bool:
        return any(
            owner == customer_id and document["status"] == "written_off"
            for (owner, _), (document, _, _) in self._state.loans.items()
        )

    def due(self, on: date, *, limit: int) -> list[tuple[str, str]]:
        due = sorted(
            (wake, key)
            for key, (_, wake, closed) in self._state.loans.items()
            if wake is not None and wake <= on and (closed is None or closed < on)
        )
        return [key for _, key in due[:limit]]

    def all(self) -> Iterator[Loan]:
        for key in sorted(self._state.loans):
            yield loan_from_dict(copy.deepcopy(self._state.loans[key][0]))


class _Decisions:
    def __init__(self, state: MemoryState, undo: list[Undo]):
        self._state, self._undo = state, undo

    def add(self, decision: DecisionRecord) -> None:
        assert decision.idempotency_key not in self._state.decisions_by_key
        self._state.decisions.append(decision)
        self._state.decisions_by_key[decision.idempotency_key] = decision
        self._undo.append(lambda: self._state.decisions.pop())
        self._undo.append(lambda: self._state.decisions_by_key.pop(decision.idempotency_key))
        day = self._state.decisions_by_day.setdefault((decision.customer_id, decision.on), [])
        day.append(decision)
        self._undo.append(day.pop)

    def find_by_key(self, idempotency_key: str) -> DecisionRecord | None:
        return self._state.decisions_by_key.get(idempotency_key)

    def list(self, *, customer_id: str | None = None) -> list[DecisionRecord]:
        return [
            d for d in self._state.decisions if customer_id is None or d.customer_id == customer_id
        ]

    def of_customer_on(self, customer_id: str, on: date) -> Sequence[DecisionRecord]:
        return list(self._state.decisions_by_day.get((customer_id, on), ()))

    def between(self, first: date, last: date) -> Iterator[DecisionRecord]:
        return iter([d for d in self._state.decisions if first <= d.on <= last])

    def outcomes_on(self, on: date) -> Mapping[str, int]:
        counts: dict[str, int] = {}
        for d in self._state.decisions:
            if d.on == on:
                counts[d.outcome] = counts.get(d.outcome, 0) + 1
        return counts


class _Alerts:
    def __init__(self, state: MemoryState, undo: list[Undo]):
        self._state, self._undo = state, undo

    def add(self, alert: AlertRecord) -> None:
        self._state.alerts.append(alert)
        self._undo.append(lambda: self._state.alerts.pop())

    def list(self, *, customer_id: str | None = None) -> list[AlertRecord]:
        return [
            a for a in self._state.alerts if customer_id is None or a.customer_id == customer_id
        ]


class _CloseOfDay:
    def __init__(self, state: MemoryState, undo: list[Undo]):
        self._state, self._undo = state, undo

    def last_closed(self) -> date | None:
        return max(
            (day for day, (status, _) in self._state.closed_days.items() if status == "closed"),
            default=None,
        )

    def latest(self) -> tuple[date, str] | None:
        if not self._state.closed_days:
            return None
        day = max(self._state.closed_days)
        return day, self._state.closed_days[day][0]

    def is_closed(self, on: date) -> bool:
        return self._state.closed_days.get(on, ("", {}))[0] == "closed"

    def mark_closing(self, on: date, *, at: datetime) -> None:
        if on not in self._state.closed_days:
            self._state.closed_days[on] = ("closing", {})
            self._undo.append(lambda: self._state.closed_days.pop(on))

    def mark_closed(self, on: date, *, at: datetime, summary: Mapping[str, int]) -> None:
        before = self._state.closed_days.get(on)
        assert before is None or before[0] == "closing", before
        self._state.closed_days[on] = ("closed", dict(summary))
        if before is None:
            self._undo.append(lambda: self._state.closed_days.pop(on))
        else:
            self._undo.append(lambda: self._state.closed_days.__setitem__(on, before))


class _Parameters:
    def __init__(self, state: MemoryState, undo: list[Undo]):
        self._state, self._undo = state, undo

    def current(self) -> ParameterSet | None:
        return self._state.parameters[-1][0] if self._state.parameters else None

    def get(self, version: int) -> ParameterSet | None:
        for parameters, _ in self._state.parameters:
            if parameters.version == version:
                return parameters
        return None

    def add(self, parameters: ParameterSet, *, actor: str, reason: str, at: datetime) -> None:
        expected = len(self._state.parameters) + 1
        if parameters.version != expected:
            raise Conflict(
                f"parameter version {parameters.version} is not the next version ({expected})",
                field="version",
                rule="PARAMETER_VERSION_NEXT",
            )
        record = ParameterVersion(
            version=parameters.version, created_at=at, actor=actor, reason=reason
        )
        self._state.parameters.append((parameters, record))
        self._undo.append(lambda: self._state.parameters.pop())

    def history(self) -> list[ParameterVersion]:
        return [record for _, record in self._state.parameters]

    def candidate(self) -> Candidate | None:
        return self._state.candidate

    def set_candidate(self, candidate: Candidate | None) -> None:
        before = self._state.candidate
        self._state.candidate = candidate
        self._undo.append(lambda: setattr(self._state, "candidate", before))

    def next_candidate_id(self) -> int:
        self._state.candidates_started += 1
        self._undo.append(
            lambda: setattr(self._state, "candidates_started", self._state.candidates_started - 1)
        )
        return self._state.candidates_started


class _Portfolio:
    def __init__(self, state: MemoryState, undo: list[Undo]):
        self._state, self._undo = state, undo

    def add_indicators(self, on: date, values: Mapping[str, Any]) -> None:
        self._state.indicators[on] = dict(values)
        self._undo.append(lambda: self._state.indicators.pop(on))

    def indicators(self, first: date, last: date) -> list[tuple[date, Mapping[str, Any]]]:
        return sorted((d, v) for d, v in self._state.indicators.items() if first <= d <= last)

    def add_incident(self, incident: Incident) -> Incident:
        stored = dataclasses.replace(incident, incident_id=len(self._state.incidents) + 1)
        self._state.incidents.append(stored)
        self._undo.append(self._state.incidents.pop)
        return stored

    def save_incident(self, incident: Incident) -> None:
        index = incident.incident_id - 1
        before = self._state.incidents[index]
        self._state.incidents[index] = incident
        self._undo.append(lambda: self._state.incidents.__setitem__(index, before))

    def incidents(self) -> list[Incident]:
        return list(self._state.incidents)

    def count_active(self) -> Mapping[str, int]:
        limits = self._state.limits.values()
        return {
            "paylater": sum(1 for limit in limits if limit.used_paylater_fen > 0),
            "loan": sum(1 for doc, _, _ in self._state.loans.values() if doc["status"] == "active"),
        }


class _Audit:
    def __init__(self, state: MemoryState, undo: list[Undo]):
        self._state, self._undo = state, undo

    def record(self, record: AuditRecord) -> None:
        self._state.audit.append(record)
        self._undo.append(lambda: self._state.audit.pop())

    def recent(self, *, limit: int) -> list[AuditRecord]:
        return list(reversed(self._state.audit[-limit:]))


class MemoryUnitOfWork:
    def __init__(self, state: MemoryState):
        self._state = state
        self._undo: list[Undo] = []
        self.customers = _Customers(state, self._undo)
        self.limits = _Limits(state, self._undo)
        self.ledger = _Ledger(state, self._undo)
        self.parameters = _Parameters(state, self._undo)
        self.audit = _Audit(state, self._undo)
        self.paylater = _PayLater(state, self._undo)
        self.loans = _Loans(state, self._undo)
        self.decisions = _Decisions(state, self._undo)
        self.alerts = _Alerts(state, self._undo)
        self.eod = _CloseOfDay(state, self._undo)
        self.portfolio = _Portfolio(state, self._undo)

    def __enter__(self) -> Self:
        self._state.lock.acquire()
        self._undo.clear()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            while self._undo:
                self._undo.pop()()
        finally:
            self._state.lock.release()

    def commit(self) -> None:
        self._undo.clear()


class MemoryStore:
    """A whole book in this process's memory."""

    def __init__(self) -> None:
        self.state = MemoryState()

    def unit_of_work(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.state)

    def reader(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.state)

    def dispose(self) -> None:
        """Nothing to close: the book goes when the process does."""
