"""One partition of the twin under one policy: its customers, day by day, through the real
use cases and the real close of day on in-memory books.

The linked policy runs one book: one score, one joint limit, the linkage. The siloed policy
runs each product in a book of its own, so each product sees only its own history: its own
limit (the product's cap), its own score, linkage only within itself. A parameter file runs
as the linked policy with its values in force.

A partition returns additive figures (sums, counts, histograms, transition matrices) and a
few per-customer pairs (scores and outcomes, for AUC), so partitions run in any order, on
any engine, and add up to the same result.
"""

from __future__ import annotations

import contextlib
import gc
import math
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from creditlink.adapters.clock import FixedClock
from creditlink.application import loans as loan_cases
from creditlink.application import paylater as paylater_cases
from creditlink.application.close_of_day import close_day
from creditlink.application.customers import apply_for_credit
from creditlink.application.ledger import verify_ledger
from creditlink.application.parameters import current_parameters, set_parameters
from creditlink.application.paylater import Shortcut
from creditlink.application.portfolio import NEUTRAL_POINTS
from creditlink.application.ports import UnitOfWork
from creditlink.bootstrap import Book, memory_book
from creditlink.domain.calendar import add_months
from creditlink.domain.delinquency import bucket_of
from creditlink.domain.errors import CreditlinkError
from creditlink.domain.ledger import EntryKind, Side
from creditlink.domain.loan.schedule import Method, due_dates
from creditlink.risk.ecl import expected_credit_loss, grades_down, stage
from creditlink.risk.scoring.scaling import Scaling
from creditlink.simulation.twin.population import (
    CATEGORIES,
    KIND_CASH_OUT,
    KIND_FRAUD,
    Person,
)

PRODUCTS = ("paylater", "loan")
PRINCIPAL_WRITTEN_OFF = "principal_written_off"
BUCKETS = ("C", "M1", "M2", "M3", "M4+")
SCORE_EDGES = tuple(range(300, 901, 25))
MODEL_MONTH = 3  # the behaviour score at this month end is judged against 30+ DPD later
TERMS = (3, 6, 12)
METHODS = (Method.EQUAL_INSTALLMENT, Method.EQUAL_PRINCIPAL, Method.INTEREST_FIRST)
INCOME_ACCOUNTS = ("interest_income", "fee_income", "penalty_income")
CLOCK = FixedClock(datetime(2027, 1, 1, 9, 0, tzinfo=UTC))
SCALE = Scaling()


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    siloed: bool = False
    changes: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TwinConfig:
    customers: int
    months: int
    seed: int
    shock_month: int | None  # 1-based month from which the macro shock holds
    start: date = date(2027, 1, 1)
    partition_size: int = 2_500

    def month_start(self, month: int) -> date:
        return add_months(self.start, month, anchor_day=1)

    def shocked(self, month: int) -> bool:
        return self.shock_month is not None and month + 1 >= self.shock_month


_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_UNIT = float(1 << 53)


def _fold(x: int, keys: tuple[int, ...]) -> int:
    """SplitMix64's state after folding in `keys`, one after another, from state `x`."""
    for key in keys:
        x = ((x ^ (key & _MASK)) + _GOLDEN) & _MASK
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        x = z ^ (z >> 31)
    return x


def uniform(*keys: int) -> float:
    """A deterministic uniform in [0, 1) from integer keys (SplitMix64 over the keys)."""
    return (_fold(_GOLDEN, keys) >> 11) / _UNIT


class Draws:
    """`uniform(seed, customer, month, *more)` for one seed, keeping the state after
    (seed, customer, month): every draw of the twin starts with those three keys, so each
    draw folds in only its own further keys. The same numbers as `uniform`."""

    __slots__ = ("_after", "_seed")

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._after: dict[tuple[int, int], int] = {}

    def __call__(self, customer: int, month: int, *more: int) -> float:
        x = self._after.get((customer, month))
        if x is None:
            x = self._after[customer, month] = _fold(_GOLDEN, (self._seed, customer, month))
        return (_fold(x, more) >> 11) / _UNIT


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


