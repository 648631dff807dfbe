"""An in-memory store behind the same ports as SQL: for fast tests and the twin.

One lock serialises units of work (the SQL store serialises per customer; here one process
owns everything). Writes go straight into the state and record how to undo themselves;
leaving a unit of work without `commit()` undoes them, newest first.

Every query an operation or a close-of-day batch makes reads an index kept beside the data
(per customer, per date, or a due queue in key order), so its cost does not grow with the
book; each write updates the indexes it touches and records how to undo that too. Only
whole-book reads (`all`, `all_usage`, `scan`, the portfolio counts) walk everything.

PayLater accounts and loans are kept as aggregates, not documents (the SQL store's tests
exercise the codecs). A read hands out a deep copy (`domain.copies`: records, lists and
dicts rebuilt, immutable values shared), so no caller can reach stored state through what it
reads. A read with `read_only=True` hands out the stored aggregate itself, uncopied.

A store is *checked* by default: a save keeps a copy of what it was given, and every
read-only aggregate is compared with a copy taken when it was read as the unit of work ends
(changing one raises AssertionError). Tests run checked, so they catch a use case that
changes what it promised only to read. The twin runs *unchecked*, which skips those copies:
a save keeps the very aggregate it is given (the caller must not change it afterwards
without saving it again). tests/twin holds the twin to giving the same result either way.
"""

from __future__ import annotations

import dataclasses
import hashlib
import heapq
import hmac
import secrets
import threading
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from types import TracebackType
from typing import Any, Generic, Self, TypeVar, overload

from creditlink.adapters.locks import held_if_free
from creditlink.application.errors import CustomerNotFound
from creditlink.application.ports import (
    AlertRecord,
    ApiKeyRecord,
    AuditRecord,
    Candidate,
    DecisionRecord,
    Incident,
    ParameterVersion,
    StoredResponse,
)
from creditlink.domain.copies import cloner
from creditlink.domain.customer import Customer, NationalId
from creditlink.domain.errors import Conflict
from creditlink.domain.ledger import (
    GENESIS_HASH,
    EntryDraft,
    EntryKind,
    JournalEntry,
    StoredEntry,
    chain,
)
from creditlink.domain.limits import JointLimit, limit_wake_on
from creditlink.domain.loan.loan import Loan, LoanStatus
from creditlink.domain.parameters import ParameterSet
from creditlink.domain.paylater.account import PayLaterAccount

Undo = Callable[[], object]  # a step that puts the state back; its value is ignored
# A stored document with its next wake date and the date it is closed through.
A = TypeVar("A")
Stored = tuple[A, date | None, date | None]  # (aggregate, next wake date, closed through)

MoneyRow = tuple[date, str, int, str]  # (business date, kind, amount, second line's account)
_MONEY_KINDS = frozenset((EntryKind.REPAYMENT, EntryKind.LOAN_DRAW))

_RUN = 256  # keys per run of a _SortedKeys (a run splits in two past twice this)


class _SortedKeys:
    """A sorted set of distinct keys, held in runs of at most 2 × _RUN keys with each run's
    largest key beside it (the layout of sortedcontainers' SortedList): adding, removing and
    reading on from a key cost O(log n + _RUN), whatever the order keys come in."""

    __slots__ = ("_maxes", "_runs", "_size")

    def __init__(self) -> None:
        self._runs: list[list[Any]] = []
        self._maxes: list[Any] = []
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def add(self, key: Any) -> None:
        runs, maxes = self._runs, self._maxes
        at = bisect_left(maxes, key)
        if at == len(maxes):
            if not runs:
                runs.append([key])
                maxes.append(key)
                self._size = 1
                return
            at -= 1
            runs[at].append(key)
            maxes[at] = key
        else:
            run = runs[at]
            index = bisect_left(run, key)
            assert run[index] != key, f"{key!r} is already held"
            run.insert(index, key)
        self._size += 1
        run = runs[at]
        if len(run) > 2 * _RUN:
            rest = run[_RUN:]
            del run[_RUN:]
            maxes[at] = run[-1]
            runs.insert(at + 1, rest)
            maxes.insert(at + 1, rest[-1])

    def remove(self, key: Any) -> None:
        runs, maxes = self._runs, self._maxes
        at = bisect_left(maxes, key)
        assert at < len(maxes), f"{key!r} is not held"
        run = runs[at]
        index = bisect_left(run, key)
        assert run[index] == key, f"{key!r} is not held"
        del run[index]
        self._size -= 1
        if not run:
            del runs[at]
            del maxes[at]
        elif index == len(run):
            maxes[at] = run[-1]

    def after(self, key: Any = None) -> Iterator[Any]:
        """The keys greater than `key` (every key when None), in order. Read it before the
        set changes again."""
        runs = self._runs
        if key is None:
            at, start = 0, 0
        else:
            at = bisect_right(self._maxes, key)
            if at == len(runs):
                return
            start = bisect_right(runs[at], key)
        if at < len(runs):
            yield from runs[at][start:]
        for later in range(at + 1, len(runs)):
            yield from runs[later]

    def window(self, offset: int, limit: int) -> list[Any]:
        """The keys at positions offset .. offset + limit - 1 (as slicing a sorted list)."""
        if offset < 0 or limit < 0:
            return list(self.after())[offset : offset + limit]
        found: list[Any] = []
        for run in self._runs:
            if offset >= len(run):
                offset -= len(run)
                continue
            found.extend(run[offset : offset + limit - len(found)])
            offset = 0
            if len(found) >= limit:
                break
        return found


