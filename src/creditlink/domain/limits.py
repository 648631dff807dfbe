"""The joint limit: one limit `T` for both products, a cap per product, a temporary PayLater
limit, immediate decreases and delayed increases (DOMAIN.md §2).

A `JointLimit` is an immutable value: every change returns a new one, so a use case can
compute the next state, check it, and only then hand it to the store.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from creditlink.domain.errors import Conflict, CreditlinkError, InvalidInput
from creditlink.domain.money import format_fen
from creditlink.domain.products import Product


class AlertLevel(StrEnum):
    """The cross-product linkage level (DOMAIN.md §6), lowest first."""

    NONE = "NONE"
    WATCH = "WATCH"
    RESTRICT = "RESTRICT"
    FREEZE = "FREEZE"

    @property
    def rank(self) -> int:
        return _LEVEL_RANK[self]

    def stops(self, product: Product) -> bool:
        """RESTRICT stops new loan draws; FREEZE stops both products."""
        if self is AlertLevel.FREEZE:
            return True
        return self is AlertLevel.RESTRICT and product is Product.LOAN


_LEVEL_RANK = {
    AlertLevel.NONE: 0,
    AlertLevel.WATCH: 1,
    AlertLevel.RESTRICT: 2,
    AlertLevel.FREEZE: 3,
}


class LimitExceeded(CreditlinkError):
    """The amount asked for is above what the joint limit and the product cap leave."""

    code = "LIMIT_EXCEEDED"

    def __init__(self, *, product: Product, amount_fen: int, available_fen: int):
        super().__init__(
            f"{format_fen(amount_fen)} is above the {product.value} amount available "
            f"({format_fen(available_fen)})",
            field="amount",
            rule="LIMIT_EXCEEDED",
        )
        self.product = product
        self.amount_fen = amount_fen
        self.available_fen = available_fen


class ProductStopped(CreditlinkError):
    """The customer's alert level stops new credit in this product."""

    code = "LINKED_RESTRICTION"

    def __init__(self, *, product: Product, level: AlertLevel):
        rule = "CUSTOMER_FROZEN" if level is AlertLevel.FREEZE else "LINKED_RESTRICTION"
        super().__init__(
            f"no new {product.value} credit while the customer is at level {level.value}",
            field="customer_id",
            rule=rule,
        )
        self.code = rule


@dataclass(frozen=True, slots=True)
class TemporaryLimit:
    """An extra PayLater amount, valid from `granted_on` through `expires_on` inclusive."""

    amount_fen: int
    granted_on: date
    expires_on: date

    def valid_on(self, on: date) -> bool:
        return self.granted_on <= on <= self.expires_on


@dataclass(frozen=True, slots=True)
class PendingIncrease:
    """Limit values requested on `requested_on` that take effect from `effective_on`.

    Only the components that rise are held here; decreases took effect when requested.
    """

    requested_on: date
    effective_on: date
    joint_limit_fen: int | None = None
    cap_paylater_fen: int | None = None
    cap_loan_fen: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitChange:
    """What a limit change did: applied at once, held until a date, or refused parts."""

    limit: JointLimit
    applied_now: dict[str, int]
    pending: PendingIncrease | None


