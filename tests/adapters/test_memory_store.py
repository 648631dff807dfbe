"""The in-memory store's indexes and isolation.

Its queries read indexes kept beside the data (per customer, per date, due queues); these
tests hold every index to what a scan of the data gives, answer every query as the scans did,
show that a rolled-back unit of work leaves the indexes as they were, and that no aggregate
read or saved shares a mutable object with the stored documents.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

import pytest

from creditlink.adapters.memory import MemoryState, MemoryStore
from creditlink.application import paylater
from creditlink.application.close_of_day import close_day
from creditlink.application.customers import change_limits, grant_temporary_limit
from creditlink.application.loans import draw_loan
from creditlink.application.ports import AlertRecord
from creditlink.bootstrap import Book, memory_book
from creditlink.domain.customer import NationalId
from creditlink.domain.ledger import Account, AccountCode, EntryDraft, EntryKind, credit, debit
from creditlink.domain.limits import AlertLevel, limit_wake_on
from creditlink.domain.loan.loan import LoanStatus
from creditlink.domain.loan.schedule import Method
from creditlink.domain.paylater.records import Purchases
from creditlink.domain.products import Product
from creditlink.risk.decisions import Context
from tests.conftest import CLOCK, add_customer, national_id

START = date(2026, 1, 5)
CUSTOMERS = [f"c{n}" for n in range(6)]
RECEIVABLE = Account(AccountCode.PRINCIPAL_RECEIVABLE, Product.PAYLATER)
PAYABLE = Account(AccountCode.MERCHANT_PAYABLE, Product.PAYLATER)
CASH = Account(AccountCode.FUNDING_CASH, None)


def _buy(book: Book, customer_id: str, key: str, amount: int, on: date) -> None:
    paylater.purchase(
        book.store.unit_of_work(),
        customer_id=customer_id,
        ref=key,
        amount_fen=amount,
        merchant="m",
        category="retail",
        on=on,
        idempotency_key=key,
    )


def _draw(book: Book, customer_id: str, key: str, amount: int, on: date) -> None:
    draw_loan(
        book.store.unit_of_work(),
        customer_id=customer_id,
        ref=key,
        amount_fen=amount,
        term_months=3,
        method=Method.EQUAL_PRINCIPAL,
        on=on,
        idempotency_key=key,
    )


def _close(book: Book, first: date, last: date) -> None:
    day = first
    while day <= last:
        close_day(book.store, on=day, clock=CLOCK)
        day += timedelta(days=1)


def busy_book(*, closed_through: date = START + timedelta(days=44), checked: bool = True) -> Book:
    """Six customers with purchases, a plan, a refund, loans, a pending increase and a
    temporary limit, closed through `closed_through`: statements, due dates and missed
    minimums (alerts) along the way."""
    book = memory_book(clock=CLOCK, checked=checked)
    for number, customer_id in enumerate(CUSTOMERS):
        add_customer(
            book.store, customer_id, joint=5_000_000, cap_paylater=3_000_000, sequence=number
        )
    # Each day's operations, then its close: a book's first close may not fall behind them.
    days: dict[int, list[Callable[[], object]]] = {offset: [] for offset in range(4)}
    for offset in (0, 1, 3):
        for number, customer_id in enumerate(CUSTOMERS[:5]):
            days[offset].append(
                functools.partial(
                    _buy,
                    book,
                    customer_id,
                    f"p{customer_id}-{offset}",
                    10_000 * (number + 1),
                    START + timedelta(days=offset),
                )
            )
    days[3].append(
        functools.partial(
            paylater.convert_to_installments,
            book.store.unit_of_work(),
            customer_id="c0",
            plan_ref="plan1",
            periods=3,
            on=START + timedelta(days=3),
            idempotency_key="plan1",
            purchase_ref="pc0-3",
        )
    )
    days[3].append(
        functools.partial(
            paylater.refund,
            book.store.unit_of_work(),
            customer_id="c1",
            purchase_ref="pc1-1",
            amount_fen=5_000,
            on=START + timedelta(days=3),
            idempotency_key="refund1",
        )
    )
    for customer_id, ref, amount, offset in (
        ("c2", "L1", 300_000, 1),
        ("c2", "L2", 200_000, 2),
        ("c3", "L3", 150_000, 0),
        ("c0", "L4", 100_000, 3),
    ):
        days[offset].append(
            functools.partial(_draw, book, customer_id, ref, amount, START + timedelta(days=offset))
        )
    days[0].append(
        functools.partial(
            change_limits,
            book.store.unit_of_work(),
            customer_id="c4",
            on=START,
            actor="risk",
            reason="review",
            clock=CLOCK,
            joint_limit_fen=6_000_000,
        )
    )
    days[0].append(
        functools.partial(
            grant_temporary_limit,
            book.store.unit_of_work(),
            customer_id="c5",
            amount_fen=500_000,
            on=START,
            expires_on=START + timedelta(days=10),
            actor="risk",
            reason="holiday",
            clock=CLOCK,
        )
    )
    for offset, operations in days.items():
        for operation in operations:
            operation()
        close_day(book.store, on=START + timedelta(days=offset), clock=CLOCK)
    _close(book, START + timedelta(days=len(days)), closed_through)
    return book


def _state(book: Book) -> MemoryState:
    assert isinstance(book.store, MemoryStore)
    return book.store.state


def indexes(state: MemoryState) -> dict[str, Any]:
    """Every index as plain values."""
    return {
        "customer_order": list(state.customer_order.after()),
        "limits_due": state.limits_due.filed(),
        "entries_by_customer": {
            c: [e.entry_id for e in entries] for c, entries in state.entries_by_customer.items()
        },
        "money_by_customer": {c: list(rows) for c, rows in state.money_by_customer.items()},
        "paylater_in_use": sorted(state.paylater_in_use),
        "loans_active": sorted(state.loans_active),
        "postings": dict(state.postings),
        "posting_customers": {d: list(k.after()) for d, k in state.posting_customers.items()},
        "paylater_due": state.paylater_due.filed(),
        "loan_refs": {c: list(refs) for c, refs in state.loan_refs.items()},
        "loans_due": state.loans_due.filed(),
        "alerts_by_customer": {c: list(a) for c, a in state.alerts_by_customer.items()},
        "decisions_by_customer": {c: list(d) for c, d in state.decisions_by_customer.items()},
        "decisions_by_day": {k: list(d) for k, d in state.decisions_by_day.items()},
        "decision_numbers_on": {d: list(n) for d, n in state.decision_numbers_on.items()},
    }


def _grouped(pairs: list[tuple[Any, Any]]) -> dict[Any, list[Any]]:
    out: dict[Any, list[Any]] = {}
    for key, item in pairs:
        out.setdefault(key, []).append(item)
    return out


def _ready(wake: date, closed: date | None) -> int:
    return max(wake, closed + timedelta(days=1)).toordinal() if closed else wake.toordinal()


def rebuilt(state: MemoryState) -> dict[str, Any]:
    """The same indexes worked out by scanning the data they index."""
    limit_wakes = [(limit_wake_on(limit), c) for c, limit in state.limits.items()]
    postings = Counter(
        (e.business_date, e.draft.customer_id)
        for e in state.entries
        if e.draft.customer_id is not None
    )
    return {
        "customer_order": sorted(state.customers),
        "limits_due": {
            day: sorted(ids)
            for day, ids in _grouped(
                [(wake.toordinal(), c) for wake, c in limit_wakes if wake is not None]
            ).items()
        },
        "entries_by_customer": _grouped(
            [(e.draft.customer_id, e.entry_id) for e in state.entries if e.draft.customer_id]
        ),
        "money_by_customer": _grouped(
            [
                (
                    e.draft.customer_id,
                    (e.business_date, e.kind.value, e.lines[0].amount_fen, e.lines[1].account.name),
                )
                for e in state.entries
                if e.draft.customer_id and e.kind.value in ("repayment", "loan_draw")
            ]
        ),
        "paylater_in_use": sorted(
            c for c, limit in state.limits.items() if limit.used_paylater_fen
        ),
        "loans_active": sorted(
            key for key, (loan, _, _) in state.loans.items() if loan.status is LoanStatus.ACTIVE
        ),
        "postings": dict(postings),
        "posting_customers": {day: sorted(ids) for day, ids in _grouped(list(postings)).items()},
        "paylater_due": {
            day: sorted(keys)
            for day, keys in _grouped(
                [
                    (_ready(wake, closed), (wake, c))
                    for c, (_, wake, closed) in state.paylater.items()
                    if wake is not None
                ]
            ).items()
        },
        "loan_refs": _grouped(list(state.loans)),
        "loans_due": {
            day: sorted(keys)
            for day, keys in _grouped(
                [
                    (_ready(wake, closed), (wake, *key))
                    for key, (_, wake, closed) in state.loans.items()
                    if wake is not None
                ]
            ).items()
        },
        "alerts_by_customer": _grouped([(a.customer_id, a) for a in state.alerts]),
        "decisions_by_customer": _grouped([(d.customer_id, d) for d in state.decisions]),
        "decisions_by_day": _grouped([((d.customer_id, d.on), d) for d in state.decisions]),
        "decision_numbers_on": _grouped([(d.on, n) for n, d in enumerate(state.decisions)]),
    }


def data(state: MemoryState) -> dict[str, Any]:
    """The data itself: the documents copied, the rest in fresh containers (their records are
    frozen)."""
    out: dict[str, Any] = {
        name: copy.copy(getattr(state, name))
        for name in (
            "customers",
            "national_ids",
            "limits",
            "entries",
            "entries_by_key",
            "reversed_by",
            "balances",
            "alerts",
            "decisions",
            "decisions_by_key",
            "closed_days",
            "parameters",
            "audit",
        )
    }
    out["paylater"] = copy.deepcopy(state.paylater)
    out["loans"] = copy.deepcopy(state.loans)
    return out


# The queries as they were answered by scanning the whole book.


def scan_paylater_due(state: MemoryState, on: date, limit: int) -> list[str]:
    due = sorted(
        (wake, c)
        for c, (_, wake, closed) in state.paylater.items()
        if wake is not None and wake <= on and (closed is None or closed < on)
    )
    return [c for _, c in due[:limit]]


def scan_loans_due(state: MemoryState, on: date, limit: int) -> list[tuple[str, str]]:
    due = sorted(
        (wake, key)
        for key, (_, wake, closed) in state.loans.items()
        if wake is not None and wake <= on and (closed is None or closed < on)
    )
    return [key for _, key in due[:limit]]


def scan_limits_due(state: MemoryState, on: date, after: str, limit: int) -> list[str]:
    return [
        c
        for c, found in sorted(state.limits.items())
        if c > after and (wake := limit_wake_on(found)) is not None and wake <= on
    ][:limit]


def scan_posting(state: MemoryState, on: date, after: str, limit: int) -> list[str]:
    found = {
        e.draft.customer_id
        for e in state.entries
        if e.business_date == on and e.draft.customer_id is not None
    }
    return sorted(c for c in found if c is not None and c > after)[:limit]


def check_queries(book: Book) -> None:
    """Every indexed query answers as the scan of the whole book did."""
    state = _state(book)
    assert indexes(state) == rebuilt(state)
    wakes = {w for _, w, _ in state.paylater.values()} | {w for _, w, _ in state.loans.values()}
    wakes |= {limit_wake_on(limit) for limit in state.limits.values()}
    days = {d for d in wakes if d} | {e.business_date for e in state.entries}
    days |= {d.on for d in state.decisions} | set(state.closed_days)
    probes = sorted(days | {d + timedelta(days=1) for d in days} | {date(2025, 12, 31)})
    ids = [*CUSTOMERS, "zz", "nobody"]
    with book.store.reader() as uow:
        for on in probes:
            for limit in (1, 2, 1000):
                assert uow.paylater.due(on, limit=limit) == scan_paylater_due(state, on, limit)
                assert uow.loans.due(on, limit=limit) == scan_loans_due(state, on, limit)
                for after in ("", "c1", "c5"):
                    assert uow.limits.due(on, after=after, limit=limit) == scan_limits_due(
                        state, on, after, limit
                    )
                    assert uow.ledger.customers_posting_on(
                        on, after=after, limit=limit
                    ) == scan_posting(state, on, after, limit)
            assert uow.decisions.outcomes_on(on) == dict(
                Counter(d.outcome for d in state.decisions if d.on == on)
            )
            for last in (on, on + timedelta(days=9)):
                assert list(uow.decisions.between(on, last)) == [
                    d for d in state.decisions if on <= d.on <= last
                ]
        assert list(uow.decisions.between(date.min, date.max)) == state.decisions
        assert uow.decisions.list() == state.decisions
        for owner in [None, *ids, "nobody"]:
            held = [d for d in state.decisions if owner is None or d.customer_id == owner]
            newest_first = held[::-1]
            for offset, limit in [(0, 1), (0, 1000), (2, 3), (len(held) - 1, 5), (len(held), 5)]:
                items, total = uow.decisions.page(customer_id=owner, offset=offset, limit=limit)
                assert (list(items), total) == (newest_first[offset : offset + limit], len(held))
        assert uow.alerts.list() == state.alerts
        for customer_id in ids:
            for since in (date.min, START + timedelta(days=3), START + timedelta(days=40)):
                assert uow.ledger.customer_entries(customer_id, since=since) == [
                    e
                    for e in state.entries
                    if e.draft.customer_id == customer_id and e.business_date >= since
                ]
            owned = [key for key in state.loans if key[0] == customer_id]
            assert uow.loans.of_customer(customer_id) == [state.loans[key][0] for key in owned]
            assert uow.loans.written_off(customer_id) == any(
                state.loans[key][0].status == "written_off" for key in owned
            )
            assert uow.decisions.list(customer_id=customer_id) == [
                d for d in state.decisions if d.customer_id == customer_id
            ]
            assert uow.alerts.list(customer_id=customer_id) == [
                a for a in state.alerts if a.customer_id == customer_id
            ]
        ordered = sorted(state.customers)
        for after in ("", "c", "c2", "c5", "zzz"):
            for limit in (0, 1, 3, 100):
                assert (
                    uow.customers.ids(after=after, limit=limit)
                    == [c for c in ordered if c > after][:limit]
                )
        for offset in (-2, 0, 1, 4, 7):
            for limit in (-1, 0, 2, 100):
                assert uow.customers.list(offset=offset, limit=limit) == [
                    state.customers[c] for c in ordered[offset : offset + limit]
                ]
        latest = max(state.closed_days, default=None)
        assert uow.eod.latest() == (
            None if latest is None else (latest, state.closed_days[latest][0])
        )
        assert uow.eod.last_closed() == max(
            (d for d, (status, _) in state.closed_days.items() if status == "closed"),
            default=None,
        )
        for version in range(len(state.parameters) + 2):
            assert uow.parameters.get(version) == next(
                (p for p, _ in state.parameters if p.version == version), None
            )


def test_every_indexed_query_answers_as_a_scan_of_the_book() -> None:
    book = busy_book(closed_through=START + timedelta(days=2))
    check_queries(book)  # mid-way, with accounts and loans due on the coming dates
    _close(book, START + timedelta(days=3), START + timedelta(days=44))
    state = _state(book)
    assert state.alerts, "the book should have missed minimums by now"
    assert any(plan for doc, _, _ in state.paylater.values() for plan in doc.plans)
    check_queries(book)


def test_a_rolled_back_unit_of_work_leaves_every_index_as_before() -> None:
    book = busy_book()
    state = _state(book)
    before, stored = indexes(state), data(state)
    assert before == rebuilt(state)
    last_closed = max(state.closed_days)
    next_day = last_closed + timedelta(days=1)
    during = write_everything_then_leave(book, next_day)
    for name in before:
        assert during[name] != before[name], f"the writes should have changed {name}"
    assert indexes(state) == before
    assert data(state) == stored
    check_queries(book)
    with book.store.reader() as uow:
        assert uow.eod.latest() == (last_closed, "closed")
        assert uow.eod.last_closed() == last_closed


def write_everything_then_leave(book: Book, next_day: date) -> dict[str, Any]:
    """Writes of every kind in one unit of work, left without a commit; the indexes as
    they stood before leaving."""
    state = _state(book)
    last_closed = next_day - timedelta(days=1)
    with book.store.unit_of_work() as uow:
        assert uow.eod.latest() == (last_closed, "closed")
        # Customers and limits: a new one, and two saves that move a limit's wake date.
        c0 = uow.customers.get("c0")
        uow.customers.add(
            dataclasses.replace(c0, customer_id="zz"),
            national_id=NationalId.parse(national_id(999, birth="19800101")),
        )
        uow.limits.add("zz", uow.limits.get("c0"))
        limit = uow.limits.get("c5")
        for expires in (next_day + timedelta(days=3), next_day + timedelta(days=1)):
            limit = limit.grant_temporary(amount_fen=10_000, on=next_day, expires_on=expires)
            uow.limits.save("c5", limit)
        # The ledger: entries on a new date and on a date already posted, one with no owner.
        for number, (who, on) in enumerate(
            [("c1", next_day), ("c1", next_day), ("zz", START), (None, next_day)]
        ):
            uow.ledger.append(
                EntryDraft(
                    idempotency_key=f"rolled{number}",
                    business_date=on,
                    kind=EntryKind.PURCHASE,
                    customer_id=who,
                    lines=(
                        debit(PAYABLE, 100) if who is None else debit(RECEIVABLE, 100, who),
                        credit(CASH, 100),
                    ),
                )
            )
        # A repayment (the customer's money events).
        uow.ledger.append(
            EntryDraft(
                idempotency_key="rolled-repayment",
                business_date=next_day,
                kind=EntryKind.REPAYMENT,
                customer_id="c1",
                lines=(debit(CASH, 100), credit(RECEIVABLE, 100, "c1")),
            )
        )
        # Accounts: a new one, and one saved twice (wake and closed-through both move).
        account = uow.paylater.get("c0")
        uow.paylater.add(dataclasses.replace(account, customer_id="zz"), next_wake_on=START)
        for wake, closed in ((next_day, next_day), (START, None), (None, next_day)):
            uow.paylater.save(account, next_wake_on=wake, closed_through=closed)
        # Loans: new ones for an existing and a new customer, and saves of an existing one.
        loan = uow.loans.of_customer("c2")[0]
        uow.loans.add(dataclasses.replace(loan, ref="L9"), next_wake_on=next_day)
        uow.loans.add(dataclasses.replace(loan, customer_id="zz", ref="L9"), next_wake_on=None)
        uow.loans.save(loan, next_wake_on=START, closed_through=next_day)
        uow.loans.save(dataclasses.replace(loan, ref="L9"), next_wake_on=None)
        # Decisions and alerts, for new and existing customers and dates.
        decision = uow.decisions.list(customer_id="c0")[0]
        for number, (who, on) in enumerate([("zz", next_day), ("c0", decision.on)]):
            uow.decisions.add(
                dataclasses.replace(
                    decision, customer_id=who, on=on, idempotency_key=f"rolled-d{number}"
                )
            )
        for who in ("zz", "c0"):
            uow.alerts.add(
                AlertRecord(
                    on=next_day,
                    customer_id=who,
                    kind="alert",
                    level=AlertLevel.WATCH.value,
                    cause="TEST",
                    products=(),
                    evidence="",
                )
            )
        uow.eod.mark_closing(next_day, at=CLOCK.now())
        assert uow.eod.latest() == (next_day, "closing")
        during = indexes(state)
        assert during == rebuilt(state)
        return during  # no commit: leaving undoes every write


def test_a_committed_unit_of_work_keeps_its_index_changes() -> None:
    book = busy_book(closed_through=START + timedelta(days=20))
    with book.store.unit_of_work() as uow:
        loan = uow.loans.of_customer("c3")[0]
        uow.loans.add(dataclasses.replace(loan, ref="L9"), next_wake_on=date(2026, 3, 1))
        uow.commit()
    with book.store.reader() as uow:
        assert [loan.ref for loan in uow.loans.of_customer("c3")] == ["L3", "L9"]
        assert ("c3", "L9") in uow.loans.due(date(2026, 3, 1), limit=100)
    check_queries(book)


# Isolation: what a read returns, or a save was given, is never part of the stored state.

_PLAIN = (str, int, float, bool, type(None), date, Decimal, Enum)


def mutable_parts(value: object, found: dict[int, object] | None = None) -> dict[int, object]:
    """Every list, dict, set and record reachable from `value`, by identity."""
    found = {} if found is None else found
    if isinstance(value, _PLAIN) or id(value) in found:
        return found
    if isinstance(value, tuple):
        for item in value:
            mutable_parts(item, found)
        return found
    params = getattr(type(value), "__dataclass_params__", None)
    if params is not None and params.frozen and dataclasses.is_dataclass(value):
        for part in dataclasses.fields(value):  # a frozen record may be shared; its parts not
            mutable_parts(getattr(value, part.name), found)
        return found
    found[id(value)] = value
    if isinstance(value, Mapping):  # dicts, and an account's `Purchases`
        for key, item in value.items():
            mutable_parts(key, found)
            mutable_parts(item, found)
    elif isinstance(value, list | set | frozenset):
        for item in value:
            mutable_parts(item, found)
    else:
        assert dataclasses.is_dataclass(value), type(value)
        for part in dataclasses.fields(value):
            mutable_parts(getattr(value, part.name), found)
    return found


def shared(aggregate: object, document: object) -> set[int]:
    return set(mutable_parts(aggregate)) & set(mutable_parts(document))


def vandalise(value: object) -> None:
    """Change everything reachable in place: records' numbers, then every list and dict."""
    for part in list(mutable_parts(value).values()):
        if dataclasses.is_dataclass(part) and not isinstance(part, type):
            for name in (f.name for f in dataclasses.fields(part)):
                if isinstance(getattr(part, name), int) and not isinstance(
                    getattr(part, name), bool
                ):
                    object.__setattr__(part, name, -7)
    for part in list(mutable_parts(value).values()):
        if isinstance(part, list | dict):
            part.clear()
        elif isinstance(part, Purchases):  # never emptied: each purchase replaced instead
            for ref, purchase in list(part.items()):
                part[ref] = dataclasses.replace(purchase, amount_fen=-7)


