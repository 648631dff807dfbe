"""Onboarding and limit changes through the use cases, on every store."""

from datetime import date

import pytest

from creditlink.application.customers import (
    change_limits,
    grant_temporary_limit,
    onboard_customer,
    show_customer,
)
from creditlink.application.errors import CustomerNotFound, DuplicateCustomer
from creditlink.bootstrap import Book
from creditlink.domain.errors import CreditlinkError, InvalidInput
from tests.conftest import CLOCK, DAY, national_id


def onboard(book: Book, **overrides: object) -> object:
    fields: dict[str, object] = {
        "customer_id": "c1",
        "name": "Wang Fang",
        "national_id": national_id(1),
        "mobile": "13800138000",
        "joint_limit_fen": 2_000_000,
        "cap_paylater_fen": 1_500_000,
        "cap_loan_fen": None,
        "on": DAY,
        "actor": "test",
        "clock": CLOCK,
    }
    fields.update(overrides)
    return onboard_customer(book.store.unit_of_work(), **fields)  # type: ignore[arg-type]


def counts(book: Book) -> tuple[int, int, int]:
    with book.store.reader() as uow:
        return uow.customers.count(), uow.ledger.count(), len(uow.audit.recent(limit=1000))


def test_a_customer_is_onboarded_with_caps_defaulting_to_the_joint_limit(book: Book) -> None:
    onboard(book)
    view = show_customer(book.store.reader(), customer_id="c1", on=DAY)
    assert view.customer.national_id_masked == f"110105********{national_id(1)[14:]}"
    assert view.limit.cap_loan_fen == 2_000_000
    assert view.available_paylater_fen == 1_500_000
    assert view.available_loan_fen == 2_000_000
    with book.store.reader() as uow:
        [record] = uow.audit.recent(limit=5)
    assert record.action == "customer.onboard"
    assert record.subject == "c1"


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"national_id": "110105199001010011"}, "national_id", "NATIONAL_ID_CHECK_DIGIT"),
        ({"national_id": "12345"}, "national_id", "NATIONAL_ID_FORMAT"),
        ({"mobile": "12345"}, "mobile", "MOBILE_FORMAT"),
        ({"name": " "}, "name", "NAME_REQUIRED"),
        ({"customer_id": "bad id"}, "customer_id", "CUSTOMER_ID_FORMAT"),
        ({"cap_paylater_fen": 2_000_001}, "cap_paylater", "CAP_ABOVE_JOINT_LIMIT"),
        ({"cap_loan_fen": 2_500_000}, "cap_loan", "CAP_ABOVE_JOINT_LIMIT"),
        ({"joint_limit_fen": -1}, "joint_limit", "AMOUNT_NON_NEGATIVE"),
    ],
)
def test_bad_input_gives_a_typed_error_and_writes_nothing(
    book: Book, overrides: dict[str, object], field: str, rule: str
) -> None:
    before = counts(book)
    with pytest.raises(InvalidInput) as raised:
        onboard(book, **overrides)
    assert (raised.value.field, raised.value.rule) == (field, rule)
    assert counts(book) == before


def test_one_person_is_one_customer(book: Book) -> None:
    onboard(book)
    before = counts(book)
    with pytest.raises(DuplicateCustomer) as raised:
        onboard(book, customer_id="c2")
    assert raised.value.field == "national_id"
    with pytest.raises(DuplicateCustomer) as raised:
        onboard(book, national_id=national_id(2))
    assert raised.value.field == "customer_id"
    assert counts(book) == before


def test_unknown_customers_are_named(book: Book) -> None:
    with pytest.raises(CustomerNotFound) as raised:
        show_customer(book.store.reader(), customer_id="nobody", on=DAY)
    assert "nobody" in str(raised.value)
    with pytest.raises(CustomerNotFound):
        change_limits(
            book.store.unit_of_work(),
            customer_id="nobody",
            on=DAY,
            actor="t",
            reason="r",
            clock=CLOCK,
            joint_limit_fen=1,
        )


def test_limit_changes_are_stored_and_audited(book: Book) -> None:
    onboard(book)
    change = change_limits(
        book.store.unit_of_work(),
        customer_id="c1",
        on=DAY,
        actor="risk",
        reason="review",
        clock=CLOCK,
        joint_limit_fen=3_000_000,
        cap_loan_fen=1_000_000,
    )
    assert change.pending is not None
    stored = show_customer(book.store.reader(), customer_id="c1", on=DAY).limit
    assert stored.cap_loan_fen == 1_000_000
    assert stored.joint_limit_fen == 2_000_000
    assert stored.pending == change.pending
    later = show_customer(book.store.reader(), customer_id="c1", on=date(2026, 1, 12)).limit
    assert later.joint_limit_fen == 3_000_000
    with book.store.reader() as uow:
        assert uow.audit.recent(limit=1)[0].reason == "review"


def test_a_temporary_limit_is_stored(book: Book) -> None:
    onboard(book)
    grant_temporary_limit(
        book.store.unit_of_work(),
        customer_id="c1",
        amount_fen=100_000,
        on=DAY,
        expires_on=date(2026, 1, 31),
        actor="ops",
        reason="holiday",
        clock=CLOCK,
    )
    view = show_customer(book.store.reader(), customer_id="c1", on=DAY)
    assert view.available_paylater_fen == 1_600_000
    after = show_customer(book.store.reader(), customer_id="c1", on=date(2026, 2, 1))
    assert after.available_paylater_fen == 1_500_000


def test_a_failed_change_writes_nothing(book: Book) -> None:
    onboard(book)
    before = counts(book)
    with pytest.raises(CreditlinkError):
        change_limits(
            book.store.unit_of_work(),
            customer_id="c1",
            on=DAY,
            actor="t",
            reason="r",
            clock=CLOCK,
            cap_paylater_fen=9_000_000,
        )
    assert counts(book) == before