# A customer behind pays up in a given week with log-odds 0.7 - 0.9 x stress - 0.2 x weeks
# behind (before the eighth session 0.2 - 0.9 x stress, flat: hardly any credit customer
# stayed behind long enough to be written off, and losses were first-payment fraud).
CURE_LOG_ODDS = 0.7
CURE_FADE_PER_WEEK = 0.2
_TAG = {"purchase": 1, "need": 2, "pay": 3, "cure": 4, "shock": 5, "convert": 6, "retry": 7}


@dataclass(slots=True)
class _Customer:
    person: Person
    onboarded: bool = False
    declined: bool = False
    quiet_until: date | None = None
    shock_until: int = -1  # month index the current shock lasts through
    grade_at_onboarding: dict[str, str] = field(default_factory=dict)
    loans: list[str] = field(default_factory=list)
    overdue: set[str] = field(default_factory=set)  # products the customer is behind on
    late_ever: set[str] = field(default_factory=set)
    first_30_month: int | None = None
    counter: int = 0

    def next(self) -> int:
        self.counter += 1
        return self.counter


class PartitionRun:
    """The books and customers of one partition under one policy."""

    def __init__(
        self,
        config: TwinConfig,
        policy: Policy,
        people: Sequence[Person],
        *,
        checked: bool = False,
    ):
        """`checked` runs the books on checked in-memory stores (slower; the result must be
        the same, and a test holds the twin to that)."""
        self.config, self.policy = config, policy
        self.draw = Draws(config.seed)
        self.customers = {p.customer_id: _Customer(p) for p in people}
        if policy.siloed:
            paylater_book = memory_book(clock=CLOCK, checked=checked)
            loan_book = memory_book(clock=CLOCK, checked=checked)
            self.books: dict[str, Book] = {"paylater": paylater_book, "loan": loan_book}
        else:
            book = memory_book(clock=CLOCK, checked=checked)
            self.books = {"paylater": book, "loan": book}
        for book in self.distinct_books():
            if policy.changes:
                set_parameters(
                    book.store.unit_of_work(),
                    changes=dict(policy.changes),
                    actor="twin",
                    reason=f"policy {policy.name}",
                    clock=CLOCK,
                )
        self.events: dict[date, list[tuple[str, str, int]]] = defaultdict(list)
        self.out = _Figures(config)
        self.previous: dict[str, dict[str, tuple[str, int]]] = {p: {} for p in PRODUCTS}
        self.income_seen: dict[str, dict[str, int]] = {}
        # Per product, the accounts and loans written off, by (customer, loan ref or ""), with
        # the date, until their write-off entry is counted; and the entries counted.
        self.written_off: dict[str, dict[tuple[str, str], date | None]] = {p: {} for p in PRODUCTS}
        self.write_offs_counted: set[tuple[str, int]] = set()

    def distinct_books(self) -> list[Book]:
        seen: list[Book] = []
        for book in self.books.values():
            if all(book is not other for other in seen):
                seen.append(book)
        return seen

    # -- the run ------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        config = self.config
        end = config.month_start(config.months)
        day = config.start
        month = 0
        while day < end:
            if day == config.month_start(month):
                self._plan_month(month, day)
            for customer_id, action, n in self.events.pop(day, []):
                self._act(self.customers[customer_id], action, n, day, month)
            for book in self.distinct_books():
                close_day(book.store, on=day, clock=CLOCK)
            day += timedelta(days=1)
            if day == config.month_start(month + 1):
                self._snapshot(month, day - timedelta(days=1))
                month += 1
        self._final(end - timedelta(days=1))
        return self.out.to_dict()

    def _plan_month(self, month: int, first: date) -> None:
        config, draw = self.config, self.draw
        days = (self.config.month_start(month + 1) - first).days
        macro = config.shocked(month)
        for customer in self.customers.values():
            person = customer.person
            key = person.index
            if person.onboard_month == month and not customer.onboarded:
                self._onboard(customer, first)
            if not customer.onboarded or customer.declined:
                continue
            shock_p = person.shock_rate * (3.0 if macro else 1.0)
            if draw(key, month, _TAG["shock"]) < shock_p:
                customer.shock_until = month + 1 + int(draw(key, month, 55) * 3)
            rate = person.purchases_per_month * (0.8 if macro else 1.0)
            count = _poisson(rate, draw(key, month, _TAG["purchase"]))
            if person.kind == KIND_CASH_OUT and month % 2 == 0:
                count = 0
                when = first + timedelta(days=int(draw(key, month, 60) * days))
                self.events[when].append((person.customer_id, "cash_out", 0))
            for n in range(count):
                offset = int(draw(key, month, _TAG["purchase"], n, 1) * days)
                self.events[first + timedelta(days=offset)].append(
                    (person.customer_id, "purchase", n)
                )
            need = person.loan_need_per_month * (1.6 if macro else 1.0)
            if draw(key, month, _TAG["need"]) < need:
                offset = int(draw(key, month, _TAG["need"], 1) * days)
                self.events[first + timedelta(days=offset)].append((person.customer_id, "need", 0))
            # The PayLater due date: the statement of the 1st is due on the 10th.
            self.events[first + timedelta(days=9)].append((person.customer_id, "pay_paylater", 0))

    def _onboard(self, customer: _Customer, on: date) -> None:
        person = customer.person
        customer.onboarded = True
        for product, book in self.books.items():
            if product == "loan" and book is self.books["paylater"]:
                continue
            result = apply_for_credit(
                book.store.unit_of_work(),
                customer_id=person.customer_id,
                name=f"Twin {person.index}",
                national_id=person.national_id,
                mobile="13800138000",
                monthly_income_fen=person.income_fen,
                on=on,
                actor="twin",
                clock=CLOCK,
            )
            self.out.count_request("onboarding", result.decision.outcome)
            if result.view is None:
                customer.declined = True
                return
            score = result.view.customer.score
            customer.grade_at_onboarding[product] = score.grade if score else "D"
        self.out.onboarded(customer.person.onboard_month)
        if person.kind == KIND_FRAUD:
            self.events[on + timedelta(days=2)].append((person.customer_id, "fraud", 0))

    # -- behaviour ----------------------------------------------------------------------

    def _stress(self, customer: _Customer, month: int, product: str) -> float:
        """The log-odds shift of missing a payment: quality, the macro factor, a shock,
        contagion from the other product."""
        other = "loan" if product == "paylater" else "paylater"
        return (
            -1.1 * customer.person.quality
            + (1.1 if self.config.shocked(month) else 0.0)
            + (1.6 if customer.shock_until >= month else 0.0)
            + (1.4 if other in customer.overdue else 0.0)
        )

    def _act(self, customer: _Customer, action: str, n: int, on: date, month: int) -> None:
        if customer.declined or not customer.onboarded:
            return
        draw, key = self.draw, customer.person.index
        person = customer.person
        if action == "purchase":
            if customer.quiet_until is not None and on < customer.quiet_until:
                return
            u = draw(key, month, _TAG["purchase"], n, 2)
            amount = max(1_000, int(person.basket_fen * math.exp(0.8 * (u - 0.5) * 2)))
            category = _choose(person.category_weights, draw(key, month, 9, n))
            approved, ref = self._purchase(customer, amount, category, on, f"m{n % 7}")
            if not approved:
                if draw(key, month, _TAG["retry"], n) < 0.5:
                    approved, ref = self._purchase(customer, amount // 2, category, on, "m0")
                if not approved:
                    customer.quiet_until = on + timedelta(days=7)
                    return
            if amount >= 100_000 and draw(key, month, _TAG["convert"], n) < (
                person.installment_taste
            ):
                self._convert(customer, ref, on)
        elif action == "need":
            u = draw(key, month, _TAG["need"], 2)
            amount = max(50_000, int(person.income_fen * (0.3 + 1.5 * u)) // 100 * 100)
            self._draw(customer, amount, on, month)
        elif action == "pay_paylater":
            self._pay(customer, "paylater", on, month, n)
        elif action == "pay_loan":
            self._pay(customer, "loan", on, month, n)
        elif action == "cure":
            self._cure(customer, on, month, n)
        elif action == "cash_out":
            self._cash_out(customer, on)
        elif action == "refund":
            self._refund(customer, on, n)
        elif action == "fraud":
            self._fraud(customer, on)

    def _purchase(
        self, customer: _Customer, amount: int, category: str, on: date, merchant: str
    ) -> tuple[bool, str]:
        ref = f"p{customer.next()}"
        book = self.books["paylater"]
        result = paylater_cases.purchase(
            book.store.unit_of_work(),
            customer_id=customer.person.customer_id,
            ref=ref,
            amount_fen=amount,
            merchant=merchant,
            category=category,
            on=on,
            idempotency_key=f"{customer.person.customer_id}:{ref}",
        )
        self.out.count_request("purchase", result.decision.outcome)
        return result.approved, ref

    def _convert(self, customer: _Customer, ref: str, on: date) -> None:
        periods = (3, 6, 12)[customer.counter % 3]
        plan = f"i{customer.next()}"
        result = paylater_cases.convert_to_installments(
            self.books["paylater"].store.unit_of_work(),
            customer_id=customer.person.customer_id,
            plan_ref=plan,
            periods=periods,
            on=on,
            idempotency_key=f"{customer.person.customer_id}:{plan}",
            purchase_ref=ref,
        )
        self.out.count_request("convert_installments", result.decision.outcome)

    def _draw(self, customer: _Customer, amount: int, on: date, month: int) -> bool:
        ref = f"L{customer.next()}"
        term = TERMS[customer.counter % 3]
        method = METHODS[(customer.counter // 3) % 3]
        try:
            result = loan_cases.draw_loan(
                self.books["loan"].store.unit_of_work(),
                customer_id=customer.person.customer_id,
                ref=ref,
                amount_fen=amount,
                term_months=term,
                method=method,
                on=on,
                idempotency_key=f"{customer.person.customer_id}:{ref}",
            )
        except CreditlinkError:
            self.out.count_request("draw_loan", "DECLINE")
            return False
        self.out.count_request("draw_loan", result.decision.outcome)
        if not result.approved:
            return False
        customer.loans.append(ref)
        for k, due in enumerate(due_dates(on, term)):
            self.events[due].append((customer.person.customer_id, "pay_loan", k))
        return True

    def _pay(self, customer: _Customer, product: str, on: date, month: int, n: int) -> None:
        person = customer.person
        if person.kind == KIND_FRAUD:
            customer.overdue.add(product)
            return
        if product in customer.overdue:
            return  # behind already: the weekly cure decides when it is paid up
        u = self.draw(person.index, month, _TAG["pay"], PRODUCTS.index(product), n, on.day)
        stress = self._stress(customer, month, product)
        miss = _sigmoid(-4.3 + stress)
        if u < miss:
            if product == "paylater" and self._borrow_to_repay(customer, on, month):
                return
            customer.overdue.add(product)
            self.events[on + timedelta(days=7)].append((person.customer_id, "cure", 0))
            if product == "paylater" and self._owes_paylater(customer):
                self.out.statement_payment("missed")
            return
        if product == "paylater":
            minimum_only = _sigmoid(-1.4 + 0.6 * stress)
            shortcut = Shortcut.MINIMUM if u < miss + (1 - miss) * minimum_only else Shortcut.DUE
            if self._repay_paylater(customer, shortcut, on):
                self.out.statement_payment("full" if shortcut is Shortcut.DUE else "minimum")
        else:
            self._repay_loans(customer, on)

    def _borrow_to_repay(self, customer: _Customer, on: date, month: int) -> bool:
        """A stressed customer may take a loan to pay PayLater (TWIN.md)."""
        person = customer.person
        if self.draw(person.index, month, 77) >= 0.35:
            return False
        with self.books["paylater"].store.reader() as uow:
            due = uow.paylater.get(person.customer_id, read_only=True).due_fen()
        if due < 50_000 or not self._draw(customer, due // 100 * 100 + 100, on, month):
            return False
        self._repay_paylater(customer, Shortcut.DUE, on)
        return True

    def _owes_paylater(self, customer: _Customer) -> bool:
        with self.books["paylater"].store.reader() as uow:
            account = uow.paylater.get(customer.person.customer_id, read_only=True)
            return account.due_fen() > 0

    def _repay_paylater(self, customer: _Customer, shortcut: Shortcut, on: date) -> bool:
        """Pay; whether anything was due."""
        paid = paylater_cases.repay(
            self.books["paylater"].store.unit_of_work(),
            customer_id=customer.person.customer_id,
            amount=shortcut,
            on=on,
            idempotency_key=f"{customer.person.customer_id}:r{customer.next()}",
        )
        customer.overdue.discard("paylater")
        return paid.amount_fen > 0

    def _repay_loans(self, customer: _Customer, on: date) -> None:
        book = self.books["loan"]
        for ref in list(customer.loans):
            try:
                loan_cases.repay_loan(
                    book.store.unit_of_work(),
                    customer_id=customer.person.customer_id,
                    loan_ref=ref,
                    amount=Shortcut.DUE,
                    on=on,
                    idempotency_key=f"{customer.person.customer_id}:r{customer.next()}",
                )
            except CreditlinkError:
                customer.loans.remove(ref)  # closed or written off: nothing more to pay
        customer.overdue.discard("loan")

    def _cure(self, customer: _Customer, on: date, month: int, n: int) -> None:
        """A customer behind pays up, or not, once a week; the longer behind (`n` weeks),
        the less likely, as real roll rates rise with the bucket (those still behind are
        those who cannot pay): from a miss, about 1 in 7 customers of stress 1 is still
        behind after 4 weeks, a third of those after 8, and 1 in 40 reaches write-off."""
        if not customer.overdue or customer.person.kind == KIND_FRAUD:
            return
        person = customer.person
        u = self.draw(person.index, month, _TAG["cure"], on.toordinal())
        stress = max(self._stress(customer, month, p) for p in customer.overdue)
        if u < _sigmoid(CURE_LOG_ODDS - 0.9 * stress - CURE_FADE_PER_WEEK * n):
            if "paylater" in customer.overdue:
                self._repay_paylater(customer, Shortcut.DUE, on)
            if "loan" in customer.overdue:
                self._repay_loans(customer, on)
        else:
            self.events[on + timedelta(days=7)].append((person.customer_id, "cure", n + 1))

    def _cash_out(self, customer: _Customer, on: date) -> None:
        """Round purchases at a colluding merchant, refunded a few days later."""
        for _ in range(3):
            approved, ref = self._purchase(customer, 100_000, "electronics", on, "collude")
            if approved:
                self.events[on + timedelta(days=4)].append(
                    (customer.person.customer_id, "refund", int(ref[1:]))
                )

    def _refund(self, customer: _Customer, on: date, number: int) -> None:
        with contextlib.suppress(CreditlinkError):  # refused (say, after write-off): not made
            paylater_cases.refund(
                self.books["paylater"].store.unit_of_work(),
                customer_id=customer.person.customer_id,
                purchase_ref=f"p{number}",
                amount_fen=100_000,
                on=on,
                idempotency_key=f"{customer.person.customer_id}:f{number}",
            )

    def _fraud(self, customer: _Customer, on: date) -> None:
        """First-payment fraud: max out both products, never pay."""
        with self.books["paylater"].store.reader() as uow:
            limit = uow.limits.get(customer.person.customer_id)
            available = limit.available_paylater(on)
        if available >= 1_000:
            self._purchase(customer, available, "electronics", on, "m0")
        with self.books["loan"].store.reader() as uow:
            available = uow.limits.get(customer.person.customer_id).available_loan(on)
        if available >= 50_000:
            self._draw(customer, available // 100 * 100, on, 0)

    # -- figures ------------------------------------------------------------------------

    def _snapshot(self, month: int, end: date) -> None:
        """Month-end figures of both products, from the books' own records."""
        figures = self.out.month(month, end)
        with_score: dict[str, int] = {}
        for product in PRODUCTS:
            book = self.books[product]
            current: dict[str, tuple[str, int]] = {}
            with book.store.reader() as uow:
                if product == "paylater":
                    for account in uow.paylater.all(read_only=True):
                        customer = self.customers[account.customer_id]
                        written_off = account.written_off
                        if account.written_off_on is not None:
                            self.written_off[product].setdefault(
                                (account.customer_id, ""), account.written_off_on
                            )
                        balance = 0 if written_off else account.principal_outstanding_fen()
                        dpd = 0 if written_off else account.dpd(end)
                        limit = uow.limits.get(account.customer_id)
                        figures.add(product, balance, dpd, limit.cap_paylater_fen, written_off)
                        figures.joint_limit += limit.joint_limit_fen
                        current[account.customer_id] = (bucket_of(dpd).value, balance)
                        self._late(customer, product, dpd, month)
                else:
                    limits: dict[str, int] = {}
                    for loan in uow.loans.all(read_only=True):
                        customer = self.customers[loan.customer_id]
                        if loan.written_off_on is not None:
                            self.written_off[product].setdefault(
                                (loan.customer_id, loan.ref), loan.written_off_on
                            )
                        if not loan.active:
                            continue
                        balance = loan.outstanding_principal_fen()
                        dpd = loan.dpd(end)
                        figures.add(product, balance, dpd, 0, False)
                        current[f"{loan.customer_id}/{loan.ref}"] = (bucket_of(dpd).value, balance)
                        self._late(customer, product, dpd, month)
                    for customer_id in self.customers:
                        if self.customers[customer_id].grade_at_onboarding:
                            try:
                                limits[customer_id] = uow.limits.get(customer_id).cap_loan_fen
                            except CreditlinkError:
                                continue
                    figures.limit[product] += sum(limits.values())
                principal = self._principal_written_off(uow, product)
                figures.money(product, PRINCIPAL_WRITTEN_OFF, principal)
                balances = uow.ledger.stored_balances()
                for name in ("write_off_expense", "recovery_income", *INCOME_ACCOUNTS):
                    total = -balances.get(f"{product}.{name}", 0)
                    if name == "write_off_expense":
                        total = -total
                    seen = self.income_seen.setdefault(product, {})
                    figures.money(product, name, total - seen.get(name, 0))
                    seen[name] = total
                if product == "paylater":
                    for customer_id, customer in self.customers.items():
                        if customer.grade_at_onboarding:
                            score = uow.customers.get(customer_id).score
                            if score is not None:
                                with_score[customer_id] = score.points
            self.out.rolls(product, month, self.previous[product], current)
            self.previous[product] = current
        self.out.scores(month, with_score)

    def _principal_written_off(self, uow: UnitOfWork, product: str) -> int:
        """The principal of the write-offs seen since the last month end: what TWIN.md
        counts as lost (interest, fees and penalty written off were never lent). Read from
        the write-off entries' principal lines, for the few customers written off."""
        account = f"{product}.principal_receivable"
        total = 0
        noted = self.written_off[product]
        for key, on in noted.items():
            if on is None:
                continue  # counted at an earlier month end
            for entry in uow.ledger.customer_entries(key[0], since=on):
                if entry.draft.kind is not EntryKind.WRITE_OFF:
                    continue
                if (product, entry.entry_id) in self.write_offs_counted:
                    continue
                self.write_offs_counted.add((product, entry.entry_id))
                total += sum(
                    line.amount_fen
                    for line in entry.lines
                    if line.account.name == account and line.side is Side.CREDIT
                )
            noted[key] = None
        return total

    def _late(self, customer: _Customer, product: str, dpd: int, month: int) -> None:
        if dpd >= 1:
            customer.late_ever.add(product)
        if dpd >= 30 and customer.first_30_month is None:
            customer.first_30_month = month
            self.out.first_30(customer.person.onboard_month, month)
            self.out.first_30_by_customer[customer.person.customer_id] = month + 1

    def _final(self, end: date) -> None:
        self.out.contagion(c.late_ever for c in self.customers.values() if c.grade_at_onboarding)
        self._ecl(end)
        for name, book in self._named_books().items():
            report = verify_ledger(book.store.reader())
            self.out.ledger(name, report.ok, report.entries)

    def _named_books(self) -> dict[str, Book]:
        if self.policy.siloed:
            return {f"{self.policy.name}/{p}": b for p, b in self.books.items()}
        return {self.policy.name: self.books["paylater"]}

    def _ecl(self, end: date) -> None:
        """IFRS 9 stages and ECL = PD × LGD × EAD (TWIN.md), per account at the end."""
        for product in PRODUCTS:
            book = self.books[product]
            with book.store.reader() as uow:
                values = current_parameters(uow).values
                for customer_id, customer in self.customers.items():
                    onboarded_here = (
                        product in customer.grade_at_onboarding
                        if self.policy.siloed
                        else bool(customer.grade_at_onboarding)
                    )
                    if not onboarded_here:
                        continue
                    record = uow.customers.get(customer_id)
                    limit = uow.limits.get(customer_id)
                    points = record.score.points if record.score else NEUTRAL_POINTS
                    grade = record.score.grade if record.score else "D"
                    onboarded = customer.grade_at_onboarding.get(
                        product, customer.grade_at_onboarding.get("paylater", grade)
                    )
                    if product == "paylater":
                        account = uow.paylater.get(customer_id, read_only=True)
                        written_off = account.written_off
                        drawn = 0 if written_off else account.principal_outstanding_fen()
                        undrawn = 0 if written_off else limit.available_paylater(end)
                        dpd = 0 if written_off else account.dpd(end)
                    else:
                        active = [
                            ln
                            for ln in uow.loans.of_customer(customer_id, read_only=True)
                            if ln.active
                        ]
                        written_off = uow.loans.written_off(customer_id) and not active
                        drawn = sum(ln.outstanding_principal_fen() for ln in active)
                        undrawn = 0
                        dpd = max((ln.dpd(end) for ln in active), default=0)
                        if not active and not written_off:
                            continue
                    figure = expected_credit_loss(
                        stage=stage(
                            dpd=dpd,
                            written_off=written_off,
                            grades_down=grades_down(onboarded, grade),
                        ),
                        points=points,
                        drawn_fen=drawn,
                        undrawn_fen=undrawn,
                        lgd=values.ecl_lgd,
                        ccf=values.ecl_ccf,
                    )
                    self.out.ecl(figure.stage, figure.exposure_fen, figure.ecl_fen)


def _poisson(rate: float, u: float) -> int:
    """The Poisson count at quantile `u` (inversion)."""
    k, p = 0, math.exp(-rate)
    total = p
    while u > total and k < 60:
        k += 1
        p *= rate / k
        total += p
    return k


def _choose(weights: Sequence[float], u: float) -> str:
    total = 0.0
    for category, weight in zip(CATEGORIES, weights, strict=True):
        total += weight
        if u < total:
            return category
    return CATEGORIES[-1]


class _Month:
    """One month-end's additive figures for one partition."""

    def __init__(self, month: int, end: date) -> None:
        self.month, self.end = month, end
        self.balance = dict.fromkeys(PRODUCTS, 0)
        self.limit = dict.fromkeys(PRODUCTS, 0)
        self.joint_limit = 0
        self.accounts = dict.fromkeys(PRODUCTS, 0)
        self.buckets = {p: dict.fromkeys(BUCKETS, 0) for p in PRODUCTS}
        self.over_30 = dict.fromkeys(PRODUCTS, 0)
        self.over_90 = dict.fromkeys(PRODUCTS, 0)
        self.count_30 = dict.fromkeys(PRODUCTS, 0)
        names = ("write_off_expense", PRINCIPAL_WRITTEN_OFF, "recovery_income", *INCOME_ACCOUNTS)
        self.flows = {p: dict.fromkeys(names, 0) for p in PRODUCTS}
        self.requests: dict[str, dict[str, int]] = {}

    def add(self, product: str, balance: int, dpd: int, limit: int, written_off: bool) -> None:
        self.limit[product] += limit
        if written_off or (balance <= 0 and dpd == 0):
            return
        self.accounts[product] += 1
        self.balance[product] += balance
        self.buckets[product][bucket_of(dpd).value] += balance
        if dpd >= 30:
            self.over_30[product] += balance
            self.count_30[product] += 1
        if dpd >= 90:
            self.over_90[product] += balance

    def money(self, product: str, name: str, amount: int) -> None:
        self.flows[product][name] += amount

    def to_dict(self) -> dict[str, Any]:
        return {
            "month": self.month + 1,
            "end": self.end.isoformat(),
            "balance": self.balance,
            "limit": self.limit,
            "joint_limit": self.joint_limit,
            "accounts": self.accounts,
            "buckets": self.buckets,
            "over_30": self.over_30,
            "over_90": self.over_90,
            "count_30": self.count_30,
            "flows": self.flows,
            "requests": self.requests,
        }


class _Figures:
    """Everything a partition reports, additive across partitions."""

    def __init__(self, config: TwinConfig) -> None:
        self.config = config
        self.months: list[_Month] = []
        self.requests: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.month_requests: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.transitions: dict[str, dict[str, dict[str, int]]] = {p: {} for p in PRODUCTS}
        self.vintage_sizes: dict[int, int] = defaultdict(int)
        self.vintage_first_30: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.score_hist: dict[int, list[int]] = {}
        self.scores_at: dict[str, int] = {}
        self.first_30_by_customer: dict[str, int] = {}
        self.late: dict[str, int] = defaultdict(int)
        self.ecl_stages = {s: {"accounts": 0, "ead_fen": 0, "ecl_fen": 0} for s in (1, 2, 3)}
        self.ledgers: dict[str, dict[str, Any]] = {}
        self.payments: dict[str, int] = defaultdict(int)

    def statement_payment(self, how: str) -> None:
        self.payments[how] += 1

    def month(self, month: int, end: date) -> _Month:
        figures = _Month(month, end)
        figures.requests = {op: dict(c) for op, c in self.month_requests.items()}
        self.month_requests = defaultdict(lambda: defaultdict(int))
        self.months.append(figures)
        return figures

    def count_request(self, op: str, outcome: str) -> None:
        self.requests[op][outcome] += 1
        self.month_requests[op][outcome] += 1

    def onboarded(self, vintage: int) -> None:
        self.vintage_sizes[vintage] += 1

    def first_30(self, vintage: int, month: int) -> None:
        self.vintage_first_30[vintage][month - vintage] += 1

    def rolls(
        self,
        product: str,
        month: int,
        before: Mapping[str, tuple[str, int]],
        after: Mapping[str, tuple[str, int]],
    ) -> None:
        if month == 0:
            return
        matrix: dict[str, int] = defaultdict(int)
        for key, (bucket, balance) in before.items():
            if balance <= 0:
                continue
            now = after.get(key, ("closed", 0))[0]
            matrix[f"{bucket}->{now}"] += balance
            matrix[f"{bucket}->*"] += balance
        self.transitions[product][str(month + 1)] = dict(matrix)

    def scores(self, month: int, points: Mapping[str, int]) -> None:
        counts = [0] * (len(SCORE_EDGES) - 1)
        for value in points.values():
            slot = min(max(0, (value - SCORE_EDGES[0]) // 25), len(counts) - 1)
            counts[slot] += 1
        self.score_hist[month + 1] = counts
        if month + 1 == MODEL_MONTH:
            self.scores_at = dict(points)

    def contagion(self, lates: Any) -> None:
        for late in lates:
            self.late["customers"] += 1
            self.late["paylater"] += "paylater" in late
            self.late["loan"] += "loan" in late
            self.late["both"] += "paylater" in late and "loan" in late

    def ecl(self, stage: int, ead_fen: int, ecl_fen: int) -> None:
        self.ecl_stages[stage]["accounts"] += 1
        self.ecl_stages[stage]["ead_fen"] += ead_fen
        self.ecl_stages[stage]["ecl_fen"] += ecl_fen

    def ledger(self, name: str, ok: bool, entries: int) -> None:
        self.ledgers[name] = {"verified": ok, "entries": entries}

    def to_dict(self) -> dict[str, Any]:
        return {
            "months": [m.to_dict() for m in self.months],
            "requests": {op: dict(c) for op, c in self.requests.items()},
            "transitions": self.transitions,
            "vintage_sizes": {str(k): v for k, v in self.vintage_sizes.items()},
            "vintage_first_30": {
                str(v): {str(k): n for k, n in c.items()} for v, c in self.vintage_first_30.items()
            },
            "score_hist": {str(k): v for k, v in self.score_hist.items()},
            "model_scores": self.scores_at,
            "first_30": self.first_30_by_customer,
            "late": dict(self.late),
            "ecl": {str(s): dict(v) for s, v in self.ecl_stages.items()},
            "ledgers": self.ledgers,
            "statement_payments": dict(self.payments),
        }


def run_partition(
    config: TwinConfig, policy: Policy, people: Sequence[Person], *, checked: bool = False
) -> dict[str, Any]:
    """Run one partition; the result is plain JSON-ready data."""
    with _rare_garbage_collection():
        return PartitionRun(config, policy, people, checked=checked).run()


@contextlib.contextmanager
def _rare_garbage_collection() -> Iterator[None]:
    """A partition's books hold millions of objects that live to its end, and Python's
    cycle collector would scan them all again and again: with its default thresholds it took
    a third of the time of a 1,000-customer partition, and a growing share as partitions
    grow (rare collections still cost 6 % at 2,500). The books make no reference cycles to
    speak of (a 2,500-customer partition peaks at the same 255 MB with the collector off),
    so it is off while a partition runs, and one collection follows."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.collect()