Slot = tuple[int, Any]  # (the date ordinal a key is filed under, the key)


class _Queue:
    """Keys filed under a date: read in key order across every date up to a given one. A
    read merges the sets of those dates only, and they are few: the close moves what it
    visits past the date it closes (a limit whose increase is held stays where it is)."""

    __slots__ = ("_by_day",)

    def __init__(self) -> None:
        self._by_day: dict[int, _SortedKeys] = {}

    def move(self, old: Slot | None, new: Slot | None) -> None:
        if old == new:
            return
        if old is not None:
            keys = self._by_day[old[0]]
            keys.remove(old[1])
            if not keys:
                del self._by_day[old[0]]
        if new is not None:
            held = self._by_day.get(new[0])
            if held is None:
                held = self._by_day[new[0]] = _SortedKeys()
            held.add(new[1])

    def filed(self) -> dict[int, list[Any]]:
        """Every date (ordinal) with its keys in order: for checks."""
        return {day: list(keys.after()) for day, keys in self._by_day.items()}

    def upto(self, day: int, *, after: Any = None, limit: int) -> list[Any]:
        """The first `limit` keys greater than `after` filed under `day` or earlier."""
        runs = [keys.after(after) for filed, keys in self._by_day.items() if filed <= day]
        if not runs:
            return []
        merged: Iterable[Any] = runs[0] if len(runs) == 1 else heapq.merge(*runs)
        return list(islice(merged, limit))


def _ready(wake: date | None, closed: date | None) -> int | None:
    """The first date (ordinal) whose close must visit a document: its wake date, or the day
    after the date it is closed through, whichever is later; None when it never wakes."""
    if wake is None:
        return None
    day = wake.toordinal()
    return day if closed is None else max(day, closed.toordinal() + 1)


def _due_slot(key: Any, value: Stored[Any] | None) -> Slot | None:
    """Where a document waits in its due queue, ordered by (wake date, key)."""
    if value is None:
        return None
    _, wake, closed = value
    ready = _ready(wake, closed)
    return None if ready is None else (ready, (wake, *key))


@dataclass
class MemoryState:
    customers: dict[str, Customer] = field(default_factory=dict)
    customer_order: _SortedKeys = field(default_factory=_SortedKeys)
    national_ids: dict[str, str] = field(default_factory=dict)
    limits: dict[str, JointLimit] = field(default_factory=dict)
    # customer ids by the date their limit wakes (limit_wake_on)
    limits_due: _Queue = field(default_factory=_Queue)
    entries: list[JournalEntry] = field(default_factory=list)
    entries_by_key: dict[str, JournalEntry] = field(default_factory=dict)
    entries_by_customer: dict[str, list[JournalEntry]] = field(default_factory=dict)
    # per customer, its repayments and draws as `money_events` answers them, in posting order
    money_by_customer: dict[str, list[MoneyRow]] = field(default_factory=dict)
    # (business date, customer_id) -> how many entries; and each date's customers in order
    postings: dict[tuple[date, str], int] = field(default_factory=dict)
    posting_customers: dict[date, _SortedKeys] = field(default_factory=dict)
    reversed_by: dict[int, int] = field(default_factory=dict)
    balances: dict[str, int] = field(default_factory=dict)
    parameters: list[tuple[ParameterSet, ParameterVersion]] = field(default_factory=list)
    audit: list[AuditRecord] = field(default_factory=list)
    # customer_id -> (account, next wake date, closed through); the account is the store's own
    paylater: dict[str, Stored[PayLaterAccount]] = field(default_factory=dict)
    # (wake, customer_id) filed under the first date whose close must visit the account
    paylater_due: _Queue = field(default_factory=_Queue)
    # (customer_id, ref) -> (loan, next wake date, closed through); the loan is the store's own
    loans: dict[tuple[str, str], Stored[Loan]] = field(default_factory=dict)
    loan_refs: dict[str, list[str]] = field(default_factory=dict)  # per customer, as added
    # (wake, customer_id, ref) filed under the first date whose close must visit the loan
    loans_due: _Queue = field(default_factory=_Queue)
    # the customers using PayLater (usage above 0) and the active loans (count_active)
    paylater_in_use: set[str] = field(default_factory=set)
    loans_active: set[tuple[str, str]] = field(default_factory=set)
    alerts: list[AlertRecord] = field(default_factory=list)
    alerts_by_customer: dict[str, list[AlertRecord]] = field(default_factory=dict)
    decisions: list[DecisionRecord] = field(default_factory=list)
    decisions_by_key: dict[str, DecisionRecord] = field(default_factory=dict)
    decisions_by_customer: dict[str, list[DecisionRecord]] = field(default_factory=dict)
    decisions_by_day: dict[tuple[str, date], list[DecisionRecord]] = field(default_factory=dict)
    decision_numbers_on: dict[date, list[int]] = field(default_factory=dict)  # into decisions
    closed_days: dict[date, tuple[str, Mapping[str, int]]] = field(default_factory=dict)
    # (latest date closing or closed, last date closed), worked out after closed_days changes
    days_seen: tuple[date | None, date | None] | None = None
    candidate: Candidate | None = None
    candidates_started: int = 0
    # Checked (the default, for tests): saves keep copies and read-only aggregates are
    # verified unchanged when the unit of work ends. Unchecked (the twin): neither, faster.
    checked: bool = True
    indicators: dict[date, Mapping[str, Any]] = field(default_factory=dict)
    incidents: list[Incident] = field(default_factory=list)
    api_keys: list[ApiKeyRecord] = field(default_factory=list)  # key_id - 1 is the index
    api_key_digests: dict[str, int] = field(default_factory=dict)  # digest -> key_id
    responses: dict[str, StoredResponse] = field(default_factory=dict)
    ended_sessions: dict[str, datetime] = field(default_factory=dict)  # digest -> expires at
    lock: threading.RLock = field(default_factory=threading.RLock)