def test_reads_and_saves_share_nothing_with_the_stored_documents() -> None:
    book = busy_book()
    state = _state(book)
    with book.store.reader() as uow:
        account = uow.paylater.get("c0")
        assert account.plans
        assert account.statements
        assert account.purchases
        assert account.lines
        assert not shared(account, state.paylater["c0"])
        for each in uow.paylater.all():
            assert not shared(each, state.paylater[each.customer_id])
        loan = uow.loans.find("c2", "L1")
        assert loan is not None
        assert loan.installments
        assert not shared(loan, state.loans["c2", "L1"])
        for one in [*uow.loans.of_customer("c2"), *uow.loans.all()]:
            assert not shared(one, state.loans[one.customer_id, one.ref])
    with book.store.unit_of_work() as uow:
        uow.paylater.save(account, next_wake_on=None)
        assert not shared(account, state.paylater["c0"])
        uow.loans.save(loan, next_wake_on=None)
        assert not shared(loan, state.loans["c2", "L1"])
        uow.commit()


def test_changing_what_a_read_returned_leaves_the_store_unchanged() -> None:
    book = busy_book()
    state = _state(book)
    stored = data(state)
    with book.store.unit_of_work() as uow:
        account = uow.paylater.get("c0")
        loans = uow.loans.of_customer("c2")
        found = uow.loans.find("c0", "L4")
        everything = [*uow.paylater.all(), *uow.loans.all()]
        for aggregate in [account, *loans, found, *everything]:
            vandalise(aggregate)
        assert account.purchases
        assert {p.amount_fen for p in account.purchases.values()} == {-7}
        assert loans[0].installments == []
        uow.commit()  # saving nothing
    assert data(state) == stored
    with book.store.reader() as uow:
        assert uow.paylater.get("c0") == stored["paylater"]["c0"][0]
        assert uow.loans.of_customer("c2") == [
            stored["loans"][key][0] for key in (("c2", "L1"), ("c2", "L2"))
        ]


