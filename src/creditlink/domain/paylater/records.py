"""What a PayLater account remembers: purchases, principal lines, plans, statements."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum


class PlanStatus(StrEnum):
    ACTIVE = "active"
    SETTLED = "settled"
    REFUNDED = "refunded"
    COMPLETED = "completed"
    WRITTEN_OFF = "written_off"


class InstallmentStatus(StrEnum):
    PENDING = "pending"
    BILLED = "billed"
    PAID = "paid"
    CANCELLED = "cancelled"


class AccountStatus(StrEnum):
    ACTIVE = "active"
    WRITTEN_OFF = "written_off"


@dataclass(frozen=True, slots=True)
class Purchase:
    ref: str
    on: date
    amount_fen: int
    merchant: str
    category: str
    refunded_fen: int = 0
    plan_ref: str | None = None
    refunded_on: date | None = None  # the latest refund's date


class Purchases(MutableMapping[str, Purchase]):
    """An account's purchases by ref, in the order they were made.

    An account keeps every purchase it ever made: a refund may name any of them, and a ref
    is never used twice. Operations ask only for purchases by ref and for those since a date
    (`since`), so a store may keep the account's history out of memory and fetch what is
    asked for: the SQL store subclasses this, and an operation's cost then does not grow
    with the account's age."""

    __slots__ = ("_by_ref",)

    def __init__(self, purchases: Iterable[Purchase] = ()) -> None:
        self._by_ref: dict[str, Purchase] = {p.ref: p for p in purchases}

    def __getitem__(self, ref: str) -> Purchase:
        return self._by_ref[ref]

    def __setitem__(self, ref: str, purchase: Purchase) -> None:
        assert purchase.ref == ref, (ref, purchase)
        self._by_ref[ref] = purchase

    def __delitem__(self, ref: str) -> None:
        raise TypeError("an account's purchases are never removed")

    def __contains__(self, ref: object) -> bool:
        return ref in self._by_ref

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_ref)

    def __len__(self) -> int:
        return len(self._by_ref)

    def since(self, day: date) -> list[Purchase]:
        """The purchases dated on or after `day`, in the order they were made."""
        return [p for p in self._by_ref.values() if p.on >= day]

    def __copy__(self) -> Purchases:
        copied = Purchases.__new__(Purchases)
        copied._by_ref = self._by_ref.copy()  # purchases are frozen: shared
        return copied

    def __repr__(self) -> str:
        return f"Purchases({list(self._by_ref.values())!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return dict(self.items()) == dict(other.items())

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class PrincipalLine:
    """Revolving principal: a purchase, or a refunded plan's unbilled principal moved back
    into the cycle. `statement_date` is None until the line is billed.

    Frozen, so that a copy of the account shares its lines: a payment or a statement
    replaces the line it changes (most of an account's lines are long paid and never change
    again)."""

    ref: str
    on: date
    amount_fen: int
    outstanding_fen: int
    statement_date: date | None = None

    def paid_down(self, paid_fen: int) -> PrincipalLine:
        """This line with `paid_fen` less outstanding."""
        return PrincipalLine(
            self.ref, self.on, self.amount_fen, self.outstanding_fen - paid_fen, self.statement_date
        )

    def billed_on(self, statement_date: date) -> PrincipalLine:
        """This line, billed on the statement of `statement_date`."""
        return PrincipalLine(
            self.ref, self.on, self.amount_fen, self.outstanding_fen, statement_date
        )


@dataclass(slots=True)
class Installment:
    k: int
    statement_date: date
    principal_fen: int
    fee_fen: int
    status: InstallmentStatus = InstallmentStatus.PENDING
    principal_paid_fen: int = 0
    fee_paid_fen: int = 0

    @property
    def billed(self) -> bool:
        return self.status in (InstallmentStatus.BILLED, InstallmentStatus.PAID)

    @property
    def principal_due_fen(self) -> int:
        return self.principal_fen - self.principal_paid_fen if self.billed else 0

    @property
    def fee_due_fen(self) -> int:
        return self.fee_fen - self.fee_paid_fen if self.billed else 0

    def settle_if_paid(self) -> None:
        if self.billed and self.principal_due_fen == 0 and self.fee_due_fen == 0:
            self.status = InstallmentStatus.PAID