def _id_digest(national_id: NationalId) -> str:
    return hashlib.sha256(national_id.value.encode()).hexdigest()


def _kept_in(held: set[Any], key: Any, inside: bool, undo: list[Undo]) -> None:
    """Make `key`'s membership of `held` equal `inside`; undone by putting it back."""
    if inside == (key in held):
        return
    if inside:
        held.add(key)
        undo.append(lambda: held.discard(key))
    else:
        held.discard(key)
        undo.append(lambda: held.add(key))


def _listed(index: dict[Any, list[Any]], key: Any, item: object, undo: list[Undo]) -> None:
    """Append `item` to `index[key]`; undone by taking it off again (undo runs newest
    first, so it is still the last item then)."""
    items = index.get(key)
    if items is None:
        items = index[key] = []
    items.append(item)

    def unlist() -> None:
        items.pop()
        if not items:
            del index[key]

    undo.append(unlist)


class _Customers:
    def __init__(self, state: MemoryState, undo: list[Undo]):
        self._state, self._undo = state, undo

    def add(self, customer: Customer, *, national_id: NationalId) -> None:
        state = self._state
        digest = _id_digest(national_id)
        customer_id = customer.customer_id
        assert customer_id not in state.customers
        assert digest not in state.national_ids
        state.customers[customer_id] = customer
        state.national_ids[digest] = customer_id
        state.customer_order.add(customer_id)

        def undo() -> None:
            state.customer_order.remove(customer_id)
            del state.national_ids[digest]
            del state.customers[customer_id]

        self._undo.append(undo)

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
        return list(islice(self._state.customer_order.after(after), limit))

    def find_by_national_id(self, national_id: NationalId) -> str | None:
        return self._state.national_ids.get(_id_digest(national_id))

    def list(self, *, offset: int, limit: int) -> list[Customer]:
        ordered = self._state.customer_order.window(offset, limit)
        return [self._state.customers[key] for key in ordered]

    def count(self) -> int:
        return len(self._state.customers)


def _limit_slot(customer_id: str, limit: JointLimit | None) -> Slot | None:
    wake = limit_wake_on(limit) if limit is not None else None
    return None if wake is None else (wake.toordinal(), customer_id)


