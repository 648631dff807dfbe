"""Errors the use cases raise, beside the domain's own."""

from __future__ import annotations

from creditlink.domain.errors import Conflict, NotFound


class CustomerNotFound(NotFound):
    code = "CUSTOMER_NOT_FOUND"

    def __init__(self, customer_id: str):
        super().__init__(
            f"no customer {customer_id!r}", field="customer_id", rule="CUSTOMER_EXISTS"
        )
        self.customer_id = customer_id


class DuplicateCustomer(Conflict):
    code = "DUPLICATE_CUSTOMER"

    @classmethod
    def same_person(cls) -> DuplicateCustomer:
        return cls(
            "a customer with this national ID already exists",
            field="national_id",
            rule="ONE_CUSTOMER_PER_PERSON",
        )

    @classmethod
    def same_id(cls, customer_id: str) -> DuplicateCustomer:
        return cls(
            f"customer {customer_id!r} already exists",
            field="customer_id",
            rule="CUSTOMER_ID_UNIQUE",
        )


class IdempotencyKeyReused(Conflict):
    """The key was used before for a different request: nothing is posted."""

    code = "IDEMPOTENCY_KEY_REUSED"

    def __init__(self, key: str):
        super().__init__(
            f"idempotency key {key!r} was already used for a different request",
            field="idempotency_key",
            rule="IDEMPOTENCY_KEY_REUSED",
        )


class EntryNotFound(NotFound):
    code = "ENTRY_NOT_FOUND"