def test_changing_an_aggregate_after_saving_it_leaves_the_store_unchanged() -> None:
    book = busy_book()
    state = _state(book)
    with book.store.unit_of_work() as uow:
        account = uow.paylater.get("c0")
        loan = uow.loans.find("c2", "L1")
        assert loan is not None
        uow.paylater.save(account, next_wake_on=START)
        uow.loans.save(loan, next_wake_on=START)
        uow.commit()
    stored = data(state)
    vandalise(account)
    vandalise(loan)
    assert data(state) == stored


# Decisions keep their context as Context.to_dict(): the same dict `asdict` gave.


def _asdict_form(context: Context) -> dict[str, Any]:
    out = {k: v for k, v in dataclasses.asdict(context).items() if v is not None}
    out["level"] = context.level.value
    if context.apr is not None:
        out["apr"] = str(context.apr)
    return out


@pytest.mark.parametrize(
    "context",
    [
        Context(op="purchase"),
        Context(
            op="draw_loan",
            amount_fen=123_400,
            level=AlertLevel.RESTRICT,
            written_off=True,
            within_limits_fen=99,
            category="travel",
            apr=Decimal("0.1800"),
            refusal="TOO_LATE",
            owed_fen=5,
            day_count=3,
            day_amount_fen=7,
            hour_count=0,
            hour_amount_fen=0,
            at="09:30:05",
        ),
        Context(op="convert_installments", level=AlertLevel.WATCH, hour_count=2, at="23:59"),
    ],
)
def test_a_context_keeps_its_dict_form_and_reads_back(context: Context) -> None:
    expected = _asdict_form(context)
    assert context.to_dict() == expected
    assert list(context.to_dict()) == list(expected)
    assert Context.from_dict(context.to_dict()) == context