class _Limits:
    def __init__(self, state: MemoryState, undo: list[Undo]):
        self._state, self._undo = state, undo

    def _put(self, customer_id: str, limit: JointLimit) -> None:
        state = self._state
        before = state.limits.get(customer_id)
        state.limits[customer_id] = limit
        old, new = _limit_slot(customer_id, before), _limit_slot(customer_id, limit)
        state.limits_due.move(old, new)
        _kept_in(state.paylater_in_use, customer_id, limit.used_paylater_fen > 0, self._undo)

        def undo() -> None:
            state.limits_due.move(new, old)
            if before is None:
                del state.limits[customer_id]
            else:
                state.limits[customer_id] = before

        self._undo.append(undo)

    def add(self, customer_id: str, limit: JointLimit) -> None:
        assert customer_id not in self._state.limits
        self._put(customer_id, limit)

    def get(self, customer_id: str, *, for_update: bool = False) -> JointLimit:
        try:
            return self._state.limits[customer_id]
        except KeyError:
            raise CustomerNotFound(customer_id) from None

    def save(self, customer_id: str, limit: JointLimit) -> None:
        self.get(customer_id)
        self._put(customer_id, limit)

    def all_usage(self) -> Iterator[tuple[str, int, int]]:
        for customer_id, limit in sorted(self._state.limits.items()):
            yield customer_id, limit.used_paylater_fen, limit.used_loan_fen

    def due(self, on: date, *, after: str, limit: int) -> list[str]:
        return self._state.limits_due.upto(on.toordinal(), after=after, limit=limit)


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
        customer_id = entry.draft.customer_id
        posting = (entry.business_date, customer_id) if customer_id is not None else None
        money = posting is not None and draft.kind in _MONEY_KINDS
        if posting is not None:
            state.entries_by_customer.setdefault(posting[1], []).append(entry)
            if money:
                row = (posting[0], draft.kind.value, draft.lines[0].amount_fen)
                state.money_by_customer.setdefault(posting[1], []).append(
                    (*row, draft.lines[1].account.name)
                )
            count = state.postings.get(posting, 0)
            state.postings[posting] = count + 1
            if count == 0:
                day = state.posting_customers.get(posting[0])
                if day is None:
                    day = state.posting_customers[posting[0]] = _SortedKeys()
                day.add(posting[1])

        def undo() -> None:
            if posting is not None:
                count = state.postings.pop(posting) - 1
                if count:
                    state.postings[posting] = count
                else:
                    day = state.posting_customers[posting[0]]
                    day.remove(posting[1])
                    if not day:
                        del state.posting_customers[posting[0]]
                own = state.entries_by_customer[posting[1]]
                own.pop()
                if not own:
                    del state.entries_by_customer[posting[1]]
                if money:
                    rows = state.money_by_customer[posting[1]]
                    rows.pop()
                    if not rows:
                        del state.money_by_customer[posting[1]]
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
        day = self._state.posting_customers.get(on)
        return [] if day is None else list(islice(day.after(after), limit))

    def money_events(self, customer_id: str, *, since: date) -> list[MoneyRow]:
        return [
            row for row in self._state.money_by_customer.get(customer_id, ()) if row[0] >= since
        ]

    def customer_entries(self, customer_id: str, *, since: date) -> list[JournalEntry]:
        return [
            entry
            for entry in self._state.entries_by_customer.get(customer_id, ())
            if entry.business_date >= since
        ]

    def scan(self, *, batch_size: int = 5000) -> Iterator[StoredEntry]:
        for entry in self._state.entries:
            yield entry.stored()

    def stored_balances(self) -> Mapping[str, int]:
        return dict(self._state.balances)

    def count(self) -> int:
        return len(self._state.entries)


_copy_account = cloner(PayLaterAccount)
_copy_loan = cloner(Loan)
Lent = list[tuple[Any, Any]]  # (aggregate handed out read-only, a copy to check it against)


def _kept(aggregate: A, state: MemoryState, copy: Callable[[A], A]) -> A:
    """What a save stores: a copy when checked, else the aggregate itself (the caller hands it
    over and must not change it afterwards without saving it again)."""
    return copy(aggregate) if state.checked else aggregate


def _lent(aggregate: A, state: MemoryState, lent: Lent, copy: Callable[[A], A]) -> A:
    """The stored aggregate itself, for reading; when checked, remember it to verify later."""
    if state.checked:
        lent.append((aggregate, copy(aggregate)))
    return aggregate


class _PayLater:
    def __init__(self, state: MemoryState, undo: list[Undo], lent: Lent):
        self._state, self._undo, self._lent = state, undo, lent

    def _put(self, customer_id: str, value: Stored[PayLaterAccount]) -> None:
        state = self._state
        before = state.paylater.get(customer_id)
        state.paylater[customer_id] = value
        old, new = _due_slot((customer_id,), before), _due_slot((customer_id,), value)
        state.paylater_due.move(old, new)

        def undo() -> None:
            state.paylater_due.move(new, old)
            if before is None:
                del state.paylater[customer_id]
            else:
                state.paylater[customer_id] = before

        self._undo.append(undo)

    def add(self, account: PayLaterAccount, *, next_wake_on: date | None) -> None:
        assert account.customer_id not in self._state.paylater
        self._put(
            account.customer_id, (_kept(account, self._state, _copy_account), next_wake_on, None)
        )

    def get(
        self,
        customer_id: str,
        *,
        read_only: bool = False,
        refs: Collection[str] = (),
        since: date | None = None,
    ) -> PayLaterAccount:
        try:
            stored = self._state.paylater[customer_id][0]
        except KeyError:
            raise CustomerNotFound(customer_id) from None
        if read_only:
            return _lent(stored, self._state, self._lent, _copy_account)
        return _copy_account(stored)  # the caller's own: see the module docstring

    def save(
        self,
        account: PayLaterAccount,
        *,
        next_wake_on: date | None,
        closed_through: date | None = None,
    ) -> None:
        _, _, closed = self._state.paylater[account.customer_id]
        self._put(
            account.customer_id,
            (_kept(account, self._state, _copy_account), next_wake_on, closed_through or closed),
        )

    def written_off(self, customer_id: str) -> bool:
        return self._state.paylater[customer_id][0].written_off

    def due(self, on: date, *, limit: int) -> list[str]:
        return [key[1] for key in self._state.paylater_due.upto(on.toordinal(), limit=limit)]

    def wake_by(self, on: date) -> int:
        later = [
            (customer_id, (account, on, closed))
            for customer_id, (account, wake, closed) in self._state.paylater.items()
            if wake is not None and wake > on
        ]
        for customer_id, value in later:
            self._put(customer_id, value)
        return len(later)

    def all(self, *, read_only: bool = False) -> Iterator[PayLaterAccount]:
        for customer_id in sorted(self._state.paylater):
            yield self.get(customer_id, read_only=read_only)


