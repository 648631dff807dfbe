"""What the API tests (tests/http) and the dashboard tests (tests/web) share: a key per role
and alerts to work."""

from __future__ import annotations

from dataclasses import dataclass

from creditlink.application.apikeys import create_api_key
from creditlink.application.ports import AlertRecord
from creditlink.bootstrap import Book
from tests.conftest import CLOCK, DAY


@dataclass(frozen=True)
class Keys:
    """One key per role; `customer` acts for c1, `other_customer` for c2."""

    operator: str
    risk_admin: str
    auditor: str
    customer: str
    other_customer: str

    @classmethod
    def made_in(cls, book: Book) -> Keys:
        """A key for every role in `book`, which holds customers c1 and c2."""
        return cls(
            operator=make_key(book, "operator"),
            risk_admin=make_key(book, "risk_admin"),
            auditor=make_key(book, "auditor"),
            customer=make_key(book, "customer", "c1"),
            other_customer=make_key(book, "customer", "c2"),
        )


def make_key(book: Book, role: str, customer_id: str | None = None) -> str:
    key, _ = create_api_key(
        book.store.unit_of_work(),
        role=role,
        customer_id=customer_id,
        label=f"test {role}",
        actor="test",
        clock=CLOCK,
    )
    return key


def add_alert(
    book: Book, customer_id: str, *, kind: str = "alert", level: str | None = None
) -> int:
    """An alert on `customer_id` (a WATCH for PayLater DPD), or a recovery notice when `kind`
    is not "alert"; its id."""
    alert = kind == "alert"
    with book.store.unit_of_work() as uow:
        stored = uow.alerts.add(
            AlertRecord(
                on=DAY,
                customer_id=customer_id,
                kind=kind,
                level=level or ("WATCH" if alert else "NONE"),
                cause="PAYLATER_DPD" if alert else "RECOVERY",
                products=("paylater", "loan"),
                evidence=f"{customer_id}: PayLater 3 days past due",
            )
        )
        uow.commit()
    return stored.alert_id