@dataclass(frozen=True, slots=True, kw_only=True)
class JointLimit:
    """One customer's joint limit, product caps, usage and linkage level.

    Invariants, checked on every construction: every amount is non-negative and each cap
    is at most `T`. Usage may exceed the limits (after a decrease, a freeze or a lapsed
    temporary limit): that is over-limit, and the availability formulas give 0 until
    usage is back under.
    """

    joint_limit_fen: int
    cap_paylater_fen: int
    cap_loan_fen: int
    used_paylater_fen: int = 0
    used_loan_fen: int = 0
    temporary: TemporaryLimit | None = None
    pending: PendingIncrease | None = None
    level: AlertLevel = AlertLevel.NONE
    cured_on: date | None = None  # since when every linkage cause is cured (for recovery)

    def __post_init__(self) -> None:
        assert self.joint_limit_fen >= 0, self
        assert 0 <= self.cap_paylater_fen <= self.joint_limit_fen, self
        assert 0 <= self.cap_loan_fen <= self.joint_limit_fen, self
        assert self.used_paylater_fen >= 0, self
        assert self.used_loan_fen >= 0, self
        assert self.temporary is None or self.temporary.amount_fen > 0, self

    # -- building ---------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        *,
        joint_limit_fen: int,
        cap_paylater_fen: int | None = None,
        cap_loan_fen: int | None = None,
    ) -> JointLimit:
        """A new limit; caps default to the joint limit. Caps above `T` are refused."""
        cap_paylater = joint_limit_fen if cap_paylater_fen is None else cap_paylater_fen
        cap_loan = joint_limit_fen if cap_loan_fen is None else cap_loan_fen
        _check_amounts(
            joint_limit_fen=joint_limit_fen, cap_paylater_fen=cap_paylater, cap_loan_fen=cap_loan
        )
        return cls(
            joint_limit_fen=joint_limit_fen, cap_paylater_fen=cap_paylater, cap_loan_fen=cap_loan
        )

    # -- the formulas of DOMAIN.md §2 -------------------------------------------------

    def temporary_fen(self, on: date) -> int:
        """`t`: the temporary limit valid on `on`, else 0."""
        if self.temporary is not None and self.temporary.valid_on(on):
            return self.temporary.amount_fen
        return 0

    @property
    def used_fen(self) -> int:
        return self.used_paylater_fen + self.used_loan_fen

    def within_limits_paylater(self, on: date) -> int:
        """The PayLater formula before any alert level is applied."""
        t = self.temporary_fen(on)
        return max(
            0,
            min(
                self.cap_paylater_fen + t - self.used_paylater_fen,
                self.joint_limit_fen + t - self.used_fen,
            ),
        )

    def within_limits_loan(self) -> int:
        """The loan formula before any alert level is applied."""
        return max(
            0, min(self.cap_loan_fen - self.used_loan_fen, self.joint_limit_fen - self.used_fen)
        )

    def within_limits(self, product: Product, on: date) -> int:
        if product is Product.PAYLATER:
            return self.within_limits_paylater(on)
        return self.within_limits_loan()

    def available(self, product: Product, on: date) -> int:
        """Available to spend in `product` on `on`: 0 while the level stops the product."""
        if self.level.stops(product):
            return 0
        return self.within_limits(product, on)

    def available_paylater(self, on: date) -> int:
        return self.available(Product.PAYLATER, on)

    def available_loan(self, on: date) -> int:
        return self.available(Product.LOAN, on)

    @property
    def joint_utilisation(self) -> Decimal:
        """(used_paylater + used_loan) / T, with T excluding any temporary limit."""
        if self.joint_limit_fen == 0:
            return Decimal(0) if self.used_fen == 0 else Decimal("Infinity")
        return Decimal(self.used_fen) / Decimal(self.joint_limit_fen)

    def used(self, product: Product) -> int:
        return self.used_paylater_fen if product is Product.PAYLATER else self.used_loan_fen

    # -- usage ------------------------------------------------------------------------

    def draw(self, product: Product, amount_fen: int, *, on: date) -> JointLimit:
        """Consume `amount_fen` of `product`'s availability; approved when amount ≤ available."""
        if amount_fen <= 0:
            raise InvalidInput("must be greater than 0.00", field="amount", rule="AMOUNT_POSITIVE")
        if self.level.stops(product):
            raise ProductStopped(product=product, level=self.level)
        available = self.within_limits(product, on)
        if amount_fen > available:
            raise LimitExceeded(product=product, amount_fen=amount_fen, available_fen=available)
        return self.with_usage(product, self.used(product) + amount_fen)

    def restore(self, product: Product, amount_fen: int) -> JointLimit:
        """Principal repaid or refunded gives its limit back."""
        assert 0 < amount_fen <= self.used(product), (product, amount_fen, self)
        return self.with_usage(product, self.used(product) - amount_fen)

    def with_usage(self, product: Product, used_fen: int) -> JointLimit:
        """The product's records say what is unpaid; this keeps the limit's usage equal."""
        assert used_fen >= 0, used_fen
        paylater = product is Product.PAYLATER
        if used_fen == (self.used_paylater_fen if paylater else self.used_loan_fen):
            return self  # unchanged (a limit is an immutable value)
        # As dataclasses.replace would, written out: the hottest change of a limit.
        return JointLimit(
            joint_limit_fen=self.joint_limit_fen,
            cap_paylater_fen=self.cap_paylater_fen,
            cap_loan_fen=self.cap_loan_fen,
            used_paylater_fen=used_fen if paylater else self.used_paylater_fen,
            used_loan_fen=self.used_loan_fen if paylater else used_fen,
            temporary=self.temporary,
            pending=self.pending,
            level=self.level,
            cured_on=self.cured_on,
        )

    # -- limit changes ----------------------------------------------------------------

    def change(
        self,
        *,
        on: date,
        delay_days: int,
        joint_limit_fen: int | None = None,
        cap_paylater_fen: int | None = None,
        cap_loan_fen: int | None = None,
    ) -> LimitChange:
        """Decreases take effect at once; increases from `on + delay_days`.

        A new request replaces any increase still pending. When `T` falls below a cap, the cap
        falls to `T`. An increase is refused while the level is RESTRICT or higher.
        """
        target_t = self.joint_limit_fen if joint_limit_fen is None else joint_limit_fen
        target_paylater = self.cap_paylater_fen if cap_paylater_fen is None else cap_paylater_fen
        target_loan = self.cap_loan_fen if cap_loan_fen is None else cap_loan_fen
        if joint_limit_fen is not None and cap_paylater_fen is None:
            target_paylater = min(target_paylater, target_t)
        if joint_limit_fen is not None and cap_loan_fen is None:
            target_loan = min(target_loan, target_t)
        _check_amounts(
            joint_limit_fen=target_t, cap_paylater_fen=target_paylater, cap_loan_fen=target_loan
        )
        if delay_days < 0:
            raise InvalidInput("must not be negative", field="limit.increase_delay_days")

        current = {
            "joint_limit": self.joint_limit_fen,
            "cap_paylater": self.cap_paylater_fen,
            "cap_loan": self.cap_loan_fen,
        }
        target = {"joint_limit": target_t, "cap_paylater": target_paylater, "cap_loan": target_loan}
        rising = {name: value for name, value in target.items() if value > current[name]}
        if rising and self.level.rank >= AlertLevel.RESTRICT.rank:
            raise Conflict(
                f"a limit increase is refused while the customer is at level {self.level.value}",
                field="joint_limit",
                rule="INCREASE_REFUSED_UNDER_RESTRICTION",
            )
        # Apply every fall now; rising components keep their current value until effective.
        now_t = min(target_t, self.joint_limit_fen)
        now_paylater = min(target_paylater, self.cap_paylater_fen, now_t)
        now_loan = min(target_loan, self.cap_loan_fen, now_t)
        applied = {
            name: value
            for name, value in {
                "joint_limit": now_t,
                "cap_paylater": now_paylater,
                "cap_loan": now_loan,
            }.items()
            if value != current[name]
        }
        pending = None
        if rising:
            pending = PendingIncrease(
                requested_on=on,
                effective_on=on + timedelta(days=delay_days),
                joint_limit_fen=target_t if target_t != now_t else None,
                cap_paylater_fen=target_paylater if target_paylater != now_paylater else None,
                cap_loan_fen=target_loan if target_loan != now_loan else None,
            )
        limit = replace(
            self,
            joint_limit_fen=now_t,
            cap_paylater_fen=now_paylater,
            cap_loan_fen=now_loan,
            pending=pending,
        )
        return LimitChange(limit=limit, applied_now=applied, pending=pending)

    def apply_due_increase(self, *, on: date) -> JointLimit:
        """Put a pending increase into force from its effective date.

        Under WATCH it waits (a later call with level NONE applies it); a RESTRICT or
        higher level cancels it.
        """
        pending = self.pending
        if pending is None or on < pending.effective_on:
            return self
        if self.level.rank >= AlertLevel.RESTRICT.rank:
            return replace(self, pending=None)
        if self.level is AlertLevel.WATCH:
            return self
        t = pending.joint_limit_fen if pending.joint_limit_fen is not None else self.joint_limit_fen
        paylater = (
            pending.cap_paylater_fen
            if pending.cap_paylater_fen is not None
            else self.cap_paylater_fen
        )
        loan = pending.cap_loan_fen if pending.cap_loan_fen is not None else self.cap_loan_fen
        # A decrease of T since the request may have left a held cap above the new T.
        return replace(
            self,
            joint_limit_fen=t,
            cap_paylater_fen=min(paylater, t),
            cap_loan_fen=min(loan, t),
            pending=None,
        )

    def grant_temporary(self, *, amount_fen: int, on: date, expires_on: date) -> JointLimit:
        """A temporary PayLater limit, in force at once; refused at RESTRICT or higher."""
        if amount_fen <= 0:
            raise InvalidInput("must be greater than 0.00", field="amount", rule="AMOUNT_POSITIVE")
        if expires_on < on:
            raise InvalidInput(
                f"must be on or after {on.isoformat()}", field="expires_on", rule="EXPIRY_IN_PAST"
            )
        if self.level.rank >= AlertLevel.RESTRICT.rank:
            raise Conflict(
                f"a temporary limit is refused while the customer is at level {self.level.value}",
                field="amount",
                rule="TEMP_LIMIT_REFUSED_UNDER_RESTRICTION",
            )
        return replace(self, temporary=TemporaryLimit(amount_fen, on, expires_on))

    def lapse_temporary(self, *, on: date) -> JointLimit:
        """Drop a temporary limit once `on` is past its expiry (the EOD of `expires_on`)."""
        if self.temporary is not None and self.temporary.expires_on <= on:
            return replace(self, temporary=None)
        return self

    def with_level(self, level: AlertLevel) -> JointLimit:
        """Move to `level`. FREEZE cuts each cap to its usage and `T` to total usage (never
        raising any of them), ends a temporary limit and cancels a pending increase."""
        if level is not AlertLevel.FREEZE:
            pending = None if level.rank >= AlertLevel.RESTRICT.rank else self.pending
            return replace(self, level=level, pending=pending)
        t = min(self.joint_limit_fen, self.used_fen)
        return replace(
            self,
            level=level,
            joint_limit_fen=t,
            cap_paylater_fen=min(self.cap_paylater_fen, self.used_paylater_fen, t),
            cap_loan_fen=min(self.cap_loan_fen, self.used_loan_fen, t),
            temporary=None,
            pending=None,
        )


def _check_amounts(*, joint_limit_fen: int, cap_paylater_fen: int, cap_loan_fen: int) -> None:
    for field, value in (
        ("joint_limit", joint_limit_fen),
        ("cap_paylater", cap_paylater_fen),
        ("cap_loan", cap_loan_fen),
    ):
        if value < 0:
            raise InvalidInput("must not be negative", field=field, rule="AMOUNT_NON_NEGATIVE")
    for field, value in (("cap_paylater", cap_paylater_fen), ("cap_loan", cap_loan_fen)):
        if value > joint_limit_fen:
            raise InvalidInput(
                f"{format_fen(value)} is above the joint limit {format_fen(joint_limit_fen)}: "
                "a product cap must not exceed the joint limit",
                field=field,
                rule="CAP_ABOVE_JOINT_LIMIT",
            )


def limit_wake_on(limit: JointLimit) -> date | None:
    """The next date the close of day must look at this limit: a temporary limit's expiry
    (it lapses in that day's close) or a pending increase's effective date."""
    dates = [
        day
        for day in (
            limit.temporary.expires_on if limit.temporary else None,
            limit.pending.effective_on if limit.pending else None,
        )
        if day
    ]
    return min(dates) if dates else None