class _Loans:
    def __init__(self, state: MemoryState, undo: list[Undo], lent: Lent):
        self._state, self._undo, self._lent = state, undo, lent

    def _put(self, key: tuple[str, str], value: Stored[Loan]) -> None:
        state = self._state
        before = state.loans.get(key)
        state.loans[key] = value
        old, new = _due_slot(key, before), _due_slot(key, value)
        state.loans_due.move(old, new)
        if before is None:
            _listed(state.loan_refs, key[0], key[1], self._undo)
        _kept_in(state.loans_active, key, value[0].status is LoanStatus.ACTIVE, self._undo)

        def undo() -> None:
            state.loans_due.move(new, old)
            if before is None:
                del state.loans[key]
            else:
                state.loans[key] = before

        self._undo.append(undo)

    def add(self, loan: Loan, *, next_wake_on: date | None) -> None:
        key = (loan.customer_id, loan.ref)
        assert key not in self._state.loans
        self._put(key, (_kept(loan, self._state, _copy_loan), next_wake_on, None))

    def find(self, customer_id: str, ref: str) -> Loan | None:
        found = self._state.loans.get((customer_id, ref))
        return _copy_loan(found[0]) if found is not None else None

    def of_customer(self, customer_id: str, *, read_only: bool = False) -> list[Loan]:
        loans, state, lent = self._state.loans, self._state, self._lent
        if read_only:
            return [
                _lent(loans[customer_id, ref][0], state, lent, _copy_loan)
                for ref in state.loan_refs.get(customer_id, ())
            ]
        return [
            _copy_loan(loans[customer_id, ref][0])
            for ref in self._state.loan_refs.get(customer_id, ())
        ]

    def save(
        self, loan: Loan, *, next_wake_on: date | None, closed_through: date | None = None
    ) -> None:
        key = (loan.customer_id, loan.ref)
        _, _, closed = self._state.loans[key]
        self._put(
            key, (_kept(loan, self._state, _copy_loan), next_wake_on, closed_through or closed)
        )

    def written_off(self, customer_id: str) -> bool:
        loans = self._state.loans
        return any(
            loans[customer_id, ref][0].status is LoanStatus.WRITTEN_OFF
            for ref in self._state.loan_refs.get(customer_id, ())
        )

    def due(self, on: date, *, limit: int) -> list[tuple[str, str]]:
        return [(key[1], key[2]) for key in self._state.loans_due.upto(on.toordinal(), limit=limit)]

    def wake_by(self, on: date) -> int:
        later = [
            (key, (loan, on, closed))
            for key, (loan, wake, closed) in self._state.loans.items()
            if wake is not None and wake > on
        ]
        for key, value in later:
            self._put(key, value)
        return len(later)

    def all(self, *, read_only: bool = False) -> Iterator[Loan]:
        state = self._state
        for key in sorted(state.loans):
            stored = state.loans[key][0]
            yield _lent(stored, state, self._lent, _copy_loan) if read_only else _copy_loan(stored)


class _Decisions:
    def __init__(self, state: MemoryState, undo: list[Undo]):
        self._state, self._undo = state, undo

    def add(self, decision: DecisionRecord) -> None:
        state = self._state
        key = decision.idempotency_key
        if key in state.decisions_by_key:
            raise Conflict(
                f"idempotency key already used ({key!r})",
                field="idempotency_key",
                rule="IDEMPOTENCY_KEY_UNIQUE",
            )
        number = len(state.decisions)
        state.decisions.append(decision)
        state.decisions_by_key[key] = decision
        indexes: tuple[tuple[dict[Any, list[Any]], Any, object], ...] = (
            (state.decisions_by_customer, decision.customer_id, decision),
            (state.decisions_by_day, (decision.customer_id, decision.on), decision),
            (state.decision_numbers_on, decision.on, number),
        )
        for index, at, item in indexes:
            listed = index.get(at)
            if listed is None:
                index[at] = [item]
            else:
                listed.append(item)

        def undo() -> None:
            for index, at, _ in indexes:
                listed = index[at]
                listed.pop()
                if not listed:
                    del index[at]
            del state.decisions_by_key[key]
            state.decisions.pop()

        self._undo.append(undo)

    def find_by_key(self, idempotency_key: str) -> DecisionRecord | None:
        return self._state.decisions_by_key.get(idempotency_key)

    def list(
        self, *, customer_id: str | None = None, op: str | None = None
    ) -> list[DecisionRecord]:
        state = self._state
        made = (
            state.decisions
            if customer_id is None
            else state.decisions_by_customer.get(customer_id, ())
        )
        return [d for d in made if op is None or d.op == op]

    def page(
        self, *, customer_id: str | None, offset: int, limit: int
    ) -> tuple[Sequence[DecisionRecord], int]:
        held = (
            self._state.decisions
            if customer_id is None
            else self._state.decisions_by_customer.get(customer_id, [])
        )
        total = len(held)
        last = total - offset  # newest first: positions total - 1 - offset, going down
        first = max(0, last - limit)
        return list(reversed(held[first : max(0, last)])), total

    def approved_contexts_on(
        self, customer_id: str, on: date, ops: Collection[str]
    ) -> Sequence[Mapping[str, Any]]:
        return [
            decision.context or {}
            for decision in self._state.decisions_by_day.get((customer_id, on), ())
            if decision.outcome == "APPROVE" and decision.op in ops
        ]

    def between(self, first: date, last: date) -> Iterator[DecisionRecord]:
        state = self._state
        days = [
            numbers for day, numbers in state.decision_numbers_on.items() if first <= day <= last
        ]
        numbers: Iterable[int] = days[0] if len(days) == 1 else heapq.merge(*days)
        return iter([state.decisions[number] for number in numbers])

    def outcomes_on(self, on: date) -> Mapping[str, int]:
        counts: dict[str, int] = {}
        decisions = self._state.decisions
        for number in self._state.decision_numbers_on.get(on, ()):
            outcome = decisions[number].outcome
            counts[outcome] = counts.get(outcome, 0) + 1
        return counts