@dataclass(slots=True)
class Plan:
    ref: str
    source: str  # "purchase" or "statement"
    source_ref: str  # the purchase ref, or the statement date
    created_on: date
    periods: int
    principal_fen: int
    fee_fen: int
    fee_rate: Decimal
    apr: Decimal
    installments: list[Installment]
    status: PlanStatus = PlanStatus.ACTIVE
    # A statement's plan: each converted purchase's principal in it, less what its refunds
    # have paid there since (`PayLaterAccount.refund`).
    absorbed: dict[str, int] = field(default_factory=dict)

    @property
    def unbilled_principal_fen(self) -> int:
        return sum(
            i.principal_fen for i in self.installments if i.status is InstallmentStatus.PENDING
        )


@dataclass(slots=True)
class Statement:
    statement_date: date
    due_date: date
    previous_balance_fen: int
    purchases_fen: int
    refunds_fen: int
    installments_billed_fen: int
    interest_fen: int
    payments_fen: int
    converted_fen: int
    new_balance_fen: int
    minimum_payment_fen: int
    minimum_own_fen: int  # the part of the minimum first asked on this statement
    minimum_filled_fen: int = 0  # how much of that part has been paid
    window_paid_fen: int = 0  # payments and credits dated statement date..due date
    paid_since_fen: int = 0  # payments and credits dated from the statement date
    converted_after_fen: int = 0  # principal turned into a plan after printing
    interest_due_fen: int = 0  # this statement's interest still unpaid
    minimum_met_on: date | None = None  # when its minimum was met, for payment history

    def days_late(self, as_of: date) -> int:
        """How late its minimum was met (or, while unmet, is at `as_of`)."""
        if self.minimum_met_on is not None:
            return max(0, (self.minimum_met_on - self.due_date).days)
        return max(0, (as_of - self.due_date).days)

    @property
    def minimum_unmet_fen(self) -> int:
        return self.minimum_own_fen - self.minimum_filled_fen

    @property
    def amount_still_due_fen(self) -> int:
        return max(0, self.new_balance_fen - self.paid_since_fen - self.converted_after_fen)

    @property
    def paid_in_full(self) -> bool:
        reduced = self.new_balance_fen - self.converted_after_fen
        return reduced <= 0 or self.window_paid_fen >= reduced


@dataclass(slots=True)
class Cycle:
    """Running totals of the cycle that the next statement will print."""

    purchases_fen: int = 0
    refunds_fen: int = 0
    payments_fen: int = 0
    converted_fen: int = 0
    prebilled_interest_fen: int = 0  # interest billed inside a payment ("all")
    activity: bool = False


@dataclass(slots=True)
class Allocation:
    """Where an amount paid in went, by receivable: what a journal entry credits."""

    fee_fen: int = 0
    interest_fen: int = 0
    principal_fen: int = 0
    credit_balance_fen: int = 0
    recovery_fen: int = 0

    @property
    def total_fen(self) -> int:
        return (
            self.fee_fen
            + self.interest_fen
            + self.principal_fen
            + self.credit_balance_fen
            + self.recovery_fen
        )

    def add(self, other: Allocation) -> None:
        self.fee_fen += other.fee_fen
        self.interest_fen += other.interest_fen
        self.principal_fen += other.principal_fen
        self.credit_balance_fen += other.credit_balance_fen
        self.recovery_fen += other.recovery_fen


@dataclass(slots=True)
class Billing:
    """What a statement billed and settled from credit: what its journal entry posts."""

    interest_fen: int = 0
    fee_fen: int = 0
    from_credit: Allocation = field(default_factory=Allocation)


@dataclass(slots=True)
class WriteOff:
    principal_fen: int
    interest_fen: int
    fee_fen: int

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.interest_fen + self.fee_fen