# Read-only reads and the unchecked store (the twin's): no copies, the same book.


def test_a_read_only_read_is_the_stored_aggregate_and_changing_it_is_caught() -> None:
    book = busy_book()
    state = _state(book)
    with book.store.reader() as uow:
        assert uow.paylater.get("c0", read_only=True) is state.paylater["c0"][0]
        loans = uow.loans.of_customer("c2", read_only=True)
        assert [loan.ref for loan in loans] == ["L1", "L2"]
        assert all(loan is state.loans["c2", loan.ref][0] for loan in loans)
        assert all(
            loan is state.loans[loan.customer_id, loan.ref][0]
            for loan in uow.loans.all(read_only=True)
        )
    changed = pytest.raises(AssertionError, match="read_only=True was changed")
    with changed, book.store.unit_of_work() as uow:
        uow.loans.of_customer("c2", read_only=True)[0].installments.pop()
    changed = pytest.raises(AssertionError, match="read_only=True was changed")
    with changed, book.store.reader() as uow:
        uow.paylater.get("c1", read_only=True).credit_balance_fen += 1


def test_an_unchecked_store_keeps_what_it_is_given_and_ends_with_the_same_book() -> None:
    checked, unchecked = busy_book(), busy_book(checked=False)
    assert data(_state(unchecked)) == data(_state(checked))
    with unchecked.store.unit_of_work() as uow:
        account = uow.paylater.get("c0")
        assert account is not _state(unchecked).paylater["c0"][0]  # reads still copy
        uow.paylater.save(account, next_wake_on=None)
        assert _state(unchecked).paylater["c0"][0] is account
        uow.commit()
    with unchecked.store.unit_of_work() as uow:
        uow.paylater.get("c1", read_only=True).credit_balance_fen += 1  # not checked