class _Alerts:
    def __init__(self, state: MemoryState, undo: list[Undo]):
        self._state, self._undo = state, undo

    def add(self, alert: AlertRecord) -> AlertRecord:
        alert = dataclasses.replace(alert, alert_id=len(self._state.alerts) + 1)
        self._state.alerts.append(alert)
        self._undo.append(lambda: self._state.alerts.pop())
        _listed(self._state.alerts_by_customer, alert.customer_id, alert, self._undo)
        return alert

    def get(self, alert_id: int) -> AlertRecord | None:
        return _alert_at(self._state, alert_id)

    def save(self, alert: AlertRecord) -> None:
        _save_alert(self._state, alert, self._undo)

    def page(
        self,
        *,
        customer_id: str | None = None,
        status: str | None = None,
        kind: str | None = None,
        offset: int,
        limit: int,
    ) -> list[AlertRecord]:
        found = _alerts_matching(self._state, customer_id, status, kind)
        return list(islice(reversed(found), offset, offset + limit))

    def count(
        self, *, customer_id: str | None = None, status: str | None = None, kind: str | None = None
    ) -> int:
        return len(_alerts_matching(self._state, customer_id, status, kind))

    def list(self, *, customer_id: str | None = None) -> list[AlertRecord]:
        if customer_id is None:
            return list(self._state.alerts)
        return list(self._state.alerts_by_customer.get(customer_id, ()))

    def tally(self) -> dict[tuple[str, str, str], int]:
        return dict(Counter((a.kind, a.status, a.level) for a in self._state.alerts))


class _CloseOfDay:
    def __init__(self, state: MemoryState, undo: list[Undo]):
        self._state, self._undo = state, undo

    def hold(self) -> None:
        """One unit of work at a time changes a book in memory: nothing to hold."""

    def operation_dates(self) -> tuple[date, date] | None:
        days = [d.on for d in self._state.decisions]
        days += [e.draft.business_date for e in self._state.entries]
        return (min(days), max(days)) if days else None

    def _days(self) -> tuple[date | None, date | None]:
        """(the latest date closing or closed, the last date closed), worked out again only
        after the log changes: every operation asks."""
        state = self._state
        if state.days_seen is None:
            days = state.closed_days
            state.days_seen = (
                max(days, default=None),
                max((day for day, (status, _) in days.items() if status == "closed"), default=None),
            )
        return state.days_seen

    def _set(self, on: date, value: tuple[str, Mapping[str, int]]) -> None:
        state = self._state
        before = state.closed_days.get(on)
        state.closed_days[on] = value
        state.days_seen = None

        def undo() -> None:
            if before is None:
                del state.closed_days[on]
            else:
                state.closed_days[on] = before
            state.days_seen = None

        self._undo.append(undo)

    def last_closed(self) -> date | None:
        return self._days()[1]

    def latest(self) -> tuple[date, str] | None:
        day = self._days()[0]
        return None if day is None else (day, self._state.closed_days[day][0])

    def is_closed(self, on: date) -> bool:
        return self._state.closed_days.get(on, ("", {}))[0] == "closed"

    def mark_closing(self, on: date, *, at: datetime) -> None:
        if on not in self._state.closed_days:
            self._set(on, ("closing", {}))

    def mark_closed(self, on: date, *, at: datetime, summary: Mapping[str, int]) -> None:
        before = self._state.closed_days.get(on)
        assert before is None or before[0] == "closing", before
        self._set(on, ("closed", dict(summary)))


class _Parameters:
    def __init__(self, state: MemoryState, undo: list[Undo]):
        self._state, self._undo = state, undo

    def current(self) -> ParameterSet | None:
        return self._state.parameters[-1][0] if self._state.parameters else None

    def get(self, version: int) -> ParameterSet | None:
        # Versions are numbered 1, 2, ... with no gaps (see `add`): version n is at n - 1.
        if 1 <= version <= len(self._state.parameters):
            found = self._state.parameters[version - 1][0]
            assert found.version == version, (found.version, version)
            return found
        return None

    def add(
        self,
        parameters: ParameterSet,
        *,
        actor: str,
        reason: str,
        at: datetime,
        in_force_from: date | None,
    ) -> None:
        expected = len(self._state.parameters) + 1
        if parameters.version != expected:
            raise Conflict(
                f"parameter version {parameters.version} is not the next version ({expected})",
                field="version",
                rule="PARAMETER_VERSION_NEXT",
            )
        record = ParameterVersion(
            version=parameters.version,
            created_at=at,
            actor=actor,
            reason=reason,
            in_force_from=in_force_from,
        )
        self._state.parameters.append((parameters, record))
        self._undo.append(lambda: self._state.parameters.pop())

    def history(self) -> list[ParameterVersion]:
        return [record for _, record in self._state.parameters]

    def by_business_day(self) -> list[tuple[date | None, ParameterSet]]:
        return [(record.in_force_from, found) for found, record in self._state.parameters]

    def candidate(self) -> Candidate | None:
        return self._state.candidate

    def set_candidate(self, candidate: Candidate | None) -> None:
        before = self._state.candidate
        self._state.candidate = candidate
        self._undo.append(lambda: setattr(self._state, "candidate", before))

    def candidates_started(self) -> int:
        return self._state.candidates_started

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
        return {"paylater": len(self._state.paylater_in_use), "loan": len(self._state.loans_active)}


class _Audit:
    def __init__(self, state: MemoryState, undo: list[Undo]):
        self._state, self._undo = state, undo

    def record(self, record: AuditRecord) -> None:
        self._state.audit.append(record)
        self._undo.append(lambda: self._state.audit.pop())

    def recent(
        self,
        *,
        limit: int,
        offset: int = 0,
        action: str | None = None,
        actor: str | None = None,
        subject: str | None = None,
    ) -> list[AuditRecord]:
        audit = self._state.audit
        if action is None and actor is None and subject is None:
            end = max(0, len(audit) - offset)
            return list(reversed(audit[max(0, end - limit) : end]))
        found = (
            record
            for record in reversed(audit)
            if (action is None or record.action == action or record.action.startswith(f"{action}."))
            and (actor is None or record.actor == actor)
            and (subject is None or record.subject == subject)
        )
        return list(islice(found, offset, offset + limit))


R = TypeVar("R")


class _made_when_used(Generic[R]):  # noqa: N801 - used as a decorator, like cached_property
    """A repository made on first use and kept in the instance: functools.cached_property,
    without the lock it takes on every first use (which cost more than making them all)."""

    def __init__(self, make: Callable[[Any], R]) -> None:
        self.make = make
        self.name = make.__name__

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> Self: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> R: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> R | Self:
        if instance is None:
            return self
        made = self.make(instance)
        instance.__dict__[self.name] = made  # later reads find it there, not here
        return made


class MemoryUnitOfWork:
    """The repositories are made when first used: most units of work touch a few of them."""

    def __init__(self, state: MemoryState):
        self._state = state
        self._undo: list[Undo] = []
        self._lent: Lent = []

    @_made_when_used
    def customers(self) -> _Customers:
        return _Customers(self._state, self._undo)

    @_made_when_used
    def limits(self) -> _Limits:
        return _Limits(self._state, self._undo)

    @_made_when_used
    def ledger(self) -> _Ledger:
        return _Ledger(self._state, self._undo)

    @_made_when_used
    def parameters(self) -> _Parameters:
        return _Parameters(self._state, self._undo)

    @_made_when_used
    def audit(self) -> _Audit:
        return _Audit(self._state, self._undo)

    @_made_when_used
    def paylater(self) -> _PayLater:
        return _PayLater(self._state, self._undo, self._lent)

    @_made_when_used
    def loans(self) -> _Loans:
        return _Loans(self._state, self._undo, self._lent)

    @_made_when_used
    def decisions(self) -> _Decisions:
        return _Decisions(self._state, self._undo)

    @_made_when_used
    def alerts(self) -> _Alerts:
        return _Alerts(self._state, self._undo)

    @_made_when_used
    def eod(self) -> _CloseOfDay:
        return _CloseOfDay(self._state, self._undo)

    @_made_when_used
    def portfolio(self) -> _Portfolio:
        return _Portfolio(self._state, self._undo)

    @_made_when_used
    def api_keys(self) -> _ApiKeys:
        return _ApiKeys(self._state, self._undo)

    @_made_when_used
    def responses(self) -> _Responses:
        return _Responses(self._state, self._undo)

    def __enter__(self) -> Self:
        self._state.lock.acquire()
        self._undo.clear()
        self._lent.clear()
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
            for aggregate, copy in self._lent:
                if aggregate != copy:
                    raise AssertionError(
                        f"an aggregate read with read_only=True was changed: {type(aggregate)}"
                    )
        finally:
            self._lent.clear()
            self._state.lock.release()

    def commit(self) -> None:
        self._undo.clear()


class MemoryStore:
    """A whole book in this process's memory."""

    def __init__(self, *, checked: bool = True) -> None:
        self.state = MemoryState(checked=checked)
        self._locks: dict[str, threading.Lock] = {}
        self._key = secrets.token_bytes(32)  # a book in memory lives as long as its process

    def unit_of_work(self, *, autocommit: bool = False) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.state)

    def reader(self, *, autocommit: bool = False) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.state)

    def dispose(self) -> None:
        """Nothing to close: the book goes when the process does."""

    def only_one(self, name: str) -> AbstractContextManager[bool]:
        return held_if_free(self._locks.setdefault(name, threading.Lock()))

    def keyed_digest(self, data: bytes) -> str:
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()


# -- alert status, API keys and stored responses (the HTTP service's records) ----------------


def _alert_at(state: MemoryState, alert_id: int) -> AlertRecord | None:
    return state.alerts[alert_id - 1] if 1 <= alert_id <= len(state.alerts) else None


def _save_alert(state: MemoryState, alert: AlertRecord, undo: list[Undo]) -> None:
    """Put the changed alert in place of the stored one, in the list and its index."""
    before = _alert_at(state, alert.alert_id)
    assert before is not None, alert.alert_id
    assert before.customer_id == alert.customer_id
    listed = state.alerts_by_customer[alert.customer_id]
    position = next(i for i, item in enumerate(listed) if item is before)
    state.alerts[alert.alert_id - 1] = alert
    listed[position] = alert

    def put_back() -> None:
        state.alerts[before.alert_id - 1] = before
        listed[position] = before

    undo.append(put_back)


def _alerts_matching(
    state: MemoryState, customer_id: str | None, status: str | None, kind: str | None
) -> list[AlertRecord]:
    alerts = state.alerts if customer_id is None else state.alerts_by_customer.get(customer_id, [])
    if status is None and kind is None:
        return alerts
    return [
        alert
        for alert in alerts
        if (status is None or alert.status == status) and (kind is None or alert.kind == kind)
    ]


class _ApiKeys:
    def __init__(self, state: MemoryState, undo: list[Undo]):
        self._state, self._undo = state, undo

    def add(self, key: ApiKeyRecord) -> ApiKeyRecord:
        state = self._state
        assert key.digest not in state.api_key_digests
        key = dataclasses.replace(key, key_id=len(state.api_keys) + 1)
        state.api_keys.append(key)
        state.api_key_digests[key.digest] = key.key_id

        def undo() -> None:
            del state.api_key_digests[key.digest]
            state.api_keys.pop()

        self._undo.append(undo)
        return key

    def find_by_digest(self, digest: str) -> ApiKeyRecord | None:
        key_id = self._state.api_key_digests.get(digest)
        return None if key_id is None else self.get(key_id)

    def get(self, key_id: int) -> ApiKeyRecord | None:
        keys = self._state.api_keys
        return keys[key_id - 1] if 1 <= key_id <= len(keys) else None

    def list(self) -> list[ApiKeyRecord]:
        return list(self._state.api_keys)

    def revoke(self, key_id: int, *, at: datetime) -> None:
        keys = self._state.api_keys
        before = keys[key_id - 1]
        keys[key_id - 1] = dataclasses.replace(before, revoked_at=at)
        self._undo.append(lambda: keys.__setitem__(key_id - 1, before))

    def end_session(self, session_digest: str, *, key_id: int, expires_at: datetime) -> None:
        ended = self._state.ended_sessions
        if session_digest not in ended:
            ended[session_digest] = expires_at
            self._undo.append(lambda: ended.pop(session_digest))

    def session_ended(self, session_digest: str) -> bool:
        return session_digest in self._state.ended_sessions

    def forget_sessions_expired(self, *, at: datetime) -> int:
        ended = self._state.ended_sessions
        gone = {digest: expires for digest, expires in ended.items() if expires <= at}
        for digest in gone:
            del ended[digest]
        self._undo.append(lambda: ended.update(gone))
        return len(gone)


class _Responses:
    def __init__(self, state: MemoryState, undo: list[Undo]):
        self._state, self._undo = state, undo

    def find(self, idempotency_key: str) -> StoredResponse | None:
        return self._state.responses.get(idempotency_key)

    def add(self, response: StoredResponse) -> bool:
        responses = self._state.responses
        if response.idempotency_key in responses:
            return False
        responses[response.idempotency_key] = response
        self._undo.append(lambda: responses.pop(response.idempotency_key))
        return True

    def forget_kept_before(self, at: datetime, *, limit: int) -> int:
        responses = self._state.responses
        old = sorted(
            (kept for kept in responses.values() if kept.created_at < at),
            key=lambda kept: kept.created_at,
        )[:limit]
        for kept in old:
            del responses[kept.idempotency_key]
        self._undo.append(lambda: responses.update({kept.idempotency_key: kept for kept in old}))
        return len(old)
